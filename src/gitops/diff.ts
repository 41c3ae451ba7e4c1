/**
 * The reconciler's three-way diff: what must change in the cluster so that an object matches git,
 * as RFC 6902 JSON Patch operations.
 *
 * Three inputs, as in `kubectl apply` and Argo CD's legacy diff (`gitops-engine/pkg/diff`,
 * `CreateThreeWayMergePatch(lastApplied, config, live)`):
 * - `desired`, the object from git (with the reconciler's tracking annotation);
 * - `lastApplied`, what the reconciler applied last time (the base of the three-way diff);
 * - `live`, the object in the cluster, with its server-set and defaulted fields.
 *
 * The rules:
 * - only fields git sets are compared; a field present in live but never in git or in the
 *   last-applied record (a default, a field another controller owns) is never drift;
 * - a field in the last-applied record that git no longer has is removed from the cluster;
 * - maps recurse; lists of objects with a merge key (containers by name, env by name, ports by
 *   port and protocol, ...; the table is the API's, src/api/patch/patch-keys.ts) are matched item
 *   by item, as strategic merge patch does, so that
 *   defaulted fields inside an item are not drift and items added by others stay; other lists
 *   are compared position by position, and a change of length replaces the whole list;
 * - values are compared after normalisation (normalize.ts), so there are no phantom diffs;
 * - the patch starts with a `test` of `/metadata/resourceVersion` (optimistic concurrency: the
 *   API server refuses the patch if the object changed since it was read, and the sync retries);
 *   when nothing differs the result is empty, without the test.
 */
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import { KINDS, splitApiVersion } from "../api/kinds.js";
import { patchTableFor, type PatchMeta } from "../api/patch/patch-keys.js";
import { isQuantity, quantitiesEqual } from "../api/quantity.js";
import { clone, type Json, type JsonObject, type KubeObject } from "../api/types.js";
import {
  LAST_APPLIED_ANNOTATION,
  defaultMatchesAbsent,
  encodeLastApplied,
  isPlainObject,
  isQuantityPath,
  isScalar,
  isStringMap,
  jsonEqual,
  normalizeObject,
  normalizeScalar,
  zeroMatchesAbsent,
} from "./normalize.js";

/** One RFC 6902 operation (fast-json-patch's type, the library that applies the patches). */
export type { Operation } from "fast-json-patch";

/** What `computeDiff` compares. */
export interface DiffInput {
  /** The object from git, after the reconciler added its tracking (and last-applied) annotations. */
  readonly desired: KubeObject;
  /** What the reconciler applied last time; undefined on the first sync (then nothing is removed). */
  readonly lastApplied?: KubeObject;
  /** The object in the cluster. An object missing from the cluster is created, not patched. */
  readonly live: KubeObject;
  /** JSON pointers another controller owns (e.g. `/spec/replicas` under an HPA): never compared. */
  readonly ignorePaths?: readonly string[];
}

/** Why a field differs: git changed it, or it was changed in the cluster behind git's back. */
export type ChangeCause = "git" | "drift";

/** One difference, as the learner reads it. */
export interface Change {
  /** The operation that resolves it. */
  readonly op: "add" | "replace" | "remove";
  /** JSON pointer of the operation (indices are live indices). */
  readonly path: string;
  /** Readable field name (`spec.template.spec.containers[web].image`). */
  readonly field: string;
  /** Value in the cluster before the operation (replace and remove). */
  readonly from?: Json;
  /** Value git wants (add and replace). */
  readonly to?: Json;
  /** `drift` when git and the last-applied record agree but the cluster differs. */
  readonly cause: ChangeCause;
}

/** The result of `computeDiff`. */
export interface DiffResult {
  /** The JSON Patch to send: `[]`, or a resourceVersion `test` followed by the changes. */
  readonly ops: Operation[];
  /** True when some difference was made outside git (drift), not by a new commit. */
  readonly drift: boolean;
  /** One entry per change operation, with its cause. */
  readonly changes: Change[];
}

type KeyFn = (item: Json | undefined) => string | undefined;

interface Ctx {
  readonly kind: string;
  /** Strategic-merge metadata of the kind (list merge keys), undefined for kinds not served. */
  readonly table: ReadonlyMap<string, PatchMeta> | undefined;
  readonly ignore: readonly string[];
  readonly hasLast: boolean;
  ops: Operation[];
  changes: Change[];
}

/** Escapes one JSON pointer segment (RFC 6901: `~` as `~0`, `/` as `~1`). */
export function escapePointerSegment(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** JSON pointer of a list of unescaped segments. */
export function toPointer(segments: readonly string[]): string {
  return segments.map((s) => "/" + escapePointerSegment(s)).join("");
}

function isIgnored(ctx: Ctx, segments: readonly string[]): boolean {
  if (ctx.ignore.length === 0) return false;
  const p = toPointer(segments);
  return ctx.ignore.some((i) => p === i || p.startsWith(i + "/"));
}

function fieldName(lsegs: readonly string[]): string {
  let out = "";
  for (const s of lsegs) out += s.startsWith("[") || out === "" ? s : "." + s;
  return out;
}

function causeOf(ctx: Ctx, d: Json | undefined, l: Json | undefined): ChangeCause {
  return ctx.hasLast && l !== undefined && d !== undefined && jsonEqual(d, l) ? "drift" : "git";
}

function emit(ctx: Ctx, op: "add" | "replace" | "remove", segs: readonly string[], lsegs: readonly string[], cause: ChangeCause, to?: Json, from?: Json): void {
  const path = toPointer(segs);
  if (op === "remove") ctx.ops.push({ op, path });
  else ctx.ops.push({ op, path, value: clone(to) });
  const change: { -readonly [K in keyof Change]: Change[K] } = { op, path, field: fieldName(lsegs), cause };
  if (from !== undefined) change.from = clone(from);
  if (to !== undefined) change.to = clone(to);
  ctx.changes.push(change);
}

function diffObject(ctx: Ctx, segs: string[], lsegs: string[], d: JsonObject, l: JsonObject | undefined, v: JsonObject): void {
  const root = segs.length === 0;
  for (const k of Object.keys(d)) {
    // apiVersion and kind are the object's identity (the live object is read at git's version);
    // status is the controllers', never git's.
    if (root && (k === "apiVersion" || k === "kind" || k === "status")) continue;
    const cs = [...segs, k];
    if (isIgnored(ctx, cs)) continue;
    diffMember(ctx, cs, [...lsegs, k], d[k], l?.[k], v, k);
  }
  if (!l) return;
  for (const k of Object.keys(l)) {
    if (Object.prototype.hasOwnProperty.call(d, k)) continue;
    if (root && (k === "apiVersion" || k === "kind" || k === "status")) continue;
    const cs = [...segs, k];
    if (isIgnored(ctx, cs)) continue;
    const vv = v[k];
    if (vv === undefined || vv === null) continue;
    const lv = l[k];
    // A label map dropped from git removes the labels git set, not those others added.
    if (isStringMap(ctx.kind, cs) && isPlainObject(lv) && isPlainObject(vv)) {
      diffObject(ctx, cs, [...lsegs, k], {}, lv, vv);
      continue;
    }
    emit(ctx, "remove", cs, [...lsegs, k], "git", undefined, vv);
  }
}

function diffMember(ctx: Ctx, segs: string[], lsegs: string[], d: Json | undefined, l: Json | undefined, parent: JsonObject | Json[], key: string): void {
  if (d === undefined) return;
  const exists = Object.prototype.hasOwnProperty.call(parent, key);
  const v = exists ? (parent as JsonObject)[key] : undefined;
  if (v === undefined || v === null) {
    if (isScalar(d) && (zeroMatchesAbsent(ctx.kind, segs, d) || defaultMatchesAbsent(ctx.kind, segs, d))) return;
    emit(ctx, exists ? "replace" : "add", segs, lsegs, causeOf(ctx, d, l), d, v ?? undefined);
    return;
  }
  if (isPlainObject(d)) {
    if (isPlainObject(v)) diffObject(ctx, segs, lsegs, d, isPlainObject(l) ? l : undefined, v);
    else emit(ctx, "replace", segs, lsegs, causeOf(ctx, d, l), d, v);
    return;
  }
  if (Array.isArray(d)) {
    if (Array.isArray(v)) diffList(ctx, segs, lsegs, d, Array.isArray(l) ? l : undefined, v);
    else emit(ctx, "replace", segs, lsegs, causeOf(ctx, d, l), d, v);
    return;
  }
  if (!scalarEqual(ctx.kind, segs, d, v)) emit(ctx, "replace", segs, lsegs, causeOf(ctx, d, l), d, v);
}

/**
 * Scalar equality after normalisation. Quantities compare by amount, as apimachinery's
 * `Quantity.Cmp` and `apiequality.Semantic` do: `1Gi` equals `1073741824` although the server
 * keeps each in its own format.
 */
function scalarEqual(kind: string, segs: readonly string[], d: Json, v: Json): boolean {
  const nv = normalizeScalar(kind, segs, v);
  if (nv === d) return true;
  if ((typeof d === "string" || typeof d === "number") && (typeof v === "string" || typeof v === "number") && isQuantityPath(kind, segs) && isQuantity(d) && isQuantity(v)) {
    return quantitiesEqual(d, v);
  }
  return false;
}

/** True when `v` already has every field `d` sets (the same rules as the diff itself). */
function matches(ctx: Ctx, segs: string[], lsegs: string[], d: Json, v: Json): boolean {
  const probe: Ctx = { kind: ctx.kind, table: ctx.table, ignore: [], hasLast: false, ops: [], changes: [] };
  const key = segs[segs.length - 1];
  diffMember(probe, segs, lsegs, d, undefined, { [key]: v }, key);
  return probe.ops.length === 0;
}

/**
 * The strategic-merge metadata of the list at `lsegs` (`spec.template.spec.containers[].env`),
 * from the API's patch table (src/api/patch/patch-keys.ts, copied from the `patchStrategy` and
 * `patchMergeKey` struct tags of k8s.io/api).
 */
function patchMetaOf(ctx: Ctx, lsegs: readonly string[]): PatchMeta | undefined {
  if (!ctx.table) return undefined;
  let path = "";
  for (const s of lsegs) path += s.startsWith("[") ? "[]" : (path ? "." : "") + s;
  return ctx.table.get(path);
}

/**
 * Lists that are sets, so items others add stay: lists of primitives with `patchStrategy:"merge"`
 * (finalizers), and a bare Pod's tolerations, to which the DefaultTolerationSeconds admission
 * plugin adds the not-ready/unreachable tolerations (atomic upstream, but fighting admission
 * would be a phantom diff forever).
 */
function isSetList(ctx: Ctx, segs: readonly string[], meta: PatchMeta | undefined): boolean {
  if (meta?.strategy === "merge" && !meta.mergeKey) return true;
  if (segs.length === 2 && segs[0] === "metadata" && segs[1] === "finalizers") return true;
  return ctx.kind === "Pod" && segs.length === 2 && segs[0] === "spec" && segs[1] === "tolerations";
}

/**
 * The key function for a list merged by key, or undefined when the list is compared by position
 * (no merge key, or some item in git lacks the key, or two items share one). Ports are keyed by
 * port and protocol together: the same port may appear once per protocol (strategic merge
 * patch keys them on the port alone, a known upstream limitation), and the protocol defaults to TCP.
 */
function mergeKeyFor(segs: readonly string[], meta: PatchMeta | undefined, d: readonly Json[]): KeyFn | undefined {
  const field = meta?.strategy === "merge" ? meta.mergeKey : undefined;
  if (!field) return undefined;
  const withProtocol = segs[segs.length - 1] === "ports";
  const fn: KeyFn = (item) => {
    if (!isPlainObject(item)) return undefined;
    const value = item[field];
    if (typeof value !== "string" && typeof value !== "number") return undefined;
    return withProtocol ? `${value}/${typeof item.protocol === "string" ? item.protocol : "TCP"}` : String(value);
  };
  const keys = d.map(fn);
  if (keys.some((k) => k === undefined) || new Set(keys).size !== keys.length) return undefined;
  return fn;
}

function diffList(ctx: Ctx, segs: string[], lsegs: string[], d: Json[], l: Json[] | undefined, v: Json[]): void {
  const meta = patchMetaOf(ctx, lsegs);
  if (isSetList(ctx, segs, meta)) return diffSetList(ctx, segs, lsegs, d, l, v);
  const keyOf = mergeKeyFor(segs, meta, d);
  if (keyOf) return diffKeyedList(ctx, segs, lsegs, d, l, v, keyOf);
  if (d.length !== v.length) {
    emit(ctx, "replace", segs, lsegs, causeOf(ctx, d, l), d, v);
    return;
  }
  const aligned = l && l.length === d.length ? l : undefined;
  for (let i = 0; i < d.length; i++) diffMember(ctx, [...segs, String(i)], [...lsegs, `[${i}]`], d[i], aligned?.[i], v, String(i));
}

function diffSetList(ctx: Ctx, segs: string[], lsegs: string[], d: Json[], l: Json[] | undefined, v: Json[]): void {
  const used = new Set<number>();
  const findLive = (item: Json, i: number): number => v.findIndex((candidate, j) => !used.has(j) && matches(ctx, [...segs, String(i)], [...lsegs, `[${i}]`], item, candidate));
  const missing: Json[] = [];
  d.forEach((item, i) => {
    const j = findLive(item, i);
    if (j < 0) missing.push(item);
    else used.add(j);
  });
  const removals: number[] = [];
  for (const item of l ?? []) {
    if (d.some((x) => jsonEqual(x, item))) continue;
    const j = findLive(item, 0);
    if (j >= 0) {
      used.add(j);
      removals.push(j);
    }
  }
  let length = v.length;
  for (const j of removals.sort((a, b) => b - a)) {
    emit(ctx, "remove", [...segs, String(j)], [...lsegs, `[${j}]`], "git", undefined, v[j]);
    length--;
  }
  const lastRecord = l ?? [];
  for (const item of missing) {
    emit(ctx, "add", [...segs, String(length)], [...lsegs, `[${length}]`], lastRecord.some((x) => jsonEqual(x, item)) && ctx.hasLast ? "drift" : "git", item);
    length++;
  }
}

function diffKeyedList(ctx: Ctx, segs: string[], lsegs: string[], d: Json[], l: Json[] | undefined, v: Json[], keyOf: KeyFn): void {
  const dKeys = d.map((item) => keyOf(item) as string);
  const dSet = new Set(dKeys);
  const lByKey = new Map<string, Json>();
  for (const item of l ?? []) {
    const k = keyOf(item);
    if (k !== undefined && !lByKey.has(k)) lByKey.set(k, item);
  }
  const vKeys = v.map(keyOf);
  const vIndex = new Map<string, number>();
  vKeys.forEach((k, i) => {
    if (k !== undefined && !vIndex.has(k)) vIndex.set(k, i);
  });

  const liveOrder = [...vIndex.entries()].filter(([k]) => dSet.has(k)).sort((a, b) => a[1] - b[1]).map(([k]) => k);
  const gitOrder = dKeys.filter((k) => vIndex.has(k));
  if (liveOrder.some((k, i) => k !== gitOrder[i])) {
    replaceReordered(ctx, segs, lsegs, d, l, v, dKeys, lByKey, vKeys, vIndex);
    return;
  }

  // The list as it will be after each emitted operation: entries are live indices or new keys.
  const cur: Array<{ key: string | undefined; live: number | null }> = vKeys.map((key, i) => ({ key, live: i }));

  // 1. Items git removed (in the last-applied record, no longer in git), highest index first.
  const removals = vKeys.map((k, i) => (k !== undefined && !dSet.has(k) && lByKey.has(k) ? i : -1)).filter((i) => i >= 0);
  for (const i of removals.sort((a, b) => b - a)) {
    emit(ctx, "remove", [...segs, String(i)], [...lsegs, `[${vKeys[i]}]`], "git", undefined, v[i]);
    cur.splice(i, 1);
  }

  // 2. Items in both: compare field by field at their index after the removals.
  d.forEach((item, di) => {
    const k = dKeys[di];
    const li = vIndex.get(k);
    if (li === undefined) return;
    const pos = cur.findIndex((e) => e.live === li);
    diffMember(ctx, [...segs, String(pos)], [...lsegs, `[${k}]`], item, lByKey.get(k), v, String(li));
  });

  // 3. Items new to the cluster: inserted after the item git lists before them, keeping git's order.
  d.forEach((item, di) => {
    const k = dKeys[di];
    if (vIndex.has(k)) return;
    let pos = -1;
    for (let p = di - 1; p >= 0 && pos < 0; p--) {
      const at = cur.findIndex((e) => e.key === dKeys[p] && (e.live === null || e.live === vIndex.get(dKeys[p])));
      if (at >= 0) pos = at + 1;
    }
    if (pos < 0) {
      const firstDesired = cur.findIndex((e) => e.key !== undefined && dSet.has(e.key));
      pos = firstDesired >= 0 ? firstDesired : cur.length;
    }
    emit(ctx, "add", [...segs, String(pos)], [...lsegs, `[${k}]`], causeOf(ctx, item, lByKey.get(k)), item);
    cur.splice(pos, 0, { key: k, live: null });
  });
}

/**
 * Git lists the keyed items in another order than the cluster: replace the list with git's
 * order, each item keeping the fields the cluster added (defaults), and items others added kept
 * at the end.
 */
function replaceReordered(
  ctx: Ctx,
  segs: string[],
  lsegs: string[],
  d: Json[],
  l: Json[] | undefined,
  v: Json[],
  dKeys: string[],
  lByKey: Map<string, Json>,
  vKeys: Array<string | undefined>,
  vIndex: Map<string, number>,
): void {
  const merged: Json[] = [];
  d.forEach((item, di) => {
    const li = vIndex.get(dKeys[di]);
    if (li === undefined) {
      merged.push(clone(item));
      return;
    }
    const itemSegs = [...segs, String(li)];
    const probe: Ctx = { kind: ctx.kind, table: ctx.table, ignore: ctx.ignore, hasLast: false, ops: [], changes: [] };
    diffMember(probe, itemSegs, [...lsegs, `[${dKeys[di]}]`], item, lByKey.get(dKeys[di]), v, String(li));
    const prefix = toPointer(itemSegs);
    const relative = probe.ops.map((op) => ({ ...op, path: op.path.slice(prefix.length) }));
    merged.push(jsonpatch.applyPatch(clone(v[li]), relative, false, true).newDocument as Json);
  });
  const inGit = new Set(dKeys);
  v.forEach((item, i) => {
    const k = vKeys[i];
    if (k === undefined || (!inGit.has(k) && !lByKey.has(k))) merged.push(clone(item));
  });
  emit(ctx, "replace", segs, lsegs, causeOf(ctx, d, l), merged, v);
}

/**
 * The three-way diff of one object: the JSON Patch that makes `live` match `desired`, keeping
 * what the cluster and other controllers set, and removing what git dropped since `lastApplied`.
 * Applying `ops` to `live` gives an object whose diff against `desired` is empty.
 */
export function computeDiff(input: DiffInput): DiffResult {
  const { desired, live } = input;
  if (!isPlainObject(live)) {
    throw new Error("computeDiff: live must be the object read from the cluster; an object missing from the cluster is created, not patched");
  }
  if (!isPlainObject(desired) || typeof desired.kind !== "string") {
    throw new Error("computeDiff: desired must be a Kubernetes object with apiVersion, kind and metadata");
  }
  const d = normalizeObject(desired) as unknown as JsonObject;
  let l = input.lastApplied ? (normalizeObject(input.lastApplied) as unknown as JsonObject) : undefined;
  const desiredRecord = desired.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (l && input.lastApplied && desiredRecord !== undefined) {
    // The record annotation is not inside the record itself: put the record back so that an
    // unchanged record counts as unchanged (a hand edit of it is then drift, a new commit is not).
    const meta = (l.metadata ?? {}) as JsonObject;
    const annotations = { ...((meta.annotations as JsonObject | undefined) ?? {}), [LAST_APPLIED_ANNOTATION]: encodeLastApplied(input.lastApplied) };
    l = { ...l, metadata: { ...meta, annotations } };
  }
  for (const p of input.ignorePaths ?? []) {
    if (typeof p !== "string" || !p.startsWith("/")) {
      throw new Error(`computeDiff: ignorePaths entries are JSON pointers such as /spec/replicas, got ${JSON.stringify(p)}`);
    }
  }
  const ctx: Ctx = { kind: desired.kind, table: patchTableFor(desired.apiVersion, desired.kind), ignore: input.ignorePaths ?? [], hasLast: l !== undefined, ops: [], changes: [] };
  diffObject(ctx, [], [], d, l, live as unknown as JsonObject);
  const ops = ctx.ops;
  if (ops.length > 0 && live.metadata?.resourceVersion !== undefined) {
    ops.unshift({ op: "test", path: "/metadata/resourceVersion", value: live.metadata.resourceVersion });
  }
  return { ops, drift: ctx.changes.some((c) => c.cause === "drift"), changes: ctx.changes };
}

function formatValue(value: unknown): string {
  return value === undefined ? "(unset)" : JSON.stringify(value);
}

/**
 * The operations in the readable form `kubelings diff` prints, one line each:
 * `~ /spec/replicas: 3 → 5`, `+ /metadata/labels/tier: "web"`, `- /spec/.../env/1`.
 * With `live`, replaced values show what they were; the resourceVersion `test` is not shown.
 */
export function formatOps(ops: readonly Operation[], live?: KubeObject): string[] {
  let doc: unknown = live ? clone(live) : undefined;
  const lines: string[] = [];
  for (const op of ops) {
    let before: unknown;
    if (doc !== undefined && (op.op === "replace" || op.op === "remove")) {
      try {
        before = jsonpatch.getValueByPointer(doc, op.path);
      } catch {
        before = undefined;
      }
    }
    switch (op.op) {
      case "test":
        break;
      case "add":
        lines.push(`+ ${op.path}: ${formatValue(op.value)}`);
        break;
      case "replace":
        lines.push(before !== undefined ? `~ ${op.path}: ${formatValue(before)} → ${formatValue(op.value)}` : `~ ${op.path}: ${formatValue(op.value)}`);
        break;
      case "remove":
        lines.push(`- ${op.path}`);
        break;
      case "move":
        lines.push(`> ${op.from} → ${op.path}`);
        break;
      case "copy":
        lines.push(`+ ${op.path}: copy of ${op.from}`);
        break;
      default:
        lines.push(`? ${JSON.stringify(op)}`);
    }
    if (doc !== undefined && op.op !== "test") {
      try {
        doc = jsonpatch.applyOperation(doc, op, false, true).newDocument;
      } catch {
        doc = undefined;
      }
    }
  }
  return lines;
}

const SINGULAR: Readonly<Record<string, string>> = {
  containers: "container",
  initContainers: "init container",
  ephemeralContainers: "ephemeral container",
  env: "environment variable",
  volumes: "volume",
  volumeMounts: "volume mount",
  volumeDevices: "volume device",
  ports: "port",
  imagePullSecrets: "image pull secret",
  hostAliases: "host alias",
  resourceClaims: "resource claim",
  topologySpreadConstraints: "topology spread constraint",
};

/** A field name split into names and bracketed keys: `containers[web].image` -> containers, [web], image. */
function fieldTokens(field: string): Array<{ name?: string; key?: string }> {
  const tokens: Array<{ name?: string; key?: string }> = [];
  for (const m of field.matchAll(/\[([^\]]*)\]|([^.[\]]+)/g)) tokens.push(m[1] !== undefined ? { key: m[1] } : { name: m[2] });
  return tokens;
}

function renderTokens(tokens: ReadonlyArray<{ name?: string; key?: string }>): string {
  let out = "";
  for (const t of tokens) out += t.key !== undefined ? `[${t.key}]` : (out ? "." : "") + t.name;
  return out;
}

/** Index of the last token that is a keyed list item (`containers[web]`) at or before `from`, or -1. */
function lastKeyedItem(tokens: ReadonlyArray<{ name?: string; key?: string }>, from: number): number {
  for (let i = from; i > 0; i--) {
    const t = tokens[i];
    const list = tokens[i - 1].name;
    if (t.key !== undefined && !/^\d+$/.test(t.key) && list !== undefined && SINGULAR[list]) return i;
  }
  return -1;
}

/**
 * A short name of a changed field for sentences: `replicas`, `label tier`, `image of container web`,
 * `value of environment variable LOG_LEVEL of container web`, `strategy.type`.
 */
export function describeField(field: string): string {
  const meta = /^metadata\.(labels|annotations)\.(.+)$/.exec(field);
  if (meta) return `${meta[1] === "labels" ? "label" : "annotation"} ${meta[2]}`;
  const data = /^(data|binaryData|stringData)\.(.+)$/.exec(field);
  if (data) return `${data[1]} key ${data[2]}`;
  const tokens = fieldTokens(field);
  const inner = lastKeyedItem(tokens, tokens.length - 1);
  if (inner < 0) return field.replace(/^spec\./, "");
  let name = `${SINGULAR[tokens[inner - 1].name as string]} ${tokens[inner].key}`;
  const rest = tokens.slice(inner + 1);
  if (rest.length > 0) name = `${renderTokens(rest)} of ${name}`;
  const outer = lastKeyedItem(tokens, inner - 2);
  if (outer > 0) name += ` of ${SINGULAR[tokens[outer - 1].name as string]} ${tokens[outer].key}`;
  return name;
}

/**
 * One sentence per change: drift as "replicas was changed from 3 to 5 outside git", git changes
 * as "replicas changes from 3 to 4".
 */
export function describeChange(change: Change): string {
  const name = describeField(change.field);
  if (change.cause === "drift") {
    if (change.op === "replace") return `${name} was changed from ${formatValue(change.to)} to ${formatValue(change.from)} outside git`;
    if (change.op === "add") return `${name} was removed outside git (git sets ${formatValue(change.to)})`;
    return `${name} was added outside git`;
  }
  if (change.op === "add") return `${name} is added: ${formatValue(change.to)}`;
  if (change.op === "remove") return `${name} is removed (no longer in git)`;
  return `${name} changes from ${formatValue(change.from)} to ${formatValue(change.to)}`;
}

/** Sentences describing the drift in a diff (changes made outside git); empty when there is none. */
export function describeDrift(result: DiffResult): string[] {
  return result.changes.filter((c) => c.cause === "drift").map(describeChange);
}

/** Kinds with a scale subresource an HPA can target (`spec.scaleTargetRef`). */
const SCALABLE_KINDS: ReadonlySet<string> = new Set(["Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"]);

/**
 * Paths of `desired` that another controller owns and the reconciler must not fight over:
 * `/spec/replicas` of a Deployment, ReplicaSet, StatefulSet or ReplicationController that a
 * HorizontalPodAutoscaler (autoscaling/v1 or v2) in `all` targets through `spec.scaleTargetRef`.
 * Argo CD users configure this by hand (`ignoreDifferences` + `RespectIgnoreDifferences`,
 * argo-cd #2913); here it is found from the objects themselves.
 */
export function ownedByOthers(desired: KubeObject, all: readonly KubeObject[]): string[] {
  if (!SCALABLE_KINDS.has(desired.kind)) return [];
  const namespace = desired.metadata?.namespace ?? "default";
  const group = splitApiVersion(desired.apiVersion ?? "").group;
  for (const hpa of all) {
    if (hpa.kind !== "HorizontalPodAutoscaler" || !String(hpa.apiVersion).startsWith("autoscaling/")) continue;
    if (hpa.metadata?.deletionTimestamp) continue;
    if ((hpa.metadata?.namespace ?? "default") !== namespace) continue;
    const ref = hpa.spec?.scaleTargetRef;
    if (!isPlainObject(ref) || ref.kind !== desired.kind || ref.name !== desired.metadata?.name) continue;
    if (typeof ref.apiVersion === "string" && splitApiVersion(ref.apiVersion).group !== group) continue;
    return ["/spec/replicas"];
  }
  return [];
}

/** A change the API server refuses because the field cannot change once the object exists. */
export interface ImmutableChange {
  /** Kind of the object. */
  readonly kind: string;
  /** Name of the object. */
  readonly name: string;
  /** The field that cannot change, e.g. `spec.selector`. */
  readonly field: string;
  /** The operation's path. */
  readonly path: string;
  /** What happened and the way out, for the learner. */
  readonly message: string;
}

/** Options of `isImmutableChange`. */
export interface ImmutableCheckOptions {
  /** Name of the object, for the message. */
  readonly name?: string;
  /** The operation (`add`, `replace`, `remove`); a `remove` of an allocated field is allowed. */
  readonly op?: string;
  /** The live object, for per-object immutability (`immutable: true` ConfigMaps and Secrets). */
  readonly live?: KubeObject;
}

/** StatefulSet spec fields that may change (`ValidateStatefulSetUpdate`, `pkg/apis/apps/validation`). */
const STS_MUTABLE = new Set(["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"]);

function kubectlName(kind: string): string {
  const info = KINDS.find((k) => k.kind === kind);
  return info ? (info.shortNames[0] ?? info.singular) : kind.toLowerCase();
}

/**
 * Whether a patch operation at `path` (a JSON pointer) on an object of `kind` changes a field the
 * API server will refuse to change, with the way out in the message. Rules from the API server's
 * update validation (`pkg/apis/{core,apps,batch}/validation`): Service `spec.clusterIP(s)`,
 * Deployment/ReplicaSet/DaemonSet/StatefulSet `spec.selector`, StatefulSet fields other than
 * replicas, ordinals, template, updateStrategy, revisionHistoryLimit,
 * persistentVolumeClaimRetentionPolicy and minReadySeconds (e.g. volumeClaimTemplates), Job
 * `spec.template`, `spec.selector` and `spec.completionMode`, PersistentVolumeClaim spec except
 * `resources.requests` and `volumeAttributesClassName`, Pod spec except container images,
 * activeDeadlineSeconds, terminationGracePeriodSeconds, tolerations and schedulingGates, and the
 * data of an `immutable: true` ConfigMap or Secret.
 */
export function isImmutableChange(kind: string, path: string, options: ImmutableCheckOptions = {}): ImmutableChange | undefined {
  const name = options.name ?? options.live?.metadata?.name ?? "";
  const segs = path.split("/").slice(1).map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const short = kubectlName(kind);
  const found = (field: string, wayOut: string): ImmutableChange => ({
    kind,
    name,
    field,
    path,
    message: `${field} of ${kind} ${name} cannot change: ${wayOut}`,
  });
  if (segs[0] === "spec") {
    const top = segs[1];
    if (kind === "Service" && (top === "clusterIP" || top === "clusterIPs")) {
      // Dropping the field is allowed: the API server keeps the allocated address.
      if (options.op === "remove") return undefined;
      return found(
        `spec.${top}`,
        `the cluster IP is fixed once assigned; remove spec.${top} from git to keep the current address, or delete the Service (kubectl delete ${short} ${name}) so the next sync creates it with the new one`,
      );
    }
    if ((kind === "Deployment" || kind === "ReplicaSet" || kind === "DaemonSet") && top === "selector") {
      return found("spec.selector", `delete the ${kind} (kubectl delete ${short} ${name} --cascade=orphan keeps its pods) or rename it in git so it is created anew`);
    }
    if (kind === "StatefulSet" && top !== undefined && !STS_MUTABLE.has(top)) {
      return found(
        `spec.${top}`,
        `a StatefulSet can only change replicas, ordinals, template, updateStrategy, revisionHistoryLimit, persistentVolumeClaimRetentionPolicy and minReadySeconds; delete the StatefulSet (kubectl delete ${short} ${name} --cascade=orphan keeps its pods and their PersistentVolumeClaims) so the next sync creates it anew, or rename it in git`,
      );
    }
    if (kind === "Job" && (top === "template" || top === "selector" || top === "completionMode")) {
      return found(`spec.${top}`, `a Job's pod template, selector and completion mode are fixed once it exists; delete the Job (kubectl delete ${short} ${name}) so the next sync runs it anew, or rename it in git`);
    }
    if (kind === "PersistentVolumeClaim" && top !== undefined && top !== "volumeAttributesClassName" && !(top === "resources" && (segs[2] === "requests" || (segs[2] === undefined && options.op !== "remove")))) {
      const field = top === "resources" ? `spec.resources.${segs[2]}` : `spec.${top}`;
      return found(
        field,
        `only spec.resources.requests of a PersistentVolumeClaim can change (and storage can only grow); delete the PVC (kubectl delete ${short} ${name}; its data goes with it unless the volume's reclaim policy is Retain) or use a new claim name in git`,
      );
    }
    if (kind === "Pod" && top !== undefined) {
      const image = (top === "containers" || top === "initContainers") && segs[3] === "image";
      const allowed = image || top === "activeDeadlineSeconds" || top === "terminationGracePeriodSeconds" || top === "tolerations" || top === "schedulingGates";
      if (!allowed) {
        return found(
          `spec.${top}`,
          `a Pod can only change its container images, activeDeadlineSeconds, terminationGracePeriodSeconds and add tolerations; delete the Pod (kubectl delete ${short} ${name}) so the next sync creates it anew, or run it under a Deployment, which replaces pods for you`,
        );
      }
    }
  }
  if ((kind === "ConfigMap" || kind === "Secret") && options.live?.immutable === true && ["data", "binaryData", "stringData", "immutable"].includes(segs[0] ?? "")) {
    return found(
      segs[0] === "immutable" ? "immutable" : segs[0],
      `the ${kind} is marked immutable: true; delete it (kubectl delete ${short} ${name}) so the next sync creates it anew, or give it a new name in git and point its users at the new name`,
    );
  }
  return undefined;
}

/** Every immutable change in a patch for `live`, one per field. */
export function findImmutableChanges(live: KubeObject, ops: readonly Operation[]): ImmutableChange[] {
  const out: ImmutableChange[] = [];
  const seen = new Set<string>();
  for (const op of ops) {
    if (op.op === "test") continue;
    const hit = isImmutableChange(live.kind, op.path, { name: live.metadata?.name, op: op.op, live });
    if (hit && !seen.has(hit.field)) {
      seen.add(hit.field);
      out.push(hit);
    }
  }
  return out;
}

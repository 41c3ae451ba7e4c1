/**
 * Helpers shared by the reconciler and the status report (internal to gitops): the desired
 * objects of a commit, the live objects in the cluster, and API errors turned into
 * `file:line:col field: message` lines.
 */
import type { Operation } from "fast-json-patch";
import type { Client, ObjectRef } from "../api/client.js";
import { ApiError } from "../api/errors.js";
import { KINDS, splitApiVersion } from "../api/kinds.js";
import type { KubeObject } from "../api/types.js";
import type { SyncError } from "./history.js";
import { locate, type LoadError, type LoadedObject, type ObjectSource } from "./load.js";
import { LAST_APPLIED_ANNOTATION, readLastApplied, withLastApplied } from "./normalize.js";
import type { UncommittedChange } from "./source.js";
import { addTracking, isTrackedBy } from "./tracking.js";

/** One object of the desired state: from git, with the tracking annotation and its last-applied record. */
export interface DesiredObject {
  /** `group/kind/namespace/name`: the same for every version of the kind. */
  readonly key: string;
  /** Where to read and write it (at the apiVersion git uses). */
  readonly ref: ObjectRef;
  /** The object to apply: git's object plus the tracking and last-applied annotations. */
  readonly object: KubeObject;
  /** Where it is defined in the repository (absent when recovered from a live object's record). */
  readonly source?: ObjectSource;
}

/** The identity of an object across API versions: `group/kind/namespace/name`. */
export function keyOf(obj: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): string {
  return `${splitApiVersion(obj.apiVersion ?? "").group}/${obj.kind}/${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
}

/** The reference of an object for the client. */
export function refOf(obj: Pick<KubeObject, "apiVersion" | "kind" | "metadata">): ObjectRef {
  const ref: { apiVersion: string; kind: string; name: string; namespace?: string } = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata?.name ?? "" };
  if (obj.metadata?.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

/** `Deployment default/web`, or `Namespace team-a` for a cluster-scoped object. */
export function describeObject(obj: { kind: string; namespace?: string; name: string } | Pick<KubeObject, "kind" | "metadata">): string {
  const meta = "metadata" in obj ? obj.metadata : obj;
  const ns = meta?.namespace;
  return `${obj.kind} ${ns ? `${ns}/` : ""}${meta?.name ?? ""}`;
}

/** The desired object for a loaded one: tracking annotation for `repo`, then the last-applied record. */
export function prepareDesired(loaded: LoadedObject, repo: string): DesiredObject {
  const object = withLastApplied(addTracking(loaded.object, repo));
  return { key: keyOf(object), ref: refOf(object), object, source: loaded.source };
}

/**
 * The desired object recorded on a live object (its last-applied record), for when the commit
 * that applied it cannot be used (the head is refused and the reconciler has just started).
 */
export function desiredFromRecord(live: KubeObject): DesiredObject | undefined {
  const record = readLastApplied(live);
  if (!record) return undefined;
  const object = withLastApplied(record);
  return { key: keyOf(object), ref: refOf(object), object };
}

/**
 * The kinds listed to find what the cluster holds: every kind of the registry at its first
 * (preferred) version, except Events, which nobody applies from git.
 */
export const LISTED_KINDS: readonly { readonly apiVersion: string; readonly kind: string; readonly groupKind: string }[] = (() => {
  const seen = new Set<string>();
  const out: Array<{ apiVersion: string; kind: string; groupKind: string }> = [];
  for (const k of KINDS) {
    if (k.kind === "Event") continue;
    const groupKind = `${k.group}/${k.kind}`;
    if (seen.has(groupKind)) continue;
    seen.add(groupKind);
    out.push({ apiVersion: k.apiVersion, kind: k.kind, groupKind });
  }
  return out;
})();

/** What the cluster holds: every object of the listed kinds. */
export interface Inventory {
  /** Every listed object by key. */
  readonly byKey: Map<string, KubeObject>;
  /** The apiVersion each `group/kind` was listed at. */
  readonly listedAt: Map<string, string>;
  /** Every listed object. */
  readonly all: KubeObject[];
}

/** Lists every kind (kinds the server does not serve are skipped). */
export async function takeInventory(client: Client): Promise<Inventory> {
  const lists = await Promise.all(
    LISTED_KINDS.map(async (k) => {
      try {
        return { k, items: (await client.list({ apiVersion: k.apiVersion, kind: k.kind })).items };
      } catch (err) {
        // A server that does not serve the kind (a remote cluster without it) holds none of it.
        if (err instanceof ApiError && (err.code === 404 || err.code === 405)) return { k, items: [] as KubeObject[] };
        throw err;
      }
    }),
  );
  const byKey = new Map<string, KubeObject>();
  const listedAt = new Map<string, string>();
  const all: KubeObject[] = [];
  for (const { k, items } of lists) {
    listedAt.set(k.groupKind, k.apiVersion);
    for (const item of items) {
      byKey.set(keyOf(item), item);
      all.push(item);
    }
  }
  return { byKey, listedAt, all };
}

/** Objects in the inventory that `repo` applied (only these may ever be pruned). */
export function trackedObjects(inventory: Inventory, repo: string): KubeObject[] {
  return inventory.all.filter((o) => isTrackedBy(o, repo));
}

/** Reads one object; undefined when it does not exist. */
export async function getLive(client: Client, ref: ObjectRef): Promise<KubeObject | undefined> {
  try {
    return await client.get(ref);
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) return undefined;
    throw err;
  }
}

/**
 * The live object for a desired one: from the inventory when it was listed at git's version,
 * else read at git's version (an autoscaling/v1 HPA in git is compared with its v1 form).
 */
export async function liveFor(client: Client, inventory: Inventory, d: DesiredObject): Promise<KubeObject | undefined> {
  const groupKind = `${splitApiVersion(d.ref.apiVersion).group}/${d.ref.kind}`;
  if (inventory.listedAt.get(groupKind) === d.ref.apiVersion) return inventory.byKey.get(d.key);
  return getLive(client, d.ref);
}

/** Formats a positioned error: `file:line:col field: message` (parts that are unknown left out). */
export function syncError(e: { file?: string; line?: number; column?: number; object?: string; field?: string; message: string }): SyncError {
  const where = e.file ? `${e.file}${e.line ? `:${e.line}:${e.column ?? 1}` : ""} ` : e.object ? `${e.object}: ` : "";
  const text = `${where}${e.field ? `${e.field}: ` : ""}${e.message}`;
  const out: { -readonly [K in keyof SyncError]: SyncError[K] } = { message: e.message, text };
  if (e.file !== undefined) out.file = e.file;
  if (e.line !== undefined) out.line = e.line;
  if (e.column !== undefined) out.column = e.column;
  if (e.object !== undefined) out.object = e.object;
  if (e.field !== undefined) out.field = e.field;
  return out;
}

/** A loader error as a sync error. */
export function fromLoadError(e: LoadError): SyncError {
  return syncError({ file: e.file, line: e.line, column: e.column, message: e.message });
}

/** A sync error about one object, positioned at `field` (or at the object's start) in its file. */
export function objectError(d: DesiredObject | undefined, obj: Pick<KubeObject, "kind" | "metadata">, field: string | undefined, message: string): SyncError {
  const object = describeObject(obj);
  if (d?.source) {
    const pos = locate(d.source, field ?? "");
    return syncError({ file: d.source.file, line: pos.line, column: pos.column, object, field, message });
  }
  return syncError({ object, field, message });
}

/**
 * The sync errors of an API error about one object: one per `details.causes` entry (each placed
 * at its field in the file), else one for the whole message, with the way out for the failures
 * a learner meets most (a namespace that does not exist, a kind the server does not serve).
 */
export function apiErrors(d: DesiredObject | undefined, obj: Pick<KubeObject, "kind" | "metadata">, err: ApiError): SyncError[] {
  const status = err.status;
  const causes = (status.details?.causes ?? []).filter((c) => c.message || c.field);
  if (causes.length > 0) {
    return causes.map((c) => objectError(d, obj, c.field && c.field !== "patch" ? c.field : undefined, c.message ?? status.message ?? "invalid"));
  }
  const message = status.message ?? err.message;
  if (status.code === 404 && status.details?.kind === "namespaces") {
    const ns = status.details.name ?? obj.metadata?.namespace;
    return [objectError(d, obj, "metadata.namespace", `${message}: add a Namespace named ${ns} to the repository (kind: Namespace), or use an existing namespace`)];
  }
  if (status.code === 404 && /^no matches for kind/.test(message)) return [objectError(d, obj, "kind", message)];
  return [objectError(d, obj, undefined, message)];
}

/** The hint for one uncommitted change ("web.yaml has changes that are not committed"). */
export function hintFor(change: UncommittedChange): string {
  switch (change.change) {
    case "modified":
      return `${change.path} has changes that are not committed${change.staged ? " (staged)" : ""}: only committed files are applied (git commit -am "...")`;
    case "added":
      return `${change.path} is staged but not committed: only committed files are applied (git commit -m "...")`;
    case "untracked":
      return `${change.path} is new and not committed: only committed files are applied (git add ${change.path} && git commit -m "...")`;
    case "deleted":
      return `${change.path} is deleted but the deletion is not committed: the cluster keeps it until you commit (git commit -am "...")`;
  }
}

/** The JSON pointer of the reconciler's own last-applied annotation, whose value is shortened where shown and recorded. */
export const LAST_APPLIED_POINTER = `/metadata/annotations/${LAST_APPLIED_ANNOTATION.replace(/~/g, "~0").replace(/\//g, "~1")}`;

/**
 * The operations as recorded and shown: the last-applied record's value (a copy of the whole
 * object) replaced by a short note; everything else as sent.
 */
export function visibleOps(ops: readonly Operation[], target?: { apiVersion?: string; kind?: string }): Operation[] {
  const secret = target !== undefined && isSecret(target);
  return ops.map((op) => {
    if (op.path === LAST_APPLIED_POINTER && (op.op === "add" || op.op === "replace")) return { ...op, value: "(record of the applied manifest)" };
    if (secret && "value" in op && op.op !== "test" && /^\/(data|stringData)(\/|$)/.test(op.path)) return { ...op, value: hideSecretValue(op.value) };
    return op;
  });
}

/** What a Secret's values are shown as, as Argo CD masks them in diffs. */
export const HIDDEN_SECRET_VALUE = "++++++++";

/** True for core/v1 Secrets. */
export function isSecret(o: { apiVersion?: string; kind?: string }): boolean {
  return o.kind === "Secret" && (o.apiVersion === "v1" || o.apiVersion === undefined);
}

function hideSecretValue(value: unknown): unknown {
  if (value && typeof value === "object" && !Array.isArray(value)) return Object.fromEntries(Object.keys(value).map((k) => [k, HIDDEN_SECRET_VALUE]));
  return HIDDEN_SECRET_VALUE;
}

/**
 * A copy of an object safe to print: a Secret's `data` and `stringData` values are masked and the
 * last-applied records (which copy them) are shortened. Other objects are returned as they are.
 */
export function printable<T extends KubeObject | undefined>(obj: T): T {
  if (!obj || !isSecret(obj)) return obj;
  const copy = structuredClone(obj) as KubeObject;
  for (const field of ["data", "stringData"] as const) if (copy[field]) copy[field] = hideSecretValue(copy[field]);
  const annotations = copy.metadata.annotations;
  if (annotations) {
    for (const key of [LAST_APPLIED_ANNOTATION, "kubectl.kubernetes.io/last-applied-configuration"]) {
      if (annotations[key] !== undefined) annotations[key] = "(record of the applied manifest)";
    }
  }
  return copy as T;
}

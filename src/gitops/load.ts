/**
 * The manifest loader: turns the files of a commit into Kubernetes objects, each remembering
 * the file, line and column it came from, or into a list of errors naming file, line and column.
 *
 * What it reads, and how, follows kubectl (`kubectl apply -f DIR`): multi-document YAML with
 * empty documents skipped, YAML 1.1 scalars as go-yaml v2 reads them (see `_yaml.ts`), `List`
 * kinds unpacked. It checks only what must hold before anything reaches the API server (an
 * object has an apiVersion, a kind and a name; no two objects are the same object); everything
 * else (unknown kinds, field validation) is left to the API server's dry-run, which knows the
 * schema. Limits on file size, document count, alias expansion and nesting depth keep a
 * hostile or broken file from exhausting memory or the stack.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLError } from "yaml";
import { KINDS, splitApiVersion, tryKindFor } from "../api/kinds.js";
import type { KubeObject } from "../api/types.js";
import { parseStream, type YamlLimits } from "./_yaml.js";

/** A file to load: its path in the repository and its content. */
export interface ManifestFile {
  /** Path from the repository root, used in every message (e.g. `apps/web.yaml`). */
  readonly path: string;
  /** UTF-8 text, or its bytes. */
  readonly content: string | Uint8Array;
}

/** Options of `loadManifests`: limits and the default namespace. */
export interface LoadOptions extends Partial<YamlLimits> {
  /** Largest file read, in bytes (default 5 MiB). */
  readonly maxFileBytes?: number;
  /** Namespace given to namespaced objects that set none (default `default`, as kubectl without `-n`). */
  readonly defaultNamespace?: string;
}

/** The default limits. */
export const DEFAULT_LOAD_LIMITS: Readonly<Required<Omit<LoadOptions, "defaultNamespace">>> = Object.freeze({
  maxFileBytes: 5 * 1024 * 1024,
  maxDocuments: 1000,
  // The `yaml` package's own default; generous for real manifests, fatal to "billion laughs".
  maxAliasCount: 100,
  maxDepth: 100,
});

/** Where an object came from. Plain data: safe to copy, store and print. */
export interface ObjectSource {
  /** Path of the file in the repository. */
  readonly file: string;
  /** 1-based line where the object starts (its first key). */
  readonly line: number;
  /** 1-based column where the object starts. */
  readonly column: number;
  /** 0-based index of the YAML document in the file. */
  readonly documentIndex: number;
  /** For an object unpacked from a List: its path in the document, e.g. `items[2]`. */
  readonly item?: string;
}

/** One object of the commit and where it came from. */
export interface LoadedObject {
  /** The object as written, with `metadata.namespace` defaulted; a fresh copy owned by the caller. */
  readonly object: KubeObject;
  readonly source: ObjectSource;
}

/** A problem that fails the commit, at a position in a file. */
export interface LoadError {
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly column: number;
  readonly message: string;
}

/** A problem that does not fail the commit but that the learner should see (same shape as an error). */
export type LoadWarning = LoadError;

/** What `loadManifests` returns. The commit is usable only when `errors` is empty. */
export interface LoadResult {
  /** Objects in file order, then document order. Later duplicates are left out. */
  readonly objects: LoadedObject[];
  readonly errors: LoadError[];
  readonly warnings: LoadWarning[];
}

/** A 1-based position in a file. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** The parsed node of each object, kept beside the plain `ObjectSource` for `locate`. */
interface NodeRef {
  readonly root: Node;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

const nodes = new WeakMap<ObjectSource, NodeRef>();

/** More errors than this in one file are summed up in one line: past that point they are noise. */
const MAX_ERRORS_PER_FILE = 100;

const TEMPLATE_HINT =
  "this looks like a template ({{ ... }} placeholders): kubelings applies plain manifests, so render the template first (for example with `helm template`) and commit the result, or list the file in .kubelingsignore";

/** Formats an error or warning as `file:line:col message`. */
export function formatLoadError(e: LoadError): string {
  return `${e.file}:${e.line}:${e.column} ${e.message}`;
}

/**
 * Loads the manifest files of a commit: every document of every file becomes objects (Lists
 * unpacked) with their source position, or errors. Files are read in the order given; an
 * object defined twice (same API group, kind, namespace and name) is an error naming both
 * places. Namespaced kinds without a namespace get `options.defaultNamespace`; a namespace on a
 * cluster-scoped kind is dropped with a warning, as the API server clears it
 * (`EnsureObjectNamespaceMatchesRequestNamespace` in k8s.io/apiserver `registry/rest/create.go`).
 * Kinds the registry does not know are kept as written, for the API's dry-run to judge.
 */
export function loadManifests(files: readonly ManifestFile[], options: LoadOptions = {}): LoadResult {
  const limits = { ...DEFAULT_LOAD_LIMITS, ...definedOnly(options) };
  const defaultNamespace = options.defaultNamespace ?? "default";
  const objects: LoadedObject[] = [];
  const errors: LoadError[] = [];
  const warnings: LoadWarning[] = [];
  const seen = new Map<string, ObjectSource>();
  for (const file of files) {
    const fileErrors: LoadError[] = [];
    loadFile(file, limits, defaultNamespace, objects, fileErrors, warnings, seen);
    if (fileErrors.length > MAX_ERRORS_PER_FILE) {
      const rest = fileErrors.length - MAX_ERRORS_PER_FILE;
      const last = fileErrors[MAX_ERRORS_PER_FILE];
      fileErrors.length = MAX_ERRORS_PER_FILE;
      fileErrors.push({ file: file.path, line: last.line, column: last.column, message: `and ${rest} more errors in this file` });
    }
    errors.push(...fileErrors);
  }
  return { objects, errors, warnings };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Per-file state while loading. */
interface FileContext {
  readonly file: string;
  readonly text: string;
  readonly lineCounter: LineCounter;
  readonly defaultNamespace: string;
  readonly objects: LoadedObject[];
  readonly errors: LoadError[];
  readonly warnings: LoadWarning[];
  readonly seen: Map<string, ObjectSource>;
}

function at(ctx: FileContext, offset: number): Position {
  const { line, col } = ctx.lineCounter.linePos(offset);
  return { line, column: col };
}

function addError(ctx: FileContext, pos: Position, message: string): void {
  ctx.errors.push({ file: ctx.file, line: pos.line, column: pos.column, message });
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MiB`;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function loadFile(
  file: ManifestFile,
  limits: Required<Omit<LoadOptions, "defaultNamespace">>,
  defaultNamespace: string,
  objects: LoadedObject[],
  errors: LoadError[],
  warnings: LoadWarning[],
  seen: Map<string, ObjectSource>,
): void {
  const bytes = typeof file.content === "string" ? Buffer.byteLength(file.content) : file.content.byteLength;
  const fileError = (message: string) => errors.push({ file: file.path, line: 1, column: 1, message });
  if (bytes > limits.maxFileBytes) {
    fileError(`the file is ${mib(bytes)}, more than the limit of ${mib(limits.maxFileBytes)} (maxFileBytes ${limits.maxFileBytes}) per file: split it into several files`);
    return;
  }
  let text: string;
  try {
    text = typeof file.content === "string" ? file.content : utf8.decode(file.content);
  } catch {
    fileError("the file is not UTF-8 text: manifests must be UTF-8 YAML or JSON (is it a binary file? list it in .kubelingsignore)");
    return;
  }
  const json = file.path.endsWith(".json");
  const { docs, lineCounter, limitHit } = parseStream(text, json, limits);
  const ctx: FileContext = { file: file.path, text, lineCounter, defaultNamespace, objects, errors, warnings, seen };
  docs.forEach((doc, index) => loadDocument(ctx, doc, index, limits.maxAliasCount));
  if (limitHit?.limit === "maxDocuments") {
    addError(ctx, at(ctx, limitHit.offset), `more than ${limits.maxDocuments} YAML documents in one file (the limit, maxDocuments, is ${limits.maxDocuments}): split it into several files; the rest of the file was not read`);
  } else if (limitHit?.limit === "maxDepth") {
    addError(
      ctx,
      at(ctx, limitHit.offset),
      `mappings and lists nested more than ${limits.maxDepth} levels deep (the limit, maxDepth, is ${limits.maxDepth}): no Kubernetes object needs this; the rest of the file was not read`,
    );
  }
}

function looksLikeTemplate(ctx: FileContext, doc: Document.Parsed): boolean {
  return ctx.text.slice(doc.range[0], doc.range[2]).includes("{{");
}

/** The message of a YAML syntax error, in the learner's terms. */
function syntaxMessage(ctx: FileContext, e: YAMLError): string {
  const message = e.message.replace(/\s+at line \d+, column \d+:[\s\S]*$/, "");
  const hint = e.code === "TAB_AS_INDENT" ? " (indent YAML with spaces, never tabs)" : "";
  return `invalid ${ctx.file.endsWith(".json") ? "JSON" : "YAML"}: ${message}${hint}`;
}

function isEmptyDocument(doc: Document.Parsed): boolean {
  const contents = doc.contents;
  return contents === null || (isScalar(contents) && contents.value === null && !contents.tag);
}

/** A mapping key that cannot be a JSON object key: where, what it is, and the text of the mapping holding it. */
interface BadKey {
  offset: number;
  what: string;
  /** Where the mapping holding the key starts and ends (its text is `{{cell}}` for a template placeholder). */
  mappingRange: readonly [number, number];
}

/** A key set twice in one mapping. */
interface DuplicateKey {
  offset: number;
  firstOffset: number;
  key: string;
}

/**
 * Walks the document's mappings: keys that cannot be JSON object keys (mappings, lists, null)
 * and keys set twice, in document order, and whether the document has aliases.
 */
function inspectKeys(doc: Document.Parsed): { badKeys: BadKey[]; duplicates: DuplicateKey[]; hasAlias: boolean } {
  const stack: unknown[] = [doc.contents];
  const badKeys: BadKey[] = [];
  const duplicates: DuplicateKey[] = [];
  let hasAlias = false;
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) hasAlias = true;
    else if (isMap(node)) {
      const mappingRange = [node.range?.[0] ?? 0, node.range?.[1] ?? 0] as const;
      const seen = new Map<string, number>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        if (isMap(key) || isSeq(key)) badKeys.push({ offset: key.range?.[0] ?? 0, what: isMap(key) ? "a mapping" : "a list", mappingRange });
        else if (key === null || (isScalar(key) && key.value === null)) {
          badKeys.push({ offset: key?.range?.[0] ?? (pair.value as Node | null)?.range?.[0] ?? doc.range[0], what: "empty (null)", mappingRange });
        } else if (isAlias(key)) hasAlias = true;
        else if (isScalar(key) && key.value !== "<<") {
          // Keys compare as the JSON keys they become: YAML 1.1 `on` and `true` are both "true".
          const text = String(key.value);
          const offset = key.range?.[0] ?? 0;
          const first = seen.get(text);
          if (first === undefined) seen.set(text, offset);
          else duplicates.push({ offset, firstOffset: first, key: text });
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) stack.push(...node.items);
  }
  return { badKeys: badKeys.sort((a, b) => a.offset - b.offset), duplicates: duplicates.sort((a, b) => a.offset - b.offset), hasAlias };
}

/** Path segments of a field path: `a.b[0].c`, `metadata.labels[app.kubernetes.io/name]`, or a JSON pointer `/a/b/0`. */
function parseFieldPath(fieldPath: string): string[] {
  if (fieldPath.startsWith("/")) {
    return fieldPath
      .slice(1)
      .split("/")
      .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  }
  const segments: string[] = [];
  let current = "";
  for (let i = 0; i < fieldPath.length; i++) {
    const c = fieldPath[i];
    if (c === ".") {
      if (current) segments.push(current);
      current = "";
    } else if (c === "[") {
      if (current) segments.push(current);
      current = "";
      const close = fieldPath.indexOf("]", i + 1);
      const end = close < 0 ? fieldPath.length : close;
      segments.push(fieldPath.slice(i + 1, end));
      i = end;
    } else current += c;
  }
  if (current) segments.push(current);
  return segments;
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/** The offset of the node at `segments` under `root`, or of its nearest existing ancestor. */
function offsetOf(ref: NodeRef, segments: readonly string[]): number {
  let node: unknown = ref.root;
  let best = ref.root.range?.[0] ?? 0;
  for (const segment of segments) {
    if (isAlias(node)) node = node.resolve(ref.doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === segment);
      if (!pair) break;
      best = (pair.key as Node).range?.[0] ?? best;
      node = pair.value;
    } else if (isSeq(node) && /^\d+$/.test(segment)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!item) break;
      best = item.range?.[0] ?? best;
      node = item;
    } else break;
  }
  return best;
}

/**
 * The position of a field of a loaded object in its file: `spec.template.spec.containers[0].image`
 * (the Kubernetes field path style of `StatusCause.field`, map keys in brackets allowed) or a
 * JSON pointer (`/spec/replicas`, as in RFC 6902 operations). A map field points at its key, a
 * list item at its first character. A field that does not exist falls back to the nearest
 * ancestor that does, and an empty path (or a `source` copied away from its object) to the
 * object's start.
 */
export function locate(source: ObjectSource, fieldPath: string): Position {
  const ref = nodes.get(source);
  if (!ref) return { line: source.line, column: source.column };
  const { line, col } = ref.lineCounter.linePos(offsetOf(ref, parseFieldPath(fieldPath)));
  return { line, column: col };
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Uint8Array) return "binary data (!!binary)";
  if (value instanceof Set) return "a set (!!set)";
  if (value instanceof Map) return "an ordered map (!!omap)";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)})`;
  return `a ${typeof value} (${String(value)})`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** A value met while walking a document, with the way back to the root (paths are built only for the one reported). */
interface Visit {
  readonly value: unknown;
  readonly key: string;
  readonly parent: Visit | undefined;
}

function pathOf(visit: Visit): string[] {
  const path: string[] = [];
  for (let v: Visit | undefined = visit; v?.parent; v = v.parent) path.push(v.key);
  return path.reverse();
}

/** First value that JSON (and so the API) cannot carry: not-finite numbers, binary, sets, ordered maps. */
function findNonJson(value: unknown): { path: string[]; what: string } | undefined {
  const stack: Visit[] = [{ value, key: "", parent: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const v = visit.value;
    if (typeof v === "number" && !Number.isFinite(v)) return { path: pathOf(visit), what: `${v} (.inf or .nan)` };
    if (Array.isArray(v)) v.forEach((item, i) => stack.push({ value: item, key: String(i), parent: visit }));
    else if (isPlainObject(v)) for (const k of Object.keys(v)) stack.push({ value: v[k], key: k, parent: visit });
    else if (typeof v === "object" && v !== null) return { path: pathOf(visit), what: typeName(v) };
  }
  return undefined;
}

function loadDocument(ctx: FileContext, doc: Document.Parsed, index: number, maxAliasCount: number): void {
  const docStart = at(ctx, doc.contents?.range?.[0] ?? doc.range[0]);
  for (const w of doc.warnings) addWarning(ctx, at(ctx, w.pos[0]), w.message);
  if (doc.errors.length > 0) {
    // Only the first syntax error of a document: the parser resynchronises badly after one, and
    // what follows is mostly an echo of it (kubectl, through go-yaml, stops at the first too).
    const [first] = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0]);
    const more = doc.errors.length > 1 ? ` (and ${doc.errors.length - 1} more after it, often caused by this one)` : "";
    const template = looksLikeTemplate(ctx, doc) ? `; ${TEMPLATE_HINT}` : "";
    addError(ctx, at(ctx, first.pos[0]), syntaxMessage(ctx, first) + more + template);
    return;
  }
  if (isEmptyDocument(doc)) return;
  const { badKeys, duplicates, hasAlias } = inspectKeys(doc);
  for (const d of duplicates) {
    // kubectl has read duplicates both ways over the years (last one wins with go-yaml v2's lenient
    // decoding, kubernetes/kubernetes#99286; "mapping key already defined" with strict decoding);
    // keeping one silently hides a mistake such as two `env:` blocks, so it is an error here.
    const firstLine = at(ctx, d.firstOffset).line;
    addError(ctx, at(ctx, d.offset), `mapping key ${JSON.stringify(d.key)} already defined at line ${firstLine}: a key can appear once per mapping, keep one of them`);
  }
  if (duplicates.length > 0) return;
  if (badKeys.length > 0) {
    // sigs.k8s.io/yaml refuses these too: JSON object keys are strings ("Unsupported map key").
    // One error per document: a template has many placeholders and one message says it all.
    const [first] = badKeys;
    const more = badKeys.length > 1 ? ` (${badKeys.length - 1} more such key${badKeys.length > 2 ? "s" : ""} in this document)` : "";
    if (looksLikeTemplate(ctx, doc)) {
      const text = JSON.stringify(ctx.text.slice(first.mappingRange[0], first.mappingRange[1]).split("\n", 1)[0]);
      addError(ctx, at(ctx, first.mappingRange[0]), `${text} is not plain YAML: it reads as a mapping whose key is ${first.what}${more}; ${TEMPLATE_HINT}`);
    } else {
      addError(ctx, at(ctx, first.offset), `a mapping key is ${first.what}${more}: keys must be strings, numbers or booleans`);
    }
    return;
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount });
  } catch (err) {
    const alias = firstAliasOffset(doc);
    const pos = alias === undefined ? docStart : at(ctx, alias);
    if (err instanceof ReferenceError && /alias/i.test(err.message)) {
      addError(ctx, pos, `aliases expand to too much data (the limit, maxAliasCount, is ${maxAliasCount}): this protects against "billion laughs" alias bombs; write the values out instead`);
    } else {
      addError(ctx, pos, `cannot read this document: ${(err as Error).message}`);
    }
    return;
  }
  const bad = findNonJson(value);
  if (bad) {
    const ref: NodeRef = { root: doc.contents as Node, doc, lineCounter: ctx.lineCounter };
    addError(ctx, at(ctx, offsetOf(ref, bad.path)), `${bad.path.join(".") || "the document"}: ${bad.what} cannot be written as JSON, so the API cannot accept it`);
    return;
  }
  // An alias makes toJS share one JS object between places; copy so each place is its own value.
  if (hasAlias) value = JSON.parse(JSON.stringify(value));
  if (!isPlainObject(value)) {
    const template = looksLikeTemplate(ctx, doc);
    const what = Array.isArray(value)
      ? "a list: put several objects in separate documents (separated by ---), or in a `kind: List` with `items`"
      : `${typeName(value)}: a Kubernetes object is a mapping with apiVersion, kind and metadata`;
    addError(ctx, docStart, `the document is ${what}${template ? `; ${TEMPLATE_HINT}` : ""}`);
    return;
  }
  addObject(ctx, value, doc.contents as Node, doc, index, undefined);
}

function firstAliasOffset(doc: Document.Parsed): number | undefined {
  const stack: unknown[] = [doc.contents];
  let first: number | undefined;
  while (stack.length > 0) {
    const node = stack.pop();
    if (isAlias(node)) {
      const offset = node.range?.[0];
      if (offset !== undefined && (first === undefined || offset < first)) first = offset;
    } else if (isMap(node)) for (const pair of node.items) stack.push(pair.key, pair.value);
    else if (isSeq(node)) stack.push(...node.items);
  }
  return first;
}

function addWarning(ctx: FileContext, pos: Position, message: string): void {
  ctx.warnings.push({ file: ctx.file, line: pos.line, column: pos.column, message });
}

/** The scope of a kind: the registry entry for its version, else for any served version of the same group and kind. */
function namespacedOf(apiVersion: string, kind: string): boolean | undefined {
  const exact = tryKindFor(apiVersion, kind);
  if (exact) return exact.namespaced;
  const { group } = splitApiVersion(apiVersion);
  return KINDS.find((k) => k.group === group && k.kind === kind)?.namespaced;
}

function childNode(node: Node, doc: Document.Parsed, key: string): Node | undefined {
  const resolved = isAlias(node) ? node.resolve(doc) : node;
  if (!isMap(resolved)) return undefined;
  const pair = resolved.items.find((p) => keyText(p.key) === key);
  return (pair?.value as Node | null) ?? undefined;
}

function addObject(ctx: FileContext, obj: Record<string, unknown>, node: Node, doc: Document.Parsed, documentIndex: number, item: string | undefined): void {
  const start = at(ctx, node.range?.[0] ?? doc.range[0]);
  const source: ObjectSource = { file: ctx.file, line: start.line, column: start.column, documentIndex, ...(item !== undefined ? { item } : {}) };
  const ref: NodeRef = { root: node, doc, lineCounter: ctx.lineCounter };
  nodes.set(source, ref);
  const where = (field: string) => locate(source, field);
  const fieldError = (field: string, message: string) => addError(ctx, where(field), message);

  const { apiVersion, kind } = obj;
  if (apiVersion === undefined || apiVersion === null || apiVersion === "" || kind === undefined || kind === null || kind === "") {
    const missing = [apiVersion ? undefined : "apiVersion", kind ? undefined : "kind"].filter(Boolean).join(" and ");
    const notManifest = !apiVersion && !kind ? "; if this file is not a Kubernetes manifest, list it in .kubelingsignore" : "";
    fieldError("", `${missing} not set: every object needs apiVersion and kind (for example apiVersion: apps/v1 and kind: Deployment)${notManifest}`);
    return;
  }
  if (typeof apiVersion !== "string") return fieldError("apiVersion", `apiVersion must be a string, got ${typeName(apiVersion)}`);
  if (typeof kind !== "string") return fieldError("kind", `kind must be a string, got ${typeName(kind)}`);

  if (kind.endsWith("List")) {
    unpackList(ctx, obj, node, doc, documentIndex, item ?? "", apiVersion, kind, fieldError);
    return;
  }

  const metadata = obj.metadata;
  if (metadata === undefined || metadata === null) return fieldError("", `metadata.name not set: every object needs a name (metadata: {name: ...})`);
  if (!isPlainObject(metadata)) return fieldError("metadata", `metadata must be a mapping, got ${typeName(metadata)}`);
  const { name, namespace, generateName } = metadata;
  if (name === undefined || name === null || name === "") {
    // kubectl apply refuses generateName ("cannot use generate name with apply"): a fresh name on
    // every sync would create a new object each time and never converge.
    if (generateName) return fieldError("metadata.generateName", `metadata.generateName cannot be used in a GitOps repository (kubectl apply refuses it too): set metadata.name`);
    return fieldError("metadata", `metadata.name not set: every object needs a name`);
  }
  if (typeof name !== "string") return fieldError("metadata.name", `metadata.name must be a string, got ${typeName(name)}: quote it`);
  if (namespace !== undefined && namespace !== null && typeof namespace !== "string") {
    return fieldError("metadata.namespace", `metadata.namespace must be a string, got ${typeName(namespace)}: quote it`);
  }

  const namespaced = namespacedOf(apiVersion, kind);
  const object = obj as unknown as KubeObject;
  if (namespaced === true && !namespace) {
    object.metadata.namespace = ctx.defaultNamespace;
  } else if (namespaced === false && namespace !== undefined) {
    // The API server clears the namespace of a cluster-scoped object instead of refusing it.
    delete object.metadata.namespace;
    if (namespace) addWarning(ctx, where("metadata.namespace"), `metadata.namespace "${namespace}" is ignored: ${kind} is cluster-scoped (the API server clears it too)`);
  }

  const ns = object.metadata.namespace ?? "";
  const key = `${splitApiVersion(apiVersion).group}/${kind}/${ns}/${name}`;
  const first = ctx.seen.get(key);
  if (first) {
    const here = `${ctx.file}:${source.line}:${source.column}`;
    const there = `${first.file}:${first.line}:${first.column}`;
    addError(ctx, start, `${there} and ${here} both define ${kind} ${ns ? `${ns}/` : ""}${name}: keep one of them`);
    return;
  }
  ctx.seen.set(key, source);
  ctx.objects.push({ object, source });
}

/**
 * Unpacks a `List` or `<Kind>List`. Items that set neither apiVersion nor kind take the list's
 * apiVersion and the kind without `List`, as apimachinery's unstructured list decoding does
 * (`unstructuredJSONScheme.decodeToList`); nested lists are flattened, as kubectl's
 * `FlattenListVisitor` does.
 */
function unpackList(
  ctx: FileContext,
  list: Record<string, unknown>,
  node: Node,
  doc: Document.Parsed,
  documentIndex: number,
  prefix: string,
  apiVersion: string,
  kind: string,
  fieldError: (field: string, message: string) => void,
): void {
  const items = list.items;
  if (items === undefined || items === null) return;
  if (!Array.isArray(items)) return fieldError("items", `items of a ${kind} must be a list of objects, got ${typeName(items)}`);
  const itemsNode = childNode(node, doc, "items");
  const seqNode = itemsNode && isAlias(itemsNode) ? itemsNode.resolve(doc) : itemsNode;
  const itemKind = kind.slice(0, -"List".length);
  items.forEach((item, i) => {
    const itemNode = (isSeq(seqNode) ? (seqNode.items[i] as Node | undefined) : undefined) ?? node;
    const resolved = isAlias(itemNode) ? (itemNode.resolve(doc) ?? itemNode) : itemNode;
    const path = `${prefix ? `${prefix}.` : ""}items[${i}]`;
    if (!isPlainObject(item)) {
      const { line, col } = ctx.lineCounter.linePos(itemNode.range?.[0] ?? 0);
      addError(ctx, { line, column: col }, `${path} must be an object (a mapping), got ${typeName(item)}`);
      return;
    }
    if (itemKind && item.apiVersion === undefined && item.kind === undefined) {
      item.apiVersion = apiVersion;
      item.kind = itemKind;
    }
    addObject(ctx, item, resolved as Node, doc, documentIndex, path);
  });
}

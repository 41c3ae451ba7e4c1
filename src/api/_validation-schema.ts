/**
 * Structural checks against the Kubernetes OpenAPI schema, as the kube-apiserver's decoder
 * applies them before any validation runs:
 *
 * - wrong JSON types (`replicas: "three"`), out-of-range integers, malformed quantities and
 *   base64: upstream these fail JSON decoding and the request is refused with 400 BadRequest
 *   (`Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal ...`);
 * - unknown fields (`replica:`): with `fieldValidation=Strict`, which kubectl 1.32 sends by default,
 *   they fail decoding too (`strict decoding error: unknown field "spec.replica"`); with `Warn` they
 *   become warnings and with `Ignore` they are dropped silently.
 *
 * The schema is the one shipped in `kubernetes-models` (generated from the Kubernetes OpenAPI
 * document, validated by compiled ajv code). The model class of a kind is loaded lazily, the
 * first time an object of that kind is checked, so process start stays fast.
 *
 * The compiled validators carry no property lists we could read, so unknown fields are found by
 * watching the validator: it looks up every property its schema declares (`data.replicas`,
 * `data.selector`, ...), and walks the keys of maps (`labels`, `resources.limits`). A key of a
 * structured object that the validator never looked up is a key the schema does not declare.
 * Objects the validator never looks inside at all are free-form (`RawExtension`, `FieldsV1`).
 */
import { createRequire } from "node:module";
import type { KindInfo } from "./kinds.js";
import { typeInvalid, invalid } from "./_validation-field.js";
import type { StatusCause } from "./types.js";

const requireCjs = createRequire(import.meta.url);

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, any>;
}

type ValidateMethod = (this: unknown) => void;

const modelCache = new Map<string, ValidateMethod | null>();

/** Module path of the kubernetes-models class for a kind (`kubernetes-models/apps/v1/Deployment`). */
function modelPath(info: KindInfo): string {
  return info.group ? `kubernetes-models/${info.group}/${info.version}/${info.kind}` : `kubernetes-models/${info.version}/${info.kind}`;
}

/** The model's `validate` method, loaded on first use and cached; null when the package has no model. */
function validatorFor(info: KindInfo): ValidateMethod | null {
  const key = `${info.apiVersion}/${info.kind}`;
  if (modelCache.has(key)) return modelCache.get(key) ?? null;
  let fn: ValidateMethod | null = null;
  try {
    const mod = requireCjs(modelPath(info)) as Record<string, any>;
    const cls = mod[info.kind];
    if (cls && typeof cls.prototype?.validate === "function") fn = cls.prototype.validate as ValidateMethod;
  } catch {
    fn = null;
  }
  modelCache.set(key, fn);
  return fn;
}

/** True when kubernetes-models ships a schema for the kind (every kind in kinds.ts has one). */
export function hasSchema(info: KindInfo): boolean {
  return validatorFor(info) !== null;
}

/** What the validator did with one object: the keys it looked up, and whether it walked all keys. */
interface Seen {
  accessed: Set<string>;
  enumerated: boolean;
}

/** Wraps a JSON tree in proxies that record property lookups (the input must not be frozen). */
function instrument(root: unknown, seen: WeakMap<object, Seen>): unknown {
  const proxies = new WeakMap<object, unknown>();
  const wrap = (value: unknown): unknown => {
    if (value === null || typeof value !== "object") return value;
    const target = value as object;
    const existing = proxies.get(target);
    if (existing) return existing;
    let info = seen.get(target);
    if (!info) {
      info = { accessed: new Set(), enumerated: false };
      seen.set(target, info);
    }
    const rec = info;
    const isArray = Array.isArray(target);
    const proxy = new Proxy(target, {
      get(t, prop, receiver) {
        if (typeof prop === "string" && !isArray) rec.accessed.add(prop);
        return wrap(Reflect.get(t, prop, receiver));
      },
      has(t, prop) {
        if (typeof prop === "string" && !isArray) rec.accessed.add(prop);
        return Reflect.has(t, prop);
      },
      ownKeys(t) {
        rec.enumerated = true;
        return Reflect.ownKeys(t);
      },
    });
    proxies.set(target, proxy);
    return proxy;
  };
  return wrap(root);
}

/** One decode-level problem: a cause for the field, and the decoder's wording for the 400 message. */
export interface DecodeIssue {
  readonly cause: StatusCause;
  readonly decodeDetail: string;
}

/** An unknown field: its path, and where it sits so that it can be pruned. */
export interface UnknownField {
  readonly path: string;
  readonly parent: Record<string, unknown>;
  readonly key: string;
}

/** The result of a schema check. */
export interface SchemaResult {
  /** Wrong types, bad quantities, bad base64, bad timestamps. */
  readonly issues: DecodeIssue[];
  /** Fields the schema does not declare, in document order. */
  readonly unknownFields: UnknownField[];
}

function jsonTypeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

/** Go's name for what it found when `encoding/json` refuses a value (`string`, `number 2.5`, `bool`, ...). */
function goGot(v: unknown): string {
  if (typeof v === "number") return `number ${v}`;
  return jsonTypeOf(v);
}

const QUANTITY_RULE = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** Offset Go's base64 decoder reports for the first problem in `s` (`illegal base64 data at input byte N`). */
function base64ErrorOffset(s: string): number {
  const bad = s.search(/[^A-Za-z0-9+/=]/);
  if (bad >= 0) return bad;
  const pad = s.indexOf("=");
  if (pad >= 0 && pad < s.length - 2) return pad;
  return s.length - (s.length % 4);
}

/**
 * What the validator of one kind did at one place of the objects it checked, learnt from
 * instrumented runs (see `learnShape`): `struct` objects have their keys looked up (`keys`, the
 * same set on every run, since ajv looks up every declared property whether present or not),
 * `map` objects have their keys walked, `free` objects are never looked into, `unseen` objects
 * sit under a free-form value, `array` holds elements. A place seen behaving two ways is
 * `unstable` and always goes through the instrumented check.
 */
interface Shape {
  mode?: "struct" | "map" | "free" | "unseen" | "array" | "unstable";
  keys?: ReadonlySet<string>;
  /** struct: per key; map: under "*"; array: under "[]". */
  readonly children: Map<string, Shape>;
}

/** Learnt shapes per validator. */
const shapes = new WeakMap<ValidateMethod, Shape>();

function newShape(): Shape {
  return { children: new Map() };
}

function child(shape: Shape, key: string): Shape {
  let c = shape.children.get(key);
  if (!c) shape.children.set(key, (c = newShape()));
  return c;
}

function sameKeys(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a) if (!b.has(k)) return false;
  return true;
}

/** Records what an instrumented run that raised no ajv error did with each object of `value`. */
function learnShape(value: unknown, shape: Shape, seen: WeakMap<object, Seen>): void {
  if (value === null || typeof value !== "object" || shape.mode === "unstable") return;
  let mode: NonNullable<Shape["mode"]>;
  const info = Array.isArray(value) ? undefined : seen.get(value);
  if (Array.isArray(value)) mode = "array";
  else if (!info) mode = "unseen";
  else if (info.enumerated) mode = "map";
  else if (info.accessed.size === 0) mode = "free";
  else mode = "struct";
  if (shape.mode === undefined) {
    shape.mode = mode;
    if (mode === "struct") shape.keys = new Set(info!.accessed);
  } else if (shape.mode !== mode || (mode === "struct" && !sameKeys(shape.keys!, info!.accessed))) {
    shape.mode = "unstable";
    shape.children.clear();
    return;
  }
  if (mode === "array") {
    for (const el of value as unknown[]) learnShape(el, child(shape, "[]"), seen);
  } else if (mode === "map") {
    for (const k of Object.keys(value)) learnShape((value as Record<string, unknown>)[k], child(shape, "*"), seen);
  } else if (mode === "struct") {
    for (const k of Object.keys(value)) if (info!.accessed.has(k)) learnShape((value as Record<string, unknown>)[k], child(shape, k), seen);
  }
}

/**
 * True when `value` has no key where the learnt shapes put none and meets only places already
 * learnt: then the instrumented run would find no unknown field, and an ajv run with no error
 * proves there is no decode issue either.
 */
function fitsShape(value: unknown, shape: Shape | undefined): boolean {
  if (value === null || typeof value !== "object") return true;
  if (!shape) return false;
  switch (shape.mode) {
    case "array":
      if (!Array.isArray(value)) return false;
      for (const el of value) if (!fitsShape(el, shape.children.get("[]"))) return false;
      return true;
    case "map":
      if (Array.isArray(value)) return false;
      for (const k of Object.keys(value)) if (!fitsShape((value as Record<string, unknown>)[k], shape.children.get("*"))) return false;
      return true;
    case "struct":
      if (Array.isArray(value)) return false;
      for (const k of Object.keys(value)) {
        if (!shape.keys!.has(k) || !fitsShape((value as Record<string, unknown>)[k], shape.children.get(k))) return false;
      }
      return true;
    case "free":
    case "unseen":
      return !Array.isArray(value);
    default:
      return false;
  }
}

/**
 * Checks `obj` against the schema of its kind. The object is read, never changed (it is copied
 * first when frozen). Kinds without a model in kubernetes-models are not checked.
 *
 * Watching the validator through proxies costs about ten times a plain run, and nearly every
 * object the cluster's own components write is clean. So the plain validator runs first: when
 * it finds nothing and every key of the object sits where earlier instrumented runs of the kind
 * saw the validator look (`fitsShape`), the result is known to be clean. Anything else (an
 * error, a key never seen there) takes the instrumented run, which also teaches the shapes.
 */
export function checkSchema(obj: unknown, info: KindInfo): SchemaResult {
  const fn = validatorFor(info);
  if (!fn) return { issues: [], unknownFields: [] };
  const target = Object.isFrozen(obj) ? structuredClone(obj) : obj;
  let shape = shapes.get(fn);
  if (!shape) shapes.set(fn, (shape = newShape()));
  if (shape.mode !== undefined && fitsShape(target, shape) && plainRunPasses(fn, target)) return { issues: [], unknownFields: [] };
  return watchedCheck(fn, target, shape);
}

/**
 * `checkSchema` always through the instrumented run, never the learnt shortcut: the reference
 * the shortcut must agree with (tests compare the two). Learns like `checkSchema`.
 */
export function checkSchemaWatched(obj: unknown, info: KindInfo): SchemaResult {
  const fn = validatorFor(info);
  if (!fn) return { issues: [], unknownFields: [] };
  const target = Object.isFrozen(obj) ? structuredClone(obj) : obj;
  let shape = shapes.get(fn);
  if (!shape) shapes.set(fn, (shape = newShape()));
  return watchedCheck(fn, target, shape);
}

function watchedCheck(fn: ValidateMethod, target: unknown, shape: Shape): SchemaResult {
  const seen = new WeakMap<object, Seen>();
  let errors: AjvError[] = [];
  try {
    fn.call(instrument(target, seen));
  } catch (err) {
    const list = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(list)) throw err;
    errors = list;
  }
  // Only a run without any ajv error looked everywhere it would look (ajv stops at the first error).
  if (errors.length === 0) learnShape(target, shape, seen);
  return { issues: toIssues(errors, target, seen), unknownFields: findUnknown(target, seen) };
}

/** Runs the validator on the object itself; false when it reports any error. */
function plainRunPasses(fn: ValidateMethod, target: unknown): boolean {
  try {
    fn.call(target);
    return true;
  } catch (err) {
    if (!Array.isArray((err as { errors?: unknown }).errors)) throw err;
    return false;
  }
}

/** Resolves a JSON pointer against the document, building the Kubernetes field path on the way. */
function resolvePointer(root: unknown, pointer: string, seen: WeakMap<object, Seen>): { path: string; value: unknown } {
  let path = "";
  let cur: any = root;
  if (!pointer) return { path, value: cur };
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(cur)) {
      path += `[${seg}]`;
    } else if (cur !== null && typeof cur === "object" && seen.get(cur)?.enumerated) {
      path += `[${seg}]`;
    } else {
      path += path ? `.${seg}` : seg;
    }
    cur = cur?.[seg];
  }
  return { path, value: cur };
}

function toIssues(errors: AjvError[], root: unknown, seen: WeakMap<object, Seen>): DecodeIssue[] {
  // Group by location: a oneOf (IntOrString, Quantity) reports one error per branch plus its own.
  const byPath = new Map<string, AjvError[]>();
  for (const e of errors) {
    // `required` is not a decoding rule upstream (absent fields decode to zero values and the
    // hand-written validation decides); `enum` only pins apiVersion/kind, already resolved.
    if (e.keyword === "required" || e.keyword === "enum") continue;
    const list = byPath.get(e.instancePath) ?? [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const issues: DecodeIssue[] = [];
  for (const [pointer, errs] of byPath) {
    const { path, value } = resolvePointer(root, pointer, seen);
    const formats = errs.filter((e) => e.keyword === "format").map((e) => String(e.params.format));
    const types = errs.filter((e) => e.keyword === "type").map((e) => String(e.params.type));
    const isOneOf = errs.some((e) => e.keyword === "oneOf");
    let detail: string;
    let decode: string;
    let cause: StatusCause;
    if (formats.includes("quantity") && typeof value === "string") {
      detail = QUANTITY_RULE;
      decode = QUANTITY_RULE;
      cause = invalid(path, value, detail);
    } else if (formats.includes("byte") && typeof value === "string") {
      const offset = base64ErrorOffset(value);
      // The value is not echoed, as Go's decoder does not: it is often a plain-text secret put in
      // `data` by mistake, and Secret values are never printed.
      detail = `illegal base64 data at input byte ${offset}`;
      decode = detail;
      cause = { reason: "FieldValueInvalid", field: path, message: `Invalid value: (not shown): ${detail}: values under data must be base64; write plain text under stringData instead` };
    } else if (formats.includes("date-time") && typeof value === "string") {
      detail = `expected an RFC 3339 time such as "2006-01-02T15:04:05Z"`;
      decode = `parsing time ${JSON.stringify(value)} as "2006-01-02T15:04:05Z07:00": cannot parse ${JSON.stringify(value)}`;
      cause = invalid(path, value, detail);
    } else if ((formats.includes("int32") || formats.includes("int64")) && typeof value === "number" && types.length === 0) {
      const bits = formats.includes("int32") ? "int32" : "int64";
      detail = `expected ${bits}, got a number out of its range`;
      decode = `json: cannot unmarshal number ${value} into Go struct field ${path} of type ${bits}`;
      cause = typeInvalid(path, value, detail);
    } else {
      let expected: string;
      if (isOneOf && types.includes("number") && types.includes("string")) expected = "quantity (a string like \"500m\" or a number)";
      else if (isOneOf && types.includes("integer") && types.includes("string")) expected = "integer or string";
      else expected = types[0] ?? "another type";
      const got = jsonTypeOf(value);
      detail = `expected ${expected}, got ${got}`;
      decode = `json: cannot unmarshal ${goGot(value)} into Go struct field ${path} of type ${types[0] === "boolean" ? "bool" : expected}`;
      cause = typeInvalid(path, value, detail);
    }
    issues.push({ cause, decodeDetail: decode });
  }
  return issues;
}

function findUnknown(root: unknown, seen: WeakMap<object, Seen>): UnknownField[] {
  const out: UnknownField[] = [];
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((el, i) => visit(el, `${path}[${i}]`));
      return;
    }
    if (value === null || typeof value !== "object") return;
    const rec = value as Record<string, unknown>;
    const info = seen.get(rec);
    if (!info) return; // never reached: under a type error
    if (info.enumerated) {
      for (const k of Object.keys(rec)) visit(rec[k], `${path}[${k}]`);
      return;
    }
    if (info.accessed.size === 0) return; // free-form (RawExtension, FieldsV1)
    for (const k of Object.keys(rec)) {
      const childPath = path ? `${path}.${k}` : k;
      if (!info.accessed.has(k)) out.push({ path: childPath, parent: rec, key: k });
      else visit(rec[k], childPath);
    }
  };
  visit(root, "");
  return out;
}

/**
 * The message of the 400 BadRequest the kube-apiserver returns when decoding fails:
 * `Deployment in version "v1" cannot be handled as a Deployment: <detail>`. Type problems come
 * first (the JSON decoder stops at the first one); unknown fields are listed together, as strict
 * decoding does. Returns undefined when nothing fails to decode.
 */
export function decodeFailureMessage(kind: string, version: string, issues: readonly DecodeIssue[], unknown: readonly string[]): string | undefined {
  let detail: string | undefined;
  if (issues.length > 0) detail = issues[0].decodeDetail;
  else if (unknown.length > 0) detail = `strict decoding error: ${unknown.map((p) => `unknown field "${p}"`).join(", ")}`;
  if (detail === undefined) return undefined;
  return `${kind} in version "${version}" cannot be handled as a ${kind}: ${detail}`;
}


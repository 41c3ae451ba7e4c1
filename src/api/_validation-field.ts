/**
 * Field paths and field errors, mirroring apimachinery's `pkg/util/validation/field` package:
 * a cause's `field` is the path (`spec.template.spec.containers[0].image`, map keys as
 * `[key]`), its `reason` the `ErrorType` and its `message` what `ErrorBody()` prints.
 */
import type { StatusCause } from "./types.js";

/** A field path under construction (`field.Path`). Immutable: every step returns a new path. */
export class FieldPath {
  private constructor(private readonly text: string) {}

  /** The root of a path, e.g. `FieldPath.root("spec")`. */
  static root(...names: string[]): FieldPath {
    return new FieldPath(names.join("."));
  }

  /** `path.child("a", "b")` → `path.a.b`. */
  child(...names: string[]): FieldPath {
    let t = this.text;
    for (const n of names) t = t ? `${t}.${n}` : n;
    return new FieldPath(t);
  }

  /** `path.index(0)` → `path[0]`. */
  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  /** `path.key("app")` → `path[app]` (map entries). */
  key(k: string): FieldPath {
    return new FieldPath(`${this.text}[${k}]`);
  }

  toString(): string {
    return this.text;
  }
}

/** Upstream `field.ErrorType` values, used as `StatusCause.reason`. */
export const Reason = {
  Required: "FieldValueRequired",
  Invalid: "FieldValueInvalid",
  NotSupported: "FieldValueNotSupported",
  Duplicate: "FieldValueDuplicate",
  Forbidden: "FieldValueForbidden",
  TooLong: "FieldValueTooLong",
  TooMany: "FieldValueTooMany",
  NotFound: "FieldValueNotFound",
  TypeInvalid: "FieldValueTypeInvalid",
  /**
   * Not an upstream `ErrorType`: the kube-apiserver reports unknown fields only inside the
   * `strict decoding error` message. kubelings gives each one a cause so tools can point at it.
   */
  Unknown: "FieldValueUnknown",
} as const;

/**
 * Formats a bad value like `ErrorBody()`: strings quoted as Go's `%q`, numbers and booleans
 * bare, null as `null`, anything else as JSON (upstream prints Go's `%#v`, which has no JSON
 * equivalent; JSON is what a YAML author recognises).
 */
export function formatValue(value: unknown): string {
  if (value instanceof GoValue) return value.text;
  if (value === null || value === undefined) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/**
 * A value printed the way Go's `%#v` prints it in upstream messages, for the few messages every
 * Kubernetes user knows by heart (`Invalid value: map[string]string{"app":"web"}: ...`).
 */
export class GoValue {
  constructor(readonly text: string) {}
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** `map[string]string{"a":"b"}` (keys sorted, as fmt prints maps). */
export function goStringMap(m: unknown): GoValue {
  if (!isObj(m)) return new GoValue("map[string]string(nil)");
  const keys = Object.keys(m).sort();
  return new GoValue(`map[string]string{${keys.map((k) => `${goQuote(k)}:${goQuote(str(m[k]))}`).join(", ")}}`);
}

/** `[]string{"a", "b"}`. */
export function goStringSlice(list: unknown): GoValue {
  if (!Array.isArray(list)) return new GoValue("[]string(nil)");
  return new GoValue(`[]string{${list.map((v) => goQuote(str(v))).join(", ")}}`);
}

/** A `metav1.LabelSelector` as `%#v` prints it. */
export function goLabelSelector(sel: unknown): GoValue {
  if (!isObj(sel)) return new GoValue("(*v1.LabelSelector)(nil)");
  const ml = isObj(sel.matchLabels) ? goStringMap(sel.matchLabels).text : "map[string]string(nil)";
  const exprs = Array.isArray(sel.matchExpressions) && sel.matchExpressions.length > 0
    ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions
        .map((e: any) => `v1.LabelSelectorRequirement{Key:${goQuote(str(e?.key))}, Operator:${goQuote(str(e?.operator))}, Values:${goStringSlice(e?.values).text}}`)
        .join(", ")}}`
    : "[]v1.LabelSelectorRequirement(nil)";
  return new GoValue(`v1.LabelSelector{MatchLabels:${ml}, MatchExpressions:${exprs}}`);
}

function cause(reason: string, path: FieldPath | string, message: string): StatusCause {
  return { reason, message, field: String(path) };
}

function withDetail(head: string, detail?: string): string {
  return detail ? `${head}: ${detail}` : head;
}

/** `field.Required`: `Required value[: detail]`. */
export function required(path: FieldPath | string, detail = ""): StatusCause {
  return cause(Reason.Required, path, withDetail("Required value", detail));
}

/** `field.Invalid`: `Invalid value: <value>: detail`. */
export function invalid(path: FieldPath | string, value: unknown, detail: string): StatusCause {
  return cause(Reason.Invalid, path, withDetail(`Invalid value: ${formatValue(value)}`, detail));
}

/** `field.NotSupported`: `Unsupported value: <value>: supported values: "A", "B"`. */
export function notSupported(path: FieldPath | string, value: unknown, valid: readonly string[]): StatusCause {
  const detail = valid.length > 0 ? `supported values: ${valid.map((v) => JSON.stringify(v)).join(", ")}` : "";
  return cause(Reason.NotSupported, path, withDetail(`Unsupported value: ${formatValue(value)}`, detail));
}

/** `field.Duplicate`: `Duplicate value: <value>`. */
export function duplicate(path: FieldPath | string, value: unknown): StatusCause {
  return cause(Reason.Duplicate, path, `Duplicate value: ${formatValue(value)}`);
}

/** `field.Forbidden`: `Forbidden: detail`. */
export function forbidden(path: FieldPath | string, detail: string): StatusCause {
  return cause(Reason.Forbidden, path, withDetail("Forbidden", detail));
}

/** `field.TooLong`: `Too long: must have at most N bytes` (the value is never echoed). */
export function tooLong(path: FieldPath | string, maxBytes: number): StatusCause {
  return cause(Reason.TooLong, path, `Too long: must have at most ${maxBytes} bytes`);
}

/** `field.NotFound`: `Not found: <value>`. */
export function notFound(path: FieldPath | string, value: unknown): StatusCause {
  return cause(Reason.NotFound, path, `Not found: ${formatValue(value)}`);
}

/** `field.TypeInvalid`: `Invalid value: <value>: detail` with reason FieldValueTypeInvalid. */
export function typeInvalid(path: FieldPath | string, value: unknown, detail: string): StatusCause {
  return cause(Reason.TypeInvalid, path, withDetail(`Invalid value: ${formatValue(value)}`, detail));
}

/** An unknown field, worded like strict decoding: `unknown field "spec.replica"`. */
export function unknownField(path: string): StatusCause {
  return cause(Reason.Unknown, path, `unknown field "${path}"`);
}

/** `apimachineryvalidation.ValidateNonnegativeField`. */
export function nonNegative(value: number | undefined, path: FieldPath): StatusCause[] {
  return value !== undefined && value < 0 ? [invalid(path, value, "must be greater than or equal to 0")] : [];
}

/** Builds one `Invalid value` cause per message (the upstream loop over `Is*` results). */
export function invalidEach(path: FieldPath | string, value: unknown, msgs: readonly string[]): StatusCause[] {
  return msgs.map((m) => invalid(path, value, m));
}

/** Narrowing helpers: the schema check has already rejected wrong JSON types, these keep the code total. */
export function isObj(v: unknown): v is Record<string, any> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The value as an array, or an empty one. */
export function arr(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

/** The value as an object, or an empty one. */
export function obj(v: unknown): Record<string, any> {
  return isObj(v) ? v : {};
}

/** The value as a string, or "". */
export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/**
 * Field selectors (`--field-selector`, `?fieldSelector=`), as `k8s.io/apimachinery/pkg/fields`
 * parses them and as the kube-apiserver checks and evaluates them per kind:
 * - syntax `field=value`, `field==value`, `field!=value`, joined by `,` (AND); `\`, `,` and `=`
 *   in a value are escaped with a backslash (`fields/selector.go`);
 * - each kind accepts only the fields its field label conversion function registers
 *   (`pkg/apis/core/v1/conversion.go`, `pkg/apis/batch/v1/conversion.go`,
 *   `pkg/apis/events/v1/conversion.go`); every other kind gets
 *   `runtime.DefaultMetaV1FieldSelectorConversion` (metadata.name and metadata.namespace only);
 * - an object's field values are computed as the registry's `ToSelectableFields` does
 *   (`pkg/registry/core/pod/strategy.go` and friends): booleans and counts become strings, a
 *   field the object lacks is "", and `metadata.namespace` exists only for namespaced kinds.
 * A selector is compiled once into a matcher over objects.
 */
import type { KubeObject } from "./types.js";
import { ApiError, badRequest } from "./errors.js";
import { KINDS, tryKindFor } from "./kinds.js";

/** One requirement: `field = value` or `field != value` (`==` is the same as `=`). */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: "=" | "!=";
  readonly value: string;
}

/** A compiled field selector for one kind. */
export interface FieldSelector {
  /** Requirements after field label conversion (e.g. Pod `spec.host` becomes `spec.nodeName`). */
  readonly requirements: readonly FieldRequirement[];
  /** True when the object satisfies every requirement. */
  matches(obj: KubeObject): boolean;
  /** True when the selector does not restrict anything. */
  empty(): boolean;
  /** Canonical form (upstream `String()`): terms sorted, values escaped. */
  toString(): string;
}

type Getter = (obj: KubeObject) => string;

/** How one kind's field labels are converted and evaluated. */
interface KindFields {
  /** Accepted label to the field it selects on (usually itself). */
  readonly labels: Readonly<Record<string, string>>;
  /** Field to its value on an object. */
  readonly values: Readonly<Record<string, Getter>>;
  /** Error message for an unsupported label. */
  readonly reject: (label: string) => string;
}

const str = (value: unknown): string => (value === undefined || value === null ? "" : String(value));

function at(obj: unknown, path: readonly string[]): unknown {
  let node = obj;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A getter for a dotted path, "" when absent. */
function path(dotted: string): Getter {
  const keys = dotted.split(".");
  return (obj) => str(at(obj, keys));
}

/** A getter for an integer status count: Go prints the zero value "0" when unset. */
function count(dotted: string): Getter {
  const keys = dotted.split(".");
  return (obj) => String(Number(at(obj, keys) ?? 0));
}

/** A getter for a boolean: Go's strconv.FormatBool / fmt.Sprint, "false" when unset. */
function bool(dotted: string): Getter {
  const keys = dotted.split(".");
  return (obj) => (at(obj, keys) === true ? "true" : "false");
}

/** Go `%q`, for the default conversion's message. */
const quote = (s: string) => JSON.stringify(s);

const FIELD_LABEL_NOT_SUPPORTED = (label: string) => `field label not supported: ${label}`;

/** `generic.ObjectMetaFieldsSet`: metadata.name, plus metadata.namespace for namespaced kinds. */
function objectMetaValues(namespaced: boolean): Record<string, Getter> {
  const values: Record<string, Getter> = { "metadata.name": path("metadata.name") };
  if (namespaced) values["metadata.namespace"] = path("metadata.namespace");
  return values;
}

function identity(...labels: string[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l, l]));
}

/** Core v1 Event selectable fields (`pkg/registry/core/event/strategy.go` ToSelectableFields). */
const CORE_EVENT_VALUES: Record<string, Getter> = {
  "involvedObject.kind": path("involvedObject.kind"),
  "involvedObject.namespace": path("involvedObject.namespace"),
  "involvedObject.name": path("involvedObject.name"),
  "involvedObject.uid": path("involvedObject.uid"),
  "involvedObject.apiVersion": path("involvedObject.apiVersion"),
  "involvedObject.resourceVersion": path("involvedObject.resourceVersion"),
  "involvedObject.fieldPath": path("involvedObject.fieldPath"),
  reason: path("reason"),
  reportingComponent: path("reportingComponent"),
  // The source component, or the reporting controller for events written by newer clients.
  source: (obj) => str(at(obj, ["source", "component"])) || str(obj.reportingComponent),
  type: path("type"),
};

/**
 * events.k8s.io/v1 Events. Upstream stores them as core Events and maps the new field names
 * onto the core ones; kubelings stores them as written, so the core field names are computed
 * from the events.k8s.io fields (`regarding`, `reportingController`, `deprecatedSource`).
 */
const EVENTS_V1_VALUES: Record<string, Getter> = {
  "involvedObject.kind": path("regarding.kind"),
  "involvedObject.namespace": path("regarding.namespace"),
  "involvedObject.name": path("regarding.name"),
  "involvedObject.uid": path("regarding.uid"),
  "involvedObject.apiVersion": path("regarding.apiVersion"),
  "involvedObject.resourceVersion": path("regarding.resourceVersion"),
  "involvedObject.fieldPath": path("regarding.fieldPath"),
  reason: path("reason"),
  reportingComponent: path("reportingController"),
  source: (obj) => str(at(obj, ["deprecatedSource", "component"])) || str(obj.reportingController),
  type: path("type"),
};

/** Kinds with their own field label conversion function, keyed `apiVersion/kind`. */
const SPECIAL: Readonly<Record<string, KindFields>> = {
  "v1/Pod": {
    labels: {
      ...identity(
        "metadata.name",
        "metadata.namespace",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
      ),
      // Backwards compatibility with old v1 clients which send spec.host.
      "spec.host": "spec.nodeName",
    },
    values: {
      ...objectMetaValues(true),
      "spec.nodeName": path("spec.nodeName"),
      "spec.restartPolicy": path("spec.restartPolicy"),
      "spec.schedulerName": path("spec.schedulerName"),
      "spec.serviceAccountName": path("spec.serviceAccountName"),
      "spec.hostNetwork": bool("spec.hostNetwork"),
      "status.phase": path("status.phase"),
      // The first pod IP (status.podIPs[0].ip), "" before one is assigned.
      "status.podIP": (obj) => str(at(obj, ["status", "podIPs", "0", "ip"])) || str(at(obj, ["status", "podIP"])),
      "status.nominatedNodeName": path("status.nominatedNodeName"),
      // Accepted by the conversion function but absent from ToSelectableFields: always "".
    },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
  "v1/Node": {
    labels: identity("metadata.name", "spec.unschedulable"),
    values: { ...objectMetaValues(false), "spec.unschedulable": bool("spec.unschedulable") },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
  "v1/ReplicationController": {
    labels: identity("metadata.name", "metadata.namespace", "status.replicas"),
    values: { ...objectMetaValues(true), "status.replicas": count("status.replicas") },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
  "v1/Event": {
    labels: identity("metadata.name", "metadata.namespace", ...Object.keys(CORE_EVENT_VALUES)),
    values: { ...objectMetaValues(true), ...CORE_EVENT_VALUES },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
  "v1/Namespace": {
    labels: identity("metadata.name", "status.phase"),
    values: { ...objectMetaValues(false), "status.phase": path("status.phase") },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
  "v1/Secret": {
    labels: identity("metadata.name", "metadata.namespace", "type"),
    values: { ...objectMetaValues(true), type: path("type") },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
  "v1/Service": {
    labels: identity("metadata.name", "metadata.namespace", "spec.clusterIP", "spec.type"),
    values: { ...objectMetaValues(true), "spec.clusterIP": path("spec.clusterIP"), "spec.type": path("spec.type") },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
  "batch/v1/Job": {
    labels: identity("metadata.name", "metadata.namespace", "status.successful"),
    values: { ...objectMetaValues(true), "status.successful": count("status.succeeded") },
    reject: (label) => `field label ${quote(label)} not supported for batchv1.Job`,
  },
  "events.k8s.io/v1/Event": {
    labels: {
      ...identity("metadata.name", "metadata.namespace", "reason", "source", "type"),
      "regarding.kind": "involvedObject.kind",
      "regarding.namespace": "involvedObject.namespace",
      "regarding.name": "involvedObject.name",
      "regarding.uid": "involvedObject.uid",
      "regarding.apiVersion": "involvedObject.apiVersion",
      "regarding.resourceVersion": "involvedObject.resourceVersion",
      "regarding.fieldPath": "involvedObject.fieldPath",
      reportingController: "reportingComponent",
    },
    values: { ...objectMetaValues(true), ...EVENTS_V1_VALUES },
    reject: FIELD_LABEL_NOT_SUPPORTED,
  },
};

/**
 * `runtime.DefaultMetaV1FieldSelectorConversion`, for every kind without its own function
 * (Deployment, ReplicaSet, ConfigMap, custom resources, ...). Note that apps/v1 ReplicaSet
 * accepts no `status.replicas` upstream (kubernetes/kubernetes#135136).
 */
function defaultFields(namespaced: boolean): KindFields {
  return {
    labels: identity("metadata.name", "metadata.namespace"),
    values: objectMetaValues(namespaced),
    reject: (label) => `${quote(label)} is not a known field selector: only "metadata.name", "metadata.namespace"`,
  };
}

function fieldsFor(kind: string, apiVersion?: string): KindFields {
  const info = apiVersion ? tryKindFor(apiVersion, kind) : KINDS.find((k) => k.kind === kind);
  if (!info) return defaultFields(true);
  return SPECIAL[`${info.apiVersion}/${info.kind}`] ?? defaultFields(info.namespaced);
}

/**
 * How a kind's selectable field is read from an object (after field label conversion, e.g.
 * Pod `spec.nodeName`), exactly as selectors evaluate it; undefined when the kind has no such
 * field.
 */
export function fieldGetter(kind: string, field: string, apiVersion?: string): ((obj: KubeObject) => string) | undefined {
  const fields = fieldsFor(kind, apiVersion);
  return Object.prototype.hasOwnProperty.call(fields.values, field) ? fields.values[field] : undefined;
}

/** Escapes a literal value for a field selector: `\` `,` `=` get a backslash (`fields.EscapeValue`). */
export function escapeFieldValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/,/g, "\\,").replace(/=/g, "\\=");
}

/** `fields.UnescapeValue`: errors are upstream's `InvalidEscapeSequence` and `UnescapedRune`. */
function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = "";
  let inSlash = false;
  for (const ch of value) {
    if (inSlash) {
      if (ch !== "\\" && ch !== "," && ch !== "=") throw new Error(`invalid field selector: invalid escape sequence: \\${ch}`);
      out += ch;
      inSlash = false;
    } else if (ch === "\\") {
      inSlash = true;
    } else if (ch === "," || ch === "=") {
      // Go prints the rune with %v: its code point.
      throw new Error(`invalid field selector: unescaped character in value: ${ch.codePointAt(0)}`);
    } else {
      out += ch;
    }
  }
  if (inSlash) throw new Error("invalid field selector: invalid escape sequence: \\");
  return out;
}

/** Splits on commas that are not escaped (the backslash stays in the term). */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i];
    if (inSlash) inSlash = false;
    else if (ch === "\\") inSlash = true;
    else if (ch === ",") {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** Splits a term at the first operator, trying `!=`, `==`, `=` at each position (no escaping on the left). */
function splitTerm(term: string): [string, "!=" | "==" | "=", string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ["!=", "==", "="] as const) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/** Byte-wise string order, as Go's sort.Strings. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Parses a field selector for a kind (`kind`, and `apiVersion` when the kind is served in
 * several groups: `Event` is core v1 unless `events.k8s.io/v1` is given) and compiles it.
 * The empty string selects everything. Throws a 400 BadRequest ApiError with upstream's
 * message: `invalid selector: 'x'; can't understand 'x'`, `field label not supported: spec.foo`,
 * `"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"`.
 */
export function parseFieldSelector(kind: string, text: string, apiVersion?: string): FieldSelector {
  const fields = fieldsFor(kind, apiVersion);
  const requirements: FieldRequirement[] = [];
  try {
    // Parse every term first (fields.ParseSelector), then convert the labels (Transform), so a
    // syntax error anywhere wins over an unsupported field, as upstream.
    const parsed: FieldRequirement[] = [];
    for (const part of splitTerms(text).sort(byteOrder)) {
      if (part === "") continue;
      const split = splitTerm(part);
      if (!split) throw new Error(`invalid selector: '${text}'; can't understand '${part}'`);
      const [label, op, rawValue] = split;
      parsed.push({ field: label, operator: op === "!=" ? "!=" : "=", value: unescapeFieldValue(rawValue) });
    }
    for (const r of parsed) {
      // The kind's field label conversion function accepts (and may rename) or rejects each label.
      if (!Object.prototype.hasOwnProperty.call(fields.labels, r.field)) throw new Error(fields.reject(r.field));
      requirements.push({ ...r, field: fields.labels[r.field] });
    }
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw badRequest((err as Error).message);
  }
  return compileFieldSelector(requirements, fields);
}

function compileFieldSelector(requirements: FieldRequirement[], fields: KindFields): FieldSelector {
  const frozen = Object.freeze(requirements.map((r) => Object.freeze({ ...r })));
  const tests = frozen.map((r) => {
    const get: Getter = fields.values[r.field] ?? (() => "");
    const want = r.value;
    return r.operator === "=" ? (obj: KubeObject) => get(obj) === want : (obj: KubeObject) => get(obj) !== want;
  });
  const text = frozen.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(",");
  return Object.freeze({
    requirements: frozen,
    matches: (obj: KubeObject) => {
      for (const test of tests) if (!test(obj)) return false;
      return true;
    },
    empty: () => frozen.length === 0,
    toString: () => text,
  });
}

/**
 * The selectable fields of an object and their values, as the registry's ToSelectableFields
 * computes them (field names after conversion: core names for events.k8s.io Events).
 */
export function selectableFields(obj: KubeObject): Record<string, string> {
  const fields = fieldsFor(obj.kind, obj.apiVersion);
  return Object.fromEntries(Object.entries(fields.values).map(([field, get]) => [field, get(obj)]));
}

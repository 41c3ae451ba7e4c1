/**
 * Object metadata, labels, annotations and label selectors, as apimachinery validates them
 * (`pkg/api/validation/objectmeta.go`, `pkg/apis/meta/v1/validation/validation.go`).
 */
import type { StatusCause } from "./types.js";
import { byteLength, isDNS1123Label, isQualifiedName, isValidLabelValue, type NameValidator } from "./names.js";
import { FieldPath, arr, forbidden, invalid, invalidEach, isObj, notSupported, obj, required, str, tooLong } from "./_validation-field.js";

/** `TotalAnnotationSizeLimitB`: 256 KiB for all annotation keys and values together. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** `ValidateLabelName`: a label key (also used for selector keys and topology keys). */
export function validateLabelName(key: string, path: FieldPath): StatusCause[] {
  return invalidEach(path, key, isQualifiedName(key));
}

/** `ValidateLabels`: every key a qualified name, every value a label value (errors name the map, not the key). */
export function validateLabels(labels: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  for (const [k, v] of Object.entries(obj(labels))) {
    out.push(...validateLabelName(k, path));
    out.push(...invalidEach(path, str(v), isValidLabelValue(str(v))));
  }
  return out;
}

/** `ValidateAnnotations`: keys are qualified names (case-insensitive); total size at most 256 KiB. */
export function validateAnnotations(annotations: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(obj(annotations))) {
    out.push(...invalidEach(path, k, isQualifiedName(k.toLowerCase())));
    total += byteLength(k) + byteLength(str(v));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) out.push(tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return out;
}

/** Options for `validateObjectMeta`. */
export interface ObjectMetaOptions {
  /** True for namespaced kinds: metadata.namespace is required. */
  readonly namespaced: boolean;
  /** The kind's name rule. */
  readonly nameFn: NameValidator;
}

/** `ValidateObjectMeta` (plus the core variant's finalizer name checks). */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaOptions, path = FieldPath.root("metadata")): StatusCause[] {
  const m = obj(meta);
  const out: StatusCause[] = [];
  const name = str(m.name);
  const generateName = str(m.generateName);
  if (generateName) for (const msg of opts.nameFn(generateName, true)) out.push(invalid(path.child("generateName"), generateName, msg));
  if (!name) {
    // With generateName, the API server generates the name before validation; without it, it is required.
    if (!generateName) out.push(required(path.child("name"), "name or generateName is required"));
  } else {
    for (const msg of opts.nameFn(name, false)) out.push(invalid(path.child("name"), name, msg));
  }
  const ns = str(m.namespace);
  if (opts.namespaced) {
    if (!ns) out.push(required(path.child("namespace")));
    else out.push(...invalidEach(path.child("namespace"), ns, isDNS1123Label(ns)));
  } else if (ns) {
    out.push(forbidden(path.child("namespace"), "not allowed on this type"));
  }
  if (typeof m.generation === "number" && m.generation < 0) out.push(invalid(path.child("generation"), m.generation, "must be greater than or equal to 0"));
  out.push(...validateLabels(m.labels, path.child("labels")));
  out.push(...validateAnnotations(m.annotations, path.child("annotations")));
  out.push(...validateOwnerReferences(m.ownerReferences, path.child("ownerReferences")));
  out.push(...validateFinalizers(m.finalizers, path.child("finalizers")));
  return out;
}

/** `ValidateOwnerReferences`. */
function validateOwnerReferences(refs: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  let firstController = "";
  for (const r of arr(refs)) {
    const ref = obj(r);
    const apiVersion = str(ref.apiVersion);
    const version = apiVersion.includes("/") ? apiVersion.slice(apiVersion.indexOf("/") + 1) : apiVersion;
    if (!version) out.push(invalid(path.child("apiVersion"), apiVersion, "version must not be empty"));
    if (!str(ref.kind)) out.push(invalid(path.child("kind"), str(ref.kind), "must not be empty"));
    if (!str(ref.name)) out.push(invalid(path.child("name"), str(ref.name), "must not be empty"));
    if (!str(ref.uid)) out.push(invalid(path.child("uid"), str(ref.uid), "must not be empty"));
    if (apiVersion === "v1" && ref.kind === "Event") out.push(invalid(path, ref, "/v1, Kind=Event is disallowed from being an owner"));
    if (ref.controller === true) {
      const cur = `${str(ref.kind)}/${str(ref.name)}`;
      if (firstController) {
        out.push(invalid(path, refs, `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${cur}`));
      } else firstController = cur;
    }
  }
  return out;
}

/** `ValidateFinalizers` plus core's `validateKubeFinalizerName` (standard finalizers must be fully qualified). */
function validateFinalizers(finalizers: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  const list = arr(finalizers).map(str);
  list.forEach((f, i) => {
    const msgs = isQualifiedName(f);
    out.push(...invalidEach(path, f, msgs));
    if (msgs.length === 0 && !f.includes("/") && !["kubernetes", "orphan", "foregroundDeletion"].includes(f)) {
      out.push(invalid(path.index(i), f, "name is neither a standard finalizer name nor is it fully qualified"));
    }
  });
  if (list.includes("orphan") && list.includes("foregroundDeletion")) {
    out.push(invalid(path, list, "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return out;
}

/**
 * One selector requirement (`ValidateLabelSelectorRequirement`; node selector terms also allow
 * `Gt`/`Lt` with a single value, `ValidateNodeSelectorRequirement`).
 */
export function validateSelectorRequirement(req: Record<string, any>, p: FieldPath, options: { numeric: boolean; checkValues: boolean }): StatusCause[] {
  const out: StatusCause[] = [];
  const values = arr(req.values);
  const op = str(req.operator);
  switch (op) {
    case "In":
    case "NotIn":
      if (values.length === 0) out.push(required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case "Exists":
    case "DoesNotExist":
      if (values.length > 0) out.push(forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case "Gt":
    case "Lt":
      if (options.numeric) {
        if (values.length !== 1) out.push(required(p.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
        break;
      }
      out.push(invalid(p.child("operator"), op, "not a valid selector operator"));
      break;
    default:
      out.push(invalid(p.child("operator"), op, "not a valid selector operator"));
  }
  out.push(...validateLabelName(str(req.key), p.child("key")));
  if (options.checkValues) values.forEach((v, j) => out.push(...invalidEach(p.child("values").index(j), str(v), isValidLabelValue(str(v)))));
  return out;
}

/** `ValidateLabelSelector` (metav1.LabelSelector). */
export function validateLabelSelector(selector: unknown, path: FieldPath): StatusCause[] {
  if (!isObj(selector)) return [];
  const out: StatusCause[] = [];
  arr(selector.matchExpressions).forEach((e, i) => {
    out.push(...validateSelectorRequirement(obj(e), path.child("matchExpressions").index(i), { numeric: false, checkValues: true }));
  });
  out.push(...validateLabels(selector.matchLabels, path.child("matchLabels")));
  return out;
}

/** True when a LabelSelector selects nothing at all (no matchLabels, no matchExpressions). */
export function selectorIsEmpty(selector: unknown): boolean {
  const s = obj(selector);
  return Object.keys(obj(s.matchLabels)).length === 0 && arr(s.matchExpressions).length === 0;
}

/** `metav1.LabelSelectorAsSelector(...).Matches(labels)`. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const s = obj(selector);
  for (const [k, v] of Object.entries(obj(s.matchLabels))) if (labels[k] !== v) return false;
  for (const e of arr(s.matchExpressions)) {
    const req = obj(e);
    const key = str(req.key);
    const values = arr(req.values).map(str);
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (req.operator) {
      case "In":
        if (!has || !values.includes(labels[key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** An `Unsupported value` for an enum-like string, or Required when empty. */
export function validateEnum(value: unknown, valid: readonly string[], path: FieldPath, requiredWhenEmpty = true): StatusCause[] {
  const v = str(value);
  if (!v) return requiredWhenEmpty ? [required(path)] : [];
  return valid.includes(v) ? [] : [notSupported(path, v, valid)];
}

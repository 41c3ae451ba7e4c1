/**
 * Validation and admission of writes, as the kube-apiserver runs them for built-in kinds:
 *
 * 1. decoding: wrong JSON types and malformed quantities/base64 fail with 400 BadRequest; unknown
 *    fields fail too under `fieldValidation=Strict` (kubectl's default), become warnings under
 *    `Warn`, and are dropped under `Ignore`;
 * 2. defaulting (`applyDefaults`, plus the Job selector the registry generates on create);
 * 3. validation: metadata, the kind's own rules, and on update what may not change; any problem
 *    is a 422 Invalid whose `details.causes` name each field, worded like upstream.
 *
 * `validate` reports everything it finds as causes; `admit` runs the whole pipeline and throws
 * the Status the kube-apiserver would return.
 */
import { ApiError, badRequest, invalid as invalidError } from "./errors.js";
import { kindFor, splitApiVersion, type KindInfo } from "./kinds.js";
import { clone, type KubeObject, type StatusCause } from "./types.js";
import { applyDefaultsInPlace, applyJobSelector } from "./defaults.js";
import { nameValidatorFor } from "./names.js";
import { checkSchema, decodeFailureMessage, type SchemaResult } from "./_validation-schema.js";
import { isObj, obj, str, unknownField } from "./_validation-field.js";
import { validateObjectMeta } from "./_validation-meta.js";
import { validateKind } from "./_validation-kinds.js";
import { validateUpdate } from "./_validation-update.js";
import { PV_VOLUME_SOURCES } from "./_validation-pod.js";

/** Server-side field validation level (`?fieldValidation=`), as in Kubernetes 1.27+. */
export type FieldValidation = "Strict" | "Warn" | "Ignore";

/** Options for `admit`. */
export interface AdmitOptions {
  /**
   * What to do with unknown fields. kubectl 1.32 sends `Strict` by default; the kube-apiserver
   * uses `Warn` when a request carries no `fieldValidation` parameter. Defaults to `Strict`.
   */
  readonly fieldValidation?: FieldValidation;
  /** Receives warnings (`unknown field "spec.replica"`) for the `Warning` response header under `Warn`. */
  readonly warnings?: string[];
}

function dedupe(causes: StatusCause[]): StatusCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const key = `${c.field}\u0000${c.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function stripNulls(value: unknown): void {
  if (Array.isArray(value)) for (const v of value) stripNulls(v);
  else if (isObj(value)) {
    for (const k of Object.keys(value)) {
      if (value[k] === null) delete value[k];
      else stripNulls(value[k]);
    }
  }
}

/** Hand-written validation of a decoded object (no schema check), create and update rules. */
function semanticCauses(info: KindInfo, o: Record<string, any>, old: Record<string, any> | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  causes.push(...validateObjectMeta(o.metadata, { namespaced: info.namespaced, nameFn: nameValidatorFor(info.group, info.kind) }));
  causes.push(...validateKind(info.group, info.version, info.kind, o));
  if (old) causes.push(...validateUpdate(info.group, info.kind, o, old, PV_VOLUME_SOURCES));
  return causes;
}

function schemaCauses(schema: SchemaResult): StatusCause[] {
  return [...schema.issues.map((i) => i.cause), ...schema.unknownFields.map((u) => unknownField(u.path))];
}

/**
 * Field-level problems of `obj` (and of the change from `old`, when given), as Kubernetes
 * StatusCauses: wrong types (`FieldValueTypeInvalid`), unknown fields (`FieldValueUnknown`),
 * and every validation rule (`FieldValueRequired`, `FieldValueInvalid`, ...). The object is
 * validated as given: call `applyDefaults` first to validate what the server would store.
 * When types are wrong only the decoding problems are returned, since the kube-apiserver stops
 * there. Throws an ApiError (404) for kinds that are not served.
 */
export function validate(obj: KubeObject, old?: KubeObject): StatusCause[] {
  const info = kindFor(obj.apiVersion, obj.kind);
  const work = clone(obj) as Record<string, any>;
  const schema = checkSchema(work, info);
  const decode = schemaCauses(schema);
  if (schema.issues.length > 0) return dedupe(decode);
  stripNulls(work);
  if (!isObj(work.metadata)) work.metadata = {};
  let prev: Record<string, any> | undefined;
  if (old) {
    prev = clone(old) as Record<string, any>;
    stripNulls(prev);
  }
  return dedupe([...decode, ...semanticCauses(info, work, prev)]);
}

/** The allocations the Service registry keeps from the stored object when an update leaves them out. */
function keepServiceAllocations(svc: Record<string, any>, old: Record<string, any>): void {
  const ns = obj(svc.spec);
  const os = obj(old.spec);
  if (str(ns.type) === "ExternalName" || str(os.type) === "ExternalName") return;
  if (!str(ns.clusterIP) && str(os.clusterIP)) ns.clusterIP = os.clusterIP;
  if ((!Array.isArray(ns.clusterIPs) || ns.clusterIPs.length === 0) && Array.isArray(os.clusterIPs)) ns.clusterIPs = [...os.clusterIPs];
  if ((ns.type === "NodePort" || ns.type === "LoadBalancer") && Array.isArray(ns.ports) && Array.isArray(os.ports)) {
    for (const p of ns.ports) {
      if (!isObj(p) || p.nodePort) continue;
      const prev = os.ports.find((q: any) => isObj(q) && q.port === p.port && (q.protocol ?? "TCP") === (p.protocol ?? "TCP"));
      if (prev?.nodePort) p.nodePort = prev.nodePort;
    }
  }
  if (!ns.healthCheckNodePort && os.healthCheckNodePort && ns.externalTrafficPolicy === "Local") ns.healthCheckNodePort = os.healthCheckNodePort;
}

/**
 * Admits a create (no `old`) or an update: decodes (types, unknown fields), defaults, validates,
 * and returns the object to store. Throws the ApiError the kube-apiserver would return:
 * 400 BadRequest for decoding failures (`Deployment in version "v1" cannot be handled as a
 * Deployment: strict decoding error: unknown field "spec.replica"`), 422 Invalid with
 * `details.causes` for validation failures, 404 for kinds that are not served.
 *
 * The API server calls this after setting server fields (uid, creationTimestamp, ...). On a Job
 * create with a uid, the selector and pod labels are generated here (`applyJobSelector`).
 */
export function admit(obj: KubeObject, old?: KubeObject, opts: AdmitOptions = {}): KubeObject {
  return admitWork(clone(obj) as Record<string, any>, obj, old, opts);
}

/**
 * `admit` for a caller that hands over an object it made for this write and never touches
 * again (the API server's private copy): it is decoded, pruned and defaulted in place rather than
 * copied first, and returned.
 */
export function admitOwned(obj: KubeObject, old?: KubeObject, opts: AdmitOptions = {}): KubeObject {
  return admitWork(obj as Record<string, any>, obj, old, opts);
}

/** The admission pipeline on `work`, a copy of `obj` that it may change (or `obj` itself when owned). */
function admitWork(work: Record<string, any>, obj: KubeObject, old: KubeObject | undefined, opts: AdmitOptions): KubeObject {
  const info = kindFor(obj.apiVersion, obj.kind);
  const mode = opts.fieldValidation ?? "Strict";
  const schema = checkSchema(work, info);
  const { version } = splitApiVersion(info.apiVersion);
  if (schema.issues.length > 0) {
    throw badRequest(decodeFailureMessage(info.kind, version, schema.issues, []) ?? "bad request", schemaCauses(schema));
  }
  if (schema.unknownFields.length > 0) {
    const paths = schema.unknownFields.map((u) => u.path);
    if (mode === "Strict") {
      throw badRequest(decodeFailureMessage(info.kind, version, [], paths) ?? "bad request", schemaCauses(schema));
    }
    if (mode === "Warn") opts.warnings?.push(...paths.map((p) => `unknown field "${p}"`));
    // Go's decoder simply skips what it does not know, so the field is never stored.
    for (const u of schema.unknownFields) delete u.parent[u.key];
  }
  // rest.BeforeCreate/BeforeUpdate: a namespace on a cluster-scoped object is cleared, not refused.
  if (!info.namespaced && isObj(work.metadata) && work.metadata.namespace !== undefined) delete work.metadata.namespace;
  let defaulted = applyDefaultsInPlace(work as KubeObject) as Record<string, any>;
  if (info.group === "batch" && info.kind === "Job" && !old && str(obj.metadata?.uid)) {
    defaulted = applyJobSelector(defaulted as KubeObject) as Record<string, any>;
  }
  let prev: Record<string, any> | undefined;
  if (old) {
    prev = clone(old) as Record<string, any>;
    stripNulls(prev);
    if (info.group === "" && info.kind === "Service") keepServiceAllocations(defaulted, prev);
  }
  const causes = dedupe(semanticCauses(info, defaulted, prev));
  if (causes.length > 0) {
    const meta = obj.metadata ?? {};
    throw invalidError(info.kind, info.group, str(meta.name) || str(meta.generateName), causes);
  }
  return defaulted as KubeObject;
}

/** True when `err` is the 400 a decoding failure produces (types or strict unknown fields). */
export function isDecodeError(err: unknown): err is ApiError {
  return err instanceof ApiError && err.code === 400 && / cannot be handled as a /.test(err.message);
}

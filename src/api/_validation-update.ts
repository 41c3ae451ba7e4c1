/**
 * Update validation: what may not change between the stored object and the new one
 * (`Validate<Kind>Update` upstream), on top of the create rules that every update also passes.
 */
import type { StatusCause } from "./types.js";
import { FieldPath, GoValue, arr, forbidden, goLabelSelector, goStringSlice, invalid, isObj, obj, str } from "./_validation-field.js";
import { parseQuantity, quantitiesEqual } from "./quantity.js";

type Obj = Record<string, any>;
const IMMUTABLE = "field is immutable";

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (isObj(v) && Object.keys(v).length === 0);
}

/**
 * apimachinery's `Semantic.DeepEqual`: like deep equality, except that a missing field, null, an
 * empty list and an empty map are all equal (its forked `reflect.DeepEqual` treats nil and empty
 * slices and maps alike).
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => semanticEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

/** Paths where two values differ, for the diff appended to "may not change" messages. */
function diffPaths(a: unknown, b: unknown, path: string, out: string[], limit = 20): void {
  if (out.length >= limit || semanticEqual(a, b)) return;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diffPaths(x, b[i], `${path}[${i}]`, out, limit));
    return;
  }
  if (isObj(a) && isObj(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffPaths(a[k], b[k], path ? `${path}.${k}` : k, out, limit);
    return;
  }
  out.push(`  ${path}: ${JSON.stringify(a ?? null)} -> ${JSON.stringify(b ?? null)}`);
}

function diffText(oldV: unknown, newV: unknown, root: string): string {
  const lines: string[] = [];
  diffPaths(oldV, newV, root, lines);
  return lines.length > 0 ? `\n${lines.join("\n")}` : "";
}

function immutable(newV: unknown, oldV: unknown, path: FieldPath, shown: unknown = newV): StatusCause[] {
  return semanticEqual(newV, oldV) ? [] : [invalid(path, shown, IMMUTABLE)];
}

/** `ValidateObjectMetaUpdate`: identity fields never change. */
function validateMetaUpdate(n: Obj, o: Obj): StatusCause[] {
  const path = FieldPath.root("metadata");
  const out: StatusCause[] = [];
  out.push(...immutable(str(n.name), str(o.name), path.child("name")));
  out.push(...immutable(str(n.namespace), str(o.namespace), path.child("namespace")));
  // Server-set identity: only compared once the store has assigned it.
  if (str(o.uid)) out.push(...immutable(str(n.uid), str(o.uid), path.child("uid")));
  if (str(o.creationTimestamp)) out.push(...immutable(str(n.creationTimestamp), str(o.creationTimestamp), path.child("creationTimestamp")));
  if (typeof n.generation === "number" && typeof o.generation === "number" && n.generation < o.generation) {
    out.push(invalid(path.child("generation"), n.generation, "must not be decremented"));
  }
  if (str(o.deletionTimestamp)) {
    const added = arr(n.finalizers).filter((f) => !arr(o.finalizers).includes(f));
    if (added.length > 0) {
      out.push(forbidden(path.child("finalizers"), `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added.sort()).text}`));
    }
  }
  return out;
}

function selectorImmutable(n: Obj, o: Obj): StatusCause[] {
  const ns = obj(n.spec).selector;
  const os = obj(o.spec).selector;
  return semanticEqual(ns, os) ? [] : [invalid(FieldPath.root("spec", "selector"), goLabelSelector(ns), IMMUTABLE)];
}

const STS_MUTABLE = ["replicas", "template", "updateStrategy", "minReadySeconds", "ordinals", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy"];

function statefulSetUpdate(n: Obj, o: Obj): StatusCause[] {
  const ns = { ...obj(n.spec) };
  const os = { ...obj(o.spec) };
  for (const f of STS_MUTABLE) {
    delete ns[f];
    delete os[f];
  }
  return semanticEqual(ns, os)
    ? []
    : [
        forbidden(
          FieldPath.root("spec"),
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      ];
}

/** Template fields a suspended Job that never started may change (JobMutableSchedulingDirectives). */
function withoutSchedulingDirectives(template: unknown): Obj {
  const t = structuredClone(obj(template));
  const meta = obj(t.metadata);
  delete meta.labels;
  delete meta.annotations;
  const spec = obj(t.spec);
  for (const f of ["nodeSelector", "tolerations", "affinity", "schedulingGates"]) delete spec[f];
  return t;
}

function jobUpdate(n: Obj, o: Obj): StatusCause[] {
  const ns = obj(n.spec);
  const os = obj(o.spec);
  const spec = FieldPath.root("spec");
  const out: StatusCause[] = [];
  out.push(...selectorImmutable(n, o));
  const mayReschedule = os.suspend === true && !str(obj(o.status).startTime);
  const templateChanged = mayReschedule
    ? !semanticEqual(withoutSchedulingDirectives(ns.template), withoutSchedulingDirectives(os.template))
    : !semanticEqual(ns.template, os.template);
  if (templateChanged) out.push(invalid(spec.child("template"), new GoValue(`core.PodTemplateSpec{...}${diffText(os.template, ns.template, "template")}`), IMMUTABLE));
  const elastic = ns.completionMode === "Indexed" && ns.completions === ns.parallelism && os.completions === os.parallelism;
  if (!elastic) out.push(...immutable(ns.completions, os.completions, spec.child("completions"), ns.completions ?? null));
  out.push(...immutable(ns.completionMode, os.completionMode, spec.child("completionMode"), ns.completionMode ?? null));
  out.push(...immutable(ns.podFailurePolicy, os.podFailurePolicy, spec.child("podFailurePolicy"), new GoValue(JSON.stringify(ns.podFailurePolicy ?? null))));
  out.push(...immutable(ns.backoffLimitPerIndex, os.backoffLimitPerIndex, spec.child("backoffLimitPerIndex"), ns.backoffLimitPerIndex ?? null));
  return out;
}

function needsClusterIP(s: Obj): boolean {
  return str(s.type) !== "ExternalName";
}

function serviceUpdate(n: Obj, o: Obj): StatusCause[] {
  const ns = obj(n.spec);
  const os = obj(o.spec);
  if (!needsClusterIP(ns) || !needsClusterIP(os)) return [];
  const oldIPs: string[] = arr(os.clusterIPs).length > 0 ? arr(os.clusterIPs).map(str) : str(os.clusterIP) ? [str(os.clusterIP)] : [];
  const newIPs: string[] = arr(ns.clusterIPs).length > 0 ? arr(ns.clusterIPs).map(str) : str(ns.clusterIP) ? [str(ns.clusterIP)] : [];
  if (oldIPs.length === 0) return [];
  const out: StatusCause[] = [];
  // The primary IP never changes; a secondary one may be added or removed (dual-stack upgrade/downgrade).
  if (newIPs[0] !== oldIPs[0]) out.push(invalid(FieldPath.root("spec", "clusterIPs").index(0), goStringSlice(newIPs), "may not change once set"));
  else if (newIPs.length > 1 && oldIPs.length > 1 && newIPs[1] !== oldIPs[1]) out.push(invalid(FieldPath.root("spec", "clusterIPs").index(1), goStringSlice(newIPs), "may not change once set"));
  return out;
}

function podUpdate(n: Obj, o: Obj): StatusCause[] {
  const ns = structuredClone(obj(n.spec));
  const os = obj(o.spec);
  // Copy over what may change, then anything left that differs is forbidden (ValidatePodUpdate).
  arr(ns.containers).forEach((c, i) => {
    const old = arr(os.containers)[i];
    if (isObj(c) && isObj(old)) c.image = old.image;
  });
  arr(ns.initContainers).forEach((c, i) => {
    const old = arr(os.initContainers)[i];
    if (isObj(c) && isObj(old)) c.image = old.image;
  });
  const out: StatusCause[] = [];
  const spec = FieldPath.root("spec");
  if (typeof os.activeDeadlineSeconds === "number") {
    if (typeof ns.activeDeadlineSeconds !== "number") out.push(invalid(spec.child("activeDeadlineSeconds"), null, "must not update from a positive integer to nil value"));
    else if (ns.activeDeadlineSeconds > os.activeDeadlineSeconds) out.push(invalid(spec.child("activeDeadlineSeconds"), ns.activeDeadlineSeconds, "must be less than or equal to previous value"));
  }
  ns.activeDeadlineSeconds = os.activeDeadlineSeconds;
  // Tolerations may only be added to.
  const oldTols = arr(os.tolerations);
  const newTols = arr(ns.tolerations);
  if (oldTols.every((t) => newTols.some((u) => semanticEqual(t, u)))) ns.tolerations = os.tolerations;
  // Scheduling gates may only be removed.
  if (arr(ns.schedulingGates).every((g) => arr(os.schedulingGates).some((h) => semanticEqual(g, h)))) ns.schedulingGates = os.schedulingGates;
  if (typeof os.terminationGracePeriodSeconds === "number" && os.terminationGracePeriodSeconds < 0 && ns.terminationGracePeriodSeconds === 1) {
    ns.terminationGracePeriodSeconds = os.terminationGracePeriodSeconds;
  }
  if (!semanticEqual(ns, os)) {
    out.push(
      forbidden(
        spec,
        "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)" +
          diffText(os, ns, "spec"),
      ),
    );
  }
  return out;
}

function pvcUpdate(n: Obj, o: Obj): StatusCause[] {
  const ns = structuredClone(obj(n.spec));
  const os = structuredClone(obj(o.spec));
  const out: StatusCause[] = [];
  if (!str(os.volumeName)) os.volumeName = ns.volumeName;
  const bound = str(obj(n.status).phase) === "Bound";
  const newSize = obj(obj(ns.resources).requests).storage;
  const oldSize = obj(obj(os.resources).requests).storage;
  if (bound && isObj(obj(ns.resources).requests)) ns.resources.requests.storage = oldSize;
  if (!semanticEqual(ns, os)) {
    out.push(forbidden(FieldPath.root("spec"), `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims${diffText(os, ns, "spec")}`));
  }
  // RecoverVolumeExpansionFailure (beta, on in 1.32): a claim may shrink back, but not to or below
  // the capacity already provisioned (status.capacity).
  if (newSize !== undefined && oldSize !== undefined && !quantitiesEqual(newSize, oldSize)) {
    try {
      const statusSize = obj(obj(o.status).capacity).storage;
      if (parseQuantity(newSize) < parseQuantity(oldSize) && parseQuantity(newSize) <= (statusSize !== undefined ? parseQuantity(statusSize) : 0)) {
        out.push(forbidden(FieldPath.root("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"));
      }
    } catch {
      // Malformed quantities were already reported by the schema check.
    }
  }
  return out;
}

function pvUpdate(n: Obj, o: Obj, sources: readonly string[]): StatusCause[] {
  const out: StatusCause[] = [];
  const pick = (s: Obj): Obj => Object.fromEntries(sources.filter((k) => s[k] !== undefined).map((k) => [k, s[k]]));
  const ns = obj(n.spec);
  const os = obj(o.spec);
  if (!semanticEqual(pick(ns), pick(os))) {
    out.push(forbidden(FieldPath.root("spec", "persistentvolumesource"), `spec.persistentvolumesource is immutable after creation${diffText(pick(os), pick(ns), "spec")}`));
  }
  out.push(...immutable(ns.volumeMode, os.volumeMode, FieldPath.root("volumeMode"), ns.volumeMode ?? null));
  return out;
}

function immutableData(n: Obj, o: Obj, fields: readonly string[]): StatusCause[] {
  if (o.immutable !== true) return [];
  const out: StatusCause[] = [];
  if (n.immutable !== true) out.push(forbidden(FieldPath.root("immutable"), "field is immutable when `immutable` is set"));
  for (const f of fields) if (!semanticEqual(n[f], o[f])) out.push(forbidden(FieldPath.root(f), "field is immutable when `immutable` is set"));
  return out;
}

function storageClassUpdate(n: Obj, o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  if (!semanticEqual(n.parameters, o.parameters)) out.push(forbidden(FieldPath.root("parameters"), "updates to parameters are forbidden."));
  if (str(n.provisioner) !== str(o.provisioner)) out.push(forbidden(FieldPath.root("provisioner"), "updates to provisioner are forbidden."));
  if (str(n.reclaimPolicy) !== str(o.reclaimPolicy)) out.push(forbidden(FieldPath.root("reclaimPolicy"), "updates to reclaimPolicy are forbidden."));
  out.push(...immutable(n.volumeBindingMode, o.volumeBindingMode, FieldPath.root("volumeBindingMode"), n.volumeBindingMode ?? null));
  return out;
}

/** Update rules for `group/Kind`; metadata identity rules apply to every kind. */
export function validateUpdate(group: string, kind: string, n: Obj, o: Obj, pvSources: readonly string[]): StatusCause[] {
  const out = validateMetaUpdate(obj(n.metadata), obj(o.metadata));
  switch (`${group}/${kind}`) {
    case "apps/Deployment":
    case "apps/ReplicaSet":
    case "apps/DaemonSet":
      out.push(...selectorImmutable(n, o));
      break;
    case "apps/StatefulSet":
      out.push(...statefulSetUpdate(n, o));
      break;
    case "apps/ControllerRevision":
      out.push(...immutable(n.data, o.data, FieldPath.root("data"), new GoValue(JSON.stringify(n.data ?? null))));
      out.push(...immutable(n.revision, o.revision, FieldPath.root("revision"), n.revision ?? 0));
      break;
    case "batch/Job":
      out.push(...jobUpdate(n, o));
      break;
    case "/Service":
      out.push(...serviceUpdate(n, o));
      break;
    case "/Pod":
      out.push(...podUpdate(n, o));
      break;
    case "/PersistentVolumeClaim":
      out.push(...pvcUpdate(n, o));
      break;
    case "/PersistentVolume":
      out.push(...pvUpdate(n, o, pvSources));
      break;
    case "/Secret":
      out.push(...immutable(str(n.type), str(o.type), FieldPath.root("type")));
      out.push(...immutableData(n, o, ["data"]));
      break;
    case "/ConfigMap":
      out.push(...immutableData(n, o, ["data", "binaryData"]));
      break;
    case "storage.k8s.io/StorageClass":
      out.push(...storageClassUpdate(n, o));
      break;
    case "rbac.authorization.k8s.io/RoleBinding":
    case "rbac.authorization.k8s.io/ClusterRoleBinding":
      if (!semanticEqual(n.roleRef, o.roleRef)) out.push(invalid(FieldPath.root("roleRef"), new GoValue(JSON.stringify(n.roleRef ?? null)), "cannot change roleRef"));
      break;
    case "discovery.k8s.io/EndpointSlice":
      out.push(...immutable(str(n.addressType), str(o.addressType), FieldPath.root("addressType")));
      break;
    default:
      break;
  }
  return out;
}

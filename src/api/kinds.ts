/**
 * The kind registry: every built-in kind kubelings serves, with its group, version, plural
 * resource name, short names and scope, as the kube-apiserver's discovery reports them
 * (`kubectl api-resources`). Also the table of removed API versions, from the Kubernetes
 * deprecated API migration guide (kubernetes/website `docs/reference/using-api/deprecation-guide.md`).
 */
import { ApiError, failure, noKindMatch } from "./errors.js";

/** Subresources a kind serves besides the main resource. */
export type Subresource = "status" | "scale";

/** One served kind. */
export interface KindInfo {
  /** API group; "" for the core group. */
  readonly group: string;
  /** Served version, e.g. `v1`, `v2`. */
  readonly version: string;
  /** Kind, e.g. `Deployment`. */
  readonly kind: string;
  /** Plural lower-case resource name used in URLs and keys, e.g. `deployments`. */
  readonly resource: string;
  /** Singular name (`kubectl get deployment`). */
  readonly singular: string;
  /** Short names (`deploy`). */
  readonly shortNames: readonly string[];
  /** True for namespaced kinds, false for cluster-scoped ones (Namespace, Node, PV, ...). */
  readonly namespaced: boolean;
  /** Subresources served. */
  readonly subresources: readonly Subresource[];
  /** Categories (`kubectl get all`). */
  readonly categories: readonly string[];
  /** `group/version` or `version` for core. */
  readonly apiVersion: string;
  /** True when the kind has a status subresource (status is then written only through it). */
  readonly hasStatus: boolean;
  /**
   * Storage path segment under `/registry/`. Usually the resource; autoscaling v1 and v2 share one
   * storage (converted on read, as upstream). events.k8s.io Events are stored apart from core
   * Events here (upstream converts between the two; kubelings keeps them as written).
   */
  readonly storageResource: string;
}

type KindSpec = [group: string, version: string, kind: string, resource: string, shortNames: string[], namespaced: boolean, subresources: Subresource[], categories?: string[]];

const ALL = ["all"];

/** The built-in kinds (issue 2, point 2). Order is the discovery order. */
const SPECS: KindSpec[] = [
  ["", "v1", "Namespace", "namespaces", ["ns"], false, ["status"]],
  ["", "v1", "Node", "nodes", ["no"], false, ["status"]],
  ["", "v1", "Pod", "pods", ["po"], true, ["status"], ALL],
  ["", "v1", "Service", "services", ["svc"], true, ["status"], ALL],
  ["", "v1", "Endpoints", "endpoints", ["ep"], true, []],
  ["", "v1", "ConfigMap", "configmaps", ["cm"], true, []],
  ["", "v1", "Secret", "secrets", [], true, []],
  ["", "v1", "ServiceAccount", "serviceaccounts", ["sa"], true, []],
  ["", "v1", "PersistentVolume", "persistentvolumes", ["pv"], false, ["status"]],
  ["", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", ["pvc"], true, ["status"]],
  ["", "v1", "Event", "events", ["ev"], true, []],
  ["", "v1", "ReplicationController", "replicationcontrollers", ["rc"], true, ["status", "scale"], ALL],
  ["apps", "v1", "Deployment", "deployments", ["deploy"], true, ["status", "scale"], ALL],
  ["apps", "v1", "ReplicaSet", "replicasets", ["rs"], true, ["status", "scale"], ALL],
  ["apps", "v1", "StatefulSet", "statefulsets", ["sts"], true, ["status", "scale"], ALL],
  ["apps", "v1", "DaemonSet", "daemonsets", ["ds"], true, ["status"], ALL],
  ["apps", "v1", "ControllerRevision", "controllerrevisions", [], true, []],
  ["batch", "v1", "Job", "jobs", [], true, ["status"], ALL],
  ["batch", "v1", "CronJob", "cronjobs", ["cj"], true, ["status"], ALL],
  ["autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", ["hpa"], true, ["status"], ALL],
  ["autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", ["hpa"], true, ["status"], ALL],
  ["discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", [], true, []],
  ["networking.k8s.io", "v1", "Ingress", "ingresses", ["ing"], true, ["status"]],
  ["networking.k8s.io", "v1", "IngressClass", "ingressclasses", [], false, []],
  ["networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", ["netpol"], true, []],
  ["storage.k8s.io", "v1", "StorageClass", "storageclasses", ["sc"], false, []],
  ["rbac.authorization.k8s.io", "v1", "Role", "roles", [], true, []],
  ["rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", [], false, []],
  ["rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", [], true, []],
  ["rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", [], false, []],
  ["policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", ["pdb"], true, ["status"]],
  ["coordination.k8s.io", "v1", "Lease", "leases", [], true, []],
  ["events.k8s.io", "v1", "Event", "events", ["ev"], true, []],
];

function singularOf(kind: string): string {
  return kind.toLowerCase();
}

/** Every served kind. */
export const KINDS: readonly KindInfo[] = SPECS.map(([group, version, kind, resource, shortNames, namespaced, subresources, categories]) =>
  Object.freeze({
    group,
    version,
    kind,
    resource,
    singular: singularOf(kind),
    shortNames: Object.freeze(shortNames),
    namespaced,
    subresources: Object.freeze(subresources),
    categories: Object.freeze(categories ?? []),
    apiVersion: group ? `${group}/${version}` : version,
    hasStatus: subresources.includes("status"),
    storageResource: group === "events.k8s.io" ? `${group}/${resource}` : resource,
  }),
);

const byApiVersionKind = new Map<string, KindInfo>(KINDS.map((k) => [`${k.apiVersion}/${k.kind}`, k]));
const byGroupResource = new Map<string, KindInfo[]>();
for (const k of KINDS) {
  const key = `${k.group}/${k.resource}`;
  const list = byGroupResource.get(key) ?? [];
  list.push(k);
  byGroupResource.set(key, list);
}

/** Splits `apps/v1` into `{ group: "apps", version: "v1" }` and `v1` into `{ group: "", version: "v1" }`. */
export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** A removed API version: what it was removed in and what replaces it. */
export interface RemovedApi {
  /** The removed `group/version`. */
  readonly apiVersion: string;
  /** The kind (or `*` for every kind of that version). */
  readonly kind: string;
  /** Kubernetes release that stopped serving it. */
  readonly removedIn: string;
  /** `group/version` to use instead, or an explanation when the kind has no replacement. */
  readonly replacement: string;
  /** Extra migration note. */
  readonly note?: string;
}

/** Removed APIs, from the Kubernetes deprecated API migration guide. */
export const REMOVED_APIS: readonly RemovedApi[] = [
  // v1.16
  { apiVersion: "extensions/v1beta1", kind: "Deployment", removedIn: "v1.16", replacement: "apps/v1", note: "spec.selector is now required and must match spec.template.metadata.labels" },
  { apiVersion: "extensions/v1beta1", kind: "DaemonSet", removedIn: "v1.16", replacement: "apps/v1", note: "spec.selector is now required and must match spec.template.metadata.labels" },
  { apiVersion: "extensions/v1beta1", kind: "ReplicaSet", removedIn: "v1.16", replacement: "apps/v1", note: "spec.selector is now required and must match spec.template.metadata.labels" },
  { apiVersion: "extensions/v1beta1", kind: "NetworkPolicy", removedIn: "v1.16", replacement: "networking.k8s.io/v1" },
  { apiVersion: "extensions/v1beta1", kind: "PodSecurityPolicy", removedIn: "v1.16", replacement: "policy/v1beta1, itself removed in v1.25: use Pod Security Admission instead" },
  { apiVersion: "apps/v1beta1", kind: "*", removedIn: "v1.16", replacement: "apps/v1", note: "spec.selector is now required and must match spec.template.metadata.labels" },
  { apiVersion: "apps/v1beta2", kind: "*", removedIn: "v1.16", replacement: "apps/v1", note: "spec.selector is now required and must match spec.template.metadata.labels" },
  // v1.22
  { apiVersion: "extensions/v1beta1", kind: "Ingress", removedIn: "v1.22", replacement: "networking.k8s.io/v1", note: "spec.backend is renamed spec.defaultBackend, serviceName/servicePort become service.name and service.port, and pathType is required" },
  { apiVersion: "networking.k8s.io/v1beta1", kind: "Ingress", removedIn: "v1.22", replacement: "networking.k8s.io/v1", note: "spec.backend is renamed spec.defaultBackend, serviceName/servicePort become service.name and service.port, and pathType is required" },
  { apiVersion: "networking.k8s.io/v1beta1", kind: "IngressClass", removedIn: "v1.22", replacement: "networking.k8s.io/v1" },
  { apiVersion: "rbac.authorization.k8s.io/v1beta1", kind: "*", removedIn: "v1.22", replacement: "rbac.authorization.k8s.io/v1" },
  { apiVersion: "rbac.authorization.k8s.io/v1alpha1", kind: "*", removedIn: "v1.22", replacement: "rbac.authorization.k8s.io/v1" },
  { apiVersion: "storage.k8s.io/v1beta1", kind: "StorageClass", removedIn: "v1.22", replacement: "storage.k8s.io/v1" },
  { apiVersion: "coordination.k8s.io/v1beta1", kind: "Lease", removedIn: "v1.22", replacement: "coordination.k8s.io/v1" },
  { apiVersion: "apiextensions.k8s.io/v1beta1", kind: "CustomResourceDefinition", removedIn: "v1.22", replacement: "apiextensions.k8s.io/v1" },
  // v1.25
  { apiVersion: "batch/v1beta1", kind: "CronJob", removedIn: "v1.25", replacement: "batch/v1" },
  { apiVersion: "discovery.k8s.io/v1beta1", kind: "EndpointSlice", removedIn: "v1.25", replacement: "discovery.k8s.io/v1" },
  { apiVersion: "events.k8s.io/v1beta1", kind: "Event", removedIn: "v1.25", replacement: "events.k8s.io/v1" },
  { apiVersion: "autoscaling/v2beta1", kind: "HorizontalPodAutoscaler", removedIn: "v1.25", replacement: "autoscaling/v2" },
  { apiVersion: "policy/v1beta1", kind: "PodDisruptionBudget", removedIn: "v1.25", replacement: "policy/v1", note: "an empty spec.selector now selects every pod in the namespace" },
  { apiVersion: "policy/v1beta1", kind: "PodSecurityPolicy", removedIn: "v1.25", replacement: "no replacement: PodSecurityPolicy was removed; use Pod Security Admission (namespace labels pod-security.kubernetes.io/enforce)" },
  { apiVersion: "node.k8s.io/v1beta1", kind: "RuntimeClass", removedIn: "v1.25", replacement: "node.k8s.io/v1" },
  // v1.26
  { apiVersion: "autoscaling/v2beta2", kind: "HorizontalPodAutoscaler", removedIn: "v1.26", replacement: "autoscaling/v2" },
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta1", kind: "*", removedIn: "v1.26", replacement: "flowcontrol.apiserver.k8s.io/v1" },
  // v1.27
  { apiVersion: "storage.k8s.io/v1beta1", kind: "CSIStorageCapacity", removedIn: "v1.27", replacement: "storage.k8s.io/v1" },
  // v1.29
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta2", kind: "*", removedIn: "v1.29", replacement: "flowcontrol.apiserver.k8s.io/v1" },
  // v1.32
  { apiVersion: "flowcontrol.apiserver.k8s.io/v1beta3", kind: "*", removedIn: "v1.32", replacement: "flowcontrol.apiserver.k8s.io/v1" },
];

/** The removal record for `apiVersion`/`kind`, if that version was removed. */
export function findRemovedApi(apiVersion: string, kind: string): RemovedApi | undefined {
  return REMOVED_APIS.find((r) => r.apiVersion === apiVersion && (r.kind === kind || r.kind === "*"));
}

/**
 * Looks up a kind by `apiVersion` and `kind`. Throws an ApiError (404 NotFound) for an unknown
 * kind, worded like kubectl's `no matches for kind "X" in version "g/v"`, with the version it was
 * removed in and its replacement for removed API versions.
 */
export function kindFor(apiVersion: string, kind: string): KindInfo {
  const info = byApiVersionKind.get(`${apiVersion}/${kind}`);
  if (info) return info;
  if (!apiVersion || !kind) {
    const missing = !apiVersion && !kind ? "apiVersion and kind are" : !apiVersion ? "apiVersion is" : "kind is";
    throw new ApiError(
      failure(400, "BadRequest", `Object 'Kind' is missing or invalid: ${missing} required (for example apiVersion: v1, kind: Pod)`),
    );
  }
  const removed = findRemovedApi(apiVersion, kind);
  if (removed) {
    const note = removed.note ? ` (${removed.note})` : "";
    const replacement = removed.replacement.includes(" ") ? removed.replacement : `use apiVersion: ${removed.replacement}`;
    throw noKindMatch(kind, apiVersion, `${apiVersion} ${kind} was removed in Kubernetes ${removed.removedIn}; ${replacement}${note}`);
  }
  const sameKind = KINDS.filter((k) => k.kind === kind);
  if (sameKind.length > 0) {
    const served = sameKind.map((k) => k.apiVersion).join(" or ");
    throw noKindMatch(kind, apiVersion, `${kind} is served as apiVersion ${served}`);
  }
  const caseless = KINDS.find((k) => k.kind.toLowerCase() === kind.toLowerCase());
  if (caseless) throw noKindMatch(kind, apiVersion, `kinds are case-sensitive: did you mean "${caseless.kind}"?`);
  throw noKindMatch(kind, apiVersion);
}

/** Looks up a kind without throwing. */
export function tryKindFor(apiVersion: string, kind: string): KindInfo | undefined {
  return byApiVersionKind.get(`${apiVersion}/${kind}`);
}

/** Kinds served for a group and plural resource (several when the resource has several versions). */
export function kindsForResource(group: string, resource: string): readonly KindInfo[] {
  return byGroupResource.get(`${group}/${resource}`) ?? [];
}

/** Resolves a name as typed on a command line (`deploy`, `pods`, `pod`, `Deployment`, `deployments.apps`) to a kind, preferring the first served version. */
export function resolveResourceName(name: string): KindInfo | undefined {
  const lower = name.toLowerCase();
  const dot = lower.indexOf(".");
  const base = dot < 0 ? lower : lower.slice(0, dot);
  const group = dot < 0 ? undefined : lower.slice(dot + 1);
  return KINDS.find(
    (k) =>
      (group === undefined || k.group === group) &&
      (k.resource === base || k.singular === base || k.shortNames.includes(base) || k.kind.toLowerCase() === base),
  );
}

/**
 * Storage key for an object, as the kube-apiserver keys etcd: `/registry/<resource>/<namespace>/<name>`
 * for namespaced kinds and `/registry/<resource>/<name>` for cluster-scoped ones.
 */
export function storageKey(info: KindInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `/registry/${info.storageResource}/${namespace}/${name}` : `/registry/${info.storageResource}/${name}`;
}

/** Key prefix for listing or watching a resource, optionally in one namespace. */
export function storagePrefix(info: KindInfo, namespace?: string): string {
  return info.namespaced && namespace ? `/registry/${info.storageResource}/${namespace}/` : `/registry/${info.storageResource}/`;
}

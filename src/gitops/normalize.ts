/**
 * Normalisation for the reconciler's diff: the rules that make two spellings of the same
 * Kubernetes object compare equal, so that a second sync of the same commit finds nothing to do
 * (no "phantom diffs", the first complaint about Argo CD in gitops-anchors.md §4).
 *
 * What is normalised, and where each rule comes from:
 * - server-set metadata (`managedFields`, `resourceVersion`, `uid`, `generation`,
 *   `creationTimestamp`, `selfLink`, deletion fields) and `status` are never compared: Argo CD's
 *   `Normalize` drops `creationTimestamp`, its server-side diff drops `managedFields` and
 *   `resourceVersion`, Flux compares everything but `metadata` and `status`.
 * - annotations written by other tools (`kubectl.kubernetes.io/last-applied-configuration`,
 *   `deployment.kubernetes.io/revision`, `deprecated.daemonset.template.generation`).
 * - Secret `stringData` is folded into base64 `data`, as the API server does on write
 *   (`k8s.io/kubernetes/pkg/apis/core/v1/conversion.go`; Argo CD and Flux both normalise this).
 * - quantities are compared canonically (`0.5` = `500m`, `1Gi` = `1024Mi`, `1` = `"1"`), as
 *   apimachinery's `Quantity` round-trips them (src/api/quantity.ts).
 * - base64 in Secret `data` / ConfigMap `binaryData` is compared by the bytes it encodes (Go's
 *   `[]byte` JSON decoding ignores line breaks and re-encodes with padding).
 * - `null` and empty lists are the same as absent (Go's `omitempty` drops them on the wire), and
 *   so are empty string maps (`labels: {}`). Empty *structs* are not: `emptyDir: {}` means
 *   something, so only known string-map fields lose their `{}`.
 * - a zero scalar (`false`, `0`, `""`) in git equals an absent live field, because a non-pointer
 *   `omitempty` Go field is dropped by the server, except for the pointer fields listed in
 *   `POINTER_FIELDS`, where the server keeps an explicit zero and it means something
 *   (`replicas: 0`, `automountServiceAccountToken: false`).
 * - a port's `protocol` defaults to `TCP` (`SetDefaults_ContainerPort`, `SetDefaults_ServicePort`).
 *
 * What is deliberately NOT normalised: an IntOrString written as `"80"` and as `80` are different
 * values in Kubernetes (a named port vs a number; `"80"` is even invalid as a port name), so
 * they stay a difference. Booleans written as strings are rejected by the API server, so they
 * are never converted either.
 */
import { canonicalQuantity, isQuantity } from "../api/quantity.js";
import type { Json, JsonObject, KubeObject } from "../api/types.js";

/** Annotation in which the reconciler records what it applied last (the three-way diff's base). */
export const LAST_APPLIED_ANNOTATION = "kubelings.dev/last-applied";

/** Metadata fields the API server owns: never compared, never patched. */
export const SERVER_SET_METADATA: readonly string[] = [
  "managedFields",
  "resourceVersion",
  "uid",
  "generation",
  "creationTimestamp",
  "selfLink",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
];

/**
 * Annotations other tools and controllers write: never compared. `last-applied-configuration`
 * is kubectl's client-side apply record; `deployment.kubernetes.io/revision` is the Deployment
 * controller's revision counter (`pkg/controller/deployment/util`); the DaemonSet one is the
 * DaemonSet controller's template generation.
 */
export const IGNORED_ANNOTATIONS: readonly string[] = [
  "kubectl.kubernetes.io/last-applied-configuration",
  "deployment.kubernetes.io/revision",
  "deprecated.daemonset.template.generation",
];

/**
 * Fields that are Go pointers (`*bool`, `*int32`) in the Kubernetes API types: the server keeps
 * an explicit zero and the zero differs from "unset" (usually because the default is not zero),
 * so `false`/`0` in git must match a `false`/`0` in the cluster, not an absent field.
 * From `k8s.io/api/{core,apps,batch,autoscaling,policy}/v1/types.go`.
 */
export const POINTER_FIELDS: ReadonlySet<string> = new Set([
  "replicas",
  "automountServiceAccountToken",
  "suspend",
  "optional",
  "immutable",
  "runAsNonRoot",
  "runAsUser",
  "runAsGroup",
  "fsGroup",
  "privileged",
  "allowPrivilegeEscalation",
  "readOnlyRootFilesystem",
  "enableServiceLinks",
  "shareProcessNamespace",
  "setHostnameAsFQDN",
  "hostUsers",
  "allocateLoadBalancerNodePorts",
  "backoffLimit",
  "backoffLimitPerIndex",
  "completions",
  "parallelism",
  "activeDeadlineSeconds",
  "ttlSecondsAfterFinished",
  "terminationGracePeriodSeconds",
  "revisionHistoryLimit",
  "progressDeadlineSeconds",
  "minReplicas",
  "successfulJobsHistoryLimit",
  "failedJobsHistoryLimit",
  "startingDeadlineSeconds",
  "defaultMode",
  "mode",
  "partition",
  "maxUnavailable",
  "maxSurge",
  "minAvailable",
  "stabilizationWindowSeconds",
  "selectPolicy",
]);

/** Map fields whose values are strings: `{}` there is the same as absent (Go `map` + `omitempty`). */
const STRING_MAP_FIELDS: ReadonlySet<string> = new Set([
  "labels",
  "annotations",
  "nodeSelector",
  "matchLabels",
  "data",
  "binaryData",
  "stringData",
  "parameters",
]);

/** A JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** True for strings, numbers and booleans. */
export function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean";
}

/**
 * True when the map at `segments` holds only strings, so that `{}` there equals absent and a
 * field removed from git removes only the keys git set (others' labels and annotations stay).
 */
export function isStringMap(kind: string, segments: readonly string[]): boolean {
  const key = segments[segments.length - 1];
  if (key === undefined) return false;
  if (key === "data" || key === "binaryData" || key === "stringData") return segments.length === 1 && (kind === "ConfigMap" || kind === "Secret");
  if (key === "parameters") return segments.length === 1 && kind === "StorageClass";
  // A Service's spec.selector is a plain map; a workload's spec.selector is a LabelSelector struct.
  if (key === "selector") return kind === "Service" && segments.length === 2 && segments[0] === "spec";
  return STRING_MAP_FIELDS.has(key);
}

/**
 * True when the value at `segments` (JSON pointer segments, unescaped) is a resource quantity:
 * container and PVC `resources.limits/requests`, ResourceQuota `hard`, LimitRange limits, PV
 * `capacity`, pod `overhead`, `emptyDir.sizeLimit`, HPA v2 metric targets.
 */
export function isQuantityPath(kind: string, segments: readonly string[]): boolean {
  const n = segments.length;
  const key = segments[n - 1];
  const parent = segments[n - 2];
  const grand = segments[n - 3];
  if (key === "sizeLimit") return true;
  if ((parent === "limits" || parent === "requests") && grand === "resources") return true;
  if (parent === "overhead") return true;
  if (kind === "ResourceQuota" && parent === "hard") return true;
  if (kind === "PersistentVolume" && parent === "capacity") return true;
  if (kind === "LimitRange" && (parent === "max" || parent === "min" || parent === "default" || parent === "defaultRequest" || parent === "maxLimitRequestRatio")) return true;
  if (kind === "HorizontalPodAutoscaler" && parent === "target" && (key === "averageValue" || key === "value")) return true;
  return false;
}

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

/** Canonical base64 (padded, no line breaks) of a base64 string; other strings unchanged. */
export function canonicalBase64(text: string): string {
  const compact = text.replace(/[\r\n]/g, "");
  if (!BASE64_RE.test(compact)) return text;
  return Buffer.from(compact, "base64").toString("base64");
}

function isBase64Path(kind: string, segments: readonly string[]): boolean {
  return segments.length === 2 && ((kind === "Secret" && segments[0] === "data") || (kind === "ConfigMap" && segments[0] === "binaryData"));
}

/** The canonical form of one scalar at `segments`: quantities and base64 made canonical. */
export function normalizeScalar(kind: string, segments: readonly string[], value: Json): Json {
  if ((typeof value === "string" || typeof value === "number") && isQuantityPath(kind, segments) && isQuantity(value)) {
    return canonicalQuantity(value);
  }
  if (typeof value === "string" && isBase64Path(kind, segments)) return canonicalBase64(value);
  return value;
}

/**
 * Value-level normalisation of a subtree at `segments`: the same shape, with quantities and base64
 * canonical. Used on live objects, whose shape must stay intact so that patch paths stay valid.
 */
export function normalizeValues(kind: string, segments: readonly string[], value: Json | undefined): Json | undefined {
  if (value === undefined || value === null) return value;
  if (Array.isArray(value)) return value.map((item, i) => normalizeValues(kind, [...segments, String(i)], item) as Json);
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalizeValues(kind, [...segments, k], v) as Json;
    return out;
  }
  return normalizeScalar(kind, segments, value);
}

/**
 * A zero scalar in git (`false`, `0`, `""`) that the cluster does not show: the same thing,
 * because the server drops zero `omitempty` fields, unless the field is a pointer or an entry of a
 * string map (`labels`, `data`, ...).
 */
export function zeroMatchesAbsent(kind: string, segments: readonly string[], value: Json): boolean {
  if (value !== false && value !== 0 && value !== "") return false;
  const key = segments[segments.length - 1];
  if (key === undefined || POINTER_FIELDS.has(key)) return false;
  // An entry of a string map is not an omitempty field: a label with an empty value is kept.
  return !isStringMap(kind, segments.slice(0, -1));
}

/**
 * A value in git equal to the default the API server fills in, for a live object that does not
 * show the field (a server that did not default it): the same thing. Ports default to TCP
 * (`SetDefaults_ContainerPort`, `SetDefaults_ServicePort`); Secrets to type Opaque.
 */
export function defaultMatchesAbsent(kind: string, segments: readonly string[], value: Json): boolean {
  const key = segments[segments.length - 1];
  if (key === "protocol" && segments[segments.length - 3] === "ports") return value === "TCP";
  if (kind === "Secret" && segments.length === 1 && key === "type") return value === "Opaque";
  return false;
}

/** Structural normalisation of a subtree from git: nulls, empty lists and empty string maps dropped. */
function normalizeDesiredNode(kind: string, segments: string[], value: Json): Json | undefined {
  if (value === null) return undefined;
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    return value.map((item, i) => {
      const n = normalizeDesiredNode(kind, [...segments, String(i)], item);
      // Inside a list a position cannot be "absent": keep an emptied item as its empty form.
      return n === undefined ? (Array.isArray(item) ? [] : isPlainObject(item) ? {} : null) : n;
    });
  }
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const n = normalizeDesiredNode(kind, [...segments, k], v);
      if (n !== undefined) out[k] = n;
    }
    if (Object.keys(out).length === 0 && segments.length > 0 && isStringMap(kind, segments)) return undefined;
    return out;
  }
  return normalizeScalar(kind, segments, value);
}

/**
 * Folds a Secret's `stringData` into `data` (base64 of the UTF-8 bytes), `stringData` winning
 * on a key present in both, as the API server does on every write.
 */
export function foldStringData(obj: KubeObject): KubeObject {
  if (obj.kind !== "Secret" || !isPlainObject(obj.stringData)) return obj;
  const data: Record<string, string> = { ...(isPlainObject(obj.data) ? (obj.data as Record<string, string>) : {}) };
  for (const [k, v] of Object.entries(obj.stringData as JsonObject)) {
    if (v === null || v === undefined) continue;
    data[k] = Buffer.from(String(v), "utf8").toString("base64");
  }
  const { stringData: _dropped, ...rest } = obj;
  return { ...rest, data } as KubeObject;
}

/**
 * The comparable form of an object from git or of a last-applied record: server-set metadata,
 * `status`, ignored annotations, nulls, empty lists and empty string maps removed; Secret
 * `stringData` folded into `data`; quantities and base64 canonical. Does not change its input.
 */
export function normalizeObject(obj: KubeObject): KubeObject {
  const folded = foldStringData(obj);
  const { status: _status, ...rest } = folded;
  const meta: Record<string, unknown> = { ...(folded.metadata ?? {}) };
  for (const f of SERVER_SET_METADATA) delete meta[f];
  if (isPlainObject(meta.annotations)) {
    const annotations = { ...(meta.annotations as Record<string, string>) };
    for (const a of IGNORED_ANNOTATIONS) delete annotations[a];
    meta.annotations = annotations;
  }
  const normalized = normalizeDesiredNode(folded.kind, [], { ...rest, metadata: meta } as unknown as Json);
  return normalized as unknown as KubeObject;
}

/** JSON with object keys sorted at every level: a stable text form for records and comparisons. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = sortKeys(value[k]);
    return out;
  }
  return value;
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The last-applied record of an object from git: its normalised form (so `0.5` and `500m`, or
 * `stringData` and `data`, give the same record) without the record annotation itself, as
 * canonical JSON.
 */
export function encodeLastApplied(desired: KubeObject): string {
  const normalized = normalizeObject(desired);
  const annotations = normalized.metadata?.annotations;
  if (annotations && LAST_APPLIED_ANNOTATION in annotations) {
    const { [LAST_APPLIED_ANNOTATION]: _self, ...others } = annotations;
    normalized.metadata = { ...normalized.metadata, annotations: others };
    if (Object.keys(others).length === 0) delete normalized.metadata.annotations;
  }
  return canonicalJson(normalized);
}

/** Parses a last-applied record; throws an Error that names the annotation and the fix. */
export function decodeLastApplied(text: string): KubeObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `annotation ${LAST_APPLIED_ANNOTATION} is not valid JSON (${(err as Error).message}); remove the annotation and the next sync rewrites it`,
    );
  }
  if (!isPlainObject(parsed) || typeof parsed.kind !== "string" || !isPlainObject(parsed.metadata)) {
    throw new Error(`annotation ${LAST_APPLIED_ANNOTATION} does not hold an object with kind and metadata; remove the annotation and the next sync rewrites it`);
  }
  return parsed as unknown as KubeObject;
}

/** A copy of `desired` carrying its own last-applied record in the `kubelings.dev/last-applied` annotation. */
export function withLastApplied(desired: KubeObject): KubeObject {
  const record = encodeLastApplied(desired);
  return {
    ...desired,
    metadata: { ...desired.metadata, annotations: { ...(desired.metadata?.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: record } },
  };
}

/**
 * The last-applied record stored on a live object, or undefined when there is none or it cannot
 * be read (then the diff is two-way: nothing is removed, nothing else goes wrong).
 */
export function readLastApplied(live: KubeObject | undefined): KubeObject | undefined {
  const text = live?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (typeof text !== "string") return undefined;
  try {
    return decodeLastApplied(text);
  } catch {
    return undefined;
  }
}

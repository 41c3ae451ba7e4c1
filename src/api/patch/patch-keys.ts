/**
 * Strategic merge patch metadata for the built-in kinds: which lists merge by a key, which
 * lists of primitives merge as sets, and which maps honour `$retainKeys`.
 *
 * Upstream reads this from the Go struct tags `patchStrategy:"merge" patchMergeKey:"name"` of
 * `k8s.io/api` (core/v1, apps/v1, batch/v1, autoscaling/v2, policy/v1) and of
 * `k8s.io/apimachinery/pkg/apis/meta/v1` (ObjectMeta). Every entry below names the struct
 * field it was copied from. A list without an entry is atomic: a patch replaces it whole
 * (tolerations, envFrom, readinessGates, args, command, volumeClaimTemplates, ...), exactly as
 * for a struct field without a `patchStrategy` tag.
 *
 * Paths are written relative to the object root: map fields are joined with `.`, the elements
 * of a list are `[]` (`spec.template.spec.containers[].env`). The PodSpec table is written once
 * and mounted at every depth a pod template appears.
 */
import { KINDS } from "../kinds.js";

/** How a field is patched (the struct tag of the field upstream). */
export interface PatchMeta {
  /** `merge`: lists merge (by `mergeKey` for lists of objects, as a set for primitives). Absent: replace. */
  readonly strategy?: "merge" | "replace";
  /** Key identifying list elements, e.g. `name` for containers. */
  readonly mergeKey?: string;
  /** `patchStrategy:"...,retainKeys"`: a patch may carry `$retainKeys` to clear unlisted fields. */
  readonly retainKeys?: boolean;
}

/** Field path (relative to some struct) to its patch metadata. */
export type PatchTable = Readonly<Record<string, PatchMeta>>;

function merge(mergeKey?: string, retainKeys = false): PatchMeta {
  const meta: { strategy: "merge"; mergeKey?: string; retainKeys?: boolean } = { strategy: "merge" };
  if (mergeKey) meta.mergeKey = mergeKey;
  if (retainKeys) meta.retainKeys = true;
  return Object.freeze(meta);
}

/** Re-roots a table under `prefix` (`spec` + `containers` = `spec.containers`). */
function mount(prefix: string, table: PatchTable): PatchTable {
  const out: Record<string, PatchMeta> = {};
  for (const [path, meta] of Object.entries(table)) {
    out[`${prefix}.${path}`] = meta;
  }
  return out;
}

/** metav1.ObjectMeta. */
const OBJECT_META: PatchTable = {
  // ObjectMeta.Finalizers `patchStrategy:"merge"` (a set of strings).
  finalizers: merge(),
  // ObjectMeta.OwnerReferences `patchStrategy:"merge" patchMergeKey:"uid"`.
  ownerReferences: merge("uid"),
};

/** core/v1 Container and EphemeralContainerCommon (same tags on both). */
const CONTAINER: PatchTable = {
  // Container.Ports `patchStrategy:"merge" patchMergeKey:"containerPort"`.
  ports: merge("containerPort"),
  // Container.Env `patchStrategy:"merge" patchMergeKey:"name"` (EnvFrom is listType=atomic).
  env: merge("name"),
  // Container.VolumeMounts `patchStrategy:"merge" patchMergeKey:"mountPath"`.
  volumeMounts: merge("mountPath"),
  // Container.VolumeDevices `patchStrategy:"merge" patchMergeKey:"devicePath"`.
  volumeDevices: merge("devicePath"),
};

/** core/v1 PodSpec. Tolerations, readinessGates and the affinity lists are atomic upstream. */
const POD_SPEC: PatchTable = {
  // PodSpec.Volumes `patchStrategy:"merge,retainKeys" patchMergeKey:"name"`.
  volumes: merge("name", true),
  // EphemeralVolumeSource.VolumeClaimTemplate embeds an ObjectMeta.
  ...mount("volumes[].ephemeral.volumeClaimTemplate.metadata", OBJECT_META),
  // PodSpec.InitContainers / Containers / EphemeralContainers `patchStrategy:"merge" patchMergeKey:"name"`.
  initContainers: merge("name"),
  ...mount("initContainers[]", CONTAINER),
  containers: merge("name"),
  ...mount("containers[]", CONTAINER),
  ephemeralContainers: merge("name"),
  ...mount("ephemeralContainers[]", CONTAINER),
  // PodSpec.ImagePullSecrets `patchStrategy:"merge" patchMergeKey:"name"`.
  imagePullSecrets: merge("name"),
  // PodSpec.HostAliases `patchStrategy:"merge" patchMergeKey:"ip"`.
  hostAliases: merge("ip"),
  // PodSpec.TopologySpreadConstraints `patchStrategy:"merge" patchMergeKey:"topologyKey"`
  // (the list map key is topologyKey+whenUnsatisfiable, but SMP merges on topologyKey alone).
  topologySpreadConstraints: merge("topologyKey"),
  // PodSpec.SchedulingGates `patchStrategy:"merge" patchMergeKey:"name"`.
  schedulingGates: merge("name"),
  // PodSpec.ResourceClaims `patchStrategy:"merge,retainKeys" patchMergeKey:"name"`.
  resourceClaims: merge("name", true),
};

/** core/v1 PodTemplateSpec. */
const POD_TEMPLATE_SPEC: PatchTable = { ...mount("metadata", OBJECT_META), ...mount("spec", POD_SPEC) };

/** `status.conditions` with `patchStrategy:"merge" patchMergeKey:"type"`, as most status structs have. */
const STATUS_CONDITIONS: PatchTable = { "status.conditions": merge("type") };

/** Per-kind tables beyond ObjectMeta, keyed `apiVersion/kind`. */
const KIND_TABLES: Readonly<Record<string, PatchTable>> = {
  "v1/Pod": {
    ...mount("spec", POD_SPEC),
    // PodStatus.Conditions (type), HostIPs (ip), PodIPs (ip), ResourceClaimStatuses (name, retainKeys).
    "status.conditions": merge("type"),
    "status.hostIPs": merge("ip"),
    "status.podIPs": merge("ip"),
    "status.resourceClaimStatuses": merge("name", true),
  },
  "v1/Node": {
    // NodeSpec.PodCIDRs `patchStrategy:"merge"` (a set of strings).
    "spec.podCIDRs": merge(),
    // NodeStatus.Conditions and Addresses, both `patchMergeKey:"type"`.
    "status.conditions": merge("type"),
    "status.addresses": merge("type"),
  },
  "v1/Namespace": STATUS_CONDITIONS,
  "v1/PersistentVolumeClaim": STATUS_CONDITIONS,
  "v1/Service": {
    // ServiceSpec.Ports `patchStrategy:"merge" patchMergeKey:"port"`.
    "spec.ports": merge("port"),
    ...STATUS_CONDITIONS,
  },
  // ServiceAccount.Secrets `patchStrategy:"merge" patchMergeKey:"name"` (imagePullSecrets is atomic here).
  "v1/ServiceAccount": { secrets: merge("name") },
  "v1/ReplicationController": { ...mount("spec.template", POD_TEMPLATE_SPEC), ...STATUS_CONDITIONS },
  "apps/v1/Deployment": {
    // DeploymentSpec.Strategy `patchStrategy:"retainKeys"`.
    "spec.strategy": { retainKeys: true },
    ...mount("spec.template", POD_TEMPLATE_SPEC),
    ...STATUS_CONDITIONS,
  },
  "apps/v1/ReplicaSet": { ...mount("spec.template", POD_TEMPLATE_SPEC), ...STATUS_CONDITIONS },
  "apps/v1/StatefulSet": { ...mount("spec.template", POD_TEMPLATE_SPEC), ...STATUS_CONDITIONS },
  "apps/v1/DaemonSet": { ...mount("spec.template", POD_TEMPLATE_SPEC), ...STATUS_CONDITIONS },
  // JobStatus.Conditions `patchStrategy:"merge" patchMergeKey:"type"`.
  "batch/v1/Job": { ...mount("spec.template", POD_TEMPLATE_SPEC), ...STATUS_CONDITIONS },
  // CronJobSpec.JobTemplate is a JobTemplateSpec: ObjectMeta + JobSpec.
  "batch/v1/CronJob": {
    ...mount("spec.jobTemplate.metadata", OBJECT_META),
    ...mount("spec.jobTemplate.spec.template", POD_TEMPLATE_SPEC),
  },
  // HorizontalPodAutoscalerStatus.Conditions (autoscaling/v2 only; v1 has no conditions field).
  "autoscaling/v2/HorizontalPodAutoscaler": STATUS_CONDITIONS,
  // PodDisruptionBudgetStatus.Conditions `patchStrategy:"merge" patchMergeKey:"type"`.
  "policy/v1/PodDisruptionBudget": STATUS_CONDITIONS,
};

const tables = new Map<string, ReadonlyMap<string, PatchMeta>>();
for (const info of KINDS) {
  const key = `${info.apiVersion}/${info.kind}`;
  const table = { ...mount("metadata", OBJECT_META), ...(KIND_TABLES[key] ?? {}) };
  tables.set(key, new Map(Object.entries(table)));
}

/**
 * The strategic merge patch table of a built-in kind, keyed by field path (`spec.template.spec.containers`,
 * `spec.template.spec.containers[].env`), or undefined for a kind kubelings does not serve (a custom
 * resource), for which strategic merge patch is not available.
 */
export function patchTableFor(apiVersion: string, kind: string): ReadonlyMap<string, PatchMeta> | undefined {
  return tables.get(`${apiVersion}/${kind}`);
}

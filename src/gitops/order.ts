/**
 * Apply order: objects something else depends on go first, so that a single sync of a fresh
 * repository works without retries (a Pod's ServiceAccount, ConfigMaps and Secrets exist before
 * the Pod; a PVC's StorageClass before the PVC; a Deployment before the HPA that scales it).
 *
 * The order (issue 4, point 6): Namespaces and cluster-scoped definitions, then namespace
 * policies, ServiceAccounts, RBAC (Roles, then bindings), ConfigMaps, Secrets, StorageClasses,
 * PersistentVolumes, PersistentVolumeClaims, Services, workloads, autoscalers, IngressClasses and
 * Ingresses, then every other kind. Ties: kind, then namespace, then name, so the order never
 * depends on the order of files in the repository. Deletion is the exact reverse.
 *
 * Compared with Argo CD's kind order (`gitops-engine/pkg/sync/sync_tasks.go` `kindOrder`, taken
 * from Helm's `kind_sorter.go`; quoted in gitops-anchors.md §2):
 * - the same: Namespace first; NetworkPolicy, ResourceQuota, LimitRange and PodDisruptionBudget
 *   early (policies exist before the pods they govern); StorageClass, PV, PVC in that order;
 *   Services before workloads; HorizontalPodAutoscaler after the workloads; IngressClass then
 *   Ingress near the end; unknown kinds last.
 * - different: Argo CD puts Secrets before ConfigMaps and ClusterRole/Role after storage; here
 *   RBAC comes right after ServiceAccounts, as the issue asks (a binding needs its role and its
 *   subject, nothing needs a ConfigMap first). Argo CD orders workloads DaemonSet, Pod,
 *   ReplicationController, ReplicaSet, Deployment, HPA, StatefulSet, Job, CronJob; here
 *   controllers come before bare Pods and every workload before the HPA (an HPA whose target does
 *   not exist yet reports FailedGetScale, which Argo CD's own HPA health calls Degraded).
 * - Argo CD also moves each Namespace just before the first object in it (`adjustDeps`); since
 *   every Namespace is first here, that is implied.
 */
import type { KubeObject } from "../api/types.js";

/** Kinds in apply order; kinds not listed come after all of them, sorted by kind name. */
export const KIND_ORDER: readonly string[] = [
  // Namespaces and cluster-scoped definitions.
  "Namespace",
  "CustomResourceDefinition",
  "PriorityClass",
  "RuntimeClass",
  // Namespace policies, before the pods they govern.
  "ResourceQuota",
  "LimitRange",
  "NetworkPolicy",
  "PodDisruptionBudget",
  // Identity and access.
  "ServiceAccount",
  "Role",
  "ClusterRole",
  "RoleBinding",
  "ClusterRoleBinding",
  // Configuration.
  "ConfigMap",
  "Secret",
  // Storage.
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  // Networking a workload depends on.
  "Service",
  "Endpoints",
  "EndpointSlice",
  // Workloads: controllers first, bare pods after.
  "Deployment",
  "ReplicaSet",
  "StatefulSet",
  "DaemonSet",
  "Job",
  "CronJob",
  "Pod",
  "ReplicationController",
  // Autoscalers, after what they scale.
  "HorizontalPodAutoscaler",
  // Ingress, after the Services it routes to.
  "IngressClass",
  "Ingress",
];

const RANK = new Map<string, number>(KIND_ORDER.map((k, i) => [k, i]));

/** Position of a kind in the apply order (kinds not listed share the last position). */
export function kindRank(kind: string): number {
  return RANK.get(kind) ?? KIND_ORDER.length;
}

type Orderable = Pick<KubeObject, "kind" | "metadata">;

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Comparator of the apply order: kind rank, then kind name, then namespace, then name. */
export function compareForApply(a: Orderable, b: Orderable): number {
  return (
    kindRank(a.kind) - kindRank(b.kind) ||
    compareText(a.kind, b.kind) ||
    compareText(a.metadata?.namespace ?? "", b.metadata?.namespace ?? "") ||
    compareText(a.metadata?.name ?? "", b.metadata?.name ?? "")
  );
}

/** The objects in apply order (a new array; the input is not changed). */
export function applyOrder<T extends Orderable>(objects: readonly T[]): T[] {
  return [...objects].sort(compareForApply);
}

/** The objects in deletion order: the exact reverse of the apply order. */
export function deletionOrder<T extends Orderable>(objects: readonly T[]): T[] {
  return applyOrder(objects).reverse();
}

/**
 * Per-kind write rules of the kube-apiserver's registries (`pkg/registry/<group>/<kind>/strategy.go`):
 * what a create resets, which writes bump `metadata.generation`, what the main resource and the
 * status subresource may each change, and which kinds delete gracefully.
 */
import type { KindInfo } from "../kinds.js";
import type { KubeObject } from "../types.js";

/**
 * Kinds whose strategy maintains `metadata.generation` (set to 1 on create, bumped when the spec
 * changes). ConfigMaps, Secrets, Services, Pods (before 1.33) and the like have none.
 */
const GENERATION_KINDS = new Set([
  "apps/Deployment",
  "apps/ReplicaSet",
  "apps/StatefulSet",
  "apps/DaemonSet",
  "/ReplicationController",
  "batch/Job",
  "batch/CronJob",
  "autoscaling/HorizontalPodAutoscaler",
  "policy/PodDisruptionBudget",
  "networking.k8s.io/Ingress",
  "networking.k8s.io/NetworkPolicy",
]);

/** True when the kind tracks `metadata.generation`. */
export function tracksGeneration(info: KindInfo): boolean {
  return GENERATION_KINDS.has(`${info.group}/${info.kind}`);
}

/** The part of an object that is "desired state": everything but metadata and status. */
export function specOf(obj: KubeObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

/**
 * Status a create starts with (`PrepareForCreate`): status written by a client on create is
 * discarded for kinds with a status subresource, except the few whose creator owns it.
 */
export function initialStatus(info: KindInfo, obj: KubeObject): unknown {
  switch (info.kind) {
    case "Pod":
      // pod strategy PrepareForCreate: Status = {Phase: Pending, QOSClass: ...}; QoS is derived from resources.
      return { phase: "Pending", qosClass: qosClass(obj) };
    case "Namespace":
      return { phase: "Active" };
    case "PersistentVolume":
    case "PersistentVolumeClaim":
      return { phase: "Pending" };
    case "Node":
      // The kubelet registers its node with a full status: kept.
      return obj.status;
    default:
      return info.hasStatus ? {} : obj.status;
  }
}

/** Pod QoS class (`pkg/apis/core/helper/qos.GetPodQOS`): Guaranteed, Burstable or BestEffort. */
export function qosClass(pod: KubeObject): "Guaranteed" | "Burstable" | "BestEffort" {
  const containers: any[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const requests = c?.resources?.requests ?? {};
    const limits = c?.resources?.limits ?? {};
    for (const r of ["cpu", "memory"]) {
      if (requests[r] !== undefined || limits[r] !== undefined) any = true;
      if (limits[r] === undefined) guaranteed = false;
      else if (requests[r] !== undefined && String(requests[r]) !== String(limits[r])) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/**
 * Grace period for deleting an object (`CheckGracefulDeleteStrategy`): only Pods delete
 * gracefully. A pod that was never scheduled, or has already finished, goes at once; otherwise
 * the request's grace period, else the pod's terminationGracePeriodSeconds (default 30).
 */
export function gracePeriodFor(info: KindInfo, obj: KubeObject, requested: number | undefined): number {
  if (info.kind !== "Pod" || info.group !== "") return 0;
  if (!obj.spec?.nodeName) return 0;
  const phase = obj.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return 0;
  if (requested !== undefined) return Math.max(0, requested);
  const fromSpec = obj.spec?.terminationGracePeriodSeconds;
  return typeof fromSpec === "number" ? fromSpec : 30;
}

/** Delete propagation policies (`metav1.DeletionPropagation`). */
export type PropagationPolicy = "Background" | "Foreground" | "Orphan";

/**
 * Default propagation when the request names none (`DefaultGarbageCollectionPolicy`): core/v1
 * ReplicationControllers orphan their pods for backward compatibility
 * (`pkg/registry/core/replicationcontroller/strategy.go`); everything else deletes dependents in
 * the background. kubectl always sends an explicit policy (Background unless --cascade says otherwise).
 */
export function defaultPropagation(info: KindInfo): PropagationPolicy {
  return info.group === "" && info.kind === "ReplicationController" ? "Orphan" : "Background";
}

/** Finalizer names the garbage collector understands (`metav1.FinalizerOrphanDependents`, `FinalizerDeleteDependents`). */
export const FINALIZER_ORPHAN = "orphan";
export const FINALIZER_FOREGROUND = "foregroundDeletion";

/**
 * Pod predicates the workload controllers share, as upstream `pkg/api/v1/pod/util.go`
 * (`IsPodReady`, `IsPodAvailable`, `GetPodReadyCondition`) and `pkg/controller/controller_utils.go`
 * (`IsPodActive`, `PodKey`).
 */
import { parseTime } from "../../api/clock.js";
import type { KubeObject } from "../../api/types.js";

/** A pod's condition as stored (`v1.PodCondition`). */
export interface PodCondition {
  readonly type: string;
  readonly status: string;
  readonly lastTransitionTime?: string;
  readonly reason?: string;
  readonly message?: string;
}

/**
 * True when the pod still counts towards its controller's replicas (`IsPodActive`): not finished
 * (phase Succeeded or Failed) and not being deleted.
 */
export function isPodActive(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase !== "Succeeded" && phase !== "Failed" && !pod.metadata.deletionTimestamp;
}

/** The pod's `Ready` condition, if it has one (`GetPodReadyCondition`). */
export function podReadyCondition(pod: KubeObject): PodCondition | undefined {
  const conditions: PodCondition[] | undefined = pod.status?.conditions;
  return conditions?.find((c) => c?.type === "Ready");
}

/** True when the pod's `Ready` condition is `True` (`IsPodReady`). */
export function isPodReady(pod: KubeObject): boolean {
  return podReadyCondition(pod)?.status === "True";
}

/**
 * True when the pod has been Ready for longer than `minReadySeconds` (`IsPodAvailable`). The
 * comparison is strict (`lastTransitionTime + minReadySeconds` must be before now), so a pod that
 * turned Ready at 10:00:00 with minReadySeconds 10 is available only after 10:00:10.
 */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = parseTime(podReadyCondition(pod)?.lastTransitionTime);
  return Number.isFinite(since) && since + minReadySeconds * 1000 < nowMs;
}

/** `namespace/name`, the key expectations track deletions by (`PodKey`). */
export function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ""}/${pod.metadata.name ?? ""}`;
}

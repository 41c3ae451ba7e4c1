/**
 * Which pods a ReplicaSet deletes first when it scales down: upstream
 * `pkg/controller/controller_utils.go` `ActivePodsWithRanks.Less` and
 * `pkg/controller/replicaset/replica_set.go` `getPodsToDelete` /
 * `getPodsRankedByRelatedPodsOnSameNode`, with the PodDeletionCost and LogarithmicScaleDown
 * features on (their defaults since 1.22).
 *
 * Go's `sort.Sort` is not stable, so upstream leaves the order of equal pods to chance; here the
 * pods are first put in name order and then stably sorted, so equal pods go in name order and a
 * simulation gives the same result every time.
 */
import { parseTime } from "../../api/clock.js";
import type { KubeObject } from "../../api/types.js";
import { isPodActive, isPodReady, podReadyCondition } from "./_pod-util.js";

/** Annotation a user sets to tell the ReplicaSet controller which pods to remove first (lower first). */
export const POD_DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost";

/** Phase order used for ranking (`podPhaseToOrdinal`): anything else counts as Pending. */
const PHASE_ORDINAL: Readonly<Record<string, number>> = { Pending: 0, Unknown: 1, Running: 2 };

/** A pod with its rank: the number of active related pods on its node. */
export interface RankedPod {
  readonly pod: KubeObject;
  readonly rank: number;
}

/**
 * The deletion cost of a pod (`GetDeletionCostFromPodAnnotations`): an int32 without a `+` sign
 * or leading zeros; anything invalid counts as 0.
 */
export function podDeletionCost(pod: KubeObject): number {
  const value = pod.metadata.annotations?.[POD_DELETION_COST_ANNOTATION];
  if (value === undefined) return 0;
  const validFirst = value.length > 0 && (value[0] === "-" || value === "0" || (value[0] >= "1" && value[0] <= "9"));
  if (!validFirst || !/^-?\d+$/.test(value)) return 0;
  const n = Number(value);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/** The time the pod became Ready (NaN when not ready): `podReadyTime`. */
function readyTime(pod: KubeObject): number {
  if (!isPodReady(pod)) return Number.NaN;
  return parseTime(podReadyCondition(pod)?.lastTransitionTime);
}

/** "t1 is after t2", where a missing time counts as after any real one (`afterOrZero`). */
function afterOrZero(t1: number, t2: number): boolean {
  const z1 = !Number.isFinite(t1);
  const z2 = !Number.isFinite(t2);
  if (z1 || z2) return z1;
  return t1 > t2;
}

/**
 * Difference of the base-2 logarithmic ranks of two times' ages (`logarithmicRankDiff`): ages are
 * taken in nanoseconds, as upstream's `time.Duration`, so pods of similar age fall in one bucket.
 */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const d1 = (now - t1) * 1e6;
  const d2 = (now - t2) * 1e6;
  const r1 = d1 > 0 ? Math.floor(Math.log2(d1)) : -1;
  const r2 = d2 > 0 ? Math.floor(Math.log2(d2)) : -1;
  return r1 - r2;
}

/** Highest restart count of the regular containers and of the sidecars (init containers with restartPolicy Always). */
function maxContainerRestarts(pod: KubeObject): [number, number] {
  let regular = 0;
  for (const c of pod.status?.containerStatuses ?? []) regular = Math.max(regular, c?.restartCount ?? 0);
  const sidecars = new Set<string>();
  for (const c of pod.spec?.initContainers ?? []) if (c?.restartPolicy === "Always") sidecars.add(c.name);
  let sidecar = 0;
  for (const c of pod.status?.initContainerStatuses ?? []) if (sidecars.has(c?.name)) sidecar = Math.max(sidecar, c?.restartCount ?? 0);
  return [regular, sidecar];
}

function uidOf(pod: KubeObject): string {
  return pod.metadata.uid ?? "";
}

/** Compares two times under LogarithmicScaleDown: later (or missing) first, equal buckets by UID. */
function newerFirst(ti: number, tj: number, pi: KubeObject, pj: KubeObject, now: number): boolean {
  if (!Number.isFinite(ti) || !Number.isFinite(tj)) return afterOrZero(ti, tj);
  const diff = logarithmicRankDiff(ti, tj, now);
  if (diff === 0) return uidOf(pi) < uidOf(pj);
  return diff < 0;
}

/**
 * `ActivePodsWithRanks.Less`: true when pod `a` should be deleted before pod `b`.
 * 1. unassigned before assigned; 2. Pending < Unknown < Running; 3. not ready before ready;
 * 4. lower pod-deletion-cost first; 5. higher rank (more related pods on the same node) first;
 * 6. if both ready, ready for less time first (logarithmic buckets, then UID);
 * 7. more container restarts first (regular, then sidecars); 8. newer first (logarithmic buckets, then UID).
 */
export function deleteBefore(a: RankedPod, b: RankedPod, now: number): boolean {
  const pi = a.pod;
  const pj = b.pod;
  const ni = pi.spec?.nodeName ?? "";
  const nj = pj.spec?.nodeName ?? "";
  if (ni !== nj && (ni === "" || nj === "")) return ni === "";
  const phi = PHASE_ORDINAL[pi.status?.phase ?? ""] ?? 0;
  const phj = PHASE_ORDINAL[pj.status?.phase ?? ""] ?? 0;
  if (phi !== phj) return phi < phj;
  const ri = isPodReady(pi);
  const rj = isPodReady(pj);
  if (ri !== rj) return !ri;
  const ci = podDeletionCost(pi);
  const cj = podDeletionCost(pj);
  if (ci !== cj) return ci < cj;
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (ri && rj) {
    const ti = readyTime(pi);
    const tj = readyTime(pj);
    const same = (Number.isNaN(ti) && Number.isNaN(tj)) || ti === tj;
    if (!same) return newerFirst(ti, tj, pi, pj, now);
  }
  const [regI, sideI] = maxContainerRestarts(pi);
  const [regJ, sideJ] = maxContainerRestarts(pj);
  if (regI !== regJ) return regI > regJ;
  if (sideI !== sideJ) return sideI > sideJ;
  const ci2 = parseTime(pi.metadata.creationTimestamp);
  const cj2 = parseTime(pj.metadata.creationTimestamp);
  const sameCreation = (Number.isNaN(ci2) && Number.isNaN(cj2)) || ci2 === cj2;
  if (!sameCreation) return newerFirst(ci2, cj2, pi, pj, now);
  return false;
}

/**
 * Ranks each pod by the number of active `relatedPods` on its node
 * (`getPodsRankedByRelatedPodsOnSameNode`) and sorts them, first to delete first.
 */
export function rankPodsForDeletion(podsToRank: readonly KubeObject[], relatedPods: readonly KubeObject[], now: number): KubeObject[] {
  const onNode = new Map<string, number>();
  for (const pod of relatedPods) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? "";
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked: RankedPod[] = [...podsToRank]
    .sort((x, y) => ((x.metadata.name ?? "") < (y.metadata.name ?? "") ? -1 : (x.metadata.name ?? "") > (y.metadata.name ?? "") ? 1 : 0))
    .map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? "") ?? 0 }));
  ranked.sort((x, y) => (deleteBefore(x, y, now) ? -1 : deleteBefore(y, x, now) ? 1 : 0));
  return ranked.map((r) => r.pod);
}

/**
 * The `diff` pods a ReplicaSet deletes (`getPodsToDelete`); when all of them go, no ranking is
 * needed and they are taken in name order.
 */
export function getPodsToDelete(filteredPods: readonly KubeObject[], relatedPods: readonly KubeObject[], diff: number, now: number): KubeObject[] {
  if (diff < filteredPods.length) return rankPodsForDeletion(filteredPods, relatedPods, now).slice(0, diff);
  return [...filteredPods].sort((x, y) => ((x.metadata.name ?? "") < (y.metadata.name ?? "") ? -1 : 1)).slice(0, diff);
}

/**
 * Taints and tolerations as the node controllers use them: `ToleratesTaint` and
 * `GetMatchingTolerations` (`pkg/apis/core/v1/helper`), the taint set helpers of
 * `pkg/util/taints`, and `AddOrUpdateTaintOnNode` / `RemoveTaintOffNode`
 * (`pkg/controller/controller_utils.go`): read the node, change `spec.taints`, write it back with
 * the resourceVersion read, and retry on a conflict.
 */
import { rfc3339 } from "../../api/clock.js";
import type { Client } from "../../api/client.js";
import { isReason } from "../../api/errors.js";
import { clone, type KubeObject } from "../../api/types.js";

/** A taint on a node (`v1.Taint`). */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
  readonly timeAdded?: string;
}

/** A toleration on a pod (`v1.Toleration`). */
export interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

/** Well-known taint keys (`k8s.io/api/core/v1/well_known_taints.go`). */
export const TAINT_NOT_READY = "node.kubernetes.io/not-ready";
export const TAINT_UNREACHABLE = "node.kubernetes.io/unreachable";
export const TAINT_UNSCHEDULABLE = "node.kubernetes.io/unschedulable";
export const TAINT_MEMORY_PRESSURE = "node.kubernetes.io/memory-pressure";
export const TAINT_DISK_PRESSURE = "node.kubernetes.io/disk-pressure";
export const TAINT_PID_PRESSURE = "node.kubernetes.io/pid-pressure";
export const TAINT_NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable";
export const TAINT_OUT_OF_SERVICE = "node.kubernetes.io/out-of-service";

/** `Toleration.ToleratesTaint`: empty effect matches all effects, empty key (Exists) all keys, operator defaults to Equal. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator ?? "";
  if (op === "" || op === "Equal") return (t.value ?? "") === (taint.value ?? "");
  return op === "Exists";
}

/**
 * `GetMatchingTolerations`: whether every taint is tolerated, and for each taint the first
 * toleration that tolerates it.
 */
export function matchingTolerations(taints: readonly Taint[], tolerations: readonly Toleration[]): { all: boolean; used: Toleration[] } {
  if (taints.length === 0) return { all: true, used: [] };
  const used: Toleration[] = [];
  for (const taint of taints) {
    const t = tolerations.find((x) => toleratesTaint(x, taint));
    if (!t) return { all: false, used: [] };
    used.push(t);
  }
  return { all: true, used };
}

/** Same key and effect (`Taint.MatchTaint`). */
export function sameTaint(a: Taint, b: Taint): boolean {
  return a.key === b.key && a.effect === b.effect;
}

/** `TaintExists`. */
export function taintExists(taints: readonly Taint[] | undefined, taint: Taint): boolean {
  return (taints ?? []).some((t) => sameTaint(t, taint));
}

/** A node's taints. */
export function taintsOf(node: KubeObject | undefined): Taint[] {
  return (node?.spec?.taints ?? []) as Taint[];
}

/**
 * Adds `add` (stamped `timeAdded` now, as `SwapNodeControllerTaint` does) and removes `remove`
 * from the node's taints in one write. Returns false when the node is gone; nothing is written
 * when the taints already are as asked.
 */
export async function swapNodeTaints(client: Client, nodeName: string, add: readonly Taint[], remove: readonly Taint[], now: number): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    let node: KubeObject;
    try {
      node = await client.get({ apiVersion: "v1", kind: "Node", name: nodeName });
    } catch (err) {
      if (isReason(err, "NotFound")) return false;
      throw err;
    }
    const current = taintsOf(node);
    let next = current.filter((t) => !remove.some((r) => sameTaint(r, t)));
    let changed = next.length !== current.length;
    for (const a of add) {
      const existing = next.find((t) => sameTaint(t, a));
      // AddOrUpdateTaintOnNode: a taint with the same key and effect and the same value is kept as it is.
      if (existing && (existing.value ?? "") === (a.value ?? "")) continue;
      next = next.filter((t) => !sameTaint(t, a));
      next.push({ key: a.key, ...(a.value ? { value: a.value } : {}), effect: a.effect, timeAdded: rfc3339(now) });
      changed = true;
    }
    if (!changed) return true;
    const updated = clone(node) as KubeObject;
    updated.spec = { ...(updated.spec ?? {}) };
    if (next.length) updated.spec.taints = next;
    else delete updated.spec.taints;
    // The kubelet owns the status: a main-resource write must not carry a stale copy of it.
    delete updated.status;
    try {
      await client.update(updated);
      return true;
    } catch (err) {
      if (isReason(err, "Conflict")) continue;
      if (isReason(err, "NotFound")) return false;
      throw err;
    }
  }
  throw new Error(`could not update the taints of node ${nodeName}: it kept changing (5 conflicts in a row)`);
}

/**
 * Taints and tolerations, as component-helpers `scheduling/corev1` (`ToleratesTaint`,
 * `FindMatchingUntoleratedTaint`) and the core API helpers define them.
 */

import type { Toleration } from "./podinfo.js";

/** A node taint (`v1.Taint`). */
export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
  readonly timeAdded?: string;
}

/**
 * `Toleration.ToleratesTaint`: an empty effect matches every effect, an empty key (with Exists)
 * matches every key, and the operator defaults to Equal.
 */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const op = t.operator ?? "";
  if (op === "" || op === "Equal") return (t.value ?? "") === (taint.value ?? "");
  return op === "Exists";
}

/** True when any toleration tolerates the taint (`TolerationsTolerateTaint`). */
export function tolerationsTolerateTaint(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (let i = 0; i < tolerations.length; i++) if (toleratesTaint(tolerations[i], taint)) return true;
  return false;
}

/** The first NoSchedule or NoExecute taint no toleration tolerates (`FindMatchingUntoleratedTaint` with `DoNotScheduleTaintsFilterFunc`). */
export function findUntoleratedDoNotScheduleTaint(taints: readonly Taint[], tolerations: readonly Toleration[]): Taint | undefined {
  for (let i = 0; i < taints.length; i++) {
    const taint = taints[i];
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!tolerationsTolerateTaint(tolerations, taint)) return taint;
  }
  return undefined;
}

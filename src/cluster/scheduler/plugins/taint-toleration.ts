/**
 * TaintToleration (`pkg/scheduler/framework/plugins/tainttoleration`):
 * - Filter: a node with a NoSchedule or NoExecute taint the pod does not tolerate is rejected,
 *   naming the first such taint (`node(s) had untolerated taint {key: value}`), unresolvable by
 *   preemption.
 * - Score: the number of PreferNoSchedule taints not tolerated by the pod's tolerations with an
 *   empty or PreferNoSchedule effect, normalised in reverse (fewer is better). Weight 3.
 */

import { findUntoleratedDoNotScheduleTaint, tolerationsTolerateTaint } from "../_taints.js";
import { rejection, untoleratedTaint } from "../messages.js";
import type { NodeInfo } from "../nodeinfo.js";
import type { Toleration } from "../podinfo.js";
import { SKIP, type Cycle, type FilterPlugin, type PreFilterResult, type ScorePlugin, type Skip, type Status } from "../types.js";
import { defaultNormalizeScore } from "./_normalize.js";

/** TaintToleration plugin. */
export class TaintToleration implements FilterPlugin<undefined>, ScorePlugin<readonly Toleration[]> {
  readonly name = "TaintToleration" as const;

  /** Not an upstream extension point: skips the per-node check when no node has a NoSchedule/NoExecute taint (every node would pass). */
  preFilter(cycle: Cycle): PreFilterResult<undefined> | Skip {
    return cycle.snapshot.numTaintedNodes === 0 ? SKIP : { state: undefined };
  }

  filter(_state: undefined, cycle: Cycle, node: NodeInfo): Status | null {
    if (node.taints.length === 0) return null;
    const taint = findUntoleratedDoNotScheduleTaint(node.taints, cycle.pod.tolerations);
    if (!taint) return null;
    return rejection(this.name, "UnschedulableAndUnresolvable", untoleratedTaint(taint.key, taint.value));
  }

  /** Keeps the tolerations that can tolerate PreferNoSchedule taints. */
  preScore(cycle: Cycle): readonly Toleration[] {
    return cycle.pod.tolerations.filter((t) => !t.effect || t.effect === "PreferNoSchedule");
  }

  scoreAll(tolerations: readonly Toleration[], cycle: Cycle, nodes: readonly NodeInfo[], count: number, out: Float64Array): void {
    for (let i = 0; i < count; i++) out[i] = nodes[i].taints.length === 0 ? 0 : this.score(tolerations, cycle, nodes[i]);
  }

  score(tolerations: readonly Toleration[], _cycle: Cycle, node: NodeInfo): number {
    let n = 0;
    for (const taint of node.taints) {
      if (taint.effect === "PreferNoSchedule" && !tolerationsTolerateTaint(tolerations, taint)) n++;
    }
    return n;
  }

  normalize(_state: readonly Toleration[], _cycle: Cycle, scores: Float64Array, _nodes: readonly NodeInfo[], count: number): void {
    defaultNormalizeScore(scores, count, true);
  }
}

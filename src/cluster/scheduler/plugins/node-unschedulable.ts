/**
 * NodeUnschedulable filter (`pkg/scheduler/framework/plugins/nodeunschedulable`): a cordoned node
 * (`spec.unschedulable: true`) takes only pods that tolerate the
 * `node.kubernetes.io/unschedulable:NoSchedule` taint, as DaemonSet pods do.
 */

import { rejection, REASON_UNSCHEDULABLE } from "../messages.js";
import { tolerationsTolerateTaint, type Taint } from "../_taints.js";
import type { NodeInfo } from "../nodeinfo.js";
import { SKIP, type Cycle, type FilterPlugin, type PreFilterResult, type Skip, type Status } from "../types.js";

/** The taint a cordoned node implies (`v1.TaintNodeUnschedulable` with effect NoSchedule). */
export const UNSCHEDULABLE_TAINT: Taint = Object.freeze({ key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" });

/** NodeUnschedulable plugin. */
export class NodeUnschedulable implements FilterPlugin<undefined> {
  readonly name = "NodeUnschedulable" as const;
  private readonly rejected = rejection(this.name, "UnschedulableAndUnresolvable", REASON_UNSCHEDULABLE);

  /** Not an upstream extension point: skips the per-node check when no node is cordoned or the pod tolerates cordons (every node would pass). */
  preFilter(cycle: Cycle): PreFilterResult<undefined> | Skip {
    if (cycle.snapshot.numUnschedulableNodes === 0) return SKIP;
    return tolerationsTolerateTaint(cycle.pod.tolerations, UNSCHEDULABLE_TAINT) ? SKIP : { state: undefined };
  }

  filter(_state: undefined, cycle: Cycle, node: NodeInfo): Status | null {
    if (!node.unschedulable) return null;
    return tolerationsTolerateTaint(cycle.pod.tolerations, UNSCHEDULABLE_TAINT) ? null : this.rejected;
  }
}

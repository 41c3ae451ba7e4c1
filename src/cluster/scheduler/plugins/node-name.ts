/**
 * NodeName filter (`pkg/scheduler/framework/plugins/nodename`): a pod that names a node in
 * `spec.nodeName` fits only that node.
 */

import { rejection, REASON_NODE_NAME } from "../messages.js";
import type { NodeInfo } from "../nodeinfo.js";
import { SKIP, type Cycle, type FilterPlugin, type PreFilterResult, type Skip, type Status } from "../types.js";

/** NodeName plugin. */
export class NodeName implements FilterPlugin<undefined> {
  readonly name = "NodeName" as const;
  private readonly rejected = rejection(this.name, "UnschedulableAndUnresolvable", REASON_NODE_NAME);

  /** Not an upstream extension point: skips the per-node check when the pod names no node (every node would pass). */
  preFilter(cycle: Cycle): PreFilterResult<undefined> | Skip {
    return cycle.pod.nodeName === "" ? SKIP : { state: undefined };
  }

  filter(_state: undefined, cycle: Cycle, node: NodeInfo): Status | null {
    const wanted = cycle.pod.nodeName;
    return wanted === "" || wanted === node.name ? null : this.rejected;
  }
}

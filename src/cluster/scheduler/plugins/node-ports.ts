/**
 * NodePorts filter (`pkg/scheduler/framework/plugins/nodeports`): a pod asking for host ports fits
 * only nodes where no bound pod holds the same protocol/port on the same (or the wildcard) host IP.
 * Pods without host ports skip the plugin. Preemption may help (Unschedulable).
 */

import { rejection, REASON_NODE_PORTS } from "../messages.js";
import type { NodeInfo } from "../nodeinfo.js";
import type { HostPort } from "../podinfo.js";
import { SKIP, type Cycle, type FilterPlugin, type PreFilterResult, type Skip, type Status } from "../types.js";

/** NodePorts plugin. */
export class NodePorts implements FilterPlugin<readonly HostPort[]> {
  readonly name = "NodePorts" as const;
  private readonly rejected = rejection(this.name, "Unschedulable", REASON_NODE_PORTS);

  preFilter(cycle: Cycle): PreFilterResult<readonly HostPort[]> | Skip {
    const ports = cycle.pod.hostPorts;
    return ports.length === 0 ? SKIP : { state: ports };
  }

  filter(ports: readonly HostPort[], _cycle: Cycle, node: NodeInfo): Status | null {
    for (let i = 0; i < ports.length; i++) if (node.portConflicts(ports[i])) return this.rejected;
    return null;
  }
}

/**
 * The filter plugins that take part in one scheduling attempt, with their PreFilter states:
 * running them on a node (`RunFilterPlugins`, stopping at the first rejection), with nominated
 * pods counted (`RunFilterPluginsWithNominatedPods`), and the copy-and-update operations preemption
 * needs (`CycleState.Clone`, `RunPreFilterExtensionAddPod/RemovePod`).
 */

import type { NodeInfo } from "./nodeinfo.js";
import type { PodInfo } from "./podinfo.js";
import type { Cycle, FilterPlugin, Status } from "./types.js";

/** Filter plugins not skipped by PreFilter, in order, with their states. */
export class ActiveFilters {
  constructor(
    readonly plugins: readonly FilterPlugin<any>[],
    readonly states: unknown[],
  ) {}

  /** `RunFilterPlugins`: the first rejection, or null when every plugin passes. */
  run(cycle: Cycle, node: NodeInfo): Status | null {
    const plugins = this.plugins;
    const states = this.states;
    for (let i = 0; i < plugins.length; i++) {
      const s = plugins[i].filter(states[i], cycle, node);
      if (s !== null) return s;
    }
    return null;
  }

  /**
   * `RunFilterPluginsWithNominatedPods`: when pods of equal or higher priority are nominated to the
   * node, the pod must fit both with them counted as running and without them (affinity may need
   * them absent, resources need them present).
   */
  runWithNominated(cycle: Cycle, node: NodeInfo): Status | null {
    if (cycle.snapshot.numNominatedPods === 0) return this.run(cycle, node);
    const nominated = cycle.snapshot.nominatedPodsForNode(node.name);
    if (nominated.length === 0) return this.run(cycle, node);
    let withNominated: NodeInfo | undefined;
    let filters: ActiveFilters | undefined;
    for (const p of nominated) {
      if (p.priority < cycle.pod.priority || p.key === cycle.pod.key) continue;
      withNominated ??= node.clone();
      filters ??= this.clone();
      withNominated.addPod(p);
      filters.addPod(cycle, p, withNominated);
    }
    if (!withNominated || !filters) return this.run(cycle, node);
    const first = filters.run(cycle, withNominated);
    if (first !== null) return first;
    return this.run(cycle, node);
  }

  /** A copy whose states can be updated independently. */
  clone(): ActiveFilters {
    return new ActiveFilters(
      this.plugins,
      this.plugins.map((p, i) => (p.cloneState ? p.cloneState(this.states[i]) : this.states[i])),
    );
  }

  /** Tells every plugin's state that `pod` now runs on `node`. */
  addPod(cycle: Cycle, pod: PodInfo, node: NodeInfo): void {
    for (let i = 0; i < this.plugins.length; i++) this.plugins[i].addPod?.(this.states[i], cycle, pod, node);
  }

  /** Tells every plugin's state that `pod` no longer runs on `node`. */
  removePod(cycle: Cycle, pod: PodInfo, node: NodeInfo): void {
    for (let i = 0; i < this.plugins.length; i++) this.plugins[i].removePod?.(this.states[i], cycle, pod, node);
  }
}

/**
 * NodeResourcesBalancedAllocation score (`noderesources/balanced_allocation.go`): favours nodes
 * whose cpu and memory would be used in similar fractions after placing the pod:
 * score = (1 - std(fractions)) * 100, where for two resources std = |f1 - f2| / 2 and each fraction
 * is capped at 1. Uses the real requests (no 100m/200Mi defaults) and is skipped for best-effort
 * pods, which would otherwise all pile onto one node (kubernetes#129138). Weight 1.
 */

import type { NodeInfo } from "../nodeinfo.js";
import { MAX_NODE_SCORE, SKIP, type Cycle, type ScorePlugin, type Skip } from "../types.js";
import { DEFAULT_RESOURCES, ResourceAllocation, type ResourceSpec } from "./node-resources-fit.js";

interface State {
  readonly podReq: Float64Array;
}

/** `balancedResourceScorer`. */
export function balancedResourceScore(requested: Float64Array, allocatable: Float64Array, fractions: Float64Array): number {
  let n = 0;
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    if (allocatable[i] === 0) continue;
    const f = Math.min(requested[i] / allocatable[i], 1);
    fractions[n++] = f;
    total += f;
  }
  let std = 0;
  if (n === 2) {
    std = Math.abs((fractions[0] - fractions[1]) / 2);
  } else if (n > 2) {
    const mean = total / n;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += (fractions[i] - mean) * (fractions[i] - mean);
    std = Math.sqrt(sum / n);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}

/** NodeResourcesBalancedAllocation plugin. */
export class BalancedAllocation implements ScorePlugin<State> {
  readonly name = "NodeResourcesBalancedAllocation" as const;
  private readonly allocation: ResourceAllocation;
  private readonly alloc: Float64Array;
  private readonly req: Float64Array;
  private readonly fractions: Float64Array;

  constructor(resources: readonly ResourceSpec[] = DEFAULT_RESOURCES) {
    this.allocation = new ResourceAllocation(resources, true);
    this.alloc = new Float64Array(this.allocation.length);
    this.req = new Float64Array(this.allocation.length);
    this.fractions = new Float64Array(this.allocation.length);
  }

  preScore(cycle: Cycle): State | Skip {
    const podReq = this.allocation.podRequests(cycle.pod);
    for (let i = 0; i < podReq.length; i++) if (podReq[i] !== 0) return { podReq };
    return SKIP;
  }

  scoreAll(state: State, cycle: Cycle, nodes: readonly NodeInfo[], count: number, out: Float64Array): void {
    if (!this.allocation.cpuMemoryOnly) {
      for (let i = 0; i < count; i++) out[i] = this.score(state, cycle, nodes[i]);
      return;
    }
    // balancedResourceScore for [cpu, memory]: std of two fractions is half their difference.
    const pc = state.podReq[0];
    const pm = state.podReq[1];
    for (let i = 0; i < count; i++) {
      const n = nodes[i];
      const ac = n.allocatable.milliCPU;
      const am = n.allocatable.memory;
      if (ac === 0 || am === 0) {
        out[i] = MAX_NODE_SCORE;
        continue;
      }
      const fc = Math.min((n.requested.milliCPU + pc) / ac, 1);
      const fm = Math.min((n.requested.memory + pm) / am, 1);
      out[i] = Math.trunc((1 - Math.abs((fc - fm) / 2)) * MAX_NODE_SCORE);
    }
  }

  score(state: State, _cycle: Cycle, node: NodeInfo): number {
    this.allocation.fill(node, state.podReq, this.alloc, this.req);
    return balancedResourceScore(this.req, this.alloc, this.fractions);
  }
}

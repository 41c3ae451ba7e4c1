/**
 * NodeResourcesFit (`pkg/scheduler/framework/plugins/noderesources/fit.go`, `least_allocated.go`,
 * `most_allocated.go`, `resource_allocation.go`):
 * - Filter: one more pod must fit `allocatable.pods` ("Too many pods"), and every requested
 *   resource must fit allocatable minus what bound pods request ("Insufficient cpu", ...). All
 *   failing resources are reported. A request larger than the node's whole allocatable cannot be
 *   fixed by preemption (UnschedulableAndUnresolvable); otherwise it can (Unschedulable).
 * - Score (weight 1): LeastAllocated (default, spreads) or MostAllocated (bin-packs) over cpu and
 *   memory with weight 1 each. Scoring counts 100m cpu / 200Mi memory for containers without a
 *   request (NonZeroRequested); the filter uses the real requests.
 */

import { insufficient, REASON_TOO_MANY_PODS } from "../messages.js";
import type { Resources } from "../_resources.js";
import { isScalarResourceName } from "../_resources.js";
import type { NodeInfo } from "../nodeinfo.js";
import type { PodInfo } from "../podinfo.js";
import { MAX_NODE_SCORE, Status, type Cycle, type FilterPlugin, type PreFilterResult, type ScorePlugin } from "../types.js";

/** Scoring strategies of `NodeResourcesFitArgs.scoringStrategy.type` this scheduler implements. */
export type ScoringStrategy = "LeastAllocated" | "MostAllocated";

/** A resource and its weight in the score (`config.ResourceSpec`). */
export interface ResourceSpec {
  readonly name: string;
  readonly weight: number;
}

/** Default scored resources: cpu and memory, weight 1 each (`defaults.go`). */
export const DEFAULT_RESOURCES: readonly ResourceSpec[] = Object.freeze([
  { name: "cpu", weight: 1 },
  { name: "memory", weight: 1 },
]);

const KIND_CPU = 0;
const KIND_MEMORY = 1;
const KIND_EPHEMERAL = 2;
const KIND_SCALAR = 3;

function kindOf(name: string): number {
  if (name === "cpu") return KIND_CPU;
  if (name === "memory") return KIND_MEMORY;
  if (name === "ephemeral-storage") return KIND_EPHEMERAL;
  if (isScalarResourceName(name)) return KIND_SCALAR;
  throw new Error(`scoring resource "${name}" is not supported; use cpu, memory, ephemeral-storage or an extended resource name`);
}

/** How a resource-allocation scorer reads pods and nodes (shared with NodeResourcesBalancedAllocation). */
export class ResourceAllocation {
  private readonly kinds: Int32Array;
  private readonly names: readonly string[];
  readonly weights: Float64Array;
  /** True for the default resource list (cpu then memory): plugins take an arithmetic fast path. */
  readonly cpuMemoryOnly: boolean;

  constructor(
    resources: readonly ResourceSpec[],
    /** Use real requests (BalancedAllocation) instead of NonZeroRequested (Least/MostAllocated). */
    private readonly useRequested: boolean,
  ) {
    if (resources.length === 0) throw new Error("resources: at least one resource must be scored");
    this.kinds = Int32Array.from(resources.map((r) => kindOf(r.name)));
    this.names = resources.map((r) => r.name);
    // Weight 0 defaults to 1 (SetDefaults_NodeResourcesFitArgs).
    this.weights = Float64Array.from(resources.map((r) => (r.weight > 0 ? r.weight : 1)));
    this.cpuMemoryOnly = this.kinds.length === 2 && this.kinds[0] === KIND_CPU && this.kinds[1] === KIND_MEMORY;
  }

  /** Number of scored resources. */
  get length(): number {
    return this.kinds.length;
  }

  /** `calculatePodResourceRequestList`. */
  podRequests(pod: PodInfo): Float64Array {
    const out = new Float64Array(this.kinds.length);
    for (let i = 0; i < this.kinds.length; i++) {
      switch (this.kinds[i]) {
        case KIND_CPU:
          out[i] = this.useRequested ? pod.requests.milliCPU : pod.nonZeroMilliCPU;
          break;
        case KIND_MEMORY:
          out[i] = this.useRequested ? pod.requests.memory : pod.nonZeroMemory;
          break;
        case KIND_EPHEMERAL:
          out[i] = pod.requests.ephemeralStorage;
          break;
        default:
          out[i] = pod.requests.scalar?.[this.names[i]] ?? 0;
      }
    }
    return out;
  }

  /**
   * `calculateResourceAllocatableRequest` for resource i: writes allocatable to alloc[i] and the
   * node's requests plus the pod's to req[i]; (0, 0) means "do not score this resource".
   */
  fill(node: NodeInfo, podReq: Float64Array, alloc: Float64Array, req: Float64Array): void {
    for (let i = 0; i < this.kinds.length; i++) {
      const p = podReq[i];
      switch (this.kinds[i]) {
        case KIND_CPU:
          alloc[i] = node.allocatable.milliCPU;
          req[i] = (this.useRequested ? node.requested.milliCPU : node.nonZeroMilliCPU) + p;
          break;
        case KIND_MEMORY:
          alloc[i] = node.allocatable.memory;
          req[i] = (this.useRequested ? node.requested.memory : node.nonZeroMemory) + p;
          break;
        case KIND_EPHEMERAL:
          alloc[i] = node.allocatable.ephemeralStorage;
          req[i] = node.requested.ephemeralStorage + p;
          break;
        default: {
          const a = node.allocatable.scalar?.[this.names[i]];
          if (p === 0 || a === undefined) {
            alloc[i] = 0;
            req[i] = 0;
          } else {
            alloc[i] = a;
            req[i] = (node.requested.scalar?.[this.names[i]] ?? 0) + p;
          }
        }
      }
      if (alloc[i] === 0) req[i] = 0;
    }
  }
}

/** `leastRequestedScore`: the free fraction after placing the pod, 0..100 (integer division). */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** `mostRequestedScore`: the used fraction after placing the pod, 0..100 (requests above capacity count as full). */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return Math.floor((Math.min(requested, capacity) * MAX_NODE_SCORE) / capacity);
}

interface ScoreState {
  readonly podReq: Float64Array;
}

/** NodeResourcesFit plugin. */
export class NodeResourcesFit implements FilterPlugin<Resources>, ScorePlugin<ScoreState> {
  readonly name = "NodeResourcesFit" as const;
  private readonly alloc: Float64Array;
  private readonly req: Float64Array;
  private readonly allocation: ResourceAllocation;
  private readonly perResource: (requested: number, capacity: number) => number;

  constructor(
    readonly strategy: ScoringStrategy = "LeastAllocated",
    resources: readonly ResourceSpec[] = DEFAULT_RESOURCES,
  ) {
    if (strategy !== "LeastAllocated" && strategy !== "MostAllocated") {
      throw new Error(`scoringStrategy: "${strategy}" is not supported; use LeastAllocated or MostAllocated`);
    }
    this.allocation = new ResourceAllocation(resources, false);
    this.alloc = new Float64Array(this.allocation.length);
    this.req = new Float64Array(this.allocation.length);
    this.perResource = strategy === "LeastAllocated" ? leastRequestedScore : mostRequestedScore;
  }

  preFilter(cycle: Cycle): PreFilterResult<Resources> {
    return { state: cycle.pod.requests };
  }

  filter(r: Resources, _cycle: Cycle, node: NodeInfo): Status | null {
    let reasons: string[] | null = null;
    let unresolvable = false;
    if (node.pods.length + 1 > node.allowedPodNumber) (reasons ??= []).push(REASON_TOO_MANY_PODS);
    if (r.milliCPU === 0 && r.memory === 0 && r.ephemeralStorage === 0 && r.scalar === null) {
      return reasons ? new Status("Unschedulable", reasons, this.name) : null;
    }
    const a = node.allocatable;
    const used = node.requested;
    if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - used.milliCPU) {
      (reasons ??= []).push(insufficient("cpu"));
      if (r.milliCPU > a.milliCPU) unresolvable = true;
    }
    if (r.memory > 0 && r.memory > a.memory - used.memory) {
      (reasons ??= []).push(insufficient("memory"));
      if (r.memory > a.memory) unresolvable = true;
    }
    if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - used.ephemeralStorage) {
      (reasons ??= []).push(insufficient("ephemeral-storage"));
      if (r.ephemeralStorage > a.ephemeralStorage) unresolvable = true;
    }
    if (r.scalar) {
      for (const name of Object.keys(r.scalar)) {
        const q = r.scalar[name];
        if (q === 0) continue;
        const have = a.scalar?.[name] ?? 0;
        if (q > have - (used.scalar?.[name] ?? 0)) {
          (reasons ??= []).push(insufficient(name));
          if (q > have) unresolvable = true;
        }
      }
    }
    if (!reasons) return null;
    return new Status(unresolvable ? "UnschedulableAndUnresolvable" : "Unschedulable", reasons, this.name);
  }

  preScore(cycle: Cycle): ScoreState {
    return { podReq: this.allocation.podRequests(cycle.pod) };
  }

  scoreAll(state: ScoreState, cycle: Cycle, nodes: readonly NodeInfo[], count: number, out: Float64Array): void {
    if (!this.allocation.cpuMemoryOnly) {
      for (let i = 0; i < count; i++) out[i] = this.score(state, cycle, nodes[i]);
      return;
    }
    // Same arithmetic as score() for [cpu, memory], without the per-resource dispatch.
    const pc = state.podReq[0];
    const pm = state.podReq[1];
    const w0 = this.allocation.weights[0];
    const w1 = this.allocation.weights[1];
    const f = this.perResource;
    for (let i = 0; i < count; i++) {
      const n = nodes[i];
      const ac = n.allocatable.milliCPU;
      const am = n.allocatable.memory;
      let sum = 0;
      let ws = 0;
      if (ac !== 0) {
        sum += f(n.nonZeroMilliCPU + pc, ac) * w0;
        ws += w0;
      }
      if (am !== 0) {
        sum += f(n.nonZeroMemory + pm, am) * w1;
        ws += w1;
      }
      out[i] = ws === 0 ? 0 : Math.floor(sum / ws);
    }
  }

  score(state: ScoreState, _cycle: Cycle, node: NodeInfo): number {
    const alloc = this.alloc;
    const req = this.req;
    this.allocation.fill(node, state.podReq, alloc, req);
    const w = this.allocation.weights;
    let sum = 0;
    let weightSum = 0;
    for (let i = 0; i < alloc.length; i++) {
      if (alloc[i] === 0) continue;
      sum += this.perResource(req[i], alloc[i]) * w[i];
      weightSum += w[i];
    }
    return weightSum === 0 ? 0 : Math.floor(sum / weightSum);
  }
}

/**
 * The scheduling framework's vocabulary: statuses, plugin interfaces and plugin names, modelled on
 * kube-scheduler's `k8s.io/kube-scheduler/framework` (Status, PreFilter/Filter/PreScore/Score
 * plugins, PreFilterExtensions) but shaped for a single-threaded simulator: a plugin's PreFilter
 * and PreScore return their state instead of writing it into a shared CycleState map, so the hot
 * path does no map look-ups.
 */

import type { NodeInfo } from "./nodeinfo.js";
import type { PodInfo } from "./podinfo.js";
import type { Snapshot } from "./snapshot.js";

/** Highest score a plugin may give a node after normalisation (`framework.MaxNodeScore`). */
export const MAX_NODE_SCORE = 100;

/** Names of the default kube-scheduler plugins (`pkg/scheduler/framework/plugins/names`). */
export type PluginName =
  | "SchedulingGates"
  | "PrioritySort"
  | "NodeUnschedulable"
  | "NodeName"
  | "TaintToleration"
  | "NodeAffinity"
  | "NodePorts"
  | "NodeResourcesFit"
  | "PodTopologySpread"
  | "InterPodAffinity"
  | "DefaultPreemption"
  | "NodeResourcesBalancedAllocation"
  | "ImageLocality";

/**
 * Why a node (or the whole cycle) rejected the pod. `Unschedulable` may be fixed by preempting
 * lower-priority pods; `UnschedulableAndUnresolvable` cannot (upstream status codes).
 */
export type RejectionCode = "Unschedulable" | "UnschedulableAndUnresolvable";

/** A rejection: the upstream `framework.Status` for the non-success codes a filter may return. */
export class Status {
  constructor(
    /** Whether preemption could help. */
    readonly code: RejectionCode,
    /** Reason strings, exactly as upstream words them; counted in the FailedScheduling message. */
    readonly reasons: readonly string[],
    /** The plugin that rejected. */
    readonly plugin: string,
  ) {}

  /** `Status.Message()`: the reasons joined with ", ". */
  get message(): string {
    return this.reasons.join(", ");
  }
}

/** Marker a PreFilter or PreScore returns to skip its plugin for this cycle (upstream `Skip` status). */
export const SKIP: unique symbol = Symbol("Skip");
/** Type of {@link SKIP}. */
export type Skip = typeof SKIP;

/** Everything a plugin may read during one scheduling attempt. */
export interface Cycle {
  /** The pod being scheduled, parsed once for the attempt. */
  readonly pod: PodInfo;
  /** The cluster as the scheduler sees it. */
  readonly snapshot: Snapshot;
}

/** What PreFilter returns when the plugin takes part: its state, and optionally the only nodes worth checking. */
export interface PreFilterResult<S> {
  readonly state: S;
  /** `PreFilterResult.NodeNames`: when set, only these nodes are filtered. */
  readonly nodeNames?: ReadonlySet<string>;
}

/** A Filter plugin, with its optional PreFilter and PreFilterExtensions (AddPod/RemovePod, used by preemption). */
export interface FilterPlugin<S = unknown> {
  readonly name: PluginName;
  /** Computes per-attempt state; `SKIP` when the plugin has nothing to check for this pod; a Status to reject the pod outright. */
  preFilter?(cycle: Cycle): PreFilterResult<S> | Status | Skip;
  /** Checks one node: `null` when the pod fits. Must not allocate on success. */
  filter(state: S, cycle: Cycle, node: NodeInfo): Status | null;
  /** Copies the state so preemption can change it for one node without touching the cycle's state. */
  cloneState?(state: S): S;
  /** Updates the state as if `pod` were added to `node` (PreFilterExtensions.AddPod). */
  addPod?(state: S, cycle: Cycle, pod: PodInfo, node: NodeInfo): void;
  /** Updates the state as if `pod` were removed from `node` (PreFilterExtensions.RemovePod). */
  removePod?(state: S, cycle: Cycle, pod: PodInfo, node: NodeInfo): void;
}

/** A Score plugin with its optional PreScore and NormalizeScore. */
export interface ScorePlugin<S = unknown> {
  readonly name: PluginName;
  /** Computes per-attempt state from the feasible nodes (`nodes[0..count)`); `SKIP` leaves the plugin out of the sum. */
  preScore?(cycle: Cycle, nodes: readonly NodeInfo[], count: number): S | Skip;
  /** Raw score of one feasible node. */
  score(state: S, cycle: Cycle, node: NodeInfo): number;
  /** Raw scores of `nodes[0..count)` into `out`; same result as calling `score` per node, in one monomorphic loop. */
  scoreAll?(state: S, cycle: Cycle, nodes: readonly NodeInfo[], count: number, out: Float64Array): void;
  /** Rescales `scores[0..count)` in place to 0..MAX_NODE_SCORE. */
  normalize?(state: S, cycle: Cycle, scores: Float64Array, nodes: readonly NodeInfo[], count: number): void;
}

/**
 * The words the scheduler uses, exactly as kube-scheduler writes them: per-plugin reason strings
 * (each plugin's `ErrReason*` constants) and the FailedScheduling message built by
 * `FitError.Error()` (`pkg/scheduler/framework/types.go`):
 *
 *   0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },
 *   3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for
 *   scheduling, 3 No preemption victims found for incoming pod.
 *
 * Reasons are counted over nodes, rendered "<count> <reason>", sorted as plain strings (Go
 * `sort.Strings`, so "10 ..." sorts before "2 ..."), joined with ", " and closed with ".".
 */

import { Status } from "./types.js";

/** NodeUnschedulable (`ErrReasonUnschedulable`). */
export const REASON_UNSCHEDULABLE = "node(s) were unschedulable";
/** NodeName (`ErrReason`). */
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";
/** NodeAffinity (`ErrReasonPod`). */
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
/** NodeAffinity PreFilter when every term names conflicting nodes (`errReasonConflict`). */
export const REASON_NODE_AFFINITY_CONFLICT = "pod affinity terms conflict";
/** NodePorts (`ErrReason`). */
export const REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";
/** NodeResourcesFit pod-count reason. */
export const REASON_TOO_MANY_PODS = "Too many pods";
/** PodTopologySpread (`ErrReasonConstraintsNotMatch`). */
export const REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
/** PodTopologySpread when the node lacks a topology key (`ErrReasonNodeLabelNotMatch`). */
export const REASON_SPREAD_MISSING_LABEL = `${REASON_SPREAD} (missing required label)`;
/** InterPodAffinity (`ErrReasonAffinityRulesNotMatch`). */
export const REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules";
/** InterPodAffinity (`ErrReasonAntiAffinityRulesNotMatch`). */
export const REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
/** InterPodAffinity (`ErrReasonExistingAntiAffinityRulesNotMatch`). */
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
/** DefaultPreemption: the node failed for a reason removing pods cannot fix. */
export const REASON_PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling";
/** DefaultPreemption: the node has no pod of lower priority than the incoming one. */
export const REASON_NO_VICTIMS = "No preemption victims found for incoming pod";
/** DefaultPreemption eligibility (`PodEligibleToPreemptOthers`). */
export const REASON_PREEMPTION_NEVER = "not eligible due to preemptionPolicy=Never.";
/** DefaultPreemption eligibility while earlier victims are still terminating. */
export const REASON_PREEMPTION_TERMINATING = "not eligible due to a terminating pod on the nominated node.";
/** `ErrNoNodesAvailable`. */
export const MESSAGE_NO_NODES = "no nodes available to schedule pods";
/** Event notes are cut to this many bytes (`validation.NoteLengthLimit`). */
export const NOTE_LENGTH_LIMIT = 1024;

/** NodeResourcesFit reason for one resource (`Insufficient cpu`, `Insufficient nvidia.com/gpu`). */
export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

/** TaintToleration reason, naming the first untolerated taint as `{key: value}`. */
export function untoleratedTaint(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ""}}`;
}

/** Framework reason for nodes a PreFilterResult left out (`node(s) didn't satisfy plugin(s) [NodeAffinity]`). */
export function didNotSatisfyPlugins(plugins: readonly string[]): string {
  return `node(s) didn't satisfy plugin(s) [${[...plugins].sort().join(" ")}]`;
}

/** Framework reason when PreFilterResults leave no node at all. */
export function noNodeSatisfiesPlugins(plugins: readonly string[]): string {
  const sorted = [...plugins].sort();
  return sorted.length === 1
    ? `node(s) didn't satisfy plugin ${sorted[0]}`
    : `node(s) didn't satisfy plugin(s) [${sorted.join(" ")}] simultaneously`;
}

/** Why the pod fits nowhere (upstream `framework.Diagnosis`). */
export interface Diagnosis {
  /** Status of every node a filter rejected, by node name. */
  readonly nodeToStatus: Map<string, Status>;
  /** Status of the nodes not in `nodeToStatus` (a PreFilter rejection or narrowing); none when undefined. */
  absentStatus: Status | undefined;
  /** Plugins that rejected the pod somewhere: the scheduling queue retries it on events these plugins care about. */
  readonly unschedulablePlugins: Set<string>;
  /** Message of a PreFilter rejection ("" when PreFilter passed). */
  preFilterMsg: string;
  /** Message of the PostFilter (preemption) step ("" when it nominated a node). */
  postFilterMsg: string;
}

/** A fresh, empty diagnosis. */
export function newDiagnosis(): Diagnosis {
  return { nodeToStatus: new Map(), absentStatus: undefined, unschedulablePlugins: new Set(), preFilterMsg: "", postFilterMsg: "" };
}

/** `FitError.Error()`: "0/N nodes are available: <PreFilterMsg>. <sorted counted reasons>. <PostFilterMsg>". */
export function fitErrorMessage(numAllNodes: number, d: Diagnosis): string {
  let msg = `0/${numAllNodes} nodes are available:`;
  if (d.preFilterMsg !== "") {
    msg += ` ${d.preFilterMsg}.`;
  } else {
    // With a PreFilter rejection every node carries the same status: counting them would repeat it.
    const counts = new Map<string, number>();
    for (const status of d.nodeToStatus.values()) {
      for (const r of status.reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
    }
    const absent = numAllNodes - d.nodeToStatus.size;
    if (absent > 0 && d.absentStatus) {
      for (const r of d.absentStatus.reasons) counts.set(r, (counts.get(r) ?? 0) + absent);
    }
    const parts: string[] = [];
    for (const [reason, n] of counts) parts.push(`${n} ${reason}`);
    // Go sort.Strings compares bytes; JS default sort compares UTF-16 units: the same for these strings.
    parts.sort();
    if (parts.length > 0) msg += ` ${parts.join(", ")}.`;
  }
  if (d.postFilterMsg !== "") msg += ` ${d.postFilterMsg}`;
  return msg;
}

/** The pod could not be placed: carries the per-node statuses and the FailedScheduling message. */
export class FitError extends Error {
  override readonly name = "FitError";

  constructor(
    /** The pod, as namespace/name. */
    readonly pod: string,
    /** Nodes in the cluster when the attempt ran. */
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super(fitErrorMessage(numAllNodes, diagnosis));
  }

  /** The reasons one node gave (the absent status for nodes that were not filtered individually). */
  reasonsFor(nodeName: string): readonly string[] {
    const s = this.diagnosis.nodeToStatus.get(nodeName) ?? this.diagnosis.absentStatus;
    return s ? s.reasons : [];
  }

  /** Reasons of every node that a filter rejected, by node name. */
  get nodeReasons(): Record<string, readonly string[]> {
    const out: Record<string, readonly string[]> = {};
    for (const [name, s] of this.diagnosis.nodeToStatus) out[name] = s.reasons;
    return out;
  }

  /** Machine-readable form. */
  toJSON(): { message: string; numAllNodes: number; nodeReasons: Record<string, readonly string[]>; unschedulablePlugins: string[] } {
    return { message: this.message, numAllNodes: this.numAllNodes, nodeReasons: this.nodeReasons, unschedulablePlugins: [...this.diagnosis.unschedulablePlugins].sort() };
  }
}

/** No node is registered at all (`ErrNoNodesAvailable`). */
export class NoNodesAvailableError extends Error {
  override readonly name = "NoNodesAvailableError";
  constructor() {
    super(MESSAGE_NO_NODES);
  }
}

/** `truncateMessage`: event notes longer than 1024 bytes end in " ...". */
export function truncateMessage(message: string, max = NOTE_LENGTH_LIMIT): string {
  if (Buffer.byteLength(message) <= max) return message;
  const suffix = " ...";
  let cut = message.slice(0, max - suffix.length);
  while (Buffer.byteLength(cut) > max - suffix.length) cut = cut.slice(0, -1);
  return cut + suffix;
}

/** Builds a rejection status. */
export function rejection(plugin: string, code: Status["code"], ...reasons: string[]): Status {
  return new Status(code, reasons, plugin);
}

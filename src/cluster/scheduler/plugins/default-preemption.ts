/**
 * DefaultPreemption PostFilter (`plugins/defaultpreemption`, `framework/preemption/preemption.go`):
 * when no node fits, look for a node where evicting lower-priority pods would make room.
 *
 * - A pod with `preemptionPolicy: Never` never preempts ("not eligible due to preemptionPolicy=Never.").
 * - Only nodes that failed with a resolvable status (Unschedulable) are tried; the others are
 *   "Preemption is not helpful for scheduling".
 * - On each tried node (`SelectVictimsOnNode`): remove every pod of lower priority; if the pod still
 *   does not fit, the filter's reason stands; with no lower-priority pod at all the reason is "No
 *   preemption victims found for incoming pod". Otherwise the removed pods are added back from the
 *   most important down, and those that make the pod no longer fit become the victims.
 * - Among candidate nodes (`pickOneNodeForPreemption`): lowest highest-victim priority, then lowest
 *   sum of victim priorities, then fewest victims, then the latest start of the most important
 *   victims, then the first.
 *
 * With no candidate, the PostFilter message is a FitError of its own, prefixed "preemption: ".
 * PodDisruptionBudgets are not consulted (every candidate counts as violating none).
 */

import type { ActiveFilters } from "../_filters.js";
import { fitErrorMessage, newDiagnosis, rejection, REASON_NO_VICTIMS, REASON_PREEMPTION_NEVER, REASON_PREEMPTION_NOT_HELPFUL, REASON_PREEMPTION_TERMINATING, type Diagnosis } from "../messages.js";
import type { NodeInfo } from "../nodeinfo.js";
import { moreImportantPod, type PodInfo } from "../podinfo.js";
import type { Cycle, Status } from "../types.js";

/** `DefaultPreemptionArgs.minCandidateNodesPercentage`: dry-run at least 10% of the potential nodes... */
export const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
/** ...and at least 100 of them (`minCandidateNodesAbsolute`), before choosing among candidates. */
export const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

/** What the PostFilter decided. */
export interface PreemptionOutcome {
  /** PostFilterMsg for the FailedScheduling message ("" when a node was nominated). */
  readonly message: string;
  /** Node to nominate; "" to clear the pod's nomination; undefined to leave it as it is. */
  readonly nominatedNodeName?: string;
  /** Pods to evict so that the pod fits the nominated node, most important first. */
  readonly victims?: readonly PodInfo[];
}

interface Candidate {
  readonly node: string;
  readonly victims: PodInfo[];
}

/** DefaultPreemption plugin. */
export class DefaultPreemption {
  readonly name = "DefaultPreemption" as const;
  private readonly noVictims = rejection(this.name, "UnschedulableAndUnresolvable", REASON_NO_VICTIMS);

  constructor(private readonly random: () => number) {}

  /** `PostFilter` / `Evaluator.Preempt`. */
  postFilter(cycle: Cycle, filters: ActiveFilters, diagnosis: Diagnosis): PreemptionOutcome {
    const { snapshot } = cycle;
    const ineligible = this.ineligibleReason(cycle, diagnosis);
    if (ineligible) return { message: `preemption: ${ineligible}` };

    const allNodes = snapshot.nodeInfos();
    const absentUnschedulable = diagnosis.absentStatus?.code === "Unschedulable";
    const potential: NodeInfo[] = [];
    for (const node of allNodes) {
      const s = diagnosis.nodeToStatus.get(node.name);
      if (s ? s.code === "Unschedulable" : absentUnschedulable) potential.push(node);
    }
    const statuses = newDiagnosis();
    statuses.absentStatus = rejection(this.name, "UnschedulableAndUnresolvable", REASON_PREEMPTION_NOT_HELPFUL);
    const candidates: Candidate[] = [];
    if (potential.length > 0) {
      const offset = Math.floor(this.random() * potential.length);
      const numCandidates = Math.min(
        potential.length,
        Math.max(Math.floor((potential.length * MIN_CANDIDATE_NODES_PERCENTAGE) / 100), MIN_CANDIDATE_NODES_ABSOLUTE),
      );
      for (let i = 0; i < potential.length && candidates.length < numCandidates; i++) {
        const node = potential[(offset + i) % potential.length];
        const result = this.selectVictimsOnNode(cycle, filters.clone(), node.clone());
        if (!Array.isArray(result)) {
          statuses.nodeToStatus.set(node.name, result);
        } else if (result.length === 0) {
          // Cannot happen unless the node changed under us; upstream reports it as an error for this node.
          statuses.nodeToStatus.set(node.name, rejection(this.name, "UnschedulableAndUnresolvable", `expected at least one victim pod on node "${node.name}"`));
        } else {
          candidates.push({ node: node.name, victims: result });
        }
      }
    }
    if (candidates.length === 0) {
      return { message: `preemption: ${fitErrorMessage(allNodes.length, statuses)}`, nominatedNodeName: "" };
    }
    const best = pickOneNodeForPreemption(candidates);
    return { message: "", nominatedNodeName: best.node, victims: best.victims };
  }

  /** `PodEligibleToPreemptOthers`: the reason the pod may not preempt now, or undefined. */
  private ineligibleReason(cycle: Cycle, diagnosis: Diagnosis): string | undefined {
    const { pod, snapshot } = cycle;
    if (pod.pod.spec?.preemptionPolicy === "Never") return REASON_PREEMPTION_NEVER;
    const nominated: string | undefined = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      // A nominated node that became unusable for good lets the pod look for another one.
      const s = diagnosis.nodeToStatus.get(nominated) ?? diagnosis.absentStatus;
      if (!s || s.code === "UnschedulableAndUnresolvable") return undefined;
      const node = snapshot.get(nominated);
      if (node) {
        for (const p of node.pods) {
          // Earlier victims still terminating: wait for them instead of preempting more.
          if (p.priority < pod.priority && p.terminating) return REASON_PREEMPTION_TERMINATING;
        }
      }
    }
    return undefined;
  }

  /** `SelectVictimsOnNode` on copies of the node and states: the victims, or the status that rules the node out. */
  private selectVictimsOnNode(cycle: Cycle, filters: ActiveFilters, node: NodeInfo): PodInfo[] | Status {
    const pod = cycle.pod;
    const potential = node.pods.filter((p) => p.priority < pod.priority);
    if (potential.length === 0) return this.noVictims;
    for (const p of potential) {
      node.removePod(p.key);
      filters.removePod(cycle, p, node);
    }
    const without = filters.runWithNominated(cycle, node);
    if (without !== null) return without;
    // Reprieve the most important pods first: keep every pod the incoming one can live with.
    potential.sort((a, b) => (moreImportantPod(a, b) ? -1 : moreImportantPod(b, a) ? 1 : 0));
    const victims: PodInfo[] = [];
    for (const p of potential) {
      node.addPod(p);
      filters.addPod(cycle, p, node);
      if (filters.runWithNominated(cycle, node) !== null) {
        node.removePod(p.key);
        filters.removePod(cycle, p, node);
        victims.push(p);
      }
    }
    return victims;
  }
}

/** `GetEarliestPodStartTime`: earliest start among the highest-priority victims. */
function earliestStartOfMostImportant(victims: readonly PodInfo[]): number {
  let maxPriority = victims[0].priority;
  let earliest = victims[0].startTime;
  for (const v of victims) {
    if (v.priority === maxPriority) {
      if (v.startTime < earliest) earliest = v.startTime;
    } else if (v.priority > maxPriority) {
      maxPriority = v.priority;
      earliest = v.startTime;
    }
  }
  return earliest;
}

/** `pickOneNodeForPreemption` with the default score functions (PDB violations are always 0 here). */
export function pickOneNodeForPreemption<C extends { victims: readonly PodInfo[] }>(candidates: readonly C[]): C {
  const scoreFuncs: Array<(c: C) => number> = [
    (c) => -c.victims[0].priority,
    (c) => -c.victims.reduce((sum, v) => sum + v.priority + 2 ** 31, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfMostImportant(c.victims),
  ];
  let remaining = [...candidates];
  for (const f of scoreFuncs) {
    let best = -Infinity;
    let selected: C[] = [];
    for (const c of remaining) {
      const s = f(c);
      if (s > best) {
        best = s;
        selected = [c];
      } else if (s === best) {
        selected.push(c);
      }
    }
    if (selected.length === 1) return selected[0];
    remaining = selected;
  }
  return remaining[0];
}

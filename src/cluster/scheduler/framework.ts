/**
 * One scheduling attempt, as kube-scheduler's `schedulePod` runs it (`pkg/scheduler/schedule_one.go`,
 * `framework/runtime/framework.go`):
 *
 * 1. PreFilter every filter plugin (a plugin may skip itself, reject the pod, or narrow the nodes).
 * 2. A pod nominated to a node by an earlier preemption tries that node first.
 * 3. Filter nodes from a start index that rotates between attempts (`nextStartNodeIndex`), stopping
 *    once `numFeasibleNodesToFind` feasible nodes are found (adaptive percentageOfNodesToScore:
 *    all nodes below 100, else max(5%, 50% - nodes/125) and at least 100).
 * 4. No feasible node: run DefaultPreemption and return a FitError with the upstream message.
 *    One feasible node: take it without scoring.
 * 5. PreScore and Score with every plugin, normalise each plugin's scores to 0..100, multiply by
 *    the plugin weight and sum; the highest total wins, ties broken uniformly at random by
 *    reservoir sampling (`selectHost`).
 *
 * Plugins, order and weights are the default profile (`apis/config/v1/default_plugins.go`):
 * TaintToleration 3, NodeAffinity 2, NodeResourcesFit 1, PodTopologySpread 2, InterPodAffinity 2,
 * NodeResourcesBalancedAllocation 1, ImageLocality 1. Volume plugins (VolumeRestrictions,
 * NodeVolumeLimits, VolumeBinding, VolumeZone) and DynamicResources are not modelled.
 *
 * The scheduler is pure: it reads a Snapshot and returns a decision. Binding, events, pod status
 * and the queue are the controller's job.
 */

import type { KubeObject } from "../../api/types.js";
import { ActiveFilters } from "./_filters.js";
import { didNotSatisfyPlugins, FitError, newDiagnosis, noNodeSatisfiesPlugins, NoNodesAvailableError, rejection, type Diagnosis } from "./messages.js";
import type { NodeInfo } from "./nodeinfo.js";
import { BalancedAllocation } from "./plugins/balanced-allocation.js";
import { DefaultPreemption } from "./plugins/default-preemption.js";
import { ImageLocality } from "./plugins/image-locality.js";
import { InterPodAffinity } from "./plugins/inter-pod-affinity.js";
import { NodeAffinity } from "./plugins/node-affinity.js";
import { NodeName } from "./plugins/node-name.js";
import { NodePorts } from "./plugins/node-ports.js";
import { NodeResourcesFit, type ScoringStrategy } from "./plugins/node-resources-fit.js";
import { NodeUnschedulable } from "./plugins/node-unschedulable.js";
import { PodTopologySpread } from "./plugins/pod-topology-spread.js";
import { TaintToleration } from "./plugins/taint-toleration.js";
import { PodInfo } from "./podinfo.js";
import type { Snapshot } from "./snapshot.js";
import { MAX_NODE_SCORE, SKIP, Status, type Cycle, type FilterPlugin, type ScorePlugin } from "./types.js";

/** `minFeasibleNodesToFind`: below this many nodes every node is checked. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** `minFeasibleNodesPercentageToFind`. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** Scheduler configuration (the subset of `KubeSchedulerConfiguration` that matters here). */
export interface SchedulerOptions {
  /** NodeResourcesFit scoring: LeastAllocated (default) spreads, MostAllocated bin-packs. */
  readonly scoringStrategy?: ScoringStrategy;
  /** Uniform random numbers in [0, 1): tie-breaking and the preemption offset. Default Math.random; inject a seeded one for reproducible runs. */
  readonly random?: () => number;
  /** `percentageOfNodesToScore`: 0 (default) is adaptive; 100 checks every node. */
  readonly percentageOfNodesToScore?: number;
  /** Run DefaultPreemption when no node fits (default true). */
  readonly preemption?: boolean;
}

/** The pod goes to `nodeName`. */
export interface ScheduleSuccess {
  readonly nodeName: string;
  /** Nodes the filters looked at. */
  readonly evaluatedNodes: number;
  /** Nodes that passed the filters. */
  readonly feasibleNodes: number;
  /** With `explain`: weighted score per plugin for every scored node. */
  readonly scores?: Record<string, Record<string, number>>;
}

/** The pod fits nowhere (FitError), no node exists (NoNodesAvailableError), or the pod is malformed (Error). */
export interface ScheduleFailure {
  readonly error: FitError | NoNodesAvailableError | Error;
  /** From preemption: node to nominate, "" to clear the pod's nomination, undefined to leave it. */
  readonly nominatedNodeName?: string;
  /** From preemption: pods to evict from the nominated node, most important first. */
  readonly victims?: readonly KubeObject[];
}

/** Result of {@link Scheduler.schedule}. */
export type ScheduleResult = ScheduleSuccess | ScheduleFailure;

/** True when the result places the pod. */
export function isScheduled(r: ScheduleResult): r is ScheduleSuccess {
  return (r as ScheduleSuccess).nodeName !== undefined;
}

interface WeightedScorePlugin {
  readonly plugin: ScorePlugin<any>;
  readonly weight: number;
}

/** `numFeasibleNodesToFind`: how many feasible nodes end the search. */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let pct = percentageOfNodesToScore;
  if (pct >= 100) return numAllNodes;
  if (pct <= 0) {
    pct = 50 - Math.trunc(numAllNodes / 125);
    if (pct < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) pct = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const n = Math.trunc((numAllNodes * pct) / 100);
  return n < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : n;
}

function podRef(pod: KubeObject): string {
  return `${pod?.metadata?.namespace ?? "default"}/${pod?.metadata?.name ?? ""}`;
}

/** kube-scheduler's scheduling algorithm with the default plugins. */
export class Scheduler {
  /** Filter plugins in upstream order. */
  readonly filterPlugins: readonly FilterPlugin<any>[];
  /** Score plugins in upstream order with their weights. */
  readonly scorePlugins: readonly WeightedScorePlugin[];
  /** Where the next attempt starts looking (`nextStartNodeIndex`). */
  nextStartNodeIndex = 0;
  private readonly random: () => number;
  private readonly percentage: number;
  private readonly preemption: DefaultPreemption | undefined;
  private feasible: NodeInfo[] = [];
  private totals = new Float64Array(256);
  private scratch = new Float64Array(256);

  constructor(options: SchedulerOptions = {}) {
    const strategy = options.scoringStrategy ?? "LeastAllocated";
    this.random = options.random ?? Math.random;
    const pct = options.percentageOfNodesToScore ?? 0;
    if (!(pct >= 0 && pct <= 100)) throw new Error(`percentageOfNodesToScore: must be between 0 and 100, got ${pct}`);
    this.percentage = pct;
    const taints = new TaintToleration();
    const nodeAffinity = new NodeAffinity();
    const fit = new NodeResourcesFit(strategy);
    const spread = new PodTopologySpread();
    const interPod = new InterPodAffinity();
    this.filterPlugins = [new NodeUnschedulable(), new NodeName(), taints, nodeAffinity, new NodePorts(), fit, spread, interPod];
    this.scorePlugins = [
      { plugin: taints, weight: 3 },
      { plugin: nodeAffinity, weight: 2 },
      { plugin: fit, weight: 1 },
      { plugin: spread, weight: 2 },
      { plugin: interPod, weight: 2 },
      { plugin: new BalancedAllocation(), weight: 1 },
      { plugin: new ImageLocality(), weight: 1 },
    ];
    this.preemption = options.preemption === false ? undefined : new DefaultPreemption(this.random);
  }

  /**
   * Finds a node for `pod` in `snapshot`. Does not change the snapshot: on success the caller
   * assumes the pod (`snapshot.assumePod`) and binds it.
   */
  schedule(pod: KubeObject, snapshot: Snapshot, options: { explain?: boolean } = {}): ScheduleResult {
    if (snapshot.numNodes === 0) return { error: new NoNodesAvailableError() };
    let info: PodInfo;
    try {
      info = new PodInfo(pod);
    } catch (err) {
      return { error: new Error(`pod ${podRef(pod)}: ${(err as Error).message}`) };
    }
    const cycle: Cycle = { pod: info, snapshot };
    const diagnosis = newDiagnosis();
    const allNodes = snapshot.nodeInfos();

    // PreFilter.
    const plugins: FilterPlugin<any>[] = [];
    const states: unknown[] = [];
    let narrowed: Set<string> | undefined;
    const narrowing: string[] = [];
    let rejected: Status | undefined;
    for (const p of this.filterPlugins) {
      if (!p.preFilter) {
        plugins.push(p);
        states.push(undefined);
        continue;
      }
      const r = p.preFilter(cycle);
      if (r === SKIP) continue;
      if (r instanceof Status) {
        if (r.code === "UnschedulableAndUnresolvable") {
          rejected = r;
          break;
        }
        rejected ??= r;
        continue;
      }
      plugins.push(p);
      states.push(r.state);
      if (r.nodeNames) {
        narrowing.push(p.name);
        narrowed = narrowed ? new Set([...narrowed].filter((n) => r.nodeNames!.has(n))) : new Set(r.nodeNames);
        if (narrowed.size === 0) {
          rejected = rejection(p.name, "UnschedulableAndUnresolvable", noNodeSatisfiesPlugins(narrowing));
          break;
        }
      }
    }
    const filters = new ActiveFilters(plugins, states);
    if (rejected) {
      diagnosis.absentStatus = rejected;
      diagnosis.preFilterMsg = rejected.message;
      diagnosis.unschedulablePlugins.add(rejected.plugin);
      return this.fail(cycle, filters, diagnosis);
    }

    // A nominated node (from an earlier preemption) is tried first.
    const nominated: string | undefined = pod.status?.nominatedNodeName;
    if (nominated) {
      const node = snapshot.get(nominated);
      if (node) {
        const s = filters.runWithNominated(cycle, node);
        if (s === null) return { nodeName: node.name, evaluatedNodes: 1, feasibleNodes: 1 };
        diagnosis.nodeToStatus.set(node.name, s);
        diagnosis.unschedulablePlugins.add(s.plugin);
      }
    }

    // Filter.
    let nodes = allNodes;
    if (narrowed) {
      nodes = [...narrowed].map((n) => snapshot.get(n)).filter((n): n is NodeInfo => n !== undefined);
      diagnosis.absentStatus = rejection(narrowing[0], "UnschedulableAndUnresolvable", didNotSatisfyPlugins(narrowing));
    }
    const count = this.findFeasible(cycle, filters, nodes, allNodes.length, diagnosis);
    if (count === 0) return this.fail(cycle, filters, diagnosis);
    const feasible = this.feasible;
    const evaluatedNodes = count + diagnosis.nodeToStatus.size;
    if (count === 1) return { nodeName: feasible[0].name, evaluatedNodes, feasibleNodes: 1 };

    // Score.
    const totals = this.prioritize(cycle, feasible, count, options.explain === true);
    const best = this.selectHost(totals.totals, count);
    return { nodeName: feasible[best].name, evaluatedNodes, feasibleNodes: count, ...(totals.scores ? { scores: totals.scores } : {}) };
  }

  /** `findNodesThatPassFilters`: fills `this.feasible` and returns how many nodes passed. */
  private findFeasible(cycle: Cycle, filters: ActiveFilters, nodes: readonly NodeInfo[], numAllNodes: number, diagnosis: Diagnosis): number {
    const n = nodes.length;
    if (n === 0) return 0;
    const want = numFeasibleNodesToFind(n, this.percentage);
    if (this.feasible.length < want) this.feasible = new Array(Math.max(want, this.feasible.length * 2));
    const feasible = this.feasible;
    const statusesBefore = diagnosis.nodeToStatus.size;
    let found = 0;
    let processed = 0;
    const start = this.nextStartNodeIndex % n;
    const nominated = cycle.snapshot.numNominatedPods > 0;
    for (let i = 0; i < n && found < want; i++) {
      const node = nodes[(start + i) % n];
      processed++;
      const s = nominated ? filters.runWithNominated(cycle, node) : filters.run(cycle, node);
      if (s === null) {
        feasible[found++] = node;
      } else {
        diagnosis.nodeToStatus.set(node.name, s);
        diagnosis.unschedulablePlugins.add(s.plugin);
      }
    }
    // Every node gets its turn across attempts, wherever the last search stopped.
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed + statusesBefore) % numAllNodes;
    return found;
  }

  private fail(cycle: Cycle, filters: ActiveFilters, diagnosis: Diagnosis): ScheduleFailure {
    const outcome = this.preemption?.postFilter(cycle, filters, diagnosis);
    if (outcome) diagnosis.postFilterMsg = outcome.message;
    const error = new FitError(podRef(cycle.pod.pod), cycle.snapshot.numNodes, diagnosis);
    return {
      error,
      ...(outcome?.nominatedNodeName !== undefined ? { nominatedNodeName: outcome.nominatedNodeName } : {}),
      ...(outcome?.victims ? { victims: outcome.victims.map((v) => v.pod) } : {}),
    };
  }

  /** `prioritizeNodes`: weighted sum of the normalised plugin scores of `feasible[0..count)`. */
  private prioritize(cycle: Cycle, feasible: readonly NodeInfo[], count: number, explain: boolean): { totals: Float64Array; scores?: Record<string, Record<string, number>> } {
    if (this.totals.length < count) {
      this.totals = new Float64Array(count * 2);
      this.scratch = new Float64Array(count * 2);
    }
    const totals = this.totals;
    const scores = this.scratch;
    totals.fill(0, 0, count);
    const explained: Record<string, Record<string, number>> | undefined = explain ? {} : undefined;
    if (explained) for (let i = 0; i < count; i++) explained[feasible[i].name] = {};
    for (const { plugin, weight } of this.scorePlugins) {
      const state = plugin.preScore ? plugin.preScore(cycle, feasible, count) : undefined;
      if (state === SKIP) continue;
      if (plugin.scoreAll) plugin.scoreAll(state, cycle, feasible, count, scores);
      else for (let i = 0; i < count; i++) scores[i] = plugin.score(state, cycle, feasible[i]);
      plugin.normalize?.(state, cycle, scores, feasible, count);
      for (let i = 0; i < count; i++) {
        const s = scores[i];
        if (s > MAX_NODE_SCORE || s < 0) {
          throw new Error(`plugin "${plugin.name}" returns an invalid score ${s}, it should in the range of [0, ${MAX_NODE_SCORE}] after normalizing`);
        }
        totals[i] += s * weight;
        if (explained) explained[feasible[i].name][plugin.name] = s * weight;
      }
    }
    return explained ? { totals, scores: explained } : { totals };
  }

  /** `selectHost`: the highest total, a uniformly random one among equals (reservoir sampling). */
  private selectHost(totals: Float64Array, count: number): number {
    let selected = 0;
    let max = totals[0];
    let ties = 1;
    for (let i = 1; i < count; i++) {
      const s = totals[i];
      if (s > max) {
        max = s;
        selected = i;
        ties = 1;
      } else if (s === max) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) selected = i;
      }
    }
    return selected;
  }
}

/**
 * PodTopologySpread (`pkg/scheduler/framework/plugins/podtopologyspread`):
 * - Filter (`whenUnsatisfiable: DoNotSchedule`): placing the pod in a node's domain must keep
 *   `matching pods in the domain + (1 if the pod matches itself) - global minimum <= maxSkew`,
 *   where the global minimum is 0 while fewer than `minDomains` domains exist. A node lacking a
 *   constraint's topology key is rejected outright.
 * - Score (`ScheduleAnyway`, weight 2): per constraint, the matching pods in the node's domain
 *   times ln(number of domains + 2), plus maxSkew - 1; fewer is better after normalisation.
 *
 * Pods that declare no constraints get the system defaults (`defaultingType: System`): hostname
 * maxSkew 3 and zone maxSkew 5, both ScheduleAnyway, with the selector of the Services,
 * ReplicaSet, StatefulSet or ReplicationController that select/own the pod
 * (`Snapshot.defaultSpreadSelector`, which documents the fallback used when the owner is unknown).
 *
 * Domains count only nodes that pass the constraint's node inclusion policies (nodeAffinityPolicy
 * Honor and nodeTaintsPolicy Ignore by default), `matchLabelKeys` are merged into the selector, and
 * terminating pods are not counted. Counting uses the snapshot's incremental pod-count indexes.
 */

import { andSelectors, compileLabelSelector, selectorFromSet, type Selector } from "../_selector.js";
import { findUntoleratedDoNotScheduleTaint } from "../_taints.js";
import { REASON_SPREAD, REASON_SPREAD_MISSING_LABEL, rejection } from "../messages.js";
import type { NodeInfo } from "../nodeinfo.js";
import type { PodInfo } from "../podinfo.js";
import { LABEL_HOSTNAME, LABEL_ZONE, type Snapshot, type TopologyTable } from "../snapshot.js";
import { MAX_NODE_SCORE, SKIP, type Cycle, type FilterPlugin, type PreFilterResult, type ScorePlugin, type Skip, type Status } from "../types.js";
import { getRequiredNodeAffinity, type RequiredNodeAffinity } from "./node-affinity.js";

/** A parsed `TopologySpreadConstraint` (upstream `topologySpreadConstraint`). */
export interface SpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly selector: Selector;
  readonly minDomains: number;
  readonly honorNodeAffinity: boolean;
  readonly honorNodeTaints: boolean;
}

/** The system default constraints (`systemDefaultConstraints` in plugin.go). */
export const SYSTEM_DEFAULT_CONSTRAINTS = Object.freeze([
  { topologyKey: LABEL_HOSTNAME, whenUnsatisfiable: "ScheduleAnyway", maxSkew: 3 },
  { topologyKey: LABEL_ZONE, whenUnsatisfiable: "ScheduleAnyway", maxSkew: 5 },
]);

/** `filterTopologySpreadConstraints`: the pod's constraints with the given whenUnsatisfiable, parsed. */
function parseConstraints(raw: readonly any[], podLabels: Readonly<Record<string, string>>, action: string, field: string): SpreadConstraint[] {
  const out: SpreadConstraint[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if ((c?.whenUnsatisfiable ?? "DoNotSchedule") !== action) continue;
    let selector = compileLabelSelector(c.labelSelector, `${field}[${i}].labelSelector`);
    const keys: string[] = Array.isArray(c.matchLabelKeys) ? c.matchLabelKeys : [];
    if (keys.length > 0) {
      const set: Record<string, string> = {};
      let any = false;
      for (const k of keys) {
        if (Object.prototype.hasOwnProperty.call(podLabels, k)) {
          set[k] = podLabels[k];
          any = true;
        }
      }
      if (any) selector = andSelectors([selectorFromSet(set), selector]);
    }
    out.push({
      maxSkew: Number(c.maxSkew ?? 1),
      topologyKey: String(c.topologyKey ?? ""),
      selector,
      minDomains: typeof c.minDomains === "number" ? c.minDomains : 1,
      honorNodeAffinity: (c.nodeAffinityPolicy ?? "Honor") === "Honor",
      honorNodeTaints: (c.nodeTaintsPolicy ?? "Ignore") === "Honor",
    });
  }
  return out;
}

const parsedDefaults = {
  DoNotSchedule: parseConstraints(SYSTEM_DEFAULT_CONSTRAINTS, {}, "DoNotSchedule", "systemDefaultConstraints"),
  ScheduleAnyway: parseConstraints(SYSTEM_DEFAULT_CONSTRAINTS, {}, "ScheduleAnyway", "systemDefaultConstraints"),
};
const defaultsBySelector = new WeakMap<Selector, readonly SpreadConstraint[]>();

/** The constraints that apply to a pod for one whenUnsatisfiable action, system defaults included. */
export function podConstraints(pod: PodInfo, snapshot: Snapshot, action: "DoNotSchedule" | "ScheduleAnyway"): readonly SpreadConstraint[] {
  const own = pod.pod.spec?.topologySpreadConstraints;
  if (Array.isArray(own) && own.length > 0) return parseConstraints(own, pod.labels, action, "spec.topologySpreadConstraints");
  // The system defaults are all ScheduleAnyway and have no matchLabelKeys: parsed once.
  if (parsedDefaults[action].length === 0) return [];
  const selector = snapshot.defaultSpreadSelector(pod);
  if (selector.everything) return [];
  let constraints = defaultsBySelector.get(selector);
  if (!constraints) {
    constraints = parsedDefaults.ScheduleAnyway.map((c) => ({ ...c, selector }));
    defaultsBySelector.set(selector, constraints);
  }
  return constraints;
}

function allKeysPresent(labels: Readonly<Record<string, string>>, constraints: readonly SpreadConstraint[]): boolean {
  for (let i = 0; i < constraints.length; i++) {
    if (!Object.prototype.hasOwnProperty.call(labels, constraints[i].topologyKey)) return false;
  }
  return true;
}

function includesNode(c: SpreadConstraint, pod: PodInfo, node: NodeInfo, required: RequiredNodeAffinity): boolean {
  if (c.honorNodeAffinity && !required.match(node)) return false;
  if (c.honorNodeTaints && findUntoleratedDoNotScheduleTaint(node.taints, pod.tolerations)) return false;
  return true;
}

interface Counter {
  readonly key: string;
  readonly match: (p: PodInfo) => boolean;
}

const counters = new WeakMap<Selector, Map<string, Counter>>();

/** The pod-count index key and predicate for a selector in a namespace, built once per pair. */
function counterFor(namespace: string, selector: Selector): Counter {
  let byNs = counters.get(selector);
  if (!byNs) counters.set(selector, (byNs = new Map()));
  let c = byNs.get(namespace);
  if (!c) {
    c = { key: `spread|${namespace}|${selector.key}`, match: (p) => p.namespace === namespace && selector.matches(p.labels) };
    byNs.set(namespace, c);
  }
  return c;
}

/** Per-slot counts of non-terminating pods in `namespace` matching the selector; null when the selector can match nothing countable. */
function countsFor(snapshot: Snapshot, namespace: string, selector: Selector): Int32Array | null {
  // countPodsMatchSelector: an empty selector counts no pods.
  if (selector.everything || selector.nothing) return null;
  const c = counterFor(namespace, selector);
  return snapshot.podCounts(c.key, c.match, false);
}

let zeros = new Uint8Array(1024);

/** A shared all-zero "ignored" array of at least `n` slots (never written). */
function noneIgnored(n: number): Uint8Array {
  if (zeros.length < n) zeros = new Uint8Array(n * 2);
  return zeros;
}

/** The two smallest domain counts of a constraint (`criticalPaths`); [0] always holds the minimum. */
class CriticalPaths {
  v0 = "";
  n0 = 0x7fffffff;
  v1 = "";
  n1 = 0x7fffffff;

  update(value: string, num: number): void {
    if (value === this.v0 || value === this.v1) {
      if (value === this.v0) this.n0 = num;
      else this.n1 = num;
      if (this.n0 > this.n1) {
        [this.v0, this.n0, this.v1, this.n1] = [this.v1, this.n1, this.v0, this.n0];
      }
    } else if (num < this.n0) {
      this.v1 = this.v0;
      this.n1 = this.n0;
      this.v0 = value;
      this.n0 = num;
    } else if (num < this.n1) {
      this.v1 = value;
      this.n1 = num;
    }
  }

  clone(): CriticalPaths {
    const c = new CriticalPaths();
    c.v0 = this.v0;
    c.n0 = this.n0;
    c.v1 = this.v1;
    c.n1 = this.n1;
    return c;
  }
}

/** PreFilter state: matching pods per domain for each DoNotSchedule constraint. */
interface FilterState {
  readonly constraints: readonly SpreadConstraint[];
  readonly matchNum: Map<string, number>[];
  readonly paths: CriticalPaths[];
  /** Domains per constraint; unchanged by preemption's add/remove. */
  readonly domains: readonly number[];
  readonly required: RequiredNodeAffinity;
}

/** PreScore state for the ScheduleAnyway constraints. */
interface ScoreState {
  readonly constraints: readonly SpreadConstraint[];
  readonly tables: readonly TopologyTable[];
  readonly counts: readonly (Int32Array | null)[];
  /** Per non-hostname constraint: matching pods per domain bucket (absent label = the "" bucket). */
  readonly totals: readonly (Float64Array | null)[];
  readonly emptyBucket: readonly number[];
  readonly weights: readonly number[];
  /** Nodes (by slot) missing a topology key when all keys are required: scored 0. */
  readonly ignored: Uint8Array;
}

function bucketOf(table: TopologyTable, emptyBucket: number, slot: number): number {
  const id = table.ids[slot];
  return id >= 0 ? id : emptyBucket;
}

/** PodTopologySpread plugin. */
export class PodTopologySpread implements FilterPlugin<FilterState>, ScorePlugin<ScoreState> {
  readonly name = "PodTopologySpread" as const;
  private readonly missingLabel = rejection(this.name, "UnschedulableAndUnresolvable", REASON_SPREAD_MISSING_LABEL);
  private readonly skewed = rejection(this.name, "Unschedulable", REASON_SPREAD);

  preFilter(cycle: Cycle): PreFilterResult<FilterState> | Skip {
    const { pod, snapshot } = cycle;
    const constraints = podConstraints(pod, snapshot, "DoNotSchedule");
    if (constraints.length === 0) return SKIP;
    const required = getRequiredNodeAffinity(pod);
    const matchNum = constraints.map(() => new Map<string, number>());
    const counts = constraints.map((c) => countsFor(snapshot, pod.namespace, c.selector));
    for (const node of snapshot.nodeInfos()) {
      if (!allKeysPresent(node.labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i];
        if (!includesNode(c, pod, node, required)) continue;
        const value = node.labels[c.topologyKey];
        const n = counts[i]?.[node.slot] ?? 0;
        matchNum[i].set(value, (matchNum[i].get(value) ?? 0) + n);
      }
    }
    const paths = matchNum.map((m) => {
      const p = new CriticalPaths();
      for (const [value, n] of m) p.update(value, n);
      return p;
    });
    return { state: { constraints, matchNum, paths, domains: matchNum.map((m) => m.size), required } };
  }

  filter(s: FilterState, cycle: Cycle, node: NodeInfo): Status | null {
    const labels = node.labels;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      const value = labels[c.topologyKey];
      if (value === undefined) return this.missingLabel;
      // With fewer eligible domains than minDomains the global minimum counts as 0.
      const min = s.domains[i] < c.minDomains ? 0 : s.paths[i].n0;
      const self = c.selector.matches(cycle.pod.labels) ? 1 : 0;
      const skew = (s.matchNum[i].get(value) ?? 0) + self - min;
      if (skew > c.maxSkew) return this.skewed;
    }
    return null;
  }

  cloneState(s: FilterState): FilterState {
    return { ...s, matchNum: s.matchNum.map((m) => new Map(m)), paths: s.paths.map((p) => p.clone()) };
  }

  addPod(s: FilterState, cycle: Cycle, pod: PodInfo, node: NodeInfo): void {
    this.updateWithPod(s, cycle, pod, node, 1);
  }

  removePod(s: FilterState, cycle: Cycle, pod: PodInfo, node: NodeInfo): void {
    this.updateWithPod(s, cycle, pod, node, -1);
  }

  private updateWithPod(s: FilterState, cycle: Cycle, pod: PodInfo, node: NodeInfo, delta: number): void {
    if (pod.namespace !== cycle.pod.namespace) return;
    if (!allKeysPresent(node.labels, s.constraints)) return;
    for (let i = 0; i < s.constraints.length; i++) {
      const c = s.constraints[i];
      if (!c.selector.matches(pod.labels)) continue;
      if (!includesNode(c, cycle.pod, node, s.required)) continue;
      const value = node.labels[c.topologyKey];
      const n = (s.matchNum[i].get(value) ?? 0) + delta;
      s.matchNum[i].set(value, n);
      s.paths[i].update(value, n);
    }
  }

  preScore(cycle: Cycle, nodes: readonly NodeInfo[], count: number): ScoreState | Skip {
    const { pod, snapshot } = cycle;
    if (snapshot.numNodes === 0) return SKIP;
    const constraints = podConstraints(pod, snapshot, "ScheduleAnyway");
    if (constraints.length === 0) return SKIP;
    // Only explicit constraints require every topology key: with system defaults a node without a
    // zone label still gets hostname spreading.
    const requireAll = Array.isArray(pod.pod.spec?.topologySpreadConstraints) && pod.pod.spec.topologySpreadConstraints.length > 0;
    const required = getRequiredNodeAffinity(pod);
    const tables = constraints.map((c) => snapshot.topology(c.topologyKey));
    const counts = constraints.map((c) => countsFor(snapshot, pod.namespace, c.selector));
    const isHost = constraints.map((c) => c.topologyKey === LABEL_HOSTNAME);
    const emptyBucket = tables.map((t, i) => (isHost[i] ? -1 : t.valueIds.get("") ?? t.values.length));
    let ignored = noneIgnored(snapshot.slotCount);
    let ignoredCount = 0;
    const present = constraints.map((_, i) => (isHost[i] ? null : new Uint8Array(tables[i].values.length + 1)));
    const domainSize = constraints.map(() => 0);
    for (let n = 0; n < count; n++) {
      const node = nodes[n];
      if (requireAll && !allKeysPresent(node.labels, constraints)) {
        if (ignoredCount === 0) ignored = new Uint8Array(snapshot.slotCount);
        ignored[node.slot] = 1;
        ignoredCount++;
        continue;
      }
      for (let i = 0; i < constraints.length; i++) {
        const p = present[i];
        if (!p) continue;
        const b = bucketOf(tables[i], emptyBucket[i], node.slot);
        if (p[b] === 0) {
          p[b] = 1;
          domainSize[i]++;
        }
      }
    }
    const weights = constraints.map((_, i) => Math.log((isHost[i] ? count - ignoredCount : domainSize[i]) + 2));
    const totals = constraints.map((_, i) => (isHost[i] ? null : new Float64Array(tables[i].values.length + 1)));
    // Without inclusion policies to apply per node, the snapshot's per-domain counts are the answer.
    const simple =
      !required.constrains &&
      constraints.every((c) => !c.honorNodeTaints) &&
      (!requireAll || constraints.every((c) => snapshot.nodesMissing(c.topologyKey) === 0));
    let slowPath = false;
    for (let i = 0; i < constraints.length; i++) {
      const t = totals[i];
      if (!t || !counts[i]) continue;
      if (!simple) {
        slowPath = true;
        continue;
      }
      const c = constraints[i];
      const counter = counterFor(pod.namespace, c.selector);
      const agg = snapshot.podCountsByDomain(counter.key, counter.match, false, c.topologyKey);
      const n = tables[i].values.length;
      for (let b = 0; b < n; b++) t[b] = agg[b + 1];
      t[emptyBucket[i]] += agg[0];
    }
    if (slowPath) {
      const all = snapshot.nodeInfos();
      for (let n = 0; n < all.length; n++) {
        const node = all[n];
        if (requireAll && !allKeysPresent(node.labels, constraints)) continue;
        const slot = node.slot;
        for (let i = 0; i < constraints.length; i++) {
          const t = totals[i];
          const c = counts[i];
          if (!t || !c) continue;
          const b = bucketOf(tables[i], emptyBucket[i], slot);
          if (present[i]![b] === 0) continue;
          if (!includesNode(constraints[i], pod, node, required)) continue;
          t[b] += c[slot];
        }
      }
    }
    return { constraints, tables, counts, totals, emptyBucket, weights, ignored };
  }

  scoreAll(s: ScoreState, _cycle: Cycle, nodes: readonly NodeInfo[], count: number, out: Float64Array): void {
    // Constraint by constraint, the same sums as score().
    out.fill(0, 0, count);
    const ignored = s.ignored;
    for (let c = 0; c < s.constraints.length; c++) {
      const ids = s.tables[c].ids;
      const totals = s.totals[c];
      const counts = s.counts[c];
      const w = s.weights[c];
      const base = s.constraints[c].maxSkew - 1;
      for (let i = 0; i < count; i++) {
        const slot = nodes[i].slot;
        const id = ids[slot];
        if (id < 0 || ignored[slot] === 1) continue;
        const cnt = totals ? totals[id] : counts ? counts[slot] : 0;
        out[i] += cnt * w + base;
      }
    }
    for (let i = 0; i < count; i++) out[i] = Math.round(out[i]);
  }

  score(s: ScoreState, _cycle: Cycle, node: NodeInfo): number {
    const slot = node.slot;
    if (s.ignored[slot] === 1) return 0;
    let score = 0;
    for (let i = 0; i < s.constraints.length; i++) {
      const table = s.tables[i];
      if (table.ids[slot] < 0) continue;
      const t = s.totals[i];
      let cnt: number;
      if (t) cnt = t[table.ids[slot]];
      else cnt = s.counts[i]?.[slot] ?? 0;
      // scoreForCount: maxSkew - 1 waters down small differences between domains.
      score += cnt * s.weights[i] + (s.constraints[i].maxSkew - 1);
    }
    return Math.round(score);
  }

  normalize(s: ScoreState, _cycle: Cycle, scores: Float64Array, nodes: readonly NodeInfo[], count: number): void {
    let min = Number.MAX_SAFE_INTEGER;
    let max = 0;
    for (let i = 0; i < count; i++) {
      if (s.ignored[nodes[i].slot] === 1) continue;
      if (scores[i] < min) min = scores[i];
      if (scores[i] > max) max = scores[i];
    }
    for (let i = 0; i < count; i++) {
      if (s.ignored[nodes[i].slot] === 1) {
        scores[i] = 0;
      } else if (max === 0) {
        scores[i] = MAX_NODE_SCORE;
      } else {
        scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i])) / max);
      }
    }
  }
}

/**
 * InterPodAffinity (`pkg/scheduler/framework/plugins/interpodaffinity`):
 * - Filter, in this order:
 *   1. the pod's required affinity: every term's topology key must exist on the node and some pod
 *      matching the term must run in that domain (a pod matching its own terms may start a series
 *      when no such pod exists anywhere) - `node(s) didn't match pod affinity rules`, unresolvable;
 *   2. the pod's required anti-affinity: no matching pod in the node's domain for any term -
 *      `node(s) didn't match pod anti-affinity rules`;
 *   3. existing pods' required anti-affinity: no pod whose anti-affinity matches this pod runs in a
 *      domain the node belongs to - `node(s) didn't satisfy existing pods anti-affinity rules`.
 * - Score (weight 2): in each domain, + weight for pods matching the pod's preferred affinity
 *   terms, - weight for its preferred anti-affinity terms, + 1 (hardPodAffinityWeight) for
 *   existing pods whose required affinity matches the pod, +/- weight for existing pods' preferred
 *   terms that match it; min-max normalised to 0..100.
 *
 * Terms without namespaces cover the pod's own namespace; a namespaceSelector is resolved against
 * the namespaces the snapshot knows. Terminating pods count (upstream does not skip them).
 * Matching pods per node come from the snapshot's incremental pod-count indexes.
 */

import { NOTHING } from "../_selector.js";
import { REASON_EXISTING_ANTI_AFFINITY, REASON_POD_AFFINITY, REASON_POD_ANTI_AFFINITY, rejection } from "../messages.js";
import type { NodeInfo } from "../nodeinfo.js";
import { affinityTermKey, termMatches, type AffinityTerm, type PodInfo } from "../podinfo.js";
import type { Snapshot } from "../snapshot.js";
import { SKIP, type Cycle, type FilterPlugin, type PreFilterResult, type ScorePlugin, type Skip, type Status } from "../types.js";

/** Weight of an existing pod's required affinity term that the incoming pod matches (`InterPodAffinityArgs.hardPodAffinityWeight`). */
export const HARD_POD_AFFINITY_WEIGHT = 1;

const SEP = "\u0000";

/** topologyKey + value -> number of matching pods (`topologyToMatchedTermCount`). */
type PairCounts = Map<string, number>;

interface FilterState {
  readonly affinityTerms: readonly AffinityTerm[];
  readonly antiAffinityTerms: readonly AffinityTerm[];
  readonly existingAnti: PairCounts;
  readonly affinity: PairCounts;
  readonly anti: PairCounts;
  readonly nsLabels: Readonly<Record<string, string>> | undefined;
}

interface ScoreState {
  /** topologyKey -> value -> score. */
  readonly topologyScore: Map<string, Map<string, number>>;
}

/** `mergeAffinityTermNamespacesIfNotEmpty`: resolves a namespaceSelector of the incoming pod's term into namespace names. */
function mergeNamespaces(term: AffinityTerm, snapshot: Snapshot): AffinityTerm {
  const sel = term.namespaceSelector;
  if (sel.everything || sel.nothing) return term;
  const namespaces = new Set(term.namespaces);
  for (const ns of snapshot.namespacesMatching(sel)) namespaces.add(ns);
  return { ...term, namespaces, namespaceSelector: NOTHING, key: affinityTermKey(namespaces, NOTHING, term.selector) };
}

function bump(m: PairCounts, key: string, value: string, delta: number): void {
  const k = key + SEP + value;
  const n = (m.get(k) ?? 0) + delta;
  if (n === 0) m.delete(k);
  else m.set(k, n);
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo): boolean {
  if (terms.length === 0) return false;
  for (const t of terms) if (!termMatches(t, pod, undefined)) return false;
  return true;
}

/** Adds `weight * count` per domain of `key`, for the matching pods counted per slot. */
function accumulate(snapshot: Snapshot, counts: Int32Array, key: string, weight: number, into: (value: string, amount: number) => void): void {
  const table = snapshot.topology(key);
  const n = snapshot.slotCount;
  for (let s = 0; s < n; s++) {
    const c = counts[s];
    if (c === 0) continue;
    const id = table.ids[s];
    if (id < 0) continue;
    const node = snapshot.slotNode(s);
    if (!node || !node.node) continue;
    into(table.values[id], weight * c);
  }
}

/** InterPodAffinity plugin. */
export class InterPodAffinity implements FilterPlugin<FilterState>, ScorePlugin<ScoreState> {
  readonly name = "InterPodAffinity" as const;
  private readonly affinityFailed = rejection(this.name, "UnschedulableAndUnresolvable", REASON_POD_AFFINITY);
  private readonly antiFailed = rejection(this.name, "Unschedulable", REASON_POD_ANTI_AFFINITY);
  private readonly existingFailed = rejection(this.name, "Unschedulable", REASON_EXISTING_ANTI_AFFINITY);

  preFilter(cycle: Cycle): PreFilterResult<FilterState> | Status | Skip {
    const { pod, snapshot } = cycle;
    if (pod.parseError) return rejection(this.name, "UnschedulableAndUnresolvable", `parsing pod: ${pod.parseError}`);
    const nsLabels = snapshot.namespaceLabels(pod.namespace);
    const existingAnti: PairCounts = new Map();
    for (const node of snapshot.havePodsWithRequiredAntiAffinity()) {
      for (const existing of node.podsWithRequiredAntiAffinity) {
        for (const t of existing.requiredAntiAffinityTerms) {
          if (!termMatches(t, pod, nsLabels)) continue;
          const v = node.labels[t.topologyKey];
          if (v !== undefined) bump(existingAnti, t.topologyKey, v, 1);
        }
      }
    }
    const affinityTerms = pod.requiredAffinityTerms.map((t) => mergeNamespaces(t, snapshot));
    const antiAffinityTerms = pod.requiredAntiAffinityTerms.map((t) => mergeNamespaces(t, snapshot));
    if (existingAnti.size === 0 && affinityTerms.length === 0 && antiAffinityTerms.length === 0) return SKIP;

    const affinity: PairCounts = new Map();
    if (affinityTerms.length > 0) {
      // A pod counts for the affinity terms only when it matches all of them.
      const key = `ipa-all|${affinityTerms.map((t) => t.key).join("&")}`;
      const counts = snapshot.podCounts(key, (p) => matchesAll(affinityTerms, p), true);
      for (const t of affinityTerms) accumulate(snapshot, counts, t.topologyKey, 1, (v, n) => bump(affinity, t.topologyKey, v, n));
    }
    const anti: PairCounts = new Map();
    for (const t of antiAffinityTerms) {
      const counts = snapshot.podCounts(`ipa|${t.key}`, (p) => termMatches(t, p, undefined), true);
      accumulate(snapshot, counts, t.topologyKey, 1, (v, n) => bump(anti, t.topologyKey, v, n));
    }
    return { state: { affinityTerms, antiAffinityTerms, existingAnti, affinity, anti, nsLabels } };
  }

  filter(s: FilterState, cycle: Cycle, node: NodeInfo): Status | null {
    const labels = node.labels;
    if (s.affinityTerms.length > 0) {
      let podsExist = true;
      for (const t of s.affinityTerms) {
        const v = labels[t.topologyKey];
        if (v === undefined) return this.affinityFailed;
        if ((s.affinity.get(t.topologyKey + SEP + v) ?? 0) <= 0) podsExist = false;
      }
      // The first pod of a series with affinity to itself may go anywhere its topology keys exist.
      if (!podsExist && !(s.affinity.size === 0 && matchesAll(s.affinityTerms, cycle.pod))) return this.affinityFailed;
    }
    if (s.anti.size > 0) {
      for (const t of s.antiAffinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined && (s.anti.get(t.topologyKey + SEP + v) ?? 0) > 0) return this.antiFailed;
      }
    }
    if (s.existingAnti.size > 0) {
      for (const k in labels) {
        if ((s.existingAnti.get(k + SEP + labels[k]) ?? 0) > 0) return this.existingFailed;
      }
    }
    return null;
  }

  cloneState(s: FilterState): FilterState {
    return { ...s, existingAnti: new Map(s.existingAnti), affinity: new Map(s.affinity), anti: new Map(s.anti) };
  }

  addPod(s: FilterState, cycle: Cycle, pod: PodInfo, node: NodeInfo): void {
    this.updateWithPod(s, cycle, pod, node, 1);
  }

  removePod(s: FilterState, cycle: Cycle, pod: PodInfo, node: NodeInfo): void {
    this.updateWithPod(s, cycle, pod, node, -1);
  }

  private updateWithPod(s: FilterState, cycle: Cycle, pod: PodInfo, node: NodeInfo, delta: number): void {
    const labels = node.labels;
    for (const t of pod.requiredAntiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, cycle.pod, s.nsLabels)) bump(s.existingAnti, t.topologyKey, v, delta);
    }
    if (matchesAll(s.affinityTerms, pod)) {
      for (const t of s.affinityTerms) {
        const v = labels[t.topologyKey];
        if (v !== undefined) bump(s.affinity, t.topologyKey, v, delta);
      }
    }
    for (const t of s.antiAffinityTerms) {
      const v = labels[t.topologyKey];
      if (v !== undefined && termMatches(t, pod, undefined)) bump(s.anti, t.topologyKey, v, delta);
    }
  }

  preScore(cycle: Cycle): ScoreState | Skip {
    const { pod, snapshot } = cycle;
    if (pod.parseError) return SKIP;
    const topologyScore = new Map<string, Map<string, number>>();
    const add = (key: string, value: string, amount: number) => {
      let m = topologyScore.get(key);
      if (!m) topologyScore.set(key, (m = new Map()));
      m.set(value, (m.get(value) ?? 0) + amount);
    };
    // The pod's preferred terms, against every bound pod.
    const preferred: Array<[AffinityTerm, number]> = [
      ...pod.preferredAffinityTerms.map((t) => [mergeNamespaces(t, snapshot), 1] as [AffinityTerm, number]),
      ...pod.preferredAntiAffinityTerms.map((t) => [mergeNamespaces(t, snapshot), -1] as [AffinityTerm, number]),
    ];
    for (const [t, sign] of preferred) {
      const counts = snapshot.podCounts(`ipa|${t.key}`, (p) => termMatches(t, p, undefined), true);
      accumulate(snapshot, counts, t.topologyKey, sign * t.weight, (v, n) => add(t.topologyKey, v, n));
    }
    // Existing pods' terms, against the incoming pod.
    const nsLabels = snapshot.namespaceLabels(pod.namespace);
    for (const node of snapshot.havePodsWithAffinity()) {
      const labels = node.labels;
      for (const existing of node.podsWithAffinity) {
        if (HARD_POD_AFFINITY_WEIGHT > 0) {
          for (const t of existing.requiredAffinityTerms) {
            const v = labels[t.topologyKey];
            if (v !== undefined && termMatches(t, pod, nsLabels)) add(t.topologyKey, v, HARD_POD_AFFINITY_WEIGHT);
          }
        }
        for (const t of existing.preferredAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && termMatches(t, pod, nsLabels)) add(t.topologyKey, v, t.weight);
        }
        for (const t of existing.preferredAntiAffinityTerms) {
          const v = labels[t.topologyKey];
          if (v !== undefined && termMatches(t, pod, nsLabels)) add(t.topologyKey, v, -t.weight);
        }
      }
    }
    return topologyScore.size === 0 ? SKIP : { topologyScore };
  }

  score(s: ScoreState, _cycle: Cycle, node: NodeInfo): number {
    let score = 0;
    for (const [key, values] of s.topologyScore) {
      const v = node.labels[key];
      if (v !== undefined) score += values.get(v) ?? 0;
    }
    return score;
  }

  normalize(_s: ScoreState, _cycle: Cycle, scores: Float64Array, _nodes: readonly NodeInfo[], count: number): void {
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < count; i++) {
      if (scores[i] > max) max = scores[i];
      if (scores[i] < min) min = scores[i];
    }
    const diff = max - min;
    for (let i = 0; i < count; i++) scores[i] = diff > 0 ? Math.trunc(100 * ((scores[i] - min) / diff)) : 0;
  }
}

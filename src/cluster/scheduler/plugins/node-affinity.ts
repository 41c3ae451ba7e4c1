/**
 * NodeAffinity (`pkg/scheduler/framework/plugins/nodeaffinity`, component-helpers `nodeaffinity`):
 * - PreFilter: skipped when the pod has neither `nodeSelector` nor required node affinity; when
 *   every required term pins `metadata.name` (matchFields), only those nodes are filtered.
 * - Filter: every `nodeSelector` label must match, and at least one required term (ORed; the
 *   requirements inside a term ANDed) must match. Unresolvable by preemption.
 * - Score: the summed weights of the preferred terms a node matches, normalised to 0..100. Skipped
 *   without preferred terms. Weight 2.
 */

import { compileNodeSelectorTerm, nodeMatchesTerm, selectorFromSet, type NodeSelectorTerm, type Selector } from "../_selector.js";
import { REASON_NODE_AFFINITY, REASON_NODE_AFFINITY_CONFLICT, rejection } from "../messages.js";
import type { NodeInfo } from "../nodeinfo.js";
import type { PodInfo } from "../podinfo.js";
import { SKIP, type Cycle, type FilterPlugin, type PreFilterResult, type ScorePlugin, type Skip, type Status } from "../types.js";
import { defaultNormalizeScore } from "./_normalize.js";

/** The pod's hard node constraints: `nodeSelector` AND (any required term). */
export class RequiredNodeAffinity {
  constructor(
    /** From `spec.nodeSelector`; undefined when the pod has none. */
    readonly nodeSelector: Selector | undefined,
    /** From `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; undefined when absent. */
    readonly terms: readonly NodeSelectorTerm[] | undefined,
  ) {}

  /** True when the pod constrains nodes at all. */
  get constrains(): boolean {
    return this.nodeSelector !== undefined || this.terms !== undefined;
  }

  /** `RequiredNodeAffinity.Match` (parse errors count as no match). */
  match(node: NodeInfo): boolean {
    if (this.nodeSelector && !this.nodeSelector.matches(node.labels)) return false;
    if (this.terms) {
      for (let i = 0; i < this.terms.length; i++) if (nodeMatchesTerm(this.terms[i], node.name, node.labels)) return true;
      return false;
    }
    return true;
  }
}

const requiredCache = new WeakMap<PodInfo, RequiredNodeAffinity>();

/** `nodeaffinity.GetRequiredNodeAffinity`, computed once per PodInfo. */
export function getRequiredNodeAffinity(pod: PodInfo): RequiredNodeAffinity {
  let r = requiredCache.get(pod);
  if (!r) {
    const spec = pod.pod.spec ?? {};
    const nodeSelector = spec.nodeSelector && typeof spec.nodeSelector === "object" ? selectorFromSet(spec.nodeSelector) : undefined;
    const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    const field = "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms";
    const terms = required
      ? (required.nodeSelectorTerms ?? []).map((t: any, i: number) => compileNodeSelectorTerm(t, `${field}[${i}]`))
      : undefined;
    r = new RequiredNodeAffinity(nodeSelector, terms);
    requiredCache.set(pod, r);
  }
  return r;
}

interface PreferredTerm {
  readonly term: NodeSelectorTerm;
  readonly weight: number;
}

/** NodeAffinity plugin. */
export class NodeAffinity implements FilterPlugin<RequiredNodeAffinity>, ScorePlugin<readonly PreferredTerm[]> {
  readonly name = "NodeAffinity" as const;
  private readonly rejected = rejection(this.name, "UnschedulableAndUnresolvable", REASON_NODE_AFFINITY);

  preFilter(cycle: Cycle): PreFilterResult<RequiredNodeAffinity> | Status | Skip {
    const required = getRequiredNodeAffinity(cycle.pod);
    if (!required.constrains) return SKIP;
    const terms = required.terms;
    if (!terms || terms.length === 0) return { state: required };
    // Affinity to specific node names: the union over terms of the names each term pins.
    let names: Set<string> | undefined;
    for (const t of terms) {
      if (!t.nameIn) return { state: required };
      names ??= new Set();
      for (const n of t.nameIn) names.add(n);
    }
    if (names && names.size === 0) return rejection(this.name, "UnschedulableAndUnresolvable", REASON_NODE_AFFINITY_CONFLICT);
    return { state: required, nodeNames: names };
  }

  filter(required: RequiredNodeAffinity, _cycle: Cycle, node: NodeInfo): Status | null {
    return required.match(node) ? null : this.rejected;
  }

  preScore(cycle: Cycle): readonly PreferredTerm[] | Skip {
    const preferred = cycle.pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution;
    if (!Array.isArray(preferred)) return SKIP;
    const field = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution";
    const terms: PreferredTerm[] = [];
    for (let i = 0; i < preferred.length; i++) {
      const weight = Number(preferred[i]?.weight ?? 0);
      if (weight === 0) continue;
      terms.push({ term: compileNodeSelectorTerm(preferred[i]?.preference, `${field}[${i}].preference`), weight });
    }
    return terms;
  }

  score(terms: readonly PreferredTerm[], _cycle: Cycle, node: NodeInfo): number {
    let sum = 0;
    for (let i = 0; i < terms.length; i++) if (nodeMatchesTerm(terms[i].term, node.name, node.labels)) sum += terms[i].weight;
    return sum;
  }

  normalize(_state: readonly PreferredTerm[], _cycle: Cycle, scores: Float64Array, _nodes: readonly NodeInfo[], count: number): void {
    defaultNormalizeScore(scores, count, false);
  }
}

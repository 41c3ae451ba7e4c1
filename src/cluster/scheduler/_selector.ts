/**
 * Label and node selector matching for the scheduler, private to this folder.
 *
 * Two selector languages meet here:
 * - `LabelSelector` (`matchLabels` + `matchExpressions` with In/NotIn/Exists/DoesNotExist), used by
 *   pod affinity terms, topology spread constraints and workload selectors. Semantics follow
 *   apimachinery `metav1.LabelSelectorAsSelector`: a missing selector selects nothing, an empty one
 *   (`{}`) selects everything.
 * - `NodeSelectorTerm` (`matchExpressions` with the extra Gt/Lt operators, plus `matchFields` on
 *   `metadata.name`), used by node affinity. Semantics follow component-helpers
 *   `scheduling/corev1/nodeaffinity`: terms are ORed, requirements inside a term are ANDed, and an
 *   empty term matches no node.
 *
 * Selectors are compiled once (per pod, per scheduling attempt) into flat requirement lists so that
 * matching a node or a pod in the hot path is a few property reads.
 */

/** One compiled requirement. `values` is a Set for In/NotIn, a number for Gt/Lt. */
interface Requirement {
  readonly key: string;
  readonly op: "In" | "NotIn" | "Exists" | "DoesNotExist" | "Gt" | "Lt";
  readonly values: ReadonlySet<string> | undefined;
  readonly bound: number;
}

/** A compiled label selector. */
export interface Selector {
  /** True when the selector selects every object (`{}`). */
  readonly everything: boolean;
  /** True when the selector selects no object (a missing selector). */
  readonly nothing: boolean;
  /** A canonical text of the selector, equal for equal selectors: used as a cache key. */
  readonly key: string;
  /** True when `labels` satisfy every requirement. */
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

class CompiledSelector implements Selector {
  readonly everything: boolean;
  constructor(
    readonly reqs: readonly Requirement[],
    readonly nothing: boolean,
    readonly key: string,
  ) {
    this.everything = !nothing && reqs.length === 0;
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    if (this.nothing) return false;
    const l = labels ?? EMPTY;
    for (let i = 0; i < this.reqs.length; i++) {
      if (!matchRequirement(this.reqs[i], l)) return false;
    }
    return true;
  }
}

function matchRequirement(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.op) {
    case "In":
      return has && r.values!.has(labels[r.key]);
    case "NotIn":
      return !has || !r.values!.has(labels[r.key]);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      // apimachinery labels.Requirement.Matches: the label must exist and parse as an integer.
      if (!has) return false;
      const text = labels[r.key];
      if (!/^[+-]?\d+$/.test(text)) return false;
      const v = Number(text);
      return r.op === "Gt" ? v > r.bound : v < r.bound;
    }
  }
}

/** The selector that selects nothing (a missing `LabelSelector`). */
export const NOTHING: Selector = new CompiledSelector([], true, "<nothing>");
/** The selector that selects everything (`{}`). */
export const EVERYTHING: Selector = new CompiledSelector([], false, "");

/** A Kubernetes `LabelSelector` as written in manifests. */
export interface LabelSelectorSpec {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** A node selector requirement (`NodeSelectorRequirement`). */
export interface NodeSelectorRequirementSpec {
  key: string;
  operator: string;
  values?: string[];
}

/** A node selector term (`NodeSelectorTerm`). */
export interface NodeSelectorTermSpec {
  matchExpressions?: NodeSelectorRequirementSpec[];
  matchFields?: NodeSelectorRequirementSpec[];
}

function canonical(reqs: Requirement[]): string {
  const parts = reqs.map((r) => {
    if (r.values) return `${r.key} ${r.op} (${[...r.values].sort().join(",")})`;
    if (r.op === "Gt" || r.op === "Lt") return `${r.key} ${r.op} ${r.bound}`;
    return `${r.key} ${r.op}`;
  });
  parts.sort();
  return parts.join(";");
}

/** The selector of requirements that must all hold; no requirement at all selects everything. */
function allOf(reqs: Requirement[]): Selector {
  if (reqs.length === 0) return EVERYTHING;
  return new CompiledSelector(reqs, false, canonical(reqs));
}

/** One `key In (value)` requirement per pair of a label map (`matchLabels`, `SelectorFromSet`). */
function equalityRequirements(set: Readonly<Record<string, string>>): Requirement[] {
  return Object.keys(set).map((key) => ({ key, op: "In" as const, values: new Set([String(set[key])]), bound: 0 }));
}

/**
 * Compiles `matchExpressions` requirements; `field` names the list in errors (`<field>[i]`).
 * Label selectors take In, NotIn, Exists and DoesNotExist; node selectors (`numeric`) also take
 * Gt and Lt with a single integer value, as `nodeSelectorRequirementsAsSelector` does.
 */
function compileRequirements(exprs: readonly NodeSelectorRequirementSpec[], field: string, numeric: boolean): Requirement[] {
  const reqs: Requirement[] = [];
  for (let i = 0; i < exprs.length; i++) {
    const e = exprs[i];
    const where = `${field}[${i}]`;
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
      case "NotIn":
        if (values.length === 0) throw new Error(`${where}.values: must be specified when operator is "${e.operator}"`);
        reqs.push({ key: e.key, op: e.operator, values: new Set(values.map(String)), bound: 0 });
        break;
      case "Exists":
      case "DoesNotExist":
        if (values.length > 0) throw new Error(`${where}.values: may not be specified when operator is "${e.operator}"`);
        reqs.push({ key: e.key, op: e.operator, values: undefined, bound: 0 });
        break;
      case "Gt":
      case "Lt":
        if (!numeric) throw invalidOperator(where, e.operator, numeric);
        if (values.length !== 1 || !/^[+-]?\d+$/.test(String(values[0]))) {
          throw new Error(`${where}.values: must be a single integer when operator is "${e.operator}"`);
        }
        reqs.push({ key: e.key, op: e.operator, values: undefined, bound: Number(values[0]) });
        break;
      default:
        throw invalidOperator(where, e.operator, numeric);
    }
  }
  return reqs;
}

function invalidOperator(where: string, operator: string, numeric: boolean): Error {
  return numeric
    ? new Error(`${where}.operator: "${operator}" is not a valid node selector operator; use In, NotIn, Exists, DoesNotExist, Gt or Lt`)
    : new Error(`${where}.operator: "${operator}" is not a valid label selector operator; use In, NotIn, Exists or DoesNotExist`);
}

/**
 * Compiles a `LabelSelector` (`metav1.LabelSelectorAsSelector`): `undefined`/`null` selects nothing,
 * `{}` selects everything. Throws, naming `field`, when an operator or its values are invalid.
 */
export function compileLabelSelector(spec: LabelSelectorSpec | null | undefined, field = "labelSelector"): Selector {
  if (spec === undefined || spec === null) return NOTHING;
  if (typeof spec !== "object") throw new Error(`${field}: expected a label selector object, got ${JSON.stringify(spec)}`);
  const reqs = equalityRequirements(spec.matchLabels ?? {});
  reqs.push(...compileRequirements(spec.matchExpressions ?? [], `${field}.matchExpressions`, false));
  return allOf(reqs);
}

/** A selector built from a plain label map (`labels.SelectorFromSet`): every pair must match. An empty map selects everything. */
export function selectorFromSet(set: Readonly<Record<string, string>> | undefined): Selector {
  if (!set) return EVERYTHING;
  return allOf(equalityRequirements(set));
}

/** The AND of several selectors (`selector.Add(requirements...)`). */
export function andSelectors(selectors: readonly Selector[]): Selector {
  if (selectors.some((s) => s.nothing)) return NOTHING;
  const reqs: Requirement[] = [];
  for (const s of selectors) if (s instanceof CompiledSelector) reqs.push(...s.reqs);
  return allOf(reqs);
}

/** A compiled node selector term; `error` is set when the term could not be parsed (it then matches nothing). */
export interface NodeSelectorTerm {
  readonly labels: Selector;
  /** Allowed/forbidden node names from `matchFields` on `metadata.name`. */
  readonly nameIn: ReadonlySet<string> | undefined;
  readonly nameNotIn: ReadonlySet<string> | undefined;
  readonly empty: boolean;
  readonly error: string | undefined;
}

/**
 * Compiles a `NodeSelectorTerm`. Parse errors do not throw: as component-helpers does, the term
 * records the error and matches no node ("ignore parsing errors for backwards compatibility").
 */
export function compileNodeSelectorTerm(term: NodeSelectorTermSpec | null | undefined, field: string): NodeSelectorTerm {
  const exprs = term?.matchExpressions ?? [];
  const fields = term?.matchFields ?? [];
  const empty = exprs.length === 0 && fields.length === 0;
  try {
    const reqs = compileRequirements(exprs, `${field}.matchExpressions`, true);
    let nameIn: Set<string> | undefined;
    let nameNotIn: Set<string> | undefined;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      const where = `${field}.matchFields[${i}]`;
      if (f.key !== "metadata.name") throw new Error(`${where}.key: only "metadata.name" is supported for node field selectors, got "${f.key}"`);
      const values = f.values ?? [];
      // nodeSelectorRequirementsAsFieldSelector: In/NotIn with exactly one value.
      if (values.length !== 1) throw new Error(`${where}.values: must have exactly one value for operator "${f.operator}"`);
      if (f.operator === "In") {
        nameIn = nameIn ? new Set([...nameIn].filter((n) => n === values[0])) : new Set(values);
      } else if (f.operator === "NotIn") {
        (nameNotIn ??= new Set()).add(values[0]);
      } else {
        throw new Error(`${where}.operator: "${f.operator}" is not valid for node field selectors; use In or NotIn`);
      }
    }
    const labels = allOf(reqs);
    return { labels, nameIn, nameNotIn, empty, error: undefined };
  } catch (err) {
    return { labels: NOTHING, nameIn: undefined, nameNotIn: undefined, empty, error: (err as Error).message };
  }
}

/** True when a node (its name and labels) satisfies a compiled node selector term. An empty term matches nothing. */
export function nodeMatchesTerm(term: NodeSelectorTerm, nodeName: string, labels: Readonly<Record<string, string>>): boolean {
  if (term.empty || term.error !== undefined) return false;
  if (!term.labels.matches(labels)) return false;
  if (term.nameIn && !term.nameIn.has(nodeName)) return false;
  if (term.nameNotIn && term.nameNotIn.has(nodeName)) return false;
  return true;
}

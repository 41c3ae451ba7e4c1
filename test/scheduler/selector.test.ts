/**
 * The scheduler's selector compiler (`_selector.ts`): label selectors and node selector terms share
 * one requirement compiler; label selectors refuse the node-only Gt/Lt operators.
 */
import { describe, expect, it } from "vitest";
import { andSelectors, compileLabelSelector, compileNodeSelectorTerm, EVERYTHING, NOTHING, nodeMatchesTerm, selectorFromSet } from "../../src/cluster/scheduler/_selector.js";

describe("label selectors", () => {
  it("selects nothing when missing and everything when empty, as LabelSelectorAsSelector", () => {
    expect(compileLabelSelector(undefined)).toBe(NOTHING);
    expect(compileLabelSelector(null)).toBe(NOTHING);
    expect(compileLabelSelector({})).toBe(EVERYTHING);
    expect(selectorFromSet({})).toBe(EVERYTHING);
    expect(selectorFromSet(undefined)).toBe(EVERYTHING);
  });

  it("ANDs matchLabels with matchExpressions", () => {
    const s = compileLabelSelector({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "NotIn", values: ["db"] }] });
    expect(s.matches({ app: "web" })).toBe(true);
    expect(s.matches({ app: "web", tier: "frontend" })).toBe(true);
    expect(s.matches({ app: "web", tier: "db" })).toBe(false);
    expect(s.matches({ app: "api" })).toBe(false);
  });

  it("gives equal keys to a matchLabels selector and the same label set", () => {
    expect(compileLabelSelector({ matchLabels: { b: "2", a: "1" } }).key).toBe(selectorFromSet({ a: "1", b: "2" }).key);
    expect(andSelectors([selectorFromSet({ a: "1" }), selectorFromSet({ b: "2" })]).key).toBe(selectorFromSet({ a: "1", b: "2" }).key);
    expect(andSelectors([selectorFromSet({ a: "1" }), NOTHING])).toBe(NOTHING);
  });

  it("refuses Gt and Lt, naming the field and the operators it takes", () => {
    expect(() => compileLabelSelector({ matchExpressions: [{ key: "n", operator: "Gt", values: ["1"] }] }, "spec.topologySpreadConstraints[0].labelSelector")).toThrow(
      'spec.topologySpreadConstraints[0].labelSelector.matchExpressions[0].operator: "Gt" is not a valid label selector operator; use In, NotIn, Exists or DoesNotExist',
    );
  });

  it("names the field of an operator given the wrong values", () => {
    expect(() => compileLabelSelector({ matchExpressions: [{ key: "a", operator: "Exists" }, { key: "b", operator: "In", values: [] }] })).toThrow(
      'labelSelector.matchExpressions[1].values: must be specified when operator is "In"',
    );
    expect(() => compileLabelSelector({ matchExpressions: [{ key: "a", operator: "DoesNotExist", values: ["x"] }] })).toThrow(
      'labelSelector.matchExpressions[0].values: may not be specified when operator is "DoesNotExist"',
    );
  });
});

describe("node selector terms", () => {
  it("matches Gt and Lt on integer labels only", () => {
    const term = compileNodeSelectorTerm({ matchExpressions: [{ key: "cores", operator: "Gt", values: ["4"] }, { key: "gen", operator: "Lt", values: ["3"] }] }, "term");
    expect(term.error).toBeUndefined();
    expect(nodeMatchesTerm(term, "n1", { cores: "8", gen: "2" })).toBe(true);
    expect(nodeMatchesTerm(term, "n1", { cores: "4", gen: "2" })).toBe(false);
    expect(nodeMatchesTerm(term, "n1", { cores: "eight", gen: "2" })).toBe(false);
  });

  it("records a parse error, naming the field, and then matches no node", () => {
    const badValue = compileNodeSelectorTerm({ matchExpressions: [{ key: "cores", operator: "Gt", values: ["4", "5"] }] }, "spec.affinity.nodeAffinity.terms[0]");
    expect(badValue.error).toBe('spec.affinity.nodeAffinity.terms[0].matchExpressions[0].values: must be a single integer when operator is "Gt"');
    expect(nodeMatchesTerm(badValue, "n1", { cores: "8" })).toBe(false);
    const badOperator = compileNodeSelectorTerm({ matchExpressions: [{ key: "a", operator: "Near", values: ["x"] }] }, "t");
    expect(badOperator.error).toBe('t.matchExpressions[0].operator: "Near" is not a valid node selector operator; use In, NotIn, Exists, DoesNotExist, Gt or Lt');
  });

  it("an empty term matches no node; matchFields selects by node name", () => {
    expect(nodeMatchesTerm(compileNodeSelectorTerm({}, "t"), "n1", {})).toBe(false);
    const byName = compileNodeSelectorTerm({ matchFields: [{ key: "metadata.name", operator: "In", values: ["n1"] }] }, "t");
    expect(nodeMatchesTerm(byName, "n1", {})).toBe(true);
    expect(nodeMatchesTerm(byName, "n2", {})).toBe(false);
  });
});

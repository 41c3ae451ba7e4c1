import { describe, expect, it } from "vitest";
import { FitError, fitErrorMessage, NoNodesAvailableError, Snapshot, Status, truncateMessage } from "../../src/cluster/scheduler/index.js";
import { newDiagnosis } from "../../src/cluster/scheduler/messages.js";
import { cluster, CONTROL_PLANE_TAINT, failure, node, pod, scheduler } from "./_fixtures.js";

describe("FailedScheduling message", () => {
  it("says 0/3 nodes are available: 3 Insufficient cpu, and no victims when nothing has lower priority", () => {
    const nodes = ["w1", "w2", "w3"].map((n) => node(n, { cpu: "2" }));
    const bound = nodes.map((n, i) => pod(`busy-${i}`, { cpu: "1500m", nodeName: n.metadata.name }));
    const r = scheduler().schedule(pod("web", { cpu: "1" }), cluster(nodes, bound));
    expect(failure(r)).toBe(
      "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    );
  });

  it("counts an untolerated control-plane taint and sorts the counted reasons", () => {
    const nodes = [node("cp", { taints: [CONTROL_PLANE_TAINT] }), ...["w1", "w2", "w3"].map((n) => node(n, { cpu: "2" }))];
    const bound = ["w1", "w2", "w3"].map((n, i) => pod(`busy-${i}`, { cpu: "1500m", nodeName: n }));
    const r = scheduler().schedule(pod("web", { cpu: "1" }), cluster(nodes, bound));
    expect(failure(r)).toBe(
      "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 Insufficient cpu. " +
        "preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
    );
  });

  it("says preemption is not helpful when the request exceeds every node's allocatable", () => {
    const r = scheduler().schedule(pod("big", { cpu: "8" }), cluster(["a", "b", "c"].map((n) => node(n, { cpu: "4" }))));
    expect(failure(r)).toBe("0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.");
  });

  it("lists every insufficient resource of a node and counts each reason per node", () => {
    const nodes = [node("a", { cpu: "1", memory: "1Gi" }), node("b", { cpu: "1", memory: "4Gi" })];
    const bound = [pod("x", { cpu: "900m", memory: "900Mi", nodeName: "a" }), pod("y", { cpu: "900m", nodeName: "b" })];
    const r = scheduler().schedule(pod("web", { cpu: "500m", memory: "512Mi" }), cluster(nodes, bound));
    expect(failure(r)).toBe(
      "0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
    const err = (r as { error: FitError }).error;
    expect(err.reasonsFor("a")).toEqual(["Insufficient cpu", "Insufficient memory"]);
    expect(err.reasonsFor("b")).toEqual(["Insufficient cpu"]);
  });

  it("sorts counts as strings, so 10 comes before 2 as in Go's sort.Strings", () => {
    const d = newDiagnosis();
    for (let i = 0; i < 10; i++) d.nodeToStatus.set(`n${i}`, new Status("Unschedulable", ["Insufficient cpu"], "NodeResourcesFit"));
    for (let i = 10; i < 12; i++) d.nodeToStatus.set(`n${i}`, new Status("UnschedulableAndUnresolvable", ["node(s) were unschedulable"], "NodeUnschedulable"));
    expect(fitErrorMessage(12, d)).toBe("0/12 nodes are available: 10 Insufficient cpu, 2 node(s) were unschedulable.");
  });

  it("reports a PreFilter rejection once instead of per node", () => {
    const spec = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: "metadata.name", operator: "In", values: ["gone"] }] }],
          },
        },
      },
    };
    const r = scheduler().schedule(pod("pinned", { spec }), cluster([node("a"), node("b")]));
    expect(failure(r)).toBe(
      "0/2 nodes are available: 2 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  it("reports conflicting node-name affinity terms as a PreFilter message", () => {
    const spec = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchFields: [
                  { key: "metadata.name", operator: "In", values: ["a"] },
                  { key: "metadata.name", operator: "In", values: ["b"] },
                ],
              },
            ],
          },
        },
      },
    };
    const r = scheduler().schedule(pod("pinned", { spec }), cluster([node("a"), node("b")]));
    expect(failure(r)).toBe("0/2 nodes are available: pod affinity terms conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.");
  });

  it("says a pod with preemptionPolicy Never is not eligible", () => {
    const r = scheduler().schedule(pod("web", { cpu: "8", spec: { preemptionPolicy: "Never" } }), cluster([node("a", { cpu: "4" })]));
    expect(failure(r)).toBe("0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.");
  });

  it("says no nodes available when the cluster has none", () => {
    const r = scheduler().schedule(pod("web"), new Snapshot());
    expect("error" in r && r.error).toBeInstanceOf(NoNodesAvailableError);
    expect(failure(r)).toBe("no nodes available to schedule pods");
  });

  it("keeps the message without a preemption part when preemption is turned off", () => {
    const r = scheduler({ preemption: false }).schedule(pod("web", { cpu: "8" }), cluster([node("a", { cpu: "4" })]));
    expect(failure(r)).toBe("0/1 nodes are available: 1 Insufficient cpu.");
  });

  it("truncates event notes to 1024 bytes ending in ' ...'", () => {
    const long = "x".repeat(2000);
    const cut = truncateMessage(long);
    expect(Buffer.byteLength(cut)).toBe(1024);
    expect(cut.endsWith(" ...")).toBe(true);
    expect(truncateMessage("short")).toBe("short");
  });

  it("serialises a FitError with per-node reasons and the plugins that rejected", () => {
    const r = scheduler().schedule(pod("web", { cpu: "8" }), cluster([node("a", { cpu: "4" })]));
    const json = (r as { error: FitError }).error.toJSON();
    expect(json.nodeReasons).toEqual({ a: ["Insufficient cpu"] });
    expect(json.unschedulablePlugins).toEqual(["NodeResourcesFit"]);
    expect(json.numAllNodes).toBe(1);
  });
});

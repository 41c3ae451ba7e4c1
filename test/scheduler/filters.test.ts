import { describe, expect, it } from "vitest";
import type { FitError, ScheduleResult } from "../../src/cluster/scheduler/index.js";
import { cluster, CONTROL_PLANE_TAINT, failure, node, placeAll, placed, pod, scheduler } from "./_fixtures.js";

function reasons(r: ScheduleResult, nodeName: string): readonly string[] {
  if (!("error" in r)) throw new Error(`expected a failure, got ${r.nodeName}`);
  return (r.error as FitError).reasonsFor(nodeName);
}

const requireAffinity = (terms: unknown[]) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } });
const antiAffinity = (app: string, topologyKey = "kubernetes.io/hostname") => ({
  affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey }] } },
});

describe("NodeUnschedulable", () => {
  it("keeps pods off a cordoned node", () => {
    const snap = cluster([node("cordoned", { unschedulable: true }), node("open")]);
    expect(placed(scheduler().schedule(pod("web"), snap))).toBe("open");
  });

  it("rejects with 'node(s) were unschedulable' and lets pods that tolerate the unschedulable taint in", () => {
    const snap = cluster([node("cordoned", { unschedulable: true })]);
    expect(reasons(scheduler().schedule(pod("web"), snap), "cordoned")).toEqual(["node(s) were unschedulable"]);
    const tolerant = pod("ds", { spec: { tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" }] } });
    expect(placed(scheduler().schedule(tolerant, snap))).toBe("cordoned");
  });
});

describe("NodeName", () => {
  it("fits only the node named in spec.nodeName", () => {
    const snap = cluster([node("a"), node("b")]);
    const r = scheduler().schedule(pod("p", { spec: { nodeName: "b" } }), snap);
    expect(placed(r)).toBe("b");
    const miss = scheduler().schedule(pod("q", { spec: { nodeName: "c" } }), snap);
    expect(reasons(miss, "a")).toEqual(["node(s) didn't match the requested node name"]);
  });
});

describe("TaintToleration", () => {
  it("respects the control-plane taint", () => {
    const snap = cluster([node("cp", { taints: [CONTROL_PLANE_TAINT] }), node("worker", { cpu: "1" })]);
    const s = scheduler();
    expect(placeAll(s, snap, [pod("a"), pod("b"), pod("c")])).toEqual(["worker", "worker", "worker"]);
  });

  it("lets a pod that tolerates the taint onto the control-plane node", () => {
    const snap = cluster([node("cp", { taints: [CONTROL_PLANE_TAINT] })]);
    const tolerant = pod("agent", { spec: { tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" }] } });
    expect(placed(scheduler().schedule(tolerant, snap))).toBe("cp");
  });

  it("names the first untolerated NoSchedule/NoExecute taint with its value and ignores PreferNoSchedule", () => {
    const snap = cluster([
      node("gpu", { taints: [{ key: "soft", value: "x", effect: "PreferNoSchedule" }, { key: "dedicated", value: "gpu", effect: "NoExecute" }] }),
    ]);
    expect(reasons(scheduler().schedule(pod("web"), snap), "gpu")).toEqual(["node(s) had untolerated taint {dedicated: gpu}"]);
    const equal = pod("ok", { spec: { tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu" }] } });
    expect(placed(scheduler().schedule(equal, snap))).toBe("gpu");
    const wrongValue = pod("no", { spec: { tolerations: [{ key: "dedicated", operator: "Equal", value: "cpu" }] } });
    expect(failure(scheduler().schedule(wrongValue, snap))).toContain("1 node(s) had untolerated taint {dedicated: gpu}");
  });
});

describe("NodeAffinity", () => {
  it("honours nodeSelector", () => {
    const snap = cluster([node("hdd", { labels: { disk: "hdd" } }), node("ssd", { labels: { disk: "ssd" } })]);
    expect(placed(scheduler().schedule(pod("db", { spec: { nodeSelector: { disk: "ssd" } } }), snap))).toBe("ssd");
    const r = scheduler().schedule(pod("db2", { spec: { nodeSelector: { disk: "nvme" } } }), snap);
    expect(failure(r)).toBe(
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
  });

  it("honours required node affinity with ORed terms and In, NotIn, Exists, DoesNotExist, Gt and Lt", () => {
    const snap = cluster([
      node("small", { labels: { cores: "4", tier: "web" } }),
      node("large", { labels: { cores: "64", tier: "batch" } }),
      node("legacy", { labels: { deprecated: "true" } }),
    ]);
    const place = (terms: unknown[]) => placed(scheduler().schedule(pod("p", { spec: requireAffinity(terms) }), snap));
    expect(place([{ matchExpressions: [{ key: "cores", operator: "Gt", values: ["16"] }] }])).toBe("large");
    expect(place([{ matchExpressions: [{ key: "cores", operator: "Lt", values: ["16"] }] }])).toBe("small");
    expect(place([{ matchExpressions: [{ key: "tier", operator: "In", values: ["web"] }] }])).toBe("small");
    expect(place([{ matchExpressions: [{ key: "deprecated", operator: "Exists" }] }])).toBe("legacy");
    expect(
      place([{ matchExpressions: [{ key: "tier", operator: "NotIn", values: ["web"] }, { key: "deprecated", operator: "DoesNotExist" }] }]),
    ).toBe("large");
    // Terms are ORed: either label makes the node eligible, the others stay out.
    const both = placeAll(scheduler(), snap, [0, 1, 2, 3].map((i) => pod(`p${i}`, { spec: requireAffinity([{ matchExpressions: [{ key: "tier", operator: "In", values: ["batch"] }] }, { matchExpressions: [{ key: "deprecated", operator: "Exists" }] }]) })));
    expect(new Set(both)).toEqual(new Set(["large", "legacy"]));
  });

  it("matches nothing with an empty term or an invalid Gt value", () => {
    const snap = cluster([node("a", { labels: { cores: "4" } })]);
    const empty = scheduler().schedule(pod("p", { spec: requireAffinity([{}]) }), snap);
    expect(reasons(empty, "a")).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
    const invalid = scheduler().schedule(pod("q", { spec: requireAffinity([{ matchExpressions: [{ key: "cores", operator: "Gt", values: ["many"] }] }]) }), snap);
    expect(reasons(invalid, "a")).toEqual(["node(s) didn't match Pod's node affinity/selector"]);
  });

  it("narrows the search to nodes pinned by matchFields metadata.name", () => {
    const snap = cluster([node("a"), node("b"), node("c")]);
    const r = scheduler().schedule(pod("p", { spec: requireAffinity([{ matchFields: [{ key: "metadata.name", operator: "In", values: ["c"] }] }]) }), snap);
    expect(placed(r)).toBe("c");
    expect((r as { evaluatedNodes: number }).evaluatedNodes).toBe(1);
  });
});

describe("NodePorts", () => {
  it("rejects a node where the host port is taken", () => {
    const snap = cluster([node("a"), node("b")], [pod("old", { hostPort: 8080, nodeName: "a" })]);
    expect(placed(scheduler().schedule(pod("new", { hostPort: 8080 }), snap))).toBe("b");
    snap.addPod(pod("old2", { hostPort: 8080, nodeName: "b" }));
    const r = scheduler().schedule(pod("newer", { hostPort: 8080 }), snap);
    expect(failure(r)).toBe(
      "0/2 nodes are available: 2 node(s) didn't have free ports for the requested pod ports. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
    );
  });

  it("does not conflict across protocols or distinct host IPs, but 0.0.0.0 conflicts with any IP", () => {
    const withPort = (name: string, protocol: string, hostIP?: string, nodeName?: string) => {
      const p = pod(name, { nodeName });
      p.spec.containers[0].ports = [{ containerPort: 53, hostPort: 53, protocol, ...(hostIP ? { hostIP } : {}) }];
      return p;
    };
    const snap = cluster([node("a")], [withPort("dns-udp", "UDP", "10.0.0.1", "a")]);
    expect(placed(scheduler().schedule(withPort("dns-tcp", "TCP"), snap))).toBe("a");
    expect(placed(scheduler().schedule(withPort("other-ip", "UDP", "10.0.0.2"), snap))).toBe("a");
    expect(reasons(scheduler().schedule(withPort("any-ip", "UDP"), snap), "a")).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
    expect(reasons(scheduler().schedule(withPort("same-ip", "UDP", "10.0.0.1"), snap), "a")).toEqual(["node(s) didn't have free ports for the requested pod ports"]);
  });
});

describe("NodeResourcesFit", () => {
  it("counts requests of bound pods, and only real requests (pods without requests always fit resources)", () => {
    const snap = cluster([node("a", { cpu: "1", memory: "1Gi" })], [pod("x", { cpu: "600m", nodeName: "a" })]);
    expect(reasons(scheduler().schedule(pod("y", { cpu: "500m" }), snap), "a")).toEqual(["Insufficient cpu"]);
    expect(placed(scheduler().schedule(pod("z", { cpu: "400m" }), snap))).toBe("a");
    expect(placed(scheduler().schedule(pod("besteffort"), snap))).toBe("a");
  });

  it("says Too many pods when allocatable pods is reached", () => {
    const snap = cluster([node("a", { pods: "2" })], [pod("x", { nodeName: "a" }), pod("y", { nodeName: "a" })]);
    expect(reasons(scheduler().schedule(pod("z"), snap), "a")).toEqual(["Too many pods"]);
  });

  it("checks extended resources and reports init containers' larger requests", () => {
    const gpuNode = node("gpu");
    gpuNode.status.allocatable["nvidia.com/gpu"] = "1";
    const snap = cluster([gpuNode]);
    const wantsTwo = pod("train");
    wantsTwo.spec.containers[0].resources.requests["nvidia.com/gpu"] = "2";
    expect(reasons(scheduler().schedule(wantsTwo, snap), "gpu")).toEqual(["Insufficient nvidia.com/gpu"]);
    const init = pod("migrate", { cpu: "100m" });
    init.spec.initContainers = [{ name: "init", image: "busybox", resources: { requests: { cpu: "5" } } }];
    expect(reasons(scheduler().schedule(init, snap), "gpu")).toEqual(["Insufficient cpu"]);
  });

  it("frees the resources of a removed pod", () => {
    const busy = pod("x", { cpu: "900m", nodeName: "a" });
    const snap = cluster([node("a", { cpu: "1" })], [busy]);
    expect(reasons(scheduler().schedule(pod("y", { cpu: "500m" }), snap), "a")).toEqual(["Insufficient cpu"]);
    snap.removePod(busy);
    expect(placed(scheduler().schedule(pod("y2", { cpu: "500m" }), snap))).toBe("a");
  });
});

describe("PodTopologySpread", () => {
  const spread = (maxSkew: number, whenUnsatisfiable = "DoNotSchedule") => ({
    topologySpreadConstraints: [{ maxSkew, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable, labelSelector: { matchLabels: { app: "web" } } }],
  });

  it("keeps the skew between zones within maxSkew", () => {
    const snap = cluster([node("a1", { zone: "a" }), node("a2", { zone: "a" }), node("b1", { zone: "b" })], [pod("w0", { labels: { app: "web" }, nodeName: "a1" })]);
    // Zone a holds one matching pod, zone b none: another pod in a makes the skew 2.
    expect(placed(scheduler().schedule(pod("w1", { labels: { app: "web" }, spec: spread(1) }), snap))).toBe("b1");
    // Forced into zone a (with zone b still counted as a domain: nodeAffinityPolicy Ignore).
    const inZoneA = (maxSkew: number, labels = { app: "web" }) => {
      const c = { ...spread(maxSkew).topologySpreadConstraints[0], nodeAffinityPolicy: "Ignore" };
      return pod(`w-${maxSkew}`, { labels, spec: { topologySpreadConstraints: [c], nodeSelector: { "topology.kubernetes.io/zone": "a" } } });
    };
    expect(failure(scheduler().schedule(inZoneA(1), snap))).toContain("2 node(s) didn't match pod topology spread constraints");
    expect(["a1", "a2"]).toContain(placed(scheduler().schedule(inZoneA(2), snap)));
    // A pod its own selector does not match adds nothing to the skew.
    expect(["a1", "a2"]).toContain(placed(scheduler().schedule(inZoneA(1, { app: "other" }), snap)));
    // With the default nodeAffinityPolicy Honor, zone b is not a domain for a pod confined to zone a.
    const honor = pod("honor", { labels: { app: "web" }, spec: { ...spread(1), nodeSelector: { "topology.kubernetes.io/zone": "a" } } });
    expect(["a1", "a2"]).toContain(placed(scheduler().schedule(honor, snap)));
  });

  it("rejects with the upstream reasons, including nodes missing the topology key", () => {
    const snap = cluster([node("a1", { zone: "a" }), node("b1", { zone: "b", unschedulable: true }), node("nozone")], [pod("w0", { labels: { app: "web" }, nodeName: "a1" })]);
    const r = scheduler().schedule(pod("w1", { labels: { app: "web" }, spec: spread(1) }), snap);
    expect(reasons(r, "a1")).toEqual(["node(s) didn't match pod topology spread constraints"]);
    expect(reasons(r, "b1")).toEqual(["node(s) were unschedulable"]);
    expect(reasons(r, "nozone")).toEqual(["node(s) didn't match pod topology spread constraints (missing required label)"]);
    expect(failure(r)).toBe(
      "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label), 1 node(s) were unschedulable. " +
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
    );
  });

  it("counts only domains of nodes that pass the pod's node affinity (nodeAffinityPolicy Honor)", () => {
    // Zone c is empty but excluded by the nodeSelector, so it does not pull the global minimum to 0.
    const snap = cluster(
      [node("a1", { zone: "a", labels: { pool: "web" } }), node("b1", { zone: "b", labels: { pool: "web" } }), node("c1", { zone: "c" })],
      [pod("w0", { labels: { app: "web" }, nodeName: "a1" }), pod("w1", { labels: { app: "web" }, nodeName: "b1" })],
    );
    const r = scheduler().schedule(pod("w2", { labels: { app: "web" }, spec: { ...spread(1), nodeSelector: { pool: "web" } } }), snap);
    expect(["a1", "b1"]).toContain(placed(r));
  });

  it("merges matchLabelKeys into the selector so only the pod's own revision counts", () => {
    const old = (name: string, nodeName: string) => pod(name, { labels: { app: "web", "pod-template-hash": "old" }, nodeName });
    const snap = cluster([node("a1", { zone: "a" }), node("b1", { zone: "b" })], [old("o1", "a1"), old("o2", "a1")]);
    // nodeAffinityPolicy Ignore keeps zone b a domain although the pod is confined to zone a.
    const c = { ...spread(1).topologySpreadConstraints[0], nodeAffinityPolicy: "Ignore", matchLabelKeys: ["pod-template-hash"] };
    const fresh = (name: string) => pod(name, { labels: { app: "web", "pod-template-hash": "new" }, spec: { topologySpreadConstraints: [c], nodeSelector: { "topology.kubernetes.io/zone": "a" } } });
    expect(placed(scheduler().schedule(fresh("n1"), snap))).toBe("a1");
    const without = pod("n2", { labels: { app: "web", "pod-template-hash": "new" }, spec: { topologySpreadConstraints: [{ ...spread(1).topologySpreadConstraints[0], nodeAffinityPolicy: "Ignore" }], nodeSelector: { "topology.kubernetes.io/zone": "a" } } });
    expect(failure(scheduler().schedule(without, snap))).toContain("node(s) didn't match pod topology spread constraints");
  });

  it("treats the global minimum as 0 while fewer than minDomains domains exist", () => {
    const snap = cluster([node("a1", { zone: "a" })], [pod("w0", { labels: { app: "web" }, nodeName: "a1" })]);
    const withMin = { topologySpreadConstraints: [{ ...spread(1).topologySpreadConstraints[0], minDomains: 2 }] };
    expect(reasons(scheduler().schedule(pod("w1", { labels: { app: "web" }, spec: withMin }), snap), "a1")).toEqual([
      "node(s) didn't match pod topology spread constraints",
    ]);
    expect(placed(scheduler().schedule(pod("w2", { labels: { app: "web" }, spec: spread(2) }), snap))).toBe("a1");
  });
});

describe("InterPodAffinity", () => {
  it("spreads 3 replicas with hostname anti-affinity over 3 workers and refuses a 4th", () => {
    const snap = cluster([node("cp", { taints: [CONTROL_PLANE_TAINT] }), node("w1"), node("w2"), node("w3")]);
    const s = scheduler();
    const replicas = [0, 1, 2].map((i) => pod(`web-${i}`, { labels: { app: "web" }, spec: antiAffinity("web") }));
    const nodes = placeAll(s, snap, replicas);
    expect(new Set(nodes)).toEqual(new Set(["w1", "w2", "w3"]));
    const r = s.schedule(pod("web-3", { labels: { app: "web" }, spec: antiAffinity("web") }), snap);
    expect(failure(r)).toBe(
      "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 3 node(s) didn't match pod anti-affinity rules. " +
        "preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling, 3 No preemption victims found for incoming pod.",
    );
  });

  it("keeps other pods away from a pod whose anti-affinity matches them", () => {
    const loner = pod("loner", { labels: { app: "loner" }, nodeName: "a", spec: antiAffinity("web") });
    const snap = cluster([node("a"), node("b")], [loner]);
    const r = scheduler().schedule(pod("web", { labels: { app: "web" } }), snap);
    expect(placed(r)).toBe("b");
    snap.removePod(loner);
    snap.addPod({ ...loner, spec: { ...loner.spec, nodeName: "b" } });
    const r2 = scheduler().schedule(pod("web2", { labels: { app: "web" } }), snap);
    expect(placed(r2)).toBe("a");
  });

  it("reports existing pods' anti-affinity with its own reason", () => {
    const snap = cluster([node("a")], [pod("loner", { labels: { app: "loner" }, nodeName: "a", spec: antiAffinity("web") })]);
    expect(reasons(scheduler().schedule(pod("web", { labels: { app: "web" } }), snap), "a")).toEqual(["node(s) didn't satisfy existing pods anti-affinity rules"]);
  });

  it("places a pod next to the pods its required affinity names, in the same zone", () => {
    const affinity = {
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "db" } }, topologyKey: "topology.kubernetes.io/zone" }] } },
    };
    const snap = cluster([node("a1", { zone: "a" }), node("a2", { zone: "a" }), node("b1", { zone: "b" })], [pod("db", { labels: { app: "db" }, nodeName: "a1" })]);
    const nodes = placeAll(scheduler(), snap, [0, 1, 2, 3].map((i) => pod(`api-${i}`, { labels: { app: "api" }, spec: affinity })));
    for (const n of nodes) expect(["a1", "a2"]).toContain(n);
    const none = cluster([node("a1", { zone: "a" })]);
    const r = scheduler().schedule(pod("api", { labels: { app: "api" }, spec: affinity }), none);
    expect(failure(r)).toBe(
      "0/1 nodes are available: 1 node(s) didn't match pod affinity rules. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
    );
  });

  it("lets the first pod of a self-affine series go anywhere its topology key exists", () => {
    const self = {
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "cache" } }, topologyKey: "topology.kubernetes.io/zone" }] } },
    };
    const snap = cluster([node("a1", { zone: "a" }), node("b1", { zone: "b" }), node("nozone")]);
    const nodes = placeAll(scheduler(), snap, [0, 1, 2].map((i) => pod(`cache-${i}`, { labels: { app: "cache" }, spec: self })));
    expect(nodes[0]).not.toBe("nozone");
    expect(new Set(nodes).size).toBe(1);
  });

  it("resolves namespaceSelector against namespace labels", () => {
    const term = { labelSelector: { matchLabels: { app: "db" } }, namespaceSelector: { matchLabels: { team: "data" } }, topologyKey: "kubernetes.io/hostname" };
    const snap = cluster([node("a"), node("b")], [pod("db", { namespace: "data", labels: { app: "db" }, nodeName: "b" })]);
    snap.setNamespace({ apiVersion: "v1", kind: "Namespace", metadata: { name: "data", labels: { team: "data" } } });
    const r = scheduler().schedule(pod("api", { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } } }), snap);
    expect(placed(r)).toBe("b");
  });

  it("rejects a pod whose affinity term has an invalid selector, naming the field", () => {
    const bad = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: "app", operator: "In" }] }, topologyKey: "zone" }] } } };
    const r = scheduler().schedule(pod("bad", { spec: bad }), cluster([node("a")]));
    expect(failure(r)).toContain("parsing pod: spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values: must be specified");
  });
});

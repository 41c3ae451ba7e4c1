import { describe, expect, it } from "vitest";
import { deepFreeze, type KubeObject } from "../../src/api/types.js";
import { numFeasibleNodesToFind, PodInfo, seededRandom, Snapshot } from "../../src/cluster/scheduler/index.js";
import { cluster, node, placed, pod, scheduler } from "./_fixtures.js";

describe("Snapshot", () => {
  it("lists nodes zone by zone in turn, as the upstream nodeTree does", () => {
    const snap = cluster(["a1", "a2", "b1", "c1", "c2", "c3"].map((n) => node(n, { zone: n[0] })));
    expect(snap.nodeInfos().map((n) => n.name)).toEqual(["a1", "b1", "c1", "a2", "c2", "c3"]);
    snap.updateNode(node("a1", { zone: "c" }));
    expect(snap.nodeInfos().map((n) => n.name)).toEqual(["a2", "b1", "c1", "c2", "c3", "a1"]);
  });

  it("sums requests and non-zero requests of bound pods incrementally", () => {
    const snap = cluster([node("a")]);
    const withRequests = pod("x", { cpu: "250m", memory: "64Mi", nodeName: "a" });
    snap.addPod(withRequests);
    snap.addPod(pod("besteffort", { nodeName: "a" }));
    const ni = snap.get("a")!;
    expect(ni.requested.milliCPU).toBe(250);
    expect(ni.requested.memory).toBe(64 * 2 ** 20);
    expect(ni.nonZeroMilliCPU).toBe(350);
    expect(ni.nonZeroMemory).toBe(64 * 2 ** 20 + 200 * 2 ** 20);
    snap.removePod(withRequests);
    expect(ni.requested.milliCPU).toBe(0);
    expect(ni.nonZeroMilliCPU).toBe(100);
    expect(ni.pods.length).toBe(1);
  });

  it("ignores unbound pods and replaces a pod known under the same uid", () => {
    const snap = cluster([node("a"), node("b")]);
    snap.addPod(pod("pending"));
    expect(snap.numPods).toBe(0);
    const p = pod("moving", { cpu: "1", nodeName: "a" });
    snap.addPod(p);
    snap.updatePod({ ...p, spec: { ...p.spec, nodeName: "b" } });
    expect(snap.get("a")!.requested.milliCPU).toBe(0);
    expect(snap.get("b")!.requested.milliCPU).toBe(1000);
  });

  it("assumes a scheduled pod and forgets it when binding fails", () => {
    const snap = cluster([node("a", { cpu: "1" })]);
    const p = pod("web", { cpu: "1" });
    const assumed = snap.assumePod(p, "a");
    expect(assumed.spec.nodeName).toBe("a");
    expect(p.spec.nodeName).toBeUndefined();
    expect(snap.get("a")!.requested.milliCPU).toBe(1000);
    snap.forgetPod(p);
    expect(snap.get("a")!.requested.milliCPU).toBe(0);
  });

  it("keeps pods of a deleted node on a ghost entry and re-attaches them when it returns", () => {
    const snap = cluster([node("a", { cpu: "1" }), node("b")], [pod("x", { cpu: "1", nodeName: "a" })]);
    snap.removeNode("a");
    expect(snap.numNodes).toBe(1);
    expect(snap.get("a")).toBeUndefined();
    expect(snap.nodeInfos().map((n) => n.name)).toEqual(["b"]);
    snap.addNode(node("a", { cpu: "1" }));
    expect(snap.get("a")!.requested.milliCPU).toBe(1000);
  });

  it("keeps a pod for a node not seen yet until the node arrives", () => {
    const snap = new Snapshot();
    snap.addPod(pod("early", { cpu: "500m", nodeName: "late" }));
    expect(snap.numNodes).toBe(0);
    snap.addNode(node("late", { cpu: "1" }));
    expect(snap.get("late")!.requested.milliCPU).toBe(500);
  });

  it("falls back to capacity when allocatable is absent, and says which field is malformed", () => {
    const n = node("a");
    delete n.status.allocatable;
    const snap = cluster([n]);
    expect(snap.get("a")!.allocatable.milliCPU).toBe(4000);
    const bad = node("b", { cpu: "four" });
    expect(() => snap.addNode(bad)).toThrow(/node b status.allocatable.cpu: quantities must match/);
  });

  it("works on deeply frozen objects, as the store hands them out", () => {
    const snap = cluster([deepFreeze(node("a", { zone: "z" })), deepFreeze(node("b", { zone: "y" }))], [deepFreeze(pod("x", { labels: { app: "web" }, nodeName: "a", owner: { kind: "ReplicaSet", name: "web" } }))]);
    const p = deepFreeze(pod("y", { labels: { app: "web" }, owner: { kind: "ReplicaSet", name: "web" }, cpu: "100m" }));
    const nodeName = placed(scheduler().schedule(p, snap));
    expect(nodeName).toBe("b");
    expect(snap.assumePod(p, nodeName).spec.nodeName).toBe("b");
  });

  it("rebuilds evicted pod-count indexes with the right counts", () => {
    const snap = cluster([node("a"), node("b")], [pod("x0", { labels: { k: "0" }, nodeName: "a" }), pod("x1", { labels: { k: "0" }, nodeName: "b" })]);
    const first = snap.podCounts("k=0", (p) => p.labels.k === "0", false);
    expect(first[snap.get("a")!.slot] + first[snap.get("b")!.slot]).toBe(2);
    for (let i = 1; i <= 70; i++) snap.podCounts(`k=${i}`, (p) => p.labels.k === String(i), false);
    snap.addPod(pod("x2", { labels: { k: "0" }, nodeName: "a" }));
    const again = snap.podCounts("k=0", (p) => p.labels.k === "0", false);
    expect(again).not.toBe(first);
    expect(again[snap.get("a")!.slot]).toBe(2);
    expect(again[snap.get("b")!.slot]).toBe(1);
  });

  it("keeps per-node and per-domain pod counts equal to a full recount through any sequence of changes", () => {
    const random = seededRandom(3);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
    const snap = new Snapshot();
    const zones = ["a", "b", "c", ""];
    const nodes = Array.from({ length: 12 }, (_, i) => `n${i}`);
    const match = (p: PodInfo) => p.labels.app === "web";
    const bound = new Map<string, KubeObject>();
    for (const n of nodes) snap.addNode(node(n, { zone: pick(zones) || undefined }));
    snap.podCounts("web", match, false);
    snap.podCountsByDomain("web", match, false, "topology.kubernetes.io/zone");
    for (let step = 0; step < 400; step++) {
      const r = random();
      if (r < 0.45) {
        const p = pod(`p${step}`, { labels: { app: pick(["web", "db"]) }, nodeName: pick(nodes) });
        if (random() < 0.1) p.metadata.deletionTimestamp = "2024-01-01T00:00:00Z";
        snap.addPod(p);
        bound.set(p.metadata.uid!, p);
      } else if (r < 0.7 && bound.size > 0) {
        const uid = pick([...bound.keys()]);
        snap.removePod(bound.get(uid)!);
        bound.delete(uid);
      } else if (r < 0.85) {
        snap.updateNode(node(pick(nodes), { zone: pick(zones) || undefined }));
      } else if (r < 0.93) {
        snap.removeNode(pick(nodes));
      } else {
        const n = pick(nodes);
        if (!snap.get(n)) snap.addNode(node(n, { zone: pick(zones) || undefined }));
      }
      const counts = snap.podCounts("web", match, false);
      const byDomain = snap.podCountsByDomain("web", match, false, "topology.kubernetes.io/zone");
      const table = snap.topology("topology.kubernetes.io/zone");
      const expectedDomain = new Map<string, number>();
      for (const n of nodes) {
        const ni = snap.get(n);
        const live = [...bound.values()].filter((p) => p.spec.nodeName === n && p.metadata.labels?.app === "web" && !p.metadata.deletionTimestamp).length;
        const slotNode = [...Array(snap.slotCount).keys()].map((s) => snap.slotNode(s)).find((x) => x?.name === n);
        if (slotNode) expect(counts[slotNode.slot]).toBe(live);
        if (ni) {
          const zone = ni.labels["topology.kubernetes.io/zone"] ?? "<none>";
          expectedDomain.set(zone, (expectedDomain.get(zone) ?? 0) + live);
        }
      }
      for (const [zone, n] of expectedDomain) {
        const id = zone === "<none>" ? -1 : table.valueIds.get(zone)!;
        expect(byDomain[id + 1]).toBe(n);
      }
      expect(snap.nodesMissing("topology.kubernetes.io/zone")).toBe(nodes.filter((n) => snap.get(n) && !snap.get(n)!.labels["topology.kubernetes.io/zone"]).length);
    }
  });
});

describe("percentageOfNodesToScore", () => {
  it("checks every node below 100 and an adaptive share above", () => {
    expect(numFeasibleNodesToFind(50)).toBe(50);
    expect(numFeasibleNodesToFind(99)).toBe(99);
    expect(numFeasibleNodesToFind(100)).toBe(100);
    expect(numFeasibleNodesToFind(200)).toBe(100);
    expect(numFeasibleNodesToFind(1000)).toBe(420);
    expect(numFeasibleNodesToFind(5000)).toBe(500);
    expect(numFeasibleNodesToFind(10000)).toBe(500);
    expect(numFeasibleNodesToFind(20000)).toBe(1000);
    expect(numFeasibleNodesToFind(1000, 100)).toBe(1000);
    expect(numFeasibleNodesToFind(1000, 30)).toBe(300);
  });

  it("stops after enough feasible nodes and starts the next search where it stopped", () => {
    // 250 nodes: 50% - 250/125 = 48% of them, 120 nodes, per search.
    const snap = cluster(Array.from({ length: 250 }, (_, i) => node(`n${String(i).padStart(3, "0")}`)));
    const s = scheduler();
    const r = s.schedule(pod("p0"), snap);
    placed(r);
    expect((r as { evaluatedNodes: number }).evaluatedNodes).toBe(120);
    expect(s.nextStartNodeIndex).toBe(120);
    s.schedule(pod("p1"), snap);
    expect(s.nextStartNodeIndex).toBe(240);
    s.schedule(pod("p2"), snap);
    expect(s.nextStartNodeIndex).toBe(110);
  });

  it("counts rejected nodes as processed too", () => {
    const nodes = Array.from({ length: 150 }, (_, i) => node(`n${String(i).padStart(3, "0")}`, i < 20 ? { unschedulable: true } : {}));
    const s = scheduler();
    const r = s.schedule(pod("p"), cluster(nodes));
    expect((r as { evaluatedNodes: number; feasibleNodes: number }).feasibleNodes).toBe(100);
    expect(s.nextStartNodeIndex).toBe(120);
  });
});

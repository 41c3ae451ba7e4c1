import { describe, expect, it } from "vitest";
import { isScheduled, Scheduler, seededRandom, type ScheduleSuccess } from "../../src/cluster/scheduler/index.js";
import { balancedResourceScore } from "../../src/cluster/scheduler/plugins/balanced-allocation.js";
import { calculatePriority } from "../../src/cluster/scheduler/plugins/image-locality.js";
import { leastRequestedScore, mostRequestedScore } from "../../src/cluster/scheduler/plugins/node-resources-fit.js";
import { cluster, node, placeAll, placed, pod, scheduler } from "./_fixtures.js";

describe("score formulas", () => {
  it("leastRequestedScore is the free fraction after placing the pod, integer-divided", () => {
    expect(leastRequestedScore(0, 4000)).toBe(100);
    expect(leastRequestedScore(1000, 4000)).toBe(75);
    expect(leastRequestedScore(1, 3)).toBe(66);
    expect(leastRequestedScore(4001, 4000)).toBe(0);
    expect(leastRequestedScore(5, 0)).toBe(0);
  });

  it("mostRequestedScore is the used fraction, capped at the capacity", () => {
    expect(mostRequestedScore(1000, 4000)).toBe(25);
    expect(mostRequestedScore(9000, 4000)).toBe(100);
    expect(mostRequestedScore(1, 0)).toBe(0);
  });

  it("balanced allocation scores (1 - |cpu fraction - memory fraction| / 2) * 100", () => {
    const f = new Float64Array(2);
    expect(balancedResourceScore(Float64Array.of(2000, 2 ** 30), Float64Array.of(4000, 4 * 2 ** 30), f)).toBe(87);
    expect(balancedResourceScore(Float64Array.of(1000, 2 ** 30), Float64Array.of(4000, 4 * 2 ** 30), f)).toBe(100);
  });

  it("image locality maps 23 MiB..1000 MiB per container onto 0..100", () => {
    expect(calculatePriority(0, 1)).toBe(0);
    expect(calculatePriority(1000 * 1024 * 1024, 1)).toBe(100);
    expect(calculatePriority(500 * 1024 * 1024, 2)).toBe(24);
  });
});

describe("NodeResourcesFit scoring strategy", () => {
  const nodes = () => ["a", "b", "c"].map((n) => node(n, { cpu: "4", memory: "8Gi" }));
  const pods = () => [0, 1, 2].map((i) => pod(`p${i}`, { cpu: "500m", memory: "1Gi" }));

  it("LeastAllocated spreads pods over empty nodes", () => {
    const out = placeAll(scheduler({ scoringStrategy: "LeastAllocated" }), cluster(nodes()), pods());
    expect(new Set(out).size).toBe(3);
  });

  it("MostAllocated packs pods onto one node", () => {
    const out = placeAll(scheduler({ scoringStrategy: "MostAllocated" }), cluster(nodes()), pods());
    expect(new Set(out).size).toBe(1);
  });

  it("LeastAllocated prefers the emptier node, counting 100m/200Mi for pods without requests", () => {
    // Three best-effort pods on b count as 300m / 600Mi for scoring.
    const snap = cluster(nodes(), [0, 1, 2].map((i) => pod(`be${i}`, { nodeName: "b" })));
    const r = scheduler().schedule(pod("new", { cpu: "1", memory: "1Gi" }), snap, { explain: true }) as ScheduleSuccess;
    expect(r.scores!.b.NodeResourcesFit).toBeLessThan(r.scores!.a.NodeResourcesFit);
    expect(r.nodeName).not.toBe("b");
  });

  it("rejects an unknown strategy with the supported ones named", () => {
    expect(() => new Scheduler({ scoringStrategy: "RequestedToCapacityRatio" as never })).toThrow(/use LeastAllocated or MostAllocated/);
  });
});

describe("weighted sum", () => {
  it("weights plugins as the default profile and normalises each to 0..100", () => {
    const snap = cluster([node("a"), node("b")]);
    const r = scheduler().schedule(pod("p", { cpu: "1", memory: "2Gi" }), snap, { explain: true }) as ScheduleSuccess;
    const a = r.scores!.a;
    // No PreferNoSchedule taints anywhere: every node gets the maximum, times weight 3.
    expect(a.TaintToleration).toBe(300);
    // (4000-1000)/4000 -> 75 for cpu, (8Gi-2Gi)/8Gi -> 75 for memory.
    expect(a.NodeResourcesFit).toBe(75);
    expect(a.NodeResourcesBalancedAllocation).toBe(100);
    expect(a.ImageLocality).toBe(0);
    // Skipped plugins contribute nothing: no preferred node affinity, no affinity terms, no owner.
    expect(a.NodeAffinity).toBeUndefined();
    expect(a.InterPodAffinity).toBeUndefined();
    expect(a.PodTopologySpread).toBeUndefined();
  });

  it("breaks ties at random, reproducibly for a seed", () => {
    const run = (seed: number) => {
      const s = new Scheduler({ random: seededRandom(seed) });
      const snap = cluster(Array.from({ length: 20 }, (_, i) => node(`n${i}`)));
      return Array.from({ length: 10 }, (_, i) => placed(s.schedule(pod(`p${i}`), snap)));
    };
    expect(run(1)).toEqual(run(1));
    const seeds = [1, 2, 3, 4, 5].map(run).map((r) => r.join(","));
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });
});

describe("TaintToleration score", () => {
  it("prefers nodes with fewer untolerated PreferNoSchedule taints", () => {
    const snap = cluster([node("soft", { taints: [{ key: "spot", value: "true", effect: "PreferNoSchedule" }] }), node("clean")]);
    const r = scheduler().schedule(pod("p"), snap, { explain: true }) as ScheduleSuccess;
    expect(r.nodeName).toBe("clean");
    expect(r.scores!.soft.TaintToleration).toBe(0);
    const tolerant = pod("t", { spec: { tolerations: [{ key: "spot", operator: "Exists" }] } });
    const r2 = scheduler().schedule(tolerant, snap, { explain: true }) as ScheduleSuccess;
    expect(r2.scores!.soft.TaintToleration).toBe(300);
  });
});

describe("NodeAffinity score", () => {
  it("prefers nodes matching heavier preferred terms", () => {
    const snap = cluster([node("hdd", { labels: { disk: "hdd" } }), node("ssd", { labels: { disk: "ssd" } }), node("plain")]);
    const spec = {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 80, preference: { matchExpressions: [{ key: "disk", operator: "In", values: ["ssd"] }] } },
            { weight: 20, preference: { matchExpressions: [{ key: "disk", operator: "Exists" }] } },
          ],
        },
      },
    };
    const r = scheduler().schedule(pod("db", { spec }), snap, { explain: true }) as ScheduleSuccess;
    expect(r.nodeName).toBe("ssd");
    expect(r.scores!.ssd.NodeAffinity).toBe(200);
    expect(r.scores!.hdd.NodeAffinity).toBe(40);
    expect(r.scores!.plain.NodeAffinity).toBe(0);
  });
});

describe("InterPodAffinity score", () => {
  it("prefers the node of pods named by preferred affinity and avoids those of preferred anti-affinity", () => {
    const snap = cluster([node("a"), node("b"), node("c")], [pod("cache", { labels: { app: "cache" }, nodeName: "b" }), pod("noisy", { labels: { app: "noisy" }, nodeName: "c" })]);
    const spec = {
      affinity: {
        podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: "cache" } }, topologyKey: "kubernetes.io/hostname" } }] },
        podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: "noisy" } }, topologyKey: "kubernetes.io/hostname" } }] },
      },
    };
    const r = scheduler().schedule(pod("web", { spec }), snap, { explain: true }) as ScheduleSuccess;
    expect(r.nodeName).toBe("b");
    expect(r.scores!.b.InterPodAffinity).toBe(200);
    expect(r.scores!.a.InterPodAffinity).toBe(100);
    expect(r.scores!.c.InterPodAffinity).toBe(0);
  });

  it("draws pods towards an existing pod whose required affinity they match (hardPodAffinityWeight)", () => {
    const needsWeb = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: "web" } }, topologyKey: "kubernetes.io/hostname" }] } } };
    const snap = cluster([node("a"), node("b")], [pod("sidecar", { labels: { app: "side" }, nodeName: "b", spec: needsWeb })]);
    const r = scheduler().schedule(pod("web", { labels: { app: "web" } }), snap, { explain: true }) as ScheduleSuccess;
    expect(r.nodeName).toBe("b");
    expect(r.scores!.b.InterPodAffinity).toBe(200);
  });
});

describe("PodTopologySpread score", () => {
  it("spreads pods owned by a ReplicaSet over hostnames and zones by default", () => {
    const nodes = ["a1", "a2", "b1", "b2", "c1", "c2"].map((n) => node(n, { zone: n[0] }));
    const snap = cluster(nodes);
    const owner = { kind: "ReplicaSet", name: "web-5d9c" };
    const pods = Array.from({ length: 6 }, (_, i) => pod(`web-${i}`, { labels: { app: "web", "pod-template-hash": "5d9c" }, owner, cpu: "10m" }));
    // MostAllocated would pile them up; the default spreading still pulls them apart.
    const out = placeAll(scheduler({ scoringStrategy: "MostAllocated" }), snap, pods);
    expect(new Set(out).size).toBe(6);
  });

  it("uses the known ReplicaSet's selector, so pods of other ReplicaSets do not count", () => {
    const snap = cluster([node("a", { zone: "z1" }), node("b", { zone: "z2" })], [
      pod("other-0", { labels: { app: "web", "pod-template-hash": "old" }, nodeName: "b" }),
      pod("other-1", { labels: { app: "web", "pod-template-hash": "old" }, nodeName: "b" }),
    ]);
    snap.setWorkload({ apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-new", namespace: "default" }, spec: { selector: { matchLabels: { app: "web", "pod-template-hash": "new" } } } });
    const p = pod("web-new-0", { labels: { app: "web", "pod-template-hash": "new" }, owner: { kind: "ReplicaSet", name: "web-new" } });
    const r = scheduler().schedule(p, snap, { explain: true }) as ScheduleSuccess;
    expect(r.scores!.a.PodTopologySpread).toBe(r.scores!.b.PodTopologySpread);
  });

  it("counts pods selected by a Service for pods it selects", () => {
    const snap = cluster([node("a", { zone: "z1" }), node("b", { zone: "z2" })], [pod("api-0", { labels: { app: "api" }, nodeName: "a" })]);
    snap.setWorkload({ apiVersion: "v1", kind: "Service", metadata: { name: "api", namespace: "default" }, spec: { selector: { app: "api" } } });
    const r = scheduler().schedule(pod("api-1", { labels: { app: "api" } }), snap, { explain: true }) as ScheduleSuccess;
    expect(r.nodeName).toBe("b");
    expect(r.scores!.b.PodTopologySpread).toBeGreaterThan(r.scores!.a.PodTopologySpread);
  });

  it("scores ScheduleAnyway constraints without filtering", () => {
    const snap = cluster([node("a1", { zone: "a" }), node("b1", { zone: "b" })], [0, 1, 2].map((i) => pod(`w${i}`, { labels: { app: "web" }, nodeName: "a1" })));
    const spec = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { app: "web" } } }] };
    const r = scheduler().schedule(pod("w3", { labels: { app: "web" }, spec, cpu: "10m" }), snap, { explain: true }) as ScheduleSuccess;
    expect(r.nodeName).toBe("b1");
    expect(r.scores!.b1.PodTopologySpread).toBe(200);
    expect(r.scores!.a1.PodTopologySpread).toBe(0);
  });
});

describe("ImageLocality score", () => {
  it("prefers a node that already has the image", () => {
    const mb = 1024 * 1024;
    const snap = cluster([node("cold"), node("warm", { images: [{ names: ["registry.local/app:1.0"], sizeBytes: 800 * mb }] })]);
    const r = scheduler().schedule(pod("app", { image: "registry.local/app:1.0" }), snap, { explain: true }) as ScheduleSuccess;
    expect(isScheduled(r)).toBe(true);
    expect(r.nodeName).toBe("warm");
    // 800 MiB spread over 1 of 2 nodes counts 400 MiB: (400 - 23) / (1000 - 23) of 100.
    expect(r.scores!.warm.ImageLocality).toBe(38);
    expect(r.scores!.cold.ImageLocality).toBe(0);
  });
});

/**
 * The snapshot's per-node pod counts (used by topology spreading and inter-pod affinity) stay
 * exact across every kind of pod update, including the status-only updates that skip the
 * recount: after any sequence they equal the counts of a snapshot built from the final pods.
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { type PodInfo } from "../../src/cluster/scheduler/index.js";
import { cluster, node, pod } from "./_fixtures.js";

const web = (p: PodInfo) => p.namespace === "default" && p.labels.app === "web";
const anyApp = (p: PodInfo) => p.labels.app !== undefined;

function counts(snap: ReturnType<typeof cluster>): number[][] {
  return [[...snap.podCounts("test|web", web, false)], [...snap.podCounts("test|web", web, true)], [...snap.podCounts("test|any", anyApp, false)]];
}

describe("Snapshot count indexes", () => {
  it("match a fresh snapshot after status updates, relabels, moves and deletion marks", () => {
    const nodes = [node("a"), node("b"), node("c")];
    const snap = cluster(nodes);
    counts(snap); // build the indexes first, so every change below is applied incrementally
    const live = new Map<string, KubeObject>();
    const put = (p: KubeObject) => {
      live.set(p.metadata.uid!, p);
      snap.updatePod(p);
    };
    const pods = ["p1", "p2", "p3", "p4"].map((n, i) => pod(n, { labels: { app: "web" }, nodeName: ["a", "b", "c", "a"][i] }));
    for (const p of pods) put(p);
    const [p1, p2, p3, p4] = pods;
    put({ ...p1, status: { phase: "Running", podIP: "10.0.0.1" } }); // status only
    put({ ...p2, metadata: { ...p2.metadata, labels: { app: "db" } } }); // relabel
    put({ ...p3, spec: { ...p3.spec, nodeName: "b" } }); // moved
    put({ ...p4, metadata: { ...p4.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" } }); // terminating
    put({ ...p4, metadata: { ...p4.metadata, deletionTimestamp: "2024-01-01T00:00:00Z" }, status: { phase: "Running" } }); // status while terminating
    put({ ...p1, metadata: { ...p1.metadata, labels: { app: "web" } }, status: { phase: "Running" } }); // equal labels, new object
    const fresh = cluster(nodes, [...live.values()]);
    expect(counts(snap)).toEqual(counts(fresh));
    expect(snap.get("a")!.pods.map((p) => p.name)).toEqual(["p4", "p1"]);
  });
});

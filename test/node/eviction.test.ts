/**
 * Taint-based eviction and pod garbage collection: NoExecute taints delete pods that do not
 * tolerate them at once and the others when their tolerationSeconds run out; the pod GC
 * force-deletes pods stuck terminating on an out-of-service node and pods of deleted nodes.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { minTolerationTime, stopNode } from "../../src/cluster/node/index.js";
import { conditionOf, podOn, startNodes, type NodeCluster } from "./_harness.js";

let cluster: NodeCluster | undefined;
afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

const WORKER = "kubelings-worker";

async function setTaints(c: NodeCluster, taints: object[]): Promise<void> {
  const node = await c.node(WORKER);
  await c.api.patch({ apiVersion: "v1", kind: "Node", name: WORKER }, "application/merge-patch+json", { metadata: { resourceVersion: node.metadata.resourceVersion }, spec: { taints } });
}

function evictions(events: KubeObject[]): string[] {
  return events.filter((e) => e.reason === "TaintManagerEviction").map((e) => e.message);
}

describe("taint eviction controller", () => {
  it("deletes at once a pod that does not tolerate a NoExecute taint, and after tolerationSeconds one that does", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "plain"));
    await c.api.create(podOn(WORKER, "patient", { tolerations: [{ key: "maintenance", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }] }));
    await c.api.create(podOn(WORKER, "forever", { tolerations: [{ key: "maintenance", operator: "Equal", value: "now", effect: "NoExecute" }] }));
    await c.run(20);
    await setTaints(c, [{ key: "maintenance", value: "now", effect: "NoExecute" }]);
    await c.run(1);
    expect(evictions(await c.events("plain"))).toEqual(["Marking for deletion Pod default/plain"]);
    expect((await c.pod("patient"))!.metadata.deletionTimestamp).toBeUndefined();
    await c.run(58);
    expect((await c.pod("patient"))!.metadata.deletionTimestamp).toBeUndefined();
    await c.run(2);
    expect(evictions(await c.events("patient"))).toEqual(["Marking for deletion Pod default/patient"]);
    await c.run(60);
    // The kubelet stopped both and removed them; the pod tolerating the taint forever stays.
    expect(await c.pod("plain")).toBeUndefined();
    expect(await c.pod("patient")).toBeUndefined();
    expect((await c.pod("forever"))!.status.phase).toBe("Running");
  });

  it("cancels a pending eviction when the taint goes away first", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "patient", { tolerations: [{ key: "maintenance", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 }] }));
    await c.run(20);
    await setTaints(c, [{ key: "maintenance", effect: "NoExecute" }]);
    await c.run(30);
    await setTaints(c, []);
    await c.run(60);
    expect((await c.pod("patient"))!.metadata.deletionTimestamp).toBeUndefined();
    expect(evictions(await c.events("patient"))).toEqual(["Cancelling deletion of Pod default/patient"]);
  });

  it("takes the smallest tolerationSeconds of the tolerations used (getMinTolerationTime)", () => {
    expect(minTolerationTime([])).toBe(0);
    expect(minTolerationTime([{ key: "a" }])).toBe(-1);
    expect(minTolerationTime([{ key: "a", tolerationSeconds: 300 }, { key: "b", tolerationSeconds: 60 }, { key: "c" }])).toBe(60_000);
    expect(minTolerationTime([{ key: "a", tolerationSeconds: 0 }, { key: "b", tolerationSeconds: 60 }])).toBe(0);
  });
});

describe("pod garbage collector", () => {
  it("force-deletes pods terminating on a not-ready node once it carries the out-of-service taint", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    stopNode(c.fleet, WORKER);
    await c.run(80);
    expect(conditionOf(await c.node(WORKER), "Ready").status).toBe("Unknown");
    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "web" });
    await c.run(60);
    // Still terminating: nobody confirms the deletion of a pod on an unreachable node.
    expect((await c.pod("web"))!.metadata.deletionTimestamp).toBeDefined();
    const node = await c.node(WORKER);
    await c.api.patch({ apiVersion: "v1", kind: "Node", name: WORKER }, "application/merge-patch+json", {
      metadata: { resourceVersion: node.metadata.resourceVersion },
      spec: { taints: [...node.spec.taints, { key: "node.kubernetes.io/out-of-service", value: "nodeshutdown", effect: "NoExecute" }] },
    });
    const seen: KubeObject[] = [];
    c.api.watch({ apiVersion: "v1", kind: "Pod", namespace: "default" }, {}, (ev) => {
      if (ev.type === "DELETED") seen.push(ev.object);
    });
    await c.run(21);
    expect(await c.pod("web")).toBeUndefined();
    expect(seen.map((p) => p.status.phase)).toEqual(["Failed"]);
  });

  it("deletes pods bound to a node that no longer exists after the 40 s quarantine, with DisruptionTarget DeletionByPodGC", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    await c.run(2);
    await c.api.create(podOn("gone-node", "orphan"));
    const seen: KubeObject[] = [];
    c.api.watch({ apiVersion: "v1", kind: "Pod", namespace: "default" }, {}, (ev) => {
      if (ev.type === "DELETED") seen.push(ev.object);
    });
    await c.run(40);
    expect(await c.pod("orphan")).toBeDefined();
    await c.run(40);
    expect(await c.pod("orphan")).toBeUndefined();
    expect(seen[0].status.phase).toBe("Failed");
    expect(conditionOf(seen[0], "DisruptionTarget")).toMatchObject({ status: "True", reason: "DeletionByPodGC", message: "PodGC: node no longer exists" });
  });
});

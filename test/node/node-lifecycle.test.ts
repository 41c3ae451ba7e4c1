/**
 * Node lifecycle on the virtual clock: a node that stops heartbeating goes NotReady after the
 * grace period (50 s, the 1.32 default), gets the unreachable taints, its pods are marked not
 * ready and evicted when their 300 s toleration runs out; they stay Terminating (no kubelet to
 * confirm) until the node comes back, which brings it Ready and untainted again.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseTime } from "../../src/api/clock.js";
import type { KubeObject } from "../../src/api/types.js";
import { NodeLifecycleController, defaultNodes, partitionNode, healPartition, restartNode, stopNode } from "../../src/cluster/node/index.js";
import { conditionOf, podOn, startNodes, type NodeCluster } from "./_harness.js";

let cluster: NodeCluster | undefined;
afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

const WORKER = "kubelings-worker";

function taintList(node: KubeObject): string[] {
  return ((node.spec.taints ?? []) as { key: string; effect: string }[]).map((t) => `${t.key}:${t.effect}`);
}

/** Seconds since `t0` at which `check` first holds, sampling every second for `max` seconds. */
async function when(c: NodeCluster, max: number, check: () => Promise<boolean>): Promise<number> {
  for (let i = 0; i < max; i++) {
    if (await check()) return c.now();
    await c.run(1);
  }
  throw new Error(`condition not reached within ${max}s`);
}

describe("node lifecycle controller", () => {
  it("marks a stopped node NotReady after the grace period, taints it unreachable, evicts its pods 300 s later, and untaints it when it is back", async () => {
    const c = (cluster = await startNodes({ specs: defaultNodes(3), controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    expect(conditionOf(await c.pod("web"), "Ready").status).toBe("True");

    const stoppedAt = c.now();
    stopNode(c.fleet, WORKER);
    const notReadyAt = await when(c, 120, async () => conditionOf(await c.node(WORKER), "Ready").status === "Unknown");
    // Last heartbeat (lease renewal) at most 10 s before the stop, noticed on the next 5 s pass: 50 s grace after that.
    expect(notReadyAt - stoppedAt).toBeGreaterThanOrEqual(40);
    expect(notReadyAt - stoppedAt).toBeLessThanOrEqual(56);
    let node = await c.node(WORKER);
    for (const type of ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]) {
      expect(conditionOf(node, type)).toMatchObject({ status: "Unknown", reason: "NodeStatusUnknown", message: "Kubelet stopped posting node status." });
    }
    expect(taintList(node)).toEqual(["node.kubernetes.io/unreachable:NoSchedule"]);
    const pod = (await c.pod("web"))!;
    expect(conditionOf(pod, "Ready").status).toBe("False");
    expect((await c.events("web")).some((e) => e.reason === "NodeNotReady" && e.message === "Node is not ready" && e.source.component === "node-controller")).toBe(true);
    expect((await c.events(WORKER)).some((e) => e.reason === "NodeNotReady" && e.source.component === "node-controller" && e.message === `Node ${WORKER} status is now: NodeNotReady`)).toBe(true);

    // The NoExecute taint follows on the next monitor pass, once the controller has observed Unknown.
    const taintedAt = await when(c, 20, async () => taintList(await c.node(WORKER)).includes("node.kubernetes.io/unreachable:NoExecute"));
    expect(taintedAt - notReadyAt).toBeLessThanOrEqual(6);
    node = await c.node(WORKER);
    const noExecute = node.spec.taints.find((t: any) => t.effect === "NoExecute");
    expect(noExecute.timeAdded).toBeDefined();

    // The DefaultTolerationSeconds toleration (300 s) runs out: the pod is deleted, gracefully.
    await c.run(290);
    expect((await c.pod("web"))!.metadata.deletionTimestamp).toBeUndefined();
    await c.run(15);
    const evicted = (await c.pod("web"))!;
    expect(evicted.metadata.deletionTimestamp).toBeDefined();
    const eviction = (await c.events("web")).find((e) => e.reason === "TaintManagerEviction")!;
    expect(eviction).toMatchObject({ type: "Normal", message: "Marking for deletion Pod default/web", source: { component: "taint-eviction-controller" } });
    expect((parseTime(eviction.firstTimestamp) - parseTime(noExecute.timeAdded)) / 1000).toBe(300);
    expect(conditionOf(evicted, "DisruptionTarget")).toMatchObject({ status: "True", reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint" });
    // About 6 minutes after the stop: grace period + toleration.
    const evictedAfter = parseTime(eviction.firstTimestamp) / 1000 - (parseTime(node.metadata.creationTimestamp) / 1000 + stoppedAt);
    expect(evictedAfter).toBeGreaterThan(340);
    expect(evictedAfter).toBeLessThan(370);

    // No kubelet confirms the deletion, and PodGC only force-deletes with the out-of-service taint.
    await c.run(120);
    expect((await c.pod("web"))!.metadata.deletionTimestamp).toBeDefined();

    await restartNode(c.fleet, WORKER);
    await c.run(10);
    node = await c.node(WORKER);
    expect(conditionOf(node, "Ready").status).toBe("True");
    expect(node.spec.taints).toBeUndefined();
    expect(await c.pod("web")).toBeUndefined();
    const workerEvents = (await c.events(WORKER)).map((e) => e.reason);
    expect(workerEvents).toContain("Rebooted");
  });

  it("restarts the pods of a rebooted node with restartCount + 1, the lost container as Unknown (exit 255), and a new IP", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.api.create(podOn(WORKER, "job", { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36", command: ["sleep", "3600"] }] }));
    await c.run(20);
    const before = (await c.pod("web"))!;
    expect(before.status.containerStatuses[0].restartCount).toBe(0);
    stopNode(c.fleet, WORKER);
    await c.run(30);
    // A dead machine reports nothing: the API keeps the last status.
    expect((await c.pod("web"))!.status.containerStatuses[0].state.running).toBeDefined();
    await restartNode(c.fleet, WORKER);
    await c.run(20);
    const after = (await c.pod("web"))!;
    const cs = after.status.containerStatuses[0];
    expect(cs.restartCount).toBe(1);
    expect(cs.state.running).toBeDefined();
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 255, reason: "Unknown" });
    expect(after.status.podIP).not.toBe(before.status.podIP);
    expect(after.status.podIP).toMatch(/^10\.244\.1\./);
    expect((await c.events("web")).some((e) => e.reason === "SandboxChanged")).toBe(true);
    // restartPolicy Never: the lost container is not started again, the pod fails.
    const job = (await c.pod("job"))!;
    expect(job.status.phase).toBe("Failed");
    expect(job.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 255, reason: "Unknown" });
  });

  it("keeps a partitioned node's containers running; once healed it reports again and finishes pods evicted meanwhile", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.api.create(podOn(WORKER, "short", { tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 30 }] }));
    await c.run(20);
    partitionNode(c.fleet, WORKER);
    await c.run(120);
    expect(conditionOf(await c.node(WORKER), "Ready").status).toBe("Unknown");
    expect((await c.pod("short"))!.metadata.deletionTimestamp).toBeDefined();
    // The containers kept running on the cut-off node.
    expect(c.fleet.kubelet(WORKER)!.runtimeOf("default", "web")!.status().containerStatuses[0].state.running).toBeDefined();
    await healPartition(c.fleet, WORKER);
    await c.run(10);
    expect(conditionOf(await c.node(WORKER), "Ready").status).toBe("True");
    expect(await c.pod("short")).toBeUndefined();
    const web = (await c.pod("web"))!;
    expect(web.status.containerStatuses[0].restartCount).toBe(0);
    expect(conditionOf(web, "Ready").status).toBe("True");
    expect(taintList(await c.node(WORKER))).toEqual([]);
  });

  it("stops evicting when every node is down (full disruption in every zone)", async () => {
    const c = (cluster = await startNodes({ specs: defaultNodes(2), controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    for (const name of c.fleet.kubelets.keys()) stopNode(c.fleet, name);
    await c.run(420);
    for (const name of c.fleet.kubelets.keys()) {
      const node = await c.node(name);
      expect(conditionOf(node, "Ready").status).toBe("Unknown");
      expect(taintList(node).filter((t) => t.endsWith(":NoExecute"))).toEqual([]);
    }
    expect((await c.pod("web"))!.metadata.deletionTimestamp).toBeUndefined();
    expect(c.logs.some((l) => l.includes("entering master disruption mode"))).toBe(true);
  });

  it("computes zone states as upstream: no Ready node is a full disruption, ≥ 55 % of at least 3 not ready a partial one", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    const nlc = c.components.find((x) => x instanceof NodeLifecycleController) as NodeLifecycleController;
    const cond = (status: "True" | "False" | "Unknown") => ({ type: "Ready", status, lastHeartbeatTime: "", lastTransitionTime: "" });
    expect(nlc.computeZoneState([cond("Unknown"), cond("False")]).state).toBe("FullDisruption");
    expect(nlc.computeZoneState([cond("Unknown"), cond("False"), cond("Unknown"), cond("True")]).state).toBe("PartialDisruption");
    expect(nlc.computeZoneState([cond("Unknown"), cond("False"), cond("True")]).state).toBe("Normal");
    expect(nlc.computeZoneState([cond("Unknown"), cond("Unknown"), cond("True"), cond("True"), cond("True")]).state).toBe("Normal");
  });
});

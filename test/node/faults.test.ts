/**
 * Faults as the CLI (`kubelings chaos`) will call them, and the node descriptions they act on.
 */
import { afterEach, describe, expect, it } from "vitest";
import { FaultError, NodeSpecError, crashContainer, defaultNodes, deletePod, healPartition, nodeSpec, partitionNode, restartNode, stopNode } from "../../src/cluster/node/index.js";
import { conditionOf, podOn, startNodes, type NodeCluster } from "./_harness.js";

let cluster: NodeCluster | undefined;
afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

const WORKER = "kubelings-worker";

describe("faults", () => {
  it("crashes a running container (exit 1, or 137 OOMKilled) and the restart policy restarts it", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    crashContainer(c.fleet, "default", "web", "web");
    await c.run(2);
    let cs = (await c.pod("web"))!.status.containerStatuses[0];
    expect(cs.restartCount).toBe(1);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    crashContainer(c.fleet, "default", "web", "web", { oom: true });
    await c.run(2);
    cs = (await c.pod("web"))!.status.containerStatuses[0];
    // The second crash within 10 s of the first restart: CrashLoopBackOff for 10 s.
    expect(cs.state.waiting?.reason).toBe("CrashLoopBackOff");
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
    await c.run(10);
    cs = (await c.pod("web"))!.status.containerStatuses[0];
    expect(cs.restartCount).toBe(2);
    expect(cs.state.running).toBeDefined();
    // `kubectl logs --previous` reads the instance that crashed.
    const previous = c.fleet.kubelet(WORKER)!.logs("default", "web", "web", { previous: true });
    expect(previous.ok).toBe(true);
  });

  it("says what is wrong when a fault cannot be applied", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    expect(() => stopNode(c.fleet, "node-9")).toThrow(new FaultError('node "node-9" not found; the nodes are: kubelings-control-plane, kubelings-worker'));
    expect(() => crashContainer(c.fleet, "default", "web", "sidecar")).toThrow('pod default/web has no container "sidecar"; its containers are: web');
    expect(() => crashContainer(c.fleet, "default", "nope", "web")).toThrow("pod default/nope is not running on any node");
    stopNode(c.fleet, WORKER);
    expect(() => stopNode(c.fleet, WORKER)).toThrow(/is not running \(it is powered-off\)/);
    await restartNode(c.fleet, WORKER);
    expect(c.fleet.kubelet(WORKER)!.state).toBe("running");
  });

  it("deletes a pod gracefully through the API, as kubectl delete pod does", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    const deleted = await deletePod(c.api, "default", "web");
    expect(deleted.metadata.deletionGracePeriodSeconds).toBe(30);
    await c.run(5);
    expect(await c.pod("web")).toBeUndefined();
  });

  it("reboots a running node: its containers restart with restartCount + 1", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    const bootID = c.fleet.kubelet(WORKER)!.bootID;
    await restartNode(c.fleet, WORKER);
    await c.run(20);
    expect(c.fleet.kubelet(WORKER)!.bootID).not.toBe(bootID);
    expect((await c.node(WORKER)).status.nodeInfo.bootID).toBe(c.fleet.kubelet(WORKER)!.bootID);
    expect((await c.pod("web"))!.status.containerStatuses[0].restartCount).toBe(1);
  });
});

describe("faults combined", () => {
  it("a node rebooted during a network partition registers and restarts its pods once it reaches the API server", async () => {
    const c = (cluster = await startNodes({ controllers: true }));
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    partitionNode(c.fleet, WORKER);
    stopNode(c.fleet, WORKER);
    await restartNode(c.fleet, WORKER);
    await c.run(100);
    expect((await c.events(WORKER)).filter((e) => e.reason === "Rebooted")).toEqual([]);
    expect(conditionOf(await c.node(WORKER), "Ready").status).toBe("Unknown");
    await healPartition(c.fleet, WORKER);
    await c.run(20);
    expect(conditionOf(await c.node(WORKER), "Ready").status).toBe("True");
    expect((await c.events(WORKER)).filter((e) => e.reason === "Rebooted")).toHaveLength(1);
    const pod = (await c.pod("web"))!;
    expect(pod.status.containerStatuses[0].restartCount).toBe(1);
    expect(conditionOf(pod, "Ready").status).toBe("True");
  });
});

describe("node specs", () => {
  it("builds the default cluster: one tainted control plane and N workers spread over zones", () => {
    const nodes = defaultNodes(4);
    expect(nodes.map((n) => [n.name, n.role, n.podCIDR, n.internalIP, n.labels["topology.kubernetes.io/zone"]])).toEqual([
      ["kubelings-control-plane", "control-plane", "10.244.0.0/24", "172.18.0.2", "zone-a"],
      ["kubelings-worker", "worker", "10.244.1.0/24", "172.18.0.3", "zone-a"],
      ["kubelings-worker2", "worker", "10.244.2.0/24", "172.18.0.4", "zone-b"],
      ["kubelings-worker3", "worker", "10.244.3.0/24", "172.18.0.5", "zone-c"],
      ["kubelings-worker4", "worker", "10.244.4.0/24", "172.18.0.6", "zone-a"],
    ]);
    expect(nodes[0].taints).toEqual([{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
    expect(nodes[1].capacity).toEqual({ cpu: "4", memory: "8Gi", pods: 110, ephemeralStorage: "100Gi" });
  });

  it("refuses a bad node description with the field and the fix", () => {
    expect(() => defaultNodes(-1)).toThrow(NodeSpecError);
    expect(() => nodeSpec("Worker_1", { index: 1 })).toThrow(/^name: "Worker_1" is not a valid node name/);
    expect(() => nodeSpec("w", { index: 1, capacity: { cpu: "four" } })).toThrow('capacity.cpu: "four" is not a quantity; write it like 4, 3500m, 8Gi or 100Gi');
    expect(() => nodeSpec("w", { index: 1, capacity: { pods: 500 } })).toThrow(/^capacity\.pods: must be a whole number from 1 to 253/);
  });
});

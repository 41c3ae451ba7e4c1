/**
 * The kubelet on the virtual clock: registration, heartbeats, and pods run through the
 * container runtime with the status and events a real kubelet writes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parseTime } from "../../src/api/clock.js";
import { defaultNodes } from "../../src/cluster/node/index.js";
import { conditionOf, podOn, startNodes, type NodeCluster } from "./_harness.js";

let cluster: NodeCluster | undefined;
afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

const WORKER = "kubelings-worker";
const CP = "kubelings-control-plane";

describe("kubelet: node registration and heartbeats", () => {
  it("registers its node with the documented capacity, labels, addresses, taint and conditions", async () => {
    const c = (cluster = await startNodes({ specs: defaultNodes(3) }));
    await c.run(2);
    const nodes = (await c.api.list({ apiVersion: "v1", kind: "Node" })).items.map((n) => n.metadata.name).sort();
    expect(nodes).toEqual([CP, WORKER, "kubelings-worker2", "kubelings-worker3"]);

    const cp = await c.node(CP);
    expect(cp.metadata.labels).toMatchObject({ "node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": CP, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" });
    expect(cp.spec.taints).toEqual([{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }]);
    expect(cp.spec.podCIDR).toBe("10.244.0.0/24");

    const w = await c.node(WORKER);
    expect(w.metadata.labels?.["node-role.kubernetes.io/control-plane"]).toBeUndefined();
    expect(w.spec.taints).toBeUndefined();
    expect(w.spec.podCIDR).toBe("10.244.1.0/24");
    expect(w.status.addresses).toEqual([
      { type: "InternalIP", address: "172.18.0.3" },
      { type: "Hostname", address: WORKER },
    ]);
    expect(w.status.capacity).toMatchObject({ cpu: "4", memory: "8388608Ki", pods: "110" });
    // Allocatable holds back the default hard eviction threshold (memory.available<100Mi).
    expect(w.status.allocatable).toMatchObject({ cpu: "4", memory: "8286208Ki", pods: "110" });
    expect(w.status.nodeInfo).toMatchObject({ kubeletVersion: expect.stringMatching(/^v1\.32\./), containerRuntimeVersion: expect.stringMatching(/^containerd:\/\/1\.7\./), operatingSystem: "linux", architecture: "amd64" });
    expect(w.status.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(w.status.images.some((i: any) => i.names.includes("registry.k8s.io/pause:3.10"))).toBe(true);
    // Zones are spread over the workers.
    const zones = await Promise.all(["kubelings-worker", "kubelings-worker2", "kubelings-worker3"].map(async (n) => (await c.node(n)).metadata.labels?.["topology.kubernetes.io/zone"]));
    expect(zones).toEqual(["zone-a", "zone-b", "zone-c"]);

    expect(w.status.conditions.map((x: any) => [x.type, x.status, x.reason])).toEqual([
      ["MemoryPressure", "False", "KubeletHasSufficientMemory"],
      ["DiskPressure", "False", "KubeletHasNoDiskPressure"],
      ["PIDPressure", "False", "KubeletHasSufficientPID"],
      ["Ready", "True", "KubeletReady"],
    ]);
    expect(conditionOf(w, "Ready").message).toBe("kubelet is posting ready status");

    const reasons = (await c.events(WORKER)).map((e) => e.reason);
    expect(reasons).toEqual(["Starting", "NodeHasSufficientMemory", "NodeHasNoDiskPressure", "NodeHasSufficientPID", "NodeAllocatableEnforced", "NodeReady"]);
  });

  it("renews its Lease in kube-node-lease every 10 s and posts an unchanged status only every 5 minutes", async () => {
    const c = (cluster = await startNodes());
    const lease = () => c.api.get({ apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "kube-node-lease", name: WORKER });
    const first = await lease();
    expect(first.spec).toMatchObject({ holderIdentity: WORKER, leaseDurationSeconds: 40 });
    expect(first.spec.renewTime).toMatch(/\.\d{6}Z$/);
    expect(first.metadata.ownerReferences).toEqual([expect.objectContaining({ apiVersion: "v1", kind: "Node", name: WORKER })]);
    const renewals: number[] = [];
    let last = first.spec.renewTime;
    for (let i = 0; i < 6; i++) {
      await c.run(5);
      const l = await lease();
      if (l.spec.renewTime !== last) renewals.push((parseTime(l.spec.renewTime) - parseTime(first.spec.renewTime)) / 1000);
      last = l.spec.renewTime;
    }
    expect(renewals).toEqual([10, 20, 30]);

    const heartbeat = async () => conditionOf(await c.node(WORKER), "Ready").lastHeartbeatTime;
    const h0 = await heartbeat();
    await c.run(120);
    expect(await heartbeat()).toBe(h0);
    await c.run(200);
    expect(parseTime(await heartbeat())).toBeGreaterThan(parseTime(h0));
  });
});

/**
 * The scheduler as a running component on the virtual clock: informers feed its cache and queue,
 * it binds pods through the API, records `Scheduled` / `FailedScheduling` / `Preempted` events,
 * writes the PodScheduled condition, and retries unschedulable pods when the cluster changes.
 * No kubelet runs: nodes are plain Node objects and pods stay Pending once bound.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { schedulerComponent, type SchedulerComponentOptions } from "../../src/cluster/scheduler/component.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";

let cluster: TestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

const CONTROL_PLANE_TAINT = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };

function node(name: string, o: { cpu?: string; memory?: string; zone?: string; taints?: unknown[]; controlPlane?: boolean } = {}): KubeObject {
  const resources = { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/zone": o.zone ?? "zone-a",
        ...(o.controlPlane ? { "node-role.kubernetes.io/control-plane": "" } : {}),
      },
    },
    spec: o.taints ? { taints: o.taints } : {},
    status: { capacity: resources, allocatable: resources, conditions: [{ type: "Ready", status: "True" }] },
  };
}

function pod(name: string, o: { cpu?: string; memory?: string; priority?: number; schedulerName?: string; labels?: Record<string, string> } = {}): KubeObject {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", labels: o.labels ?? { app: "web" } },
    spec: {
      containers: [{ name: "web", image: "nginx:1.27", resources: { requests } }],
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.schedulerName ? { schedulerName: o.schedulerName } : {}),
    },
  };
}

async function start(options: SchedulerComponentOptions = {}): Promise<TestCluster> {
  cluster = await startTestCluster((ctx) => [schedulerComponent(ctx, options)]);
  return cluster;
}

/** The default cluster shape: a tainted control-plane node and three workers. */
async function defaultNodes(c: TestCluster, workerCpu = "4"): Promise<void> {
  await c.api.create(node("control-plane", { taints: [CONTROL_PLANE_TAINT], controlPlane: true }));
  for (const [i, zone] of ["zone-a", "zone-b", "zone-c"].entries()) await c.api.create(node(`worker-${i + 1}`, { cpu: workerCpu, zone }));
}

async function getPod(c: TestCluster, name: string): Promise<KubeObject> {
  return c.api.get({ apiVersion: "v1", kind: "Pod", namespace: "default", name });
}

async function events(c: TestCluster, reason: string): Promise<KubeObject[]> {
  const list = await c.api.list({ apiVersion: "v1", kind: "Event", namespace: "default" });
  return list.items.filter((e) => e.reason === reason);
}

function condition(p: KubeObject, type: string): any {
  return (p.status?.conditions ?? []).find((c: any) => c.type === type);
}

describe("scheduler component", () => {
  it("binds pods to the workers, spread evenly, never to the tainted control-plane node, and records Scheduled events", async () => {
    const c = await start();
    await defaultNodes(c);
    for (let i = 0; i < 6; i++) await c.api.create(pod(`web-${i}`, { cpu: "100m", memory: "128Mi" }));
    await c.clock.advance(1_000);

    const perNode = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const p = await getPod(c, `web-${i}`);
      expect(p.spec.nodeName).toMatch(/^worker-[123]$/);
      expect(condition(p, "PodScheduled")).toMatchObject({ status: "True" });
      perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    }
    expect([...perNode.values()]).toEqual([2, 2, 2]);

    const scheduled = await events(c, "Scheduled");
    expect(scheduled).toHaveLength(6);
    const web0 = await getPod(c, "web-0");
    const e = scheduled.find((x) => x.involvedObject.name === "web-0")!;
    expect(e.message).toBe(`Successfully assigned default/web-0 to ${web0.spec.nodeName}`);
    expect(e.type).toBe("Normal");
    expect(e.source.component).toBe("default-scheduler");
  });

  it("respects the control-plane taint even when only the control-plane node has room", async () => {
    const c = await start();
    await defaultNodes(c, "2");
    await c.api.create(pod("wide", { cpu: "3" }));
    await c.clock.advance(1_000);
    const p = await getPod(c, "wide");
    expect(p.spec.nodeName).toBeUndefined();
    expect(condition(p, "PodScheduled").message).toMatch(
      /^0\/4 nodes are available: 1 node\(s\) had untolerated taint \{node-role\.kubernetes\.io\/control-plane: \}, 3 Insufficient cpu\. /,
    );
  });

  it("never binds a pod twice, even when the pod changes while its binding is in flight", async () => {
    const c = await start();
    await c.api.create(node("worker-1"));
    await c.clock.advance(200);
    const calls: string[] = [];
    const realBind = c.api.bind.bind(c.api);
    // A slow API server: the binding takes 500 ms.
    c.api.bind = async (ref, nodeName, options) => {
      calls.push(`${ref.name}->${nodeName}`);
      await c.clock.sleep(500);
      return realBind(ref, nodeName, options);
    };
    await c.api.create(pod("web-0"));
    await c.clock.advance(100);
    expect(calls).toEqual(["web-0->worker-1"]);
    // A label change requeues the pod while it is assumed: it must be skipped, not scheduled again.
    await c.api.patch({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "web-0" }, "application/merge-patch+json", { metadata: { labels: { app: "web", v: "2" } } });
    await c.clock.advance(2_000);
    expect(calls).toEqual(["web-0->worker-1"]);
    expect((await getPod(c, "web-0")).spec.nodeName).toBe("worker-1");
    expect(await events(c, "Scheduled")).toHaveLength(1);
    expect(await events(c, "FailedScheduling")).toHaveLength(0);
  });

  it("leaves pods that name another scheduler alone", async () => {
    const c = await start();
    await defaultNodes(c);
    await c.api.create(pod("custom", { schedulerName: "my-scheduler" }));
    await c.clock.advance(2_000);
    expect((await getPod(c, "custom")).spec.nodeName).toBeUndefined();
    expect(await events(c, "FailedScheduling")).toHaveLength(0);
  });

  it("reports '0/3 nodes are available: 3 Insufficient cpu.' with PodScheduled=False, then schedules the pod when a node with room joins", async () => {
    const c = await start();
    for (const [i, zone] of ["zone-a", "zone-b", "zone-c"].entries()) await c.api.create(node(`worker-${i + 1}`, { cpu: "2", zone }));
    await c.api.create(pod("big", { cpu: "3" }));
    await c.clock.advance(1_000);

    const pending = await getPod(c, "big");
    expect(pending.spec.nodeName).toBeUndefined();
    expect(condition(pending, "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      // 3 CPUs exceed every node's allocatable: evicting pods cannot help (NodeResourcesFit says Unresolvable).
      message: "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    });
    const failed = await events(c, "FailedScheduling");
    expect(failed).toHaveLength(1);
    expect(failed[0].type).toBe("Warning");
    expect(failed[0].message).toBe(condition(pending, "PodScheduled").message);

    // Nothing changes for a while: the pod waits in unschedulablePods, no new attempt, no new event.
    await c.clock.advance(20_000);
    expect((await events(c, "FailedScheduling"))[0].count).toBe(1);

    // A node with room (NodeAdd is an event NodeResourcesFit registered for) brings it back.
    await c.api.create(node("worker-4", { cpu: "8", zone: "zone-a" }));
    await c.clock.advance(1_000);
    const bound = await getPod(c, "big");
    expect(bound.spec.nodeName).toBe("worker-4");
    expect(condition(bound, "PodScheduled")).toMatchObject({ status: "True" });
  });

  it("retries an unschedulable pod when a bound pod is deleted and frees the room", async () => {
    const c = await start();
    await c.api.create(node("worker-1", { cpu: "2" }));
    await c.api.create(pod("first", { cpu: "1500m" }));
    await c.clock.advance(1_000);
    expect((await getPod(c, "first")).spec.nodeName).toBe("worker-1");

    await c.api.create(pod("second", { cpu: "1500m" }));
    await c.clock.advance(1_000);
    expect(condition(await getPod(c, "second"), "PodScheduled")).toMatchObject({ status: "False", reason: "Unschedulable" });

    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "first" }, { gracePeriodSeconds: 0 });
    // AssignedPodDelete moves the pod out of unschedulablePods; its backoff (1 s after one attempt) has passed.
    await c.clock.advance(2_000);
    expect((await getPod(c, "second")).spec.nodeName).toBe("worker-1");
  });

  it("packs pods onto as few nodes as possible with the MostAllocated strategy", async () => {
    const c = await start({ scoringStrategy: "MostAllocated" });
    await defaultNodes(c);
    for (let i = 0; i < 4; i++) await c.api.create(pod(`batch-${i}`, { cpu: "900m", memory: "1Gi", labels: { app: `batch-${i}` } }));
    await c.clock.advance(1_000);
    const nodes = new Set<string>();
    for (let i = 0; i < 4; i++) nodes.add((await getPod(c, `batch-${i}`)).spec.nodeName);
    expect(nodes.size).toBe(1);
    expect([...nodes][0]).toMatch(/^worker-/);
  });

  it("spreads the same pods over every worker with the default LeastAllocated strategy", async () => {
    const c = await start();
    await defaultNodes(c);
    for (let i = 0; i < 3; i++) await c.api.create(pod(`batch-${i}`, { cpu: "900m", memory: "1Gi", labels: { app: `batch-${i}` } }));
    await c.clock.advance(1_000);
    const nodes = new Set<string>();
    for (let i = 0; i < 3; i++) nodes.add((await getPod(c, `batch-${i}`)).spec.nodeName);
    expect(nodes.size).toBe(3);
  });

  it("preempts a lower-priority pod: DisruptionTarget, deletion, a Preempted event, nominatedNodeName, then binds the preemptor", async () => {
    const c = await start();
    await c.api.create(node("worker-1", { cpu: "2" }));
    await c.api.create(pod("low", { cpu: "1500m", priority: 10 }));
    await c.clock.advance(1_000);
    expect((await getPod(c, "low")).spec.nodeName).toBe("worker-1");

    const high = await c.api.create(pod("high", { cpu: "1500m", priority: 1000 }));
    await c.clock.advance(1_000);

    const victim = await getPod(c, "low");
    expect(victim.metadata.deletionTimestamp).toBeDefined();
    expect(condition(victim, "DisruptionTarget")).toMatchObject({
      status: "True",
      reason: "PreemptionByScheduler",
      message: "default-scheduler: preempting to accommodate a higher priority pod",
    });
    const preempted = await events(c, "Preempted");
    expect(preempted).toHaveLength(1);
    expect(preempted[0].involvedObject.name).toBe("low");
    expect(preempted[0].message).toBe(`Preempted by pod ${high.metadata.uid} on node worker-1`);
    const waiting = await getPod(c, "high");
    expect(waiting.status.nominatedNodeName).toBe("worker-1");
    expect(waiting.spec.nodeName).toBeUndefined();

    // No kubelet here: finish the victim's graceful termination by hand.
    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "low" }, { gracePeriodSeconds: 0 });
    await c.clock.advance(2_000);
    const bound = await getPod(c, "high");
    expect(bound.spec.nodeName).toBe("worker-1");
  });

  it("reports 'no nodes available to schedule pods' while the cluster has no node", async () => {
    const c = await start();
    await c.api.create(pod("early"));
    await c.clock.advance(1_000);
    expect(condition(await getPod(c, "early"), "PodScheduled")).toMatchObject({
      status: "False",
      reason: "Unschedulable",
      message: "no nodes available to schedule pods",
    });
    await c.api.create(node("worker-1"));
    await c.clock.advance(2_000);
    expect((await getPod(c, "early")).spec.nodeName).toBe("worker-1");
  });
});

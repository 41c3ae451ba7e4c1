/**
 * The EndpointSlice controller on the virtual clock: slices named `<svc>-xxxxx`, owned by their
 * Service, with per-endpoint conditions, node, zone and target, at most 100 endpoints each.
 */
import { afterEach, describe, expect, it } from "vitest";
import { endpointSliceController, type EndpointSliceControllerOptions } from "../../src/cluster/services/endpointslice.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";
import { createNodes, peek, runningPod, service, setRunning, slicesOf } from "./_helpers.js";

let cluster: TestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

async function start(options: EndpointSliceControllerOptions = {}): Promise<TestCluster> {
  cluster = await startTestCluster((ctx) => [endpointSliceController(ctx, options)]);
  await createNodes(cluster);
  return cluster;
}

function byPod(slice: any): Record<string, any> {
  return Object.fromEntries((slice.endpoints ?? []).map((e: any) => [e.targetRef.name, e]));
}

describe("endpointslice controller", () => {
  it("creates a slice named <svc>-xxxxx, owned by the Service, with conditions, node, zone and target of each pod", async () => {
    const c = await start();
    const svc = await c.api.create(service("web", {}, { labels: { tier: "frontend" } }));
    const a = await runningPod(c, "web-a", "10.244.1.2", true, { nodeName: "worker-1" });
    await runningPod(c, "web-b", "10.244.2.2", false, { nodeName: "worker-2" });
    await c.clock.advance(200);

    const slices = await slicesOf(c, "web");
    expect(slices).toHaveLength(1);
    const slice = slices[0];
    expect(slice.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
    expect(slice.metadata.labels).toEqual({
      tier: "frontend",
      "kubernetes.io/service-name": "web",
      "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    });
    expect(slice.metadata.ownerReferences).toEqual([{ apiVersion: "v1", kind: "Service", name: "web", uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(slice.addressType).toBe("IPv4");
    expect(slice.ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    expect(slice.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"]).toBe("2024-01-01T00:00:00Z");
    expect(byPod(slice)["web-a"]).toEqual({
      addresses: ["10.244.1.2"],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: "Pod", namespace: "default", name: "web-a", uid: a.metadata.uid },
      nodeName: "worker-1",
      zone: "zone-a",
    });
    expect(byPod(slice)["web-b"]).toMatchObject({ conditions: { ready: false, serving: false, terminating: false }, nodeName: "worker-2", zone: "zone-b" });
  });

  it("keeps a terminating pod with ready=false, serving=its readiness, terminating=true, until it is gone", async () => {
    const c = await start();
    await c.api.create(service("web"));
    await runningPod(c, "web-a", "10.244.1.2", true);
    await runningPod(c, "web-b", "10.244.1.3", true);
    await c.clock.advance(200);

    // A bound pod deletes gracefully: it lingers with a deletionTimestamp.
    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "web-a" });
    await c.clock.advance(10);
    let slice = (await slicesOf(c, "web"))[0];
    expect(byPod(slice)["web-a"].conditions).toEqual({ ready: false, serving: true, terminating: true });
    expect(byPod(slice)["web-b"].conditions).toEqual({ ready: true, serving: true, terminating: false });

    // Its readiness probe fails while it shuts down: no longer serving either.
    await setRunning(c, "web-a", "10.244.1.2", false);
    await c.clock.advance(10);
    slice = (await slicesOf(c, "web"))[0];
    expect(byPod(slice)["web-a"].conditions).toEqual({ ready: false, serving: false, terminating: true });

    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "web-a" }, { gracePeriodSeconds: 0 });
    await c.clock.advance(10);
    const slices = await slicesOf(c, "web");
    expect(slices).toHaveLength(1);
    expect(Object.keys(byPod(slices[0]))).toEqual(["web-b"]);
  });

  it("marks every endpoint ready with publishNotReadyAddresses, and names pods by hostname in their headless Service", async () => {
    const c = await start();
    await c.api.create(service("nginx", { clusterIP: "None", publishNotReadyAddresses: true }));
    await runningPod(c, "web-0", "10.244.1.2", false, { hostname: "web-0", subdomain: "nginx" });
    await c.clock.advance(200);
    const slice = (await slicesOf(c, "nginx"))[0];
    expect(slice.metadata.labels?.["service.kubernetes.io/headless"]).toBe("");
    expect(byPod(slice)["web-0"]).toMatchObject({ hostname: "web-0", conditions: { ready: true, serving: false, terminating: false } });
  });

  it("puts at most 100 endpoints in a slice", async () => {
    const c = await start();
    await c.api.create(service("web"));
    for (let i = 0; i < 150; i++) await runningPod(c, `web-${String(i).padStart(3, "0")}`, `10.244.${Math.floor(i / 200)}.${(i % 200) + 2}`, true);
    await c.clock.advance(200);
    const slices = await slicesOf(c, "web");
    expect(slices.map((s) => s.endpoints.length).sort((x, y) => x - y)).toEqual([50, 100]);
    const all = slices.flatMap((s) => s.endpoints.map((e: any) => e.targetRef.name));
    expect(new Set(all).size).toBe(150);
  });

  it("keeps one empty placeholder slice while the Service selects no pod", async () => {
    const c = await start();
    await c.api.create(service("web"));
    await c.clock.advance(200);
    let slices = await slicesOf(c, "web");
    expect(slices).toHaveLength(1);
    expect(slices[0].endpoints ?? []).toEqual([]);
    const placeholder = slices[0].metadata.name;

    // The first pod reuses the placeholder instead of a delete and a create.
    await runningPod(c, "web-a", "10.244.1.2", true);
    await c.clock.advance(10);
    slices = await slicesOf(c, "web");
    expect(slices.map((s) => s.metadata.name)).toEqual([placeholder]);
    expect(slices[0].endpoints).toHaveLength(1);
    expect(slices[0].ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
  });

  it("gives pods whose named port resolves to different numbers separate slices", async () => {
    const c = await start();
    await c.api.create(service("web", { ports: [{ name: "http", port: 80, targetPort: "web" }] }));
    await runningPod(c, "v1", "10.244.1.2", true, { ports: [{ name: "web", containerPort: 8080 }] });
    await runningPod(c, "v2", "10.244.1.3", true, { ports: [{ name: "web", containerPort: 9090 }] });
    await c.clock.advance(200);
    const slices = await slicesOf(c, "web");
    expect(slices.map((s) => [s.ports[0].port, s.endpoints.map((e: any) => e.targetRef.name)]).sort()).toEqual([
      [8080, ["v1"]],
      [9090, ["v2"]],
    ]);
  });

  it("recreates a managed slice deleted behind its back", async () => {
    const c = await start();
    await c.api.create(service("web"));
    await runningPod(c, "web-a", "10.244.1.2", true);
    await c.clock.advance(200);
    const [slice] = await slicesOf(c, "web");
    await c.api.delete({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", namespace: "default", name: slice.metadata.name! });
    await c.clock.advance(1_500);
    const slices = await slicesOf(c, "web");
    expect(slices).toHaveLength(1);
    expect(slices[0].metadata.name).not.toBe(slice.metadata.name);
    expect(peek(c, "EndpointSlice", slices[0].metadata.name!, "default", "discovery.k8s.io/v1")!.endpoints).toHaveLength(1);
  });
});

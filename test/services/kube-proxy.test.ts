/**
 * kube-proxy on the virtual clock, fed by the real EndpointSlice controller: connections to a
 * Service's virtual IP (or a node port) land on its ready endpoints.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { endpointSliceController } from "../../src/cluster/services/endpointslice.js";
import { kubeProxy, type KubeProxy, type KubeProxyOptions, type ProxyResult } from "../../src/cluster/services/kube-proxy.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";
import { createNodes, runningPod, service, setRunning } from "./_helpers.js";

let cluster: TestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

async function start(options: KubeProxyOptions = {}): Promise<{ c: TestCluster; proxy: KubeProxy }> {
  let proxy!: KubeProxy;
  cluster = await startTestCluster((ctx) => {
    proxy = kubeProxy(ctx, options);
    return [endpointSliceController(ctx), proxy];
  });
  await createNodes(cluster);
  return { c: cluster, proxy };
}

/** Three pods of `web`, one per worker; web-c is not ready. */
async function webPods(c: TestCluster): Promise<void> {
  await runningPod(c, "web-a", "10.244.1.2", true, { nodeName: "worker-1" });
  await runningPod(c, "web-b", "10.244.2.2", true, { nodeName: "worker-2" });
  await runningPod(c, "web-c", "10.244.3.2", false, { nodeName: "worker-3" });
}

function pods(results: ProxyResult[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of results) {
    if (!r.ok) throw new Error(r.message);
    out.set(r.podName!, (out.get(r.podName!) ?? 0) + 1);
  }
  return out;
}

describe("kube-proxy", () => {
  it("sends connections to the ClusterIP to ready endpoints only, spread at random", async () => {
    const { c, proxy } = await start();
    const svc: KubeObject = await c.api.create(service("web"));
    await webPods(c);
    await c.clock.advance(200);

    const results = Array.from({ length: 1000 }, () => proxy.resolve(svc.spec.clusterIP, 80));
    const first = results[0];
    expect(first).toMatchObject({ ok: true, service: "default/web", portName: "http", port: 8080, podNamespace: "default" });
    const counts = pods(results);
    expect([...counts.keys()].sort()).toEqual(["web-a", "web-b"]);
    for (const n of counts.values()) expect(n).toBeGreaterThan(400);

    // By name as well, and the pod IP and node come along.
    const byName = proxy.resolve("default/web", 80);
    if (!byName.ok) throw new Error(byName.message);
    expect(["10.244.1.2 on worker-1", "10.244.2.2 on worker-2"]).toContain(`${byName.podIP} on ${byName.nodeName}`);
  });

  it("follows readiness: a pod that turns ready starts receiving connections", async () => {
    const { c, proxy } = await start();
    const svc: KubeObject = await c.api.create(service("web"));
    await webPods(c);
    await c.clock.advance(200);
    await setRunning(c, "web-c", "10.244.3.2", true);
    await setRunning(c, "web-a", "10.244.1.2", false);
    await c.clock.advance(10);
    const counts = pods(Array.from({ length: 300 }, () => proxy.resolve(svc.spec.clusterIP, 80)));
    expect([...counts.keys()].sort()).toEqual(["web-b", "web-c"]);
  });

  it('refuses connections when no endpoint is ready: no endpoints available for service "default/web"', async () => {
    const { c, proxy } = await start();
    const svc: KubeObject = await c.api.create(service("web"));
    await runningPod(c, "web-a", "10.244.1.2", false);
    await c.clock.advance(200);
    expect(proxy.resolve(svc.spec.clusterIP, 80)).toEqual({
      ok: false,
      code: "ECONNREFUSED",
      message: 'no endpoints available for service "default/web"',
      service: "default/web",
    });
    // A port the Service does not expose is not routed at all.
    expect(proxy.resolve(svc.spec.clusterIP, 443)).toMatchObject({ ok: false, code: "ETIMEDOUT" });
  });

  it("falls back to serving terminating endpoints when no endpoint is ready", async () => {
    const { c, proxy } = await start();
    const svc: KubeObject = await c.api.create(service("web"));
    await runningPod(c, "web-a", "10.244.1.2", true);
    await c.clock.advance(200);
    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "web-a" });
    await c.clock.advance(10);
    expect(proxy.resolve(svc.spec.clusterIP, 80)).toMatchObject({ ok: true, podName: "web-a" });
  });

  it("keeps a client on one endpoint with sessionAffinity ClientIP, until the affinity times out", async () => {
    const { c, proxy } = await start();
    const svc: KubeObject = await c.api.create(service("web", { sessionAffinity: "ClientIP", sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } }));
    await runningPod(c, "web-a", "10.244.1.2", true);
    await runningPod(c, "web-b", "10.244.1.3", true);
    await runningPod(c, "web-c", "10.244.1.4", true);
    await c.clock.advance(200);

    const sticky = pods(Array.from({ length: 50 }, () => proxy.resolve(svc.spec.clusterIP, 80, { clientIP: "10.244.9.9" })));
    expect(sticky.size).toBe(1);
    // Reconnecting within the timeout keeps the affinity alive, however long the total.
    const first = [...sticky.keys()][0];
    for (let i = 0; i < 3; i++) {
      await c.clock.advance(50_000);
      expect(proxy.resolve(svc.spec.clusterIP, 80, { clientIP: "10.244.9.9" })).toMatchObject({ podName: first });
    }
    // Different clients still spread.
    const clients = pods(Array.from({ length: 60 }, (_, i) => proxy.resolve(svc.spec.clusterIP, 80, { clientIP: `10.244.8.${i}` })));
    expect(clients.size).toBe(3);
    // After a silence longer than the timeout the choice is made afresh.
    await c.clock.advance(61_000);
    const after = pods(Array.from({ length: 40 }, () => proxy.resolve(svc.spec.clusterIP, 80, { clientIP: `10.244.7.7` })));
    expect(after.size).toBe(1);
  });

  it("routes a NodePort on any node's IP, and only to local endpoints with externalTrafficPolicy Local", async () => {
    const { c, proxy } = await start();
    const svc: KubeObject = await c.api.create(service("web", { type: "NodePort", ports: [{ name: "http", port: 80, targetPort: 8080, nodePort: 30080 }] }));
    await webPods(c);
    await c.clock.advance(200);

    for (const nodeIP of ["10.0.0.11", "10.0.0.12", "10.0.0.13"]) {
      const counts = pods(Array.from({ length: 200 }, () => proxy.resolve(nodeIP, 30080)));
      expect([...counts.keys()].sort()).toEqual(["web-a", "web-b"]);
    }
    expect(proxy.resolve("10.0.0.11", 30081)).toMatchObject({ ok: false, code: "ECONNREFUSED" });
    expect(svc.spec.clusterIP).toBeTruthy();

    await c.api.patch({ apiVersion: "v1", kind: "Service", namespace: "default", name: "web" }, "application/merge-patch+json", { spec: { externalTrafficPolicy: "Local" } });
    await c.clock.advance(10);
    expect(pods(Array.from({ length: 50 }, () => proxy.resolve("10.0.0.12", 30080)))).toEqual(new Map([["web-b", 50]]));
    // worker-3's only pod is not ready: the connection is dropped there.
    expect(proxy.resolve("10.0.0.13", 30080)).toMatchObject({ ok: false, code: "ETIMEDOUT" });
    // In-cluster traffic to the ClusterIP is not affected by the external policy.
    expect(pods(Array.from({ length: 100 }, () => proxy.resolve(svc.spec.clusterIP, 80))).size).toBe(2);
  });

  it("takes endpoints round-robin in ipvs mode", async () => {
    const { c, proxy } = await start({ mode: "ipvs" });
    const svc: KubeObject = await c.api.create(service("web"));
    await webPods(c);
    await c.clock.advance(200);
    const names = Array.from({ length: 4 }, () => {
      const r = proxy.resolve(svc.spec.clusterIP, 80);
      return r.ok ? r.podName : r.message;
    });
    expect(names).toEqual(["web-a", "web-b", "web-a", "web-b"]);
  });

  it("does not proxy ExternalName Services, and reaches a headless Service's pods directly", async () => {
    const { c, proxy } = await start();
    await c.api.create({ apiVersion: "v1", kind: "Service", metadata: { name: "db", namespace: "default" }, spec: { type: "ExternalName", externalName: "db.example.com" } });
    await c.api.create(service("nginx", { clusterIP: "None" }));
    await runningPod(c, "web-a", "10.244.1.2", true);
    await c.clock.advance(200);
    expect(proxy.resolve("default/db", 5432)).toMatchObject({ ok: false, code: "ETIMEDOUT", message: expect.stringContaining("ExternalName") });
    expect(proxy.resolve("default/nginx", 8080)).toMatchObject({ ok: true, podIP: "10.244.1.2", port: 8080 });
  });
});

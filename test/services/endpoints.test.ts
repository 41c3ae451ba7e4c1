/**
 * The Endpoints controller on the virtual clock: one `v1 Endpoints` per Service with a selector,
 * ready pods in `addresses`, the others in `notReadyAddresses`, ports from targetPort.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { endpointsController, repackSubsets, truncateSubsets, type EndpointSubset } from "../../src/cluster/services/endpoints.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";
import { createNodes, peek, pod, runningPod, service, setRunning } from "./_helpers.js";

let cluster: TestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

async function start(): Promise<TestCluster> {
  cluster = await startTestCluster((ctx) => [endpointsController(ctx)]);
  await createNodes(cluster);
  return cluster;
}

function ips(addresses: any[] | undefined): string[] {
  return (addresses ?? []).map((a) => a.ip);
}

describe("endpoints controller", () => {
  it("holds exactly the ready pods, and follows readiness as it flips", async () => {
    const c = await start();
    await c.api.create(service("web", {}, { labels: { tier: "frontend" } }));
    await runningPod(c, "web-a", "10.244.1.2", true, { nodeName: "worker-1" });
    await runningPod(c, "web-b", "10.244.2.2", true, { nodeName: "worker-2" });
    await runningPod(c, "web-c", "10.244.3.2", false, { nodeName: "worker-3" });
    await c.api.create(pod("other", { labels: { app: "db" } }));
    await c.clock.advance(200);

    let ep = peek(c, "Endpoints", "web")!;
    expect(ep.subsets).toHaveLength(1);
    expect(ips(ep.subsets[0].addresses)).toEqual(["10.244.1.2", "10.244.2.2"]);
    expect(ips(ep.subsets[0].notReadyAddresses)).toEqual(["10.244.3.2"]);
    expect(ep.subsets[0].ports).toEqual([{ name: "http", port: 8080, protocol: "TCP" }]);
    const webA = peek(c, "Pod", "web-a")!;
    expect(ep.subsets[0].addresses[0]).toEqual({ ip: "10.244.1.2", nodeName: "worker-1", targetRef: { kind: "Pod", namespace: "default", name: "web-a", uid: webA.metadata.uid } });
    expect(ep.metadata.labels).toEqual({ tier: "frontend" });
    expect(ep.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"]).toMatch(/^2024-01-01T00:00:00Z$/);

    // web-c turns ready, web-a stops being ready.
    await c.clock.advance(5_000);
    await setRunning(c, "web-c", "10.244.3.2", true);
    await setRunning(c, "web-a", "10.244.1.2", false);
    await c.clock.advance(10);
    ep = peek(c, "Endpoints", "web")!;
    expect(ips(ep.subsets[0].addresses)).toEqual(["10.244.2.2", "10.244.3.2"]);
    expect(ips(ep.subsets[0].notReadyAddresses)).toEqual(["10.244.1.2"]);
    expect(ep.metadata.annotations?.["endpoints.kubernetes.io/last-change-trigger-time"]).toBe("2024-01-01T00:00:05Z");
  });

  it("leaves out pods without an IP, terminal pods and terminating pods", async () => {
    const c = await start();
    await c.api.create(service("web"));
    await runningPod(c, "ready", "10.244.1.2", true);
    await c.api.create(pod("no-ip"));
    await runningPod(c, "done", "10.244.1.3", false);
    await c.api.patch({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "done" }, "application/merge-patch+json", { status: { phase: "Succeeded" } }, { subresource: "status" });
    await runningPod(c, "leaving", "10.244.1.4", true);
    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "leaving" });
    await c.clock.advance(200);

    const ep = peek(c, "Endpoints", "web")!;
    expect(ep.subsets).toEqual([
      {
        addresses: [expect.objectContaining({ ip: "10.244.1.2" })],
        ports: [{ name: "http", port: 8080, protocol: "TCP" }],
      },
    ]);
  });

  it("lists not-ready and terminating pods as ready with publishNotReadyAddresses", async () => {
    const c = await start();
    await c.api.create(service("peers", { publishNotReadyAddresses: true, clusterIP: "None" }));
    await runningPod(c, "starting", "10.244.1.2", false);
    await runningPod(c, "leaving", "10.244.1.3", true);
    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "leaving" });
    await c.clock.advance(200);

    const ep = peek(c, "Endpoints", "peers")!;
    expect(ips(ep.subsets[0].addresses)).toEqual(["10.244.1.2", "10.244.1.3"]);
    expect(ep.subsets[0].notReadyAddresses).toBeUndefined();
    // Headless Services' Endpoints carry the headless label.
    expect(ep.metadata.labels).toEqual({ "service.kubernetes.io/headless": "" });
  });

  it("resolves a named targetPort per pod: different numbers give separate subsets", async () => {
    const c = await start();
    await c.api.create(service("web", { ports: [{ name: "http", port: 80, targetPort: "web" }] }));
    await runningPod(c, "v1-a", "10.244.1.2", true, { ports: [{ name: "web", containerPort: 8080 }] });
    await runningPod(c, "v1-b", "10.244.1.3", true, { ports: [{ name: "web", containerPort: 8080 }] });
    await runningPod(c, "v2-a", "10.244.2.2", true, { ports: [{ name: "web", containerPort: 9090 }] });
    // No port named "web": this pod serves nothing for the Service.
    await runningPod(c, "bare", "10.244.3.2", true);
    await c.clock.advance(200);

    const ep = peek(c, "Endpoints", "web")!;
    expect(ep.subsets).toHaveLength(2);
    expect(ep.subsets.map((s: EndpointSubset) => [s.ports![0].port, ips(s.addresses)])).toEqual([
      [8080, ["10.244.1.2", "10.244.1.3"]],
      [9090, ["10.244.2.2"]],
    ]);
  });

  it("leaves the Endpoints of a Service without selector to its user, and deletes Endpoints when the Service goes", async () => {
    const c = await start();
    await c.api.create(service("external-db", { selector: undefined, ports: [{ port: 5432 }] }));
    const manual: KubeObject = {
      apiVersion: "v1",
      kind: "Endpoints",
      metadata: { name: "external-db", namespace: "default" },
      subsets: [{ addresses: [{ ip: "192.168.10.5" }], ports: [{ port: 5432, protocol: "TCP" }] }],
    };
    await c.api.create(manual);
    await c.api.create(service("web"));
    await runningPod(c, "web-a", "10.244.1.2", true);
    await c.clock.advance(200);
    expect(peek(c, "Endpoints", "external-db")!.subsets[0].addresses).toEqual([{ ip: "192.168.10.5" }]);
    expect(peek(c, "Endpoints", "web")).toBeDefined();

    await c.api.delete({ apiVersion: "v1", kind: "Service", namespace: "default", name: "web" });
    await c.clock.advance(10);
    expect(peek(c, "Endpoints", "web")).toBeUndefined();
    expect(peek(c, "Endpoints", "external-db")).toBeDefined();
  });

  it("writes nothing when nothing changed", async () => {
    const c = await start();
    await c.api.create(service("web"));
    await runningPod(c, "web-a", "10.244.1.2", true);
    await c.clock.advance(200);
    const before = peek(c, "Endpoints", "web")!.metadata.resourceVersion;
    // An annotation on the pod is not an endpoints change.
    await c.api.patch({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "web-a" }, "application/merge-patch+json", { metadata: { annotations: { note: "x" } } });
    await c.api.patch({ apiVersion: "v1", kind: "Service", namespace: "default", name: "web" }, "application/merge-patch+json", { metadata: { annotations: { note: "y" } } });
    await c.clock.advance(200);
    expect(peek(c, "Endpoints", "web")!.metadata.resourceVersion).toBe(before);
  });
});

describe("RepackSubsets and truncation", () => {
  const addr = (ip: string) => ({ ip, targetRef: { kind: "Pod", namespace: "default", name: ip, uid: ip } });
  it("groups ports served by the same addresses into one subset", () => {
    const http = { name: "http", port: 8080, protocol: "TCP" };
    const metrics = { name: "metrics", port: 9100, protocol: "TCP" };
    const out = repackSubsets([
      { addresses: [addr("10.0.0.2")], ports: [http] },
      { addresses: [addr("10.0.0.2")], ports: [metrics] },
      { addresses: [addr("10.0.0.1")], ports: [http] },
      { addresses: [addr("10.0.0.1")], ports: [metrics] },
    ]);
    expect(out).toEqual([{ addresses: [addr("10.0.0.1"), addr("10.0.0.2")], ports: [http, metrics] }]);
  });

  it("cuts past 1000 addresses keeping ready ones first, in proportion per subset", () => {
    const many = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ ip: `${prefix}.${Math.floor(i / 250)}.${i % 250}` }));
    const subsets: EndpointSubset[] = [
      { addresses: many("10.1", 600), notReadyAddresses: many("10.3", 100), ports: [{ port: 80, protocol: "TCP" }] },
      { addresses: many("10.2", 300), notReadyAddresses: many("10.4", 300), ports: [{ port: 81, protocol: "TCP" }] },
    ];
    expect(truncateSubsets(subsets)).toBe(true);
    // 900 ready stay; 100 not-ready slots shared 100:300 -> 25 and 75.
    expect(subsets.map((s) => [s.addresses!.length, s.notReadyAddresses!.length])).toEqual([
      [600, 25],
      [300, 75],
    ]);
  });
});

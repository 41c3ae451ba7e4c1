/**
 * Cluster DNS on the virtual clock, fed by the real EndpointSlice controller: the records of the
 * Kubernetes DNS specification, short names through a pod's search path, and the bootstrap
 * Services.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { bootstrapServices, clusterDNS, resolvConf, resolveThroughApi, type ClusterDns } from "../../src/cluster/services/dns.js";
import { endpointSliceController } from "../../src/cluster/services/endpointslice.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";
import { createNodes, runningPod, service } from "./_helpers.js";

let cluster: TestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

async function start(): Promise<{ c: TestCluster; dns: ClusterDns }> {
  let dns!: ClusterDns;
  cluster = await startTestCluster((ctx) => {
    dns = clusterDNS(ctx);
    return [endpointSliceController(ctx), dns];
  });
  await createNodes(cluster);
  return { c: cluster, dns };
}

function data(answer: { records: Array<{ data: string }> }): string[] {
  return answer.records.map((r) => r.data).sort();
}

describe("cluster DNS", () => {
  it("resolves svc.ns.svc.cluster.local and the short forms of a pod's search path to the ClusterIP", async () => {
    const { c, dns } = await start();
    const svc: KubeObject = await c.api.create(service("web"));
    await c.api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    await c.clock.advance(200);
    const ip = svc.spec.clusterIP;

    const full = dns.resolve("web.default.svc.cluster.local", "shop");
    expect(full).toMatchObject({ rcode: "NOERROR", name: "web.default.svc.cluster.local" });
    expect(full.records).toEqual([{ name: "web.default.svc.cluster.local", type: "A", ttl: 30, data: ip }]);
    // Three dots < ndots 5: the search list comes first, so even the full name tries shop.svc... first.
    expect(full.tried[0]).toBe("web.default.svc.cluster.local.shop.svc.cluster.local");

    expect(data(dns.resolve("web", "default"))).toEqual([ip]);
    expect(dns.resolve("web", "default").tried).toEqual(["web.default.svc.cluster.local"]);
    expect(data(dns.resolve("web.default", "shop"))).toEqual([ip]);
    expect(dns.resolve("web.default", "shop").tried).toEqual(["web.default.shop.svc.cluster.local", "web.default.svc.cluster.local"]);
    expect(data(dns.resolve("web.default.svc", "shop"))).toEqual([ip]);
    // From another namespace the bare name is not enough.
    expect(dns.resolve("web", "shop")).toMatchObject({ rcode: "NXDOMAIN", records: [] });
    expect(dns.resolve("web", "shop").tried).toEqual(["web.shop.svc.cluster.local", "web.svc.cluster.local", "web.cluster.local", "web"]);
    expect(dns.resolve("nope.default.svc.cluster.local.")).toMatchObject({ rcode: "NXDOMAIN", tried: ["nope.default.svc.cluster.local"] });
    // PTR for the ClusterIP.
    const [a, b, cc, d] = ip.split(".");
    expect(dns.lookup(`${d}.${cc}.${b}.${a}.in-addr.arpa`, "PTR").records[0].data).toBe("web.default.svc.cluster.local");
  });

  it("answers a headless Service with its ready pod IPs, and StatefulSet-style pod names", async () => {
    const { c, dns } = await start();
    await c.api.create(service("nginx", { clusterIP: "None", selector: { app: "nginx" }, ports: [{ name: "web", port: 80 }] }));
    await runningPod(c, "web-0", "10.244.1.2", true, { labels: { app: "nginx" }, hostname: "web-0", subdomain: "nginx" });
    await runningPod(c, "web-1", "10.244.2.2", true, { labels: { app: "nginx" }, hostname: "web-1", subdomain: "nginx" });
    await runningPod(c, "web-2", "10.244.3.2", false, { labels: { app: "nginx" }, hostname: "web-2", subdomain: "nginx" });
    await c.clock.advance(200);

    expect(data(dns.resolve("nginx.default.svc.cluster.local"))).toEqual(["10.244.1.2", "10.244.2.2"]);
    expect(data(dns.resolve("nginx"))).toEqual(["10.244.1.2", "10.244.2.2"]);
    expect(dns.resolve("web-0.nginx.default.svc.cluster.local").records).toEqual([{ name: "web-0.nginx.default.svc.cluster.local", type: "A", ttl: 30, data: "10.244.1.2" }]);
    expect(data(dns.resolve("web-1.nginx"))).toEqual(["10.244.2.2"]);
    // Not ready yet: no name.
    expect(dns.resolve("web-2.nginx.default.svc.cluster.local")).toMatchObject({ rcode: "NXDOMAIN" });
    // SRV per ready endpoint for the named port, weights sharing 100.
    const srv = dns.resolve("_web._tcp.nginx.default.svc.cluster.local", "default", "SRV").records;
    expect(srv.map((r) => [r.data, r.port, r.priority, r.weight]).sort()).toEqual([
      ["web-0.nginx.default.svc.cluster.local", 80, 0, 50],
      ["web-1.nginx.default.svc.cluster.local", 80, 0, 50],
    ]);
  });

  it("answers NXDOMAIN for a headless Service with no ready endpoint", async () => {
    const { c, dns } = await start();
    await c.api.create(service("nginx", { clusterIP: "None" }));
    await runningPod(c, "web-a", "10.244.1.2", false);
    await c.clock.advance(200);
    expect(dns.resolve("nginx.default.svc.cluster.local")).toMatchObject({ rcode: "NXDOMAIN" });
  });

  it("gives an ExternalName Service a CNAME, SRV records for named ports, and dashed pod names", async () => {
    const { c, dns } = await start();
    await c.api.create({ apiVersion: "v1", kind: "Service", metadata: { name: "db", namespace: "default" }, spec: { type: "ExternalName", externalName: "db.example.com" } });
    const svc: KubeObject = await c.api.create(service("web"));
    await c.api.create(service("plain", { ports: [{ port: 9100 }] }));
    await c.clock.advance(200);

    expect(dns.resolve("db").records).toEqual([{ name: "db.default.svc.cluster.local", type: "CNAME", ttl: 30, data: "db.example.com" }]);
    expect(dns.resolve("_http._tcp.web", "default", "SRV").records).toEqual([
      { name: "_http._tcp.web.default.svc.cluster.local", type: "SRV", ttl: 30, data: "web.default.svc.cluster.local", priority: 0, weight: 100, port: 80 },
    ]);
    expect(dns.resolve("_http._udp.web", "default", "SRV").rcode).toBe("NXDOMAIN");
    // Unnamed ports have no SRV record: the name exists, with no SRV (NODATA).
    expect(dns.resolve("plain", "default", "SRV")).toMatchObject({ rcode: "NOERROR", records: [], name: "plain.default.svc.cluster.local" });
    // Asking A on an SRV name is NODATA too.
    expect(dns.resolve("_http._tcp.web.default.svc.cluster.local", "default", "A")).toMatchObject({ rcode: "NOERROR", records: [] });
    expect(data(dns.resolve("10-244-1-2.default.pod.cluster.local"))).toEqual(["10.244.1.2"]);
    expect(svc.spec.clusterIP).toBeTruthy();
  });

  it("uses the pod's dnsPolicy and dnsConfig", async () => {
    const { c, dns } = await start();
    await c.api.create(service("web"));
    await c.clock.advance(200);
    const client: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "client", namespace: "default" }, spec: { dnsConfig: { options: [{ name: "ndots", value: "1" }] } } };
    // ndots 1: "web.default" has a dot, so it is tried as-is first.
    expect(dns.resolve("web.default", client).tried[0]).toBe("web.default");
    expect(dns.resolve("web.default", client).rcode).toBe("NOERROR");
    expect(resolvConf(client)).toBe("search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:1\n");
    const hostNet: KubeObject = { ...client, spec: { hostNetwork: true } };
    expect(dns.resolve("web", hostNet).rcode).toBe("NXDOMAIN");
  });

  it("bootstraps the kubernetes and kube-dns Services once, and resolves through the API alone", async () => {
    const { c } = await start();
    await bootstrapServices(c.api);
    await bootstrapServices(c.api);
    const kubernetes = await c.api.get({ apiVersion: "v1", kind: "Service", namespace: "default", name: "kubernetes" });
    const kubeDns = await c.api.get({ apiVersion: "v1", kind: "Service", namespace: "kube-system", name: "kube-dns" });
    expect(kubernetes.spec).toMatchObject({ clusterIP: "10.96.0.1", ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }] });
    expect(kubernetes.spec.selector).toBeUndefined();
    expect(kubeDns.spec).toMatchObject({ clusterIP: "10.96.0.10", selector: { "k8s-app": "kube-dns" } });
    expect(kubeDns.spec.ports.map((p: any) => `${p.name}:${p.port}/${p.protocol}`)).toEqual(["dns:53/UDP", "dns-tcp:53/TCP", "metrics:9153/TCP"]);

    const answer = await resolveThroughApi(c.api, "kubernetes.default");
    expect(answer).toMatchObject({ rcode: "NOERROR", name: "kubernetes.default.svc.cluster.local" });
    expect(data(answer)).toEqual(["10.96.0.1"]);
    expect(data(await resolveThroughApi(c.api, "kube-dns.kube-system.svc.cluster.local", "shop"))).toEqual(["10.96.0.10"]);
  });
});

/**
 * Cluster DNS, as CoreDNS's `kubernetes` plugin serves the Kubernetes DNS-Based Service Discovery
 * specification (kubernetes/dns `docs/specification.md`), with kubeadm's Corefile settings
 * (`cluster.local`, `pods insecure`, `ttl 30`):
 *
 * - `<svc>.<ns>.svc.cluster.local`: A = the ClusterIP; for a headless Service one A per ready
 *   endpoint (NXDOMAIN when none is ready); for an ExternalName Service a CNAME to its
 *   `externalName` (followed when it points back into the cluster domain).
 * - `<hostname>.<svc>.<ns>.svc.cluster.local` for each ready endpoint of a headless Service: the
 *   endpoint's `hostname` (a pod with `hostname` + `subdomain`, like StatefulSet pods
 *   `web-0.nginx.default.svc.cluster.local`), or its IP with dashes (`10-244-1-5`).
 * - `_<port>._<proto>.<svc>.<ns>.svc.cluster.local` SRV for each named port: the Service name and
 *   port, or, for a headless Service, each ready endpoint and its port. Priority 0, weight
 *   100/records (CoreDNS `calcSRVWeight`).
 * - `<a>-<b>-<c>-<d>.<ns>.pod.cluster.local` A (pods insecure: not checked against pods).
 * - PTR for ClusterIPs and headless endpoint IPs under `in-addr.arpa`.
 *
 * Short names resolve the way a pod's stub resolver does with the `resolv.conf` the kubelet
 * writes for `dnsPolicy: ClusterFirst`: `search <ns>.svc.cluster.local svc.cluster.local
 * cluster.local`, `options ndots:5`; names with fewer dots than ndots try the search list first.
 * Names outside the cluster domain would go to the node's upstream resolver, which the simulation
 * does not have: they are NXDOMAIN.
 *
 * The data comes from Services and EndpointSlices, read through informers (`clusterDNS`) or
 * straight from the API (`resolveThroughApi`). `bootstrapServices` creates the `kubernetes` and
 * `kube-dns` Services a kubeadm cluster starts with.
 */
import type { Client } from "../../api/client.js";
import { isReason } from "../../api/errors.js";
import type { Informer } from "../../api/informer.js";
import type { KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { LABEL_SERVICE_NAME } from "./_util.js";

/** Component name (the DNS server is CoreDNS in a kubeadm cluster). */
export const CLUSTER_DNS_NAME = "coredns";
/** `DefaultServiceDNSDomain`. */
export const CLUSTER_DOMAIN = "cluster.local";
/** Record TTL (kubeadm's Corefile sets `ttl 30`). */
export const DNS_TTL_SECONDS = 30;
/** ClusterIP of the `kube-dns` Service (kubeadm's default, 10th address of 10.96.0.0/12). */
export const KUBE_DNS_IP = "10.96.0.10";
/** ClusterIP of the `kubernetes` Service (first address of the service range). */
export const KUBERNETES_SERVICE_IP = "10.96.0.1";
/** `options ndots:5` in a ClusterFirst pod's resolv.conf. */
export const DEFAULT_NDOTS = 5;

/** Record types answered. */
export type DnsRecordType = "A" | "CNAME" | "SRV" | "PTR";

/** One resource record. */
export interface DnsRecord {
  /** Owner name, without the trailing dot. */
  readonly name: string;
  readonly type: DnsRecordType;
  readonly ttl: number;
  /** A: the IP; CNAME, PTR: the target name; SRV: the target host. */
  readonly data: string;
  /** SRV only. */
  readonly priority?: number;
  readonly weight?: number;
  readonly port?: number;
}

/** The answer to a query: NXDOMAIN, or NOERROR with records (none: the name exists, not with that type). */
export interface DnsAnswer {
  readonly rcode: "NOERROR" | "NXDOMAIN";
  /** The fully qualified name that answered (the last one tried when none did). */
  readonly name: string;
  readonly records: DnsRecord[];
  /** Every fully qualified name the resolver tried, in order. */
  readonly tried: string[];
}

/** What DNS reads: Services and their EndpointSlices. */
export interface DnsSource {
  service(namespace: string, name: string): KubeObject | undefined;
  services(namespace?: string): KubeObject[];
  endpointSlices(namespace: string, serviceName: string): KubeObject[];
}

/** Options of a lookup. */
export interface DnsOptions {
  /** Cluster domain (default `cluster.local`). */
  readonly domain?: string;
}

/** Who asks: a namespace (a ClusterFirst pod there) or the pod itself (its dnsPolicy and dnsConfig count). */
export type DnsClient = string | KubeObject;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function validIPv4(ip: string): boolean {
  const m = IPV4.exec(ip);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

function dashed(ip: string): string {
  return ip.replace(/[.:]/g, "-");
}

/** The resolver configuration a pod gets (`pkg/kubelet/network/dns`): search list and ndots; undefined when cluster DNS is not used. */
export function resolverConfig(client: DnsClient, domain = CLUSTER_DOMAIN): { search: string[]; ndots: number } | undefined {
  const pod = typeof client === "string" ? undefined : client;
  const namespace = typeof client === "string" ? client : (client.metadata.namespace ?? "default");
  const clusterSearch = [`${namespace}.svc.${domain}`, `svc.${domain}`, domain];
  if (!pod) return { search: clusterSearch, ndots: DEFAULT_NDOTS };
  let policy: string = pod.spec?.dnsPolicy ?? "ClusterFirst";
  // ClusterFirst falls back to Default for host-network pods; ClusterFirstWithHostNet does not.
  if (policy === "ClusterFirst" && pod.spec?.hostNetwork === true) policy = "Default";
  if (policy === "ClusterFirstWithHostNet") policy = "ClusterFirst";
  const dnsConfig = pod.spec?.dnsConfig ?? {};
  const extraSearch: string[] = Array.isArray(dnsConfig.searches) ? dnsConfig.searches : [];
  const ndotsOption = (Array.isArray(dnsConfig.options) ? dnsConfig.options : []).find((o: any) => o?.name === "ndots");
  const ndots = ndotsOption && /^\d+$/.test(String(ndotsOption.value ?? "")) ? Number(ndotsOption.value) : DEFAULT_NDOTS;
  if (policy === "Default") return undefined;
  if (policy === "None") {
    // Only what dnsConfig says; it reaches cluster DNS only if it lists it as a nameserver.
    const nameservers: string[] = Array.isArray(dnsConfig.nameservers) ? dnsConfig.nameservers : [];
    if (!nameservers.includes(KUBE_DNS_IP)) return undefined;
    return { search: extraSearch, ndots };
  }
  return { search: [...clusterSearch, ...extraSearch], ndots };
}

/**
 * The `/etc/resolv.conf` the kubelet writes for a ClusterFirst pod: the cluster DNS server, the
 * search list and `options ndots:5`.
 */
export function resolvConf(client: DnsClient, options: { domain?: string; nameserver?: string } = {}): string {
  const cfg = resolverConfig(client, options.domain ?? CLUSTER_DOMAIN);
  if (!cfg) return "";
  return `search ${cfg.search.join(" ")}\nnameserver ${options.nameserver ?? KUBE_DNS_IP}\noptions ndots:${cfg.ndots}\n`;
}

/** Ready endpoints of a Service, deduplicated by IP, with their hostname and ports. */
function readyEndpoints(source: DnsSource, svc: KubeObject): Array<{ ip: string; host: string; ports: any[] }> {
  const out: Array<{ ip: string; host: string; ports: any[] }> = [];
  const seen = new Set<string>();
  for (const slice of source.endpointSlices(svc.metadata.namespace ?? "default", svc.metadata.name ?? "")) {
    if ((slice.addressType ?? "IPv4") !== "IPv4") continue;
    const ports: any[] = Array.isArray(slice.ports) ? slice.ports : [];
    for (const ep of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      if (ep?.conditions?.ready === false) continue;
      for (const ip of Array.isArray(ep?.addresses) ? ep.addresses : []) {
        if (typeof ip !== "string" || seen.has(ip)) continue;
        seen.add(ip);
        out.push({ ip, host: typeof ep.hostname === "string" && ep.hostname ? ep.hostname : dashed(ip), ports });
      }
    }
  }
  return out;
}

function srvWeight(n: number): number {
  // calcSRVWeight: floor(100 / n), at least 1.
  return Math.max(1, Math.floor(100 / n));
}

/** Every record of one fully qualified name, or undefined when the name does not exist. */
function recordsOf(source: DnsSource, fqdn: string, domain: string, depth: number): DnsRecord[] | undefined {
  const ttl = DNS_TTL_SECONDS;
  if (fqdn.endsWith(".in-addr.arpa")) return reverse(source, fqdn, domain);
  if (fqdn === domain) return [];
  if (!fqdn.endsWith(`.${domain}`)) return undefined;
  const labels = fqdn.slice(0, -(domain.length + 1)).split(".");
  const kind = labels[labels.length - 1];
  if (kind === "pod") {
    if (labels.length === 1) return [];
    if (labels.length !== 3) return undefined;
    const ip = labels[0].replace(/-/g, ".");
    return validIPv4(ip) ? [{ name: fqdn, type: "A", ttl, data: ip }] : undefined;
  }
  if (kind !== "svc") return undefined;
  if (labels.length === 1) return [];
  const namespace = labels[labels.length - 2];
  if (labels.length === 2) return source.services(namespace).length > 0 ? [] : undefined;
  const svcName = labels[labels.length - 3];
  const svc = source.service(namespace, svcName);
  if (!svc) return undefined;
  const svcFqdn = `${svcName}.${namespace}.svc.${domain}`;
  const headless = svc.spec?.clusterIP === "None";
  const ports: any[] = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];

  if (labels.length === 3) {
    if (svc.spec?.type === "ExternalName") {
      const target = String(svc.spec.externalName ?? "").toLowerCase().replace(/\.$/, "");
      const out: DnsRecord[] = [{ name: fqdn, type: "CNAME", ttl, data: target }];
      // A CNAME into the cluster domain is followed; anything else needs the upstream resolver.
      if (depth < 8 && (target === domain || target.endsWith(`.${domain}`))) out.push(...(recordsOf(source, target, domain, depth + 1) ?? []));
      return out;
    }
    const out: DnsRecord[] = [];
    if (headless) {
      const eps = readyEndpoints(source, svc);
      if (eps.length === 0) return undefined; // spec 2.4.1: no ready endpoint, NXDOMAIN
      for (const ep of eps) out.push({ name: fqdn, type: "A", ttl, data: ep.ip });
      const srv: DnsRecord[] = [];
      for (const ep of eps) {
        for (const p of ep.ports) if (p?.name) srv.push({ name: fqdn, type: "SRV", ttl, data: `${ep.host}.${svcFqdn}`, priority: 0, weight: 0, port: p.port });
      }
      out.push(...srv.map((r) => ({ ...r, weight: srvWeight(srv.length) })));
    } else {
      if (svc.spec?.clusterIP) out.push({ name: fqdn, type: "A", ttl, data: svc.spec.clusterIP });
      const named = ports.filter((p) => p?.name);
      for (const p of named) out.push({ name: fqdn, type: "SRV", ttl, data: svcFqdn, priority: 0, weight: srvWeight(named.length), port: p.port });
    }
    return out;
  }
  if (labels.length === 4) {
    // <hostname>.<svc>.<ns>.svc: an endpoint of a headless Service.
    if (!headless) return undefined;
    const host = labels[0];
    const out = readyEndpoints(source, svc)
      .filter((ep) => ep.host.toLowerCase() === host)
      .map((ep): DnsRecord => ({ name: fqdn, type: "A", ttl, data: ep.ip }));
    return out.length > 0 ? out : undefined;
  }
  if (labels.length === 5 && labels[0].startsWith("_") && labels[1].startsWith("_")) {
    const portName = labels[0].slice(1);
    const proto = labels[1].slice(1);
    const sp = ports.find((p) => p?.name && String(p.name).toLowerCase() === portName && String(p.protocol ?? "TCP").toLowerCase() === proto);
    if (!sp) return undefined;
    if (!headless) return [{ name: fqdn, type: "SRV", ttl, data: svcFqdn, priority: 0, weight: 100, port: sp.port }];
    const eps = readyEndpoints(source, svc);
    const srv: DnsRecord[] = [];
    for (const ep of eps) {
      const p = ep.ports.find((x) => (x?.name ?? "") === sp.name && (x?.protocol ?? "TCP") === (sp.protocol ?? "TCP"));
      if (p) srv.push({ name: fqdn, type: "SRV", ttl, data: `${ep.host}.${svcFqdn}`, priority: 0, weight: 0, port: p.port });
    }
    if (srv.length === 0) return undefined;
    return srv.map((r) => ({ ...r, weight: srvWeight(srv.length) }));
  }
  return undefined;
}

/** PTR records of `d.c.b.a.in-addr.arpa`: a ClusterIP's Service, or a headless endpoint's name. */
function reverse(source: DnsSource, fqdn: string, domain: string): DnsRecord[] | undefined {
  const parts = fqdn.slice(0, -".in-addr.arpa".length).split(".");
  if (parts.length !== 4) return undefined;
  const ip = [...parts].reverse().join(".");
  if (!validIPv4(ip)) return undefined;
  const out: DnsRecord[] = [];
  for (const svc of source.services()) {
    const svcFqdn = `${svc.metadata.name}.${svc.metadata.namespace}.svc.${domain}`;
    if (svc.spec?.clusterIP === ip) out.push({ name: fqdn, type: "PTR", ttl: DNS_TTL_SECONDS, data: svcFqdn });
    else if (svc.spec?.clusterIP === "None") {
      for (const ep of readyEndpoints(source, svc)) if (ep.ip === ip) out.push({ name: fqdn, type: "PTR", ttl: DNS_TTL_SECONDS, data: `${ep.host}.${svcFqdn}` });
    }
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Answers one fully qualified name, as the DNS server does (no search list). An A query on an
 * ExternalName Service's name answers its CNAME.
 */
export function lookup(source: DnsSource, name: string, type: DnsRecordType = "A", options: DnsOptions = {}): { rcode: "NOERROR" | "NXDOMAIN"; records: DnsRecord[] } {
  const domain = (options.domain ?? CLUSTER_DOMAIN).toLowerCase();
  const fqdn = name.toLowerCase().replace(/\.$/, "");
  const all = recordsOf(source, fqdn, domain, 0);
  if (all === undefined) return { rcode: "NXDOMAIN", records: [] };
  const wanted = all.filter((r) => r.type === type || (type === "A" && r.type === "CNAME"));
  // Records of a followed CNAME belong to its target: keep them only with the CNAME.
  const records = type === "A" ? wanted : wanted.filter((r) => r.name === fqdn);
  return { rcode: "NOERROR", records };
}

/**
 * Resolves a name as a pod's stub resolver does (glibc `res_search` with the pod's search list
 * and ndots), asking the cluster DNS for each candidate until one has records.
 */
export function resolveName(source: DnsSource, name: string, from: DnsClient = "default", type: DnsRecordType = "A", options: DnsOptions = {}): DnsAnswer {
  const domain = options.domain ?? CLUSTER_DOMAIN;
  const trimmed = name.trim();
  if (trimmed === "") throw new Error("name: must not be empty (a DNS name such as web, web.default or web.default.svc.cluster.local)");
  const cfg = resolverConfig(from, domain);
  if (!cfg) {
    // dnsPolicy Default (or None without the cluster DNS server): the node's resolver knows no cluster names.
    const fqdn = trimmed.replace(/\.$/, "").toLowerCase();
    return { rcode: "NXDOMAIN", name: fqdn, records: [], tried: [fqdn] };
  }
  let candidates: string[];
  if (trimmed.endsWith(".")) {
    candidates = [trimmed.slice(0, -1)];
  } else {
    const dots = trimmed.split(".").length - 1;
    const searched = cfg.search.map((s) => `${trimmed}.${s}`);
    candidates = dots >= cfg.ndots ? [trimmed, ...searched] : [...searched, trimmed];
  }
  const tried: string[] = [];
  let nodata: string | undefined;
  for (const candidate of candidates) {
    const fqdn = candidate.toLowerCase();
    tried.push(fqdn);
    const r = lookup(source, fqdn, type, { domain });
    if (r.rcode === "NOERROR" && r.records.length > 0) return { rcode: "NOERROR", name: fqdn, records: r.records, tried };
    if (r.rcode === "NOERROR") nodata ??= fqdn;
  }
  if (nodata) return { rcode: "NOERROR", name: nodata, records: [], tried };
  return { rcode: "NXDOMAIN", name: tried[tried.length - 1], records: [], tried };
}

/** The cluster DNS server as a component. */
export interface ClusterDns extends Component {
  /** Resolves a (possibly short) name for a client in a namespace, or for a pod. */
  resolve(name: string, from?: DnsClient, type?: DnsRecordType): DnsAnswer;
  /** Answers one fully qualified name. */
  lookup(fqdn: string, type?: DnsRecordType): { rcode: "NOERROR" | "NXDOMAIN"; records: DnsRecord[] };
}

/** Builds the cluster DNS over the shared informers (Services and EndpointSlices). */
export function clusterDNS(ctx: ClusterContext, options: DnsOptions = {}): ClusterDns {
  let services: Informer | undefined;
  let slices: Informer | undefined;
  const source: DnsSource = {
    service: (ns, name) => services?.get(ns, name),
    services: (ns) => services?.list(ns) ?? [],
    endpointSlices: (ns, svc) => (slices?.withLabel(LABEL_SERVICE_NAME, svc) ?? []).filter((s) => s.metadata.namespace === ns),
  };
  return {
    name: CLUSTER_DNS_NAME,
    start() {
      services = ctx.informers.for("v1", "Service");
      slices = ctx.informers.for("discovery.k8s.io/v1", "EndpointSlice");
    },
    stop() {
      // Informers belong to the shared factory; nothing of our own runs.
    },
    resolve: (name, from = "default", type = "A") => resolveName(source, name, from, type, options),
    lookup: (fqdn, type = "A") => lookup(source, fqdn, type, options),
  };
}

/** A DnsSource over lists read from the API at once. */
async function apiSource(client: Client): Promise<DnsSource> {
  const [svcList, sliceList] = await Promise.all([
    client.list({ apiVersion: "v1", kind: "Service" }),
    client.list({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice" }),
  ]);
  const services = svcList.items;
  const slices = sliceList.items;
  return {
    service: (ns, name) => services.find((s) => s.metadata.namespace === ns && s.metadata.name === name),
    services: (ns) => (ns === undefined ? services : services.filter((s) => s.metadata.namespace === ns)),
    endpointSlices: (ns, svc) => slices.filter((s) => s.metadata.namespace === ns && s.metadata.labels?.[LABEL_SERVICE_NAME] === svc),
  };
}

/** Resolves a name reading Services and EndpointSlices straight from the API (for the CLI and checks). */
export async function resolveThroughApi(client: Client, name: string, from: DnsClient = "default", type: DnsRecordType = "A", options: DnsOptions = {}): Promise<DnsAnswer> {
  return resolveName(await apiSource(client), name, from, type, options);
}

/** The `kubernetes` Service in `default`, as the kube-apiserver creates it. */
export function kubernetesService(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "kubernetes", namespace: "default", labels: { component: "apiserver", provider: "kubernetes" } },
    spec: {
      type: "ClusterIP",
      clusterIP: KUBERNETES_SERVICE_IP,
      ports: [{ name: "https", port: 443, protocol: "TCP", targetPort: 6443 }],
      sessionAffinity: "None",
    },
  };
}

/** The `kube-dns` Service in `kube-system`, as kubeadm's CoreDNS addon creates it. */
export function kubeDnsService(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "kube-dns",
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS" },
      annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" },
    },
    spec: {
      type: "ClusterIP",
      clusterIP: KUBE_DNS_IP,
      selector: { "k8s-app": "kube-dns" },
      ports: [
        { name: "dns", port: 53, protocol: "UDP", targetPort: 53 },
        { name: "dns-tcp", port: 53, protocol: "TCP", targetPort: 53 },
        { name: "metrics", port: 9153, protocol: "TCP", targetPort: 9153 },
      ],
    },
  };
}

/**
 * Creates the Services every kubeadm cluster starts with, when absent: `default/kubernetes`
 * (10.96.0.1:443) and `kube-system/kube-dns` (10.96.0.10:53). Existing ones are left as they are,
 * so calling it again (or after a restart) changes nothing.
 */
export async function bootstrapServices(client: Client): Promise<void> {
  for (const svc of [kubernetesService(), kubeDnsService()]) {
    const ref = { apiVersion: "v1", kind: "Service", namespace: svc.metadata.namespace, name: svc.metadata.name ?? "" };
    try {
      await client.get(ref);
      continue;
    } catch (err) {
      if (!isReason(err, "NotFound")) throw err;
    }
    try {
      await client.create(svc);
    } catch (err) {
      if (!isReason(err, "AlreadyExists")) throw err;
    }
  }
}

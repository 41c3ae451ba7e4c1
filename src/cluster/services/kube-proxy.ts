/**
 * kube-proxy for the simulated cluster: where a connection to a Service ends up. It reads Services,
 * EndpointSlices and Nodes from informers, as kube-proxy does, and answers `resolve(destination,
 * port)` the way the rules it programs would route a new connection (`pkg/proxy/iptables`):
 *
 * - a ClusterIP (or an external IP, or a LoadBalancer ingress IP) and a service port go to one of
 *   the Service's ready endpoints, chosen uniformly at random (iptables `statistic --mode random`);
 *   `mode: "ipvs"` takes them round-robin instead (IPVS's default `rr` scheduler);
 * - any node's IP and a `nodePort` route the same way (`NodePort` and `LoadBalancer` Services);
 *   `externalTrafficPolicy: Local` only uses endpoints on that node, and drops the connection when
 *   there is none there; `internalTrafficPolicy: Local` does the same for in-cluster clients on a
 *   node (`fromNode`);
 * - with no ready endpoint, serving terminating endpoints are used (`ProxyTerminatingEndpoints`),
 *   and with none of those the connection is refused (the REJECT rule's "has no endpoints");
 * - `sessionAffinity: ClientIP` keeps a client on the endpoint it last reached while it keeps
 *   connecting within `timeoutSeconds` (default 10800 s), as the `recent` match does;
 * - ExternalName Services are DNS only, and a headless Service has no virtual IP: connecting to it
 *   by name reaches one of its ready pods directly, as a client would after a DNS lookup.
 *
 * A Service may also be named as `namespace/name` instead of its ClusterIP.
 */
import type { Informer } from "../../api/informer.js";
import type { KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { LABEL_SERVICE_NAME } from "./_util.js";

/** Component name (`kube-proxy`). */
export const KUBE_PROXY_NAME = "kube-proxy";

/** `sessionAffinityConfig.clientIP.timeoutSeconds` default (`DefaultClientIPServiceAffinitySeconds`). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

/** Options of the proxy. */
export interface KubeProxyOptions {
  /** `iptables` (default): random endpoint per connection; `ipvs`: round-robin. */
  readonly mode?: "iptables" | "ipvs";
  /** Uniform random numbers in [0, 1); defaults to the cluster's seeded source. */
  readonly random?: () => number;
}

/** Where and how a connection is made. */
export interface ResolveOptions {
  /** The client's IP: needed for `sessionAffinity: ClientIP`. */
  readonly clientIP?: string;
  /** The node the client runs on (for `internalTrafficPolicy: Local`). */
  readonly fromNode?: string;
  /** Protocol of the connection (default TCP). */
  readonly protocol?: "TCP" | "UDP" | "SCTP";
}

/** The connection reached a pod. */
export interface ProxyRoute {
  readonly ok: true;
  /** The Service, as `namespace/name`. */
  readonly service: string;
  /** The service port's name ("" when unnamed). */
  readonly portName: string;
  readonly podIP: string;
  /** The pod's port (the resolved targetPort). */
  readonly port: number;
  readonly podName?: string;
  readonly podNamespace?: string;
  readonly nodeName?: string;
}

/** The connection failed: refused (REJECT, no endpoints) or timed out (nothing routes it). */
export interface ProxyFailure {
  readonly ok: false;
  readonly code: "ECONNREFUSED" | "ETIMEDOUT";
  readonly message: string;
  /** The Service, when one matched. */
  readonly service?: string;
}

/** Result of {@link KubeProxy.resolve}. */
export type ProxyResult = ProxyRoute | ProxyFailure;

/** The running proxy. */
export interface KubeProxy extends Component {
  /**
   * Routes a new connection to `destination:port`. `destination` is a ClusterIP, an external or
   * load-balancer IP, a node IP (with a nodePort), or a Service as `namespace/name`.
   */
  resolve(destination: string, port: number, options?: ResolveOptions): ProxyResult;
}

/** Builds kube-proxy. */
export function kubeProxy(ctx: ClusterContext, options: KubeProxyOptions = {}): KubeProxy {
  return new ProxyRouter(ctx, options);
}

/** One endpoint of a service port, as kube-proxy sees it (`BaseEndpointInfo`). */
export interface ProxyBackend {
  readonly ip: string;
  readonly port: number;
  readonly nodeName?: string;
  readonly podName?: string;
  readonly podNamespace?: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
}

type Entry = "cluster" | "external" | "nodePort";

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * The endpoints of one service port, from the Service's EndpointSlices: a slice contributes when
 * it has a port with the service port's name and protocol; duplicates across slices count once.
 */
export function backendsFor(slices: readonly KubeObject[], servicePort: any): ProxyBackend[] {
  const name = servicePort?.name ?? "";
  const protocol = servicePort?.protocol ?? "TCP";
  const seen = new Set<string>();
  const out: ProxyBackend[] = [];
  for (const slice of slices) {
    const ports: any[] = Array.isArray(slice.ports) ? slice.ports : [];
    const p = ports.find((x) => (x?.name ?? "") === name && (x?.protocol ?? "TCP") === protocol);
    if (!p || typeof p.port !== "number") continue;
    for (const ep of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const ip = ep?.addresses?.[0];
      if (typeof ip !== "string") continue;
      const key = `${ip}:${p.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      // Absent conditions mean ready (and serving), as the API documents.
      const ready = ep.conditions?.ready !== false;
      out.push({
        ip,
        port: p.port,
        nodeName: ep.nodeName,
        podName: ep.targetRef?.kind === "Pod" ? ep.targetRef.name : undefined,
        podNamespace: ep.targetRef?.kind === "Pod" ? ep.targetRef.namespace : undefined,
        ready,
        serving: ep.conditions?.serving ?? ready,
        terminating: ep.conditions?.terminating === true,
      });
    }
  }
  // Rule order is endpoint order; sorted so the same cluster gives the same picks.
  return out.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : a.port - b.port));
}

/** `CategorizeEndpoints` for one policy: ready ones, else serving terminating ones. */
function usable(backends: readonly ProxyBackend[], localNode: string | undefined): ProxyBackend[] {
  const scoped = localNode === undefined ? backends : backends.filter((b) => b.nodeName === localNode);
  const ready = scoped.filter((b) => b.ready);
  if (ready.length > 0) return ready;
  return scoped.filter((b) => b.serving && b.terminating);
}

class ProxyRouter implements KubeProxy {
  readonly name = KUBE_PROXY_NAME;
  private readonly random: () => number;
  private services!: Informer;
  private slices!: Informer;
  private nodes!: Informer;
  /** ClientIP affinity: service port -> client IP -> endpoint and last use. */
  private readonly affinity = new Map<string, Map<string, { ip: string; port: number; lastMs: number }>>();
  /** IPVS round-robin position per service port. */
  private readonly rr = new Map<string, number>();

  constructor(
    private readonly ctx: ClusterContext,
    private readonly options: KubeProxyOptions,
  ) {
    this.random = options.random ?? ctx.random;
  }

  start(): void {
    const f = this.ctx.informers;
    this.services = f.for("v1", "Service");
    this.slices = f.for("discovery.k8s.io/v1", "EndpointSlice");
    this.nodes = f.for("v1", "Node");
    // A deleted Service takes its affinity table with it.
    this.services.addHandlers({
      delete: (svc) => {
        const prefix = `${svc.metadata.namespace}/${svc.metadata.name}:`;
        for (const key of [...this.affinity.keys()]) if (key.startsWith(prefix)) this.affinity.delete(key);
      },
    });
  }

  stop(): void {
    this.affinity.clear();
    this.rr.clear();
  }

  resolve(destination: string, port: number, options: ResolveOptions = {}): ProxyResult {
    const protocol = options.protocol ?? "TCP";
    if (!this.services) return { ok: false, code: "ETIMEDOUT", message: "kube-proxy is not running" };
    if (destination.includes("/")) return this.resolveByName(destination, port, protocol, options);
    if (!IPV4.test(destination)) {
      return { ok: false, code: "ETIMEDOUT", message: `${destination}: not an IP address; resolve DNS names first, or name the Service as namespace/name` };
    }
    const target = `${destination}:${port}/${protocol}`;
    let matchedIP: KubeObject | undefined;
    for (const svc of this.services.list()) {
      const spec = svc.spec ?? {};
      if (spec.type === "ExternalName") continue;
      const clusterIPs: string[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
      const externalIPs: string[] = [
        ...(Array.isArray(spec.externalIPs) ? spec.externalIPs : []),
        ...(spec.type === "LoadBalancer" ? ((svc.status?.loadBalancer?.ingress ?? []) as any[]).map((i) => i?.ip).filter((ip: unknown) => typeof ip === "string") : []),
      ];
      const entry: Entry | undefined = clusterIPs.includes(destination) ? "cluster" : externalIPs.includes(destination) ? "external" : undefined;
      if (!entry) continue;
      matchedIP = svc;
      const sp = this.servicePort(svc, (p) => p.port === port && (p.protocol ?? "TCP") === protocol);
      if (sp) return this.route(svc, sp, entry, undefined, options);
    }
    if (matchedIP) {
      return { ok: false, code: "ETIMEDOUT", message: `connection to ${target} timed out: service "${key(matchedIP)}" has no port ${port}/${protocol}`, service: key(matchedIP) };
    }
    const node = this.nodeWithIP(destination);
    if (node) {
      for (const svc of this.services.list()) {
        const type = svc.spec?.type;
        if (type !== "NodePort" && type !== "LoadBalancer") continue;
        const sp = this.servicePort(svc, (p) => p.nodePort === port && (p.protocol ?? "TCP") === protocol);
        if (sp) return this.route(svc, sp, "nodePort", node, options);
      }
      return { ok: false, code: "ECONNREFUSED", message: `connection to ${target} refused: nothing listens on node ${node} port ${port}` };
    }
    return { ok: false, code: "ETIMEDOUT", message: `connection to ${target} timed out: no Service or node answers at ${destination}` };
  }

  private resolveByName(name: string, port: number, protocol: string, options: ResolveOptions): ProxyResult {
    const svc = this.services.getByKey(name);
    if (!svc) return { ok: false, code: "ETIMEDOUT", message: `service "${name}" not found` };
    if (svc.spec?.type === "ExternalName") {
      return { ok: false, code: "ETIMEDOUT", message: `service "${name}" is an ExternalName for ${svc.spec.externalName}: it is resolved by DNS, not proxied`, service: name };
    }
    if (svc.spec?.clusterIP === "None") return this.routeHeadless(svc, port);
    const sp = this.servicePort(svc, (p) => p.port === port && (p.protocol ?? "TCP") === protocol);
    if (!sp) return { ok: false, code: "ETIMEDOUT", message: `service "${name}" has no port ${port}/${protocol}`, service: name };
    return this.route(svc, sp, "cluster", undefined, options);
  }

  private servicePort(svc: KubeObject, match: (p: any) => boolean): any {
    const ports: any[] = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
    return ports.find(match);
  }

  private nodeWithIP(ip: string): string | undefined {
    for (const n of this.nodes.list()) {
      const addresses: any[] = Array.isArray(n.status?.addresses) ? n.status.addresses : [];
      if (addresses.some((a) => (a?.type === "InternalIP" || a?.type === "ExternalIP") && a.address === ip)) return n.metadata.name;
    }
    return undefined;
  }

  private slicesOf(svc: KubeObject): KubeObject[] {
    return this.slices.withLabel(LABEL_SERVICE_NAME, svc.metadata.name ?? "").filter((s) => s.metadata.namespace === svc.metadata.namespace && (s.addressType ?? "IPv4") === "IPv4");
  }

  private route(svc: KubeObject, sp: any, entry: Entry, viaNode: string | undefined, options: ResolveOptions): ProxyResult {
    const name = key(svc);
    const all = backendsFor(this.slicesOf(svc), sp);
    // Traffic policies: external traffic (node ports, external and LB IPs) and in-cluster traffic.
    let local: string | undefined;
    if (entry !== "cluster" && svc.spec?.externalTrafficPolicy === "Local") {
      // Through a node port only that node's endpoints count; a load balancer only sends to nodes with some.
      local = entry === "nodePort" ? viaNode : undefined;
    } else if (entry === "cluster" && svc.spec?.internalTrafficPolicy === "Local" && options.fromNode !== undefined) {
      local = options.fromNode;
    }
    const candidates = usable(all, local);
    const portLabel = sp.name ? `${name}:${sp.name}` : name;
    if (candidates.length === 0) {
      if (local !== undefined && usable(all, undefined).length > 0) {
        // The DROP rule for "has no local endpoints": the packet vanishes.
        return { ok: false, code: "ETIMEDOUT", message: `connection timed out: service "${portLabel}" has no local endpoints on node ${local}`, service: name };
      }
      return { ok: false, code: "ECONNREFUSED", message: `no endpoints available for service "${name}"`, service: name };
    }
    const chosen = this.pick(svc, sp, candidates, options.clientIP);
    return {
      ok: true,
      service: name,
      portName: sp.name ?? "",
      podIP: chosen.ip,
      port: chosen.port,
      ...(chosen.podName ? { podName: chosen.podName } : {}),
      ...(chosen.podNamespace ? { podNamespace: chosen.podNamespace } : {}),
      ...(chosen.nodeName ? { nodeName: chosen.nodeName } : {}),
    };
  }

  /** A headless Service: the client dialled one of the pod IPs DNS returned. */
  private routeHeadless(svc: KubeObject, port: number): ProxyResult {
    const name = key(svc);
    const seen = new Set<string>();
    const pods: ProxyBackend[] = [];
    for (const slice of this.slicesOf(svc)) {
      for (const ep of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
        const ip = ep?.addresses?.[0];
        if (typeof ip !== "string" || seen.has(ip) || ep.conditions?.ready === false) continue;
        seen.add(ip);
        pods.push({ ip, port, nodeName: ep.nodeName, podName: ep.targetRef?.name, podNamespace: ep.targetRef?.namespace, ready: true, serving: true, terminating: false });
      }
    }
    if (pods.length === 0) return { ok: false, code: "ETIMEDOUT", message: `headless service "${name}" has no ready pods: its DNS name does not resolve`, service: name };
    pods.sort((a, b) => (a.ip < b.ip ? -1 : 1));
    const chosen = pods[Math.floor(this.random() * pods.length)];
    return {
      ok: true,
      service: name,
      portName: "",
      podIP: chosen.ip,
      port,
      ...(chosen.podName ? { podName: chosen.podName } : {}),
      ...(chosen.podNamespace ? { podNamespace: chosen.podNamespace } : {}),
      ...(chosen.nodeName ? { nodeName: chosen.nodeName } : {}),
    };
  }

  private pick(svc: KubeObject, sp: any, candidates: readonly ProxyBackend[], clientIP: string | undefined): ProxyBackend {
    const spKey = `${key(svc)}:${sp.name ?? ""}/${sp.protocol ?? "TCP"}`;
    const now = this.ctx.clock.now();
    const sticky = svc.spec?.sessionAffinity === "ClientIP" && clientIP !== undefined;
    if (sticky) {
      const timeout = (svc.spec?.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS) * 1000;
      const table = this.affinity.get(spKey);
      const entry = table?.get(clientIP);
      if (entry && now - entry.lastMs <= timeout) {
        const same = candidates.find((c) => c.ip === entry.ip && c.port === entry.port);
        if (same) {
          entry.lastMs = now;
          return same;
        }
      }
    }
    let chosen: ProxyBackend;
    if (this.options.mode === "ipvs") {
      const i = this.rr.get(spKey) ?? 0;
      chosen = candidates[i % candidates.length];
      this.rr.set(spKey, (i + 1) % candidates.length);
    } else {
      chosen = candidates[Math.floor(this.random() * candidates.length)];
    }
    if (sticky) {
      let table = this.affinity.get(spKey);
      if (!table) this.affinity.set(spKey, (table = new Map()));
      table.set(clientIP, { ip: chosen.ip, port: chosen.port, lastMs: now });
    }
    return chosen;
  }
}

function key(svc: KubeObject): string {
  return `${svc.metadata.namespace}/${svc.metadata.name}`;
}

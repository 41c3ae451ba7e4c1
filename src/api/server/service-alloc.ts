/**
 * ClusterIP and NodePort allocation, done by the kube-apiserver when a Service is created
 * (`pkg/registry/core/service/ipallocator`, `portallocator`). Ranges are kubeadm's defaults:
 * service CIDR 10.96.0.0/12 (10.96.0.1 is the `kubernetes` Service, 10.96.0.10 cluster DNS) and
 * node ports 30000-32767 (`--service-node-port-range`). Allocation is random within the range,
 * from the injected random source, so a run is reproducible.
 */
import type { StatusCause } from "../types.js";

const CIDR_BASE = (10 << 24) | (96 << 16); // 10.96.0.0
const CIDR_BITS = 12;
const CIDR_SIZE = 2 ** (32 - CIDR_BITS); // 1,048,576 addresses
export const SERVICE_CIDR = "10.96.0.0/12";
export const NODE_PORT_MIN = 30000;
export const NODE_PORT_MAX = 32767;

function ipToInt(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Tracks allocated cluster IPs and node ports. */
export class ServiceAllocator {
  private readonly ips = new Set<number>();
  private readonly ports = new Set<number>();

  constructor(private readonly random: () => number) {}

  /** Marks the addresses of an existing Service as taken (used when loading state). */
  reserveExisting(spec: any): void {
    const ip = typeof spec?.clusterIP === "string" ? ipToInt(spec.clusterIP) : undefined;
    if (ip !== undefined) this.ips.add(ip);
    for (const p of spec?.ports ?? []) if (typeof p?.nodePort === "number") this.ports.add(p.nodePort);
  }

  /** Frees the addresses of a deleted Service. */
  release(spec: any): void {
    const ip = typeof spec?.clusterIP === "string" ? ipToInt(spec.clusterIP) : undefined;
    if (ip !== undefined) this.ips.delete(ip);
    for (const p of spec?.ports ?? []) if (typeof p?.nodePort === "number") this.ports.delete(p.nodePort);
  }

  /**
   * Fills in `clusterIP`/`clusterIPs` and node ports for a new Service spec (mutating `spec`), or
   * returns the causes of a refusal. With `dryRun`, nothing is reserved.
   * @param old the previous spec on update: its allocations carry over.
   */
  allocate(spec: any, dryRun: boolean, old?: any): StatusCause[] {
    const causes: StatusCause[] = [];
    const takenIps: number[] = [];
    const takenPorts: number[] = [];
    const type = spec.type ?? "ClusterIP";

    if (type !== "ExternalName") {
      const requested = spec.clusterIP;
      if (requested === undefined || requested === "") {
        if (old?.clusterIP && old.clusterIP !== "None") spec.clusterIP = old.clusterIP;
        else {
          const ip = this.pickIp();
          if (ip === undefined) causes.push({ reason: "FieldValueInvalid", field: "spec.clusterIPs", message: "Internal error: range is full" });
          else {
            takenIps.push(ip);
            spec.clusterIP = intToIp(ip);
          }
        }
      } else if (requested !== "None" && requested !== old?.clusterIP) {
        const ip = ipToInt(requested);
        if (ip === undefined) {
          causes.push({ reason: "FieldValueInvalid", field: "spec.clusterIPs[0]", message: `Invalid value: "${requested}": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)` });
        } else if (ip < CIDR_BASE || ip >= CIDR_BASE + CIDR_SIZE) {
          causes.push({
            reason: "FieldValueInvalid",
            field: "spec.clusterIPs",
            message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${SERVICE_CIDR}`,
          });
        } else if (this.ips.has(ip)) {
          causes.push({
            reason: "FieldValueInvalid",
            field: "spec.clusterIPs",
            message: `Invalid value: []string{"${requested}"}: failed to allocate IP ${requested}: provided IP is already allocated`,
          });
        } else takenIps.push(ip);
      }
      if (spec.clusterIP) spec.clusterIPs = [spec.clusterIP];
    }

    if (type === "NodePort" || (type === "LoadBalancer" && spec.allocateLoadBalancerNodePorts !== false)) {
      const oldPorts = new Set<number>((old?.ports ?? []).map((p: any) => p?.nodePort).filter((n: unknown) => typeof n === "number"));
      (spec.ports ?? []).forEach((port: any, i: number) => {
        if (port.nodePort === undefined || port.nodePort === 0) {
          const reuse = (old?.ports ?? []).find((p: any) => p?.port === port.port && p?.protocol === port.protocol)?.nodePort;
          if (typeof reuse === "number") {
            port.nodePort = reuse;
            return;
          }
          const n = this.pickPort(takenPorts);
          if (n === undefined) causes.push({ reason: "FieldValueInvalid", field: `spec.ports[${i}].nodePort`, message: "Internal error: range is full" });
          else {
            takenPorts.push(n);
            port.nodePort = n;
          }
        } else if (!oldPorts.has(port.nodePort)) {
          const n = port.nodePort;
          if (n < NODE_PORT_MIN || n > NODE_PORT_MAX) {
            causes.push({
              reason: "FieldValueInvalid",
              field: `spec.ports[${i}].nodePort`,
              message: `Invalid value: ${n}: provided port is not in the valid range. The range of valid ports is ${NODE_PORT_MIN}-${NODE_PORT_MAX}`,
            });
          } else if (this.ports.has(n) || takenPorts.includes(n)) {
            causes.push({ reason: "FieldValueInvalid", field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${n}: provided port is already allocated` });
          } else takenPorts.push(n);
        }
      });
    }

    if (causes.length === 0 && !dryRun) {
      for (const ip of takenIps) this.ips.add(ip);
      for (const p of takenPorts) this.ports.add(p);
    }
    return causes;
  }

  private pickIp(): number | undefined {
    // Skip the network address, .1 (the kubernetes Service) and the broadcast address.
    const usable = CIDR_SIZE - 3;
    if (this.ips.size >= usable) return undefined;
    for (;;) {
      const ip = CIDR_BASE + 2 + Math.floor(this.random() * usable);
      if (!this.ips.has(ip) && ip !== CIDR_BASE + 10) return ip; // .10 is kept for cluster DNS
    }
  }

  private pickPort(alsoTaken: number[]): number | undefined {
    const size = NODE_PORT_MAX - NODE_PORT_MIN + 1;
    if (this.ports.size + alsoTaken.length >= size) return undefined;
    for (;;) {
      const n = NODE_PORT_MIN + Math.floor(this.random() * size);
      if (!this.ports.has(n) && !alsoTaken.includes(n)) return n;
    }
  }
}

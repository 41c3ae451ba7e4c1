/**
 * Per-node aggregate the scheduler filters and scores against (upstream `framework.NodeInfo`):
 * the node's labels, taints and allocatable, the pods bound to it, their summed requests (real and
 * non-zero), the host ports they hold and the images the node reports. Kept up to date
 * incrementally by the snapshot as pods come and go.
 */

import type { KubeObject } from "../../api/types.js";
import { nodeAllocatable, type Resources } from "./_resources.js";
import type { Taint } from "./_taints.js";
import type { HostPort, PodInfo } from "./podinfo.js";

const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const NO_TAINTS: readonly Taint[] = Object.freeze([]) as readonly Taint[];

/** A node plus what is bound to it. */
export class NodeInfo {
  /** The Node object; null for a "ghost" entry whose node was deleted while pods still point at it. */
  node: KubeObject | null = null;
  /** Position in the snapshot's per-node arrays (stable while the node exists). */
  slot = -1;
  labels: Readonly<Record<string, string>> = EMPTY_LABELS;
  taints: readonly Taint[] = NO_TAINTS;
  /** `spec.unschedulable` (cordon). */
  unschedulable = false;
  allocatable: Resources = { milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: null };
  /** `status.allocatable.pods`. */
  allowedPodNumber = 0;
  /** Sum of the bound pods' requests. */
  readonly requested: Resources = { milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: null };
  /** Sum of the bound pods' cpu requests with the 100m default per container that sets none. */
  nonZeroMilliCPU = 0;
  /** Sum of the bound pods' memory requests with the 200Mi default. */
  nonZeroMemory = 0;
  /** Bound pods, in the order they were added. */
  readonly pods: PodInfo[] = [];
  /** Bound pods that declare pod affinity or anti-affinity. */
  readonly podsWithAffinity: PodInfo[] = [];
  /** Bound pods with required anti-affinity terms. */
  readonly podsWithRequiredAntiAffinity: PodInfo[] = [];
  /** Host ports in use: `protocol/port` -> host IP -> number of users. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  /** Image name -> size in bytes, from `status.images`. */
  imageSizes: ReadonlyMap<string, number> = new Map();
  /** Bumped on every change; lets callers notice a stale view. */
  generation = 0;

  constructor(readonly name: string) {}

  /** Takes the node's scheduling-relevant fields. Throws naming the field when allocatable holds a malformed quantity. */
  setNode(node: KubeObject): void {
    this.node = node;
    this.labels = node.metadata?.labels ?? EMPTY_LABELS;
    this.taints = Array.isArray(node.spec?.taints) ? node.spec.taints : NO_TAINTS;
    this.unschedulable = node.spec?.unschedulable === true;
    const alloc = nodeAllocatable(node.status, this.name);
    this.allocatable = alloc.resources;
    this.allowedPodNumber = alloc.pods;
    const sizes = new Map<string, number>();
    for (const image of node.status?.images ?? []) {
      const size = Number(image?.sizeBytes ?? 0);
      for (const n of image?.names ?? []) sizes.set(String(n), size);
    }
    this.imageSizes = sizes;
    this.generation++;
  }

  /** Adds a bound pod's requests, ports and affinity bookkeeping (`NodeInfo.AddPodInfo`). */
  addPod(p: PodInfo): void {
    this.pods.push(p);
    if (p.hasAffinity) this.podsWithAffinity.push(p);
    if (p.hasRequiredAntiAffinity) this.podsWithRequiredAntiAffinity.push(p);
    this.account(p, 1);
    this.generation++;
  }

  /** Removes a pod by key; returns it, or undefined when it was not here (`NodeInfo.RemovePod`). */
  removePod(key: string): PodInfo | undefined {
    const i = this.pods.findIndex((p) => p.key === key);
    if (i < 0) return undefined;
    const p = this.pods[i];
    this.pods.splice(i, 1);
    if (p.hasAffinity) removeByKey(this.podsWithAffinity, key);
    if (p.hasRequiredAntiAffinity) removeByKey(this.podsWithRequiredAntiAffinity, key);
    this.account(p, -1);
    this.generation++;
    return p;
  }

  private account(p: PodInfo, sign: 1 | -1): void {
    const r = p.requests;
    this.requested.milliCPU += sign * r.milliCPU;
    this.requested.memory += sign * r.memory;
    this.requested.ephemeralStorage += sign * r.ephemeralStorage;
    if (r.scalar) {
      const s = (this.requested.scalar ??= {});
      for (const name of Object.keys(r.scalar)) s[name] = (s[name] ?? 0) + sign * r.scalar[name];
    }
    this.nonZeroMilliCPU += sign * p.nonZeroMilliCPU;
    this.nonZeroMemory += sign * p.nonZeroMemory;
    for (const hp of p.hostPorts) this.updatePort(hp, sign);
  }

  private updatePort(hp: HostPort, sign: 1 | -1): void {
    const pp = `${hp.protocol}/${hp.port}`;
    let byIp = this.usedPorts.get(pp);
    if (!byIp) {
      if (sign < 0) return;
      byIp = new Map();
      this.usedPorts.set(pp, byIp);
    }
    const n = (byIp.get(hp.ip) ?? 0) + sign;
    if (n > 0) byIp.set(hp.ip, n);
    else byIp.delete(hp.ip);
    if (byIp.size === 0) this.usedPorts.delete(pp);
  }

  /**
   * `HostPortInfo.CheckConflict`: 0.0.0.0 conflicts with the same protocol/port on any IP; a
   * specific IP conflicts with itself and with 0.0.0.0.
   */
  portConflicts(hp: HostPort): boolean {
    const byIp = this.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!byIp) return false;
    if (hp.ip === "0.0.0.0") return byIp.size > 0;
    return byIp.has("0.0.0.0") || byIp.has(hp.ip);
  }

  /** A copy whose pod list and sums can change without touching this one (`NodeInfo.Snapshot`), for preemption dry runs. */
  clone(): NodeInfo {
    const c = new NodeInfo(this.name);
    c.node = this.node;
    c.slot = this.slot;
    c.labels = this.labels;
    c.taints = this.taints;
    c.unschedulable = this.unschedulable;
    c.allocatable = this.allocatable;
    c.allowedPodNumber = this.allowedPodNumber;
    c.requested.milliCPU = this.requested.milliCPU;
    c.requested.memory = this.requested.memory;
    c.requested.ephemeralStorage = this.requested.ephemeralStorage;
    c.requested.scalar = this.requested.scalar ? { ...this.requested.scalar } : null;
    c.nonZeroMilliCPU = this.nonZeroMilliCPU;
    c.nonZeroMemory = this.nonZeroMemory;
    c.pods.push(...this.pods);
    c.podsWithAffinity.push(...this.podsWithAffinity);
    c.podsWithRequiredAntiAffinity.push(...this.podsWithRequiredAntiAffinity);
    for (const [pp, byIp] of this.usedPorts) c.usedPorts.set(pp, new Map(byIp));
    c.imageSizes = this.imageSizes;
    c.generation = this.generation;
    return c;
  }
}

function removeByKey(list: PodInfo[], key: string): void {
  const i = list.findIndex((p) => p.key === key);
  if (i >= 0) list.splice(i, 1);
}

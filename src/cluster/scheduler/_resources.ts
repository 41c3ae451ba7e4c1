/**
 * Pod resource requests as the scheduler counts them: component-helpers `resource.PodRequests`
 * (sum of containers, init containers as a running maximum with restartable "sidecar" init
 * containers added on top, pod-level requests overriding, overhead added) and scheduler
 * `Resource.Add` (cpu in millicores rounded up, everything else in whole units rounded up).
 */

import { milliValue, intValue, parseQuantity } from "../../api/quantity.js";

/** Requests (or allocatable) of one pod or node, in scheduler units. */
export interface Resources {
  /** CPU in millicores. */
  milliCPU: number;
  /** Memory in bytes. */
  memory: number;
  /** Ephemeral storage in bytes. */
  ephemeralStorage: number;
  /** Extended, hugepages and attachable-volume resources, by name; null when none. */
  scalar: Record<string, number> | null;
}

/** Default cpu request assumed for scoring when a container sets none (`schedutil.DefaultMilliCPURequest`). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** Default memory request assumed for scoring when a container sets none (`schedutil.DefaultMemoryRequest`, 200 MiB). */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

/** `schedutil.IsScalarResourceName`: extended (domain-qualified), hugepages-* and attachable-volumes-* resources. */
export function isScalarResourceName(name: string): boolean {
  return name.includes("/") || name.startsWith("hugepages-") || name.startsWith("attachable-volumes-");
}

type RawList = Map<string, number>;

const quantityCache = new Map<string, number>();

/** parseQuantity with a cache: manifests repeat the same few quantities ("100m", "128Mi"). */
function quantity(v: unknown, field: string): number {
  if (typeof v === "number") return parseQuantity(v);
  const text = String(v);
  let n = quantityCache.get(text);
  if (n === undefined) {
    try {
      n = parseQuantity(text);
    } catch (err) {
      throw new Error(`${field}: ${(err as Error).message}`);
    }
    if (quantityCache.size > 10_000) quantityCache.clear();
    quantityCache.set(text, n);
  }
  return n;
}

function parseList(list: Record<string, unknown> | undefined, field: string): RawList {
  const out: RawList = new Map();
  if (!list) return out;
  for (const name of Object.keys(list)) out.set(name, quantity(list[name], `${field}.${name}`));
  return out;
}

function addInto(into: RawList, list: RawList): void {
  for (const [name, v] of list) into.set(name, (into.get(name) ?? 0) + v);
}

function maxList(into: RawList, list: RawList): void {
  for (const [name, v] of list) if (v > (into.get(name) ?? 0)) into.set(name, v);
}

const DEFAULT_CPU_CORES = DEFAULT_MILLI_CPU_REQUEST / 1000;

function withDefaults(list: RawList, nonMissing: boolean): RawList {
  if (!nonMissing || (list.has("cpu") && list.has("memory"))) return list;
  // applyNonMissing: a container that sets no cpu (memory) request counts the default for scoring.
  const out = new Map(list);
  if (!out.has("cpu")) out.set("cpu", DEFAULT_CPU_CORES);
  if (!out.has("memory")) out.set("memory", DEFAULT_MEMORY_REQUEST);
  return out;
}

function aggregate(containers: RawList[], inits: Array<{ list: RawList; sidecar: boolean }>, podLevel: RawList, overhead: RawList, nonMissing: boolean): RawList {
  const reqs: RawList = new Map();
  for (const c of containers) addInto(reqs, withDefaults(c, nonMissing));
  if (inits.length > 0) {
    const restartable: RawList = new Map();
    const initMax: RawList = new Map();
    for (const ic of inits) {
      const own = withDefaults(ic.list, nonMissing);
      let effective: RawList;
      if (ic.sidecar) {
        // Sidecars keep running: they add to the pod total and to every later init container.
        addInto(reqs, own);
        addInto(restartable, own);
        effective = new Map(restartable);
      } else {
        effective = new Map(own);
        addInto(effective, restartable);
      }
      maxList(initMax, effective);
    }
    maxList(reqs, initMax);
  }
  // Pod-level requests (spec.resources) override the container sum for cpu and memory.
  for (const name of ["cpu", "memory"]) if (podLevel.has(name)) reqs.set(name, podLevel.get(name)!);
  addInto(reqs, overhead);
  return reqs;
}

/** What the scheduler keeps of a pod's requests. */
export interface PodResources {
  /** Real requests (filter, NodeInfo.Requested, BalancedAllocation). */
  readonly requests: Resources;
  /** cpu with 100m per container that sets none (NodeInfo.NonZeroRequested, Least/MostAllocated). */
  readonly nonZeroMilliCPU: number;
  /** memory with 200Mi per container that sets none. */
  readonly nonZeroMemory: number;
}

/**
 * The pod's aggregated requests, real and with the scoring defaults, from one parse of the spec.
 * Throws naming the field when a quantity is malformed.
 */
export function podResources(spec: any): PodResources {
  const containers: RawList[] = (spec?.containers ?? []).map((c: any, i: number) => parseList(c?.resources?.requests, `spec.containers[${i}].resources.requests`));
  const inits = (spec?.initContainers ?? []).map((c: any, i: number) => ({
    list: parseList(c?.resources?.requests, `spec.initContainers[${i}].resources.requests`),
    sidecar: c?.restartPolicy === "Always",
  }));
  const podLevel = parseList(spec?.resources?.requests, "spec.resources.requests");
  const overhead = parseList(spec?.overhead, "spec.overhead");
  const requests = toResources(aggregate(containers, inits, podLevel, overhead, false));
  const nonZero = toResources(aggregate(containers, inits, podLevel, overhead, true));
  return { requests, nonZeroMilliCPU: nonZero.milliCPU, nonZeroMemory: nonZero.memory };
}

/** The pod's aggregated requests; with `nonMissing`, the scoring variant (100m / 200Mi per container that sets none). */
export function podRequests(spec: any, nonMissing = false): Resources {
  const r = podResources(spec);
  return nonMissing ? { ...r.requests, milliCPU: r.nonZeroMilliCPU, memory: r.nonZeroMemory } : r.requests;
}

function toResources(list: RawList): Resources {
  const r: Resources = { milliCPU: 0, memory: 0, ephemeralStorage: 0, scalar: null };
  for (const [name, v] of list) {
    if (name === "cpu") r.milliCPU = milliValue(v);
    else if (name === "memory") r.memory = intValue(v);
    else if (name === "ephemeral-storage") r.ephemeralStorage = intValue(v);
    else if (isScalarResourceName(name)) (r.scalar ??= {})[name] = intValue(v);
  }
  return r;
}

/** Node allocatable as scheduler units, plus the `pods` count. Falls back to capacity as the API server's node defaulting does. */
export function nodeAllocatable(status: any, name: string): { resources: Resources; pods: number } {
  const list: Record<string, unknown> | undefined = status?.allocatable ?? status?.capacity;
  const raw = parseList(list, `node ${name} status.allocatable`);
  const pods = raw.has("pods") ? intValue(raw.get("pods")!) : 0;
  return { resources: toResources(raw), pods };
}

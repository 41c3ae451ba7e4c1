/**
 * The EndpointSlice controller of the kube-controller-manager (`pkg/controller/endpointslice`,
 * reconciler in `k8s.io/endpointslice`): for every Service with a selector it keeps
 * `discovery.k8s.io/v1` EndpointSlices named `<service>-<5 random>` (generateName), labelled
 * `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by:
 * endpointslice-controller.k8s.io`, owned by the Service, holding at most 100 endpoints each.
 *
 * Each endpoint carries the pod's addresses, `conditions {ready, serving, terminating}`,
 * `nodeName`, `zone` (the node's `topology.kubernetes.io/zone` label), `targetRef`, and `hostname`
 * when the pod's hostname/subdomain name it in a headless Service. Terminating pods stay, with
 * `ready: false`, `terminating: true` and `serving` = their readiness; with
 * `publishNotReadyAddresses` every endpoint is ready. Pods whose named target ports resolve to
 * different numbers go to different slices (one set of slices per distinct port list).
 *
 * The reconciler keeps churn low as upstream's does: endpoints stay in the slice they are in,
 * changed slices are filled up first, leftover endpoints go into the unchanged slice that ends up
 * fullest, and only then into new slices; a slice about to be deleted is reused instead of
 * creating one. A Service with no endpoints keeps one empty placeholder slice.
 *
 * Deviation: endpoints new to a slice are appended in pod name order (upstream takes them from a
 * hash set in no particular order), so runs are reproducible.
 */
import { isReason } from "../../api/errors.js";
import type { EventRecorder } from "../../api/events.js";
import { objectKey, type Informer } from "../../api/informer.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { WorkQueue } from "../workqueue.js";
import {
  CACHE_SYNC_POLL_MS,
  endpointPorts,
  errorMessage,
  isIPv6,
  isPodReady,
  isServiceIPSet,
  LABEL_HEADLESS,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_ZONE,
  podIPs,
  podTargetRef,
  selectedPods,
  semanticEqual,
  setTriggerTimeAnnotation,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  splitKey,
  TriggerTimeTracker,
  watchServicesAndPods,
  type SlicePort,
} from "./_util.js";

export { endpointPorts, type SlicePort } from "./_util.js";

/** Component name, as the kube-controller-manager names the controller. */
export const ENDPOINTSLICE_CONTROLLER_NAME = "endpointslice-controller";
/** Event source of the controller (upstream records as `endpoint-slice-controller`). */
export const ENDPOINTSLICE_EVENT_SOURCE = "endpoint-slice-controller";
/** Value of the managed-by label on the slices this controller owns (`controllerQualifiedName`). */
export const ENDPOINTSLICE_MANAGED_BY = "endpointslice-controller.k8s.io";
/** `--max-endpoints-per-slice` default. */
export const DEFAULT_MAX_ENDPOINTS_PER_SLICE = 100;

/** Syncs of one Service retried before it is dropped (`maxRetries`). */
const MAX_RETRIES = 15;
/** `endpointSliceChangeMinSyncDelay`: a slice changed behind our back is looked at after 1 s. */
const SLICE_CHANGE_MIN_SYNC_DELAY_MS = 1000;

/** Options of the EndpointSlice controller. */
export interface EndpointSliceControllerOptions {
  /** `--max-endpoints-per-slice` (default 100, at most 1000). */
  readonly maxEndpointsPerSlice?: number;
  /** Concurrent Service syncs (`--concurrent-service-endpoint-syncs`, default 5). */
  readonly workers?: number;
  /** Delay added to syncs triggered by pod changes (`--endpoint-updates-batch-period`, default 0). */
  readonly batchPeriodMs?: number;
}

/** An endpoint of a slice (`discovery.Endpoint`). */
export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid: string };
  nodeName?: string;
  zone?: string;
}

/** Builds the EndpointSlice controller. */
export function endpointSliceController(ctx: ClusterContext, options: EndpointSliceControllerOptions = {}): Component {
  return new EndpointSliceController(ctx, options);
}

/** `podToEndpoint`. */
export function podToEndpoint(pod: KubeObject, node: KubeObject | undefined, service: KubeObject, addressType: "IPv4" | "IPv6"): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
  // "ready" is never true for a terminating pod, unless publishNotReadyAddresses says so.
  const ready = service.spec?.publishNotReadyAddresses === true || (serving && !terminating);
  const ep: SliceEndpoint = {
    addresses: podIPs(pod).filter((ip) => isIPv6(ip) === (addressType === "IPv6")),
    conditions: { ready, serving, terminating },
  };
  if (shouldSetHostname(pod, service)) ep.hostname = pod.spec.hostname;
  ep.targetRef = podTargetRef(pod);
  if (pod.spec?.nodeName) ep.nodeName = pod.spec.nodeName;
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  if (zone) ep.zone = zone;
  return ep;
}

/** `NewPortMapKey`: the same ports in any order give the same key. */
function portMapKey(ports: readonly SlicePort[] | undefined): string {
  return (ports ?? [])
    .map((p) => `${p.name ?? ""}/${p.protocol ?? "TCP"}/${p.port}/${p.appProtocol ?? ""}`)
    .sort()
    .join(";");
}

/** `hashEndpoint`: an endpoint's identity is its addresses, hostname and target pod. */
function endpointKey(ep: SliceEndpoint): string {
  return `${[...ep.addresses].sort().join(",")}|${ep.hostname ?? ""}|${ep.targetRef?.namespace ?? ""}/${ep.targetRef?.name ?? ""}`;
}

/** `getEndpointSlicePrefix`: `<service>-`, or the bare name when the dash would make it too long. */
function slicePrefix(serviceName: string): string {
  return serviceName.length + 1 <= 253 ? `${serviceName}-` : serviceName;
}

function ownedBy(slice: KubeObject, service: KubeObject): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === service.metadata.uid && o.kind === "Service" && o.apiVersion === "v1");
}

/** `setEndpointSliceLabels`: the Service's labels (reserved keys excepted) plus the reserved ones; true when the Service's labels changed. */
function sliceLabels(slice: KubeObject | undefined, service: KubeObject): { labels: Record<string, string>; changed: boolean } {
  const reserved = (k: string) => k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY || k === LABEL_HEADLESS;
  const current: Record<string, string> = {};
  for (const [k, v] of Object.entries(slice?.metadata.labels ?? {})) if (!reserved(k)) current[k] = v;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.metadata.labels ?? {})) if (!reserved(k)) labels[k] = v;
  const changed = !semanticEqual(current, labels);
  if (!isServiceIPSet(service)) labels[LABEL_HEADLESS] = "";
  labels[LABEL_SERVICE_NAME] = service.metadata.name ?? "";
  labels[LABEL_MANAGED_BY] = ENDPOINTSLICE_MANAGED_BY;
  return { labels, changed };
}

function newSlice(service: KubeObject, ports: SlicePort[], addressType: string): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      generateName: slicePrefix(service.metadata.name ?? ""),
      namespace: service.metadata.namespace,
      labels: sliceLabels(undefined, service).labels,
      ownerReferences: [{ apiVersion: "v1", kind: "Service", name: service.metadata.name ?? "", uid: service.metadata.uid ?? "", controller: true, blockOwnerDeletion: true }],
    },
    addressType,
    endpoints: [],
    ports,
  };
}

/** The address types a Service's slices use (`getAddressTypesForService`). */
function addressTypes(service: KubeObject): Array<"IPv4" | "IPv6"> {
  const families: string[] = Array.isArray(service.spec?.ipFamilies) ? service.spec.ipFamilies : [];
  const out = new Set<"IPv4" | "IPv6">();
  for (const f of families) if (f === "IPv4" || f === "IPv6") out.add(f);
  if (out.size > 0) return [...out];
  if (isServiceIPSet(service)) return [isIPv6(service.spec.clusterIP) ? "IPv6" : "IPv4"];
  return ["IPv4", "IPv6"];
}

interface Plan {
  create: KubeObject[];
  update: KubeObject[];
  remove: KubeObject[];
}

/**
 * `reconcileByAddressType`: the slices to create, update and delete so that `existing` (the
 * Service's managed slices of this address type) hold exactly the desired endpoints.
 */
export function planSlices(
  service: KubeObject,
  pods: readonly KubeObject[],
  existing: readonly KubeObject[],
  addressType: "IPv4" | "IPv6",
  nodeOf: (name: string) => KubeObject | undefined,
  maxPerSlice = DEFAULT_MAX_ENDPOINTS_PER_SLICE,
): Plan & { missingNodes: string[] } {
  const remove: KubeObject[] = [];
  const existingByPorts = new Map<string, KubeObject[]>();
  for (const slice of existing) {
    if (!ownedBy(slice, service)) {
      // A slice of an earlier Service of the same name: it goes.
      remove.push(slice);
      continue;
    }
    const key = portMapKey(slice.ports);
    const list = existingByPorts.get(key) ?? [];
    list.push(slice);
    existingByPorts.set(key, list);
  }

  const desiredByPorts = new Map<string, { ports: SlicePort[]; endpoints: Map<string, SliceEndpoint> }>();
  const missingNodes: string[] = [];
  const sorted = [...pods].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));
  for (const pod of sorted) {
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const ports = endpointPorts(service, pod);
    const key = portMapKey(ports);
    let desired = desiredByPorts.get(key);
    if (!desired) desiredByPorts.set(key, (desired = { ports, endpoints: new Map() }));
    const node = pod.spec?.nodeName ? nodeOf(pod.spec.nodeName) : undefined;
    if (pod.spec?.nodeName && !node && service.spec?.publishNotReadyAddresses !== true) {
      // The node is unknown (yet): leave the pod out and retry later, as upstream does.
      missingNodes.push(pod.spec.nodeName);
      continue;
    }
    const ep = podToEndpoint(pod, node, service, addressType);
    if (ep.addresses.length > 0) desired.endpoints.set(endpointKey(ep), ep);
  }

  const create: KubeObject[] = [];
  const update: KubeObject[] = [];
  for (const [key, desired] of desiredByPorts) {
    const plan = reconcileByPortMapping(service, existingByPorts.get(key) ?? [], desired.endpoints, desired.ports, addressType, maxPerSlice);
    create.push(...plan.create);
    update.push(...plan.update);
    remove.push(...plan.remove);
  }
  for (const [key, slices] of existingByPorts) if (!desiredByPorts.has(key)) remove.push(...slices);

  // No endpoints at all: one empty placeholder slice stays (or is created).
  if (existing.length === remove.length && create.length === 0) {
    const placeholder = newSlice(service, [], addressType);
    const reusable = remove.length === 1 && isPlaceholder(remove[0], placeholder);
    if (reusable) remove.length = 0;
    else create.push(placeholder);
  }

  // finalize: reuse slices that would be deleted instead of creating new ones.
  for (let i = 0; i < remove.length && create.length > 0; ) {
    const victim = remove[i];
    if (victim.addressType === addressType && ownedBy(victim, service)) {
      const slice = create.pop()!;
      const reused = clone(victim) as KubeObject;
      reused.endpoints = slice.endpoints;
      reused.ports = slice.ports;
      reused.metadata.labels = slice.metadata.labels;
      update.push(reused);
      remove.splice(i, 1);
    } else {
      i++;
    }
  }
  return { create, update, remove, missingNodes };
}

/** `placeholderSliceCompare`: same namespace, labels and owner, no endpoints, no ports. */
function isPlaceholder(slice: KubeObject, placeholder: KubeObject): boolean {
  return (
    slice.metadata.namespace === placeholder.metadata.namespace &&
    semanticEqual(slice.metadata.labels, placeholder.metadata.labels) &&
    semanticEqual(slice.endpoints, []) &&
    semanticEqual(slice.ports, []) &&
    semanticEqual(
      (slice.metadata.ownerReferences ?? []).map((o) => o.uid),
      (placeholder.metadata.ownerReferences ?? []).map((o) => o.uid),
    )
  );
}

/** `reconcileByPortMapping`: keep endpoints where they are, fill changed slices, then the fullest unchanged one, then new ones. */
function reconcileByPortMapping(
  service: KubeObject,
  existing: readonly KubeObject[],
  desired: Map<string, SliceEndpoint>,
  ports: SlicePort[],
  addressType: string,
  maxPerSlice: number,
): Plan {
  const byName = new Map<string, KubeObject>();
  const unchanged: string[] = [];
  const toUpdate: string[] = [];
  const toDelete: string[] = [];

  // 1. Drop endpoints no longer desired, refresh the ones that changed.
  for (const slice of existing) {
    const name = slice.metadata.name ?? "";
    byName.set(name, slice);
    const kept: SliceEndpoint[] = [];
    let changed = false;
    const current: SliceEndpoint[] = Array.isArray(slice.endpoints) ? slice.endpoints : [];
    for (const ep of current) {
      const key = endpointKey(ep);
      const want = desired.get(key);
      if (!want) continue;
      kept.push(want);
      if (!semanticEqual(want, ep)) changed = true;
      desired.delete(key);
    }
    const { labels, changed: labelsChanged } = sliceLabels(slice, service);
    if (changed || kept.length !== current.length) {
      if (kept.length === 0) {
        toDelete.push(name);
      } else {
        const copy = clone(slice) as KubeObject;
        copy.endpoints = kept;
        copy.metadata.labels = labels;
        byName.set(name, copy);
        toUpdate.push(name);
      }
    } else if (labelsChanged) {
      const copy = clone(slice) as KubeObject;
      copy.metadata.labels = labels;
      byName.set(name, copy);
      toUpdate.push(name);
    } else {
      unchanged.push(name);
    }
  }

  const remaining = [...desired.values()];
  // 2. Fill the slices being updated anyway, fullest first.
  if (remaining.length > 0 && toUpdate.length > 0) {
    const slices = toUpdate.map((n) => byName.get(n)!).sort((a, b) => b.endpoints.length - a.endpoints.length);
    for (const slice of slices) {
      while (remaining.length > 0 && slice.endpoints.length < maxPerSlice) slice.endpoints.push(remaining.shift()!);
    }
  }

  // 3. Whatever is left: the unchanged slice that ends up closest to full, else new slices.
  const create: KubeObject[] = [];
  while (remaining.length > 0) {
    let target: KubeObject | undefined;
    if (remaining.length < maxPerSlice && unchanged.length > 0) {
      const best = sliceToFill(
        unchanged.map((n) => byName.get(n)!),
        remaining.length,
        maxPerSlice,
      );
      if (best) {
        target = clone(best) as KubeObject;
        byName.set(target.metadata.name ?? "", target);
      }
    }
    target ??= newSlice(service, ports, addressType);
    while (remaining.length > 0 && target.endpoints.length < maxPerSlice) target.endpoints.push(remaining.shift()!);
    if (target.metadata.name) {
      const name = target.metadata.name;
      if (!toUpdate.includes(name)) toUpdate.push(name);
      unchanged.splice(unchanged.indexOf(name), 1);
    } else {
      create.push(target);
    }
  }
  return { create, update: toUpdate.map((n) => byName.get(n)!), remove: toDelete.map((n) => byName.get(n)!) };
}

/** `getSliceToFill`: the slice closest to full once `count` endpoints are added. */
function sliceToFill(slices: readonly KubeObject[], count: number, max: number): KubeObject | undefined {
  let closestDiff = max;
  let closest: KubeObject | undefined;
  for (const slice of slices) {
    const diff = max - (count + (slice.endpoints?.length ?? 0));
    if (diff >= 0 && diff < closestDiff) {
      closestDiff = diff;
      closest = slice;
      if (diff === 0) return closest;
    }
  }
  return closest;
}

function withTriggerTime(slice: KubeObject, triggerTime: number): KubeObject {
  const annotations: Record<string, string> = { ...(slice.metadata.annotations ?? {}) };
  setTriggerTimeAnnotation(annotations, triggerTime);
  slice.metadata.annotations = annotations;
  return slice;
}

class EndpointSliceController implements Component {
  readonly name = ENDPOINTSLICE_CONTROLLER_NAME;
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  private readonly triggerTimes = new TriggerTimeTracker();
  private readonly maxPerSlice: number;
  /** resourceVersion we last wrote per slice, and slices we deleted (`EndpointSliceTracker`). */
  private readonly expected = new Map<string, number>();
  private readonly deleted = new Set<string>();
  private services!: Informer;
  private pods!: Informer;
  private nodes!: Informer;
  private slices!: Informer;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly options: EndpointSliceControllerOptions,
  ) {
    const max = options.maxEndpointsPerSlice ?? DEFAULT_MAX_ENDPOINTS_PER_SLICE;
    if (!Number.isInteger(max) || max < 1 || max > 1000) throw new Error(`maxEndpointsPerSlice: must be an integer between 1 and 1000, got ${max}`);
    this.maxPerSlice = max;
    // Upstream backs this queue off from 1 s (not 5 ms) to 1000 s: slice syncs are expensive.
    this.queue = new WorkQueue(ctx.clock, (key) => this.syncWithRetryBudget(key), {
      workers: options.workers ?? 5,
      baseDelayMs: 1000,
      maxDelayMs: 1_000_000,
      onError: (key, err) => ctx.log(this.name, `Error syncing endpoint slices for service ${key}, retrying: ${errorMessage(err)}`),
    });
    this.recorder = ctx.recorder({ component: ENDPOINTSLICE_EVENT_SOURCE });
  }

  start(): void {
    this.stopped = false;
    const f = this.ctx.informers;
    this.services = f.for("v1", "Service");
    this.pods = f.for("v1", "Pod");
    this.nodes = f.for("v1", "Node");
    this.slices = f.for("discovery.k8s.io/v1", "EndpointSlice");
    watchServicesAndPods(this.services, this.pods, this.queue, this.options.batchPeriodMs);
    this.slices.addHandlers({
      add: (s) => this.onSliceChange(s),
      update: (_o, s) => this.onSliceChange(s),
      delete: (s) => this.onSliceDelete(s),
    });
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
  }

  private serviceKeyOf(slice: KubeObject): string | undefined {
    if (slice.metadata.labels?.[LABEL_MANAGED_BY] !== ENDPOINTSLICE_MANAGED_BY) return undefined;
    const svc = slice.metadata.labels?.[LABEL_SERVICE_NAME];
    return svc ? `${slice.metadata.namespace}/${svc}` : undefined;
  }

  /** A managed slice changed: if it was not our own write, look at its Service again (`onEndpointSliceUpdate`). */
  private onSliceChange(slice: KubeObject): void {
    const svcKey = this.serviceKeyOf(slice);
    if (!svcKey) return;
    const expected = this.expected.get(objectKey(slice));
    if (expected !== undefined && Number(slice.metadata.resourceVersion) <= expected) return;
    this.queue.addAfter(svcKey, Math.max(SLICE_CHANGE_MIN_SYNC_DELAY_MS, this.options.batchPeriodMs ?? 0));
  }

  private onSliceDelete(slice: KubeObject): void {
    const key = objectKey(slice);
    this.expected.delete(key);
    if (this.deleted.delete(key)) return;
    const svcKey = this.serviceKeyOf(slice);
    if (svcKey) this.queue.addAfter(svcKey, Math.max(SLICE_CHANGE_MIN_SYNC_DELAY_MS, this.options.batchPeriodMs ?? 0));
  }

  private synced(): boolean {
    return this.services.hasSynced && this.pods.hasSynced && this.nodes.hasSynced && this.slices.hasSynced;
  }

  private async syncWithRetryBudget(key: string): Promise<void> {
    if (this.stopped) return;
    if (!this.synced()) {
      this.queue.addAfter(key, CACHE_SYNC_POLL_MS);
      return;
    }
    try {
      await this.sync(key);
    } catch (err) {
      if (this.queue.retries(key) < MAX_RETRIES) throw err;
      this.ctx.log(this.name, `Retry budget exceeded, dropping service ${key} out of the queue: ${errorMessage(err)}`);
    }
  }

  /** `StaleSlices`: the cache lags behind our own writes. */
  private stale(slices: readonly KubeObject[], namespace: string, serviceName: string): boolean {
    const seen = new Set<string>();
    for (const s of slices) {
      const key = objectKey(s);
      seen.add(key);
      const expected = this.expected.get(key);
      if (expected !== undefined && Number(s.metadata.resourceVersion) < expected) return true;
      if (this.deleted.has(key)) return true;
    }
    // A slice we created that the cache does not show yet.
    for (const key of this.expected.keys()) {
      if (!key.startsWith(`${namespace}/`) || seen.has(key)) continue;
      const cached = this.slices.getByKey(key);
      if (!cached && this.createdFor.get(key) === serviceName) return true;
    }
    return false;
  }

  /** Service name of each slice we created, until the cache shows it. */
  private readonly createdFor = new Map<string, string>();

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const service = this.services.getByKey(key);
    if (!service) {
      // Deleted: the garbage collector removes the slices through their ownerReferences.
      this.triggerTimes.delete(namespace, name);
      return;
    }
    const pods = selectedPods(service, this.pods);
    if (!pods) return;
    const slices = this.slices
      .withLabel(LABEL_SERVICE_NAME, name)
      .filter((s) => s.metadata.namespace === namespace && s.metadata.labels?.[LABEL_MANAGED_BY] === ENDPOINTSLICE_MANAGED_BY)
      // Slices marked for deletion are left to finish (dropEndpointSlicesPendingDeletion).
      .filter((s) => !s.metadata.deletionTimestamp);
    for (const s of slices) this.createdFor.delete(objectKey(s));
    if (this.stale(slices, namespace, name)) throw new Error("EndpointSlice informer cache is out of date");

    const triggerTime = this.triggerTimes.compute(service, pods);
    const types = addressTypes(service);
    const plan: Plan = { create: [], update: [], remove: [] };
    const missing = new Set<string>();
    for (const slice of slices) if (!types.includes(slice.addressType)) plan.remove.push(slice);
    for (const type of types) {
      const existing = slices.filter((s) => s.addressType === type);
      const p = planSlices(service, pods, existing, type, (n) => this.nodes.get(undefined, n), this.maxPerSlice);
      plan.create.push(...p.create);
      plan.update.push(...p.update);
      plan.remove.push(...p.remove);
      for (const n of p.missingNodes) missing.add(n);
    }
    await this.apply(service, plan, triggerTime);
    if (missing.size > 0) throw new Error(`skipping pods of service ${key}: node(s) ${[...missing].sort().join(", ")} not found`);
  }

  private async apply(service: KubeObject, plan: Plan, triggerTime: number): Promise<void> {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    // No new slices for a Service being deleted: the garbage collector is removing them.
    if (!service.metadata.deletionTimestamp) {
      for (const slice of plan.create) {
        let created: KubeObject;
        try {
          created = await this.ctx.client.create(withTriggerTime(slice, triggerTime), { fieldManager: this.name });
        } catch (err) {
          if (isReason(err, "Forbidden") || isReason(err, "NotFound")) return; // namespace terminating
          void this.recorder.event(service, "Warning", "FailedToCreateEndpointSlice", `Error creating EndpointSlice for Service ${key}: ${errorMessage(err)}`);
          throw new Error(`failed to create EndpointSlice for Service ${key}: ${errorMessage(err)}`);
        }
        this.expected.set(objectKey(created), Number(created.metadata.resourceVersion));
        this.createdFor.set(objectKey(created), service.metadata.name ?? "");
      }
    }
    for (const slice of plan.update) {
      let updated: KubeObject;
      try {
        updated = await this.ctx.client.update(withTriggerTime(slice, triggerTime), { fieldManager: this.name });
      } catch (err) {
        if (!isReason(err, "Conflict")) void this.recorder.event(service, "Warning", "FailedToUpdateEndpointSlices", `Error updating Endpoint Slices for Service ${key}: ${errorMessage(err)}`);
        throw new Error(`failed to update ${slice.metadata.name} EndpointSlice for Service ${key}: ${errorMessage(err)}`);
      }
      this.expected.set(objectKey(updated), Number(updated.metadata.resourceVersion));
    }
    for (const slice of plan.remove) {
      const sliceKey = objectKey(slice);
      // Marked before the call: the watch may report the deletion before the call returns.
      if (this.slices.getByKey(sliceKey)) this.deleted.add(sliceKey);
      this.expected.delete(sliceKey);
      try {
        await this.ctx.client.delete({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", namespace: slice.metadata.namespace, name: slice.metadata.name ?? "" });
      } catch (err) {
        if (!this.slices.getByKey(sliceKey)) this.deleted.delete(sliceKey);
        if (!isReason(err, "NotFound")) throw new Error(`failed to delete ${slice.metadata.name} EndpointSlice for Service ${key}: ${errorMessage(err)}`);
      }
    }
    const changes = plan.create.length + plan.update.length + plan.remove.length;
    if (changes > 0) this.ctx.log(this.name, `Service ${key}: ${plan.create.length} slice(s) created, ${plan.update.length} updated, ${plan.remove.length} deleted`);
  }
}

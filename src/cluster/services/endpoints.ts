/**
 * The Endpoints controller of the kube-controller-manager (`pkg/controller/endpoint`): for every
 * Service with a selector it keeps one `v1 Endpoints` object of the same name listing the selected
 * pods, ready ones in `subsets[].addresses` and the others in `subsets[].notReadyAddresses`, with
 * the ports resolved from each service port's `targetPort`.
 *
 * - Pods without an IP, terminal pods, and terminating pods are left out (terminating ones stay
 *   when the Service sets `publishNotReadyAddresses`, which also lists not-ready pods as ready).
 * - A named targetPort is looked up in each pod's containers; pods whose named ports have different
 *   numbers land in different subsets (`RepackSubsets` groups addresses by identical port sets).
 * - Services without a selector and ExternalName Services are left alone: their Endpoints are the
 *   user's. When a Service is deleted, its Endpoints go too.
 * - Labels are the Service's, plus `service.kubernetes.io/headless` for headless Services; the
 *   `endpoints.kubernetes.io/last-change-trigger-time` annotation records the change behind the
 *   update; past 1000 addresses the object is truncated and annotated `over-capacity: truncated`.
 *
 * Deviation: upstream orders subsets and their ports by a hash of their content; here subsets
 * are ordered by their ports, then their first address, which is as stable and easier to read.
 */
import { isReason } from "../../api/errors.js";
import type { EventRecorder } from "../../api/events.js";
import { objectKey, type Informer } from "../../api/informer.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { WorkQueue } from "../workqueue.js";
import {
  ANNOTATION_OVER_CAPACITY,
  CACHE_SYNC_POLL_MS,
  endpointPorts,
  errorMessage,
  isIPv6,
  isPodReady,
  isServiceIPSet,
  LABEL_HEADLESS,
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
} from "./_util.js";

/** Component name (`endpoint-controller`, also its event source). */
export const ENDPOINT_CONTROLLER_NAME = "endpoint-controller";

/** Most addresses an Endpoints object holds (`maxCapacity`). */
export const ENDPOINTS_MAX_CAPACITY = 1000;

/** Syncs of one Service retried before it is dropped (`maxRetries`). */
const MAX_RETRIES = 15;

/** Options of the Endpoints controller. */
export interface EndpointsControllerOptions {
  /** Concurrent Service syncs (`--concurrent-endpoint-syncs`, default 5). */
  readonly workers?: number;
  /** Delay added to syncs triggered by pod changes (`--endpoint-updates-batch-period`, default 0). */
  readonly batchPeriodMs?: number;
}

/** An address in an Endpoints subset (`v1.EndpointAddress`). */
export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; namespace: string; name: string; uid: string };
}

/** A port in an Endpoints subset (`v1.EndpointPort`). */
export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** One subset: addresses sharing the same ports (`v1.EndpointSubset`). */
export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** Builds the Endpoints controller. */
export function endpointsController(ctx: ClusterContext, options: EndpointsControllerOptions = {}): Component {
  return new EndpointsController(ctx, options);
}

/**
 * The subsets for a Service and the pods its selector matches (the body of upstream `syncService`
 * up to `RepackSubsets`). Pure: exported for tests and for tools that explain a Service.
 */
export function computeSubsets(service: KubeObject, pods: readonly KubeObject[]): EndpointSubset[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const ports: any[] = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  const raw: EndpointSubset[] = [];
  for (const pod of pods) {
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const address = podToEndpointAddress(service, pod);
    if (!address) continue;
    const ready = publishNotReady || isPodReady(pod);
    const add = (epPorts: EndpointPort[]) => raw.push(ready ? { addresses: [address], ports: epPorts } : { notReadyAddresses: [address], ports: epPorts });
    if (ports.length === 0) {
      // Headless Services may have no ports at all.
      if (service.spec?.clusterIP === "None") add([]);
      continue;
    }
    // One subset per port: RepackSubsets merges them. v1.EndpointPort omits an empty name.
    for (const { name, ...port } of endpointPorts(service, pod)) add([name ? { name, ...port } : port]);
  }
  return repackSubsets(raw);
}

/** `podToEndpointAddressForService`: the pod IP of the Service's first IP family. */
function podToEndpointAddress(service: KubeObject, pod: KubeObject): EndpointAddress | undefined {
  const families: string[] = Array.isArray(service.spec?.ipFamilies) ? service.spec.ipFamilies : [];
  let wantV6: boolean;
  if (families.length > 0) wantV6 = families[0] === "IPv6";
  else if (isServiceIPSet(service)) wantV6 = isIPv6(service.spec.clusterIP);
  else wantV6 = isIPv6(podIPs(pod)[0] ?? "");
  const ip = podIPs(pod).find((a) => isIPv6(a) === wantV6);
  if (!ip) return undefined;
  const address: EndpointAddress = { ip };
  if (shouldSetHostname(pod, service)) address.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) address.nodeName = pod.spec.nodeName;
  address.targetRef = podTargetRef(pod);
  return address;
}

function addressKey(a: EndpointAddress): string {
  return `${a.ip}/${a.targetRef?.uid ?? ""}`;
}

function portKey(p: EndpointPort): string {
  return `${p.port}/${p.protocol}/${p.name ?? ""}/${p.appProtocol ?? ""}`;
}

/** `LessEndpointAddress`: by IP bytes, then target uid. */
function compareAddresses(a: EndpointAddress, b: EndpointAddress): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  const ua = a.targetRef?.uid ?? "";
  const ub = b.targetRef?.uid ?? "";
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

/**
 * `RepackSubsets`: maps every port to the addresses offering it (ready wins over not ready for the
 * same address), then groups ports whose address sets are identical into one subset, sorted.
 */
export function repackSubsets(subsets: readonly EndpointSubset[]): EndpointSubset[] {
  const allAddrs = new Map<string, EndpointAddress>();
  // port key -> (address key -> ready)
  const portToAddrs = new Map<string, { port: EndpointPort | undefined; addrs: Map<string, boolean> }>();
  const note = (port: EndpointPort | undefined, addr: EndpointAddress, ready: boolean) => {
    const ak = addressKey(addr);
    if (!allAddrs.has(ak)) allAddrs.set(ak, addr);
    const pk = port ? portKey(port) : "<none>";
    let entry = portToAddrs.get(pk);
    if (!entry) portToAddrs.set(pk, (entry = { port, addrs: new Map() }));
    const before = entry.addrs.get(ak);
    if (before === undefined || !before) entry.addrs.set(ak, ready);
  };
  for (const s of subsets) {
    const ports = s.ports && s.ports.length > 0 ? s.ports : [undefined];
    for (const port of ports) {
      for (const a of s.addresses ?? []) note(port, a, true);
      for (const a of s.notReadyAddresses ?? []) note(port, a, false);
    }
  }
  // Address set (with readiness) -> the ports offered on exactly that set.
  const groups = new Map<string, { addrs: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, addrs } of portToAddrs.values()) {
    const key = [...addrs.entries()]
      .map(([k, r]) => `${k}=${r ? 1 : 0}`)
      .sort()
      .join(",");
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { addrs, ports: [] }));
    if (port) g.ports.push(port);
  }
  const out: EndpointSubset[] = [];
  for (const g of groups.values()) {
    const ready: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [k, r] of g.addrs) (r ? ready : notReady).push(allAddrs.get(k)!);
    ready.sort(compareAddresses);
    notReady.sort(compareAddresses);
    const ports = [...g.ports].sort((a, b) => a.port - b.port || portKey(a).localeCompare(portKey(b)));
    const subset: EndpointSubset = {};
    if (ready.length > 0) subset.addresses = ready;
    if (notReady.length > 0) subset.notReadyAddresses = notReady;
    if (ports.length > 0) subset.ports = ports;
    out.push(subset);
  }
  const sortKey = (s: EndpointSubset) => `${(s.ports ?? []).map(portKey).join(";")}|${(s.addresses ?? s.notReadyAddresses ?? [])[0]?.ip ?? ""}`;
  return out.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
}

/**
 * `truncateEndpoints`: past 1000 addresses keep the ready ones first, spreading the cut over the
 * subsets in proportion (rounded up, the last subsets taking what is left). True when truncated.
 */
export function truncateSubsets(subsets: EndpointSubset[], max = ENDPOINTS_MAX_CAPACITY): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= max) return false;
  const truncateReady = totalReady > max;
  const budget = truncateReady ? max : max - totalReady;
  const numTotal = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = budget;
  for (const s of subsets) {
    const inSubset = truncateReady ? (s.addresses?.length ?? 0) : (s.notReadyAddresses?.length ?? 0);
    let toBeAdded = numTotal === 0 ? 0 : Math.ceil((inSubset / numTotal) * budget);
    if (toBeAdded > canBeAdded) toBeAdded = canBeAdded;
    if (truncateReady) {
      if (s.addresses) s.addresses = s.addresses.slice(0, toBeAdded);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses?.length ?? 0;
    } else {
      if (s.notReadyAddresses) s.notReadyAddresses = s.notReadyAddresses.slice(0, toBeAdded);
      canBeAdded -= s.notReadyAddresses?.length ?? 0;
    }
  }
  return true;
}

function countAddresses(subsets: readonly EndpointSubset[] | undefined): number {
  let n = 0;
  for (const s of subsets ?? []) n += (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0);
  return n;
}

function withoutLabel(labels: Readonly<Record<string, string>> | undefined, key: string): Record<string, string> {
  const out = { ...(labels ?? {}) };
  delete out[key];
  return out;
}

class EndpointsController implements Component {
  readonly name = ENDPOINT_CONTROLLER_NAME;
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  private readonly triggerTimes = new TriggerTimeTracker();
  /** resourceVersions of Endpoints we replaced: an informer still showing one is stale (`staleEndpointsTracker`). */
  private readonly replaced = new Map<string, string>();
  private services!: Informer;
  private pods!: Informer;
  private endpoints!: Informer;
  private leftoversChecked = false;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly options: EndpointsControllerOptions,
  ) {
    this.queue = new WorkQueue(ctx.clock, (key) => this.syncWithRetryBudget(key), {
      workers: options.workers ?? 5,
      onError: (key, err) => ctx.log(this.name, `Error syncing endpoints for service ${key}, retrying: ${errorMessage(err)}`),
    });
    this.recorder = ctx.recorder({ component: ENDPOINT_CONTROLLER_NAME });
  }

  start(): void {
    this.stopped = false;
    const f = this.ctx.informers;
    this.services = f.for("v1", "Service");
    this.pods = f.for("v1", "Pod");
    this.endpoints = f.for("v1", "Endpoints");
    watchServicesAndPods(this.services, this.pods, this.queue, this.options.batchPeriodMs);
    // Someone deleted an Endpoints object: put it back if its Service still wants it.
    this.endpoints.addHandlers({ delete: (ep) => this.queue.add(objectKey(ep)) });
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
  }

  private synced(): boolean {
    return this.services.hasSynced && this.pods.hasSynced && this.endpoints.hasSynced;
  }

  private async syncWithRetryBudget(key: string): Promise<void> {
    if (this.stopped) return;
    if (!this.synced()) {
      // WaitForCacheSync: an empty pod cache would publish empty Endpoints.
      this.queue.addAfter(key, CACHE_SYNC_POLL_MS);
      return;
    }
    if (!this.leftoversChecked) {
      // checkLeftoverEndpoints, once: Endpoints whose Service is gone get deleted.
      this.leftoversChecked = true;
      for (const ep of this.endpoints.list()) this.queue.add(objectKey(ep));
    }
    try {
      await this.sync(key);
    } catch (err) {
      if (this.queue.retries(key) < MAX_RETRIES) throw err;
      this.ctx.log(this.name, `Dropping service ${key} out of the queue: ${errorMessage(err)}`);
    }
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const service = this.services.getByKey(key);
    if (!service) {
      // The Service is gone: so are its Endpoints.
      try {
        await this.ctx.client.delete({ apiVersion: "v1", kind: "Endpoints", namespace, name });
        this.ctx.log(this.name, `Deleted endpoints ${key}: its service is gone`);
      } catch (err) {
        if (!isReason(err, "NotFound")) throw err;
      }
      this.triggerTimes.delete(namespace, name);
      this.replaced.delete(key);
      return;
    }
    // ExternalName Services and Services without a selector get no endpoints from this controller.
    const pods = selectedPods(service, this.pods);
    if (!pods) return;
    // Computed even when nothing changes, so the tracker's state stays current.
    const triggerTime = this.triggerTimes.compute(service, pods);
    const subsets = computeSubsets(service, pods);

    const current = this.endpoints.getByKey(key);
    if (current && this.replaced.get(key) === current.metadata.resourceVersion) {
      throw new Error(`endpoints informer cache is out of date, resource version ${current.metadata.resourceVersion} already processed for endpoints ${key}`);
    }
    const serviceLabels = service.metadata.labels ?? {};
    if (
      current &&
      semanticEqual(current.subsets, subsets) &&
      semanticEqual(withoutLabel(current.metadata.labels, LABEL_HEADLESS), serviceLabels) &&
      countAddresses(current.subsets) <= ENDPOINTS_MAX_CAPACITY &&
      current.metadata.annotations?.[ANNOTATION_OVER_CAPACITY] === undefined
    ) {
      return;
    }

    const next: KubeObject = current
      ? (clone(current) as KubeObject)
      : { apiVersion: "v1", kind: "Endpoints", metadata: { name, namespace } };
    next.subsets = subsets;
    const labels: Record<string, string> = { ...serviceLabels };
    if (!isServiceIPSet(service)) labels[LABEL_HEADLESS] = "";
    next.metadata.labels = labels;
    const annotations: Record<string, string> = { ...(next.metadata.annotations ?? {}) };
    setTriggerTimeAnnotation(annotations, triggerTime);
    if (truncateSubsets(subsets)) annotations[ANNOTATION_OVER_CAPACITY] = "truncated";
    else delete annotations[ANNOTATION_OVER_CAPACITY];
    next.metadata.annotations = annotations;
    if (subsets.length === 0) delete next.subsets;

    const ready = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0), 0);
    const notReady = subsets.reduce((n, s) => n + (s.notReadyAddresses?.length ?? 0), 0);
    try {
      if (!current) {
        await this.ctx.client.create(next, { fieldManager: this.name });
      } else {
        const updated = await this.ctx.client.update(next, { fieldManager: this.name });
        if (updated.metadata.resourceVersion !== current.metadata.resourceVersion) this.replaced.set(key, current.metadata.resourceVersion ?? "");
      }
    } catch (err) {
      if (!current && (isReason(err, "Forbidden") || isReason(err, "NotFound"))) {
        // The namespace is terminating (or gone): creates keep failing, drop the key.
        this.ctx.log(this.name, `Forbidden from creating endpoints ${key}: ${errorMessage(err)}`);
        return;
      }
      // Our informer has not seen our own create yet: retry quietly.
      if (!current && isReason(err, "AlreadyExists")) throw err;
      if (!current) void this.recorder.event(next, "Warning", "FailedToCreateEndpoint", `Failed to create endpoint for service ${key}: ${errorMessage(err)}`);
      else void this.recorder.event(next, "Warning", "FailedToUpdateEndpoint", `Failed to update endpoint ${key}: ${errorMessage(err)}`);
      throw err;
    }
    this.ctx.log(this.name, `Updated endpoints ${key}: ${ready} ready, ${notReady} not ready`);
  }
}

/**
 * Helpers shared by the Endpoints and EndpointSlice controllers, kube-proxy and DNS, after
 * upstream `k8s.io/endpointslice/util` (`ShouldPodBeInEndpoints`, `ShouldSetHostname`,
 * `GetServicesToUpdateOnPodChange`, `TriggerTimeTracker`), `pkg/api/v1/pod` (`IsPodReady`,
 * `FindPort`) and `pkg/apis/core/v1/helper` (`IsServiceIPSet`).
 *
 * The two endpoint controllers are the same machine with another output: they watch Services and
 * Pods the same way, select the same pods, resolve the same ports and stamp the same trigger
 * time. That part is written here once (`watchServicesAndPods`, `selectedPods`, `endpointPorts`,
 * `podTargetRef`, `setTriggerTimeAnnotation`).
 */
import { objectKey, type Informer } from "../../api/informer.js";
import { selectorFromSet } from "../../api/labels.js";
import type { KubeObject } from "../../api/types.js";
import type { WorkQueue } from "../workqueue.js";

/** Label naming the Service of an EndpointSlice (`discovery.LabelServiceName`). */
export const LABEL_SERVICE_NAME = "kubernetes.io/service-name";
/** Label naming the manager of an EndpointSlice (`discovery.LabelManagedBy`). */
export const LABEL_MANAGED_BY = "endpointslice.kubernetes.io/managed-by";
/** Label on the Endpoints and EndpointSlices of a headless Service (`v1.IsHeadlessService`). */
export const LABEL_HEADLESS = "service.kubernetes.io/headless";
/** Annotation with the time of the change that caused the last endpoints update (`v1.EndpointsLastChangeTriggerTime`). */
export const ANNOTATION_LAST_CHANGE_TRIGGER_TIME = "endpoints.kubernetes.io/last-change-trigger-time";
/** Annotation set when an Endpoints object was cut to 1000 addresses (`v1.EndpointsOverCapacity`). */
export const ANNOTATION_OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity";
/** Node label carrying the zone (`v1.LabelTopologyZone`). */
export const LABEL_ZONE = "topology.kubernetes.io/zone";

/** client-go's `WaitForCacheSync` polls HasSynced every 100 ms; controllers defer work by as much. */
export const CACHE_SYNC_POLL_MS = 100;

/** `IsPodReady`: the Ready condition is True. */
export function isPodReady(pod: KubeObject): boolean {
  const conditions: any[] = Array.isArray(pod.status?.conditions) ? pod.status.conditions : [];
  return conditions.some((c) => c?.type === "Ready" && c.status === "True");
}

/** `IsPodTerminal`: phase Succeeded or Failed. */
export function isPodTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** The pod's IPs (`status.podIPs`, or `status.podIP` when only that is set). */
export function podIPs(pod: KubeObject): string[] {
  const list: any[] = Array.isArray(pod.status?.podIPs) ? pod.status.podIPs : [];
  const ips = list.map((p) => p?.ip).filter((ip): ip is string => typeof ip === "string" && ip !== "");
  if (ips.length === 0 && typeof pod.status?.podIP === "string" && pod.status.podIP !== "") ips.push(pod.status.podIP);
  return ips;
}

/** True for an IPv6 literal. */
export function isIPv6(ip: string): boolean {
  return ip.includes(":");
}

/**
 * `ShouldPodBeInEndpoints`: terminal pods and pods without an IP never are; terminating pods only
 * when `includeTerminating` (EndpointSlices keep them, Endpoints only with publishNotReadyAddresses).
 */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** `ShouldSetHostname`: the pod's hostname names it inside the Service its subdomain names. */
export function shouldSetHostname(pod: KubeObject, service: KubeObject): boolean {
  const hostname = pod.spec?.hostname;
  return typeof hostname === "string" && hostname !== "" && pod.spec?.subdomain === service.metadata.name && pod.metadata.namespace === service.metadata.namespace;
}

/** `IsServiceIPSet`: a ClusterIP other than None. */
export function isServiceIPSet(service: KubeObject): boolean {
  const ip = service.spec?.clusterIP;
  return typeof ip === "string" && ip !== "" && ip !== "None";
}

/** True for a headless Service (`clusterIP: None`). */
export function isHeadless(service: KubeObject): boolean {
  return service.spec?.clusterIP === "None";
}

/**
 * The Service's selector, or undefined when it has none. An empty map is stored as absent by the
 * real API server (`omitempty`), so it counts as none: such Services are user-managed.
 */
export function serviceSelector(service: KubeObject): Record<string, string> | undefined {
  const sel = service.spec?.selector;
  if (!sel || typeof sel !== "object" || Object.keys(sel).length === 0) return undefined;
  return sel as Record<string, string>;
}

/** `FindPort`: the targetPort number, or the named container port with the service port's protocol. */
export function findPort(pod: KubeObject, servicePort: any): number | undefined {
  const target = servicePort?.targetPort ?? servicePort?.port;
  const protocol = servicePort?.protocol ?? "TCP";
  if (typeof target === "number") return target;
  if (typeof target === "string") {
    if (/^\d+$/.test(target)) return Number(target);
    const lookIn = (containers: any[]) => {
      for (const c of containers) {
        for (const p of Array.isArray(c?.ports) ? c.ports : []) {
          if (p?.name === target && (p.protocol ?? "TCP") === protocol && typeof p.containerPort === "number") return p.containerPort as number;
        }
      }
      return undefined;
    };
    const found = lookIn(Array.isArray(pod.spec?.containers) ? pod.spec.containers : []);
    if (found !== undefined) return found;
    // Sidecars (init containers with restartPolicy Always) serve too.
    const sidecars = (Array.isArray(pod.spec?.initContainers) ? pod.spec.initContainers : []).filter((c: any) => c?.restartPolicy === "Always");
    return lookIn(sidecars);
  }
  return undefined;
}

/** A port of an EndpointSlice (`discovery.EndpointPort`): a Service port resolved for one pod. */
export interface SlicePort {
  name: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/**
 * `getEndpointPorts`: the Service's ports this pod serves, resolved to numbers by `FindPort` (a
 * port the pod does not serve is left out); protocol TCP when unset, appProtocol only when set.
 * The Endpoints controller uses the same ports and drops an empty name (`omitempty`).
 */
export function endpointPorts(service: KubeObject, pod: KubeObject): SlicePort[] {
  const ports: any[] = Array.isArray(service.spec?.ports) ? service.spec.ports : [];
  const out: SlicePort[] = [];
  for (const sp of ports) {
    const num = findPort(pod, sp);
    if (num === undefined) continue;
    out.push({ name: sp.name ?? "", port: num, protocol: sp.protocol ?? "TCP", ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** The `targetRef` of an endpoint: the pod it leads to. */
export function podTargetRef(pod: KubeObject): { kind: string; namespace: string; name: string; uid: string } {
  return { kind: "Pod", namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "", uid: pod.metadata.uid ?? "" };
}

/**
 * The pods of its namespace a Service selects, or undefined when the endpoint controllers leave
 * the Service alone: ExternalName Services and Services without a selector (their endpoints are
 * the user's).
 */
export function selectedPods(service: KubeObject, pods: Informer): KubeObject[] | undefined {
  if (service.spec?.type === "ExternalName") return undefined;
  const selector = serviceSelector(service);
  if (!selector) return undefined;
  const match = selectorFromSet(selector);
  return pods.list(service.metadata.namespace ?? "").filter((p) => match.matches(p.metadata.labels ?? {}));
}

/** The namespace and name of a `namespace/name` queue key. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * The handlers both endpoint controllers register (upstream `onServiceUpdate`,
 * `onServiceDelete`, `addPod`, `updatePod`, `deletePod`): any change of a Service syncs it at
 * once; a pod change syncs the Services selecting the pod (for a label change, under its old
 * labels too) after `batchPeriodMs` (`--endpoint-updates-batch-period`).
 */
export function watchServicesAndPods(services: Informer, pods: Informer, queue: WorkQueue, batchPeriodMs = 0): void {
  services.addHandlers({
    add: (svc) => queue.add(objectKey(svc)),
    update: (_o, svc) => queue.add(objectKey(svc)),
    delete: (svc) => queue.add(objectKey(svc)),
  });
  const enqueue = (keys: Iterable<string>) => {
    for (const key of keys) queue.addAfter(key, batchPeriodMs);
  };
  pods.addHandlers({
    add: (pod) => enqueue(servicesSelecting(services, pod.metadata.namespace ?? "default", pod.metadata.labels)),
    update: (o, pod) => enqueue(servicesToUpdateOnPodChange(services, o, pod)),
    delete: (pod) => enqueue(servicesSelecting(services, pod.metadata.namespace ?? "default", pod.metadata.labels)),
  });
}

/** Keys (`namespace/name`) of the Services with a selector that selects these labels (`GetPodServiceMemberships`). */
export function servicesSelecting(services: Informer, namespace: string, labels: Readonly<Record<string, string>> | undefined): Set<string> {
  const keys = new Set<string>();
  for (const svc of services.list(namespace)) {
    const sel = serviceSelector(svc);
    if (sel && selectorFromSet(sel).matches(labels ?? {})) keys.add(`${namespace}/${svc.metadata.name}`);
  }
  return keys;
}

function ipsOf(pod: KubeObject): string {
  return podIPs(pod).join(",");
}

/**
 * `GetServicesToUpdateOnPodChange` with `podEndpointsChanged`: a pod update matters when its
 * labels, hostname/subdomain, deletion, readiness, IPs (or, here, terminal phase) changed; a label
 * change touches the Services of the old labels too.
 */
export function servicesToUpdateOnPodChange(services: Informer, oldPod: KubeObject, newPod: KubeObject): Set<string> {
  const ns = newPod.metadata.namespace ?? "default";
  const labelsChanged =
    JSON.stringify(oldPod.metadata.labels ?? {}) !== JSON.stringify(newPod.metadata.labels ?? {}) ||
    oldPod.spec?.hostname !== newPod.spec?.hostname ||
    oldPod.spec?.subdomain !== newPod.spec?.subdomain;
  const podChanged =
    oldPod.metadata.deletionTimestamp !== newPod.metadata.deletionTimestamp ||
    isPodReady(oldPod) !== isPodReady(newPod) ||
    ipsOf(oldPod) !== ipsOf(newPod) ||
    isPodTerminal(oldPod) !== isPodTerminal(newPod) ||
    oldPod.spec?.nodeName !== newPod.spec?.nodeName;
  if (!labelsChanged && !podChanged) return new Set();
  const keys = servicesSelecting(services, ns, newPod.metadata.labels);
  if (labelsChanged) for (const k of servicesSelecting(services, ns, oldPod.metadata.labels)) keys.add(k);
  return keys;
}

/**
 * `TriggerTimeTracker`: the last-change-trigger-time of an endpoints update is the earliest of the
 * trigger times (a pod's Ready transition, the Service's creation) that changed since the previous
 * sync of that Service; a Service seen for the first time reports its creation time.
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, { service: number; pods: Map<string, number> }>();

  /** Updates the Service's state and returns the trigger time (NaN: none, clear the annotation). */
  compute(service: KubeObject, pods: readonly KubeObject[]): number {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    const state = this.states.get(key);
    let min = Number.NaN;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const ready = (Array.isArray(pod.status?.conditions) ? pod.status.conditions : []).find((c: any) => c?.type === "Ready");
      const t = ready?.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : Number.NaN;
      if (Number.isNaN(t)) continue;
      podTimes.set(pod.metadata.name ?? "", t);
      const before = state?.pods.get(pod.metadata.name ?? "");
      if (before === undefined || t > before) min = Number.isNaN(min) ? t : Math.min(min, t);
    }
    const created = service.metadata.creationTimestamp ? Date.parse(service.metadata.creationTimestamp) : Number.NaN;
    if (!Number.isNaN(created) && (state === undefined || created > state.service)) min = Number.isNaN(min) ? created : Math.min(min, created);
    this.states.set(key, { service: Number.isNaN(created) ? 0 : created, pods: podTimes });
    if (!state) return created;
    return min;
  }

  /** Forgets a deleted Service. */
  delete(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}

/**
 * Sets `endpoints.kubernetes.io/last-change-trigger-time` from a `TriggerTimeTracker` time, or
 * removes it when there is none (NaN), on an annotations map the caller owns.
 */
export function setTriggerTimeAnnotation(annotations: Record<string, string>, triggerTime: number): void {
  if (!Number.isNaN(triggerTime)) annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime);
  else delete annotations[ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
}

/** Go's `time.RFC3339Nano` in UTC: fractional seconds only when non-zero, trailing zeros trimmed. */
export function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d{3})Z$/, (_m, frac: string) => {
    const trimmed = frac.replace(/0+$/, "");
    return trimmed ? `.${trimmed}Z` : "Z";
  });
}

/**
 * `apiequality.Semantic.DeepEqual` as far as these controllers need it: key order does not
 * matter, and absent, null, empty list and empty map are equal.
 */
export function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => semanticEqual(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual((a as any)[k], (b as any)[k])) return false;
    return true;
  }
  return a === b;
}

/** Error text of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Pod status exactly as the kubelet reports it, computed from what the runtime knows about each
 * container. Pure functions, each mirroring one upstream function:
 *
 * - `toContainerStatus`: `convertToAPIContainerStatuses` (`pkg/kubelet/kubelet_pods.go`): the
 *   default waiting reason (ContainerCreating, or PodInitializing when the pod has init
 *   containers), the latest instance as `state`, the one before as `lastState`, and the
 *   kubelet's last start error (the "reason cache": CrashLoopBackOff, ErrImagePull,
 *   CreateContainerConfigError...) shown as `waiting` when the container will be restarted
 *   (`ShouldContainerBeRestarted`).
 * - `started`/`ready`: the prober manager's `UpdatePodStatus` (`pkg/kubelet/prober/prober_manager.go`).
 * - `getPhase`: `getPhase` in `kubelet_pods.go` (init containers, sidecars, restartPolicy).
 * - conditions: `pkg/kubelet/status/generate.go` (PodReadyToStartContainers, Initialized, Ready,
 *   ContainersReady) plus PodScheduled, in the order the kubelet writes them; a condition keeps
 *   its `lastTransitionTime` while its status does not change (status manager).
 * - `getPodQOS`: `pkg/apis/core/v1/helper/qos/qos.go` `ComputePodQOS`.
 */
import { rfc3339 } from "../../api/clock.js";
import { parseQuantity } from "../../api/quantity.js";
import type { KubeObject } from "../../api/types.js";

/** A probe's state for the current container instance. */
export type ProbeState = "none" | "pending" | "success" | "failure";

/** One container instance as the runtime reports it (`kubecontainer.Status`). */
export interface RuntimeInstance {
  /** `containerd://<64 hex>`. */
  readonly id: string;
  readonly state: "created" | "running" | "exited";
  /** Start time; undefined when the process never started (a start error: the runtime reports the epoch). */
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly exitCode?: number;
  /** Completed, Error, OOMKilled, StartError (containerd). */
  readonly reason?: string;
  readonly message?: string;
  /** Attempt number: 0 for the first instance, +1 for each restart. */
  readonly restartCount: number;
  /** Fully qualified image (`docker.io/library/nginx:1.27`). */
  readonly image: string;
  /** `docker.io/library/nginx@sha256:...`. */
  readonly imageID: string;
}

/** What the kubelet knows about one container of a pod. */
export interface ContainerRuntimeView {
  readonly name: string;
  /** Latest instance, if one was ever created. */
  readonly current?: RuntimeInstance;
  /** The instance before the latest one. */
  readonly previous?: RuntimeInstance;
  /** The last start error (reason cache): `{reason: "CrashLoopBackOff", message: "back-off 10s ..."}`. */
  readonly waiting?: { readonly reason: string; readonly message?: string };
  /** Startup probe of the current instance ("none" when the container has no startup probe). */
  readonly startup: ProbeState;
  /** Readiness probe of the current instance ("none" when the container has no readiness probe). */
  readonly readiness: ProbeState;
}

/** `v1.ContainerState`. */
export interface ContainerState {
  waiting?: { reason?: string; message?: string };
  running?: { startedAt: string };
  terminated?: { exitCode: number; reason?: string; message?: string; startedAt: string; finishedAt: string; containerID?: string };
}

/** `v1.ContainerStatus`. */
export interface ContainerStatus {
  name: string;
  state: ContainerState;
  lastState: ContainerState;
  ready: boolean;
  restartCount: number;
  image: string;
  imageID: string;
  containerID?: string;
  started: boolean;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean; recursiveReadOnly?: string }[];
}

/** `v1.PodCondition`. */
export interface PodCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

/** `v1.PodStatus` as the kubelet writes it. */
export interface PodStatus {
  phase: "Pending" | "Running" | "Succeeded" | "Failed" | "Unknown";
  conditions: PodCondition[];
  message?: string;
  reason?: string;
  hostIP?: string;
  hostIPs?: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime?: string;
  initContainerStatuses?: ContainerStatus[];
  containerStatuses: ContainerStatus[];
  qosClass: "Guaranteed" | "Burstable" | "BestEffort";
}

type Spec = Record<string, any>;

/** True for a sidecar: an init container with `restartPolicy: Always`. */
export function isRestartableInitContainer(container: Spec): boolean {
  return container?.restartPolicy === "Always";
}

/** The pod's restartPolicy (default Always). */
export function restartPolicyOf(pod: KubeObject): "Always" | "OnFailure" | "Never" {
  return (pod.spec?.restartPolicy as "Always" | "OnFailure" | "Never" | undefined) ?? "Always";
}

// ---------------------------------------------------------------------------------------------
// QoS

const QOS_RESOURCES = ["cpu", "memory"];

/**
 * The pod's QoS class (`ComputePodQOS`): BestEffort without any cpu/memory request or limit;
 * Guaranteed when every container (init containers included) has cpu and memory limits and
 * requests equal to them; Burstable otherwise. Requests missing where a limit is set count as
 * equal to the limit, as API defaulting makes them.
 */
export function getPodQOS(pod: KubeObject): PodStatus["qosClass"] {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const containers: Spec[] = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const c of containers) {
    const lim: Record<string, string | number> = c.resources?.limits ?? {};
    // SetDefaults_Container: a limit without a request defaults the request to the limit.
    const req: Record<string, string | number> = { ...lim, ...(c.resources?.requests ?? {}) };
    for (const [name, q] of Object.entries(req)) {
      if (!QOS_RESOURCES.includes(name)) continue;
      const v = parseQuantity(q);
      if (v > 0) requests.set(name, (requests.get(name) ?? 0) + v);
    }
    const found = new Set<string>();
    for (const [name, q] of Object.entries(lim)) {
      if (!QOS_RESOURCES.includes(name)) continue;
      const v = parseQuantity(q);
      if (v > 0) {
        found.add(name);
        limits.set(name, (limits.get(name) ?? 0) + v);
      }
    }
    if (!(found.has("memory") && found.has("cpu"))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (guaranteed) {
    for (const [name, r] of requests) {
      const l = limits.get(name);
      if (l === undefined || Math.abs(l - r) > 1e-12 * Math.max(1, l)) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? "Guaranteed" : "Burstable";
}

// ---------------------------------------------------------------------------------------------
// Container statuses

/**
 * `ShouldContainerBeRestarted` (`pkg/kubelet/container/helpers.go`): never once the pod is
 * being deleted; always when never created or only created; never while running; for an exited
 * container, by the restart policy (sidecars always restart; regular init containers follow
 * OnFailure unless the pod says Never).
 */
export function shouldContainerBeRestarted(container: Spec, pod: KubeObject, current: RuntimeInstance | undefined, isInit = false): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  if (!current) return true;
  if (current.state === "running") return false;
  if (current.state === "created") return true;
  if (isInit && isRestartableInitContainer(container)) return true;
  const policy = restartPolicyOf(pod);
  if (policy === "Never") return false;
  if (policy === "OnFailure" || isInit) return (current.exitCode ?? 0) !== 0;
  return true;
}

function terminatedOf(i: RuntimeInstance): ContainerState {
  return {
    terminated: {
      exitCode: i.exitCode ?? 0,
      ...(i.reason ? { reason: i.reason } : {}),
      ...(i.message ? { message: i.message } : {}),
      startedAt: rfc3339(i.startedAt ?? 0),
      finishedAt: rfc3339(i.finishedAt ?? 0),
      containerID: i.id,
    },
  };
}

function stateOf(i: RuntimeInstance): ContainerState {
  if (i.state === "running") return { running: { startedAt: rfc3339(i.startedAt ?? 0) } };
  if (i.state === "created") return { waiting: {} };
  return terminatedOf(i);
}

/**
 * The API status of one container (`convertToAPIContainerStatuses` for one container, then the
 * prober manager's `started`/`ready`).
 */
export function toContainerStatus(spec: Spec, view: ContainerRuntimeView | undefined, pod: KubeObject, options: { hasInitContainers: boolean; isInit: boolean }): ContainerStatus {
  const status: ContainerStatus = {
    name: spec.name,
    state: { waiting: { reason: options.hasInitContainers ? "PodInitializing" : "ContainerCreating" } },
    lastState: {},
    ready: false,
    restartCount: 0,
    image: spec.image ?? "",
    imageID: "",
    started: false,
  };
  const mounts = (spec.volumeMounts ?? []) as Spec[];
  if (mounts.length) {
    status.volumeMounts = mounts.map((m) => ({
      name: m.name,
      mountPath: m.mountPath,
      ...(m.readOnly ? { readOnly: true, recursiveReadOnly: "Disabled" } : {}),
    }));
  }
  const cur = view?.current;
  if (cur) {
    status.restartCount = cur.restartCount;
    status.image = cur.image;
    status.imageID = cur.imageID;
    status.containerID = cur.id;
    status.state = stateOf(cur);
    if (view?.previous) status.lastState = stateOf(view.previous);
  }
  // Containers the kubelet will (re)start show its last start error as `waiting`.
  const initSucceeded = options.isInit && cur?.state === "exited" && cur.exitCode === 0;
  if (!initSucceeded && view?.waiting && shouldContainerBeRestarted(spec, pod, cur, options.isInit)) {
    if (status.state.terminated) status.lastState = status.state;
    status.state = { waiting: { reason: view.waiting.reason, ...(view.waiting.message ? { message: view.waiting.message } : {}) } };
  }
  // prober_manager.UpdatePodStatus
  const running = status.state.running !== undefined;
  const startup = view?.startup ?? "none";
  const readiness = view?.readiness ?? "none";
  status.started = running && (startup === "none" || startup === "success");
  if (options.isInit && !isRestartableInitContainer(spec)) {
    status.ready = status.state.terminated !== undefined && status.state.terminated.exitCode === 0;
  } else {
    status.ready = status.started && (readiness === "none" || readiness === "success");
  }
  return status;
}

// ---------------------------------------------------------------------------------------------
// Phase

function findStatus(statuses: readonly ContainerStatus[], name: string): ContainerStatus | undefined {
  return statuses.find((s) => s.name === name);
}

/** `HasAnyRegularContainerStarted`: some app container is running or has terminated. */
export function hasAnyRegularContainerStarted(pod: KubeObject, statuses: readonly ContainerStatus[]): boolean {
  const names = new Set(((pod.spec?.containers ?? []) as Spec[]).map((c) => c.name));
  return statuses.some((s) => names.has(s.name) && (s.state.running !== undefined || s.state.terminated !== undefined));
}

/**
 * `getPhase` (`kubelet_pods.go`): Pending while an init container or an app container waits;
 * Running once all app containers started and one runs (or, with restartPolicy Always, all are
 * restarting); Succeeded/Failed when all stopped and will not restart. `podIsTerminal` is true
 * once the kubelet has finished the pod (deleted or evicted): then stopped containers decide
 * Succeeded/Failed whatever the policy.
 */
export function getPhase(pod: KubeObject, statuses: readonly ContainerStatus[], podIsTerminal: boolean): PodStatus["phase"] {
  const spec = pod.spec ?? {};
  const policy = restartPolicyOf(pod);
  let pendingInitialization = 0;
  let failedInitialization = 0;
  for (const c of (spec.initContainers ?? []) as Spec[]) {
    if (isRestartableInitContainer(c)) continue;
    const s = findStatus(statuses, c.name);
    if (!s) {
      pendingInitialization++;
      continue;
    }
    if (s.state.running) pendingInitialization++;
    else if (s.state.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInitialization++;
    } else if (s.state.waiting) {
      if (s.lastState.terminated) {
        if (s.lastState.terminated.exitCode !== 0) failedInitialization++;
      } else pendingInitialization++;
    } else pendingInitialization++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of (spec.initContainers ?? []) as Spec[]) {
    if (!isRestartableInitContainer(c)) continue;
    const s = findStatus(statuses, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state.running) {
      if (!s.started) pendingInitialization++;
      running++;
    } else if (s.state.terminated) {
      // Stopped sidecars do not count.
    } else if (s.state.waiting) {
      if (!s.lastState.terminated) {
        pendingInitialization++;
        waiting++;
      }
    } else {
      pendingInitialization++;
      unknown++;
    }
  }
  for (const c of (spec.containers ?? []) as Spec[]) {
    const s = findStatus(statuses, c.name);
    if (!s) {
      unknown++;
      continue;
    }
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state.waiting) {
      if (s.lastState.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  if (failedInitialization > 0 && policy === "Never") return "Failed";
  if ((pendingInitialization > 0 && !hasAnyRegularContainerStarted(pod, statuses)) || waiting > 0) return "Pending";
  if (running > 0 && unknown === 0) return "Running";
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? "Succeeded" : "Failed";
    if (policy === "Always") return "Running";
    if (stopped === succeeded) return "Succeeded";
    if (policy === "Never") return "Failed";
    return "Running";
  }
  return "Pending";
}

// ---------------------------------------------------------------------------------------------
// Conditions

type Generated = Omit<PodCondition, "lastProbeTime" | "lastTransitionTime">;

/** Go's `%s` of a string slice: `[a b]`. */
const goList = (names: string[]) => `[${names.join(" ")}]`;

/** `GenerateContainersReadyCondition`. */
export function generateContainersReadyCondition(pod: KubeObject, statuses: readonly ContainerStatus[], phase: PodStatus["phase"]): Generated {
  const unknown: string[] = [];
  const unready: string[] = [];
  for (const c of (pod.spec?.initContainers ?? []) as Spec[]) {
    if (!isRestartableInitContainer(c)) continue;
    const s = findStatus(statuses, c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  for (const c of (pod.spec?.containers ?? []) as Spec[]) {
    const s = findStatus(statuses, c.name);
    if (!s) unknown.push(c.name);
    else if (!s.ready) unready.push(c.name);
  }
  if (phase === "Succeeded" && unknown.length === 0) return { type: "ContainersReady", status: "False", reason: "PodCompleted" };
  if (phase === "Failed") return { type: "ContainersReady", status: "False", reason: "PodFailed" };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (unready.length) messages.push(`containers with unready status: ${goList(unready)}`);
  if (messages.length) return { type: "ContainersReady", status: "False", reason: "ContainersNotReady", message: messages.join(", ") };
  return { type: "ContainersReady", status: "True" };
}

/** `GeneratePodReadyCondition`: ContainersReady, then the pod's readiness gates. */
export function generatePodReadyCondition(pod: KubeObject, conditions: readonly { type: string; status: string }[], statuses: readonly ContainerStatus[], phase: PodStatus["phase"]): Generated {
  const cr = generateContainersReadyCondition(pod, statuses, phase);
  if (cr.status !== "True") return { ...cr, type: "Ready" };
  const messages: string[] = [];
  for (const gate of (pod.spec?.readinessGates ?? []) as Spec[]) {
    const c = conditions.find((x) => x.type === gate.conditionType);
    if (!c) messages.push(`corresponding condition of pod readiness gate "${gate.conditionType}" does not exist.`);
    else if (c.status !== "True") messages.push(`the status of pod readiness gate "${gate.conditionType}" is not "True", but ${c.status}`);
  }
  if (messages.length) return { type: "Ready", status: "False", reason: "ReadinessGatesNotReady", message: messages.join(", ") };
  return { type: "Ready", status: "True" };
}

/** `GeneratePodInitializedCondition`. */
export function generatePodInitializedCondition(pod: KubeObject, statuses: readonly ContainerStatus[], phase: PodStatus["phase"]): Generated {
  const unknown: string[] = [];
  const incomplete: string[] = [];
  for (const c of (pod.spec?.initContainers ?? []) as Spec[]) {
    const s = findStatus(statuses, c.name);
    if (!s) {
      unknown.push(c.name);
      continue;
    }
    const initialized = isRestartableInitContainer(c) ? s.started : s.ready;
    if (!initialized) incomplete.push(c.name);
  }
  if (phase === "Succeeded" && unknown.length === 0) return { type: "Initialized", status: "True", reason: "PodCompleted" };
  if (hasAnyRegularContainerStarted(pod, statuses)) return { type: "Initialized", status: "True" };
  const messages: string[] = [];
  if (unknown.length) messages.push(`containers with unknown status: ${goList(unknown)}`);
  if (incomplete.length) messages.push(`containers with incomplete status: ${goList(incomplete)}`);
  if (messages.length) return { type: "Initialized", status: "False", reason: "ContainersNotInitialized", message: messages.join(", ") };
  return { type: "Initialized", status: "True" };
}

/** `GeneratePodReadyToStartContainersCondition`: True once the sandbox exists with its network. */
export function generatePodReadyToStartContainersCondition(sandboxReady: boolean): Generated {
  return { type: "PodReadyToStartContainers", status: sandboxReady ? "True" : "False" };
}

/** Condition types the kubelet owns (`kubetypes.PodConditionByKubelet`); others are kept as found. */
export const KUBELET_CONDITIONS = new Set(["PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers"]);

// ---------------------------------------------------------------------------------------------
// The whole status

/** Everything needed to compute a pod's status. */
export interface PodStatusInput {
  /** The pod as the kubelet last saw it from the API (spec, metadata, status). */
  readonly pod: KubeObject;
  /** Clock time, for new `lastTransitionTime`s. */
  readonly now: number;
  readonly hostIP?: string;
  /** Pod IPs once the sandbox exists. */
  readonly podIPs?: readonly string[];
  /** The sandbox exists and its network is set up. */
  readonly sandboxReady: boolean;
  /** When the kubelet first saw the pod (`status.startTime`). */
  readonly startTime?: number;
  readonly initContainers: readonly ContainerRuntimeView[];
  readonly containers: readonly ContainerRuntimeView[];
  /** The kubelet has finished the pod (deleted, evicted, deadline exceeded). */
  readonly podIsTerminal?: boolean;
  /** Pod-level reason and message (`DeadlineExceeded`, `Evicted`). */
  readonly reason?: string;
  readonly message?: string;
  /**
   * The kubelet evicted the pod (active deadline exceeded, node pressure): the phase is Failed
   * whatever the containers say (`generateAPIPodStatus`, pod sync handlers' `ShouldEvict`).
   */
  readonly evicted?: boolean;
  /**
   * The status this kubelet last generated (the status manager's cache), preferred over the
   * API's `pod.status` as the basis: conditions keep their `lastTransitionTime` from it.
   */
  readonly previous?: PodStatus;
}

/** Container statuses of the status `buildPodStatus` would write: app containers by name, then init containers in order. */
function containerStatusesOf(input: PodStatusInput): { hasInit: boolean; initStatuses: ContainerStatus[]; statuses: ContainerStatus[]; all: ContainerStatus[] } {
  const { pod } = input;
  const spec = pod.spec ?? {};
  const hasInit = ((spec.initContainers ?? []) as Spec[]).length > 0;
  const initStatuses = ((spec.initContainers ?? []) as Spec[]).map((c) =>
    toContainerStatus(c, input.initContainers.find((v) => v.name === c.name), pod, { hasInitContainers: hasInit, isInit: true }),
  );
  const statuses = ((spec.containers ?? []) as Spec[])
    .map((c) => toContainerStatus(c, input.containers.find((v) => v.name === c.name), pod, { hasInitContainers: hasInit, isInit: false }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { hasInit, initStatuses, statuses, all: [...statuses, ...initStatuses] };
}

/** The phase of the status `buildPodStatus` would write, from its container statuses. */
function phaseOf(input: PodStatusInput, all: readonly ContainerStatus[]): PodStatus["phase"] {
  const apiStatus = (input.pod.status ?? {}) as Partial<PodStatus>;
  const old = (input.previous ?? apiStatus) as Partial<PodStatus>;
  let phase = getPhase(input.pod, all, input.podIsTerminal === true);
  // Pods never leave a terminal phase.
  for (const prior of [old.phase, apiStatus.phase]) if ((prior === "Failed" || prior === "Succeeded") && phase !== prior) phase = prior;
  if (input.evicted) phase = "Failed";
  return phase;
}

/**
 * Only the phase of the status `buildPodStatus` would write, without building the conditions
 * (the kubelet's admission asks every pod on the node whether it is terminal).
 */
export function buildPodPhase(input: PodStatusInput): PodStatus["phase"] {
  return phaseOf(input, containerStatusesOf(input).all);
}

/**
 * The status the kubelet writes for a pod (`generateAPIPodStatus` + the status manager's
 * `lastTransitionTime` bookkeeping). Non-kubelet conditions on the pod (readiness gates,
 * DisruptionTarget) are kept first, then the kubelet's, in upstream order.
 */
export function buildPodStatus(input: PodStatusInput): PodStatus {
  const { pod } = input;
  const apiStatus = (pod.status ?? {}) as Partial<PodStatus>;
  const old = (input.previous ?? apiStatus) as Partial<PodStatus>;
  const { hasInit, initStatuses, statuses, all } = containerStatusesOf(input);
  const phase = phaseOf(input, all);

  const oldConditions = (old.conditions ?? []) as PodCondition[];
  const apiConditions = (apiStatus.conditions ?? []) as PodCondition[];
  const stamp = (c: Generated): PodCondition => {
    // PodScheduled is the scheduler's: its time comes from the API object.
    const prev = (c.type === "PodScheduled" ? apiConditions.find((o) => o.type === c.type) : undefined) ?? oldConditions.find((o) => o.type === c.type);
    const lastTransitionTime = prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : rfc3339(input.now);
    return { type: c.type, status: c.status, lastProbeTime: null, lastTransitionTime, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}) };
  };
  // Conditions owned by others (readiness gates, DisruptionTarget) are kept as the API has them.
  const conditions: PodCondition[] = apiConditions.filter((c) => !KUBELET_CONDITIONS.has(c.type));
  conditions.push(stamp(generatePodReadyToStartContainersCondition(input.sandboxReady)));
  conditions.push(stamp(generatePodInitializedCondition(pod, all, phase)));
  conditions.push(stamp(generatePodReadyCondition(pod, conditions, all, phase)));
  conditions.push(stamp(generateContainersReadyCondition(pod, all, phase)));
  conditions.push(stamp({ type: "PodScheduled", status: "True" }));

  const status: PodStatus = { phase, conditions, containerStatuses: statuses, qosClass: getPodQOS(pod) };
  const reason = input.reason ?? (old.phase === phase ? old.reason : undefined);
  const message = input.message ?? (old.phase === phase ? old.message : undefined);
  if (reason) status.reason = reason;
  if (message) status.message = message;
  if (input.hostIP) {
    status.hostIP = input.hostIP;
    status.hostIPs = [{ ip: input.hostIP }];
  }
  if (input.podIPs?.length) {
    status.podIP = input.podIPs[0];
    status.podIPs = input.podIPs.map((ip) => ({ ip }));
  }
  const start = apiStatus.startTime ?? old.startTime ?? (input.startTime !== undefined ? rfc3339(input.startTime) : undefined);
  if (start) status.startTime = start;
  if (hasInit) status.initContainerStatuses = initStatuses;
  return status;
}

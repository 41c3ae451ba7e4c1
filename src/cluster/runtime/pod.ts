/**
 * One pod on a node, as the kubelet runs it: volumes, the sandbox (network, pod IP), init
 * containers one at a time, sidecars, then the app containers, each a `ContainerMachine`; the
 * pod status written whenever it changes; graceful termination; logs; traffic and usage.
 *
 * The kubelet loop (watching pods bound to its node through the API) creates one `PodRuntime`
 * per pod, passes every newer version of the pod to `updatePod`, writes `onStatus` results
 * through the status subresource, records `onEvent` events, and calls `terminate` when the pod
 * gets a deletionTimestamp (then deletes the pod object once it resolves).
 *
 * Order of a pod's start, as upstream `SyncPod` does it:
 * 1. volumes are mounted (a missing ConfigMap or Secret volume: FailedMount, retried with the
 *    volume manager's back-off, 500 ms doubling to 2m2s; the pod stays ContainerCreating);
 * 2. the sandbox is created and its network set up (PodReadyToStartContainers, pod IP);
 * 3. init containers run one at a time, in order, each to success (sidecars, init containers
 *    with `restartPolicy: Always`, only need to have started);
 * 4. the app containers start. PLEG notices the new sandbox one relist later and syncs the pod
 *    again, which is why a failed image pull turns into ImagePullBackOff right away.
 */
import type { Clock, Timer } from "../../api/clock.js";
import { rfc3339 } from "../../api/clock.js";
import type { KubeObject } from "../../api/types.js";
import { ContainerMachine, DEFAULT_TERMINATION_GRACE_SECONDS, PLEG_RELIST_MS, type ContainerKind, type MachineContainerSpec, type RuntimeEvent } from "./container.js";
import { missingVolumeSource, resolveContainerEnv, type ConfigLookup, type EnvContext } from "./env.js";
import type { NodeImageStore } from "./images.js";
import { formatLogTimestamp, type LogLine } from "./logs.js";
import { buildPodPhase, buildPodStatus, restartPolicyOf, type PodStatus, type PodStatusInput, type RuntimeInstance } from "./pod-status.js";

/** Time to create a sandbox and set up its network. */
export const SANDBOX_SETUP_MS = 500;
/** First retry delay of the volume manager (`exponentialbackoff.initialDurationBeforeRetry`, 500 ms). */
export const VOLUME_RETRY_INITIAL_MS = 500;
/** Longest retry delay of the volume manager (`maxDurationBeforeRetry`, 2m2s). */
export const VOLUME_RETRY_MAX_MS = 122_000;

/** What a `PodRuntime` is given. */
export interface PodRuntimeOptions {
  readonly clock: Clock;
  /** The pod as bound to this node. */
  readonly pod: KubeObject;
  /** The node's IP (`status.hostIP`). */
  readonly hostIP: string;
  /** The pod's IP, allocated by the kubelet from the node's pod CIDR. */
  readonly podIP: string;
  /** The node's images and puller. */
  readonly images: NodeImageStore;
  /** ConfigMaps and Secrets (the kubelet's cache); without it none exist. */
  readonly lookup?: ConfigLookup;
  /** Service environment variables for containers. */
  readonly serviceEnv?: Readonly<Record<string, string>>;
  /** Node allocatable, for `resourceFieldRef` without a limit. */
  readonly nodeAllocatable?: EnvContext["nodeAllocatable"];
  /** Node CPUs (nginx starts one worker per CPU). */
  readonly cpus?: number;
  /** Jitter source for pod worker retries (none: exact 10 s). */
  readonly random?: () => number;
  /** Events to record (about the pod; container events carry a fieldPath). */
  readonly onEvent?: (event: RuntimeEvent) => void;
  /** Called with the new status whenever it changes. */
  readonly onStatus?: (status: PodStatus) => void;
  /** Sandbox setup time (default `SANDBOX_SETUP_MS`). */
  readonly sandboxMs?: number;
  /**
   * Per container name, the instance that ran before the node restarted (app containers and
   * sidecars; regular init containers run again from scratch in the new sandbox).
   */
  readonly priorInstances?: Readonly<Record<string, RuntimeInstance>>;
}

/** Result of a log read: the text, or the kubelet's error (`validateContainerLogStatus`). */
export type LogResult = { readonly ok: true; readonly text: string; readonly lines: LogLine[] } | { readonly ok: false; readonly message: string };

const NO_CONFIG: ConfigLookup = { configMap: () => undefined, secret: () => undefined };

/** A pod running on a simulated node. */
export class PodRuntime {
  private readonly options: PodRuntimeOptions;
  private pod: KubeObject;
  private readonly initMachines: ContainerMachine[] = [];
  private readonly appMachines: ContainerMachine[] = [];
  private readonly enabled = new Set<ContainerMachine>();
  private sandboxReady = false;
  private startTime: number | undefined;
  private terminating = false;
  private terminal = false;
  private halted = false;
  private evicted = false;
  private reason: string | undefined;
  private message: string | undefined;
  private lastStatusJson = "";
  private lastStatus: PodStatus | undefined;
  private emitScheduled = false;
  private readonly timers: Timer[] = [];
  /** Every event recorded, in order (capped), for tests and views. */
  readonly events: RuntimeEvent[] = [];

  constructor(options: PodRuntimeOptions) {
    this.options = options;
    this.pod = options.pod;
    const spec = options.pod.spec ?? {};
    const identity = {
      name: options.pod.metadata.name ?? "",
      namespace: options.pod.metadata.namespace ?? "default",
      uid: options.pod.metadata.uid ?? options.pod.metadata.name ?? "",
      restartPolicy: restartPolicyOf(options.pod),
      terminationGracePeriodSeconds: spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS,
    };
    const make = (c: MachineContainerSpec, kind: ContainerKind) =>
      new ContainerMachine({
        clock: options.clock,
        pod: identity,
        spec: c,
        kind,
        images: options.images,
        resolveEnv: () =>
          resolveContainerEnv({
            pod: this.pod,
            container: c as Record<string, any>,
            lookup: options.lookup ?? NO_CONFIG,
            podIP: options.podIP,
            hostIP: options.hostIP,
            serviceEnv: options.serviceEnv,
            nodeAllocatable: options.nodeAllocatable,
          }),
        podIP: () => (this.sandboxReady ? options.podIP : ""),
        hostIP: options.hostIP,
        cpus: options.cpus,
        random: options.random,
        onEvent: (e) => this.record(e),
        onChange: () => this.changed(),
        ...(kind !== "init" && options.priorInstances?.[c.name] ? { prior: options.priorInstances[c.name] } : {}),
      });
    for (const c of (spec.initContainers ?? []) as MachineContainerSpec[]) this.initMachines.push(make(c, c.restartPolicy === "Always" ? "sidecar" : "init"));
    for (const c of (spec.containers ?? []) as MachineContainerSpec[]) this.appMachines.push(make(c, "regular"));
  }

  /** Starts running the pod: volumes, sandbox, containers. */
  start(): void {
    if (this.startTime !== undefined) return;
    this.startTime = this.options.clock.now();
    this.changed();
    this.mountVolumes(0);
    const deadline = this.pod.spec?.activeDeadlineSeconds;
    if (typeof deadline === "number") this.timers.push(this.options.clock.setTimeout(() => void this.deadlineExceeded(), deadline * 1000));
  }

  /**
   * A newer version of the pod from the API (labels, deletionTimestamp, a changed container
   * image: that container is restarted with the new image, as the kubelet does).
   */
  updatePod(pod: KubeObject): void {
    this.pod = pod;
    const specs = [...((pod.spec?.initContainers ?? []) as MachineContainerSpec[]), ...((pod.spec?.containers ?? []) as MachineContainerSpec[])];
    for (const m of this.containers()) {
      const spec = specs.find((c) => c.name === m.spec.name);
      if (spec && !this.terminating) m.updateSpec(spec, this.enabled.has(m));
    }
    this.changed();
  }

  /** The status the kubelet reports now. */
  status(): PodStatus {
    return buildPodStatus(this.statusInput());
  }

  private statusInput(): PodStatusInput {
    const pod = this.terminating && !this.pod.metadata.deletionTimestamp ? { ...this.pod, metadata: { ...this.pod.metadata, deletionTimestamp: rfc3339(this.options.clock.now()) } } : this.pod;
    return {
      pod,
      now: this.options.clock.now(),
      hostIP: this.options.hostIP,
      podIPs: this.sandboxReady ? [this.options.podIP] : [],
      sandboxReady: this.sandboxReady && !this.terminal,
      startTime: this.startTime,
      initContainers: this.initMachines.map((m) => m.view()),
      containers: this.appMachines.map((m) => m.view()),
      podIsTerminal: this.terminal,
      reason: this.reason,
      message: this.message,
      evicted: this.evicted,
      previous: this.lastStatus,
    };
  }

  /** The machine of a container, by name (init or app). */
  container(name: string): ContainerMachine | undefined {
    return [...this.initMachines, ...this.appMachines].find((m) => m.spec.name === name);
  }

  /** All containers, init containers first. */
  containers(): readonly ContainerMachine[] {
    return [...this.initMachines, ...this.appMachines];
  }

  /** True once the pod has reached Succeeded or Failed, or has been terminated. */
  isTerminal(): boolean {
    if (this.terminal) return true;
    // Only the phase is needed: the conditions of a full status are not built.
    const phase = buildPodPhase(this.statusInput());
    return phase === "Succeeded" || phase === "Failed";
  }

  private record(e: RuntimeEvent): void {
    if (this.halted) return;
    this.events.push(e);
    if (this.events.length > 5000) this.events.splice(0, this.events.length - 5000);
    this.options.onEvent?.(e);
  }

  private podEvent(type: "Normal" | "Warning", reason: string, message: string): void {
    this.record({ type, reason, message, time: this.options.clock.now() });
  }

  /** Something changed: emit the status (once per instant) and let init progress. */
  private changed(): void {
    if (this.halted) return;
    this.advance();
    if (this.emitScheduled) return;
    this.emitScheduled = true;
    this.options.clock.setTimeout(() => {
      this.emitScheduled = false;
      if (this.halted) return;
      const status = this.status();
      const json = JSON.stringify(status);
      if (json === this.lastStatusJson) return;
      this.lastStatusJson = json;
      this.lastStatus = status;
      this.options.onStatus?.(status);
    }, 0);
  }

  private mountVolumes(attempt: number): void {
    if (this.halted || this.terminating) return;
    const missing = this.options.lookup ? missingVolumeSource(this.pod, this.options.lookup) : undefined;
    if (missing) {
      this.podEvent("Warning", "FailedMount", missing);
      const delay = Math.min(VOLUME_RETRY_INITIAL_MS * 2 ** attempt, VOLUME_RETRY_MAX_MS);
      this.timers.push(this.options.clock.setTimeout(() => this.mountVolumes(attempt + 1), delay));
      return;
    }
    this.timers.push(
      this.options.clock.setTimeout(() => {
        if (this.halted || this.terminating) return;
        this.sandboxReady = true;
        this.changed();
        // PLEG sees the new sandbox at its next relist and the pod worker syncs the pod again.
        this.timers.push(
          this.options.clock.setTimeout(() => {
            if (this.halted || this.terminating) return;
            for (const m of this.enabled) void m.sync();
          }, PLEG_RELIST_MS),
        );
      }, this.options.sandboxMs ?? SANDBOX_SETUP_MS),
    );
  }

  /** Lets the next containers start: init containers in order, then the app containers. */
  private advance(): void {
    if (!this.sandboxReady || this.terminating || this.halted) return;
    for (const m of this.initMachines) {
      if (m.options.kind === "sidecar") {
        this.enable(m);
        const v = m.view();
        const started = v.current?.state === "running" && (v.startup === "none" || v.startup === "success");
        if (!started && !this.anyAppStarted()) return;
        continue;
      }
      const cur = m.view().current;
      if (cur?.state === "exited" && cur.exitCode === 0) continue;
      this.enable(m);
      return;
    }
    for (const m of this.appMachines) this.enable(m);
  }

  private anyAppStarted(): boolean {
    return this.appMachines.some((m) => m.view().current !== undefined);
  }

  private enable(m: ContainerMachine): void {
    if (this.enabled.has(m)) return;
    this.enabled.add(m);
    this.options.clock.setTimeout(() => void m.sync(), 0);
  }

  /**
   * Stops the pod: every container gets "Stopping container <name>" and the grace period
   * (`deletionGracePeriodSeconds`, else `terminationGracePeriodSeconds`, default 30 s); app
   * containers first, then sidecars. Resolves when all have exited; the pod is then terminal
   * (Succeeded when every container exited 0, Failed otherwise).
   */
  async terminate(gracePeriodSeconds?: number): Promise<void> {
    if (this.terminating) return;
    this.terminating = true;
    for (const t of this.timers) t.cancel();
    const grace =
      (gracePeriodSeconds ?? this.pod.metadata.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_SECONDS) * 1000;
    this.changed();
    const regularInit = this.initMachines.filter((m) => m.options.kind === "init");
    await Promise.all([...this.appMachines, ...regularInit].map((m) => m.terminate(grace)));
    for (const m of [...this.initMachines].reverse().filter((x) => x.options.kind === "sidecar")) await m.terminate(grace);
    this.terminal = true;
    this.changed();
  }

  private async deadlineExceeded(): Promise<void> {
    if (this.terminating || this.halted || this.isTerminal()) return;
    // activeDeadlineHandler: the pod fails with DeadlineExceeded and its containers are killed.
    await this.evict("DeadlineExceeded", "Pod was active on the node longer than the specified deadline", "Normal");
  }

  /**
   * The kubelet evicts the pod (node memory pressure, a deadline): event `reason`, phase Failed
   * with that reason and message whatever the containers' exit codes, containers stopped with
   * the grace period. E.g. `evict("Evicted", "The node was low on resource: memory. ...", "Warning")`.
   */
  async evict(reason: string, message: string, type: "Normal" | "Warning" = "Warning", gracePeriodSeconds?: number): Promise<void> {
    if (this.terminating || this.halted) return;
    this.evicted = true;
    this.reason = reason;
    this.message = message;
    this.podEvent(type, reason, message);
    await this.terminate(gracePeriodSeconds);
  }

  /** The node is gone: stop everything silently (no more status, events or restarts). */
  halt(): void {
    this.halted = true;
    for (const t of this.timers) t.cancel();
    for (const m of [...this.initMachines, ...this.appMachines]) m.halt();
  }

  /**
   * Reads a container's log as `kubectl logs` gets it from the kubelet, with the kubelet's
   * errors for containers that have none (`validateContainerLogStatus`).
   */
  logs(containerName: string, options: { previous?: boolean; tailLines?: number; sinceMs?: number; timestamps?: boolean } = {}): LogResult {
    const podName = this.pod.metadata.name ?? "";
    const status = this.status();
    const cs = [...(status.initContainerStatuses ?? []), ...status.containerStatuses].find((s) => s.name === containerName);
    const machine = this.container(containerName);
    if (!cs || !machine) return { ok: false, message: `container "${containerName}" in pod "${podName}" is not available` };
    let id: string | undefined;
    const last = cs.lastState.terminated;
    if (options.previous) {
      if (!last?.containerID) return { ok: false, message: `previous terminated container "${containerName}" in pod "${podName}" not found` };
      id = last.containerID;
    } else if (cs.state.running) id = cs.containerID;
    else if (cs.state.terminated) {
      id = cs.state.terminated.containerID || last?.containerID;
      if (!id) return { ok: false, message: `container "${containerName}" in pod "${podName}" is terminated` };
    } else if (last) {
      if (!last.containerID) return { ok: false, message: `container "${containerName}" in pod "${podName}" is terminated` };
      id = last.containerID;
    } else if (cs.state.waiting) {
      const reason = cs.state.waiting.reason;
      if (reason === "ErrImagePull") return { ok: false, message: `container "${containerName}" in pod "${podName}" is waiting to start: image can't be pulled` };
      if (reason === "ImagePullBackOff") return { ok: false, message: `container "${containerName}" in pod "${podName}" is waiting to start: trying and failing to pull image` };
      return { ok: false, message: `container "${containerName}" in pod "${podName}" is waiting to start: ${reason ?? ""}` };
    } else return { ok: false, message: `container "${containerName}" in pod "${podName}" is waiting to start - no logs yet` };
    const lines = machine.logsOf(id!, { tailLines: options.tailLines, sinceMs: options.sinceMs }) ?? [];
    const text = lines.map((l) => (options.timestamps ? `${formatLogTimestamp(l.time)} ${l.text}` : l.text)).join("\n") + (lines.length ? "\n" : "");
    return { ok: true, text, lines };
  }

  /**
   * Delivers an HTTP request to the pod on `port` (a Service's target port): the status the
   * container answers, or undefined when nothing listens there (connection refused).
   */
  serve(request: { port: number; path?: string; method?: string; clientIP: string; userAgent?: string; host?: string }): number | undefined {
    if (!this.sandboxReady || this.terminal) return undefined;
    for (const m of this.appMachines) {
      const status = m.serve({ ...request, path: request.path ?? "/" });
      if (status !== undefined) return status;
    }
    return undefined;
  }

  /** CPU (millicores) and memory (bytes) per running container, for the metrics API. */
  usage(): { name: string; cpuMillis: number; memoryBytes: number }[] {
    return [...this.initMachines, ...this.appMachines].map((m) => ({ name: m.spec.name, ...m.usage() })).filter((u) => u.memoryBytes > 0 || u.cpuMillis > 0);
  }

  /** Fault: makes a running container crash now (exit 1). */
  crash(containerName: string): boolean {
    return this.container(containerName)?.crash() ?? false;
  }

  /** Fault: OOM-kills a running container now (exit 137, OOMKilled). */
  oomKill(containerName: string): boolean {
    return this.container(containerName)?.oomKill() ?? false;
  }
}

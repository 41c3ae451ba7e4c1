/**
 * The kubelet of one simulated node (upstream `pkg/kubelet`). It talks to the cluster only
 * through the API client, as a real kubelet talks only to the kube-apiserver:
 *
 * - Registration (`registerWithAPIServer`): creates its Node with labels, taints, capacity,
 *   allocatable, addresses, nodeInfo, images and conditions; when the Node already exists (a
 *   restart) it reconciles the default labels and posts its status.
 * - Heartbeats: renews its Lease in `kube-node-lease` every 10 s (a quarter of the 40 s lease
 *   duration, `nodeLeaseDurationSeconds`), and posts the node status every 10 s
 *   (`nodeStatusUpdateFrequency`) when it changed, at least every 5 min
 *   (`nodeStatusReportFrequency`).
 * - Pods: an informer on pods with `spec.nodeName=<node>`; each new pod is admitted (pod count,
 *   CPU and memory against allocatable, as `lifecycle.PredicateAdmitHandler`), gets a fresh IP
 *   from the node's pod CIDR, and runs in a `PodRuntime`; every status change is written through
 *   the status subresource and every runtime event recorded, with `spec.containers{name}` as
 *   field path for container events. ConfigMaps and Secrets come from informers, so a missing one
 *   gives CreateContainerConfigError until it appears.
 * - Graceful deletion: a pod with a deletionTimestamp is stopped (preStop, SIGTERM, grace period,
 *   SIGKILL), its terminal status written, then the kubelet deletes it with grace period 0 and
 *   its UID as precondition (the status manager's `canBeDeleted` path).
 *
 * Faults: `powerOff` is a machine losing power (no heartbeat, no status, containers gone; the API
 * keeps the last reported state), `powerOn` boots it again (new boot ID, re-registration, pods
 * deleted meanwhile are finished off, the others restarted in a new sandbox with a new IP and
 * restartCount + 1, their previous containers shown as `Unknown`, exit code 255, as containerd
 * reports containers lost in a reboot), and `partition`/`heal` cut and restore the kubelet's
 * connection to the API server while its containers keep running.
 */
import type { Timer } from "../../api/clock.js";
import { parseTime, rfc3339Micro } from "../../api/clock.js";
import { isReason } from "../../api/errors.js";
import { Informer } from "../../api/informer.js";
import { milliValue, parseQuantity } from "../../api/quantity.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { NodeImageStore, PodRuntime, type ConfigLookup, type LogResult, type PodStatus, type RuntimeEvent, type RuntimeInstance } from "../runtime/index.js";
import { PodIpAllocator } from "./_ipam.js";
import { initialNode, nodeAllocatable, nodeStatusHasChanged, setNodeStatus, type MachineInfo } from "./_node-status.js";
import { LABEL_ARCH, LABEL_ARCH_BETA, LABEL_HOSTNAME, LABEL_OS, LABEL_OS_BETA, LABEL_REGION, LABEL_ZONE, type NodeSpec } from "./node-spec.js";

/** Component name, as in `kubectl get events` sources. */
export const KUBELET_NAME = "kubelet";
/** Namespace of the node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = "kube-node-lease";
/** `nodeLeaseDurationSeconds` default. */
export const NODE_LEASE_DURATION_SECONDS = 40;
/** Lease renew interval: 25 % of the lease duration (`renewIntervalFraction`), 10 s. */
export const NODE_LEASE_RENEW_INTERVAL_MS = 10_000;
/** `nodeStatusUpdateFrequency` default. */
export const NODE_STATUS_UPDATE_FREQUENCY_MS = 10_000;
/** `nodeStatusReportFrequency` default: an unchanged status is still posted this often. */
export const NODE_STATUS_REPORT_FREQUENCY_MS = 300_000;
/** Sandbox (pause) image every node has. */
export const PAUSE_IMAGE = "registry.k8s.io/pause:3.10";
/** Retry period of the kubelet's loops (`backOffPeriod`). */
const RETRY_MS = 10_000;
/** The status manager's `syncBatch` period: statuses the API lost or others overwrote are written again. */
const STATUS_RECONCILE_MS = 10_000;
/** Pod condition types the kubelet owns (`kubetypes.PodConditionsByKubelet`). */
const KUBELET_POD_CONDITIONS = new Set(["PodScheduled", "Ready", "Initialized", "ContainersReady", "PodReadyToStartContainers"]);

/** `statusKey` of frozen statuses (from the informer cache), computed once per object: `syncBatch` asks every 10 s. */
const statusKeys = new WeakMap<object, string>();

/** The part of a pod status the kubelet owns, to compare what the API holds with what the kubelet wrote (`needsReconcile`). */
function statusKey(status: any): string {
  if (!status) return "";
  if (typeof status !== "object" || !Object.isFrozen(status)) return computeStatusKey(status);
  let key = statusKeys.get(status);
  if (key === undefined) statusKeys.set(status, (key = computeStatusKey(status)));
  return key;
}

function computeStatusKey(status: any): string {
  const conditions = ((status.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[])
    .filter((c) => KUBELET_POD_CONDITIONS.has(c.type))
    .map((c) => [c.type, c.status, c.reason ?? "", c.message ?? ""]);
  return JSON.stringify([status.phase, status.reason ?? "", conditions, status.containerStatuses ?? [], status.initContainerStatuses ?? [], status.podIP ?? "", status.hostIP ?? ""]);
}

/** Options of a kubelet. */
export interface KubeletOptions {
  /** Time from boot until the runtime answers its first status check (first PLEG relist), when Ready turns True. Default 1 s. */
  readonly runtimeReadyAfterMs?: number;
  readonly nodeStatusUpdateFrequencyMs?: number;
  readonly nodeStatusReportFrequencyMs?: number;
  readonly leaseDurationSeconds?: number;
  /** Images present on the node from the start (default: the pause image). */
  readonly preloadedImages?: readonly string[];
  /** Sandbox creation time per pod (default the runtime's 500 ms). */
  readonly sandboxMs?: number;
}

/** Where the machine is. */
export type KubeletState = "new" | "running" | "powered-off" | "stopped";

/** One pod this kubelet knows about. */
interface PodEntry {
  readonly uid: string;
  readonly namespace: string;
  readonly name: string;
  pod: KubeObject;
  runtime?: PodRuntime;
  ip?: string;
  /** Latest status not yet written. */
  pending?: PodStatus;
  /** Resolves when the status write loop is idle. */
  flushing?: Promise<void>;
  /** The kubelet-owned part of the last status written (`statusKey`). */
  written?: string;
  terminating: boolean;
  /** The pod is gone from the API (deleted by this kubelet or force-deleted). */
  gone: boolean;
}

type AdmitResult = { ok: true } | { ok: false; reason: string; message: string };

/** Builds the kubelet of a node. */
export function kubelet(ctx: ClusterContext, spec: NodeSpec, options: KubeletOptions = {}): Kubelet {
  return new Kubelet(ctx, spec, options);
}

/** The kubelet of one simulated node. */
export class Kubelet implements Component {
  readonly name = KUBELET_NAME;
  /** The node's images; they survive reboots, as images on disk do. */
  readonly images: NodeImageStore;
  private readonly recorder;
  private readonly ipam: PodIpAllocator;
  private readonly options: Required<Omit<KubeletOptions, "sandboxMs" | "preloadedImages">> & Pick<KubeletOptions, "sandboxMs">;
  private machine: MachineInfo;
  private currentState: KubeletState = "new";
  private connected = true;
  /** Bumped on every power change: async work started under an older boot gives up. */
  private boot = 0;
  private timers: Timer[] = [];
  private podInformer: Informer | undefined;
  /** The pod informer is listing/watching (not stopped by a partition or a shutdown). */
  private informerRunning = false;
  private configMaps: Informer | undefined;
  private secrets: Informer | undefined;
  private readonly pods = new Map<string, PodEntry>();
  /** Containers of each pod as the runtime left them at power-off (containerd's records on disk). */
  private readonly disk = new Map<string, Record<string, RuntimeInstance>>();
  private runtimeReady = false;
  private lastStatusReport = Number.NEGATIVE_INFINITY;
  private lease: KubeObject | undefined;
  /** The current boot's registration and start-up, done or waiting for the network. */
  private bootSequence: Promise<void> | undefined;
  private nodeUid: string | undefined;
  private connectWaiters: Array<(ok: boolean) => void> = [];
  private readonly lookup: ConfigLookup;

  constructor(
    private readonly ctx: ClusterContext,
    readonly spec: NodeSpec,
    options: KubeletOptions = {},
  ) {
    this.options = {
      runtimeReadyAfterMs: options.runtimeReadyAfterMs ?? 1000,
      nodeStatusUpdateFrequencyMs: options.nodeStatusUpdateFrequencyMs ?? NODE_STATUS_UPDATE_FREQUENCY_MS,
      nodeStatusReportFrequencyMs: options.nodeStatusReportFrequencyMs ?? NODE_STATUS_REPORT_FREQUENCY_MS,
      leaseDurationSeconds: options.leaseDurationSeconds ?? NODE_LEASE_DURATION_SECONDS,
      sandboxMs: options.sandboxMs,
    };
    this.images = new NodeImageStore({ clock: ctx.clock, preloaded: options.preloadedImages ?? [PAUSE_IMAGE] });
    this.ipam = new PodIpAllocator(spec.podCIDR);
    this.recorder = ctx.recorder({ component: KUBELET_NAME, host: spec.name });
    this.machine = { machineID: this.hex(32), systemUUID: this.uuid(), bootID: this.uuid() };
    this.lookup = {
      configMap: (ns, name) => this.configMaps?.get(ns, name) as { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined,
      secret: (ns, name) => this.secrets?.get(ns, name) as { data?: Record<string, string>; stringData?: Record<string, string> } | undefined,
    };
  }

  /** The node's name. */
  get nodeName(): string {
    return this.spec.name;
  }

  /** `running`, `powered-off`, `stopped` (component stopped) or `new` (not started). */
  get state(): KubeletState {
    return this.currentState;
  }

  /** False while the node is cut off from the API server (`partition`). */
  get isConnected(): boolean {
    return this.connected;
  }

  /** The boot ID reported in `status.nodeInfo.bootID` (changes at every boot). */
  get bootID(): string {
    return this.machine.bootID;
  }

  // ------------------------------------------------------------------------------ lifecycle

  /** Boots the kubelet: registers the node, starts heartbeats and the pod loop. */
  async start(): Promise<void> {
    if (this.currentState !== "new") return;
    this.configMaps = this.ctx.informers.for("v1", "ConfigMap");
    this.secrets = this.ctx.informers.for("v1", "Secret");
    await this.bootUp();
  }

  /** Stops the kubelet for good (the cluster shuts down): no more writes of any kind. */
  stop(): void {
    this.currentState = "stopped";
    this.shutDown();
  }

  /**
   * Fault: the machine loses power. Heartbeats and status updates stop, every container is gone;
   * the API keeps the pods' last reported status, as it does for a dead machine.
   */
  powerOff(): void {
    if (this.currentState !== "running") return;
    this.currentState = "powered-off";
    const now = this.ctx.clock.now();
    for (const e of this.pods.values()) {
      if (!e.runtime || e.gone) continue;
      const record: Record<string, RuntimeInstance> = {};
      for (const m of e.runtime.containers()) {
        if (m.options.kind === "init") continue;
        const cur = m.view().current;
        if (!cur) continue;
        // containerd finds the task gone when it starts again: exit code 255, reason Unknown.
        record[m.spec.name] = cur.state === "exited" ? cur : { ...cur, state: "exited", exitCode: 255, reason: "Unknown", finishedAt: now };
      }
      this.disk.set(e.uid, record);
    }
    this.shutDown();
    this.ctx.log(KUBELET_NAME, `node ${this.nodeName} powered off`);
  }

  /** Fault recovery: the machine boots again (re-registers, heartbeats, restarts its pods). */
  async powerOn(): Promise<void> {
    if (this.currentState !== "powered-off") return;
    this.machine = { ...this.machine, bootID: this.uuid() };
    this.ctx.log(KUBELET_NAME, `node ${this.nodeName} powered on`);
    await this.bootUp();
  }

  /** Fault: a reboot (power off, then on at once). */
  async reboot(): Promise<void> {
    this.powerOff();
    await this.powerOn();
  }

  /** Fault: the node can no longer reach the API server; its containers keep running. */
  partition(): void {
    if (!this.connected) return;
    this.connected = false;
    this.podInformer?.stop();
    this.informerRunning = false;
    this.ctx.log(KUBELET_NAME, `node ${this.nodeName} is cut off from the API server`);
  }

  /** Ends a partition: the pod informer relists, held statuses are written, heartbeats resume. */
  async heal(): Promise<void> {
    if (this.connected) return;
    this.connected = true;
    this.ctx.log(KUBELET_NAME, `node ${this.nodeName} reaches the API server again`);
    if (this.currentState !== "running") return;
    const registered = this.podInformer !== undefined;
    for (const w of this.connectWaiters.splice(0)) w(true);
    if (!registered) {
      // The machine booted during the partition: its boot sequence runs now.
      await this.bootSequence;
      return;
    }
    for (const e of this.pods.values()) void this.flushStatus(e);
    await this.renewLease();
    await this.syncNodeStatus();
    await this.startPodInformer();
  }

  private async startPodInformer(): Promise<void> {
    if (!this.podInformer || this.informerRunning || !this.connected) return;
    this.informerRunning = true;
    await this.podInformer.start();
    // Records of pods deleted while the machine was down are of no use any more (container GC).
    for (const uid of [...this.disk.keys()]) if (!this.pods.has(uid)) this.disk.delete(uid);
  }

  private shutDown(): void {
    this.boot++;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    this.podInformer?.stop();
    this.podInformer = undefined;
    this.informerRunning = false;
    for (const e of this.pods.values()) e.runtime?.halt();
    for (const e of this.pods.values()) if (e.ip) this.ipam.release(e.ip);
    this.pods.clear();
    for (const w of this.connectWaiters.splice(0)) w(false);
    this.runtimeReady = false;
    this.lease = undefined;
  }

  private bootUp(): Promise<void> {
    this.currentState = "running";
    const boot = this.boot;
    this.lastStatusReport = Number.NEGATIVE_INFINITY;
    if (this.connected) return (this.bootSequence = this.runBoot(boot));
    // A machine that boots inside a network partition registers once it reaches the API server.
    this.bootSequence = new Promise((resolve) => {
      this.connectWaiters.push((ok) => (ok && boot === this.boot ? this.runBoot(boot) : Promise.resolve()).then(resolve, resolve));
    });
    return Promise.resolve();
  }

  private async runBoot(boot: number): Promise<void> {
    this.nodeEvent("Normal", "Starting", "Starting kubelet.");
    await this.register(boot);
    if (boot !== this.boot) return;
    this.nodeEvent("Normal", "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods");
    await this.renewLease();
    const clock = this.ctx.clock;
    this.timers.push(clock.setInterval(() => void this.renewLease(), NODE_LEASE_RENEW_INTERVAL_MS));
    this.timers.push(clock.setInterval(() => void this.syncNodeStatus(), this.options.nodeStatusUpdateFrequencyMs));
    this.timers.push(clock.setInterval(() => this.reconcileStatuses(), STATUS_RECONCILE_MS));
    this.timers.push(
      clock.setTimeout(() => {
        // fastStatusUpdateOnce: the first time the runtime is ready, the status goes out at once.
        this.runtimeReady = true;
        void this.syncNodeStatus();
      }, this.options.runtimeReadyAfterMs),
    );
    const informer = new Informer(this.ctx.client, { apiVersion: "v1", kind: "Pod" }, { fieldSelector: `spec.nodeName=${this.nodeName}`, clock });
    this.podInformer = informer;
    informer.addHandlers({
      add: (pod) => this.syncPod(pod),
      update: (_old, pod) => this.syncPod(pod),
      delete: (pod) => this.podRemoved(pod),
    });
    await this.startPodInformer();
  }

  // ------------------------------------------------------------------------------ node object

  private async register(boot: number): Promise<void> {
    let delay = 100;
    for (;;) {
      if (boot !== this.boot) return;
      const events: [type: "Normal" | "Warning", reason: string, message: string][] = [];
      const node = setNodeStatus(initialNode(this.spec), this.statusInput((...e) => events.push(e)));
      try {
        const created = await this.ctx.client.create(node);
        this.nodeUid = created.metadata.uid;
        this.lastStatusReport = this.ctx.clock.now();
        for (const e of events) this.nodeEvent(...e);
        this.ctx.log(KUBELET_NAME, `registered node ${this.nodeName}`);
        return;
      } catch (err) {
        if (isReason(err, "AlreadyExists")) {
          await this.reconcileExisting();
          return;
        }
        this.ctx.log(KUBELET_NAME, `unable to register node ${this.nodeName} with the API server: ${String(err)}; retrying in ${delay} ms`);
      }
      // registerWithAPIServer: 100 ms doubling to 7 s between attempts.
      await this.ctx.clock.sleep(delay);
      delay = Math.min(delay * 2, 7000);
    }
  }

  /** `tryRegisterWithAPIServer` for a node that exists: reconcile the default labels, then post the status. */
  private async reconcileExisting(): Promise<void> {
    const existing = await this.ctx.client.get({ apiVersion: "v1", kind: "Node", name: this.nodeName });
    this.nodeUid = existing.metadata.uid;
    const labels = { ...(existing.metadata.labels ?? {}) };
    let changed = false;
    // updateDefaultLabels: the kubelet owns these labels and puts its values back.
    for (const key of [LABEL_HOSTNAME, LABEL_ZONE, LABEL_REGION, LABEL_OS, LABEL_ARCH, LABEL_OS_BETA, LABEL_ARCH_BETA]) {
      const want = this.spec.labels[key];
      if (want === undefined) continue;
      if (labels[key] !== want) {
        labels[key] = want;
        changed = true;
      }
    }
    if (changed) {
      const updated = clone(existing) as KubeObject;
      updated.metadata.labels = labels;
      delete updated.status;
      try {
        await this.ctx.client.update(updated);
      } catch (err) {
        this.ctx.log(KUBELET_NAME, `unable to reconcile the labels of node ${this.nodeName}: ${String(err)}`);
      }
    }
    this.ctx.log(KUBELET_NAME, `node ${this.nodeName} was previously registered`);
    await this.syncNodeStatus(true);
  }

  private statusInput(event: (type: "Normal" | "Warning", reason: string, message: string) => void) {
    return { spec: this.spec, machine: this.machine, images: this.images, now: this.ctx.clock.now(), runtimeReady: this.runtimeReady, event };
  }

  /** `tryUpdateNodeStatus`: post the status when it changed or the report is due. */
  private async syncNodeStatus(force = false): Promise<void> {
    if (this.currentState !== "running" || !this.connected) return;
    const boot = this.boot;
    let node: KubeObject;
    try {
      node = await this.ctx.client.get({ apiVersion: "v1", kind: "Node", name: this.nodeName });
    } catch (err) {
      this.ctx.log(KUBELET_NAME, `error updating node status of ${this.nodeName}: error getting node: ${String(err)}`);
      return;
    }
    if (boot !== this.boot || !this.connected) return;
    const events: [type: "Normal" | "Warning", reason: string, message: string][] = [];
    const next = setNodeStatus(clone(node) as KubeObject, this.statusInput((...e) => events.push(e)));
    for (const e of events) this.nodeEvent(...e);
    const now = this.ctx.clock.now();
    if (!force && now < this.lastStatusReport + this.options.nodeStatusReportFrequencyMs && !nodeStatusHasChanged(node.status, next.status)) return;
    try {
      await this.ctx.client.update({ apiVersion: "v1", kind: "Node", metadata: { name: this.nodeName, uid: node.metadata.uid }, status: next.status }, { subresource: "status" });
      this.lastStatusReport = now;
    } catch (err) {
      this.ctx.log(KUBELET_NAME, `error updating node status of ${this.nodeName}, will retry: ${String(err)}`);
    }
  }

  /** The node lease controller: create the Lease once, then renew `renewTime`. */
  private async renewLease(): Promise<void> {
    if (this.currentState !== "running" || !this.connected) return;
    const boot = this.boot;
    const client = this.ctx.client;
    const ref = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: NODE_LEASE_NAMESPACE, name: this.nodeName };
    const renewTime = rfc3339Micro(this.ctx.clock.now());
    try {
      let base = this.lease;
      if (!base) {
        try {
          base = await client.get(ref);
        } catch (err) {
          if (!isReason(err, "NotFound")) throw err;
          if (boot !== this.boot) return;
          this.lease = await client.create({
            apiVersion: ref.apiVersion,
            kind: ref.kind,
            metadata: {
              name: this.nodeName,
              namespace: NODE_LEASE_NAMESPACE,
              ...(this.nodeUid ? { ownerReferences: [{ apiVersion: "v1", kind: "Node", name: this.nodeName, uid: this.nodeUid }] } : {}),
            },
            spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.options.leaseDurationSeconds, renewTime },
          });
          return;
        }
      }
      if (boot !== this.boot || !this.connected) return;
      const next = clone(base) as KubeObject;
      next.spec = { ...(next.spec ?? {}), holderIdentity: this.nodeName, leaseDurationSeconds: this.options.leaseDurationSeconds, renewTime };
      this.lease = await client.update(next);
    } catch (err) {
      // A conflict or a deleted lease: read it afresh next time (`newLeaseForUpdate` falls back to a GET).
      this.lease = undefined;
      if (!isReason(err, "Conflict") && !isReason(err, "NotFound")) this.ctx.log(KUBELET_NAME, `failed to renew the lease of node ${this.nodeName}: ${String(err)}`);
    }
  }

  private nodeEvent(type: "Normal" | "Warning", reason: string, message: string): void {
    if (this.currentState !== "running" || !this.connected) return;
    // The kubelet's nodeRef uses the node name as UID.
    void this.recorder.event({ kind: "Node", name: this.nodeName, uid: this.nodeName }, type, reason, message);
  }

  // ------------------------------------------------------------------------------ pods

  private syncPod(pod: KubeObject): void {
    if (this.currentState !== "running") return;
    const uid = pod.metadata.uid ?? "";
    let e = this.pods.get(uid);
    if (e) {
      e.pod = pod;
      if (e.gone) return;
      e.runtime?.updatePod(pod);
      if (pod.metadata.deletionTimestamp && !e.terminating) void this.terminatePod(e);
      return;
    }
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") return;
    e = { uid, namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "", pod, terminating: false, gone: false };
    this.pods.set(uid, e);
    if (pod.metadata.deletionTimestamp) {
      // Deleted before this kubelet ran it (or while the node was down): nothing to stop.
      this.disk.delete(uid);
      void this.terminatePod(e);
      return;
    }
    const admit = this.admit(pod);
    if (!admit.ok) {
      this.reject(e, admit.reason, admit.message);
      return;
    }
    this.startPod(e);
  }

  /** The resources a pod asks for (`computePodResourceRequest`): the larger of the app containers (with sidecars) and any init container. */
  private podRequests(pod: KubeObject): { cpu: number; memory: number } {
    const req = (c: any) => ({ cpu: milliValue(c?.resources?.requests?.cpu), memory: Math.ceil(parseQuantity(c?.resources?.requests?.memory ?? 0)) });
    let cpu = 0;
    let memory = 0;
    const sidecars = ((pod.spec?.initContainers ?? []) as any[]).filter((c) => c?.restartPolicy === "Always");
    for (const c of [...((pod.spec?.containers ?? []) as any[]), ...sidecars]) {
      const r = req(c);
      cpu += r.cpu;
      memory += r.memory;
    }
    for (const c of (pod.spec?.initContainers ?? []) as any[]) {
      if (c?.restartPolicy === "Always") continue;
      const r = req(c);
      cpu = Math.max(cpu, r.cpu);
      memory = Math.max(memory, r.memory);
    }
    const overhead = pod.spec?.overhead ?? {};
    return { cpu: cpu + milliValue(overhead.cpu), memory: memory + Math.ceil(parseQuantity(overhead.memory ?? 0)) };
  }

  /**
   * `PredicateAdmitHandler` with `noderesources.Fits`: pods, then CPU, then memory against
   * allocatable and the pods already admitted; the first shortfall is the reason.
   */
  private admit(pod: KubeObject): AdmitResult {
    const allocatable = nodeAllocatable(this.spec);
    const active = [...this.pods.values()].filter((p) => p.runtime && !p.gone && !p.runtime.isTerminal());
    const pods = Number(allocatable.pods);
    if (active.length + 1 > pods) return this.insufficient("pods", 1, active.length, pods);
    const want = this.podRequests(pod);
    let cpuUsed = 0;
    let memUsed = 0;
    for (const p of active) {
      const r = this.podRequests(p.pod);
      cpuUsed += r.cpu;
      memUsed += r.memory;
    }
    const cpuCap = milliValue(allocatable.cpu);
    if (want.cpu > 0 && want.cpu + cpuUsed > cpuCap) return this.insufficient("cpu", want.cpu, cpuUsed, cpuCap);
    const memCap = Math.floor(parseQuantity(allocatable.memory));
    if (want.memory > 0 && want.memory + memUsed > memCap) return this.insufficient("memory", want.memory, memUsed, memCap);
    return { ok: true };
  }

  private insufficient(resource: string, requested: number, used: number, capacity: number): AdmitResult {
    return { ok: false, reason: `OutOf${resource}`, message: `Node didn't have enough resource: ${resource}, requested: ${requested}, used: ${used}, capacity: ${capacity}` };
  }

  /** `rejectPod`: a Warning event with the reason, and the pod Failed with "Pod was rejected: ...". */
  private reject(e: PodEntry, reason: string, message: string): void {
    e.gone = true;
    this.podEvent(e, { type: "Warning", reason, message, time: this.ctx.clock.now() });
    this.ctx.log(KUBELET_NAME, `node ${this.nodeName} rejected pod ${e.namespace}/${e.name}: ${message}`);
    const status = { ...(e.pod.status ?? {}), phase: "Failed", reason, message: `Pod was rejected: ${message}` } as PodStatus;
    void this.writeStatus(e, status);
  }

  /** The containers this pod ran before the node restarted: from the runtime's records, else from the status the API kept. */
  private priorInstances(e: PodEntry): Record<string, RuntimeInstance> | undefined {
    const onDisk = this.disk.get(e.uid);
    this.disk.delete(e.uid);
    if (onDisk && Object.keys(onDisk).length) return onDisk;
    const now = this.ctx.clock.now();
    const out: Record<string, RuntimeInstance> = {};
    const statuses = [...((e.pod.status?.containerStatuses ?? []) as any[]), ...((e.pod.status?.initContainerStatuses ?? []) as any[])];
    const sidecars = new Set(((e.pod.spec?.initContainers ?? []) as any[]).filter((c) => c?.restartPolicy === "Always").map((c) => c.name));
    const regular = new Set(((e.pod.spec?.containers ?? []) as any[]).map((c) => c.name));
    for (const cs of statuses) {
      if (!regular.has(cs.name) && !sidecars.has(cs.name)) continue;
      const base = { restartCount: cs.restartCount ?? 0, image: cs.image ?? "", imageID: cs.imageID ?? "" };
      if (cs.state?.running && cs.containerID) {
        out[cs.name] = { ...base, id: cs.containerID, state: "exited", exitCode: 255, reason: "Unknown", startedAt: parseTime(cs.state.running.startedAt), finishedAt: now };
      } else {
        const t = cs.state?.terminated ?? cs.lastState?.terminated;
        if (!t?.containerID) continue;
        out[cs.name] = {
          ...base,
          id: t.containerID,
          state: "exited",
          exitCode: t.exitCode ?? 0,
          ...(t.reason ? { reason: t.reason } : {}),
          startedAt: parseTime(t.startedAt),
          finishedAt: parseTime(t.finishedAt),
        };
      }
    }
    return Object.keys(out).length ? out : undefined;
  }

  private startPod(e: PodEntry): void {
    const ip = this.ipam.allocate(e.uid);
    if (!ip) {
      // host-local IPAM out of addresses: the sandbox cannot be created; the pod worker retries.
      this.podEvent(e, {
        type: "Warning",
        reason: "FailedCreatePodSandBox",
        message: `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox: plugin type="ptp" failed (add): failed to allocate for range 0: no IP addresses available in range set: ${this.ipam.rangeSet}`,
        time: this.ctx.clock.now(),
      });
      const boot = this.boot;
      this.timers.push(
        this.ctx.clock.setTimeout(() => {
          if (boot === this.boot && !e.gone && !e.terminating && !e.runtime) this.startPod(e);
        }, RETRY_MS),
      );
      return;
    }
    e.ip = ip;
    const prior = this.priorInstances(e);
    if (prior) this.podEvent(e, { type: "Normal", reason: "SandboxChanged", message: "Pod sandbox changed, it will be killed and re-created.", time: this.ctx.clock.now() });
    const runtime = new PodRuntime({
      clock: this.ctx.clock,
      pod: e.pod,
      hostIP: this.spec.internalIP,
      podIP: ip,
      images: this.images,
      lookup: this.lookup,
      nodeAllocatable: nodeAllocatable(this.spec),
      cpus: Math.max(1, Math.floor(parseQuantity(this.spec.capacity.cpu))),
      ...(this.options.sandboxMs !== undefined ? { sandboxMs: this.options.sandboxMs } : {}),
      ...(prior ? { priorInstances: prior } : {}),
      onEvent: (ev) => this.podEvent(e, ev),
      onStatus: (status) => void this.writeStatus(e, status),
    });
    e.runtime = runtime;
    runtime.start();
  }

  private podEvent(e: PodEntry, ev: RuntimeEvent): void {
    if (this.currentState !== "running" || !this.connected) return;
    void this.recorder.event(
      {
        apiVersion: "v1",
        kind: "Pod",
        namespace: e.namespace,
        name: e.name,
        uid: e.uid,
        ...(e.pod.metadata.resourceVersion ? { resourceVersion: e.pod.metadata.resourceVersion } : {}),
        ...(ev.fieldPath ? { fieldPath: ev.fieldPath } : {}),
      },
      ev.type,
      ev.reason,
      ev.message,
    );
  }

  /** Queues a status for the pod and writes it (the status manager's `SetPodStatus` + `syncPod`). */
  private writeStatus(e: PodEntry, status: PodStatus): Promise<void> {
    if (e.gone && e.runtime) return Promise.resolve();
    e.pending = status;
    return this.flushStatus(e);
  }

  private flushStatus(e: PodEntry): Promise<void> {
    if (e.flushing) return e.flushing;
    if (!e.pending || !this.connected || this.currentState !== "running") return Promise.resolve();
    const boot = this.boot;
    e.flushing = (async () => {
      try {
        while (e.pending && this.connected && boot === this.boot) {
          const status = e.pending;
          e.pending = undefined;
          try {
            await this.ctx.client.update({ apiVersion: "v1", kind: "Pod", metadata: { name: e.name, namespace: e.namespace, uid: e.uid }, status }, { subresource: "status" });
            e.written = statusKey(status);
          } catch (err) {
            // Gone, or a new pod with the same name (another UID): this pod's status has no home any more.
            if (isReason(err, "NotFound") || isReason(err, "Conflict")) return;
            this.ctx.log(KUBELET_NAME, `failed to update status for pod ${e.namespace}/${e.name}: ${String(err)}`);
            if (!e.pending) e.pending = status;
            await this.ctx.clock.sleep(RETRY_MS);
          }
        }
      } finally {
        e.flushing = undefined;
      }
    })();
    return e.flushing;
  }

  /**
   * `syncBatch`: a pod whose kubelet-owned status in the API differs from what this kubelet last
   * wrote (the node controller marked it not ready while the node was unreachable, say) gets its
   * status written again.
   */
  private reconcileStatuses(): void {
    if (this.currentState !== "running" || !this.connected) return;
    for (const e of this.pods.values()) {
      if (!e.runtime || e.gone || e.flushing || e.pending || e.written === undefined) continue;
      if (statusKey(e.pod.status) !== e.written) void this.writeStatus(e, e.runtime.status());
    }
  }

  /** Resolves true once the API server is reachable, false if the boot ends first. */
  private whenConnected(boot: number): Promise<boolean> {
    if (boot !== this.boot) return Promise.resolve(false);
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => this.connectWaiters.push(resolve));
  }

  /** Graceful termination, then removal of the pod object (grace period 0, UID precondition). */
  private async terminatePod(e: PodEntry): Promise<void> {
    e.terminating = true;
    const boot = this.boot;
    if (e.runtime) {
      await e.runtime.terminate();
      if (boot !== this.boot || e.gone) return;
      await this.writeStatus(e, e.runtime.status());
    }
    if (!(await this.whenConnected(boot)) || e.gone) return;
    await this.flushStatus(e);
    if (boot !== this.boot || e.gone) return;
    try {
      await this.ctx.client.delete({ apiVersion: "v1", kind: "Pod", namespace: e.namespace, name: e.name }, { gracePeriodSeconds: 0, preconditions: { uid: e.uid } });
    } catch (err) {
      if (!isReason(err, "NotFound") && !isReason(err, "Conflict")) {
        this.ctx.log(KUBELET_NAME, `failed to delete pod ${e.namespace}/${e.name}: ${String(err)}`);
        return;
      }
    }
    this.forget(e);
  }

  /** The pod left the API (deleted by us, force-deleted, or its node changed). */
  private podRemoved(pod: KubeObject): void {
    const e = this.pods.get(pod.metadata.uid ?? "");
    if (!e) return;
    e.gone = true;
    const runtime = e.runtime;
    if (runtime && !runtime.isTerminal()) {
      // Force-deleted while running: the containers are still killed, with the grace period the deletion left.
      void runtime.terminate(pod.metadata.deletionGracePeriodSeconds ?? 0).then(() => this.forget(e));
      return;
    }
    this.forget(e);
  }

  private forget(e: PodEntry): void {
    e.gone = true;
    e.runtime?.halt();
    if (e.ip) this.ipam.release(e.ip);
    e.ip = undefined;
    if (this.pods.get(e.uid) === e) this.pods.delete(e.uid);
  }

  // ------------------------------------------------------------------------------ queries

  /** The runtime of a pod running here, by namespace and name. */
  runtimeOf(namespace: string, name: string): PodRuntime | undefined {
    for (const e of this.pods.values()) if (e.namespace === namespace && e.name === name && !e.gone) return e.runtime;
    return undefined;
  }

  /** Pods this kubelet is running (`namespace/name`). */
  runningPods(): string[] {
    return [...this.pods.values()].filter((e) => e.runtime && !e.gone).map((e) => `${e.namespace}/${e.name}`);
  }

  /** Pod IPs in use on this node. */
  get podIPsInUse(): number {
    return this.ipam.used;
  }

  /**
   * A container's log as `kubectl logs` gets it from this kubelet: `previous` for the instance
   * before the current one, `tail` for the last N lines.
   */
  logs(namespace: string, pod: string, container: string, options: { previous?: boolean; tail?: number; timestamps?: boolean } = {}): LogResult {
    const runtime = this.runtimeOf(namespace, pod);
    if (!runtime) return { ok: false, message: `pods "${pod}" not found` };
    return runtime.logs(container, { previous: options.previous, tailLines: options.tail, timestamps: options.timestamps });
  }

  // ------------------------------------------------------------------------------ helpers

  private hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(this.ctx.random() * 16).toString(16);
    return s;
  }

  private uuid(): string {
    const h = this.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/**
 * The scheduling queue (`pkg/scheduler/backend/queue/scheduling_queue.go`, PriorityQueue):
 *
 * - activeQ: pods ready to be tried, highest priority first, then the earliest queued
 *   (PrioritySort);
 * - backoffQ: pods waiting out their backoff, 1 s after the first failed attempt doubling to 10 s
 *   (`podInitialBackoffSeconds` / `podMaxBackoffSeconds`), moved to activeQ when it expires
 *   (checked every second);
 * - unschedulablePods: pods no node could take. They return to activeQ (or backoffQ while still
 *   backing off) when a cluster event happens that one of the plugins that rejected them cares
 *   about (each plugin's `EventsToRegister`), or after 5 minutes regardless
 *   (`podMaxInUnschedulablePodsDuration`, checked every 30 s);
 * - pods with `spec.schedulingGates` wait in unschedulablePods until the gates are removed
 *   (SchedulingGates PreEnqueue).
 *
 * A failure whose scheduling cycle saw a move request (an event arrived while the pod was being
 * scheduled) goes to backoffQ rather than unschedulablePods, so the event is not lost.
 *
 * Time comes from the injected Clock; the controller that pops pods, calls the Scheduler and binds
 * is wired by the caller.
 */

import type { Clock, Timer } from "../../api/clock.js";
import type { KubeObject } from "../../api/types.js";
import { KeyedHeap } from "./_heap.js";
import { PrioritySort } from "./plugins/priority-sort.js";
import type { PluginName } from "./types.js";

/** `podInitialBackoffSeconds` default, in ms. */
export const POD_INITIAL_BACKOFF_MS = 1000;
/** `podMaxBackoffSeconds` default, in ms. */
export const POD_MAX_BACKOFF_MS = 10_000;
/** `podMaxInUnschedulablePodsDuration`, in ms. */
export const POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS = 5 * 60_000;
/** How often backoffQ is flushed (`flushBackoffQCompleted` every 1 s). */
export const BACKOFF_FLUSH_INTERVAL_MS = 1000;
/** How often long-unschedulable pods are flushed (`flushUnschedulablePodsLeftover` every 30 s). */
export const UNSCHEDULABLE_FLUSH_INTERVAL_MS = 30_000;

/**
 * `calculateBackoffDuration`: 0 before any attempt, then `initial` doubling per further attempt,
 * capped at `max` (1, 2, 4, 8, 10, 10 s with the defaults).
 */
export function podBackoffMs(attempts: number, initialMs = POD_INITIAL_BACKOFF_MS, maxMs = POD_MAX_BACKOFF_MS): number {
  if (attempts <= 0) return 0;
  let d = initialMs;
  for (let i = 1; i < attempts; i++) {
    if (d > maxMs - d) return maxMs;
    d += d;
  }
  return d;
}

/** Cluster-event action bits (`fwk.ActionType`). */
export const Action = {
  Add: 1,
  Delete: 2,
  UpdateNodeAllocatable: 4,
  UpdateNodeLabel: 8,
  UpdateNodeTaint: 16,
  UpdateNodeCondition: 32,
  UpdateNodeAnnotation: 64,
  UpdatePodLabel: 128,
  UpdatePodScaleDown: 256,
  UpdatePodToleration: 512,
  UpdatePodSchedulingGatesEliminated: 1024,
  /** Any node update. */
  UpdateNode: 4 | 8 | 16 | 32 | 64,
  /** Any pod update. */
  UpdatePod: 128 | 256 | 512 | 1024,
  All: 0x7ff,
} as const;

/** A change in the cluster that may make unschedulable pods schedulable (`fwk.ClusterEvent`). */
export interface ClusterEvent {
  /** "*" for wildcard events that move every pod. */
  readonly resource: "Node" | "Pod" | "*";
  readonly action: number;
  /** Name for logs and metrics, as upstream labels it. */
  readonly label: string;
}

/** Named cluster events (`framework/events.go`). Pod events are about pods bound to nodes. */
export const ClusterEvents = {
  NodeAdd: { resource: "Node", action: Action.Add, label: "NodeAdd" },
  NodeDelete: { resource: "Node", action: Action.Delete, label: "NodeDelete" },
  NodeAllocatableChange: { resource: "Node", action: Action.UpdateNodeAllocatable, label: "NodeAllocatableChange" },
  NodeLabelChange: { resource: "Node", action: Action.UpdateNodeLabel, label: "NodeLabelChange" },
  NodeTaintChange: { resource: "Node", action: Action.UpdateNodeTaint, label: "NodeTaintChange" },
  NodeSpecUnschedulableChange: { resource: "Node", action: Action.UpdateNodeTaint, label: "NodeSpecUnschedulableChange" },
  NodeConditionChange: { resource: "Node", action: Action.UpdateNodeCondition, label: "NodeConditionChange" },
  NodeAnnotationChange: { resource: "Node", action: Action.UpdateNodeAnnotation, label: "NodeAnnotationChange" },
  AssignedPodAdd: { resource: "Pod", action: Action.Add, label: "AssignedPodAdd" },
  AssignedPodLabelChange: { resource: "Pod", action: Action.UpdatePodLabel, label: "AssignedPodUpdate" },
  AssignedPodScaleDown: { resource: "Pod", action: Action.UpdatePodScaleDown, label: "AssignedPodUpdate" },
  AssignedPodDelete: { resource: "Pod", action: Action.Delete, label: "AssignedPodDelete" },
  UnschedulableTimeout: { resource: "*", action: Action.All, label: "UnschedulableTimeout" },
  ForceActivate: { resource: "*", action: Action.All, label: "ForceActivate" },
} as const satisfies Record<string, ClusterEvent>;

/**
 * The events each plugin registers (`EventsToRegister`, without queueing hints): a pod rejected by
 * a plugin is retried only on these.
 */
export const PLUGIN_EVENTS: Readonly<Partial<Record<PluginName, ReadonlyArray<{ resource: "Node" | "Pod"; action: number }>>>> = {
  SchedulingGates: [{ resource: "Pod", action: Action.UpdatePodSchedulingGatesEliminated }],
  NodeUnschedulable: [
    { resource: "Node", action: Action.Add | Action.UpdateNodeTaint | Action.UpdateNodeLabel },
    { resource: "Pod", action: Action.UpdatePodToleration },
  ],
  NodeName: [{ resource: "Node", action: Action.Add | Action.UpdateNode }],
  TaintToleration: [{ resource: "Node", action: Action.Add | Action.UpdateNodeTaint | Action.UpdateNodeLabel }],
  NodeAffinity: [{ resource: "Node", action: Action.Add | Action.UpdateNodeLabel | Action.UpdateNodeTaint }],
  NodePorts: [
    { resource: "Pod", action: Action.Delete },
    { resource: "Node", action: Action.Add | Action.UpdateNodeTaint | Action.UpdateNodeLabel },
  ],
  NodeResourcesFit: [
    { resource: "Pod", action: Action.Delete | Action.UpdatePodScaleDown },
    { resource: "Node", action: Action.Add | Action.UpdateNodeAllocatable | Action.UpdateNodeTaint | Action.UpdateNodeLabel },
  ],
  PodTopologySpread: [
    { resource: "Pod", action: Action.Add | Action.UpdatePodLabel | Action.Delete },
    { resource: "Node", action: Action.Add | Action.Delete | Action.UpdateNodeLabel | Action.UpdateNodeTaint },
  ],
  InterPodAffinity: [
    { resource: "Pod", action: Action.Add | Action.UpdatePodLabel | Action.Delete },
    { resource: "Node", action: Action.Add | Action.UpdateNodeLabel | Action.UpdateNodeTaint },
  ],
};

function stable(v: unknown): string {
  return JSON.stringify(v ?? null);
}

/** `nodeSchedulingPropertiesChange`: the events a node update amounts to. */
export function nodeUpdateEvents(oldNode: KubeObject, newNode: KubeObject): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  if ((oldNode.spec?.unschedulable === true) !== (newNode.spec?.unschedulable === true)) events.push(ClusterEvents.NodeSpecUnschedulableChange);
  if (stable(oldNode.status?.allocatable) !== stable(newNode.status?.allocatable)) events.push(ClusterEvents.NodeAllocatableChange);
  if (stable(oldNode.metadata?.labels) !== stable(newNode.metadata?.labels)) events.push(ClusterEvents.NodeLabelChange);
  if (stable(oldNode.spec?.taints) !== stable(newNode.spec?.taints)) events.push(ClusterEvents.NodeTaintChange);
  const conditions = (n: KubeObject) => stable((n.status?.conditions ?? []).map((c: any) => [c.type, c.status]));
  if (conditions(oldNode) !== conditions(newNode)) events.push(ClusterEvents.NodeConditionChange);
  if (stable(oldNode.metadata?.annotations) !== stable(newNode.metadata?.annotations)) events.push(ClusterEvents.NodeAnnotationChange);
  return events;
}

/** A pod in the queue (`framework.QueuedPodInfo`). */
export interface QueuedPodInfo {
  readonly key: string;
  /** The latest version of the pod. */
  pod: KubeObject;
  /** `spec.priority`. */
  priority: number;
  /** Scheduling attempts so far (incremented on every pop). */
  attempts: number;
  /** When the pod was last (re)queued, epoch ms on the queue's clock. */
  timestamp: number;
  /** When the pod was first popped. */
  initialAttemptTimestamp: number | undefined;
  /** Plugins that rejected the pod in its last attempt; empty after an error. */
  unschedulablePlugins: Set<string>;
  /** Held back by `spec.schedulingGates`. */
  gated: boolean;
  /** The scheduling cycle of the last pop: pass it back to `addUnschedulableIfNotPresent`. */
  cycle: number;
}

/** Queue timings; defaults are kube-scheduler's. */
export interface SchedulingQueueOptions {
  readonly clock: Clock;
  readonly podInitialBackoffMs?: number;
  readonly podMaxBackoffMs?: number;
  readonly podMaxInUnschedulablePodsDurationMs?: number;
}

function keyOf(pod: KubeObject): string {
  const meta = pod?.metadata ?? {};
  return meta.uid ? String(meta.uid) : `${meta.namespace ?? "default"}/${meta.name ?? ""}`;
}

function isGated(pod: KubeObject): boolean {
  return Array.isArray(pod?.spec?.schedulingGates) && pod.spec.schedulingGates.length > 0;
}

/** `isPodUpdated`: a change other than status, resourceVersion, generation or managedFields. */
function podSpecOrMetaChanged(oldPod: KubeObject, newPod: KubeObject): boolean {
  const strip = (p: KubeObject) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _mf, ...meta } = p.metadata ?? {};
    return stable({ meta, spec: p.spec });
  };
  return strip(oldPod) !== strip(newPod);
}

/** The scheduling queue. */
export class SchedulingQueue {
  private readonly clock: Clock;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly maxUnschedulable: number;
  private readonly sort = new PrioritySort();
  private readonly activeQ: KeyedHeap<QueuedPodInfo>;
  private readonly backoffQ: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulable = new Map<string, QueuedPodInfo>();
  /** Popped and not yet returned (being scheduled). */
  private readonly inFlight = new Map<string, QueuedPodInfo>();
  private cycle = 0;
  private moveRequestCycle = -1;
  private waiters: Array<(p: QueuedPodInfo | undefined) => void> = [];
  private timers: Timer[] = [];
  private closed = false;

  constructor(options: SchedulingQueueOptions) {
    this.clock = options.clock;
    this.initialBackoff = options.podInitialBackoffMs ?? POD_INITIAL_BACKOFF_MS;
    this.maxBackoff = options.podMaxBackoffMs ?? POD_MAX_BACKOFF_MS;
    this.maxUnschedulable = options.podMaxInUnschedulablePodsDurationMs ?? POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS;
    if (!(this.initialBackoff > 0) || !(this.maxBackoff >= this.initialBackoff)) {
      throw new Error(`podInitialBackoffMs must be > 0 and podMaxBackoffMs >= podInitialBackoffMs, got ${this.initialBackoff} and ${this.maxBackoff}`);
    }
    this.activeQ = new KeyedHeap((p) => p.key, (a, b) => this.sort.less(a, b));
    this.backoffQ = new KeyedHeap((p) => p.key, (a, b) => this.backoffExpiry(a) < this.backoffExpiry(b));
  }

  /** Number of scheduling cycles started (pops). */
  get schedulingCycle(): number {
    return this.cycle;
  }

  /** Starts the periodic flushes on the clock. */
  run(): void {
    if (this.timers.length > 0 || this.closed) return;
    this.timers.push(this.clock.setInterval(() => this.flushBackoffQCompleted(), BACKOFF_FLUSH_INTERVAL_MS));
    this.timers.push(this.clock.setInterval(() => this.flushUnschedulablePodsLeftover(), UNSCHEDULABLE_FLUSH_INTERVAL_MS));
  }

  /** Stops the flushes; pending `pop()` calls resolve with undefined. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) t.cancel();
    this.timers = [];
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w(undefined);
  }

  /** Sizes of the three queues (`PendingPods`). */
  counts(): { active: number; backoff: number; unschedulable: number } {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulable.size };
  }

  /** Where a pod waits, if it is queued. */
  where(pod: KubeObject | string): "active" | "backoff" | "unschedulable" | "inFlight" | undefined {
    const key = typeof pod === "string" ? pod : keyOf(pod);
    if (this.activeQ.has(key)) return "active";
    if (this.backoffQ.has(key)) return "backoff";
    if (this.unschedulable.has(key)) return "unschedulable";
    if (this.inFlight.has(key)) return "inFlight";
    return undefined;
  }

  /** A new pending pod (`Add`): to activeQ, or to unschedulablePods while it has scheduling gates. */
  add(pod: KubeObject): void {
    const key = keyOf(pod);
    this.backoffQ.remove(key);
    this.unschedulable.delete(key);
    const existing = this.activeQ.get(key);
    const info: QueuedPodInfo = existing ?? this.newInfo(pod);
    info.pod = pod;
    info.priority = typeof pod.spec?.priority === "number" ? pod.spec.priority : 0;
    if (isGated(pod)) {
      this.activeQ.remove(key);
      info.gated = true;
      info.unschedulablePlugins = new Set(["SchedulingGates"]);
      this.unschedulable.set(key, info);
      return;
    }
    info.gated = false;
    this.pushActive(info);
  }

  /** A pending pod changed (`Update`). */
  update(oldPod: KubeObject | undefined, newPod: KubeObject): void {
    const key = keyOf(newPod);
    const priority = typeof newPod.spec?.priority === "number" ? newPod.spec.priority : 0;
    const active = this.activeQ.get(key);
    if (active) {
      active.pod = newPod;
      active.priority = priority;
      this.activeQ.push(active);
      return;
    }
    const backoff = this.backoffQ.get(key);
    if (backoff) {
      backoff.pod = newPod;
      backoff.priority = priority;
      this.backoffQ.push(backoff);
      return;
    }
    const inFlight = this.inFlight.get(key);
    if (inFlight) {
      // Being scheduled right now: a real change queues the new version (upstream puts a pod that
      // is in no queue into activeQ), and the running attempt's failure is then dropped.
      if (!oldPod || podSpecOrMetaChanged(oldPod, newPod)) this.add(newPod);
      else inFlight.pod = newPod;
      return;
    }
    const waiting = this.unschedulable.get(key);
    if (waiting) {
      waiting.pod = newPod;
      waiting.priority = priority;
      if (waiting.gated) {
        if (!isGated(newPod)) {
          // Gates removed: the pod is ready for its first attempt.
          waiting.gated = false;
          waiting.unschedulablePlugins = new Set();
          this.unschedulable.delete(key);
          this.pushActive(waiting);
        }
        return;
      }
      if (!oldPod || podSpecOrMetaChanged(oldPod, newPod)) {
        this.unschedulable.delete(key);
        if (this.isBackingOff(waiting)) this.backoffQ.push(waiting);
        else this.pushActive(waiting);
      }
      return;
    }
    this.add(newPod);
  }

  /** A pending pod was deleted or bound by someone else (`Delete`). */
  delete(pod: KubeObject | string): void {
    const key = typeof pod === "string" ? pod : keyOf(pod);
    this.activeQ.remove(key);
    this.backoffQ.remove(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
  }

  /** Takes the next pod without waiting, or undefined when activeQ is empty. */
  tryPop(): QueuedPodInfo | undefined {
    const info = this.activeQ.pop();
    if (!info) return undefined;
    info.attempts++;
    this.cycle++;
    info.cycle = this.cycle;
    info.initialAttemptTimestamp ??= this.clock.now();
    this.inFlight.set(info.key, info);
    return info;
  }

  /** Waits for the next pod (`Pop`); resolves undefined once the queue is closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    const info = this.tryPop();
    if (info || this.closed) return Promise.resolve(info);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The pod was bound (or dropped): it leaves the in-flight set (`Done`). */
  done(pod: KubeObject | string): void {
    this.inFlight.delete(typeof pod === "string" ? pod : keyOf(pod));
  }

  /**
   * A scheduling attempt failed (`AddUnschedulableIfNotPresent`). Pass the plugins that rejected
   * the pod (a FitError's `diagnosis.unschedulablePlugins`), or none after an error. Returns false
   * when the pod is already queued (a newer version arrived meanwhile).
   */
  addUnschedulableIfNotPresent(info: QueuedPodInfo, unschedulablePlugins: Iterable<string>, podSchedulingCycle = info.cycle): boolean {
    if (this.inFlight.get(info.key) === info) this.inFlight.delete(info.key);
    if (this.activeQ.has(info.key) || this.backoffQ.has(info.key) || this.unschedulable.has(info.key)) return false;
    info.timestamp = this.clock.now();
    info.unschedulablePlugins = new Set(unschedulablePlugins);
    if (this.moveRequestCycle >= podSchedulingCycle || info.unschedulablePlugins.size === 0) {
      // An event arrived during the attempt, or the failure was an error: retry after the backoff.
      this.backoffQ.push(info);
    } else {
      this.unschedulable.set(info.key, info);
    }
    return true;
  }

  /** Moves the unschedulable pods this event may help (`MoveAllToActiveOrBackoffQueue`). */
  moveAllToActiveOrBackoffQueue(event: ClusterEvent, preCheck?: (pod: KubeObject) => boolean): void {
    for (const info of [...this.unschedulable.values()]) {
      if (info.gated) continue;
      if (preCheck && !preCheck(info.pod)) continue;
      if (!this.worthRequeuing(info, event)) continue;
      this.unschedulable.delete(info.key);
      if (this.isBackingOff(info)) this.backoffQ.push(info);
      else this.pushActive(info);
    }
    this.moveRequestCycle = this.cycle;
  }

  /** Forces pods back to activeQ (`Activate`). */
  activate(pods: Iterable<KubeObject>): void {
    for (const pod of pods) {
      const key = keyOf(pod);
      const info = this.unschedulable.get(key) ?? this.backoffQ.get(key);
      if (!info || info.gated) continue;
      this.unschedulable.delete(key);
      this.backoffQ.remove(key);
      this.pushActive(info);
    }
    this.moveRequestCycle = this.cycle;
  }

  /** A node appeared. */
  onNodeAdd(): void {
    this.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeAdd);
  }

  /** A node changed: moves pods for each scheduling-relevant change. */
  onNodeUpdate(oldNode: KubeObject, newNode: KubeObject): void {
    for (const e of nodeUpdateEvents(oldNode, newNode)) this.moveAllToActiveOrBackoffQueue(e);
  }

  /** A node went away. */
  onNodeDelete(): void {
    this.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeDelete);
  }

  /** A pod was bound to a node. */
  onAssignedPodAdd(): void {
    this.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodAdd);
  }

  /** A bound pod changed: relabelling may satisfy affinity or spreading. */
  onAssignedPodUpdate(oldPod: KubeObject, newPod: KubeObject): void {
    if (stable(oldPod.metadata?.labels) !== stable(newPod.metadata?.labels)) this.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodLabelChange);
  }

  /** A bound pod went away: its resources and ports are free. */
  onAssignedPodDelete(): void {
    this.moveAllToActiveOrBackoffQueue(ClusterEvents.AssignedPodDelete);
  }

  /** Moves pods whose backoff expired to activeQ (`flushBackoffQCompleted`). */
  flushBackoffQCompleted(): void {
    const now = this.clock.now();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head || this.backoffExpiry(head) > now) break;
      this.backoffQ.pop();
      this.pushActive(head);
    }
  }

  /** Retries pods that waited in unschedulablePods too long (`flushUnschedulablePodsLeftover`). */
  flushUnschedulablePodsLeftover(): void {
    const now = this.clock.now();
    const stale = [...this.unschedulable.values()].filter((i) => !i.gated && now - i.timestamp > this.maxUnschedulable);
    for (const info of stale) {
      this.unschedulable.delete(info.key);
      if (this.isBackingOff(info)) this.backoffQ.push(info);
      else this.pushActive(info);
    }
    if (stale.length > 0) this.moveRequestCycle = this.cycle;
  }

  /** Backoff of a pod after its attempts so far. */
  backoffMs(info: QueuedPodInfo): number {
    return podBackoffMs(info.attempts, this.initialBackoff, this.maxBackoff);
  }

  private backoffExpiry(info: QueuedPodInfo): number {
    return info.timestamp + this.backoffMs(info);
  }

  private isBackingOff(info: QueuedPodInfo): boolean {
    return this.backoffExpiry(info) > this.clock.now();
  }

  /** `isPodWorthRequeuing` without queueing hints. */
  private worthRequeuing(info: QueuedPodInfo, event: ClusterEvent): boolean {
    if (event.resource === "*") return true;
    if (info.unschedulablePlugins.size === 0) return true;
    for (const plugin of info.unschedulablePlugins) {
      for (const reg of PLUGIN_EVENTS[plugin as PluginName] ?? []) {
        if (reg.resource === event.resource && (reg.action & event.action) !== 0) return true;
      }
    }
    return false;
  }

  private newInfo(pod: KubeObject): QueuedPodInfo {
    return {
      key: keyOf(pod),
      pod,
      priority: typeof pod.spec?.priority === "number" ? pod.spec.priority : 0,
      attempts: 0,
      timestamp: this.clock.now(),
      initialAttemptTimestamp: undefined,
      unschedulablePlugins: new Set(),
      gated: false,
      cycle: 0,
    };
  }

  private pushActive(info: QueuedPodInfo): void {
    this.activeQ.push(info);
    const waiter = this.waiters.shift();
    if (waiter) waiter(this.tryPop());
  }
}

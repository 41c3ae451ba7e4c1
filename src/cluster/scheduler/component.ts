/**
 * kube-scheduler as a running component: the event handlers that feed the scheduler cache and the
 * scheduling queue (`pkg/scheduler/eventhandlers.go`), and the loop that pops one pod at a time,
 * runs the scheduling algorithm and binds it (`pkg/scheduler/schedule_one.go`, `ScheduleOne`).
 *
 * - Nodes, bound pods (terminating ones included, until they are gone), Namespaces and the
 *   workloads that drive system-default spreading (Services, ReplicaSets, StatefulSets,
 *   ReplicationControllers) go into the Snapshot.
 * - Unbound pods whose `spec.schedulerName` is `default-scheduler` (or empty) go into the
 *   SchedulingQueue; cluster events (a node added or changed, a bound pod deleted, ...) move
 *   unschedulable pods back to the active queue.
 * - One scheduling cycle at a time. On success the pod is assumed on the node (so the next cycle
 *   sees its requests at once) and bound asynchronously through the `pods/binding` subresource,
 *   which also sets `PodScheduled=True`; the `Scheduled` event follows. A pod with a bind in flight
 *   is never scheduled again (upstream `skipPodSchedule`).
 * - On failure: a `FailedScheduling` Warning with the FitError message, `PodScheduled=False`
 *   (reason `Unschedulable`, or `SchedulerError` for errors), and the queue's unschedulable /
 *   backoff handling. When preemption nominated a node, the victims get a `DisruptionTarget`
 *   condition, are deleted and get a `Preempted` event, and the pod's `status.nominatedNodeName`
 *   is set in the same status patch as its condition (upstream `updatePod`).
 */
import { rfc3339 } from "../../api/clock.js";
import type { ObjectRef } from "../../api/client.js";
import { isReason } from "../../api/errors.js";
import type { EventRecorder } from "../../api/events.js";
import type { Informer } from "../../api/informer.js";
import type { KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { isScheduled, Scheduler, type ScheduleFailure } from "./framework.js";
import { FitError, NoNodesAvailableError, truncateMessage } from "./messages.js";
import type { ScoringStrategy } from "./plugins/node-resources-fit.js";
import { SchedulingQueue, type QueuedPodInfo } from "./queue.js";
import { Snapshot } from "./snapshot.js";

/** The scheduler's name: pods with this `spec.schedulerName` (the API default) are ours. */
export const DEFAULT_SCHEDULER_NAME = "default-scheduler";

/** client-go's `WaitForCacheSync` polls the informers' HasSynced every 100 ms. */
const CACHE_SYNC_POLL_MS = 100;

/** `v1.PodReasonUnschedulable`. */
export const REASON_UNSCHEDULABLE = "Unschedulable";
/** `v1.PodReasonSchedulerError`. */
export const REASON_SCHEDULER_ERROR = "SchedulerError";

/** Options of the scheduler component (the `KubeSchedulerConfiguration` subset that matters). */
export interface SchedulerComponentOptions {
  /** NodeResourcesFit scoring: LeastAllocated (default) spreads pods, MostAllocated packs them. */
  readonly scoringStrategy?: ScoringStrategy;
  /** `percentageOfNodesToScore`: 0 (default) is adaptive. */
  readonly percentageOfNodesToScore?: number;
}

/** The running scheduler. */
export interface SchedulerComponent extends Component {
  /** Pods waiting in the scheduling queue, per sub-queue (`PendingPods`). */
  pending(): { active: number; backoff: number; unschedulable: number };
}

/** Builds the `default-scheduler` component. */
export function schedulerComponent(ctx: ClusterContext, options: SchedulerComponentOptions = {}): SchedulerComponent {
  return new SchedulerController(ctx, options);
}

function podRef(pod: KubeObject): ObjectRef {
  return { apiVersion: "v1", kind: "Pod", namespace: pod.metadata.namespace ?? "default", name: pod.metadata.name ?? "" };
}

function podName(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? "default"}/${pod.metadata.name ?? ""}`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `assignedPod`: the pod has a node. */
function isAssigned(pod: KubeObject): boolean {
  return typeof pod.spec?.nodeName === "string" && pod.spec.nodeName !== "";
}

/** `responsibleForPod`: the pod names this scheduler (the API server defaults an empty name to it). */
function isOurs(pod: KubeObject): boolean {
  const name = pod.spec?.schedulerName;
  return name === undefined || name === "" || name === DEFAULT_SCHEDULER_NAME;
}

function isTerminal(pod: KubeObject): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

class SchedulerController implements SchedulerComponent {
  readonly name = DEFAULT_SCHEDULER_NAME;
  private readonly snapshot = new Snapshot();
  private readonly queue: SchedulingQueue;
  private readonly scheduler: Scheduler;
  private readonly recorder: EventRecorder;
  /** Pods (queue keys) whose binding call is in flight: never scheduled twice. */
  private readonly binding = new Set<string>();
  private readonly informers: Informer[] = [];
  private pods!: Informer;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    options: SchedulerComponentOptions,
  ) {
    this.queue = new SchedulingQueue({ clock: ctx.clock });
    this.scheduler = new Scheduler({
      scoringStrategy: options.scoringStrategy ?? "LeastAllocated",
      percentageOfNodesToScore: options.percentageOfNodesToScore,
      random: ctx.random,
    });
    this.recorder = ctx.recorder({ component: DEFAULT_SCHEDULER_NAME });
  }

  pending(): { active: number; backoff: number; unschedulable: number } {
    return this.queue.counts();
  }

  start(): void {
    this.stopped = false;
    const f = this.ctx.informers;
    const nodes = f.for("v1", "Node");
    this.pods = f.for("v1", "Pod");
    const namespaces = f.for("v1", "Namespace");
    const workloads = [f.for("v1", "Service"), f.for("v1", "ReplicationController"), f.for("apps/v1", "ReplicaSet"), f.for("apps/v1", "StatefulSet")];
    this.informers.push(nodes, this.pods, namespaces, ...workloads);

    nodes.addHandlers({
      add: (n) => this.guard("add node", () => {
        this.snapshot.addNode(n);
        this.queue.onNodeAdd();
      }),
      update: (o, n) => this.guard("update node", () => {
        this.snapshot.updateNode(n);
        this.queue.onNodeUpdate(o, n);
      }),
      delete: (n) => this.guard("delete node", () => {
        this.snapshot.removeNode(n);
        this.queue.onNodeDelete();
      }),
    });
    this.pods.addHandlers({
      add: (p) => this.guard("add pod", () => this.onPodAdd(p)),
      update: (o, p) => this.guard("update pod", () => this.onPodUpdate(o, p)),
      delete: (p) => this.guard("delete pod", () => this.onPodDelete(p)),
    });
    namespaces.addHandlers({
      add: (ns) => this.snapshot.setNamespace(ns),
      update: (_o, ns) => this.snapshot.setNamespace(ns),
      delete: (ns) => this.snapshot.removeNamespace(ns),
    });
    for (const informer of workloads) {
      informer.addHandlers({
        add: (w) => this.guard("record workload", () => this.snapshot.setWorkload(w)),
        update: (_o, w) => this.guard("record workload", () => this.snapshot.setWorkload(w)),
        delete: (w) => this.guard("forget workload", () => this.snapshot.removeWorkload(w)),
      });
    }
    this.queue.run();
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.queue.close();
  }

  /** Event handlers never throw into the informer: a malformed object is logged and skipped. */
  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.ctx.log(this.name, `could not ${what}: ${errorMessage(err)}`);
    }
  }

  // ---- event handlers (eventhandlers.go) ------------------------------------------------

  private onPodAdd(pod: KubeObject): void {
    if (isAssigned(pod)) {
      // addPodToCache: terminating pods stay accounted until their delete event.
      this.snapshot.addPod(pod);
      this.queue.onAssignedPodAdd();
      return;
    }
    if (!isOurs(pod) || isTerminal(pod)) return;
    this.queue.add(pod);
    if (pod.status?.nominatedNodeName) this.snapshot.addNominatedPod(pod);
  }

  private onPodUpdate(oldPod: KubeObject, pod: KubeObject): void {
    if (isAssigned(pod)) {
      if (!isAssigned(oldPod)) {
        // Just bound (by us or anyone): it leaves the queue and its nomination, and joins the cache.
        this.queue.delete(oldPod);
        this.snapshot.removeNominatedPod(oldPod);
        this.snapshot.addPod(pod);
        this.queue.onAssignedPodAdd();
        return;
      }
      this.snapshot.updatePod(pod);
      this.queue.onAssignedPodUpdate(oldPod, pod);
      return;
    }
    if (!isOurs(pod) || isTerminal(pod)) {
      this.queue.delete(pod);
      this.snapshot.removeNominatedPod(pod);
      return;
    }
    this.queue.update(oldPod, pod);
    if (pod.status?.nominatedNodeName) this.snapshot.addNominatedPod(pod);
    else this.snapshot.removeNominatedPod(pod);
  }

  private onPodDelete(pod: KubeObject): void {
    if (isAssigned(pod)) {
      this.snapshot.removePod(pod);
      this.queue.onAssignedPodDelete();
      return;
    }
    this.queue.delete(pod);
    this.snapshot.removeNominatedPod(pod);
    // A pod deleted while assumed (its bind in flight) must not keep holding the node's resources.
    this.snapshot.removePod(pod);
  }

  // ---- the scheduling loop (schedule_one.go) --------------------------------------------

  private synced(): boolean {
    return this.informers.every((i) => i.hasSynced);
  }

  private async run(): Promise<void> {
    // WaitForCacheSync: scheduling before the nodes are known would fail every pod.
    while (!this.stopped && !this.synced()) await this.ctx.clock.sleep(CACHE_SYNC_POLL_MS);
    while (!this.stopped) {
      const info = await this.queue.pop();
      if (!info || this.stopped) return;
      try {
        await this.scheduleOne(info);
      } catch (err) {
        // Never let one pod stop the loop: retry it after its backoff.
        this.ctx.log(this.name, `error scheduling pod ${podName(info.pod)}: ${errorMessage(err)}`);
        this.queue.addUnschedulableIfNotPresent(info, []);
      }
    }
  }

  private async scheduleOne(info: QueuedPodInfo): Promise<void> {
    const queued = info.pod;
    // The informer's copy is the truth; the queued one may lag behind a bind or a delete.
    const pod = this.pods.get(queued.metadata.namespace ?? "default", queued.metadata.name ?? "");
    // skipPodSchedule: deleted, being deleted, already bound, or assumed with its bind in flight.
    if (!pod || pod.metadata.uid !== queued.metadata.uid || pod.metadata.deletionTimestamp || isAssigned(pod) || this.binding.has(info.key)) {
      this.queue.done(info.key);
      return;
    }
    const result = this.scheduler.schedule(pod, this.snapshot);
    if (!isScheduled(result)) {
      await this.handleFailure(info, pod, result);
      return;
    }
    // assume: the next cycle sees the pod on the node before the API confirms the binding.
    this.snapshot.assumePod(pod, result.nodeName);
    this.snapshot.removeNominatedPod(pod);
    this.binding.add(info.key);
    void this.bind(info, pod, result.nodeName);
  }

  /** The binding cycle, run asynchronously as upstream's goroutine does. */
  private async bind(info: QueuedPodInfo, pod: KubeObject, nodeName: string): Promise<void> {
    try {
      await this.ctx.client.bind(podRef(pod), nodeName);
      this.queue.done(info.key);
      void this.recorder.event(pod, "Normal", "Scheduled", `Successfully assigned ${podName(pod)} to ${nodeName}`);
    } catch (err) {
      // ForgetPod, unless the watch already brought the pod bound (by someone else).
      const cached = this.pods.get(pod.metadata.namespace ?? "default", pod.metadata.name ?? "");
      if (!cached || !isAssigned(cached)) this.snapshot.forgetPod(info.key);
      this.binding.delete(info.key);
      if (isReason(err, "NotFound")) {
        this.queue.done(info.key);
        return;
      }
      await this.handleFailure(info, pod, { error: new Error(`binding rejected: ${errorMessage(err)}`) });
      return;
    }
    this.binding.delete(info.key);
  }

  /** `handleSchedulingFailure`: event, pod condition, nomination, preemption victims, requeue. */
  private async handleFailure(info: QueuedPodInfo, pod: KubeObject, result: ScheduleFailure): Promise<void> {
    const err = result.error;
    const rejected = err instanceof FitError || err instanceof NoNodesAvailableError;
    const reason = rejected ? REASON_UNSCHEDULABLE : REASON_SCHEDULER_ERROR;
    if (rejected) this.ctx.log(this.name, `Unable to schedule pod ${podName(pod)}; no fit; waiting: ${err.message}`);
    else this.ctx.log(this.name, `Error scheduling pod ${podName(pod)}; retrying: ${err.message}`);

    const nominated = result.nominatedNodeName;
    if (nominated && result.victims && result.victims.length > 0) await this.preempt(pod, nominated, result.victims);

    // Requeue only while the informer still holds the pod unbound.
    const cached = this.pods.get(pod.metadata.namespace ?? "default", pod.metadata.name ?? "");
    if (!cached || cached.metadata.uid !== pod.metadata.uid) {
      this.queue.done(info.key);
      return;
    }
    if (isAssigned(cached)) {
      this.queue.done(info.key);
      return;
    }
    info.pod = cached;
    this.queue.addUnschedulableIfNotPresent(info, err instanceof FitError ? err.diagnosis.unschedulablePlugins : []);
    if (nominated) this.snapshot.addNominatedPod(cached, nominated);
    else if (nominated === "") this.snapshot.removeNominatedPod(cached);

    const message = err.message;
    void this.recorder.event(cached, "Warning", "FailedScheduling", truncateMessage(message));
    await this.updatePodScheduled(cached, reason, message, nominated);
  }

  /**
   * `updatePod`: patch the PodScheduled=False condition (and `status.nominatedNodeName` when the
   * preemption result changes it), only when something changed.
   */
  private async updatePodScheduled(pod: KubeObject, reason: string, message: string, nominated: string | undefined): Promise<void> {
    const conditions: any[] = Array.isArray(pod.status?.conditions) ? pod.status.conditions : [];
    const old = conditions.find((c) => c?.type === "PodScheduled");
    const current = pod.status?.nominatedNodeName ?? "";
    const nnnNeedsUpdate = nominated !== undefined && nominated !== current;
    const same = old && old.status === "False" && old.reason === reason && old.message === message;
    if (same && !nnnNeedsUpdate) return;
    const condition = {
      type: "PodScheduled",
      status: "False",
      lastProbeTime: null,
      // The transition time moves only when the status does (UpdatePodCondition).
      lastTransitionTime: old && old.status === "False" && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(this.ctx.clock.now()),
      reason,
      message,
    };
    const status: Record<string, unknown> = { conditions: [condition] };
    if (nnnNeedsUpdate) status.nominatedNodeName = nominated === "" ? null : nominated;
    try {
      await this.ctx.client.patch(podRef(pod), "application/strategic-merge-patch+json", { status }, { subresource: "status", fieldManager: this.name });
    } catch (err) {
      if (!isReason(err, "NotFound")) this.ctx.log(this.name, `Error updating pod ${podName(pod)}: ${errorMessage(err)}`);
    }
  }

  /**
   * `prepareCandidate`: each victim gets `DisruptionTarget=True` (reason PreemptionByScheduler), is
   * deleted and gets a `Preempted` event; lower-priority pods nominated to the node lose their
   * nomination so they look elsewhere.
   */
  private async preempt(preemptor: KubeObject, nodeName: string, victims: readonly KubeObject[]): Promise<void> {
    const schedulerName = preemptor.spec?.schedulerName || DEFAULT_SCHEDULER_NAME;
    for (const victim of victims) {
      const ref = podRef(victim);
      const condition = {
        type: "DisruptionTarget",
        status: "True",
        lastProbeTime: null,
        lastTransitionTime: rfc3339(this.ctx.clock.now()),
        reason: "PreemptionByScheduler",
        message: `${schedulerName}: preempting to accommodate a higher priority pod`,
      };
      try {
        await this.ctx.client.patch(ref, "application/strategic-merge-patch+json", { status: { conditions: [condition] } }, { subresource: "status", fieldManager: this.name });
        await this.ctx.client.delete(ref);
      } catch (err) {
        if (isReason(err, "NotFound")) continue;
        this.ctx.log(this.name, `could not preempt pod ${podName(victim)}: ${errorMessage(err)}`);
        continue;
      }
      this.ctx.log(this.name, `Preemptor pod ${podName(preemptor)} preempted victim pod ${podName(victim)} on node ${nodeName}`);
      void this.recorder.event(victim, "Normal", "Preempted", `Preempted by pod ${preemptor.metadata.uid} on node ${nodeName}`);
    }
    const priority = typeof preemptor.spec?.priority === "number" ? preemptor.spec.priority : 0;
    for (const other of [...this.snapshot.nominatedPodsForNode(nodeName)]) {
      if (other.key === (preemptor.metadata.uid ?? "") || other.priority >= priority) continue;
      try {
        await this.ctx.client.patch(podRef(other.pod), "application/merge-patch+json", { status: { nominatedNodeName: null } }, { subresource: "status", fieldManager: this.name });
      } catch (err) {
        if (!isReason(err, "NotFound")) this.ctx.log(this.name, `could not clear the nomination of pod ${podName(other.pod)}: ${errorMessage(err)}`);
      }
    }
  }
}

/**
 * The pod garbage collector of the kube-controller-manager (upstream
 * `pkg/controller/podgc/gc_controller.go`). Every 20 s (`gcCheckPeriod`) it force-deletes
 * (grace period 0) pods no kubelet will ever finish, first marking non-terminal ones Failed:
 *
 * - `gcTerminated`: finished pods (Succeeded/Failed) beyond `--terminated-pod-gc-threshold`
 *   (12500), evicted ones first, then oldest first;
 * - `gcTerminating`: terminating pods on a node that is not Ready *and* carries the
 *   `node.kubernetes.io/out-of-service` taint (the non-graceful node shutdown an operator
 *   declares). Without that taint, pods deleted on an unreachable node stay Terminating until
 *   the node comes back: their controllers have already replaced them, since a terminating pod
 *   no longer counts as a replica;
 * - `gcOrphaned`: pods bound to a node that no longer exists, checked again with a GET after a
 *   40 s quarantine, with the `DisruptionTarget` condition (reason `DeletionByPodGC`);
 * - `gcUnscheduledTerminating`: terminating pods never bound to a node.
 */
import type { Timer } from "../../api/clock.js";
import { parseTime, rfc3339 } from "../../api/clock.js";
import { isReason } from "../../api/errors.js";
import type { Informer } from "../../api/informer.js";
import type { KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import type { NodeCondition } from "./_node-status.js";
import { TAINT_OUT_OF_SERVICE, taintsOf } from "./_taints.js";

/** Component name. */
export const POD_GC_NAME = "pod-garbage-collector";
/** `gcCheckPeriod`. */
export const POD_GC_PERIOD_MS = 20_000;
/** `quarantineTime`: how long a missing node is given to show up in the informer. */
export const POD_GC_QUARANTINE_MS = 40_000;
/** `--terminated-pod-gc-threshold` default. */
export const TERMINATED_POD_GC_THRESHOLD = 12_500;

/** Options of the pod garbage collector. */
export interface PodGcOptions {
  readonly terminatedPodThreshold?: number;
  readonly periodMs?: number;
  readonly quarantineMs?: number;
}

/** Builds the pod garbage collector. */
export function podGarbageCollector(ctx: ClusterContext, options: PodGcOptions = {}): PodGarbageCollector {
  return new PodGarbageCollector(ctx, options);
}

/** The pod garbage collector. */
export class PodGarbageCollector implements Component {
  readonly name = POD_GC_NAME;
  private pods!: Informer;
  private nodes!: Informer;
  private timer: Timer | undefined;
  private running = false;
  /** Missing nodes and when their quarantine ends (`nodeQueue.AddAfter`). */
  private readonly quarantine = new Map<string, number>();
  private readonly threshold: number;
  private readonly periodMs: number;
  private readonly quarantineMs: number;

  constructor(
    private readonly ctx: ClusterContext,
    options: PodGcOptions,
  ) {
    this.threshold = options.terminatedPodThreshold ?? TERMINATED_POD_GC_THRESHOLD;
    this.periodMs = options.periodMs ?? POD_GC_PERIOD_MS;
    this.quarantineMs = options.quarantineMs ?? POD_GC_QUARANTINE_MS;
  }

  /** Starts the periodic pass. */
  start(): void {
    this.pods = this.ctx.informers.for("v1", "Pod");
    this.nodes = this.ctx.informers.for("v1", "Node");
    this.timer = this.ctx.clock.setInterval(() => void this.run(), this.periodMs);
  }

  /** Stops the periodic pass. */
  stop(): void {
    this.timer?.cancel();
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.gc();
    } catch (err) {
      this.ctx.log(POD_GC_NAME, `pod garbage collection failed: ${String(err)}`);
    } finally {
      this.running = false;
    }
  }

  /** One pass, in upstream order. */
  async gc(): Promise<void> {
    const pods = this.pods.list();
    const nodes = this.nodes.list();
    if (this.threshold > 0) await this.gcTerminated(pods);
    await this.gcTerminating(pods);
    await this.gcOrphaned(pods, nodes);
    await this.gcUnscheduledTerminating(pods);
  }

  private async gcTerminated(pods: readonly KubeObject[]): Promise<void> {
    const terminated = pods.filter((p) => !["Pending", "Running", "Unknown"].includes(p.status?.phase ?? "Pending"));
    const excess = terminated.length - this.threshold;
    if (excess <= 0) return;
    this.ctx.log(POD_GC_NAME, `garbage collecting ${excess} finished pods (more than ${this.threshold})`);
    for (const pod of terminated.sort(byEvictionAndCreation).slice(0, excess)) await this.markFailedAndDelete(pod);
  }

  private async gcTerminating(pods: readonly KubeObject[]): Promise<void> {
    const victims = pods.filter((p) => {
      if (!p.metadata.deletionTimestamp) return false;
      const node = this.nodes.get(undefined, p.spec?.nodeName ?? "");
      if (!node) return false;
      const ready = ((node.status?.conditions ?? []) as NodeCondition[]).find((c) => c.type === "Ready");
      return ready?.status !== "True" && taintsOf(node).some((t) => t.key === TAINT_OUT_OF_SERVICE);
    });
    for (const pod of victims.sort(byEvictionAndCreation)) {
      this.ctx.log(POD_GC_NAME, `force deleting pod ${pod.metadata.namespace}/${pod.metadata.name}: terminating on out-of-service node ${pod.spec.nodeName}`);
      await this.markFailedAndDelete(pod);
    }
  }

  private async gcOrphaned(pods: readonly KubeObject[], nodes: readonly KubeObject[]): Promise<void> {
    const existing = new Set(nodes.map((n) => n.metadata.name));
    const now = this.ctx.clock.now();
    for (const pod of pods) {
      const node = pod.spec?.nodeName;
      // AddAfter: a node already waiting keeps its earlier time.
      if (node && !existing.has(node) && !this.quarantine.has(node)) this.quarantine.set(node, now + this.quarantineMs);
    }
    const deleted = new Set<string>();
    for (const [node, until] of [...this.quarantine]) {
      if (until > now) continue;
      this.quarantine.delete(node);
      if (existing.has(node)) continue;
      try {
        await this.ctx.client.get({ apiVersion: "v1", kind: "Node", name: node });
      } catch (err) {
        if (isReason(err, "NotFound")) deleted.add(node);
      }
    }
    for (const pod of pods) {
      if (!deleted.has(pod.spec?.nodeName)) continue;
      this.ctx.log(POD_GC_NAME, `found orphaned pod ${pod.metadata.namespace}/${pod.metadata.name} assigned to the deleted node ${pod.spec.nodeName}: deleting it`);
      await this.markFailedAndDelete(pod, { type: "DisruptionTarget", status: "True", reason: "DeletionByPodGC", message: "PodGC: node no longer exists" });
    }
  }

  private async gcUnscheduledTerminating(pods: readonly KubeObject[]): Promise<void> {
    for (const pod of pods) {
      if (!pod.metadata.deletionTimestamp || pod.spec?.nodeName) continue;
      this.ctx.log(POD_GC_NAME, `found unscheduled terminating pod ${pod.metadata.namespace}/${pod.metadata.name}: deleting it`);
      await this.markFailedAndDelete(pod);
    }
  }

  /** `markFailedAndDeletePodWithCondition`: phase Failed (plus the condition), then delete with grace period 0. */
  private async markFailedAndDelete(pod: KubeObject, condition?: { type: string; status: string; reason: string; message: string }): Promise<void> {
    const ref = { apiVersion: "v1", kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name! };
    try {
      const phase = pod.status?.phase;
      if (phase !== "Succeeded" && phase !== "Failed") {
        let conditions = [...((pod.status?.conditions ?? []) as { type: string }[])];
        if (condition) {
          conditions = conditions.filter((c) => c.type !== condition.type);
          conditions.push({ ...condition, lastProbeTime: null, lastTransitionTime: rfc3339(this.ctx.clock.now()) } as { type: string });
        }
        const status = { ...(pod.status ?? {}), phase: "Failed", conditions };
        await this.ctx.client.update({ apiVersion: "v1", kind: "Pod", metadata: { name: ref.name, namespace: ref.namespace, uid: pod.metadata.uid }, status }, { subresource: "status" });
      }
      await this.ctx.client.delete(ref, { gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isReason(err, "NotFound")) this.ctx.log(POD_GC_NAME, `failed to delete pod ${ref.namespace}/${ref.name}: ${String(err)}`);
    }
  }
}

/** `byEvictionAndCreationTimestamp`: evicted pods first, then oldest, then by name. */
function byEvictionAndCreation(a: KubeObject, b: KubeObject): number {
  const ea = a.status?.phase === "Failed" && a.status?.reason === "Evicted";
  const eb = b.status?.phase === "Failed" && b.status?.reason === "Evicted";
  if (ea !== eb) return ea ? -1 : 1;
  const ta = parseTime(a.metadata.creationTimestamp);
  const tb = parseTime(b.metadata.creationTimestamp);
  if (ta !== tb) return ta - tb;
  return (a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1;
}

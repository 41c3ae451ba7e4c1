/**
 * The taint eviction controller (upstream `pkg/controller/tainteviction/taint_eviction.go`, a
 * controller of its own, `taint-eviction-controller`, since `SeparateTaintEvictionController`
 * went beta in 1.29; before, the node lifecycle controller's "NoExecuteTaintManager"):
 *
 * - When a node's `NoExecute` taints change, every pod on it is checked; when a pod is bound to
 *   a tainted node, that pod is checked.
 * - A pod that does not tolerate every `NoExecute` taint is deleted at once. A pod whose matching
 *   tolerations all lack `tolerationSeconds` stays. Otherwise it is deleted after the smallest
 *   `tolerationSeconds`, counted from when this controller first saw the taint (the 300 s the
 *   DefaultTolerationSeconds admission plugin gives every pod for `not-ready`/`unreachable`).
 * - A deletion is announced with a `TaintManagerEviction` event "Marking for deletion Pod
 *   <ns>/<name>", the pod gets the `DisruptionTarget` condition (reason
 *   `DeletionByTaintManager`), then it is deleted with its own grace period. Taints removed
 *   before the time is up cancel it: "Cancelling deletion of Pod <ns>/<name>".
 */
import type { Timer } from "../../api/clock.js";
import { rfc3339 } from "../../api/clock.js";
import { isReason } from "../../api/errors.js";
import type { Informer } from "../../api/informer.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { PodsByNode } from "./_pods-by-node.js";
import { matchingTolerations, taintsOf, type Taint, type Toleration } from "./_taints.js";

/** Component name (the event source upstream uses). */
export const TAINT_EVICTION_CONTROLLER_NAME = "taint-eviction-controller";

/** Attempts of one deletion (`retries`), 10 ms apart. */
const RETRIES = 5;

/** A scheduled deletion (`TimedWorker`). */
interface Scheduled {
  readonly createdAt: number;
  readonly fireAt: number;
  readonly timer: Timer;
}

/** `getMinTolerationTime`: the smallest tolerationSeconds in ms; -1 when every toleration lasts forever, 0 when none was used. */
export function minTolerationTime(tolerations: readonly Toleration[]): number {
  if (tolerations.length === 0) return 0;
  let min = Number.POSITIVE_INFINITY;
  for (const t of tolerations) {
    if (t.tolerationSeconds === undefined || t.tolerationSeconds === null) continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return Number.isFinite(min) ? min * 1000 : -1;
}

/** Builds the taint eviction controller. */
export function taintEvictionController(ctx: ClusterContext): TaintEvictionController {
  return new TaintEvictionController(ctx);
}

/** The taint eviction controller. */
export class TaintEvictionController implements Component {
  readonly name = TAINT_EVICTION_CONTROLLER_NAME;
  private readonly recorder;
  private nodes!: Informer;
  private pods!: Informer;
  private podsByNode!: PodsByNode;
  /** NoExecute taints of each tainted node. */
  private readonly tainted = new Map<string, Taint[]>();
  /** Pending deletions by `namespace/name`. */
  private readonly work = new Map<string, Scheduled>();
  private stopped = false;

  constructor(private readonly ctx: ClusterContext) {
    this.recorder = ctx.recorder({ component: TAINT_EVICTION_CONTROLLER_NAME });
  }

  /** Registers informer handlers. */
  start(): void {
    this.nodes = this.ctx.informers.for("v1", "Node");
    this.pods = this.ctx.informers.for("v1", "Pod");
    this.podsByNode = new PodsByNode(this.pods);
    this.nodes.addHandlers({
      add: (node) => this.nodeUpdated(undefined, node),
      update: (old, node) => this.nodeUpdated(old, node),
      delete: (node) => this.nodeUpdated(node, undefined),
    });
    this.pods.addHandlers({
      add: (pod) => this.podUpdated(undefined, pod),
      update: (old, pod) => this.podUpdated(old, pod),
      delete: (pod) => this.podUpdated(pod, undefined),
    });
  }

  /** Cancels every pending deletion. */
  stop(): void {
    this.stopped = true;
    for (const w of this.work.values()) w.timer.cancel();
    this.work.clear();
  }

  /** Pending deletions: pod key and the clock time it fires. */
  pending(): { pod: string; fireAt: number }[] {
    return [...this.work].map(([pod, w]) => ({ pod, fireAt: w.fireAt }));
  }

  private noExecute(node: KubeObject | undefined): Taint[] {
    return taintsOf(node).filter((t) => t.effect === "NoExecute");
  }

  /** `NodeUpdated` + `handleNodeUpdate`. */
  private nodeUpdated(old: KubeObject | undefined, node: KubeObject | undefined): void {
    if (this.stopped) return;
    const oldTaints = this.noExecute(old);
    const newTaints = this.noExecute(node);
    if (old && node && JSON.stringify(oldTaints) === JSON.stringify(newTaints)) return;
    const name = (node ?? old)!.metadata.name!;
    if (!node) {
      this.tainted.delete(name);
      return;
    }
    if (newTaints.length === 0) this.tainted.delete(name);
    else this.tainted.set(name, newTaints);
    const pods = this.podsByNode.get(name);
    if (pods.length === 0) return;
    if (newTaints.length === 0) {
      for (const pod of pods) this.cancelWithEvent(pod.metadata.namespace!, pod.metadata.name!);
      return;
    }
    const now = this.ctx.clock.now();
    for (const pod of pods) this.processPodOnNode(pod, name, newTaints, now);
  }

  /** `PodUpdated` + `handlePodUpdate`. */
  private podUpdated(old: KubeObject | undefined, pod: KubeObject | undefined): void {
    if (this.stopped) return;
    if (old && pod && JSON.stringify(old.spec?.tolerations ?? []) === JSON.stringify(pod.spec?.tolerations ?? []) && old.spec?.nodeName === pod.spec?.nodeName) return;
    const p = (pod ?? old)!;
    const namespace = p.metadata.namespace!;
    const name = p.metadata.name!;
    if (!pod) {
      this.cancelWithEvent(namespace, name);
      return;
    }
    const nodeName = pod.spec?.nodeName;
    if (!nodeName) return;
    const taints = this.tainted.get(nodeName);
    if (!taints) return;
    this.processPodOnNode(pod, nodeName, taints, this.ctx.clock.now());
  }

  /** `processPodOnNode`. */
  private processPodOnNode(pod: KubeObject, nodeName: string, taints: readonly Taint[], now: number): void {
    const namespace = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    const key = `${namespace}/${name}`;
    if (taints.length === 0) this.cancelWithEvent(namespace, name);
    const { all, used } = matchingTolerations(taints, (pod.spec?.tolerations ?? []) as Toleration[]);
    if (!all) {
      this.ctx.log(TAINT_EVICTION_CONTROLLER_NAME, `not all taints of node ${nodeName} are tolerated by pod ${key}: deleting it now`);
      this.cancelWithEvent(namespace, name);
      this.addWork(namespace, name, now, now);
      return;
    }
    const min = minTolerationTime(used);
    if (min < 0) {
      this.cancelWithEvent(namespace, name);
      return;
    }
    let start = now;
    const existing = this.work.get(key);
    if (existing) {
      start = existing.createdAt;
      // An eviction already due earlier stays as it is.
      if (start + min < now + min) return;
      this.cancelWithEvent(namespace, name);
    }
    this.addWork(namespace, name, start, start + min);
  }

  private addWork(namespace: string, name: string, createdAt: number, fireAt: number): void {
    const key = `${namespace}/${name}`;
    if (this.work.has(key)) return;
    const timer = this.ctx.clock.setTimeout(() => void this.evict(namespace, name), Math.max(0, fireAt - this.ctx.clock.now()));
    this.work.set(key, { createdAt, fireAt, timer });
  }

  private cancelWithEvent(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const w = this.work.get(key);
    if (!w) return;
    w.timer.cancel();
    this.work.delete(key);
    void this.recorder.event({ apiVersion: "v1", kind: "Pod", namespace, name }, "Normal", "TaintManagerEviction", `Cancelling deletion of Pod ${key}`);
  }

  /** `deletePodHandler`: the event, the DisruptionTarget condition, then the deletion. */
  private async evict(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    this.work.delete(key);
    if (this.stopped) return;
    this.ctx.log(TAINT_EVICTION_CONTROLLER_NAME, `deleting pod ${key}`);
    void this.recorder.event({ apiVersion: "v1", kind: "Pod", namespace, name }, "Normal", "TaintManagerEviction", `Marking for deletion Pod ${key}`);
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      try {
        await this.addConditionAndDeletePod(namespace, name);
        return;
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        if (attempt === RETRIES - 1) this.ctx.log(TAINT_EVICTION_CONTROLLER_NAME, `failed to delete pod ${key}: ${String(err)}`);
        else await this.ctx.clock.sleep(10);
      }
    }
  }

  private async addConditionAndDeletePod(namespace: string, name: string): Promise<void> {
    const ref = { apiVersion: "v1", kind: "Pod", namespace, name };
    const pod = await this.ctx.client.get(ref);
    const conditions = [...((pod.status?.conditions ?? []) as { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[])];
    const wanted = { type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint" };
    const i = conditions.findIndex((c) => c.type === wanted.type);
    const old = i >= 0 ? conditions[i] : undefined;
    if (!old || old.status !== wanted.status || old.reason !== wanted.reason || old.message !== wanted.message) {
      const next = { ...wanted, lastProbeTime: null, lastTransitionTime: old && old.status === wanted.status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(this.ctx.clock.now()) };
      if (i >= 0) conditions[i] = next as (typeof conditions)[number];
      else conditions.push(next as (typeof conditions)[number]);
      const updated = clone(pod) as KubeObject;
      updated.status = { ...(updated.status ?? {}), conditions };
      // PatchPodStatus carries the pod's UID: a new pod with the same name is left alone.
      await this.ctx.client.update({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace, uid: pod.metadata.uid }, status: updated.status }, { subresource: "status" });
    }
    await this.ctx.client.delete(ref);
  }
}

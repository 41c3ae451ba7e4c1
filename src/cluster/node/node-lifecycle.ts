/**
 * The node lifecycle controller of the kube-controller-manager (upstream
 * `pkg/controller/nodelifecycle/node_lifecycle_controller.go`), component `node-controller`:
 *
 * - Every 5 s (`--node-monitor-period`) `monitorNodeHealth` checks each node's heartbeats: a
 *   renewed Lease or a new Ready `lastHeartbeatTime`, timed by the controller's own clock when it
 *   notices them. After `--node-monitor-grace-period` without one (50 s, the default since
 *   Kubernetes 1.32, kubernetes#126287; it was 40 s before; 60 s `--node-startup-grace-period`
 *   for a node that never posted Ready) it sets Ready, MemoryPressure, DiskPressure and
 *   PIDPressure to Unknown, reason `NodeStatusUnknown`, "Kubelet stopped posting node status.",
 *   records `NodeNotReady` and marks every pod on the node Ready=False (`MarkPodsNotReady`, with a
 *   `NodeNotReady` event on each pod).
 * - Taint-based eviction: a node whose observed Ready is Unknown (False) is queued, per zone,
 *   for the `node.kubernetes.io/unreachable` (`not-ready`) `NoExecute` taint; the zone queue
 *   releases one node per 10 s (`--node-eviction-rate` 0.1), slower or not at all in a zone that
 *   is mostly down (`--unhealthy-zone-threshold` 0.55, `--secondary-node-eviction-rate` 0.01 above
 *   `--large-cluster-size-threshold` 50 nodes, none below), and not at all when every zone is
 *   down. The taint-eviction controller then deletes the pods that do not tolerate the taint.
 *   When the node is Ready again, both NoExecute taints are removed.
 * - `NoSchedule` taints mirror the node's conditions (`doNoScheduleTaintingPass`): Ready False or
 *   Unknown, memory/disk/PID pressure, network unavailable, and `spec.unschedulable`.
 * - The beta OS and arch labels are kept in step with the stable ones (`reconcileNodeLabels`).
 */
import type { Timer } from "../../api/clock.js";
import { parseTime, rfc3339 } from "../../api/clock.js";
import { isReason } from "../../api/errors.js";
import type { Informer } from "../../api/informer.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { WorkQueue } from "../workqueue.js";
import type { NodeCondition } from "./_node-status.js";
import { PodsByNode } from "./_pods-by-node.js";
import { RateLimitedTimedQueue, type ActionResult } from "./_rate-limited-queue.js";
import {
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  swapNodeTaints,
  taintExists,
  taintsOf,
  type Taint,
} from "./_taints.js";
import { NODE_LEASE_NAMESPACE } from "./kubelet.js";
import { LABEL_ARCH, LABEL_ARCH_BETA, LABEL_OS, LABEL_OS_BETA, LABEL_REGION, LABEL_ZONE } from "./node-spec.js";

/** Component name (`node-controller`, the event source upstream uses). */
export const NODE_CONTROLLER_NAME = "node-controller";
/** `--node-monitor-period` default. */
export const NODE_MONITOR_PERIOD_MS = 5_000;
/** `--node-monitor-grace-period` default since Kubernetes 1.32 (kubernetes#126287; 40 s before). */
export const NODE_MONITOR_GRACE_PERIOD_MS = 50_000;
/** `--node-startup-grace-period` default. */
export const NODE_STARTUP_GRACE_PERIOD_MS = 60_000;
/** `--node-eviction-rate` default (nodes per second). */
export const NODE_EVICTION_RATE = 0.1;
/** `--secondary-node-eviction-rate` default. */
export const SECONDARY_NODE_EVICTION_RATE = 0.01;
/** `--large-cluster-size-threshold` default. */
export const LARGE_CLUSTER_SIZE_THRESHOLD = 50;
/** `--unhealthy-zone-threshold` default. */
export const UNHEALTHY_ZONE_THRESHOLD = 0.55;

/** `UnreachableTaintTemplate`. */
export const UNREACHABLE_TAINT: Taint = { key: TAINT_UNREACHABLE, effect: "NoExecute" };
/** `NotReadyTaintTemplate`. */
export const NOT_READY_TAINT: Taint = { key: TAINT_NOT_READY, effect: "NoExecute" };

/** Zone states (`ZoneState`). */
export type ZoneState = "Initial" | "Normal" | "FullDisruption" | "PartialDisruption";

/** Options of the node lifecycle controller. */
export interface NodeLifecycleOptions {
  readonly nodeMonitorPeriodMs?: number;
  readonly nodeMonitorGracePeriodMs?: number;
  readonly nodeStartupGracePeriodMs?: number;
  readonly evictionRate?: number;
  readonly secondaryEvictionRate?: number;
  readonly largeClusterSizeThreshold?: number;
  readonly unhealthyZoneThreshold?: number;
}

/** `nodeConditionToTaintKeyStatusMap`: which condition status gives which NoSchedule taint. */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));

/** Conditions the controller sets to Unknown (NetworkUnavailable belongs to the route controller). */
const MONITORED_CONDITIONS = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"];

/** Label a node carries to be left out of zone disruption checks. */
const LABEL_EXCLUDE_DISRUPTION = "node.kubernetes.io/exclude-disruption";

/** `nodeHealthData`: what the controller last saw of a node, timed by its own clock. */
interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  ready?: NodeCondition;
  leaseRenewTime?: number;
}

/** The zone key (`nodetopology.GetZoneKey`): region and zone, or "" for a node with neither. */
export function zoneKey(node: KubeObject): string {
  const labels = node.metadata.labels ?? {};
  const region = labels[LABEL_REGION] ?? labels["failure-domain.beta.kubernetes.io/region"] ?? "";
  const zone = labels[LABEL_ZONE] ?? labels["failure-domain.beta.kubernetes.io/zone"] ?? "";
  if (!region && !zone) return "";
  return `${region}:\u0000:${zone}`;
}

function condition(node: KubeObject, type: string): NodeCondition | undefined {
  return ((node.status?.conditions ?? []) as NodeCondition[]).find((c) => c.type === type);
}

/** Builds the node lifecycle controller. */
export function nodeLifecycleController(ctx: ClusterContext, options: NodeLifecycleOptions = {}): NodeLifecycleController {
  return new NodeLifecycleController(ctx, options);
}

/** The node lifecycle controller. */
export class NodeLifecycleController implements Component {
  readonly name = NODE_CONTROLLER_NAME;
  private readonly recorder;
  private readonly opts: Required<NodeLifecycleOptions>;
  private nodes!: Informer;
  private leases!: Informer;
  private pods!: Informer;
  private podsByNode!: PodsByNode;
  private readonly health = new Map<string, NodeHealth>();
  private readonly known = new Map<string, KubeObject>();
  private readonly zoneStates = new Map<string, ZoneState>();
  private readonly tainters = new Map<string, RateLimitedTimedQueue>();
  private readonly nodesToRetry = new Set<string>();
  private readonly nodeQueue: WorkQueue;
  private readonly podQueue: WorkQueue;
  private monitorTimer: Timer | undefined;
  private monitoring = false;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    options: NodeLifecycleOptions,
  ) {
    this.opts = {
      nodeMonitorPeriodMs: options.nodeMonitorPeriodMs ?? NODE_MONITOR_PERIOD_MS,
      nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs ?? NODE_MONITOR_GRACE_PERIOD_MS,
      nodeStartupGracePeriodMs: options.nodeStartupGracePeriodMs ?? NODE_STARTUP_GRACE_PERIOD_MS,
      evictionRate: options.evictionRate ?? NODE_EVICTION_RATE,
      secondaryEvictionRate: options.secondaryEvictionRate ?? SECONDARY_NODE_EVICTION_RATE,
      largeClusterSizeThreshold: options.largeClusterSizeThreshold ?? LARGE_CLUSTER_SIZE_THRESHOLD,
      unhealthyZoneThreshold: options.unhealthyZoneThreshold ?? UNHEALTHY_ZONE_THRESHOLD,
    };
    this.recorder = ctx.recorder({ component: NODE_CONTROLLER_NAME });
    const onError = (key: string, err: unknown) => ctx.log(NODE_CONTROLLER_NAME, `error syncing ${key}: ${String(err)}`);
    this.nodeQueue = new WorkQueue(ctx.clock, (name) => this.processNode(name), { workers: 8, onError });
    this.podQueue = new WorkQueue(ctx.clock, (key) => this.processPod(key), { workers: 4, onError });
  }

  /** Registers informer handlers and starts the monitor loop. */
  start(): void {
    this.nodes = this.ctx.informers.for("v1", "Node");
    this.leases = this.ctx.informers.for("coordination.k8s.io/v1", "Lease");
    this.pods = this.ctx.informers.for("v1", "Pod");
    this.podsByNode = new PodsByNode(this.pods);
    this.nodes.addHandlers({
      add: (node) => this.nodeQueue.add(node.metadata.name!),
      update: (_old, node) => this.nodeQueue.add(node.metadata.name!),
      delete: (node) => this.nodesToRetry.delete(node.metadata.name!),
    });
    this.pods.addHandlers({
      add: (pod) => this.podUpdated(undefined, pod),
      update: (old, pod) => this.podUpdated(old, pod),
    });
    // wait.UntilWithContext runs the first pass at once; the informers start after the
    // components, so the first pass is the first tick.
    this.monitorTimer = this.ctx.clock.setInterval(() => void this.runMonitor(), this.opts.nodeMonitorPeriodMs);
  }

  /** Stops the loops. */
  stop(): void {
    this.stopped = true;
    this.monitorTimer?.cancel();
    this.nodeQueue.shutdown();
    this.podQueue.shutdown();
    for (const q of this.tainters.values()) q.stop();
  }

  /** The state the controller keeps for each zone (for views and tests). */
  zones(): ReadonlyMap<string, ZoneState> {
    return this.zoneStates;
  }

  private async runMonitor(): Promise<void> {
    if (this.monitoring || this.stopped) return;
    this.monitoring = true;
    try {
      await this.monitorNodeHealth();
    } catch (err) {
      this.ctx.log(NODE_CONTROLLER_NAME, `error monitoring node health: ${String(err)}`);
    } finally {
      this.monitoring = false;
    }
  }

  // ------------------------------------------------------------------------------ monitor

  private async monitorNodeHealth(): Promise<void> {
    const nodes = this.nodes.list();
    const names = new Set(nodes.map((n) => n.metadata.name!));
    for (const node of nodes) {
      const name = node.metadata.name!;
      if (this.known.has(name)) {
        if (!this.zoneStates.has(zoneKey(node))) this.addZone(node);
        continue;
      }
      this.nodeEvent(node, "RegisteredNode", `Node ${name} event: Registered Node ${name} in Controller`);
      this.known.set(name, node);
      this.addZone(node);
      await this.markNodeAsReachable(node);
    }
    for (const [name, node] of [...this.known]) {
      if (names.has(name)) continue;
      this.nodeEvent(node, "RemovingNode", `Node ${name} event: Removing Node ${name} from Controller`);
      this.known.delete(name);
      this.health.delete(name);
    }

    const zoneConditions = new Map<string, (NodeCondition | undefined)[]>();
    for (const original of nodes) {
      const result = await this.updateNodeHealthWithRetry(clone(original) as KubeObject);
      if (!result) continue;
      const { node, observed, current } = result;
      if (!node.metadata.labels?.[LABEL_EXCLUDE_DISRUPTION]) {
        const zone = zoneKey(node);
        zoneConditions.set(zone, [...(zoneConditions.get(zone) ?? []), current]);
      }
      if (!current) continue;
      const name = node.metadata.name!;
      await this.processTaintBaseEviction(node, observed);
      const needsRetry = this.nodesToRetry.has(name);
      let mark = false;
      if (current.status !== "True" && observed.status === "True") {
        // Report the status change once.
        this.recorder.event(this.nodeRef(node), "Normal", "NodeNotReady", `Node ${name} status is now: NodeNotReady`);
        mark = true;
      } else if (needsRetry && observed.status !== "True") mark = true;
      if (mark) {
        const ok = await this.markPodsNotReady(this.podsByNode.get(name), name);
        if (!ok) {
          this.nodesToRetry.add(name);
          continue;
        }
      }
      this.nodesToRetry.delete(name);
    }
    this.handleDisruption(zoneConditions, nodes);
  }

  /** `tryUpdateNodeHealth` with the upstream retries (a conflict re-reads the node). */
  private async updateNodeHealthWithRetry(node: KubeObject): Promise<{ node: KubeObject; observed: NodeCondition; current: NodeCondition | undefined } | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const r = await this.tryUpdateNodeHealth(node);
        return { node, ...r };
      } catch (err) {
        try {
          node = clone(await this.ctx.client.get({ apiVersion: "v1", kind: "Node", name: node.metadata.name! })) as KubeObject;
        } catch {
          this.ctx.log(NODE_CONTROLLER_NAME, `failed while getting node ${node.metadata.name} to retry updating its health; probably it was deleted`);
          return undefined;
        }
        if (attempt === 4) this.ctx.log(NODE_CONTROLLER_NAME, `update health of node ${node.metadata.name} failed, skipping (no pods will be evicted): ${String(err)}`);
      }
    }
    return undefined;
  }

  /**
   * `tryUpdateNodeHealth`: when the controller last noticed a heartbeat (a new Ready heartbeat
   * time or a renewed Lease) longer ago than the grace period, the monitored conditions go
   * Unknown. Returns the Ready condition as observed and as it is now.
   */
  private async tryUpdateNodeHealth(node: KubeObject): Promise<{ observed: NodeCondition; current: NodeCondition | undefined }> {
    const name = node.metadata.name!;
    const now = this.ctx.clock.now();
    const created = parseTime(node.metadata.creationTimestamp);
    let health = this.health.get(name);
    let current = condition(node, "Ready");
    let observed: NodeCondition;
    let grace: number;
    if (!current) {
      // Never posted: a fake Unknown condition dated at creation, and the startup grace period.
      const at = node.metadata.creationTimestamp ?? rfc3339(now);
      observed = { type: "Ready", status: "Unknown", lastHeartbeatTime: at, lastTransitionTime: at };
      grace = this.opts.nodeStartupGracePeriodMs;
      if (health) health.ready = undefined;
      else health = { probeTimestamp: created, readyTransitionTimestamp: created };
    } else {
      observed = { ...current };
      grace = this.opts.nodeMonitorGracePeriodMs;
    }
    const saved = health?.ready;
    if (!health) health = { probeTimestamp: now, readyTransitionTimestamp: now, ready: current && { ...current } };
    else if (!saved && current) health = { probeTimestamp: now, readyTransitionTimestamp: now, ready: { ...current }, leaseRenewTime: health.leaseRenewTime };
    else if (saved && current && saved.lastHeartbeatTime !== current.lastHeartbeatTime) {
      const transition = saved.lastTransitionTime !== current.lastTransitionTime ? now : health.readyTransitionTimestamp;
      health = { probeTimestamp: now, readyTransitionTimestamp: transition, ready: { ...current }, leaseRenewTime: health.leaseRenewTime };
    }
    // A renewed Lease always counts as a heartbeat.
    const lease = this.leases.get(NODE_LEASE_NAMESPACE, name);
    const renew = parseTime(lease?.spec?.renewTime);
    if (lease && Number.isFinite(renew) && (health.leaseRenewTime === undefined || health.leaseRenewTime < renew)) {
      health.leaseRenewTime = renew;
      health.probeTimestamp = now;
    }
    this.health.set(name, health);

    if (now > health.probeTimestamp + grace) {
      const stamp = rfc3339(now);
      const conditions = ((node.status?.conditions ?? []) as NodeCondition[]).map((c) => ({ ...c }));
      for (const type of MONITORED_CONDITIONS) {
        const c = conditions.find((x) => x.type === type);
        if (!c) {
          conditions.push({
            type,
            status: "Unknown",
            reason: "NodeStatusNeverUpdated",
            message: "Kubelet never posted node status.",
            lastHeartbeatTime: node.metadata.creationTimestamp ?? stamp,
            lastTransitionTime: stamp,
          });
        } else if (c.status !== "Unknown") {
          c.status = "Unknown";
          c.reason = "NodeStatusUnknown";
          c.message = "Kubelet stopped posting node status.";
          c.lastTransitionTime = stamp;
        }
      }
      node.status = { ...(node.status ?? {}), conditions };
      current = condition(node, "Ready");
      if (JSON.stringify(current) !== JSON.stringify(observed)) {
        const written = await this.ctx.client.update(node, { subresource: "status" });
        node.metadata.resourceVersion = written.metadata.resourceVersion;
        this.ctx.log(NODE_CONTROLLER_NAME, `node ${name} hasn't been updated for ${Math.round((now - health.probeTimestamp) / 1000)}s: its conditions are now Unknown`);
        this.health.set(name, { ...health, ready: current && { ...current }, readyTransitionTimestamp: now });
      }
    }
    return { observed, current };
  }

  // ------------------------------------------------------------------------------ NoExecute taints

  private addZone(node: KubeObject): void {
    const zone = zoneKey(node);
    if (this.zoneStates.has(zone)) return;
    this.zoneStates.set(zone, "Initial");
    this.tainters.set(zone, new RateLimitedTimedQueue(this.ctx.clock, this.opts.evictionRate, (item) => this.taintNode(item.value)));
  }

  private tainter(node: KubeObject): RateLimitedTimedQueue {
    this.addZone(node);
    return this.tainters.get(zoneKey(node))!;
  }

  /** `processTaintBaseEviction`. */
  private async processTaintBaseEviction(node: KubeObject, observed: NodeCondition): Promise<void> {
    const taints = taintsOf(node);
    const name = node.metadata.name!;
    const now = this.ctx.clock.now();
    if (observed.status === "False") {
      // Already unreachable: swap to not-ready at once.
      if (taintExists(taints, UNREACHABLE_TAINT)) await swapNodeTaints(this.ctx.client, name, [NOT_READY_TAINT], [UNREACHABLE_TAINT], now);
      else if (this.markNodeForTainting(node, "False")) this.ctx.log(NODE_CONTROLLER_NAME, `node ${name} is NotReady: adding it to the taint queue`);
    } else if (observed.status === "Unknown") {
      if (taintExists(taints, NOT_READY_TAINT)) await swapNodeTaints(this.ctx.client, name, [UNREACHABLE_TAINT], [NOT_READY_TAINT], now);
      else if (this.markNodeForTainting(node, "Unknown")) this.ctx.log(NODE_CONTROLLER_NAME, `node ${name} is unresponsive: adding it to the taint queue`);
    } else if (observed.status === "True") {
      if (await this.markNodeAsReachable(node)) this.ctx.log(NODE_CONTROLLER_NAME, `node ${name} is healthy again: removed its NoExecute taints`);
    }
  }

  private markNodeForTainting(node: KubeObject, status: "False" | "Unknown"): boolean {
    const queue = this.tainter(node);
    const name = node.metadata.name!;
    const taints = taintsOf(node);
    if (status === "False" && !taintExists(taints, NOT_READY_TAINT)) queue.remove(name);
    if (status === "Unknown" && !taintExists(taints, UNREACHABLE_TAINT)) queue.remove(name);
    return queue.add(name, node.metadata.uid ?? "");
  }

  /** Removes both NoExecute taints and drops the node from its zone queue. Returns true when it was queued. */
  private async markNodeAsReachable(node: KubeObject): Promise<boolean> {
    const taints = taintsOf(node);
    const remove = [UNREACHABLE_TAINT, NOT_READY_TAINT].filter((t) => taintExists(taints, t));
    if (remove.length) await swapNodeTaints(this.ctx.client, node.metadata.name!, [], remove, this.ctx.clock.now());
    return this.tainter(node).remove(node.metadata.name!);
  }

  /** `doNoExecuteTaintingPass` for one node: the taint that mirrors its Ready condition, the other one removed. */
  private async taintNode(name: string): Promise<ActionResult> {
    const node = this.nodes.get(undefined, name);
    if (!node) return { done: true };
    const ready = condition(node, "Ready");
    if (!ready) return { done: false, retryMs: 50 };
    let add: Taint;
    let remove: Taint;
    if (ready.status === "False") [add, remove] = [NOT_READY_TAINT, UNREACHABLE_TAINT];
    else if (ready.status === "Unknown") [add, remove] = [UNREACHABLE_TAINT, NOT_READY_TAINT];
    else return { done: true };
    try {
      const ok = await swapNodeTaints(this.ctx.client, name, [add], [remove], this.ctx.clock.now());
      if (ok) this.ctx.log(NODE_CONTROLLER_NAME, `tainted node ${name} with ${add.key}:NoExecute`);
      return ok ? { done: true } : { done: false, retryMs: 0 };
    } catch (err) {
      this.ctx.log(NODE_CONTROLLER_NAME, `failed to taint node ${name}: ${String(err)}`);
      return { done: false, retryMs: 0 };
    }
  }

  // ------------------------------------------------------------------------------ disruption

  /** `ComputeZoneState`. */
  computeZoneState(conditions: readonly (NodeCondition | undefined)[]): { notReady: number; state: ZoneState } {
    let ready = 0;
    let notReady = 0;
    for (const c of conditions) {
      if (c?.status === "True") ready++;
      else notReady++;
    }
    if (ready === 0 && notReady > 0) return { notReady, state: "FullDisruption" };
    if (notReady > 2 && notReady / (notReady + ready) >= this.opts.unhealthyZoneThreshold) return { notReady, state: "PartialDisruption" };
    return { notReady, state: "Normal" };
  }

  private setLimiterInZone(zone: string, zoneSize: number, state: ZoneState): void {
    const q = this.tainters.get(zone);
    if (!q) return;
    if (state === "Normal") q.swapLimiter(this.opts.evictionRate);
    // ReducedQPSFunc: slower in a large cluster, stopped in a small one.
    else if (state === "PartialDisruption") q.swapLimiter(zoneSize > this.opts.largeClusterSizeThreshold ? this.opts.secondaryEvictionRate : 0);
    // HealthyQPSFunc: a fully disrupted zone (while others are fine) evicts at the normal rate.
    else if (state === "FullDisruption") q.swapLimiter(this.opts.evictionRate);
  }

  /** `handleDisruption`. */
  private handleDisruption(zoneConditions: Map<string, (NodeCondition | undefined)[]>, nodes: readonly KubeObject[]): void {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, conditions] of zoneConditions) {
      const { state } = this.computeZoneState(conditions);
      if (state !== "FullDisruption") allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, "Initial");
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneConditions.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (state !== "FullDisruption") {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      this.ctx.log(NODE_CONTROLLER_NAME, "every node is not ready: entering master disruption mode, no evictions");
      for (const node of nodes) void this.markNodeAsReachable(node).catch(() => undefined);
      for (const zone of this.zoneStates.keys()) this.tainters.get(zone)?.swapLimiter(0);
      for (const zone of this.zoneStates.keys()) this.zoneStates.set(zone, "FullDisruption");
      return;
    }
    if (allWasFullyDisrupted) {
      this.ctx.log(NODE_CONTROLLER_NAME, "some nodes are ready again: exiting master disruption mode");
      const now = this.ctx.clock.now();
      for (const node of nodes) {
        const h = this.health.get(node.metadata.name!);
        if (h) this.health.set(node.metadata.name!, { ...h, probeTimestamp: now, readyTransitionTimestamp: now });
      }
      for (const zone of this.zoneStates.keys()) {
        const state = newStates.get(zone) ?? "Normal";
        this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, state);
        this.zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of [...this.zoneStates]) {
      const next = newStates.get(zone);
      if (!next || next === state) continue;
      this.ctx.log(NODE_CONTROLLER_NAME, `zone ${zone.replace("\u0000", "")} is now in state ${next}`);
      this.setLimiterInZone(zone, zoneConditions.get(zone)?.length ?? 0, next);
      this.zoneStates.set(zone, next);
    }
  }

  // ------------------------------------------------------------------------------ pods

  private podUpdated(old: KubeObject | undefined, pod: KubeObject): void {
    const node = pod.spec?.nodeName;
    if (node && (!old || old.spec?.nodeName !== node)) this.podQueue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
  }

  /** `processPod`: a pod newly bound to a node that is not Ready is marked not ready too. */
  private async processPod(key: string): Promise<void> {
    const [namespace, name] = key.split("/");
    const pod = this.pods.get(namespace, name);
    if (!pod) return;
    const nodeName = pod.spec?.nodeName;
    const health = this.health.get(nodeName);
    if (!health?.ready || !this.nodes.get(undefined, nodeName)) return;
    if (health.ready.status !== "True") {
      if (!(await this.markPodsNotReady([pod], nodeName))) throw new Error(`unable to mark pod ${key} NotReady on node ${nodeName}`);
    }
  }

  /** `MarkPodsNotReady`: Ready=False on each pod of the node, with a `NodeNotReady` event. Returns false when a write failed. */
  private async markPodsNotReady(pods: readonly KubeObject[], nodeName: string): Promise<boolean> {
    let ok = true;
    for (const original of pods) {
      if (original.spec?.nodeName !== nodeName) continue;
      const conditions = (original.status?.conditions ?? []) as { type: string; status: string; lastTransitionTime?: string }[];
      const ready = conditions.find((c) => c.type === "Ready");
      if (!ready || ready.status === "False") continue;
      const pod = clone(original) as KubeObject;
      pod.status.conditions = conditions.map((c) => (c.type === "Ready" ? { ...c, status: "False", lastTransitionTime: rfc3339(this.ctx.clock.now()) } : c));
      try {
        await this.ctx.client.update(pod, { subresource: "status" });
      } catch (err) {
        if (isReason(err, "NotFound")) continue;
        this.ctx.log(NODE_CONTROLLER_NAME, `failed to update the status of pod ${pod.metadata.namespace}/${pod.metadata.name}: ${String(err)}`);
        ok = false;
        continue;
      }
      // Recorded after the update, so the pod still exists.
      this.recorder.event(original, "Warning", "NodeNotReady", "Node is not ready");
    }
    return ok;
  }

  // ------------------------------------------------------------------------------ NoSchedule taints and labels

  private async processNode(name: string): Promise<void> {
    await this.doNoScheduleTaintingPass(name);
    await this.reconcileNodeLabels(name);
  }

  /** `doNoScheduleTaintingPass`. */
  private async doNoScheduleTaintingPass(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    if (!node) return;
    const want: Taint[] = [];
    for (const c of (node.status?.conditions ?? []) as NodeCondition[]) {
      const key = CONDITION_TAINTS[c.type]?.[c.status];
      if (key) want.push({ key, effect: "NoSchedule" });
    }
    if (node.spec?.unschedulable) want.push({ key: TAINT_UNSCHEDULABLE, effect: "NoSchedule" });
    const have = taintsOf(node).filter((t) => t.effect === "NoSchedule" && (t.key === TAINT_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)));
    const add = want.filter((t) => !taintExists(have, t));
    const remove = have.filter((t) => !taintExists(want, t));
    if (!add.length && !remove.length) return;
    await swapNodeTaints(this.ctx.client, name, add, remove, this.ctx.clock.now());
  }

  /** `reconcileNodeLabels`: the beta OS/arch labels follow the stable ones. */
  private async reconcileNodeLabels(name: string): Promise<void> {
    const node = this.nodes.get(undefined, name);
    const labels = node?.metadata.labels;
    if (!node || !labels) return;
    const update: Record<string, string> = {};
    for (const [primary, secondary] of [
      [LABEL_OS, LABEL_OS_BETA],
      [LABEL_ARCH, LABEL_ARCH_BETA],
    ]) {
      if (labels[primary] === undefined) continue;
      if (labels[secondary] !== labels[primary]) update[secondary] = labels[primary];
    }
    if (!Object.keys(update).length) return;
    await this.ctx.client.patch({ apiVersion: "v1", kind: "Node", name }, "application/merge-patch+json", { metadata: { labels: update } });
  }

  private nodeRef(node: KubeObject) {
    return { apiVersion: "v1", kind: "Node", name: node.metadata.name!, uid: node.metadata.uid, namespace: "" };
  }

  private nodeEvent(node: KubeObject, reason: string, message: string): void {
    void this.recorder.event(this.nodeRef(node), "Normal", reason, message);
  }
}

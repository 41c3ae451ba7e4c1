/**
 * The ReplicaSet controller of the simulated kube-controller-manager, after upstream
 * `pkg/controller/replicaset/replica_set.go` (and `replica_set_utils.go`), which also runs
 * ReplicationControllers (`pkg/controller/replication`): the same code with the RC's plain
 * `selector` map, `apiVersion: v1` and the event source `replication-controller`.
 *
 * Watch events become `namespace/name` keys in a work queue. A sync reads the ReplicaSet from the
 * cache, takes its pods and the orphans of its namespace, drops inactive ones (finished, or being
 * deleted), claims them (adopting matching orphans, releasing pods whose labels stopped
 * matching), then compares their number with `spec.replicas`:
 * - too few: creates pods from the template in slow-start batches of 1, 2, 4, ... (stopping at the
 *   first batch with a failure), at most `burstReplicas` (500) per sync;
 * - too many: deletes the surplus, chosen by the upstream ranking (`_pod-ranking.ts`).
 * Expectations keep it from managing replicas again before it has seen its own creates and
 * deletes. Then it writes the status: replicas, fullyLabeledReplicas, readyReplicas,
 * availableReplicas (ready for longer than minReadySeconds: the sync is requeued to notice that),
 * observedGeneration, and a ReplicaFailure condition while creates or deletes fail.
 */
import { isReason } from "../../api/errors.js";
import type { Informer, InformerHandlers } from "../../api/informer.js";
import { objectKey } from "../../api/informer.js";
import { labelSelectorAsSelector, type Selector } from "../../api/labels.js";
import { nameIsDNSSubdomain } from "../../api/names.js";
import type { EventRecorder } from "../../api/events.js";
import { parseTime, rfc3339 } from "../../api/clock.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { WorkQueue } from "../workqueue.js";
import { ControllerRefManager, errorMessage, newControllerRef, recheckDeletionTimestamp } from "./_controller-ref.js";
import { ControllerExpectations } from "./_expectations.js";
import { cachedSelector, ControllerLookup, guardedHandlers } from "./_handlers.js";
import { controllerRefOf, ownerIndexFor, type OwnerIndex } from "./_owner-index.js";
import { getPodsToDelete } from "./_pod-ranking.js";
import { isPodActive, isPodAvailable, isPodReady, podKey, podReadyCondition } from "./_pod-util.js";
import { waitForCacheSync } from "./_cache-sync.js";

/** `BurstReplicas`: at most this many pods created or deleted per sync. */
export const BURST_REPLICAS = 500;
/** `SlowStartInitialBatchSize`: the first create batch. */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;
/** `statusUpdateRetries`: a failed status write is retried once after a fresh read. */
const STATUS_UPDATE_RETRIES = 1;

/** Options of the ReplicaSet / ReplicationController controller. */
export interface ReplicaSetControllerOptions {
  /** Concurrent syncs (`--concurrent-replicaset-syncs`, `--concurrent-rc-syncs`, default 5). */
  readonly workers?: number;
  /** Most pods created or deleted in one sync (default 500). */
  readonly burstReplicas?: number;
}

/** What differs between ReplicaSets and ReplicationControllers. */
interface Flavor {
  readonly component: "replicaset-controller" | "replication-controller";
  readonly apiVersion: "apps/v1" | "v1";
  readonly kind: "ReplicaSet" | "ReplicationController";
  /** The object's selector, compiled (throws for an invalid one). */
  selector(obj: KubeObject): Selector;
}

const REPLICA_SET: Flavor = {
  component: "replicaset-controller",
  apiVersion: "apps/v1",
  kind: "ReplicaSet",
  selector: (rs) => cachedSelector(rs.spec, () => labelSelectorAsSelector(rs.spec?.selector)),
};

const REPLICATION_CONTROLLER: Flavor = {
  component: "replication-controller",
  apiVersion: "v1",
  kind: "ReplicationController",
  // The RC's selector is a plain map: the replication manager converts it to matchLabels.
  selector: (rc) => cachedSelector(rc.spec, () => labelSelectorAsSelector({ matchLabels: { ...(rc.spec?.selector ?? {}) } })),
};

/** The ReplicaSet controller (`replicaset-controller`). */
export function replicaSetController(ctx: ClusterContext, options: ReplicaSetControllerOptions = {}): Component {
  return new ReplicaManager(ctx, REPLICA_SET, options);
}

/** The ReplicationController manager (`replication-controller`): the same logic with an equality-based selector. */
export function replicationController(ctx: ClusterContext, options: ReplicaSetControllerOptions = {}): Component {
  return new ReplicaManager(ctx, REPLICATION_CONTROLLER, options);
}

/**
 * Runs `fn` `count` times in batches of `initial`, then twice as many each time a whole batch
 * succeeded (`slowStartBatch`); stops after the first batch with a failure. Calls within a batch
 * run concurrently. Returns the number of successful calls and the first error.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ successes: number; error?: unknown }> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    successes += batch - failures.length;
    if (failures.length > 0) return { successes, error: failures[0].reason };
    remaining -= batch;
  }
  return { successes };
}

/** True when a create failed because the namespace is being deleted (`NamespaceTerminatingCause`). */
export function isNamespaceTerminating(err: unknown): boolean {
  if (isReason(err, "Forbidden")) {
    const causes = err.status.details?.causes ?? [];
    if (causes.some((c) => c.reason === "NamespaceTerminating")) return true;
    return /because it is being terminated/.test(err.message);
  }
  return false;
}

class ReplicaManager implements Component {
  readonly name: string;
  private readonly rsInformer: Informer;
  private readonly podInformer: Informer;
  private readonly pods: OwnerIndex<KubeObject>;
  private readonly owned: OwnerIndex<KubeObject>;
  private readonly controllers: ControllerLookup;
  private readonly queue: WorkQueue;
  private readonly expectations: ControllerExpectations;
  private readonly recorder: EventRecorder;
  private readonly burstReplicas: number;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    private readonly flavor: Flavor,
    options: ReplicaSetControllerOptions,
  ) {
    this.name = flavor.component;
    this.rsInformer = ctx.informers.for(flavor.apiVersion, flavor.kind);
    this.controllers = new ControllerLookup(this.rsInformer, flavor.kind, flavor.selector);
    this.podInformer = ctx.informers.for("v1", "Pod");
    this.burstReplicas = options.burstReplicas ?? BURST_REPLICAS;
    this.expectations = new ControllerExpectations(ctx.clock);
    this.recorder = ctx.recorder({ component: flavor.component });
    this.queue = new WorkQueue(ctx.clock, (key) => this.sync(key), {
      workers: options.workers ?? 5,
      onError: (key, err) => this.log(`error syncing ${flavor.kind} ${key}, will retry: ${errorMessage(err)}`),
    });
    // The indexes register their handlers before ours (see _owner-index.ts).
    this.pods = ownerIndexFor(this.podInformer);
    this.owned = ownerIndexFor(this.rsInformer);
  }

  start(): void {
    this.stopped = false;
    this.rsInformer.addHandlers(
      this.guarded({
        add: (rs) => this.enqueue(rs),
        update: (old, cur) => this.updateRS(old, cur),
        delete: (rs) => this.deleteRS(rs),
      }),
    );
    this.podInformer.addHandlers(
      this.guarded({
        add: (pod) => this.addPod(pod),
        update: (old, cur) => this.updatePod(old, cur),
        delete: (pod) => this.deletePod(pod),
      }),
    );
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
  }

  // ------------------------------------------------------------------------ event handlers

  /** Handlers run inside the API server's commit path: they must never throw. */
  private guarded<T extends KubeObject>(handlers: InformerHandlers<T>): InformerHandlers<T> {
    return guardedHandlers(handlers, () => this.stopped, (message) => this.log(message));
  }

  private enqueue(rs: KubeObject): void {
    this.queue.add(objectKey(rs));
  }

  private updateRS(old: KubeObject, cur: KubeObject): void {
    // A delete and re-create under the same name seen as one update: forget the old one first.
    if (old.metadata.uid !== cur.metadata.uid) this.deleteRS(old);
    this.enqueue(cur);
  }

  private deleteRS(rs: KubeObject): void {
    const key = objectKey(rs);
    this.expectations.delete(key);
    this.queue.add(key);
  }

  /** ReplicaSets whose selector matches an orphan pod (`getPodReplicaSets`). */
  private podReplicaSets(pod: KubeObject): KubeObject[] {
    const out = this.controllers.selecting(pod);
    if (out.length > 1) this.log(`user error! more than one ${this.flavor.kind} is selecting pods with labels: ${JSON.stringify(pod.metadata.labels)}`);
    return out;
  }

  private addPod(pod: KubeObject): void {
    if (pod.metadata.deletionTimestamp) {
      // Seen for the first time already being deleted: not a creation to observe.
      this.deletePod(pod);
      return;
    }
    const ref = controllerRefOf(pod);
    if (ref) {
      const rs = this.controllers.resolve(pod.metadata.namespace, ref);
      if (!rs) return;
      const key = objectKey(rs);
      this.expectations.creationObserved(key);
      this.queue.add(key);
      return;
    }
    // An orphan: wake every ReplicaSet that might adopt it (no expectation to observe).
    for (const rs of this.podReplicaSets(pod)) this.enqueue(rs);
  }

  private updatePod(old: KubeObject, cur: KubeObject): void {
    if (cur.metadata.resourceVersion === old.metadata.resourceVersion) return;
    const labelChanged = !sameLabels(old.metadata.labels, cur.metadata.labels);
    if (cur.metadata.deletionTimestamp) {
      // A graceful delete: replace the pod now rather than when the kubelet removes it.
      this.deletePod(cur);
      if (labelChanged) this.deletePod(old);
      return;
    }
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    if (refChanged && oldRef) {
      const rs = this.controllers.resolve(old.metadata.namespace, oldRef);
      if (rs) this.enqueue(rs);
    }
    if (curRef) {
      const rs = this.controllers.resolve(cur.metadata.namespace, curRef);
      if (!rs) return;
      this.enqueue(rs);
      // A pod just turned Ready: look again once minReadySeconds have passed, to count it available.
      const minReady = rs.spec?.minReadySeconds ?? 0;
      if (!isPodReady(old) && isPodReady(cur) && minReady > 0) {
        this.queue.addAfter(objectKey(rs), minReady * 1000 + 1000);
      }
      return;
    }
    if (labelChanged || refChanged) for (const rs of this.podReplicaSets(cur)) this.enqueue(rs);
  }

  private deletePod(pod: KubeObject): void {
    const ref = controllerRefOf(pod);
    if (!ref) return;
    const rs = this.controllers.resolve(pod.metadata.namespace, ref);
    if (!rs) return;
    const key = objectKey(rs);
    this.expectations.deletionObserved(key, podKey(pod));
    this.queue.add(key);
  }

  // ------------------------------------------------------------------------ sync

  private async sync(key: string): Promise<void> {
    await waitForCacheSync([this.rsInformer, this.podInformer], this.ctx.clock, () => this.stopped);
    if (this.stopped) return;
    const cached = this.rsInformer.getByKey(key);
    if (!cached) {
      this.expectations.delete(key);
      return;
    }
    const rs = cached;
    const needsSync = this.expectations.satisfied(key);
    let selector: Selector;
    try {
      selector = this.flavor.selector(rs);
    } catch (err) {
      // An invalid selector cannot be fixed by retrying.
      this.log(`${this.flavor.kind} ${key} has an invalid selector: ${errorMessage(err)}`);
      return;
    }
    const namespace = rs.metadata.namespace ?? "";
    const candidates = this.pods.ownedOrOrphan(rs.metadata.uid ?? "", namespace).filter(isPodActive);
    const manager = new ControllerRefManager(this.ctx.client, rs, this.flavor.apiVersion, this.flavor.kind, selector, recheckDeletionTimestamp(this.ctx.client, rs));
    const active = (await manager.claim(candidates)).sort(byName);

    let manageError: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) manageError = await this.manageReplicas(active, rs);

    const now = this.ctx.clock.now();
    const status = calculateStatus(rs, active, manageError, now);
    await this.updateStatus(rs, status);
    // Upstream requeues after minReadySeconds when every pod is ready but not all are available.
    // Here the sync comes back at the first instant a ready pod becomes available: ready times
    // have whole seconds and the comparison is strict, so on a virtual clock that ticks exactly
    // on the second a coarse requeue would land one instant too early and wait another period.
    const minReady = rs.spec?.minReadySeconds ?? 0;
    if (manageError === undefined && minReady > 0) {
      const wait = nextAvailability(active, minReady, now);
      if (wait !== undefined) this.queue.addAfter(key, wait);
    }
    if (manageError !== undefined) throw manageError;
  }

  /** Creates or deletes pods so that `active` matches spec.replicas (`manageReplicas`); returns the error, if any. */
  private async manageReplicas(active: KubeObject[], rs: KubeObject): Promise<unknown> {
    const key = objectKey(rs);
    const replicas = rs.spec?.replicas ?? 1;
    let diff = active.length - replicas;
    if (diff < 0) {
      diff = Math.min(-diff, this.burstReplicas);
      this.expectations.expectCreations(key, diff);
      this.log(
        `${this.flavor.kind} ${key} has ${active.length} of ${replicas} pods: creating ${diff} (in slow-start batches of 1, 2, 4, ... so a failing create does not repeat hundreds of times)`,
      );
      const { successes, error } = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH_SIZE, () => this.createPod(rs));
      // Pods never attempted will not be observed: stop expecting them; the next sync retries.
      const skipped = diff - successes;
      for (let i = 0; i < skipped; i++) this.expectations.creationObserved(key);
      if (skipped > 0 && error !== undefined) this.log(`${this.flavor.kind} ${key}: slow-start stopped after a failed create, ${skipped} pod(s) left for the next sync`);
      return error;
    }
    if (diff > 0) {
      diff = Math.min(diff, this.burstReplicas);
      const now = this.ctx.clock.now();
      const toDelete = getPodsToDelete(active, this.indirectlyRelatedPods(rs), diff, now);
      this.log(
        `${this.flavor.kind} ${key} has ${active.length} pods but wants ${replicas}: deleting ${toDelete.map((p) => p.metadata.name).join(", ")} (unscheduled, pending and unready pods go first)`,
      );
      this.expectations.expectDeletions(key, toDelete.map(podKey));
      const errors: unknown[] = [];
      await Promise.all(
        toDelete.map(async (pod) => {
          try {
            await this.deletePodOf(rs, pod);
          } catch (err) {
            // The informer will not see this deletion: stop expecting it.
            this.expectations.deletionObserved(key, podKey(pod));
            if (!isReason(err, "NotFound")) errors.push(err);
          }
        }),
      );
      return errors[0];
    }
    return undefined;
  }

  /**
   * Pods of every ReplicaSet controlled by the same owner (`getIndirectlyRelatedPods`): the
   * Deployment's other ReplicaSets, so that scale-down prefers nodes crowded with its pods.
   */
  private indirectlyRelatedPods(rs: KubeObject): KubeObject[] {
    const ref = controllerRefOf(rs);
    if (!ref) return [];
    const namespace = rs.metadata.namespace ?? "";
    const seen = new Set<string>();
    const out: KubeObject[] = [];
    for (const related of this.owned.ownedBy(ref.uid)) {
      if (related.metadata.namespace !== namespace) continue;
      let selector: Selector;
      try {
        selector = this.flavor.selector(related);
      } catch {
        continue;
      }
      const candidates = this.pods.ownedOrOrphan(related.metadata.uid ?? "", namespace);
      for (const pod of candidates) {
        const uid = pod.metadata.uid ?? "";
        if (seen.has(uid) || !selector.matches(pod.metadata.labels)) continue;
        seen.add(uid);
        out.push(pod);
      }
    }
    return out;
  }

  /** `CreatePods`: a pod from the template, named `<rs>-<random>`, controlled by the ReplicaSet. */
  private async createPod(rs: KubeObject): Promise<void> {
    const template = rs.spec?.template ?? {};
    const name = rs.metadata.name ?? "";
    const labels = { ...(template.metadata?.labels ?? {}) };
    if (Object.keys(labels).length === 0) throw new Error("unable to create pods, no labels");
    // getPodsPrefix: a trailing dash makes names prettier, unless the name is already too long for it.
    const prefix = nameIsDNSSubdomain(`${name}-`, true).length === 0 ? `${name}-` : name;
    const metadata: KubeObject["metadata"] = {
      generateName: prefix,
      namespace: rs.metadata.namespace,
      labels,
      ownerReferences: [newControllerRef(rs, this.flavor.apiVersion, this.flavor.kind)],
    };
    if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
    if (template.metadata?.finalizers) metadata.finalizers = [...template.metadata.finalizers];
    const pod: KubeObject = { apiVersion: "v1", kind: "Pod", metadata, spec: clone(template.spec ?? {}) };
    let created: KubeObject;
    try {
      created = await this.ctx.client.create(pod);
    } catch (err) {
      if (isNamespaceTerminating(err)) return; // every create would fail the same way; nothing to report
      void this.recorder.event(rs, "Warning", "FailedCreate", `Error creating: ${errorMessage(err)}`);
      throw err;
    }
    void this.recorder.event(rs, "Normal", "SuccessfulCreate", `Created pod: ${created.metadata.name}`);
  }

  /** `DeletePod`, with its events. */
  private async deletePodOf(rs: KubeObject, pod: KubeObject): Promise<void> {
    const name = pod.metadata.name ?? "";
    try {
      await this.ctx.client.delete({ apiVersion: "v1", kind: "Pod", namespace: rs.metadata.namespace, name });
    } catch (err) {
      if (isReason(err, "NotFound")) throw err;
      void this.recorder.event(rs, "Warning", "FailedDelete", `Error deleting: ${errorMessage(err)}`);
      throw new Error(`unable to delete pods: ${errorMessage(err)}`);
    }
    void this.recorder.event(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${name}`);
  }

  /** `updateReplicaSetStatus`: writes the status unless nothing changed; retries once on a stale read. */
  private async updateStatus(rs: KubeObject, status: ReplicaStatus): Promise<KubeObject> {
    const current = rs.status ?? {};
    if (
      (current.replicas ?? 0) === status.replicas &&
      (current.fullyLabeledReplicas ?? 0) === status.fullyLabeledReplicas &&
      (current.readyReplicas ?? 0) === status.readyReplicas &&
      (current.availableReplicas ?? 0) === status.availableReplicas &&
      (rs.metadata.generation ?? 0) === (current.observedGeneration ?? 0) &&
      JSON.stringify(current.conditions ?? []) === JSON.stringify(status.conditions ?? [])
    ) {
      return rs;
    }
    let target = rs;
    for (let attempt = 0; ; attempt++) {
      // Only the status is sent through the status subresource: a shallow copy is enough.
      const next: KubeObject = { ...target, status: compactStatus({ ...status, observedGeneration: target.metadata.generation ?? 0 }) };
      try {
        return await this.ctx.client.update(next, { subresource: "status" });
      } catch (err) {
        if (attempt >= STATUS_UPDATE_RETRIES) throw err;
        target = await this.ctx.client.get({ apiVersion: rs.apiVersion, kind: rs.kind, namespace: rs.metadata.namespace, name: rs.metadata.name ?? "" });
      }
    }
  }

  private log(message: string): void {
    this.ctx.log(this.flavor.component, message);
  }
}

/** The status fields the controller computes (`apps.ReplicaSetStatus`). */
interface ReplicaStatus {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
}

/** A ReplicaSet condition (`apps.ReplicaSetCondition`), in upstream's JSON field order. */
interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/**
 * `calculateStatus`: counts from the claimed active pods, and the ReplicaFailure condition
 * (FailedCreate when short of pods, FailedDelete when over) while manageReplicas fails.
 */
function calculateStatus(rs: KubeObject, pods: readonly KubeObject[], manageError: unknown, now: number): ReplicaStatus {
  const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  const minReady = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    if (Object.entries(templateLabels).every(([k, v]) => labels[k] === v)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
    }
  }
  let conditions: ReplicaSetCondition[] = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === "ReplicaFailure");
  if (manageError !== undefined && !failure) {
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    const reason = diff < 0 ? "FailedCreate" : diff > 0 ? "FailedDelete" : "";
    conditions.push({ type: "ReplicaFailure", status: "True", lastTransitionTime: rfc3339(now), reason, message: errorMessage(manageError) });
  } else if (manageError === undefined && failure) {
    conditions = conditions.filter((c) => c.type !== "ReplicaFailure");
  }
  return {
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    conditions: conditions.length > 0 ? conditions : undefined,
  };
}

/**
 * Milliseconds until the first ready-but-not-yet-available pod becomes available
 * (`lastTransitionTime + minReadySeconds` strictly before now), or undefined when there is none.
 */
function nextAvailability(pods: readonly KubeObject[], minReadySeconds: number, now: number): number | undefined {
  let next: number | undefined;
  for (const pod of pods) {
    if (!isPodReady(pod) || isPodAvailable(pod, minReadySeconds, now)) continue;
    const since = parseTime(podReadyCondition(pod)?.lastTransitionTime);
    if (!Number.isFinite(since)) continue;
    const wait = Math.max(1, since + minReadySeconds * 1000 + 1 - now);
    if (next === undefined || wait < next) next = wait;
  }
  return next;
}

/** The status as upstream serializes it: `replicas` always, the other counts and conditions only when set. */
function compactStatus(s: ReplicaStatus): Record<string, unknown> {
  const out: Record<string, unknown> = { replicas: s.replicas };
  if (s.fullyLabeledReplicas) out.fullyLabeledReplicas = s.fullyLabeledReplicas;
  if (s.readyReplicas) out.readyReplicas = s.readyReplicas;
  if (s.availableReplicas) out.availableReplicas = s.availableReplicas;
  if (s.observedGeneration) out.observedGeneration = s.observedGeneration;
  if (s.conditions && s.conditions.length > 0) out.conditions = s.conditions;
  return out;
}

function sameLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ea = Object.entries(a ?? {});
  if (ea.length !== Object.keys(b ?? {}).length) return false;
  return ea.every(([k, v]) => (b ?? {})[k] === v);
}

function byName(a: KubeObject, b: KubeObject): number {
  const na = a.metadata.name ?? "";
  const nb = b.metadata.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}


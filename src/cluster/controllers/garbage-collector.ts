/**
 * The garbage collector of the kube-controller-manager (upstream
 * `pkg/controller/garbagecollector/garbagecollector.go`): it watches every kind that can own or be
 * owned, keeps the dependency graph of `metadata.ownerReferences` (see `_gc-graph.ts`), and
 * - deletes an object once every owner it names is verified absent through the API server (by
 *   uid: an owner with the same name and another uid is absent), in the background;
 * - drops dangling references from an object that still has a live owner;
 * - finishes foreground deletion: deletes the dependents of an owner carrying the
 *   `foregroundDeletion` finalizer (in foreground themselves when they have dependents) and
 *   removes the finalizer once no dependent with `blockOwnerDeletion: true` remains;
 * - finishes orphan deletion: removes the owner from every dependent's ownerReferences, then the
 *   `orphan` finalizer.
 * Events (core and events.k8s.io) are not watched, as upstream ignores them
 * (`DefaultIgnoredResources`). Like upstream, it records only one kind of Event,
 * `OwnerRefInvalidNamespace`; its other decisions go to the log.
 */
import type { ObjectRef } from "../../api/client.js";
import { isReason } from "../../api/errors.js";
import type { EventRecorder } from "../../api/events.js";
import { tryKindFor, type KindInfo } from "../../api/kinds.js";
import type { KubeObject, OwnerReference } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { WorkQueue } from "../workqueue.js";
import { preferredKinds } from "./_kinds.js";
import {
  FOREGROUND_FINALIZER,
  ORPHAN_FINALIZER,
  GraphBuilder,
  formatIdentity,
  type GraphEvent,
  type GraphNode,
  type Identity,
} from "./_gc-graph.js";

/** Component name, as in Event sources (`garbage-collector-controller`). */
export const GARBAGE_COLLECTOR_NAME = "garbage-collector-controller";

/** Options of the garbage collector. */
export interface GarbageCollectorOptions {
  /** Concurrent workers per queue (`--concurrent-gc-syncs`, default 20). */
  readonly workers?: number;
}

/**
 * The kinds the collector watches: every served resource except Events, one version per
 * resource (the first served, i.e. the preferred one: autoscaling/v2 for HPAs), as upstream
 * watches the preferred version of every deletable resource (`GetDeletableResources`).
 */
export function gcMonitoredKinds(): KindInfo[] {
  return preferredKinds((info) => info.kind !== "Event");
}

/** Builds the garbage collector. */
export function garbageCollector(ctx: ClusterContext, options: GarbageCollectorOptions = {}): Component {
  return new GarbageCollector(ctx, options);
}

/** The item was found absent and a virtual delete event was applied to the graph: nothing to retry. */
const VIRTUAL_DELETE_ENQUEUED = Symbol("enqueued virtual delete event");
/** A cluster-scoped object names a namespaced owner: an error retrying cannot fix (upstream forgets the item). */
const NAMESPACED_OWNER_OF_CLUSTER_SCOPED = Symbol("cluster-scoped objects cannot refer to namespaced owners");

/** A reference to a kind the API server does not serve (upstream `restMappingError`): retried with back-off. */
class RestMappingError extends Error {
  constructor(kind: string, apiVersion: string) {
    super(`unable to get REST mapping for kind: ${kind}, version: ${apiVersion}`);
    this.name = "RestMappingError";
  }
}

/** The node is still virtual (not yet seen by an informer): look again after the back-off, silently. */
class NotObservedYet extends Error {
  constructor(id: Identity) {
    super(`item ${formatIdentity(id)} hasn't been observed via informer yet`);
    this.name = "NotObservedYet";
  }
}

/** Upstream `retry.DefaultBackoff` makes 4 attempts before giving a conflict back to the queue. */
const FINALIZER_UPDATE_ATTEMPTS = 4;

class GarbageCollector implements Component {
  readonly name = GARBAGE_COLLECTOR_NAME;
  private readonly graph: GraphBuilder;
  private readonly attemptToDelete: WorkQueue;
  private readonly attemptToOrphan: WorkQueue;
  private readonly recorder: EventRecorder;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    options: GarbageCollectorOptions,
  ) {
    const workers = options.workers ?? 20;
    this.recorder = ctx.recorder({ component: GARBAGE_COLLECTOR_NAME });
    const onError = (queue: string) => (key: string, err: unknown) => {
      if (err instanceof NotObservedYet) return;
      this.log(`${queue}: error syncing item ${this.describe(key)}: ${errorMessage(err)}`);
    };
    this.attemptToDelete = new WorkQueue(ctx.clock, (uid) => this.attemptToDeleteWorker(uid), { workers, onError: onError("attemptToDelete") });
    this.attemptToOrphan = new WorkQueue(ctx.clock, (uid) => this.attemptToOrphanWorker(uid), { workers, onError: onError("attemptToOrphan") });
    this.graph = new GraphBuilder({
      attemptToDelete: (node) => this.attemptToDelete.add(node.identity.uid),
      attemptToDeleteRateLimited: (node) => this.attemptToDelete.addRateLimited(node.identity.uid),
      attemptToOrphan: (node) => this.attemptToOrphan.add(node.identity.uid),
      reportInvalidNamespaceOwnerRef: (dependent, ownerUid) => this.reportInvalidNamespaceOwnerRef(dependent, ownerUid),
      log: (message) => this.log(message),
    });
  }

  start(): void {
    this.stopped = false;
    for (const info of gcMonitoredKinds()) {
      const informer = this.ctx.informers.for(info.apiVersion, info.kind);
      informer.addHandlers({
        add: (obj) => this.observe({ type: "add", apiVersion: info.apiVersion, kind: info.kind, obj }),
        update: (oldObj, obj) => this.observe({ type: "update", apiVersion: info.apiVersion, kind: info.kind, obj, oldObj }),
        delete: (obj) => this.observe({ type: "delete", apiVersion: info.apiVersion, kind: info.kind, obj }),
      });
    }
  }

  stop(): void {
    this.stopped = true;
    this.attemptToDelete.shutdown();
    this.attemptToOrphan.shutdown();
  }

  /** Informer handler: graph changes are applied in event order, never thrown back into the watch. */
  private observe(event: GraphEvent): void {
    if (this.stopped) return;
    try {
      this.graph.process(event);
    } catch (err) {
      this.log(`could not process ${event.type} of ${event.kind} ${event.obj.metadata.namespace ?? ""}/${event.obj.metadata.name}: ${errorMessage(err)}`);
    }
  }

  // ---------------------------------------------------------------- attemptToDelete

  private async attemptToDeleteWorker(uid: string): Promise<void> {
    const node = this.graph.node(uid);
    // Verified absent (or deleted) meanwhile: nothing left to do.
    if (!node) return;
    try {
      await this.attemptToDeleteItem(node);
    } catch (err) {
      if (err === VIRTUAL_DELETE_ENQUEUED || err === NAMESPACED_OWNER_OF_CLUSTER_SCOPED) return;
      throw err;
    }
    // A virtual node that exists according to the API server: wait until an informer shows it
    // (kubernetes#56121: otherwise a node added and removed during a relist could stay forever).
    if (node.virtual && this.graph.node(uid) === node) throw new NotObservedYet(node.identity);
  }

  /**
   * Looks the object up and deletes it when every owner is absent, drops dangling references
   * when some owner remains, and drives foreground deletion (upstream `attemptToDeleteItem`).
   */
  private async attemptToDeleteItem(item: GraphNode): Promise<void> {
    // Being deleted is a one-way trip: wait for the final deletion, then process its dependents.
    if (item.beingDeleted && !item.deletingDependents) return;

    const latest = await this.getObject(item.identity).catch((err) => {
      if (isReason(err, "NotFound")) return undefined;
      throw err;
    });
    if (!latest || latest.metadata.uid !== item.identity.uid) {
      // Not found, or a new object with the same name: the node's object is gone.
      this.graph.virtualDelete(item.identity);
      throw VIRTUAL_DELETE_ENQUEUED;
    }

    if (item.deletingDependents) {
      await this.processDeletingDependentsItem(item);
      return;
    }

    const ownerReferences = latest.metadata.ownerReferences ?? [];
    if (ownerReferences.length === 0) return;

    const { solid, dangling, waiting } = await this.classifyReferences(item, ownerReferences);

    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Owners waiting for their dependents must be released too, or they would wait forever.
      const uids = [...dangling, ...waiting].map((r) => r.uid);
      this.log(
        `Removing the owner reference(s) to ${describeRefs([...dangling, ...waiting])} from ${describe(item.identity)}: ` +
          `${ownerGoneReason(dangling, waiting)}; it keeps its owner(s) ${describeRefs(solid)}`,
      );
      await this.deleteOwnerRefs(item, uids);
      return;
    }

    if (waiting.length > 0 && item.dependents.size > 0) {
      for (const dep of item.dependents) {
        if (dep.deletingDependents) {
          // A possible cycle of foreground deletions: stop blocking the owners so neither waits for
          // the other (upstream's detection has the same false positives).
          this.log(`${describe(item.identity)} and its dependent ${describe(dep.identity)} are both deleting dependents: unblocking its owner references`);
          await this.unblockOwnerReferences(item);
          break;
        }
      }
      this.log(`Deleting ${describe(item.identity)} in the foreground: its owner ${describeRefs(waiting)} waits for its dependents, and it has dependents of its own`);
      await this.deleteObjectOrVirtual(item.identity, latest.metadata.resourceVersion, ownerReferences, "Foreground");
      return;
    }

    // No owner left: collect it, honouring a propagation finalizer already on the object.
    const finalizers = latest.metadata.finalizers ?? [];
    const policy = finalizers.includes(ORPHAN_FINALIZER) ? "Orphan" : finalizers.includes(FOREGROUND_FINALIZER) ? "Foreground" : "Background";
    this.log(`Deleting ${describe(item.identity)} (propagation ${policy}): ${ownerGoneReason(dangling, waiting)}`);
    await this.deleteObjectOrVirtual(item.identity, latest.metadata.resourceVersion, ownerReferences, policy);
  }

  /** An owner in foreground deletion: finish it when nothing blocks it, else push its blocking dependents. */
  private async processDeletingDependentsItem(item: GraphNode): Promise<void> {
    const blocking = item.blockingDependents();
    if (blocking.length === 0) {
      this.log(`Removing the ${FOREGROUND_FINALIZER} finalizer from ${describe(item.identity)}: no dependent blocks its deletion any more`);
      await this.removeFinalizer(item, FOREGROUND_FINALIZER);
      return;
    }
    for (const dep of blocking) {
      if (!dep.deletingDependents) this.attemptToDelete.add(dep.identity.uid);
    }
  }

  /**
   * Sorts references into solid (owner exists and is not waiting), dangling (owner absent) and
   * waiting (owner in foreground deletion), asking the API server (`classifyReferences`).
   */
  private async classifyReferences(
    item: GraphNode,
    refs: readonly OwnerReference[],
  ): Promise<{ solid: OwnerReference[]; dangling: OwnerReference[]; waiting: OwnerReference[] }> {
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const owner = await this.isDangling(ref, item);
      if (owner === undefined) dangling.push(ref);
      else if (owner.metadata.deletionTimestamp && (owner.metadata.finalizers ?? []).includes(FOREGROUND_FINALIZER)) waiting.push(ref);
      else solid.push(ref);
    }
    return { solid, dangling, waiting };
  }

  /**
   * The live owner a reference points to, or undefined when it is absent: not found in the
   * dependent's namespace (or cluster-wide for cluster-scoped kinds), or found with another uid.
   */
  private async isDangling(ref: OwnerReference, item: GraphNode): Promise<KubeObject | undefined> {
    const coordinates = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid };
    if (this.graph.absentOwners.has({ ...coordinates, namespace: "" })) return undefined;
    if (this.graph.absentOwners.has({ ...coordinates, namespace: item.identity.namespace })) return undefined;
    const info = this.resource(ref.apiVersion, ref.kind);
    const cacheId: Identity = { ...coordinates, namespace: info.namespaced ? item.identity.namespace : "" };
    if (item.identity.namespace === "" && info.namespaced) {
      this.log(`${describe(item.identity)} is cluster-scoped, but refers to a namespaced owner ${ref.kind} ${ref.name}: it cannot be collected`);
      throw NAMESPACED_OWNER_OF_CLUSTER_SCOPED;
    }
    let owner: KubeObject;
    try {
      owner = await this.ctx.client.get({ apiVersion: ref.apiVersion, kind: ref.kind, namespace: info.namespaced ? item.identity.namespace : undefined, name: ref.name });
    } catch (err) {
      if (!isReason(err, "NotFound")) throw err;
      this.graph.absentOwners.add(cacheId);
      return undefined;
    }
    if (owner.metadata.uid !== ref.uid) {
      // Same name, another object: the owner this reference meant is gone.
      this.graph.absentOwners.add(cacheId);
      return undefined;
    }
    return owner;
  }

  // ---------------------------------------------------------------- attemptToOrphan

  /** Removes the owner from every dependent's ownerReferences, then the `orphan` finalizer (`attemptToOrphanWorker`). */
  private async attemptToOrphanWorker(uid: string): Promise<void> {
    const owner = this.graph.node(uid);
    if (!owner) return;
    const dependents = [...owner.dependents];
    const failures: string[] = [];
    await Promise.all(
      dependents.map(async (dep) => {
        try {
          await this.deleteOwnerRefs(dep, [owner.identity.uid]);
        } catch (err) {
          // A dependent deleted meanwhile needs no orphaning.
          if (!isReason(err, "NotFound")) failures.push(`orphaning ${formatIdentity(dep.identity)} failed, ${errorMessage(err)}`);
        }
      }),
    );
    if (failures.length > 0) {
      throw new Error(`failed to orphan dependents of owner ${formatIdentity(owner.identity)}, got errors: ${aggregate(failures)}`);
    }
    if (dependents.length > 0) this.log(`Orphaned ${dependents.length} dependent(s) of ${describe(owner.identity)}: they no longer name it as an owner`);
    await this.removeFinalizer(owner, ORPHAN_FINALIZER);
  }

  // ---------------------------------------------------------------- API operations

  private resource(apiVersion: string, kind: string): KindInfo {
    const info = tryKindFor(apiVersion, kind);
    if (!info) throw new RestMappingError(kind, apiVersion);
    return info;
  }

  private refOf(id: Identity): ObjectRef {
    const info = this.resource(id.apiVersion, id.kind);
    return { apiVersion: id.apiVersion, kind: id.kind, namespace: info.namespaced ? id.namespace : undefined, name: id.name };
  }

  /**
   * Reads the object behind a node. A namespaced kind without a namespace coordinate can only be
   * a namespaced owner named by a cluster-scoped object: unresolvable, never retried (`getObject`).
   */
  private async getObject(id: Identity): Promise<KubeObject> {
    const info = this.resource(id.apiVersion, id.kind);
    if (info.namespaced && id.namespace === "") throw NAMESPACED_OWNER_OF_CLUSTER_SCOPED;
    return this.ctx.client.get(this.refOf(id));
  }

  /** Deletes with the item's uid (and resourceVersion) as preconditions; a 404 turns into a virtual delete. */
  private async deleteObjectOrVirtual(id: Identity, resourceVersion: string | undefined, owners: readonly OwnerReference[], policy: "Background" | "Foreground" | "Orphan"): Promise<void> {
    try {
      await this.deleteObject(id, resourceVersion, owners, policy);
    } catch (err) {
      if (isReason(err, "NotFound")) {
        this.graph.virtualDelete(id);
        throw VIRTUAL_DELETE_ENQUEUED;
      }
      throw err;
    }
  }

  /**
   * Upstream `deleteObject`: preconditions on uid and resourceVersion, so an object whose owners
   * changed since it was classified is not deleted; on a conflict where only other fields changed,
   * the delete is retried without the resourceVersion precondition.
   */
  private async deleteObject(id: Identity, resourceVersion: string | undefined, owners: readonly OwnerReference[] | undefined, policy: "Background" | "Foreground" | "Orphan"): Promise<void> {
    const ref = this.refOf(id);
    try {
      await this.ctx.client.delete(ref, { propagationPolicy: policy, preconditions: { uid: id.uid, ...(resourceVersion ? { resourceVersion } : {}) } });
    } catch (err) {
      if (!isReason(err, "Conflict") || !resourceVersion) throw err;
      const live = await this.ctx.client.get(ref);
      if (
        live.metadata.uid === id.uid &&
        live.metadata.resourceVersion !== resourceVersion &&
        JSON.stringify(live.metadata.ownerReferences ?? []) === JSON.stringify(owners ?? [])
      ) {
        await this.deleteObject(id, undefined, undefined, policy);
        return;
      }
      throw err;
    }
  }

  /**
   * Removes owner references by uid with the strategic merge patch upstream sends
   * (`GenerateDeleteOwnerRefStrategicMergeBytes`): `$patch: delete` entries keyed by uid, and the
   * dependent's uid, which the kube-apiserver refuses to change.
   */
  private async deleteOwnerRefs(node: GraphNode, ownerUids: readonly string[]): Promise<void> {
    await this.ctx.client.patch(this.refOf(node.identity), "application/strategic-merge-patch+json", {
      metadata: { uid: node.identity.uid, ownerReferences: ownerUids.map((uid) => ({ $patch: "delete", uid })) },
    });
  }

  /** Sets `blockOwnerDeletion: false` on the node's blocking references (`unblockOwnerReferencesStrategicMergePatch`). */
  private async unblockOwnerReferences(node: GraphNode): Promise<void> {
    const refs = node.owners.filter((o) => o.blockOwnerDeletion === true).map((o) => ({ ...o, blockOwnerDeletion: false }));
    if (refs.length === 0) return;
    await this.ctx.client.patch(this.refOf(node.identity), "application/strategic-merge-patch+json", {
      metadata: { uid: node.identity.uid, ownerReferences: refs },
    });
  }

  /**
   * Removes one finalizer with a merge patch pinned to the resourceVersion read, retrying on
   * conflict (upstream `removeFinalizer` with `retry.RetryOnConflict`). Removing the last
   * finalizer of an object being deleted lets the API server delete it.
   */
  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let obj: KubeObject;
      try {
        obj = await this.getObject(node.identity);
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        throw new Error(`cannot finalize owner ${formatIdentity(node.identity)}, because cannot get it: ${errorMessage(err)}. The garbage collector will retry later.`);
      }
      // Another object with the same name: the one we were finalizing is gone.
      if (obj.metadata.uid !== node.identity.uid) return;
      const finalizers = obj.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      const rest = finalizers.filter((f) => f !== finalizer);
      try {
        await this.ctx.client.patch(this.refOf(node.identity), "application/merge-patch+json", {
          metadata: { resourceVersion: obj.metadata.resourceVersion, finalizers: rest.length > 0 ? rest : null },
        });
        return;
      } catch (err) {
        if (isReason(err, "NotFound")) return;
        if (!isReason(err, "Conflict")) throw err;
        if (attempt >= FINALIZER_UPDATE_ATTEMPTS) {
          throw new Error(`updateMaxRetries(${FINALIZER_UPDATE_ATTEMPTS}) has reached. The garbage collector will retry later for owner ${formatIdentity(node.identity)}.`);
        }
      }
    }
  }

  // ---------------------------------------------------------------- events and logs

  /** Warning Event on the dependent: `ownerRef [...] does not exist in namespace "ns"` (`reportInvalidNamespaceOwnerRef`). */
  private reportInvalidNamespaceOwnerRef(dependent: GraphNode, ownerUid: string): void {
    const ref = dependent.owners.find((o) => o.uid === ownerUid);
    if (!ref) return;
    const id = dependent.identity;
    const invalid: Identity = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: id.namespace };
    void this.recorder.event(
      { apiVersion: id.apiVersion, kind: id.kind, namespace: id.namespace || undefined, name: id.name, uid: id.uid },
      "Warning",
      "OwnerRefInvalidNamespace",
      `ownerRef ${formatIdentity(invalid)} does not exist in namespace ${JSON.stringify(id.namespace)}`,
    );
  }

  private describe(uid: string): string {
    const node = this.graph.node(uid);
    return node ? formatIdentity(node.identity) : uid;
  }

  private log(message: string): void {
    this.ctx.log(GARBAGE_COLLECTOR_NAME, message);
  }
}

/** `Pod default/web-1` or `Node n1`: how a learner names an object. */
function describe(id: Identity): string {
  return `${id.kind} ${id.namespace ? `${id.namespace}/` : ""}${id.name}`;
}

function describeRefs(refs: readonly OwnerReference[]): string {
  return refs.map((r) => `${r.kind} ${r.name}`).join(", ");
}

function ownerGoneReason(dangling: readonly OwnerReference[], waiting: readonly OwnerReference[]): string {
  const parts: string[] = [];
  if (dangling.length > 0) parts.push(`its owner${dangling.length > 1 ? "s" : ""} ${describeRefs(dangling)} ${dangling.length > 1 ? "are" : "is"} gone`);
  if (waiting.length > 0) parts.push(`its owner${waiting.length > 1 ? "s" : ""} ${describeRefs(waiting)} ${waiting.length > 1 ? "are" : "is"} being deleted in the foreground`);
  return parts.join(" and ");
}

/** Go's `utilerrors.NewAggregate(...).Error()`: one message alone, several in brackets. */
function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? messages[0] : `[${messages.join(", ")}]`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

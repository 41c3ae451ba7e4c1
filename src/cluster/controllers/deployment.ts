/**
 * The Deployment controller of the simulated kube-controller-manager, after upstream
 * `pkg/controller/deployment` (`deployment_controller.go`, `sync.go`, `rolling.go`,
 * `recreate.go`, `progress.go`) and its `util/deployment_util.go` (here `_deployment-util.ts`).
 *
 * A Deployment never touches pods: it owns ReplicaSets, one per pod template, named
 * `<deployment>-<pod-template-hash>`, and moves replicas between them. Each sync:
 * 1. claims its ReplicaSets (adopting orphans its selector matches, releasing the others);
 * 2. being deleted: only the status is written;
 * 3. paused: no rollout, but replicas changes are still applied (and Progressing is Unknown,
 *    DeploymentPaused);
 * 4. replicas changed while ReplicaSets are annotated with another size: proportional scaling;
 * 5. otherwise the strategy: RollingUpdate (new ReplicaSet up to replicas + maxSurge pods in all,
 *    old ones down as long as replicas - maxUnavailable pods stay available) or Recreate (old
 *    ReplicaSets to 0, wait until their pods are gone, then the new one to replicas).
 * The new ReplicaSet carries `deployment.kubernetes.io/revision` = highest old revision + 1; when
 * the template goes back to an earlier one, that ReplicaSet becomes the new one again, takes the
 * next revision and remembers its old one in `revision-history` (a rollback, as `git revert`
 * makes one). Status carries replicas counts and the Available and Progressing conditions, with
 * progressDeadlineSeconds turning Progressing to False (ProgressDeadlineExceeded) when a rollout
 * stops making progress. Old ReplicaSets scaled to zero are kept up to revisionHistoryLimit.
 *
 * Event messages are upstream's word for word (`ScalingReplicaSet` "Scaled up replica set
 * web-5d9c7b8f4 from 0 to 3"); the reason in plain words goes to the log.
 */
import { parseTime } from "../../api/clock.js";
import { isReason } from "../../api/errors.js";
import type { EventRecorder } from "../../api/events.js";
import type { Informer, InformerHandlers } from "../../api/informer.js";
import { objectKey } from "../../api/informer.js";
import { labelSelectorAsSelector, type Selector } from "../../api/labels.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { WorkQueue } from "../workqueue.js";
import { waitForCacheSync } from "./_cache-sync.js";
import { ControllerRefManager, errorMessage, newControllerRef, recheckDeletionTimestamp } from "./_controller-ref.js";
import {
  availableReplicaCount,
  actualReplicaCount,
  byCreationTimestamp,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  cloneSelectorAndAddLabel,
  DEPRECATED_ROLLBACK_TO,
  deploymentAnnotationsFrom,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  filterActiveReplicaSets,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  getDeploymentCondition,
  getProportion,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  isSaturated,
  lastRevision,
  maxRevision,
  maxSurge,
  maxUnavailable,
  newDeploymentCondition,
  newRSNewReplicas,
  POD_TEMPLATE_HASH_LABEL,
  readyReplicaCount,
  Reason,
  removeDeploymentCondition,
  replicaCount,
  replicaSetToDeploymentCondition,
  replicasAnnotationsNeedUpdate,
  REVISION_ANNOTATION,
  revisionOf,
  rollbackTo,
  setDeploymentCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
  templateFromReplicaSet,
  type Deployment,
  type DeploymentCondition,
  type DeploymentStatus,
  type ReplicaSet,
} from "./_deployment-util.js";
import { cachedSelector, ControllerLookup, guardedHandlers } from "./_handlers.js";
import { computeHash, canonicalJson } from "./_hash.js";
import { controllerRefOf, ownerIndexFor, type OwnerIndex } from "./_owner-index.js";
import { isNamespaceTerminating } from "./replicaset.js";

/** `maxRetries`: a Deployment failing this many syncs in a row is dropped until its next change. */
export const DEPLOYMENT_MAX_RETRIES = 15;

/** Options of the Deployment controller. */
export interface DeploymentControllerOptions {
  /** Concurrent syncs (`--concurrent-deployment-syncs`, default 5). */
  readonly workers?: number;
}

/** The Deployment controller (`deployment-controller`). */
export function deploymentController(ctx: ClusterContext, options: DeploymentControllerOptions = {}): Component {
  return new DeploymentController(ctx, options);
}

type PodMap = Map<string, KubeObject[]>;

class DeploymentController implements Component {
  readonly name = "deployment-controller";
  private readonly dInformer: Informer;
  private readonly rsInformer: Informer;
  private readonly podInformer: Informer;
  private readonly replicaSets: OwnerIndex<KubeObject>;
  private readonly pods: OwnerIndex<KubeObject>;
  private readonly deployments: ControllerLookup;
  private readonly queue: WorkQueue;
  private readonly recorder: EventRecorder;
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    options: DeploymentControllerOptions,
  ) {
    this.dInformer = ctx.informers.for("apps/v1", "Deployment");
    this.deployments = new ControllerLookup(this.dInformer, "Deployment", selectorOf);
    this.rsInformer = ctx.informers.for("apps/v1", "ReplicaSet");
    this.podInformer = ctx.informers.for("v1", "Pod");
    this.recorder = ctx.recorder({ component: this.name });
    this.queue = new WorkQueue(ctx.clock, (key) => this.syncKey(key), {
      workers: options.workers ?? 5,
      onError: (key, err) => this.log(`error syncing deployment ${key}, will retry: ${errorMessage(err)}`),
    });
    this.replicaSets = ownerIndexFor(this.rsInformer);
    this.pods = ownerIndexFor(this.podInformer);
  }

  start(): void {
    this.stopped = false;
    this.dInformer.addHandlers(
      this.guarded({
        add: (d) => this.enqueue(d),
        update: (_old, cur) => this.enqueue(cur),
        delete: (d) => this.enqueue(d),
      }),
    );
    this.rsInformer.addHandlers(
      this.guarded({
        add: (rs) => this.addReplicaSet(rs),
        update: (old, cur) => this.updateReplicaSet(old, cur),
        delete: (rs) => this.deleteReplicaSet(rs),
      }),
    );
    this.podInformer.addHandlers(this.guarded({ delete: (pod) => this.deletePod(pod) }));
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

  private enqueue(d: KubeObject): void {
    this.queue.add(objectKey(d));
  }

  /** Deployments whose selector matches an orphan ReplicaSet's labels (`GetDeploymentsForReplicaSet`). */
  private deploymentsForReplicaSet(rs: KubeObject): KubeObject[] {
    const out = this.deployments.selecting(rs);
    if (out.length > 1) this.log(`user error! more than one deployment is selecting replica set ${objectKey(rs)} with labels ${JSON.stringify(rs.metadata.labels)}`);
    return out;
  }

  private addReplicaSet(rs: KubeObject): void {
    if (rs.metadata.deletionTimestamp) {
      this.deleteReplicaSet(rs);
      return;
    }
    const ref = controllerRefOf(rs);
    if (ref) {
      const d = this.deployments.resolve(rs.metadata.namespace, ref);
      if (d) this.enqueue(d);
      return;
    }
    for (const d of this.deploymentsForReplicaSet(rs)) this.enqueue(d);
  }

  private updateReplicaSet(old: KubeObject, cur: KubeObject): void {
    if (old.metadata.resourceVersion === cur.metadata.resourceVersion) return;
    const curRef = controllerRefOf(cur);
    const oldRef = controllerRefOf(old);
    const refChanged = JSON.stringify(curRef ?? null) !== JSON.stringify(oldRef ?? null);
    if (refChanged && oldRef) {
      const d = this.deployments.resolve(old.metadata.namespace, oldRef);
      if (d) this.enqueue(d);
    }
    if (curRef) {
      const d = this.deployments.resolve(cur.metadata.namespace, curRef);
      if (d) this.enqueue(d);
      return;
    }
    const labelChanged = canonicalJson(old.metadata.labels ?? {}) !== canonicalJson(cur.metadata.labels ?? {});
    if (labelChanged || refChanged) for (const d of this.deploymentsForReplicaSet(cur)) this.enqueue(d);
  }

  private deleteReplicaSet(rs: KubeObject): void {
    const ref = controllerRefOf(rs);
    if (!ref) return;
    const d = this.deployments.resolve(rs.metadata.namespace, ref);
    if (d) this.enqueue(d);
  }

  /** A Recreate Deployment waits for its old pods to be gone: wake it when the last one goes. */
  private deletePod(pod: KubeObject): void {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== "ReplicaSet") return;
    const rs = this.rsInformer.get(pod.metadata.namespace, ref.name);
    if (!rs || rs.metadata.uid !== ref.uid) return;
    const dRef = controllerRefOf(rs);
    if (!dRef) return;
    const d = this.deployments.resolve(rs.metadata.namespace, dRef);
    if (!d || d.spec?.strategy?.type !== "Recreate") return;
    const rsList = this.replicaSets.ownedBy(d.metadata.uid ?? "").filter((r) => r.metadata.namespace === d.metadata.namespace);
    let numPods = 0;
    for (const pods of this.podMapFor(d, rsList).values()) numPods += pods.length;
    if (numPods === 0) this.enqueue(d);
  }

  // ------------------------------------------------------------------------ sync

  /** `handleErr`: retry with back-off up to DEPLOYMENT_MAX_RETRIES, then drop the key. */
  private async syncKey(key: string): Promise<void> {
    try {
      await this.syncDeployment(key);
    } catch (err) {
      if (isNamespaceTerminating(err)) return;
      if (this.queue.retries(key) < DEPLOYMENT_MAX_RETRIES) throw err;
      this.log(`dropping deployment ${key} out of the queue after ${DEPLOYMENT_MAX_RETRIES} failed syncs: ${errorMessage(err)}`);
    }
  }

  private async syncDeployment(key: string): Promise<void> {
    await waitForCacheSync([this.dInformer, this.rsInformer, this.podInformer], this.ctx.clock, () => this.stopped);
    if (this.stopped) return;
    const cached = this.dInformer.getByKey(key);
    if (!cached) return;
    // A working copy: metadata and status are changed during the sync; spec is only read and
    // stays the cache's frozen object.
    const d: Deployment = {
      ...cached,
      metadata: { ...cached.metadata, ...(cached.metadata.annotations ? { annotations: { ...cached.metadata.annotations } } : {}) },
      status: { ...(cached.status ?? {}) },
    };

    // An empty selector (`{}`) would select every pod of the namespace: refuse it (upstream's SelectingAll).
    const sel = d.spec?.selector;
    if (sel && typeof sel === "object" && sel.matchLabels === undefined && sel.matchExpressions === undefined) {
      void this.recorder.event(d, "Warning", "SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.");
      if ((d.status.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        d.status.observedGeneration = d.metadata.generation;
        await this.writeStatus(d);
      }
      return;
    }

    const rsList = await this.getReplicaSetsForDeployment(d);
    const podMap = this.podMapFor(d, rsList);

    if (d.metadata.deletionTimestamp) return this.syncStatusOnly(d, rsList);

    await this.checkPausedConditions(d);
    if (d.spec.paused) return this.sync(d, rsList);

    if (rollbackTo(d) !== undefined) return this.rollback(d, rsList);

    if (await this.isScalingEvent(d, rsList)) return this.sync(d, rsList);

    switch (d.spec.strategy?.type) {
      case "Recreate":
        return this.rolloutRecreate(d, rsList, podMap);
      case "RollingUpdate":
        return this.rolloutRolling(d, rsList);
      default:
        throw new Error(`unexpected deployment strategy type: ${String(d.spec.strategy?.type)}`);
    }
  }

  /** `getReplicaSetsForDeployment`: our ReplicaSets and the orphans we adopt (released ones left out). */
  private async getReplicaSetsForDeployment(d: Deployment): Promise<ReplicaSet[]> {
    const selector = selectorOf(d);
    const namespace = d.metadata.namespace ?? "";
    const candidates = this.replicaSets.ownedOrOrphan(d.metadata.uid ?? "", namespace);
    const manager = new ControllerRefManager(this.ctx.client, d, "apps/v1", "Deployment", selector, recheckDeletionTimestamp(this.ctx.client, d));
    return (await manager.claim(candidates)).sort(byCreationTimestamp);
  }

  /**
   * `getPodMapForDeployment`: the pods of each ReplicaSet, matching the Deployment's selector,
   * inactive ones included (Recreate must see terminating pods).
   */
  private podMapFor(d: Deployment, rsList: readonly ReplicaSet[]): PodMap {
    const map: PodMap = new Map();
    let selector: Selector;
    try {
      selector = selectorOf(d);
    } catch {
      return map;
    }
    for (const rs of rsList) {
      const uid = rs.metadata.uid ?? "";
      map.set(
        uid,
        this.pods.ownedBy(uid).filter((p) => p.metadata.namespace === d.metadata.namespace && selector.matches(p.metadata.labels)),
      );
    }
    return map;
  }

  /** `syncStatusOnly`: a Deployment being deleted only gets its status refreshed. */
  private async syncStatusOnly(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /** `sync`: scaling events and paused Deployments: resize, clean up (when paused), status. */
  private async sync(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    await this.scale(d, newRS, oldRSs);
    if (d.spec.paused && rollbackTo(d) === undefined) await this.cleanupDeployment(oldRSs, d);
    await this.syncDeploymentStatus([...oldRSs, newRS], newRS, d);
  }

  /**
   * `checkPausedConditions`: Progressing becomes Unknown/DeploymentPaused on pause and
   * Unknown/DeploymentResumed on resume, so the time spent paused never counts against the
   * progress deadline. A ProgressDeadlineExceeded is never overwritten.
   */
  private async checkPausedConditions(d: Deployment): Promise<void> {
    if (!hasProgressDeadline(d)) return;
    const cond = getDeploymentCondition(d.status, "Progressing");
    if (cond?.reason === Reason.TimedOut) return;
    const pausedCondExists = cond?.reason === Reason.Paused;
    const now = this.ctx.clock.now();
    if (d.spec.paused && !pausedCondExists) {
      setDeploymentCondition(d.status, newDeploymentCondition(now, "Progressing", "Unknown", Reason.Paused, "Deployment is paused"));
      this.log(`deployment ${objectKey(d)} is paused: template changes wait until it is resumed; replicas changes still apply`);
    } else if (!d.spec.paused && pausedCondExists) {
      setDeploymentCondition(d.status, newDeploymentCondition(now, "Progressing", "Unknown", Reason.Resumed, "Deployment is resumed"));
      this.log(`deployment ${objectKey(d)} is resumed: the rollout continues`);
    } else return;
    await this.writeStatus(d);
  }

  /** `isScalingEvent`: an active ReplicaSet is annotated for another Deployment size. */
  private async isScalingEvent(d: Deployment, rsList: ReplicaSet[]): Promise<boolean> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    for (const rs of filterActiveReplicaSets([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired === undefined) continue;
      if (desired !== specReplicas(d)) return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------ ReplicaSets and revisions

  /** `getAllReplicaSetsAndSyncRevision`: the new ReplicaSet (created if asked and missing) and all old ones. */
  private async getAllReplicaSetsAndSyncRevision(d: Deployment, rsList: ReplicaSet[], createIfNotExisted: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const { all: oldRSs } = findOldReplicaSets(d, rsList);
    const newRS = await this.getNewReplicaSet(d, rsList, oldRSs, createIfNotExisted);
    return { newRS, oldRSs };
  }

  /**
   * `getNewReplicaSet`: the ReplicaSet whose template is the Deployment's, with its annotations
   * and revision brought up to date; created when missing and `createIfNotExisted`.
   */
  private async getNewReplicaSet(d: Deployment, rsList: ReplicaSet[], oldRSs: ReplicaSet[], createIfNotExisted: boolean): Promise<ReplicaSet | undefined> {
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = String(maxRevision(oldRSs) + 1);
    const now = this.ctx.clock.now();

    if (existing) {
      // Only annotations and minReadySeconds may change: copy those levels (the client copies the rest on write).
      const rsCopy: ReplicaSet = {
        ...existing,
        metadata: { ...existing.metadata, annotations: { ...(existing.metadata.annotations ?? {}) } },
        spec: { ...existing.spec },
      };
      const previousRevision = existing.metadata.annotations?.[REVISION_ANNOTATION];
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      const minReady = d.spec.minReadySeconds ?? 0;
      const minReadyNeedsUpdate = (rsCopy.spec.minReadySeconds ?? 0) !== minReady;
      if (annotationsUpdated || minReadyNeedsUpdate) {
        if (minReady) rsCopy.spec.minReadySeconds = minReady;
        else delete rsCopy.spec.minReadySeconds;
        const updated = await this.ctx.client.update(rsCopy);
        replaceIn(rsList, updated);
        const revision = updated.metadata.annotations?.[REVISION_ANNOTATION];
        if (previousRevision !== undefined && revision !== previousRevision) {
          this.log(
            `the template of deployment ${objectKey(d)} is back to the one of replica set ${updated.metadata.name}: it becomes the new replica set again, with revision ${revision} (was ${previousRevision}), and is scaled back up`,
          );
        }
        return updated;
      }
      let needsUpdate = setDeploymentRevision(d, rsCopy.metadata.annotations?.[REVISION_ANNOTATION] ?? "");
      if (hasProgressDeadline(d) && !getDeploymentCondition(d.status, "Progressing")) {
        setDeploymentCondition(d.status, newDeploymentCondition(now, "Progressing", "True", Reason.FoundNewRS, `Found new replica set "${rsCopy.metadata.name}"`));
        needsUpdate = true;
      }
      if (needsUpdate) await this.writeStatus(d);
      return rsCopy;
    }

    if (!createIfNotExisted) return undefined;

    // A new ReplicaSet: the template with the pod-template-hash label, in its name and selector too.
    const hash = computeHash(d.spec.template, d.status.collisionCount);
    const template = clone(d.spec.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(d.spec.template?.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const minReady = d.spec.minReadySeconds ?? 0;
    const newRS: ReplicaSet = {
      apiVersion: "apps/v1",
      kind: "ReplicaSet",
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [newControllerRef(d, "apps/v1", "Deployment")],
        labels: { ...template.metadata.labels },
      },
      spec: {
        replicas: 0,
        ...(minReady ? { minReadySeconds: minReady } : {}),
        selector: cloneSelectorAndAddLabel(d.spec.selector, POD_TEMPLATE_HASH_LABEL, hash),
        template,
      },
    };
    const newReplicasCount = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec.replicas = newReplicasCount;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = await this.ctx.client.create(newRS);
    } catch (err) {
      if (isReason(err, "AlreadyExists")) {
        alreadyExists = true;
        const rs = this.rsInformer.get(newRS.metadata.namespace, newRS.metadata.name ?? "");
        if (!rs) throw err;
        const ref = controllerRefOf(rs);
        if (ref && ref.uid === d.metadata.uid && equalIgnoreHash(d.spec.template, rs.spec?.template)) {
          created = rs;
        } else {
          // A hash collision with another template: count it, which changes the next hash, and retry.
          const before = d.status.collisionCount ?? 0;
          d.status.collisionCount = before + 1;
          try {
            await this.writeStatus(d);
            this.log(`found a hash collision for deployment ${objectKey(d)}: replica set ${newRS.metadata.name} has another template; bumping collisionCount ${before} -> ${before + 1}`);
          } catch {
            // The original error is the one to requeue on.
          }
          throw err;
        }
      } else if (isNamespaceTerminating(err)) {
        throw err;
      } else {
        const message = `Failed to create new replica set "${newRS.metadata.name}": ${errorMessage(err)}`;
        if (hasProgressDeadline(d)) {
          setDeploymentCondition(d.status, newDeploymentCondition(now, "Progressing", "False", Reason.FailedRSCreate, message));
          await this.writeStatus(d).catch(() => undefined);
        }
        void this.recorder.event(d, "Warning", Reason.FailedRSCreate, message);
        throw err;
      }
    }
    if (!alreadyExists && newReplicasCount > 0) {
      void this.recorder.event(d, "Normal", "ScalingReplicaSet", `Scaled up replica set ${created.metadata.name} from 0 to ${newReplicasCount}`);
      this.log(
        `Scaled up replica set ${created.metadata.name} from 0 to ${newReplicasCount}: deployment ${objectKey(d)} has a new pod template (revision ${newRevision})` +
          (isRollingUpdate(d) ? `; a rolling update allows ${specReplicas(d)} + ${maxSurge(d)} (maxSurge) pods at once` : ""),
      );
    }
    let needsUpdate = setDeploymentRevision(d, newRevision);
    if (!alreadyExists && hasProgressDeadline(d)) {
      setDeploymentCondition(d.status, newDeploymentCondition(now, "Progressing", "True", Reason.NewReplicaSet, `Created new replica set "${created.metadata.name}"`));
      needsUpdate = true;
    }
    if (!alreadyExists) rsList.push(created);
    if (needsUpdate) await this.writeStatus(d);
    return created;
  }

  // ------------------------------------------------------------------------ scaling

  /**
   * `scale`: one active ReplicaSet (or none) takes all replicas; a saturated new one leaves
   * nothing to the old ones; otherwise, mid-rollout, the change in replicas + maxSurge is shared
   * among the active ReplicaSets in proportion to their size (largest first, leftovers to it).
   */
  private async scale(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const replicas = specReplicas(d);
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (specReplicas(activeOrLatest) === replicas) return;
      await this.scaleReplicaSetAndRecordEvent(activeOrLatest, replicas, d, `deployment ${objectKey(d)} wants ${replicas} replicas`);
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActiveReplicaSets(oldRSs)) {
        await this.scaleReplicaSetAndRecordEvent(old, 0, d, `the new replica set ${newRS?.metadata.name} already runs all ${replicas} replicas`);
      }
      return;
    }
    if (!isRollingUpdate(d)) return;
    const allRSs = filterActiveReplicaSets([...oldRSs, newRS]);
    const allRSsReplicas = replicaCount(allRSs);
    const allowedSize = replicas > 0 ? replicas + maxSurge(d) : 0;
    const toAdd = allowedSize - allRSsReplicas;
    let operation = "";
    if (toAdd > 0) {
      allRSs.sort(bySizeNewer);
      operation = "up";
    } else if (toAdd < 0) {
      allRSs.sort(bySizeOlder);
      operation = "down";
    }
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of allRSs) {
      if (toAdd !== 0) {
        const proportion = getProportion(rs, d, toAdd, added);
        sizes.set(rs.metadata.name ?? "", specReplicas(rs) + proportion);
        added += proportion;
      } else sizes.set(rs.metadata.name ?? "", specReplicas(rs));
    }
    for (let i = 0; i < allRSs.length; i++) {
      const rs = allRSs[i];
      const name = rs.metadata.name ?? "";
      if (i === 0 && toAdd !== 0) {
        // Leftovers of the rounding go to the largest ReplicaSet.
        sizes.set(name, Math.max(0, (sizes.get(name) ?? 0) + toAdd - added));
      }
      await this.scaleReplicaSet(
        rs,
        sizes.get(name) ?? 0,
        d,
        operation,
        `deployment ${objectKey(d)} was resized to ${replicas} during a rollout; its ${allowedSize} allowed pods (replicas + maxSurge) are shared among the replica sets in proportion to their size`,
      );
    }
  }

  /** `scaleReplicaSetAndRecordEvent`. */
  private async scaleReplicaSetAndRecordEvent(rs: ReplicaSet, newScale: number, d: Deployment, why: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    if (specReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale, d, specReplicas(rs) < newScale ? "up" : "down", why);
  }

  /** `scaleReplicaSet`: writes the size and the desired/max-replicas annotations; an event when the size changed. */
  private async scaleReplicaSet(rs: ReplicaSet, newScale: number, d: Deployment, operation: string, why: string): Promise<{ scaled: boolean; rs: ReplicaSet }> {
    const desired = specReplicas(d);
    const max = desired + maxSurge(d);
    const sizeNeedsUpdate = specReplicas(rs) !== newScale;
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return { scaled: false, rs };
    const oldScale = specReplicas(rs);
    const copy: ReplicaSet = {
      ...rs,
      metadata: { ...rs.metadata, annotations: { ...(rs.metadata.annotations ?? {}) } },
      spec: { ...rs.spec, replicas: newScale },
    };
    setReplicasAnnotations(copy, desired, max);
    const updated = await this.ctx.client.update(copy);
    if (!sizeNeedsUpdate) return { scaled: false, rs: updated };
    const message = `Scaled ${operation} replica set ${updated.metadata.name} from ${oldScale} to ${newScale}`;
    void this.recorder.event(d, "Normal", "ScalingReplicaSet", message);
    this.log(`${message}: ${why}`);
    return { scaled: true, rs: updated };
  }

  // ------------------------------------------------------------------------ RollingUpdate

  /** `rolloutRolling`: scale the new ReplicaSet up if possible, else the old ones down, then status. */
  private async rolloutRolling(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const created = newRS!;
    const allRSs = [...oldRSs, created];
    if (await this.reconcileNewReplicaSet(allRSs, created, d)) return this.syncRolloutStatus(allRSs, created, d);
    if (await this.reconcileOldReplicaSets(allRSs, filterActiveReplicaSets(oldRSs), created, d)) return this.syncRolloutStatus(allRSs, created, d);
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, created, d);
  }

  /** `reconcileNewReplicaSet`: down to replicas if above, else up to `NewRSNewReplicas`. */
  private async reconcileNewReplicaSet(allRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
    const replicas = specReplicas(d);
    if (specReplicas(newRS) === replicas) return false;
    if (specReplicas(newRS) > replicas) {
      return (await this.scaleReplicaSetAndRecordEvent(newRS, replicas, d, `deployment ${objectKey(d)} wants ${replicas} replicas`)).scaled;
    }
    const count = newRSNewReplicas(d, allRSs, newRS);
    const surge = maxSurge(d);
    const planned = replicaCount(allRSs);
    return (
      await this.scaleReplicaSetAndRecordEvent(
        newRS,
        count,
        d,
        `rolling update of ${objectKey(d)}: at most ${replicas} + ${surge} (maxSurge) pods may exist at once and its replica sets ask for ${planned}, so the new one may grow by ${count - specReplicas(newRS)}`,
      )
    ).scaled;
  }

  /**
   * `reconcileOldReplicaSets`: how many old pods may go now without dropping below replicas -
   * maxUnavailable available pods, counting the new ReplicaSet's unavailable pods as already
   * missing; unhealthy old pods go first.
   */
  private async reconcileOldReplicaSets(allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet, d: Deployment): Promise<boolean> {
    if (replicaCount(oldRSs) === 0) return false;
    const allPodsCount = replicaCount(allRSs);
    const minAvailable = specReplicas(d) - maxUnavailable(d);
    const newRSUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPodsCount - minAvailable - newRSUnavailable;
    if (maxScaledDown <= 0) return false;
    let cleaned: { oldRSs: ReplicaSet[]; count: number };
    try {
      cleaned = await this.cleanupUnhealthyReplicas(oldRSs, d, maxScaledDown);
    } catch (err) {
      // Upstream gives up this round quietly; the next sync tries again.
      this.log(`could not scale down unhealthy old replicas of ${objectKey(d)}: ${errorMessage(err)}`);
      return false;
    }
    let scaledDown: number;
    try {
      scaledDown = await this.scaleDownOldReplicaSetsForRollingUpdate([...cleaned.oldRSs, newRS], cleaned.oldRSs, d);
    } catch (err) {
      this.log(`could not scale down old replica sets of ${objectKey(d)}: ${errorMessage(err)}`);
      return false;
    }
    return cleaned.count + scaledDown > 0;
  }

  /** `cleanupUnhealthyReplicas`: old ReplicaSets, oldest first, lose their unavailable pods. */
  private async cleanupUnhealthyReplicas(oldRSs: ReplicaSet[], d: Deployment, maxCleanupCount: number): Promise<{ oldRSs: ReplicaSet[]; count: number }> {
    const sorted = [...oldRSs].sort(byCreationTimestamp);
    let total = 0;
    for (let i = 0; i < sorted.length; i++) {
      if (total >= maxCleanupCount) break;
      const rs = sorted[i];
      const replicas = specReplicas(rs);
      const available = rs.status?.availableReplicas ?? 0;
      if (replicas === 0 || replicas === available) continue;
      const count = Math.min(maxCleanupCount - total, replicas - available);
      const target = replicas - count;
      if (target > replicas) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${objectKey(rs)} ${replicas} -> ${target}`);
      const { rs: updated } = await this.scaleReplicaSetAndRecordEvent(
        rs,
        target,
        d,
        `rolling update of ${objectKey(d)}: ${replicas - available} of its pods are not available, so removing them costs no availability`,
      );
      total += count;
      sorted[i] = updated;
    }
    return { oldRSs: sorted, count: total };
  }

  /** `scaleDownOldReplicaSetsForRollingUpdate`: old ReplicaSets, oldest first, down by (available - minAvailable). */
  private async scaleDownOldReplicaSetsForRollingUpdate(allRSs: ReplicaSet[], oldRSs: ReplicaSet[], d: Deployment): Promise<number> {
    const minAvailable = specReplicas(d) - maxUnavailable(d);
    const available = availableReplicaCount(allRSs);
    if (available <= minAvailable) return 0;
    const sorted = [...oldRSs].sort(byCreationTimestamp);
    const totalScaleDown = available - minAvailable;
    let total = 0;
    for (const rs of sorted) {
      if (total >= totalScaleDown) break;
      const replicas = specReplicas(rs);
      if (replicas === 0) continue;
      const count = Math.min(replicas, totalScaleDown - total);
      const target = replicas - count;
      if (target > replicas) throw new Error(`when scaling down old RS, got invalid request to scale down ${objectKey(rs)} ${replicas} -> ${target}`);
      await this.scaleReplicaSetAndRecordEvent(
        rs,
        target,
        d,
        `rolling update of ${objectKey(d)}: ${available} pods are available and ${minAvailable} (replicas - maxUnavailable) must stay available`,
      );
      total += count;
    }
    return total;
  }

  // ------------------------------------------------------------------------ Recreate

  /** `rolloutRecreate`: old ReplicaSets to 0, wait until no old pod runs, then the new one to replicas. */
  private async rolloutRecreate(d: Deployment, rsList: ReplicaSet[], podMap: PodMap): Promise<void> {
    // The new ReplicaSet is not created yet, so nothing scales up before the old pods are gone.
    let { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, false);
    let allRSs = [...oldRSs, newRS];
    let scaledDown = false;
    for (const rs of filterActiveReplicaSets(oldRSs)) {
      const { scaled } = await this.scaleReplicaSetAndRecordEvent(rs, 0, d, `Recreate strategy of ${objectKey(d)}: every old pod stops before a new one starts`);
      if (scaled) scaledDown = true;
    }
    if (scaledDown) return this.syncRolloutStatus(allRSs, newRS, d);
    if (oldPodsRunning(newRS, oldRSs, podMap)) return this.syncRolloutStatus(allRSs, newRS, d);
    if (!newRS) {
      ({ newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true));
      allRSs = [...oldRSs, newRS];
    }
    await this.scaleReplicaSetAndRecordEvent(newRS!, specReplicas(d), d, `Recreate strategy of ${objectKey(d)}: the old pods are gone, the new ones start`);
    if (deploymentComplete(d, d.status)) await this.cleanupDeployment(oldRSs, d);
    return this.syncRolloutStatus(allRSs, newRS, d);
  }

  // ------------------------------------------------------------------------ legacy rollback

  /**
   * `rollback`: the `deprecated.deployment.rollback.to` annotation (extensions/v1beta1's
   * `spec.rollbackTo`, still honoured by the apps/v1 controller) copies the template of that
   * revision (0: the previous one) back into the Deployment and clears the annotation; the
   * rollout then proceeds as for any template change.
   */
  private async rollback(d: Deployment, rsList: ReplicaSet[]): Promise<void> {
    const { newRS, oldRSs } = await this.getAllReplicaSetsAndSyncRevision(d, rsList, true);
    const allRSs = newRS ? [...oldRSs, newRS] : oldRSs;
    let revision = rollbackTo(d) ?? 0;
    if (revision === 0) {
      revision = lastRevision(allRSs);
      if (revision === 0) {
        void this.recorder.event(d, "Warning", "DeploymentRollbackRevisionNotFound", "Unable to find last revision.");
        return this.updateDeploymentAndClearRollbackTo(d);
      }
    }
    for (const rs of allRSs) {
      if (revisionOf(rs) !== revision) continue;
      if (!equalIgnoreHash(d.spec.template, rs.spec?.template)) {
        d.spec = { ...d.spec, template: templateFromReplicaSet(rs) };
        d.metadata.annotations = deploymentAnnotationsFrom(d, rs);
        await this.updateDeploymentAndClearRollbackTo(d);
        void this.recorder.event(d, "Normal", "DeploymentRollback", `Rolled back deployment "${d.metadata.name}" to revision ${revision}`);
        this.log(`rolled back deployment ${objectKey(d)} to the template of revision ${revision} (replica set ${rs.metadata.name}), as its deprecated.deployment.rollback.to annotation asked`);
        return;
      }
      void this.recorder.event(d, "Warning", "DeploymentRollbackTemplateUnchanged", `The rollback revision contains the same template as current deployment "${d.metadata.name}"`);
      return this.updateDeploymentAndClearRollbackTo(d);
    }
    void this.recorder.event(d, "Warning", "DeploymentRollbackRevisionNotFound", "Unable to find the revision to rollback to.");
    return this.updateDeploymentAndClearRollbackTo(d);
  }

  /** `updateDeploymentAndClearRollbackTo`: writes the Deployment without the rollback annotation. */
  private async updateDeploymentAndClearRollbackTo(d: Deployment): Promise<void> {
    const annotations = { ...(d.metadata.annotations ?? {}) };
    delete annotations[DEPRECATED_ROLLBACK_TO];
    const body: Deployment = { ...d, metadata: { ...d.metadata, annotations } };
    if (Object.keys(annotations).length === 0) delete body.metadata.annotations;
    const updated = await this.ctx.client.update(body);
    d.metadata.resourceVersion = updated.metadata.resourceVersion;
  }

  // ------------------------------------------------------------------------ history

  /**
   * `cleanupDeployment`: deletes the oldest (by revision) old ReplicaSets beyond
   * revisionHistoryLimit, only those scaled to zero, with no pods left and fully observed.
   */
  private async cleanupDeployment(oldRSs: ReplicaSet[], d: Deployment): Promise<void> {
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const limit: number = d.spec.revisionHistoryLimit;
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i];
      if ((rs.status?.replicas ?? 0) !== 0 || specReplicas(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata.deletionTimestamp) continue;
      try {
        await this.ctx.client.delete({ apiVersion: "apps/v1", kind: "ReplicaSet", namespace: rs.metadata.namespace, name: rs.metadata.name ?? "" });
        this.log(
          `deleted old replica set ${rs.metadata.name} (revision ${rs.metadata.annotations?.[REVISION_ANNOTATION] ?? "?"}): revisionHistoryLimit ${limit} keeps only the ${limit} most recent old replica sets of deployment ${objectKey(d)} for rollbacks`,
        );
      } catch (err) {
        if (!isReason(err, "NotFound")) throw err;
      }
    }
  }

  // ------------------------------------------------------------------------ status

  /** `syncDeploymentStatus`: writes the computed status when it differs. */
  private async syncDeploymentStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS, d);
    if (sameStatus(d.status, status)) return;
    d.status = status;
    await this.writeStatus(d);
  }

  /** `calculateStatus`: counts from the ReplicaSets, and the Available condition. */
  private calculateStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): DeploymentStatus {
    const available = availableReplicaCount(allRSs);
    const total = replicaCount(allRSs);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata.generation ?? 0,
      replicas: actualReplicaCount(allRSs),
      updatedReplicas: actualReplicaCount([newRS]),
      readyReplicas: readyReplicaCount(allRSs),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: [...((d.status?.conditions as DeploymentCondition[] | undefined) ?? [])],
    };
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    const now = this.ctx.clock.now();
    if (available >= specReplicas(d) - maxUnavailable(d)) {
      setDeploymentCondition(status, newDeploymentCondition(now, "Available", "True", Reason.MinimumReplicasAvailable, "Deployment has minimum availability."));
    } else {
      setDeploymentCondition(status, newDeploymentCondition(now, "Available", "False", Reason.MinimumReplicasUnavailable, "Deployment does not have minimum availability."));
    }
    return status;
  }

  /**
   * `syncRolloutStatus`: the status plus the Progressing condition (NewReplicaSetAvailable when
   * complete, ReplicaSetUpdated while progress is made, ProgressDeadlineExceeded when none was made
   * for progressDeadlineSeconds) and ReplicaFailure copied from the ReplicaSets. When nothing
   * changed, the Deployment is requeued for the deadline check.
   */
  private async syncRolloutStatus(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, d: Deployment): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS, d);
    const now = this.ctx.clock.now();
    if (!hasProgressDeadline(d)) removeDeploymentCondition(status, "Progressing");
    const current = getDeploymentCondition(d.status, "Progressing");
    const isCompleteDeployment = status.replicas === status.updatedReplicas && current?.reason === Reason.NewRSAvailable;
    if (hasProgressDeadline(d) && !isCompleteDeployment) {
      const rsName = newRS?.metadata.name;
      if (deploymentComplete(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
        const before = getDeploymentCondition(status, "Progressing")?.reason;
        setDeploymentCondition(status, newDeploymentCondition(now, "Progressing", "True", Reason.NewRSAvailable, msg));
        if (before !== Reason.NewRSAvailable) this.log(`deployment ${objectKey(d)} finished its rollout: all ${specReplicas(d)} replicas run the current template and are available`);
      } else if (deploymentProgressing(d, status)) {
        const msg = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
        const condition = newDeploymentCondition(now, "Progressing", "True", Reason.ReplicaSetUpdated, msg);
        // Progress refreshes lastUpdateTime even with the same reason (the deadline counts from it).
        if (current) {
          if (current.status === "True") condition.lastTransitionTime = current.lastTransitionTime;
          removeDeploymentCondition(status, "Progressing");
        }
        setDeploymentCondition(status, condition);
      } else if (deploymentTimedOut(d, status, now)) {
        const msg = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
        const before = getDeploymentCondition(status, "Progressing")?.reason;
        setDeploymentCondition(status, newDeploymentCondition(now, "Progressing", "False", Reason.TimedOut, msg));
        if (before !== Reason.TimedOut) {
          this.log(
            `deployment ${objectKey(d)} made no progress for ${d.spec.progressDeadlineSeconds}s (progressDeadlineSeconds): Progressing is now False, ProgressDeadlineExceeded; the rollout is not undone, check why its new pods do not become available`,
          );
        }
      }
    }
    const failures = replicaFailures(allRSs, newRS);
    if (failures.length > 0) setDeploymentCondition(status, failures[0]);
    else removeDeploymentCondition(status, "ReplicaFailure");

    if (sameStatus(d.status, status)) {
      this.requeueStuckDeployment(d, status);
      return;
    }
    d.status = status;
    await this.writeStatus(d);
  }

  /**
   * `requeueStuckDeployment`: a rollout that made no progress is looked at again when its
   * deadline passes (one second late, as upstream, to be safely past it).
   */
  private requeueStuckDeployment(d: Deployment, status: DeploymentStatus): void {
    const current = getDeploymentCondition(d.status, "Progressing");
    if (!hasProgressDeadline(d) || !current) return;
    if (deploymentComplete(d, status) || current.reason === Reason.TimedOut) return;
    const after = parseTime(current.lastUpdateTime) + d.spec.progressDeadlineSeconds * 1000 - this.ctx.clock.now();
    const key = objectKey(d);
    if (after < 1000) this.queue.addRateLimited(key);
    else this.queue.addAfter(key, after + 1000);
  }

  /**
   * Writes the Deployment's status (status subresource), and its revision annotation when that
   * changed. Upstream sends both in one UpdateStatus; this API server's status subresource keeps
   * metadata as stored, so the annotation goes in a metadata-only merge patch first.
   */
  private async writeStatus(d: Deployment): Promise<void> {
    const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: d.metadata.namespace, name: d.metadata.name ?? "" };
    const revision = d.metadata.annotations?.[REVISION_ANNOTATION];
    const stored = this.dInformer.get(d.metadata.namespace, d.metadata.name ?? "");
    if (revision !== undefined && stored?.metadata.annotations?.[REVISION_ANNOTATION] !== revision) {
      const patched = await this.ctx.client.patch(ref, "application/merge-patch+json", {
        metadata: { resourceVersion: d.metadata.resourceVersion, annotations: { [REVISION_ANNOTATION]: revision } },
      });
      d.metadata.resourceVersion = patched.metadata.resourceVersion;
    }
    const body = { ...d, status: compactStatus(d.status ?? {}) };
    const updated = await this.ctx.client.update(body, { subresource: "status" });
    d.metadata.resourceVersion = updated.metadata.resourceVersion;
  }

  private log(message: string): void {
    this.ctx.log(this.name, message);
  }
}

// ------------------------------------------------------------------------------ helpers

/** The Deployment's compiled selector (cached per spec object; throws for an invalid one). */
function selectorOf(d: KubeObject): Selector {
  return cachedSelector(d.spec, () => labelSelectorAsSelector(d.spec?.selector));
}

/**
 * `oldPodsRunning`: old ReplicaSets still report pods, or a pod of a ReplicaSet other than the new
 * one is not finished (Pending, Running, Unknown; terminating pods count).
 */
function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === "Failed" || phase === "Succeeded") continue;
      return true;
    }
  }
  return false;
}

/** `getReplicaFailures`: the ReplicaFailure conditions of the new ReplicaSet, else of the others. */
function replicaFailures(allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentCondition[] {
  const of = (rs: ReplicaSet) => ((rs.status?.conditions ?? []) as any[]).filter((c) => c?.type === "ReplicaFailure").map(replicaSetToDeploymentCondition);
  if (newRS) {
    const own = of(newRS);
    if (own.length > 0) return own;
  }
  const out: DeploymentCondition[] = [];
  for (const rs of allRSs) if (rs) out.push(...of(rs));
  return out;
}

/** The status as upstream serializes it: zero counts and empty conditions omitted, collisionCount kept when set. */
function compactStatus(s: DeploymentStatus): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ["observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"] as const) {
    if (s[k]) out[k] = s[k];
  }
  if (s.conditions && s.conditions.length > 0) out.conditions = s.conditions;
  if (s.collisionCount !== undefined && s.collisionCount !== null) out.collisionCount = s.collisionCount;
  return out;
}

function sameStatus(a: DeploymentStatus | undefined, b: DeploymentStatus): boolean {
  return canonicalJson(compactStatus(a ?? {})) === canonicalJson(compactStatus(b));
}

/** Replaces the object with the same UID in the list (keeps a sync's view current after its own writes). */
function replaceIn(list: KubeObject[], obj: KubeObject): void {
  const i = list.findIndex((o) => o.metadata.uid === obj.metadata.uid);
  if (i >= 0) list[i] = obj;
}

/**
 * The namespace controller of the kube-controller-manager (upstream
 * `pkg/controller/namespace/namespace_controller.go` and
 * `deletion/namespaced_resources_deleter.go`). A namespace whose deletion was requested is
 * Terminating and carries `spec.finalizers: ["kubernetes"]`; this controller deletes every
 * namespaced object in it, reports progress in the namespace's status conditions, and once
 * nothing is left removes the `kubernetes` finalizer through the `finalize` subresource, after
 * which the API server deletes the namespace.
 *
 * Pods delete gracefully: they linger with a deletionTimestamp until their kubelet has stopped
 * them, so the controller re-checks after half the longest grace period still running, as
 * upstream does.
 */
import { rfc3339 } from "../../api/clock.js";
import { isReason } from "../../api/errors.js";
import { objectKey } from "../../api/informer.js";
import type { KindInfo } from "../../api/kinds.js";
import { clone, type KubeObject } from "../../api/types.js";
import type { ClusterContext, Component } from "../context.js";
import { WorkQueue } from "../workqueue.js";
import { preferredKinds } from "./_kinds.js";

/** Component name (`namespace-controller`). */
export const NAMESPACE_CONTROLLER_NAME = "namespace-controller";

/** The finalizer token this controller owns (`v1.FinalizerKubernetes`). */
export const NAMESPACE_FINALIZER = "kubernetes";

/**
 * Delay before a namespace event is processed (`namespaceDeletionGracePeriod`, 5 s): it gives
 * other API servers time to refuse new content and last-moment creations time to become visible.
 */
export const NAMESPACE_DELETION_GRACE_MS = 5_000;

/** Seconds assumed for finalizers on remaining content to complete (`finalizerEstimateSeconds`). */
export const FINALIZER_ESTIMATE_SECONDS = 15;

/** Options of the namespace controller. */
export interface NamespaceControllerOptions {
  /** Concurrent namespace syncs (`--concurrent-namespace-syncs`, default 10). */
  readonly workers?: number;
}

/** Condition types the deleter maintains, in upstream order (`conditionTypes`). */
const CONDITION_TYPES = [
  "NamespaceDeletionDiscoveryFailure",
  "NamespaceDeletionGroupVersionParsingFailure",
  "NamespaceDeletionContentFailure",
  "NamespaceContentRemaining",
  "NamespaceFinalizersRemaining",
] as const;

type ConditionType = (typeof CONDITION_TYPES)[number];

/** Reason and message of each condition when all is well (`okReasons`, `okMessages`). */
const OK: Record<ConditionType, { reason: string; message: string }> = {
  NamespaceDeletionDiscoveryFailure: { reason: "ResourcesDiscovered", message: "All resources successfully discovered" },
  NamespaceDeletionGroupVersionParsingFailure: { reason: "ParsedGroupVersions", message: "All legacy kube types successfully parsed" },
  NamespaceDeletionContentFailure: { reason: "ContentDeleted", message: "All content successfully deleted, may be waiting on finalization" },
  NamespaceContentRemaining: { reason: "ContentRemoved", message: "All content successfully removed" },
  NamespaceFinalizersRemaining: { reason: "ContentHasNoFinalizers", message: "All content-preserving finalizers finished" },
};

/** A namespace status condition. */
export interface NamespaceCondition {
  type: string;
  status: "True" | "False";
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/**
 * The namespaced kinds whose content is deleted: one version per resource (the preferred one),
 * as upstream deletes what `ServerPreferredNamespacedResources` lists. Events are content too.
 */
export function namespacedDeletableKinds(): KindInfo[] {
  return preferredKinds((info) => info.namespaced);
}

/** Builds the namespace controller. */
export function namespaceController(ctx: ClusterContext, options: NamespaceControllerOptions = {}): Component {
  return new NamespaceController(ctx, options);
}

/** Content is still being removed; look again in about `estimate` seconds (`ResourcesRemainingError`). */
class ResourcesRemainingError extends Error {
  constructor(readonly estimate: number) {
    super(`some content remains in the namespace, estimate ${estimate} seconds before it is removed`);
    this.name = "ResourcesRemainingError";
  }
}

/** What deleting one resource's content left behind (`gvrDeletionMetadata`). */
interface ResourceDeletion {
  /** Seconds to wait before the remaining items are expected gone. */
  estimate: number;
  numRemaining: number;
  finalizersToNumRemaining?: Map<string, number>;
  /** Error while deleting or listing, for the content-failure condition. */
  error?: string;
}

class NamespaceController implements Component {
  readonly name = NAMESPACE_CONTROLLER_NAME;
  private readonly queue: WorkQueue;
  private readonly kinds = namespacedDeletableKinds();
  private stopped = false;

  constructor(
    private readonly ctx: ClusterContext,
    options: NamespaceControllerOptions,
  ) {
    this.queue = new WorkQueue(ctx.clock, (key) => this.sync(key), {
      workers: options.workers ?? 10,
      // nsControllerRateLimiter: retry namespace deletion at least every minute, never longer.
      maxDelayMs: 60_000,
      onError: (key, err) => this.log(`deletion of namespace ${key} failed: ${errorMessage(err)}`),
    });
  }

  start(): void {
    this.stopped = false;
    const informer = this.ctx.informers.for<KubeObject>("v1", "Namespace");
    informer.addHandlers({
      add: (ns) => this.enqueue(ns),
      update: (_old, ns) => this.enqueue(ns),
    });
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
  }

  /** Only namespaces being deleted are queued, after the deletion grace delay. */
  private enqueue(ns: KubeObject): void {
    if (this.stopped || !ns.metadata.deletionTimestamp) return;
    this.queue.addAfter(objectKey(ns), NAMESPACE_DELETION_GRACE_MS);
  }

  private async sync(key: string): Promise<void> {
    const cached = this.ctx.informers.for<KubeObject>("v1", "Namespace").getByKey(key);
    if (!cached) return;
    try {
      await this.deleteNamespaceContent(cached.metadata.name!);
    } catch (err) {
      if (!(err instanceof ResourcesRemainingError)) throw err;
      // Half the estimate, plus a second, as the upstream worker waits.
      const seconds = Math.floor(err.estimate / 2) + 1;
      this.log(`Content remaining in namespace ${key}, waiting ${seconds} seconds`);
      this.queue.addAfter(key, seconds * 1000);
    }
  }

  /**
   * Upstream `namespacedResourcesDeleter.Delete`: read the latest namespace, make sure it shows
   * Terminating, delete its content, and remove the finalizer once it is empty.
   */
  private async deleteNamespaceContent(name: string): Promise<void> {
    let ns = await this.getNamespace(name);
    if (!ns || !ns.metadata.deletionTimestamp) return;

    ns = await this.retryOnConflict(ns, (latest) => this.updateNamespaceStatus(latest));
    if (!ns || !ns.metadata.deletionTimestamp) return;
    if (finalized(ns)) return;

    const { estimate, namespace } = await this.deleteAllContent(ns);
    if (estimate > 0) throw new ResourcesRemainingError(estimate);

    const result = await this.retryOnConflict(namespace, (latest) => this.finalizeNamespace(latest));
    if (result) this.log(`Namespace ${name} is empty: removed the "${NAMESPACE_FINALIZER}" finalizer, so the API server deletes it`);
  }

  private async getNamespace(name: string): Promise<KubeObject | undefined> {
    try {
      return await this.ctx.client.get({ apiVersion: "v1", kind: "Namespace", name });
    } catch (err) {
      if (isReason(err, "NotFound")) return undefined;
      throw err;
    }
  }

  /**
   * Runs `fn` on the latest namespace, re-reading it after a conflict; a changed uid means the
   * namespace was recreated, which is an error (`retryOnConflictError`). Undefined when the
   * namespace is gone.
   */
  private async retryOnConflict(ns: KubeObject, fn: (latest: KubeObject) => Promise<KubeObject>): Promise<KubeObject | undefined> {
    let latest = ns;
    for (;;) {
      try {
        return await fn(latest);
      } catch (err) {
        if (isReason(err, "NotFound")) return undefined;
        if (!isReason(err, "Conflict")) throw err;
      }
      const previous = latest;
      const fresh = await this.getNamespace(previous.metadata.name!);
      if (!fresh) return undefined;
      if (fresh.metadata.uid !== previous.metadata.uid) throw new Error("namespace uid has changed across retries");
      latest = fresh;
    }
  }

  /** Phase Terminating (the API server sets it on delete; this covers a namespace deleted before it did). */
  private async updateNamespaceStatus(ns: KubeObject): Promise<KubeObject> {
    if (!ns.metadata.deletionTimestamp || ns.status?.phase === "Terminating") return ns;
    const next = clone(ns) as KubeObject;
    next.status = { ...(next.status ?? {}), phase: "Terminating" };
    return this.ctx.client.update(next, { subresource: "status" });
  }

  /** Removes this controller's token from spec.finalizers through the `finalize` subresource (`finalizeNamespace`). */
  private async finalizeNamespace(ns: KubeObject): Promise<KubeObject> {
    const rest = [...new Set<string>((ns.spec?.finalizers ?? []).filter((f: string) => f !== NAMESPACE_FINALIZER))].sort();
    const next = clone(ns) as KubeObject;
    next.spec = { ...(next.spec ?? {}), finalizers: rest };
    return this.ctx.client.update(next, { subresource: "finalize" });
  }

  /**
   * Deletes everything in the namespace, kind by kind, and records how it went in the status
   * conditions (`deleteAllContent`). Returns the longest estimate of content still going away.
   */
  private async deleteAllContent(ns: KubeObject): Promise<{ estimate: number; namespace: KubeObject }> {
    const name = ns.metadata.name!;
    const deletedAt = Date.parse(ns.metadata.deletionTimestamp!);
    const errors: string[] = [];
    const gvrToNumRemaining = new Map<string, number>();
    const finalizersToNumRemaining = new Map<string, number>();
    let estimate = 0;
    for (const info of this.kinds) {
      const result = await this.deleteAllContentForResource(info, name, deletedAt);
      if (result.error !== undefined) errors.push(result.error);
      if (result.estimate > estimate) estimate = result.estimate;
      if (result.numRemaining > 0) {
        gvrToNumRemaining.set(`${info.resource}.${info.group}`, result.numRemaining);
        for (const [finalizer, n] of result.finalizersToNumRemaining ?? []) {
          if (n > 0) finalizersToNumRemaining.set(finalizer, (finalizersToNumRemaining.get(finalizer) ?? 0) + n);
        }
      }
    }

    const now = rfc3339(this.ctx.clock.now());
    const fresh = contentConditions(gvrToNumRemaining, finalizersToNumRemaining, errors, now);
    let namespace = ns;
    const next = clone(ns) as KubeObject;
    next.status = { ...(next.status ?? {}) };
    if (updateConditions(next.status, fresh, now)) {
      try {
        namespace = await this.ctx.client.update(next, { subresource: "status" });
      } catch (err) {
        this.log(`couldn't update status condition for namespace ${JSON.stringify(name)}: ${errorMessage(err)}`);
      }
    }
    if (errors.length > 0) throw new Error(aggregate(errors));
    return { estimate, namespace };
  }

  /** Deletes one resource's objects in the namespace and reports what remains (`deleteAllContentForGroupVersionResource`). */
  private async deleteAllContentForResource(info: KindInfo, namespace: string, deletedAt: number): Promise<ResourceDeletion> {
    let estimate = 0;
    if (info.group === "" && info.resource === "pods") {
      try {
        estimate = await this.estimateGracefulTerminationForPods(namespace);
      } catch (err) {
        return { estimate: 0, numRemaining: 0, error: errorMessage(err) };
      }
    }
    // Past the estimate since the namespace deletion started: no reason to keep waiting.
    if (this.ctx.clock.now() - deletedAt >= estimate * 1000) estimate = 0;

    const collection = { apiVersion: info.apiVersion, kind: info.kind, namespace };
    try {
      const list = await this.ctx.client.list(collection);
      for (const item of list.items) {
        try {
          // Background propagation: the garbage collector removes what these objects own.
          await this.ctx.client.delete({ ...collection, name: item.metadata.name! }, { propagationPolicy: "Background" });
        } catch (err) {
          if (!isReason(err, "NotFound") && !isReason(err, "MethodNotAllowed")) throw err;
        }
      }
    } catch (err) {
      return { estimate, numRemaining: 0, error: errorMessage(err) };
    }

    let remaining: KubeObject[];
    try {
      remaining = (await this.ctx.client.list(collection)).items;
    } catch (err) {
      return { estimate, numRemaining: 0, error: errorMessage(err) };
    }
    if (remaining.length === 0) return { estimate: 0, numRemaining: 0 };

    const finalizers = new Map<string, number>();
    for (const item of remaining) for (const f of item.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimate !== 0) return { estimate, numRemaining: remaining.length, finalizersToNumRemaining: finalizers };
    if (finalizers.size > 0) return { estimate: FINALIZER_ESTIMATE_SECONDS, numRemaining: remaining.length, finalizersToNumRemaining: finalizers };
    return {
      estimate,
      numRemaining: remaining.length,
      // Go prints the GroupVersionResource struct with %v: `{ v1 pods}`.
      error: `unexpected items still remain in namespace: ${namespace} for gvr: {${info.group} ${info.version} ${info.resource}}`,
    };
  }

  /** The longest terminationGracePeriodSeconds of the pods still running (`estimateGracefulTerminationForPods`). */
  private async estimateGracefulTerminationForPods(namespace: string): Promise<number> {
    const pods = await this.ctx.client.list({ apiVersion: "v1", kind: "Pod", namespace });
    let estimate = 0;
    for (const pod of pods.items) {
      const phase = pod.status?.phase;
      if (phase === "Succeeded" || phase === "Failed") continue;
      const grace = pod.spec?.terminationGracePeriodSeconds;
      if (typeof grace === "number" && grace > estimate) estimate = grace;
    }
    return estimate;
  }

  private log(message: string): void {
    this.ctx.log(NAMESPACE_CONTROLLER_NAME, message);
  }
}

/** True when no finalizer token is left in spec.finalizers. */
function finalized(ns: KubeObject): boolean {
  return (ns.spec?.finalizers ?? []).length === 0;
}

/**
 * The failing conditions for this pass (`ProcessContentTotals`, `makeDeleteContentCondition`);
 * conditions not returned are set to their "ok" variant by `updateConditions`.
 */
export function contentConditions(
  gvrToNumRemaining: ReadonlyMap<string, number>,
  finalizersToNumRemaining: ReadonlyMap<string, number>,
  deleteErrors: readonly string[],
  now: string,
): NamespaceCondition[] {
  const out: NamespaceCondition[] = [];
  if (gvrToNumRemaining.size > 0) {
    const remaining = [...gvrToNumRemaining].filter(([, n]) => n > 0).map(([gr, n]) => `${gr} has ${n} resource instances`);
    // Sorted for stable updates.
    remaining.sort();
    out.push({
      type: "NamespaceContentRemaining",
      status: "True",
      lastTransitionTime: now,
      reason: "SomeResourcesRemain",
      message: `Some resources are remaining: ${remaining.join(", ")}`,
    });
  }
  if (finalizersToNumRemaining.size > 0) {
    const byFinalizer = [...finalizersToNumRemaining].filter(([, n]) => n > 0).map(([f, n]) => `${f} in ${n} resource instances`);
    byFinalizer.sort();
    out.push({
      type: "NamespaceFinalizersRemaining",
      status: "True",
      lastTransitionTime: now,
      reason: "SomeFinalizersRemain",
      message: `Some content in the namespace has finalizers remaining: ${byFinalizer.join(", ")}`,
    });
  }
  if (deleteErrors.length > 0) {
    const messages = [...deleteErrors].sort();
    out.push({
      type: "NamespaceDeletionContentFailure",
      status: "True",
      lastTransitionTime: now,
      reason: "ContentDeletionFailed",
      message: `Failed to delete all resource types, ${messages.length} remaining: ${messages.join(", ")}`,
    });
  }
  return out;
}

/**
 * Merges the fresh conditions into `status.conditions` for every maintained type, using the ok
 * variant where no failure was found; lastTransitionTime moves only when the status flips
 * (`updateConditions`). Returns true when anything changed.
 */
export function updateConditions(status: { conditions?: NamespaceCondition[] }, fresh: readonly NamespaceCondition[], now: string): boolean {
  let changed = false;
  const conditions = (status.conditions ??= []);
  for (const type of CONDITION_TYPES) {
    const wanted = fresh.find((c) => c.type === type) ?? { type, status: "False" as const, lastTransitionTime: now, ...OK[type] };
    const current = conditions.find((c) => c.type === type);
    if (!current) {
      conditions.push({ ...wanted });
      changed = true;
    } else if (current.status !== wanted.status || current.message !== wanted.message || current.reason !== wanted.reason) {
      if (current.status !== wanted.status) current.lastTransitionTime = now;
      current.status = wanted.status;
      current.reason = wanted.reason;
      current.message = wanted.message;
      changed = true;
    }
  }
  return changed;
}

/** Go's `utilerrors.NewAggregate(...).Error()`. */
function aggregate(messages: readonly string[]): string {
  return messages.length === 1 ? messages[0] : `[${messages.join(", ")}]`;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

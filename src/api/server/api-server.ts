/**
 * The in-process API server: Kubernetes semantics over the etcd-like store. Every write is
 * resolved against the kind registry, converted to its storage version, given its server-set
 * fields (uid, creationTimestamp, generation), defaulted and validated (`admit`), and written
 * with optimistic concurrency. Reads come from the watch cache without copying.
 *
 * It implements `Client`, so in-process components use it directly; the HTTP front end that
 * kubectl talks to translates requests into these same calls.
 */
import type { Clock, Timer } from "../clock.js";
import { rfc3339 } from "../clock.js";
import type {
  Client,
  CollectionRef,
  DeleteOptions,
  ListOptions,
  ObjectRef,
  PatchType,
  WatchHandle,
  WatchHandler,
  WatchOptions,
  WriteOptions,
} from "../client.js";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  failure,
  forbidden,
  gone,
  internal,
  invalid,
  notFound,
  unavailable,
} from "../errors.js";
import { KINDS, kindFor, storageKey, storagePrefix, type KindInfo } from "../kinds.js";
import { jsonEqual } from "../_json.js";
import { applyPatch } from "../patch/index.js";
import { StoreError, type Store, type StoreEvent, type StoredValue } from "../store/store.js";
import type { KubeList, KubeObject, Status, WatchEvent } from "../types.js";
import { clone } from "../types.js";
import { admitOwned } from "../validation.js";
import { toStorageVersion, toVersion } from "./conversion.js";
import { compileFieldSelector, compileLabelSelector, scaleSelectorString, watchTrigger, type ObjectMatcher } from "./selectors.js";
import { ServiceAllocator } from "./service-alloc.js";
import {
  FINALIZER_FOREGROUND,
  FINALIZER_ORPHAN,
  defaultPropagation,
  gracePeriodFor,
  initialStatus,
  specOf,
  tracksGeneration,
} from "./strategy.js";
import { WatchCache } from "./watch-cache.js";

/** Namespaces every cluster starts with (kube-apiserver's system namespaces controller). */
export const SYSTEM_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"] as const;

/** Namespaces the API refuses to delete (`pkg/registry/core/namespace/storage`: immortal namespaces). */
const IMMORTAL_NAMESPACES = new Set(["default", "kube-system", "kube-public"]);

/** Options of the API server. */
export interface ApiServerOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** Random source for uids, generated names and address allocation (deterministic in tests and `sim`). */
  readonly random?: () => number;
  /** Interval between BOOKMARK events for watches that ask for them (upstream sends one about every minute). */
  readonly bookmarkIntervalMs?: number;
}

/** Alphabet of generated name suffixes (`k8s.io/apimachinery/pkg/util/rand`: no vowels, no confusable characters). */
const NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** The in-process Kubernetes API server. */
export class ApiServer implements Client {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly cache: WatchCache;
  private readonly services: ServiceAllocator;
  private readonly bookmarkIntervalMs: number;
  private started = false;

  constructor(options: ApiServerOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.random = options.random ?? Math.random;
    this.bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
    this.cache = new WatchCache(this.store, new Set(KINDS.filter((k) => k.namespaced).map((k) => k.storageResource)));
    this.services = new ServiceAllocator(this.random);
  }

  /** Loads the watch cache, restores address allocations and creates the system namespaces. Idempotent. */
  async start(): Promise<void> {
    if (this.started) return;
    await this.cache.start();
    this.started = true;
    for (const svc of this.cache.list("services")) this.services.reserveExisting(svc.spec);
    this.cache.subscribe((event) => {
      if (event.type === "DELETED" && event.object.kind === "Service") this.services.release(event.object.spec);
    });
    for (const name of SYSTEM_NAMESPACES) {
      if (!this.cache.get("namespaces", "", name)) {
        await this.create({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
      }
    }
  }

  /** Stops following the store (the store itself is closed by its owner). */
  stop(): void {
    this.cache.stop();
    this.started = false;
  }

  /** Current store revision as the cache sees it. */
  get revision(): number {
    return this.cache.revision;
  }

  /** Synchronous read from the watch cache (no copy): the fast path for in-process readers and benchmarks. */
  peek(ref: ObjectRef): Readonly<KubeObject> | undefined {
    const info = kindFor(ref.apiVersion, ref.kind);
    const obj = this.cache.get(info.storageResource, info.namespaced ? (ref.namespace ?? "default") : "", ref.name);
    return obj && toVersion(obj, info.apiVersion);
  }

  // ---------------------------------------------------------------- reads

  async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T> {
    const info = kindFor(ref.apiVersion, ref.kind);
    const obj = this.cache.get(info.storageResource, this.nsOf(info, ref.namespace), ref.name);
    if (!obj) throw notFound({ group: info.group, resource: info.resource, name: ref.name });
    return toVersion(obj, info.apiVersion) as T;
  }

  async list<T extends KubeObject = KubeObject>(ref: CollectionRef, options: ListOptions = {}): Promise<KubeList<T>> {
    const info = kindFor(ref.apiVersion, ref.kind);
    const match = this.matcher(info, options.labelSelector, options.fieldSelector);
    const namespace = info.namespaced ? ref.namespace : undefined;
    let items = this.cache.list(info.storageResource, namespace || undefined).filter((o) => match(o));
    const revision = String(this.cache.revision);
    let continueToken: string | undefined;
    let remaining: number | undefined;
    if (options.continue) {
      const after = decodeContinue(options.continue);
      items = items.filter((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}` > after);
    }
    if (options.limit && options.limit > 0 && items.length > options.limit) {
      remaining = items.length - options.limit;
      items = items.slice(0, options.limit);
      const last = items[items.length - 1];
      continueToken = encodeContinue(`${last.metadata.namespace ?? ""}/${last.metadata.name}`);
    }
    const metadata: KubeList["metadata"] = { resourceVersion: revision };
    if (continueToken) {
      metadata.continue = continueToken;
      metadata.remainingItemCount = remaining;
    }
    return {
      apiVersion: info.apiVersion,
      kind: `${info.kind}List`,
      metadata,
      items: items.map((o) => toVersion(o, info.apiVersion) as T),
    };
  }

  // ---------------------------------------------------------------- create

  async create<T extends KubeObject = KubeObject>(object: T, options: WriteOptions = {}): Promise<T> {
    this.assertStarted();
    const info = kindFor(object?.apiVersion, object?.kind);
    if (!object.metadata || typeof object.metadata !== "object") {
      throw invalid(info.kind, info.group, "", [{ reason: "FieldValueRequired", field: "metadata", message: "Required value" }]);
    }
    const requestedVersion = info.apiVersion;
    const obj = toStorageVersion(clone(object) as KubeObject);
    const meta = obj.metadata;
    const namespace = info.namespaced ? meta.namespace || "default" : undefined;
    if (info.namespaced) meta.namespace = namespace;
    else delete meta.namespace;
    if (namespace !== undefined) this.checkNamespaceWritable(info, namespace, meta.name ?? meta.generateName ?? "");

    const generated = !meta.name && typeof meta.generateName === "string" && meta.generateName !== "";
    for (let attempt = 0; ; attempt++) {
      // Only a generated name is ever retried, so only then must `obj` stay untouched.
      const candidate = generated ? clone(obj) : obj;
      const m = candidate.metadata;
      if (generated) m.name = `${meta.generateName}${this.randomSuffix(5)}`;
      delete m.resourceVersion;
      delete m.deletionTimestamp;
      delete m.deletionGracePeriodSeconds;
      dropEmptyMetadata(m);
      m.uid = this.uid();
      m.creationTimestamp = rfc3339(this.clock.now());
      if (tracksGeneration(info)) m.generation = 1;
      else delete m.generation;
      const status = initialStatus(info, candidate);
      if (status === undefined) delete candidate.status;
      else candidate.status = status;

      // `candidate` is this attempt's own copy: admission may work on it in place.
      const admitted = admitOwned(candidate);
      this.allocateService(info, admitted, options.dryRun ?? false);
      const key = storageKey(info, namespace, admitted.metadata.name!);
      if (options.dryRun) {
        if (this.cache.get(info.storageResource, namespace ?? "", admitted.metadata.name!)) {
          throw alreadyExists({ group: info.group, resource: info.resource, name: admitted.metadata.name! });
        }
        return toVersion(admitted, requestedVersion) as T;
      }
      try {
        const stored = await this.store.create(key, admitted);
        return toVersion(stored.object, requestedVersion) as T;
      } catch (err) {
        if (info.kind === "Service") this.services.release(admitted.spec);
        if (err instanceof StoreError && err.code === "KeyExists") {
          if (generated && attempt < 8) continue;
          throw alreadyExists({ group: info.group, resource: info.resource, name: admitted.metadata.name! });
        }
        throw this.storeFailure(err, info, admitted.metadata.name!);
      }
    }
  }

  // ---------------------------------------------------------------- update

  async update<T extends KubeObject = KubeObject>(
    object: T,
    options: WriteOptions & { subresource?: "status" | "finalize" } = {},
  ): Promise<T> {
    this.assertStarted();
    const info = kindFor(object?.apiVersion, object?.kind);
    const name = object.metadata?.name;
    if (!name) throw invalid(info.kind, info.group, "", [{ reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name is required" }]);
    const ref: ObjectRef = { apiVersion: info.apiVersion, kind: info.kind, namespace: object.metadata.namespace, name };
    const precondition = object.metadata.resourceVersion;
    return this.guaranteedUpdate<T>(info, ref, precondition, options, () => toStorageVersion(clone(object) as KubeObject), options.subresource);
  }

  // ---------------------------------------------------------------- patch

  async patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    type: PatchType,
    patch: unknown,
    options: WriteOptions & { subresource?: "status" | "scale" | "finalize" } = {},
  ): Promise<T> {
    this.assertStarted();
    const info = kindFor(ref.apiVersion, ref.kind);
    if (options.subresource === "scale") return this.patchScale(info, ref, type, patch, options) as Promise<T>;
    const explicitRv = patchedResourceVersion(type, patch);
    return this.guaranteedUpdate<T>(
      info,
      ref,
      explicitRv,
      options,
      (current) => {
        const base = clone(toVersion(current, info.apiVersion)) as KubeObject;
        const patched = applyPatch(base, type, patch, info.apiVersion, info.kind) as KubeObject;
        const out = toStorageVersion(patched);
        // The patch decides the resourceVersion precondition only when it sets one explicitly.
        if (explicitRv === undefined) out.metadata.resourceVersion = current.metadata.resourceVersion;
        return out;
      },
      options.subresource,
    );
  }

  // ---------------------------------------------------------------- delete

  async delete<T extends KubeObject = KubeObject>(ref: ObjectRef, options: DeleteOptions = {}): Promise<T> {
    this.assertStarted();
    const info = kindFor(ref.apiVersion, ref.kind);
    const namespace = this.nsOf(info, ref.namespace);
    const target = { group: info.group, resource: info.resource, name: ref.name };
    for (let attempt = 0; ; attempt++) {
      const current = this.cache.get(info.storageResource, namespace, ref.name);
      if (!current) throw notFound(target);
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== current.metadata.uid) {
        throw conflict(target, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion) {
        throw conflict(
          target,
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion}`,
        );
      }
      if (info.kind === "Namespace" && IMMORTAL_NAMESPACES.has(ref.name)) {
        throw forbidden(target, "this namespace may not be deleted");
      }
      const key = storageKey(info, info.namespaced ? namespace : undefined, ref.name);
      const rev = Number(current.metadata.resourceVersion);
      const next = this.deletionUpdate(info, current, options);
      try {
        if (next === "delete") {
          if (options.dryRun) return toVersion(current, info.apiVersion) as T;
          const removed = await this.store.delete(key, rev);
          return toVersion(removed.object, info.apiVersion) as T;
        }
        if (next === "unchanged" || options.dryRun) return toVersion(next === "unchanged" ? current : next, info.apiVersion) as T;
        const stored = await this.store.update(key, next, rev);
        return toVersion(stored.object, info.apiVersion) as T;
      } catch (err) {
        if (err instanceof StoreError && (err.code === "Conflict" || err.code === "KeyNotFound") && attempt < 16) continue;
        throw this.storeFailure(err, info, ref.name);
      }
    }
  }

  /**
   * What deleting `current` does (`BeforeDelete` + `updateForGracefulDeletionAndFinalizers` in the
   * generic registry): add the finalizer of the propagation policy, set deletionTimestamp when the
   * object must wait (grace period or finalizers), otherwise delete it now.
   */
  private deletionUpdate(info: KindInfo, current: Readonly<KubeObject>, options: DeleteOptions): KubeObject | "delete" | "unchanged" {
    const policy = options.propagationPolicy ?? defaultPropagation(info);
    const finalizers = [...(current.metadata.finalizers ?? [])];
    const hadOrphan = finalizers.includes(FINALIZER_ORPHAN);
    const hadForeground = finalizers.includes(FINALIZER_FOREGROUND);
    const withoutGc = finalizers.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
    // A namespace waits for its content to be removed: spec.finalizers ["kubernetes"] (namespace controller).
    const namespaceFinalizing = info.kind === "Namespace" && (current.spec?.finalizers ?? []).length > 0;
    let gcFinalizers: string[] = [];
    if (policy === "Orphan") gcFinalizers = [FINALIZER_ORPHAN];
    else if (policy === "Foreground") gcFinalizers = [FINALIZER_FOREGROUND];
    // Once deletion started, a new request may only switch policy the way upstream allows; keep it simple: the latest policy wins.
    if (current.metadata.deletionTimestamp && options.propagationPolicy === undefined) {
      gcFinalizers = [...(hadOrphan ? [FINALIZER_ORPHAN] : []), ...(hadForeground ? [FINALIZER_FOREGROUND] : [])];
    }
    const newFinalizers = [...withoutGc, ...gcFinalizers];
    const grace = gracePeriodFor(info, current, options.gracePeriodSeconds);

    if (newFinalizers.length === 0 && grace === 0 && !namespaceFinalizing) return "delete";

    const next = clone(current) as KubeObject;
    const now = this.clock.now();
    if (newFinalizers.length > 0) next.metadata.finalizers = newFinalizers;
    else delete next.metadata.finalizers;
    if (!current.metadata.deletionTimestamp) {
      next.metadata.deletionTimestamp = rfc3339(now + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
    } else if (grace < (current.metadata.deletionGracePeriodSeconds ?? 0)) {
      // A shorter grace period may shorten a pending graceful deletion, never lengthen it.
      next.metadata.deletionTimestamp = rfc3339(now + grace * 1000);
      next.metadata.deletionGracePeriodSeconds = grace;
    } else if (sameList(newFinalizers, finalizers)) {
      return "unchanged";
    }
    if (info.kind === "Namespace") next.status = { ...(next.status ?? {}), phase: "Terminating" };
    return next;
  }

  // ---------------------------------------------------------------- binding subresource

  /**
   * `POST pods/{name}/binding` (`pkg/registry/core/pod/storage` BindingREST/assignPod): a pod is
   * bound once; binding a pod that is being deleted or already bound is a 409 Conflict.
   */
  async bind(ref: ObjectRef, nodeName: string, options: WriteOptions = {}): Promise<KubeObject> {
    this.assertStarted();
    const info = kindFor(ref.apiVersion, ref.kind);
    if (info.kind !== "Pod" || info.group !== "") throw notFound({ group: info.group, resource: `${info.resource}/binding`, name: ref.name });
    if (!nodeName) {
      throw invalid("Binding", "", ref.name, [{ reason: "FieldValueRequired", field: "target.name", message: "Required value" }]);
    }
    const namespace = this.nsOf(info, ref.namespace);
    const key = storageKey(info, namespace, ref.name);
    const target = { group: "", resource: "pods", name: ref.name };
    for (let attempt = 0; ; attempt++) {
      const current = this.cache.get("pods", namespace, ref.name);
      if (!current) throw notFound(target);
      if (current.metadata.deletionTimestamp) throw conflict(target, `pod ${ref.name} is being deleted, cannot be assigned to a host`);
      if (current.spec?.nodeName) throw conflict(target, `pod ${ref.name} is already assigned to node "${current.spec.nodeName}"`);
      // Only what is written below is copied; the rest is the stored (frozen) value, shared.
      const next = { ...current, metadata: { ...current.metadata } } as KubeObject;
      delete next.metadata.resourceVersion;
      next.spec = { ...next.spec, nodeName };
      const now = rfc3339(this.clock.now());
      const conditions = (next.status?.conditions ?? []).filter((c: any) => c.type !== "PodScheduled");
      next.status = { ...(next.status ?? {}), conditions: [...conditions, { type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: now }] };
      if (options.dryRun) return clone(next);
      try {
        const stored = await this.store.update(key, next, Number(current.metadata.resourceVersion));
        return stored.object as KubeObject;
      } catch (err) {
        if (err instanceof StoreError && err.code === "Conflict" && attempt < 16) continue;
        throw this.storeFailure(err, info, ref.name);
      }
    }
  }

  // ---------------------------------------------------------------- scale subresource

  async getScale(ref: ObjectRef): Promise<KubeObject> {
    const info = kindFor(ref.apiVersion, ref.kind);
    this.requireSubresource(info, "scale");
    const obj = await this.get(ref);
    return toScale(info, obj);
  }

  async updateScale(ref: ObjectRef, scale: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    this.assertStarted();
    const info = kindFor(ref.apiVersion, ref.kind);
    this.requireSubresource(info, "scale");
    const replicas = scale?.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw invalid("Scale", "autoscaling", ref.name, [
        { reason: "FieldValueInvalid", field: "spec.replicas", message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
      ]);
    }
    const updated = await this.guaranteedUpdate<KubeObject>(info, ref, scale.metadata?.resourceVersion, options, (current) => {
      const next = clone(current) as KubeObject;
      next.spec = { ...(next.spec ?? {}), replicas };
      return next;
    });
    return toScale(info, updated);
  }

  private async patchScale(info: KindInfo, ref: ObjectRef, type: PatchType, patch: unknown, options: WriteOptions): Promise<KubeObject> {
    this.requireSubresource(info, "scale");
    const current = await this.getScale(ref);
    const patched = applyPatch(clone(current) as KubeObject, type, patch, "autoscaling/v1", "Scale") as KubeObject;
    return this.updateScale(ref, patched, options);
  }

  // ---------------------------------------------------------------- watch

  watch<T extends KubeObject = KubeObject>(
    ref: CollectionRef,
    options: WatchOptions,
    onEvent: WatchHandler<T>,
    onError?: (status: Status) => void,
  ): WatchHandle {
    this.assertStarted();
    const info = kindFor(ref.apiVersion, ref.kind);
    const match = this.matcher(info, options.labelSelector, options.fieldSelector);
    const namespace = info.namespaced && ref.namespace ? ref.namespace : undefined;
    const prefix = storagePrefix(info, namespace);
    const deliver = (type: WatchEvent["type"], obj: Readonly<KubeObject>) => {
      try {
        onEvent({ type, object: toVersion(obj, info.apiVersion) as T });
      } catch (err) {
        // A faulty handler must not break the store's commit path or other watchers.
        queueMicrotask(() => {
          throw err;
        });
      }
    };

    let afterRevision: number;
    const rv = options.resourceVersion;
    if (rv === undefined || rv === "" || rv === "0") {
      for (const obj of this.cache.list(info.storageResource, namespace)) if (match(obj)) deliver("ADDED", obj);
      afterRevision = this.cache.revision;
    } else {
      afterRevision = Number(rv);
      if (!Number.isInteger(afterRevision) || afterRevision < 0) throw badRequest(`invalid resource version: "${rv}"`);
    }

    let stopped = false;
    let storeWatch: { stop(): void };
    try {
      storeWatch = this.store.watch(prefix, {
        afterRevision,
        // Only a pre-filter: events the trigger lets through still go through `match` below.
        trigger: watchTrigger(info, options.fieldSelector),
        onEvent: (event: StoreEvent) => {
          if (stopped) return;
          const now = match(event.object);
          const before = event.previous ? match(event.previous) : false;
          if (event.type === "ADDED") {
            if (now) deliver("ADDED", event.object);
          } else if (event.type === "DELETED") {
            if (before || now) deliver("DELETED", event.object);
          } else if (now && before) deliver("MODIFIED", event.object);
          else if (now) deliver("ADDED", event.object);
          else if (before) deliver("DELETED", event.object);
        },
        onError: (err) => {
          if (!stopped) onError?.(this.storeFailure(err, info, "").status);
        },
      });
    } catch (err) {
      if (err instanceof StoreError && err.code === "Compacted") {
        throw gone(`too old resource version: ${afterRevision} (${this.store.compactedRevision})`);
      }
      throw this.storeFailure(err, info, "");
    }

    let bookmarks: Timer | undefined;
    if (options.allowWatchBookmarks) {
      bookmarks = this.clock.setInterval(() => {
        if (stopped) return;
        onEvent({
          type: "BOOKMARK",
          object: { apiVersion: info.apiVersion, kind: info.kind, metadata: { resourceVersion: String(this.cache.revision) } } as T,
        });
      }, this.bookmarkIntervalMs);
    }
    return {
      stop: () => {
        stopped = true;
        storeWatch.stop();
        bookmarks?.cancel();
      },
    };
  }

  // ---------------------------------------------------------------- internals

  /**
   * Read-modify-write with optimistic concurrency (the registry's `GuaranteedUpdate`): `mutate`
   * builds the new object from the current one; a conflict with a concurrent writer is retried
   * unless the caller pinned a resourceVersion, in which case it is the caller's 409.
   */
  private async guaranteedUpdate<T extends KubeObject>(
    info: KindInfo,
    ref: ObjectRef,
    precondition: string | undefined,
    options: WriteOptions,
    mutate: (current: Readonly<KubeObject>) => KubeObject,
    subresource?: "status" | "finalize",
  ): Promise<T> {
    if (subresource && subresource !== "finalize" && !info.subresources.includes(subresource)) {
      throw notFound({ group: info.group, resource: `${info.resource}/${subresource}`, name: ref.name });
    }
    if (subresource === "finalize" && info.kind !== "Namespace") {
      throw notFound({ group: info.group, resource: `${info.resource}/finalize`, name: ref.name });
    }
    const namespace = this.nsOf(info, ref.namespace);
    const target = { group: info.group, resource: info.resource, name: ref.name };
    for (let attempt = 0; ; attempt++) {
      const current = this.cache.get(info.storageResource, namespace, ref.name);
      if (!current) throw notFound(target);
      if (precondition && precondition !== current.metadata.resourceVersion) throw conflict(target);
      const proposed = mutate(current);
      if (proposed.metadata?.name !== undefined && proposed.metadata.name !== ref.name) {
        throw badRequest(`the name of the object (${proposed.metadata.name}) does not match the name on the URL (${ref.name})`);
      }
      if (info.namespaced && proposed.metadata?.namespace && proposed.metadata.namespace !== namespace) {
        throw badRequest(`the namespace of the provided object does not match the namespace sent on the request`);
      }
      const next = this.prepareUpdate(info, current, proposed, subresource);
      if (next === current) return toVersion(current, info.apiVersion) as T;
      const key = storageKey(info, info.namespaced ? namespace : undefined, ref.name);
      const rev = Number(current.metadata.resourceVersion);
      // A dry run hands back an object the caller owns, as a real write's JSON response would be.
      if (options.dryRun) return toVersion(clone(next), info.apiVersion) as T;
      try {
        // Removing the last finalizer of an object being deleted completes its deletion.
        if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && readyToRemove(info, next)) {
          const removed = await this.store.delete(key, rev);
          return toVersion(removed.object, info.apiVersion) as T;
        }
        const stored = await this.store.update(key, next, rev);
        return toVersion(stored.object, info.apiVersion) as T;
      } catch (err) {
        if (err instanceof StoreError && err.code === "Conflict" && !precondition && attempt < 16) continue;
        if (err instanceof StoreError && err.code === "Conflict") throw conflict(target);
        throw this.storeFailure(err, info, ref.name);
      }
    }
  }

  /** Applies the strategy's PrepareForUpdate, generation, admission and allocation. Returns `current` itself when nothing changes. */
  private prepareUpdate(info: KindInfo, current: Readonly<KubeObject>, proposed: KubeObject, subresource?: "status" | "finalize"): KubeObject {
    let next: KubeObject;
    if (subresource === "status") {
      // Status strategy: only status changes; spec and metadata stay as stored. Only the two
      // levels written below are copied: the rest is the stored (frozen) value, shared.
      next = { ...current, metadata: { ...current.metadata } } as KubeObject;
      next.status = proposed.status;
    } else if (subresource === "finalize") {
      next = clone(current) as KubeObject;
      next.spec = { ...(next.spec ?? {}), finalizers: proposed.spec?.finalizers ?? [] };
      if (!next.spec.finalizers.length) delete next.spec.finalizers;
    } else {
      next = proposed;
      if (info.hasStatus && info.kind !== "Node") next.status = clone(current.status);
      else if (info.kind === "Node" && proposed.status === undefined) next.status = clone(current.status);
    }
    const meta = next.metadata;
    const cur = current.metadata;
    // A uid in the request is a precondition (upstream `rest.BeforeUpdate` / storage preconditions).
    if (meta.uid && meta.uid !== cur.uid) {
      throw conflict(
        { group: info.group, resource: info.resource, name: cur.name! },
        `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${cur.uid}`,
      );
    }
    meta.name = cur.name;
    if (info.namespaced) meta.namespace = cur.namespace;
    meta.uid = cur.uid;
    meta.creationTimestamp = cur.creationTimestamp;
    if (cur.deletionTimestamp) {
      meta.deletionTimestamp = cur.deletionTimestamp;
      meta.deletionGracePeriodSeconds = cur.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    dropEmptyMetadata(meta);
    delete meta.resourceVersion;
    if (tracksGeneration(info)) {
      // Subresource writes never bump the generation, so their spec needs no comparing.
      const specChanged = subresource === undefined && !jsonEqual(specOf(next), specOf(current as KubeObject));
      meta.generation = (cur.generation ?? 1) + (specChanged ? 1 : 0);
    } else delete meta.generation;
    // Adding finalizers is refused once deletion started (upstream: "no new finalizers can be added if the object is being deleted").
    if (cur.deletionTimestamp) {
      const added = (meta.finalizers ?? []).filter((f) => !(cur.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalid(info.kind, info.group, cur.name!, [
          { reason: "FieldValueForbidden", field: "metadata.finalizers", message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` },
        ]);
      }
    }
    // Status and finalize writes change one field the main resource's validation does not own.
    // `next` was built for this write alone (a copy of the request or of the stored object).
    const admitted = subresource === undefined ? admitOwned(next, current as KubeObject) : next;
    if (info.kind === "Service" && subresource === undefined) this.allocateService(info, admitted, false, current.spec);
    const before = { ...current, metadata: { ...current.metadata, resourceVersion: undefined } };
    if (jsonEqual(before, admitted)) return current as KubeObject;
    return admitted;
  }

  private allocateService(info: KindInfo, obj: KubeObject, dryRun: boolean, oldSpec?: any): void {
    if (info.kind !== "Service" || info.group !== "") return;
    const causes = this.services.allocate(obj.spec, dryRun, oldSpec);
    if (causes.length > 0) throw invalid(info.kind, info.group, obj.metadata.name ?? "", causes);
  }

  private checkNamespaceWritable(info: KindInfo, namespace: string, name: string): void {
    const ns = this.cache.get("namespaces", "", namespace);
    if (!ns) throw notFound({ group: "", resource: "namespaces", name: namespace });
    if (ns.metadata.deletionTimestamp || ns.status?.phase === "Terminating") {
      throw forbidden(
        { group: info.group, resource: info.resource, name },
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  private requireSubresource(info: KindInfo, sub: "scale" | "status"): void {
    if (!info.subresources.includes(sub)) {
      throw notFound({ group: info.group, resource: `${info.resource}/${sub}`, name: "" });
    }
  }

  private matcher(info: KindInfo, labelSelector?: string, fieldSelector?: string): ObjectMatcher {
    const labels = labelSelector ? compileLabelSelector(labelSelector) : undefined;
    const fields = fieldSelector ? compileFieldSelector(info, fieldSelector) : undefined;
    if (!labels && !fields) return () => true;
    return (obj) => (!labels || labels(obj)) && (!fields || fields(obj));
  }

  private nsOf(info: KindInfo, namespace: string | undefined): string {
    return info.namespaced ? namespace || "default" : "";
  }

  private assertStarted(): void {
    if (!this.started) throw unavailable("the API server is not started (call start() first)");
  }

  private storeFailure(err: unknown, info: KindInfo, name: string): ApiError {
    if (err instanceof ApiError) return err;
    if (err instanceof StoreError) {
      const target = { group: info.group, resource: info.resource, name };
      switch (err.code) {
        case "KeyExists":
          return alreadyExists(target);
        case "KeyNotFound":
          return notFound(target);
        case "Conflict":
          return conflict(target);
        case "Compacted":
          return gone(err.message);
        case "Closed":
        case "Locked":
          return unavailable(err.message);
        default:
          return internal(err.message);
      }
    }
    return internal(err instanceof Error ? err.message : String(err));
  }

  private uid(): string {
    const hex = (n: number) => {
      let out = "";
      for (let i = 0; i < n; i++) out += Math.floor(this.random() * 16).toString(16);
      return out;
    };
    const variant = (8 + Math.floor(this.random() * 4)).toString(16);
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
  }

  private randomSuffix(n: number): string {
    let out = "";
    for (let i = 0; i < n; i++) out += NAME_ALPHABET[Math.floor(this.random() * NAME_ALPHABET.length)];
    return out;
  }
}

/** An object whose deletion was requested may go once its grace period needs no kubelet (non-pods, or grace 0). */
function readyToRemove(info: KindInfo, obj: KubeObject): boolean {
  if (info.kind === "Namespace" && (obj.spec?.finalizers ?? []).length > 0) return false;
  return info.kind !== "Pod" || (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
}

/** Empty metadata lists and maps are dropped, as Go's `omitempty` JSON encoding does for ObjectMeta. */
function dropEmptyMetadata(meta: KubeObject["metadata"]): void {
  for (const field of ["labels", "annotations", "ownerReferences", "finalizers", "managedFields"] as const) {
    const value = meta[field] as unknown;
    if (value === null || (Array.isArray(value) && value.length === 0) || (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0)) {
      delete meta[field];
    }
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The resourceVersion a patch pins explicitly, if any (a precondition, as upstream). */
function patchedResourceVersion(type: PatchType, patch: unknown): string | undefined {
  if (type === "application/json-patch+json") return undefined; // a `test` op expresses it instead
  const rv = (patch as any)?.metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" ? rv : undefined;
}

/** The `autoscaling/v1 Scale` view of a scalable object. */
function toScale(info: KindInfo, obj: Readonly<KubeObject>): KubeObject {
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: obj.spec?.replicas ?? 0 },
    status: { replicas: obj.status?.replicas ?? 0, selector: scaleSelectorString(info, obj) },
  };
}

function encodeContinue(lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: "meta.k8s.io/v1", k: lastKey })).toString("base64");
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8"));
    if (typeof parsed?.k === "string") return parsed.k;
  } catch {
    /* fall through */
  }
  throw new ApiError(failure(400, "BadRequest", `continue key is not valid: ${token}`));
}


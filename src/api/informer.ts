/**
 * Informers, as client-go's shared informers: list a collection, then watch from the list's
 * resourceVersion, keeping a local cache indexed by namespace and by label, and calling
 * handlers for every add, update and delete. When the watch ends with 410 Gone (its start
 * revision was compacted) or any other error, the informer relists and reconciles its cache
 * with the fresh list, reporting the differences as events, then watches again.
 *
 * Cached objects are the frozen objects the client returned: never mutate them.
 */
import type { Client, CollectionRef, WatchHandle } from "./client.js";
import type { Clock, Timer } from "./clock.js";
import type { KubeObject, Status, WatchEvent } from "./types.js";

/** Handlers for cache changes. `update` is called only when the resourceVersion changed. */
export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

/** Options of an informer. */
export interface InformerOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Clock for the relist back-off; without one, relists happen at once. */
  readonly clock?: Clock;
  /** Called when a relist fails (the informer keeps retrying). */
  readonly onError?: (err: unknown) => void;
}

/** `namespace/name` (or `name` for cluster-scoped objects): the key client-go's `MetaNamespaceKeyFunc` uses. */
export function objectKey(obj: Pick<KubeObject, "metadata">): string {
  const ns = obj.metadata.namespace;
  return ns ? `${ns}/${obj.metadata.name}` : `${obj.metadata.name}`;
}

/** `key=value` terms of frozen label maps; versions of an object share their unchanged labels, so most lookups hit. */
const termsOfLabels = new WeakMap<object, readonly string[]>();

/** The label index keys (`key=value`) of a label map. */
function labelTerms(labels: Readonly<Record<string, string>> | undefined): readonly string[] {
  if (!labels) return [];
  const frozen = Object.isFrozen(labels);
  let terms = frozen ? termsOfLabels.get(labels) : undefined;
  if (!terms) {
    terms = Object.entries(labels).map(([k, v]) => `${k}=${v}`);
    if (frozen) termsOfLabels.set(labels, terms);
  }
  return terms;
}

/** A list-watch cache of one collection. */
export class Informer<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly byLabel = new Map<string, Set<string>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private handle: WatchHandle | undefined;
  private retry: Timer | undefined;
  private synced = false;
  private stopped = false;
  private lastRevision = "";
  private failures = 0;

  constructor(
    private readonly client: Client,
    readonly ref: CollectionRef,
    private readonly options: InformerOptions = {},
  ) {}

  /** Adds handlers; objects already cached are replayed to `add`, as client-go does for late handlers. */
  addHandlers(handlers: InformerHandlers<T>): void {
    this.handlers.push(handlers);
    if (handlers.add) for (const obj of this.items.values()) handlers.add(obj);
  }

  /** Lists and starts watching. Resolves once the cache holds the initial list (`HasSynced`). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.relist();
  }

  /** Stops watching. The cache keeps its content. */
  stop(): void {
    this.stopped = true;
    this.handle?.stop();
    this.handle = undefined;
    this.retry?.cancel();
  }

  /** True once the first list is in the cache. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** resourceVersion of the latest event or list seen. */
  get revision(): string {
    return this.lastRevision;
  }

  /** The cached object with this key (`namespace/name`, or `name` for cluster-scoped). */
  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** The cached object. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Every cached object, or those of one namespace (namespace index). */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.items.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  /** Objects carrying the label `key=value` (label index). */
  withLabel(key: string, value: string): T[] {
    const keys = this.byLabel.get(`${key}=${value}`);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const obj = this.items.get(k);
      if (obj) out.push(obj);
    }
    return out;
  }

  /** Number of cached objects. */
  get size(): number {
    return this.items.size;
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    let list;
    try {
      list = await this.client.list<T>(this.ref, { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector });
    } catch (err) {
      this.options.onError?.(err);
      this.scheduleRelist();
      return;
    }
    if (this.stopped) return;
    this.failures = 0;
    // Replace: objects gone since the last watch are reported deleted (client-go DeletedFinalStateUnknown, simplified).
    const fresh = new Map(list.items.map((o) => [objectKey(o), o] as const));
    for (const [key, old] of [...this.items]) if (!fresh.has(key)) this.remove(key, old);
    for (const obj of list.items) this.upsert(obj);
    this.lastRevision = list.metadata.resourceVersion;
    this.synced = true;
    this.watchFrom(list.metadata.resourceVersion);
  }

  private watchFrom(resourceVersion: string): void {
    if (this.stopped) return;
    try {
      this.handle = this.client.watch<T>(
        this.ref,
        { resourceVersion, labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector, allowWatchBookmarks: true },
        (event) => this.onEvent(event),
        (status) => this.onWatchEnd(status),
      );
    } catch (err) {
      // 410 Gone (the revision was compacted) or a transient failure: relist.
      this.options.onError?.(err);
      this.scheduleRelist();
    }
  }

  private onEvent(event: WatchEvent<T>): void {
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.lastRevision = rv;
    switch (event.type) {
      case "ADDED":
      case "MODIFIED":
        this.upsert(event.object);
        break;
      case "DELETED": {
        const key = objectKey(event.object);
        const old = this.items.get(key);
        if (old) this.remove(key, event.object);
        break;
      }
      default:
        break;
    }
  }

  /** The watch ended: resume from the last revision seen, as client-go's reflector does; a 410 there makes it relist. */
  private onWatchEnd(status: Status): void {
    this.handle?.stop();
    this.handle = undefined;
    if (this.stopped) return;
    if (status.code === 410) {
      this.scheduleRelist();
      return;
    }
    this.watchFrom(this.lastRevision);
  }

  private scheduleRelist(): void {
    if (this.stopped) return;
    this.failures++;
    const clock = this.options.clock;
    if (!clock) {
      queueMicrotask(() => void this.relist());
      return;
    }
    // client-go's reflector backs off 800 ms doubling to 30 s between failed list/watch attempts.
    const delay = Math.min(30_000, 800 * 2 ** Math.max(0, this.failures - 1));
    this.retry = clock.setTimeout(() => void this.relist(), delay);
  }

  private upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.items.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    this.index(key, obj);
    for (const h of this.handlers) {
      if (old) h.update?.(old, obj);
      else h.add?.(obj);
    }
  }

  private remove(key: string, last: T): void {
    const old = this.items.get(key);
    if (!old) return;
    this.unindex(key, old);
    this.items.delete(key);
    for (const h of this.handlers) h.delete?.(last);
  }

  private index(key: string, obj: T): void {
    const ns = obj.metadata.namespace ?? "";
    let names = this.byNamespace.get(ns);
    if (!names) this.byNamespace.set(ns, (names = new Map()));
    names.set(key, obj);
    for (const lk of labelTerms(obj.metadata.labels)) {
      let set = this.byLabel.get(lk);
      if (!set) this.byLabel.set(lk, (set = new Set()));
      set.add(key);
    }
  }

  private unindex(key: string, obj: T): void {
    const ns = obj.metadata.namespace ?? "";
    const names = this.byNamespace.get(ns);
    names?.delete(key);
    if (names && names.size === 0) this.byNamespace.delete(ns);
    for (const lk of labelTerms(obj.metadata.labels)) {
      const set = this.byLabel.get(lk);
      set?.delete(key);
      if (set && set.size === 0) this.byLabel.delete(lk);
    }
  }
}

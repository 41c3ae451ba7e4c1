/**
 * The API server's watch cache (the kube-apiserver "cacher"): an in-memory copy of every
 * object, fed by one watch on the store, from which gets and lists are served without
 * touching storage and without copying (objects are deeply frozen). Indexed by resource, then
 * namespace, then name, so a namespaced list touches only that namespace.
 */
import type { Store, StoreEvent, StoreWatch } from "../store/store.js";
import type { KubeObject } from "../types.js";

/** Listener for every committed change, after the cache has applied it. */
export type CacheListener = (event: StoreEvent) => void;

interface ResourceBucket {
  /** namespace ("" for cluster-scoped) -> name -> object */
  readonly byNamespace: Map<string, Map<string, Readonly<KubeObject>>>;
  size: number;
}

/** Splits `/registry/<resource...>/<ns>/<name>` keys; the resource may contain one slash (events.k8s.io/events). */
function parseKey(key: string, namespacedResources: ReadonlySet<string>): { resource: string; namespace: string; name: string } {
  const rest = key.slice("/registry/".length);
  const parts = rest.split("/");
  // Resource may be "group/resource" (two segments) for events.k8s.io.
  let resource = parts[0];
  let i = 1;
  if (!namespacedResources.has(resource) && parts.length > 2 && namespacedResources.has(`${parts[0]}/${parts[1]}`)) {
    resource = `${parts[0]}/${parts[1]}`;
    i = 2;
  }
  if (namespacedResources.has(resource)) return { resource, namespace: parts[i], name: parts.slice(i + 1).join("/") };
  return { resource, namespace: "", name: parts.slice(i).join("/") };
}

/** In-memory, revision-consistent copy of the store. */
export class WatchCache {
  private readonly buckets = new Map<string, ResourceBucket>();
  private readonly listeners = new Set<CacheListener>();
  private watch: StoreWatch | undefined;
  private rev = 0;

  constructor(
    private readonly store: Store,
    private readonly namespacedResources: ReadonlySet<string>,
  ) {}

  /** Loads every object and starts following the store. */
  async start(): Promise<void> {
    const { items, revision } = await this.store.range("/registry/");
    for (const item of items) this.put(item.key, item.object);
    this.rev = revision;
    this.watch = this.store.watch("/registry/", {
      afterRevision: revision,
      onEvent: (event) => this.apply(event),
    });
  }

  /** Stops following the store. */
  stop(): void {
    this.watch?.stop();
    this.watch = undefined;
  }

  /** Revision the cache reflects. */
  get revision(): number {
    return this.rev;
  }

  /** Subscribes to every change after the cache applied it; returns an unsubscribe function. */
  subscribe(listener: CacheListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The object at `resource`/`namespace`/`name` (namespace "" for cluster-scoped), or undefined. */
  get(resource: string, namespace: string, name: string): Readonly<KubeObject> | undefined {
    return this.buckets.get(resource)?.byNamespace.get(namespace)?.get(name);
  }

  /** Every object of a resource, optionally in one namespace, sorted by namespace then name (as etcd's key order). */
  list(resource: string, namespace?: string): Readonly<KubeObject>[] {
    const bucket = this.buckets.get(resource);
    if (!bucket) return [];
    const out: Readonly<KubeObject>[] = [];
    const namespaces = namespace !== undefined ? [namespace] : [...bucket.byNamespace.keys()].sort();
    for (const ns of namespaces) {
      const names = bucket.byNamespace.get(ns);
      if (!names) continue;
      const sorted = [...names.keys()].sort();
      for (const n of sorted) out.push(names.get(n)!);
    }
    return out;
  }

  /** Number of objects of a resource. */
  count(resource: string): number {
    return this.buckets.get(resource)?.size ?? 0;
  }

  /** True when the namespace has any namespaced object. */
  namespaceHasObjects(namespace: string): boolean {
    for (const bucket of this.buckets.values()) if ((bucket.byNamespace.get(namespace)?.size ?? 0) > 0) return true;
    return false;
  }

  private apply(event: StoreEvent): void {
    if (event.type === "DELETED") this.remove(event.key);
    else this.put(event.key, event.object);
    this.rev = event.revision;
    for (const listener of this.listeners) listener(event);
  }

  private put(key: string, object: Readonly<KubeObject>): void {
    const { resource, namespace, name } = parseKey(key, this.namespacedResources);
    let bucket = this.buckets.get(resource);
    if (!bucket) {
      bucket = { byNamespace: new Map(), size: 0 };
      this.buckets.set(resource, bucket);
    }
    let names = bucket.byNamespace.get(namespace);
    if (!names) {
      names = new Map();
      bucket.byNamespace.set(namespace, names);
    }
    if (!names.has(name)) bucket.size++;
    names.set(name, object);
  }

  private remove(key: string): void {
    const { resource, namespace, name } = parseKey(key, this.namespacedResources);
    const bucket = this.buckets.get(resource);
    const names = bucket?.byNamespace.get(namespace);
    if (bucket && names?.delete(name)) {
      bucket.size--;
      if (names.size === 0) bucket.byNamespace.delete(namespace);
    }
  }
}

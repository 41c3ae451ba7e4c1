/**
 * An index of an informer's objects by controller, as upstream's `controllerUIDIndex` /
 * `PodControllerUIDIndex` indexers (`pkg/controller/controller_utils.go`, `FilterPodsByOwner`):
 * objects are filed under the UID of their controllerRef, and orphans under their namespace. A
 * ReplicaSet then reads "my pods and the orphans I might adopt" without scanning every pod of
 * the namespace.
 *
 * One index per informer is shared by every controller that asks for it. It registers its
 * handlers when first asked for, before the asking controller registers its own, so a handler
 * that reads the index always sees the change that triggered it.
 */
import type { Informer } from "../../api/informer.js";
import { objectKey } from "../../api/informer.js";
import type { KubeObject, OwnerReference } from "../../api/types.js";

/** The ownerReference with `controller: true`, if any (`metav1.GetControllerOf`). */
export function controllerRefOf(obj: Pick<KubeObject, "metadata">): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r?.controller === true);
}

/** Objects of one informer, by controller UID and (orphans) by namespace. */
export class OwnerIndex<T extends KubeObject> {
  private readonly buckets = new Map<string, Map<string, T>>();
  private readonly bucketOf = new Map<string, string>();

  constructor(informer: Informer<T>) {
    informer.addHandlers({
      add: (obj) => this.put(obj),
      update: (_old, obj) => this.put(obj),
      delete: (obj) => this.drop(objectKey(obj)),
    });
  }

  /** Objects whose controllerRef has this UID. */
  ownedBy(uid: string): T[] {
    return [...(this.buckets.get(`uid:${uid}`)?.values() ?? [])];
  }

  /** Objects of the namespace without a controllerRef. */
  orphans(namespace: string): T[] {
    return [...(this.buckets.get(`ns:${namespace}`)?.values() ?? [])];
  }

  /** Owned by `uid`, plus the orphans of `namespace` (`FilterPodsByOwner` with includeOrphanedPods). */
  ownedOrOrphan(uid: string, namespace: string): T[] {
    const out = this.ownedBy(uid).filter((o) => o.metadata.namespace === namespace);
    return out.concat(this.orphans(namespace));
  }

  private put(obj: T): void {
    const key = objectKey(obj);
    const ref = controllerRefOf(obj);
    const bucket = ref ? `uid:${ref.uid}` : `ns:${obj.metadata.namespace ?? ""}`;
    const previous = this.bucketOf.get(key);
    if (previous !== undefined && previous !== bucket) this.drop(key);
    let map = this.buckets.get(bucket);
    if (!map) this.buckets.set(bucket, (map = new Map()));
    map.set(key, obj);
    this.bucketOf.set(key, bucket);
  }

  private drop(key: string): void {
    const bucket = this.bucketOf.get(key);
    if (bucket === undefined) return;
    const map = this.buckets.get(bucket);
    map?.delete(key);
    if (map && map.size === 0) this.buckets.delete(bucket);
    this.bucketOf.delete(key);
  }
}

const shared = new WeakMap<Informer<any>, OwnerIndex<any>>();

/** The shared owner index of an informer (created, and its handlers registered, on first use). */
export function ownerIndexFor<T extends KubeObject>(informer: Informer<T>): OwnerIndex<T> {
  let index = shared.get(informer) as OwnerIndex<T> | undefined;
  if (!index) {
    index = new OwnerIndex(informer);
    shared.set(informer, index);
  }
  return index;
}

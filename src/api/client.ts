/**
 * The client interface every part of kubelings uses to talk to a cluster: controllers, the
 * scheduler, kubelets, the reconciler, the workbook and the CLI. The in-process API server
 * implements it directly; an HTTP client for a real cluster implements the same interface, so
 * the reconciler can sync a remote API server unchanged (as Argo CD and the
 * kube-controller-manager only ever talk to the kube-apiserver).
 *
 * Objects returned are deeply frozen: copy (`clone`) before changing.
 */
import type { KubeList, KubeObject, Status, WatchEvent } from "./types.js";

/** Identifies one object. `namespace` is required for namespaced kinds and ignored otherwise. */
export interface ObjectRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** Identifies a collection: every object of a kind, optionally in one namespace. */
export interface CollectionRef {
  readonly apiVersion: string;
  readonly kind: string;
  /** Omit for all namespaces (or for cluster-scoped kinds). */
  readonly namespace?: string;
}

/** Options shared by every write. */
export interface WriteOptions {
  /** Run every step (defaulting, validation, admission) but persist nothing (`dryRun=All`). */
  readonly dryRun?: boolean;
  /** Name of the writer, recorded as the field manager. */
  readonly fieldManager?: string;
}

/** Options of a list. */
export interface ListOptions {
  /** Label selector in string form (`app=web,tier in (fe,be)`). */
  readonly labelSelector?: string;
  /** Field selector in string form (`spec.nodeName=node-1,status.phase!=Running`). */
  readonly fieldSelector?: string;
  /** Page size; 0 or absent for everything. */
  readonly limit?: number;
  /** Continue token from a previous page. */
  readonly continue?: string;
}

/** Options of a watch. */
export interface WatchOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /**
   * Start point. Absent or "0": the current state is sent first as synthetic ADDED events, then
   * every change. A revision: every change after it (410 Gone when compacted).
   */
  readonly resourceVersion?: string;
  /** Ask for periodic BOOKMARK events carrying the current resourceVersion. */
  readonly allowWatchBookmarks?: boolean;
}

/** Patch formats, by their HTTP content type. */
export type PatchType =
  | "application/json-patch+json"
  | "application/merge-patch+json"
  | "application/strategic-merge-patch+json";

/** Options of a delete (`metav1.DeleteOptions`). */
export interface DeleteOptions extends WriteOptions {
  /** Background (default), Foreground, or Orphan dependents. */
  readonly propagationPolicy?: "Background" | "Foreground" | "Orphan";
  /** Grace period in seconds; Pods only. 0 deletes at once. */
  readonly gracePeriodSeconds?: number;
  /** Delete only if the object still has this uid / resourceVersion. */
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

/** Subresources writable through `update`/`patch`. */
export type WritableSubresource = "status" | "scale" | "finalize";

/** A running watch. */
export interface WatchHandle {
  /** Stops the watch; no event is delivered after this returns. */
  stop(): void;
}

/** Receives watch events in order. `onError` is called at most once, when the watch ends on its own (e.g. 410 Gone). */
export interface WatchHandler<T extends KubeObject = KubeObject> {
  (event: WatchEvent<T>): void;
}

/** The Kubernetes API, as kubelings' parts use it. */
export interface Client {
  /** Reads one object (404 NotFound when absent). */
  get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T>;
  /** Lists objects of a kind. The list's `metadata.resourceVersion` is where a watch should start. */
  list<T extends KubeObject = KubeObject>(ref: CollectionRef, options?: ListOptions): Promise<KubeList<T>>;
  /** Creates an object (409 AlreadyExists, 422 Invalid, 404 for an unknown kind or missing namespace). */
  create<T extends KubeObject = KubeObject>(object: T, options?: WriteOptions): Promise<T>;
  /** Replaces an object; with `metadata.resourceVersion` set, fails with 409 Conflict if it is stale. */
  update<T extends KubeObject = KubeObject>(object: T, options?: WriteOptions & { subresource?: "status" | "finalize" }): Promise<T>;
  /** Patches an object (or its status/scale subresource). */
  patch<T extends KubeObject = KubeObject>(
    ref: ObjectRef,
    type: PatchType,
    patch: unknown,
    options?: WriteOptions & { subresource?: WritableSubresource },
  ): Promise<T>;
  /** Deletes an object; returns its last state (with deletionTimestamp when deletion is graceful or waits for finalizers). */
  delete<T extends KubeObject = KubeObject>(ref: ObjectRef, options?: DeleteOptions): Promise<T>;
  /**
   * Binds a pod to a node (the `pods/binding` subresource the scheduler posts): sets
   * `spec.nodeName` and the `PodScheduled=True` condition. 409 Conflict if already bound.
   */
  bind(ref: ObjectRef, nodeName: string, options?: WriteOptions): Promise<KubeObject>;
  /** Reads the scale subresource (`autoscaling/v1 Scale`). */
  getScale(ref: ObjectRef): Promise<KubeObject>;
  /** Writes the scale subresource (`spec.replicas`). */
  updateScale(ref: ObjectRef, scale: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** Watches a collection; events arrive in revision order. */
  watch<T extends KubeObject = KubeObject>(
    ref: CollectionRef,
    options: WatchOptions,
    onEvent: WatchHandler<T>,
    onError?: (status: Status) => void,
  ): WatchHandle;
}

/**
 * The storage interface the API server writes through, modelled on etcd's KV and Watch API so
 * that a real etcd could implement it: one global revision counter bumped by every write; each
 * stored value carries the revision of its last write (its `modRevision`, which becomes
 * `metadata.resourceVersion`); watches start from a revision and see every later change in
 * order; old history is compacted and a watch from before the compaction fails with `Gone`.
 *
 * Keys are `/registry/<resource>/<namespace>/<name>` (see `storageKey` in kinds.ts). Values are
 * Kubernetes objects (plain JSON). The store owns `metadata.resourceVersion`: it sets it on
 * every value it stores and returns, and ignores whatever the caller put there.
 */
import type { KubeObject } from "../types.js";

/** A value as stored: deeply frozen, with `metadata.resourceVersion` set to `String(modRevision)`. */
export interface StoredValue {
  readonly key: string;
  readonly object: Readonly<KubeObject>;
  /** Revision of the write that created this key (etcd `create_revision`). */
  readonly createRevision: number;
  /** Revision of the last write to this key (etcd `mod_revision`). */
  readonly modRevision: number;
}

/** A change, as a watch delivers it. */
export interface StoreEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly key: string;
  /** The new value; for DELETED, the last value with `resourceVersion` set to the deletion revision. */
  readonly object: Readonly<KubeObject>;
  /** Revision of this change. */
  readonly revision: number;
  /** The value before the change (undefined for ADDED). */
  readonly previous?: Readonly<KubeObject>;
}

/** Result of a range read. */
export interface RangeResult {
  readonly items: readonly StoredValue[];
  /** Store revision the read was taken at. */
  readonly revision: number;
}

/** One operation of an atomic transaction. */
export type TxnOp =
  | { readonly op: "create"; readonly key: string; readonly object: KubeObject }
  | { readonly op: "update"; readonly key: string; readonly object: KubeObject; readonly expectedRevision?: number }
  | { readonly op: "delete"; readonly key: string; readonly expectedRevision?: number };

/** Handle of a running watch. */
export interface StoreWatch {
  /** Stops delivery. */
  stop(): void;
}

/** Reasons a store operation fails; the API server maps them to Status errors. */
export type StoreErrorCode =
  | "KeyExists" // create of an existing key -> 409 AlreadyExists
  | "KeyNotFound" // update/delete of a missing key -> 404 NotFound
  | "Conflict" // expectedRevision is stale -> 409 Conflict
  | "Compacted" // watch/read from a compacted revision -> 410 Gone
  | "Closed" // the store is closed -> 503
  | "Locked" // the state directory is held by another process
  | "Corrupt"; // the state directory cannot be read

/** An error from the store, with a stable code. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    readonly key?: string,
    /** For Conflict: the current modRevision. For Compacted: the compacted revision. */
    readonly revision?: number,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

/** Watch options. */
export interface StoreWatchOptions {
  /**
   * Deliver every change with revision strictly greater than this (Kubernetes `resourceVersion`
   * semantics: "changes after X"). 0 or undefined: only changes after the watch starts.
   */
  readonly afterRevision?: number;
  /** Called with each change, in revision order. */
  readonly onEvent: (event: StoreEvent) => void;
  /** Called once if the watch cannot continue (e.g. the store closes). */
  readonly onError?: (err: StoreError) => void;
  /**
   * A pre-filter the watcher guarantees (the kube-apiserver cacher's trigger functions, e.g.
   * pods by `spec.nodeName`): the watcher only wants events whose object or previous object has
   * `index.of(...) === value`, so the store skips the rest without calling `onEvent`. Watchers
   * with one are found through an index instead of being asked about every event.
   */
  readonly trigger?: StoreWatchTrigger;
}

/** A field the store can index watchers by (one shared object per field). */
export interface StoreTriggerIndex {
  /** Name, for diagnostics (`spec.nodeName`). */
  readonly name: string;
  /** The value of the field on a stored object. */
  readonly of: (object: Readonly<KubeObject>) => string;
}

/** The trigger of one watch: the index and the value it wants. */
export interface StoreWatchTrigger {
  readonly index: StoreTriggerIndex;
  readonly value: string;
}

/**
 * etcd-like versioned key-value store.
 *
 * Writes are acknowledged (their promise resolves) only once durable. Watch events for a write
 * are delivered synchronously before the write's promise resolves, so a cache fed by `watch` is
 * up to date when the writer continues.
 */
export interface Store {
  /** Current revision (the revision of the last committed write; 0 for an empty store). */
  readonly revision: number;
  /** Lowest revision a watch may start after; older history is compacted. */
  readonly compactedRevision: number;

  /** Reads one key (undefined when absent). */
  get(key: string): Promise<StoredValue | undefined>;
  /** Reads every key with the prefix, in key order, at the current revision. */
  range(prefix: string): Promise<RangeResult>;

  /** Creates a key; fails with `KeyExists` if present. */
  create(key: string, object: KubeObject): Promise<StoredValue>;
  /** Replaces a key's value; fails with `KeyNotFound`, or `Conflict` when `expectedRevision` is given and stale. */
  update(key: string, object: KubeObject, expectedRevision?: number): Promise<StoredValue>;
  /** Deletes a key and returns its last value; fails with `KeyNotFound` or `Conflict`. */
  delete(key: string, expectedRevision?: number): Promise<StoredValue>;
  /**
   * Applies several operations atomically: all succeed in consecutive revisions, or none is
   * applied and the first failure is thrown.
   */
  txn(ops: readonly TxnOp[]): Promise<StoredValue[]>;

  /** Watches keys with the prefix. Throws `Compacted` when `afterRevision` is older than the compacted revision. */
  watch(prefix: string, options: StoreWatchOptions): StoreWatch;

  /** Discards history up to and including `revision` (etcd compaction). */
  compact(revision: number): Promise<void>;

  /** Flushes and releases the store (and its lock). Pending writes complete first. */
  close(): Promise<void>;
}

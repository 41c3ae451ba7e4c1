/**
 * The engine shared by the durable and the in-memory store: etcd's MVCC rules (one global
 * revision, create/mod revisions per key, a change log for watches, compaction) and group
 * commit, over a small `StoreBackend` that only knows how to read and write rows inside a
 * transaction. SqliteStore and MemoryStore differ only in their backend, so they cannot drift
 * apart in semantics.
 */
import { jsonCopy, jsonCopyReusing } from "../_json.js";
import { deepFreeze } from "../types.js";
import type { KubeObject } from "../types.js";
import { WatchHub } from "./_watch-hub.js";
import type { HistoryReader } from "./_watch-hub.js";
import { StoreError } from "./store.js";
import type { RangeResult, Store, StoreEvent, StoredValue, StoreWatch, StoreWatchOptions, TxnOp } from "./store.js";

/** Options common to every store. */
export interface StoreOptions {
  /**
   * Revisions of history kept for watches (default 100,000). Older history is compacted
   * automatically, so the change log never grows without bound; a watch from before that gets
   * `Compacted` (410 Gone), as with the kube-apiserver's periodic etcd compaction.
   */
  readonly historyLimit?: number;
}

/** Default number of revisions of history kept. */
export const DEFAULT_HISTORY_LIMIT = 100_000;

/** At most this many operations go into one commit, to bound a batch's latency and memory. */
const MAX_BATCH_OPS = 4_096;

/** Compacted log rows deleted per commit: enough to outpace any write rate, small enough to stay quick. */
const PURGE_BATCH = 10_000;

/** The current value of a key as a backend holds it. */
export interface BackendValue {
  readonly createRevision: number;
  readonly modRevision: number;
  /** The value, deeply frozen, with `metadata.resourceVersion` = `String(modRevision)`. */
  readonly object: Readonly<KubeObject>;
  /** The value as JSON text, when the backend stores text (lets it log the previous value without re-encoding). */
  readonly json?: string;
}

/** Persisted counters a backend hands to the engine when it opens. */
export interface BackendState {
  /** Last committed revision. */
  readonly revision: number;
  /** Compacted revision (history up to and including it is discarded). */
  readonly compactedRevision: number;
  /** Highest revision whose log row is already deleted (lags `compactedRevision` while purging). */
  readonly purgedRevision: number;
}

/**
 * Row storage under the engine. Every mutating call happens between `begin` and `commit`
 * (or `rollback`); reads may happen at any time and inside a transaction see its own writes.
 */
export interface StoreBackend {
  /** True when the backend stores JSON text: the engine then hands it the encoded value. */
  readonly storesJson: boolean;
  has(key: string): boolean;
  get(key: string): BackendValue | undefined;
  /** Every key with the prefix, in key order. */
  range(prefix: string): StoredValue[];
  /** Retained history (see `HistoryReader`). */
  readHistory: HistoryReader;
  begin(): void;
  commit(): void;
  /** Abandons the open transaction, if any. */
  rollback(): void;
  savepoint(): void;
  releaseSavepoint(): void;
  rollbackToSavepoint(): void;
  put(key: string, createRevision: number, modRevision: number, object: Readonly<KubeObject>, json: string | undefined): void;
  remove(key: string): void;
  /** Appends a change; `previous` is the value it replaced (MODIFIED, DELETED). */
  appendLog(event: StoreEvent, json: string | undefined, previous: BackendValue | undefined): void;
  saveRevisions(revision: number, compactedRevision: number): void;
  /** Deletes log rows with revision <= `throughRevision`. */
  purgeHistory(throughRevision: number): void;
  close(): void;
  /** Turns a backend failure into the error callers see (e.g. a damaged file into `Corrupt`). */
  translateError(err: unknown): unknown;
}

/** A write operation validated and snapshotted when it was issued. */
interface PreparedOp {
  readonly op: "create" | "update" | "delete";
  readonly key: string;
  /**
   * The caller's object at call time, as JSON text (backends that store text) or as a private
   * JSON copy (`jsonCopy`, the same value without the text; an update's copy takes the stored
   * version's frozen parts where they are equal): later changes by the caller do not leak in.
   */
  readonly snapshot?: string | KubeObject;
  readonly expectedRevision?: number;
}

type Pending =
  | {
      readonly kind: "write";
      readonly ops: readonly PreparedOp[];
      /** A `txn`: all-or-nothing under a savepoint. */
      readonly atomic: boolean;
      readonly resolve: (values: StoredValue[]) => void;
      readonly reject: (err: unknown) => void;
    }
  | { readonly kind: "compact"; readonly revision: number; readonly resolve: () => void; readonly reject: (err: unknown) => void };

type Outcome = { readonly ok: true; readonly values: StoredValue[] } | { readonly ok: false; readonly error: unknown };

/**
 * The Store implementation over a backend. Writes are queued and committed together on the next
 * `setImmediate` (group commit, as etcd batches its backend transactions): one transaction per
 * batch, each operation checked on its own, then COMMIT, then watch events in revision order,
 * then the promises settle.
 */
export abstract class VersionedStore implements Store {
  private committedRevision: number;
  private compacted: number;
  private purged: number;
  private readonly historyLimit: number;
  private readonly hub: WatchHub;
  private queue: Pending[] = [];
  private flushScheduled = false;
  private flushing = false;
  private closing = false;
  private closed = false;
  private closePromise: Promise<void> | undefined;
  private idleWaiters: Array<() => void> = [];

  protected constructor(
    private readonly backend: StoreBackend,
    state: BackendState,
    options: StoreOptions = {},
  ) {
    const limit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(`historyLimit must be a positive integer (got ${String(limit)}); the default is ${DEFAULT_HISTORY_LIMIT}`);
    }
    this.historyLimit = limit;
    this.committedRevision = state.revision;
    this.compacted = state.compactedRevision;
    this.purged = state.purgedRevision;
    this.hub = new WatchHub((prefix, after, through, limit) => {
      try {
        return this.backend.readHistory(prefix, after, through, limit);
      } catch (err) {
        throw this.backend.translateError(err);
      }
    });
    // A store reopened with a smaller history limit, or closed while purging, catches up now.
    if (this.needsMaintenance()) this.scheduleFlush();
  }

  /** Current revision (the revision of the last committed write; 0 for an empty store). */
  get revision(): number {
    return this.committedRevision;
  }

  /** Lowest revision a watch may start after. */
  get compactedRevision(): number {
    return this.compacted;
  }

  /** Reads one key (undefined when absent). */
  async get(key: string): Promise<StoredValue | undefined> {
    this.assertOpen();
    checkKey("get", key);
    let value: BackendValue | undefined;
    try {
      value = this.backend.get(key);
    } catch (err) {
      throw this.backend.translateError(err);
    }
    return value && storedValue(key, value.object, value.createRevision, value.modRevision);
  }

  /** Reads every key with the prefix, in key order, at the current revision. */
  async range(prefix: string): Promise<RangeResult> {
    this.assertOpen();
    if (typeof prefix !== "string") throw new TypeError(`store.range: prefix must be a string (got ${typeof prefix})`);
    // Reads are synchronous and commits happen in one synchronous step, so the items and the
    // revision are always from the same committed state.
    try {
      const items = this.backend.range(prefix);
      return Object.freeze({ items: Object.freeze(items), revision: this.committedRevision });
    } catch (err) {
      throw this.backend.translateError(err);
    }
  }

  /** Creates a key; fails with `KeyExists` if present. */
  create(key: string, object: KubeObject): Promise<StoredValue> {
    return this.enqueueWrite([{ op: "create", key, object }], false, "create").then((values) => values[0]);
  }

  /** Replaces a key's value; fails with `KeyNotFound`, or `Conflict` when `expectedRevision` is stale. */
  update(key: string, object: KubeObject, expectedRevision?: number): Promise<StoredValue> {
    return this.enqueueWrite([{ op: "update", key, object, expectedRevision }], false, "update").then((values) => values[0]);
  }

  /**
   * Deletes a key and returns its last value, with `resourceVersion` and `modRevision` set to the
   * deletion revision (as the kube-apiserver's etcd3 store decodes a deleted object at the
   * delete's revision, `storage/etcd3/store.go` conditionalDelete).
   */
  delete(key: string, expectedRevision?: number): Promise<StoredValue> {
    return this.enqueueWrite([{ op: "delete", key, expectedRevision }], false, "delete").then((values) => values[0]);
  }

  /** Applies several operations atomically in consecutive revisions, or none of them. */
  txn(ops: readonly TxnOp[]): Promise<StoredValue[]> {
    if (!Array.isArray(ops)) return Promise.reject(new TypeError("store.txn: ops must be an array of { op, key, ... }"));
    return this.enqueueWrite(ops, true, "txn");
  }

  /** Watches keys with the prefix; throws `Compacted` when `afterRevision` is older than the compacted revision. */
  watch(prefix: string, options: StoreWatchOptions): StoreWatch {
    this.assertOpen();
    if (typeof prefix !== "string") throw new TypeError(`store.watch: prefix must be a string (got ${typeof prefix})`);
    if (typeof options?.onEvent !== "function") throw new TypeError("store.watch: options.onEvent must be a function");
    const after = options.afterRevision ?? 0;
    if (!Number.isSafeInteger(after) || after < 0) {
      throw new TypeError(`store.watch: afterRevision must be a non-negative integer (got ${String(options.afterRevision)})`);
    }
    if (after > 0 && after < this.compacted) {
      // Wording of the kube-apiserver watch cache (`storage/cacher/watch_cache.go`), which
      // the client sees as 410 Gone / reason Expired and answers by listing again.
      throw new StoreError("Compacted", `too old resource version: ${after} (${this.compacted})`, undefined, this.compacted);
    }
    return this.hub.add(prefix, options, this.committedRevision);
  }

  /**
   * Discards history up to and including `revision` (etcd compaction). Compacting to a revision
   * already compacted does nothing; a revision newer than the store's is refused, as etcd
   * refuses it with "required revision is a future revision".
   */
  compact(revision: number): Promise<void> {
    if (this.closing) return Promise.reject(closedError());
    if (!Number.isSafeInteger(revision) || revision < 0) {
      return Promise.reject(new TypeError(`store.compact: revision must be a non-negative integer (got ${String(revision)})`));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: "compact", revision, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Completes pending writes, ends every watch with `Closed`, and releases the backend (and its lock). */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    this.closePromise = this.whenIdle().then(() => {
      this.closed = true;
      this.hub.closeAll(closedError());
      this.backend.close();
    });
    return this.closePromise;
  }

  private whenIdle(): Promise<void> {
    if (this.queue.length === 0 && !this.flushing) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private assertOpen(): void {
    if (this.closing) throw closedError();
  }

  private enqueueWrite(ops: readonly TxnOp[], atomic: boolean, caller: string): Promise<StoredValue[]> {
    if (this.closing) return Promise.reject(closedError());
    let prepared: PreparedOp[];
    try {
      const asText = this.backend.storesJson;
      prepared = ops.map((op) => prepareOp(op, caller, asText, (key) => this.backend.get(key)?.object));
    } catch (err) {
      return Promise.reject(err);
    }
    if (prepared.length === 0) return Promise.resolve([]);
    return new Promise<StoredValue[]>((resolve, reject) => {
      this.queue.push({ kind: "write", ops: prepared, atomic, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // I/O scheduling, not timekeeping: let every write issued in this turn join the batch.
    setImmediate(() => this.flush());
  }

  private needsMaintenance(): boolean {
    return this.purged < this.compacted || this.committedRevision - this.compacted > this.historyLimit;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const batch = this.takeBatch();
    if (batch.length === 0 && (this.closing || !this.needsMaintenance())) {
      this.notifyIdle();
      return;
    }
    this.flushing = true;
    const backend = this.backend;
    let revision = this.committedRevision;
    let compacted = this.compacted;
    let purged = this.purged;
    const events: StoreEvent[] = [];
    const outcomes: Outcome[] = [];
    try {
      backend.begin();
      for (const item of batch) {
        if (item.kind === "compact") {
          if (item.revision > revision) {
            outcomes.push({
              ok: false,
              error: new RangeError(`store.compact: revision ${item.revision} is in the future (the store is at revision ${revision})`),
            });
          } else {
            if (item.revision > compacted) compacted = item.revision;
            outcomes.push({ ok: true, values: [] });
          }
          continue;
        }
        const start = revision;
        const mark = events.length;
        if (item.atomic) backend.savepoint();
        try {
          const values: StoredValue[] = [];
          for (const op of item.ops) {
            values.push(this.apply(op, revision + 1, events));
            revision++;
          }
          if (item.atomic) backend.releaseSavepoint();
          outcomes.push({ ok: true, values });
        } catch (err) {
          // A store rule refused the operation: only this item fails. Anything else (I/O,
          // a damaged file) aborts the whole batch below.
          if (!(err instanceof StoreError)) throw err;
          if (item.atomic) backend.rollbackToSavepoint();
          revision = start;
          events.length = mark;
          outcomes.push({ ok: false, error: err });
        }
      }
      if (revision - compacted > this.historyLimit) compacted = revision - this.historyLimit;
      if (purged < compacted) {
        purged = Math.min(compacted, purged + PURGE_BATCH);
        backend.purgeHistory(purged);
      }
      if (revision !== this.committedRevision || compacted !== this.compacted) backend.saveRevisions(revision, compacted);
      backend.commit();
    } catch (err) {
      // Nothing of the batch is durable: reject every operation and keep the old counters.
      try {
        backend.rollback();
      } catch {
        // The transaction is already gone (SQLite rolls back by itself on some errors).
      }
      this.flushing = false;
      const error = backend.translateError(err);
      for (const item of batch) item.reject(error);
      this.afterFlush();
      return;
    }
    this.committedRevision = revision;
    this.compacted = compacted;
    this.purged = purged;
    this.flushing = false;
    this.hub.emit(events);
    batch.forEach((item, i) => {
      const outcome = outcomes[i];
      if (!outcome.ok) item.reject(outcome.error);
      else if (item.kind === "compact") item.resolve();
      else item.resolve(outcome.values);
    });
    this.afterFlush();
  }

  private takeBatch(): Pending[] {
    let ops = 0;
    let count = 0;
    while (count < this.queue.length && ops < MAX_BATCH_OPS) {
      const item = this.queue[count];
      ops += item.kind === "write" ? item.ops.length : 1;
      count++;
    }
    if (count === this.queue.length) {
      const all = this.queue;
      this.queue = [];
      return all;
    }
    return this.queue.splice(0, count);
  }

  private afterFlush(): void {
    if (this.queue.length > 0 || (!this.closing && this.needsMaintenance())) this.scheduleFlush();
    if (this.queue.length === 0) this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.flushing || this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Applies one operation at `revision`; checks every rule before writing, so a refusal writes nothing. */
  private apply(op: PreparedOp, revision: number, events: StoreEvent[]): StoredValue {
    const backend = this.backend;
    if (op.op === "create") {
      if (backend.has(op.key)) throw new StoreError("KeyExists", `key "${op.key}" already exists`, op.key);
      const { object, json } = this.materialize(op.snapshot!, revision);
      backend.put(op.key, revision, revision, object, json);
      const event: StoreEvent = Object.freeze({ type: "ADDED", key: op.key, object, revision });
      backend.appendLog(event, json, undefined);
      events.push(event);
      return storedValue(op.key, object, revision, revision);
    }
    const current = backend.get(op.key);
    if (!current) throw new StoreError("KeyNotFound", `key "${op.key}" not found`, op.key);
    if (op.expectedRevision !== undefined && op.expectedRevision !== current.modRevision) {
      throw new StoreError(
        "Conflict",
        `key "${op.key}" was modified at revision ${current.modRevision}, not at the expected revision ${op.expectedRevision}`,
        op.key,
        current.modRevision,
      );
    }
    if (op.op === "update") {
      const { object, json } = this.materialize(op.snapshot!, revision);
      backend.put(op.key, current.createRevision, revision, object, json);
      const event: StoreEvent = Object.freeze({ type: "MODIFIED", key: op.key, object, revision, previous: current.object });
      backend.appendLog(event, json, current);
      events.push(event);
      return storedValue(op.key, object, current.createRevision, revision);
    }
    backend.remove(op.key);
    const object = atRevision(current.object, revision);
    const event: StoreEvent = Object.freeze({ type: "DELETED", key: op.key, object, revision, previous: current.object });
    backend.appendLog(event, undefined, current);
    events.push(event);
    return storedValue(op.key, object, current.createRevision, revision);
  }

  private materialize(snapshot: string | KubeObject, revision: number): { object: Readonly<KubeObject>; json: string | undefined } {
    // A copy is used once (an operation is applied at most once), so it can become the stored value.
    const object = typeof snapshot === "string" ? (JSON.parse(snapshot) as KubeObject) : snapshot;
    object.metadata.resourceVersion = String(revision);
    const json = this.backend.storesJson ? JSON.stringify(object) : undefined;
    return { object: deepFreeze(object), json };
  }
}

function closedError(): StoreError {
  return new StoreError("Closed", "the store is closed");
}

function checkKey(caller: string, key: unknown): asserts key is string {
  if (typeof key !== "string" || key.length === 0) {
    throw new TypeError(`store.${caller}: key must be a non-empty string such as "/registry/pods/default/web" (got ${JSON.stringify(key)})`);
  }
}

/** Validates an operation and snapshots its object, so bad input fails the call and not the batch. */
function prepareOp(op: TxnOp, caller: string, asText: boolean, stored: (key: string) => Readonly<KubeObject> | undefined): PreparedOp {
  if (op === null || typeof op !== "object") throw new TypeError(`store.${caller}: each operation must be an object { op, key, ... }`);
  if (op.op !== "create" && op.op !== "update" && op.op !== "delete") {
    throw new TypeError(`store.${caller}: op must be "create", "update" or "delete" (got ${JSON.stringify((op as { op?: unknown }).op)})`);
  }
  checkKey(caller, op.key);
  let expectedRevision: number | undefined;
  if (op.op !== "create" && op.expectedRevision !== undefined) {
    if (!Number.isSafeInteger(op.expectedRevision) || op.expectedRevision < 0) {
      throw new TypeError(`store.${caller}: expectedRevision of "${op.key}" must be a non-negative integer (got ${String(op.expectedRevision)})`);
    }
    expectedRevision = op.expectedRevision;
  }
  if (op.op === "delete") return { op: "delete", key: op.key, expectedRevision };
  const object = op.object;
  if (object === null || typeof object !== "object" || Array.isArray(object)) {
    throw new TypeError(`store.${caller}: the object for "${op.key}" must be a JSON object`);
  }
  const metadata = object.metadata;
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`store.${caller}: the object for "${op.key}" needs a metadata object (metadata: { name: ... })`);
  }
  let snapshot: string | KubeObject;
  try {
    // An update shares what it leaves unchanged with the stored version (frozen, so safe to share).
    snapshot = asText ? JSON.stringify(object) : op.op === "update" ? jsonCopyReusing(object, stored(op.key)) : jsonCopy(object);
  } catch (err) {
    throw new TypeError(`store.${caller}: the object for "${op.key}" is not JSON-serializable: ${(err as Error).message}`);
  }
  return { op: op.op, key: op.key, snapshot, expectedRevision };
}

/** A stored value record, frozen. */
export function storedValue(key: string, object: Readonly<KubeObject>, createRevision: number, modRevision: number): StoredValue {
  return Object.freeze({ key, object, createRevision, modRevision });
}

/** The same frozen object with `metadata.resourceVersion` set to `revision` (shares the frozen parts). */
export function atRevision(object: Readonly<KubeObject>, revision: number): Readonly<KubeObject> {
  return Object.freeze({ ...object, metadata: Object.freeze({ ...object.metadata, resourceVersion: String(revision) }) });
}

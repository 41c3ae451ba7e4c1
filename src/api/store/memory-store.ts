/**
 * The in-memory store, for tests and `kubelings sim`: the same engine as the durable store
 * (revisions, group commit, watches, compaction; see `_versioned-store.ts`) over maps and an
 * array log instead of SQLite tables. Nothing survives the process.
 */
import type { KubeObject } from "../types.js";
import { storedValue, VersionedStore } from "./_versioned-store.js";
import type { BackendValue, StoreBackend, StoreOptions } from "./_versioned-store.js";
import type { StoredValue, StoreEvent } from "./store.js";

/**
 * Maps and an array log with an undo journal, so that a failed `txn` (savepoint) or a failed
 * batch rolls back exactly as a SQLite transaction would.
 */
class MemoryBackend implements StoreBackend {
  readonly storesJson = false;
  private readonly values = new Map<string, BackendValue>();
  /** Keys in order, rebuilt lazily after a create or delete (updates keep the key set). */
  private sortedKeys: string[] | undefined;
  /** Retained history; revisions are consecutive, `log[i].revision === firstLogRevision + i`. */
  private log: StoreEvent[] = [];
  private firstLogRevision = 1;
  /** Undo actions of the open transaction, newest last. */
  private undo: Array<() => void> | undefined;
  /** Undo journal lengths at each open savepoint. */
  private savepoints: number[] = [];

  has(key: string): boolean {
    return this.values.has(key);
  }

  get(key: string): BackendValue | undefined {
    return this.values.get(key);
  }

  range(prefix: string): StoredValue[] {
    const keys = this.keysInOrder();
    const items: StoredValue[] = [];
    for (let i = lowerBound(keys, prefix); i < keys.length && keys[i].startsWith(prefix); i++) {
      const value = this.values.get(keys[i])!;
      items.push(storedValue(keys[i], value.object, value.createRevision, value.modRevision));
    }
    return items;
  }

  readonly readHistory = (prefix: string, afterRevision: number, throughRevision: number, limit: number): StoreEvent[] => {
    const out: StoreEvent[] = [];
    const start = Math.max(0, afterRevision + 1 - this.firstLogRevision);
    const end = Math.min(this.log.length, throughRevision + 1 - this.firstLogRevision);
    for (let i = start; i < end && out.length < limit; i++) {
      if (this.log[i].key.startsWith(prefix)) out.push(this.log[i]);
    }
    return out;
  };

  begin(): void {
    this.undo = [];
    this.savepoints = [];
  }

  commit(): void {
    this.undo = undefined;
    this.savepoints = [];
  }

  rollback(): void {
    if (this.undo) this.undoTo(0);
    this.undo = undefined;
    this.savepoints = [];
  }

  savepoint(): void {
    this.savepoints.push(this.journal().length);
  }

  releaseSavepoint(): void {
    this.savepoints.pop();
  }

  rollbackToSavepoint(): void {
    const mark = this.savepoints.pop();
    if (mark !== undefined) this.undoTo(mark);
  }

  put(key: string, createRevision: number, modRevision: number, object: Readonly<KubeObject>): void {
    const before = this.values.get(key);
    this.values.set(key, { createRevision, modRevision, object });
    if (!before) this.sortedKeys = undefined;
    this.journal().push(() => {
      if (before) this.values.set(key, before);
      else {
        this.values.delete(key);
        this.sortedKeys = undefined;
      }
    });
  }

  remove(key: string): void {
    const before = this.values.get(key);
    if (!before) return;
    this.values.delete(key);
    this.sortedKeys = undefined;
    this.journal().push(() => {
      this.values.set(key, before);
      this.sortedKeys = undefined;
    });
  }

  appendLog(event: StoreEvent): void {
    if (this.log.length === 0) this.firstLogRevision = event.revision;
    this.log.push(event);
    this.journal().push(() => {
      this.log.pop();
    });
  }

  saveRevisions(): void {
    // The engine keeps the counters; nothing outlives the process.
  }

  purgeHistory(throughRevision: number): void {
    const count = Math.min(this.log.length, throughRevision + 1 - this.firstLogRevision);
    if (count <= 0) return;
    const removed = this.log.splice(0, count);
    const firstBefore = this.firstLogRevision;
    this.firstLogRevision += count;
    this.journal().push(() => {
      this.log = removed.concat(this.log);
      this.firstLogRevision = firstBefore;
    });
  }

  close(): void {
    this.values.clear();
    this.log = [];
    this.sortedKeys = undefined;
  }

  translateError(err: unknown): unknown {
    return err;
  }

  private journal(): Array<() => void> {
    if (!this.undo) throw new Error("MemoryBackend: write outside a transaction (engine bug)");
    return this.undo;
  }

  private undoTo(mark: number): void {
    const journal = this.journal();
    while (journal.length > mark) journal.pop()!();
  }

  private keysInOrder(): string[] {
    // Kubernetes names are ASCII, where JavaScript's code-unit order equals SQLite's byte order.
    this.sortedKeys ??= [...this.values.keys()].sort();
    return this.sortedKeys;
  }
}

/** First index in sorted `keys` whose key is >= `prefix`. */
function lowerBound(keys: readonly string[], prefix: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * An etcd-like store held in memory, with exactly the semantics of `SqliteStore` (shared
 * engine) but no durability: for tests and the virtual-clock simulator.
 */
export class MemoryStore extends VersionedStore {
  constructor(options: StoreOptions = {}) {
    super(new MemoryBackend(), { revision: 0, compactedRevision: 0, purgedRevision: 0 }, options);
  }
}

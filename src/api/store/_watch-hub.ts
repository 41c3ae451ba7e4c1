/**
 * Watch fan-out shared by every store implementation: replays retained history from a revision,
 * then hands over to live delivery with no gap and no duplicate, the way an etcd watcher catches
 * up on old revisions before joining the synced watcher group (etcd `mvcc/watchable_store.go`).
 */
import { StoreError } from "./store.js";
import type { StoreEvent, StoreWatch, StoreWatchOptions } from "./store.js";

/**
 * Reads retained history: the events on keys with `prefix` whose revision is in
 * `(afterRevision, throughRevision]`, oldest first, at most `limit` of them.
 */
export type HistoryReader = (prefix: string, afterRevision: number, throughRevision: number, limit: number) => readonly StoreEvent[];

/** Replay reads history in pages so a long catch-up never holds a large result in memory. */
const REPLAY_PAGE = 512;

interface Watcher {
  readonly prefix: string;
  readonly onEvent: (event: StoreEvent) => void;
  readonly onError?: (err: StoreError) => void;
  /** Highest revision delivered to this watcher or deliberately skipped (already covered). */
  delivered: number;
  /** Live events held back while the replay runs; undefined once the watcher is live. */
  backlog: StoreEvent[] | undefined;
  stopped: boolean;
}

/**
 * The set of running watches of one store. The store calls `emit` once per committed batch,
 * after COMMIT, with the batch's events in revision order.
 */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly readHistory: HistoryReader) {}

  /**
   * Starts a watch. The caller has checked that the store is open and that `afterRevision` is
   * not compacted; `currentRevision` is the last committed revision.
   *
   * History is replayed on a microtask rather than inside this call, so `onEvent` never runs
   * before the caller holds the handle. Commits run on a later macrotask (the store flushes on
   * `setImmediate`), so the replay always completes before the next batch is emitted; events of a
   * batch still being emitted when the watch starts are already in the replayed range and are
   * skipped by revision.
   */
  add(prefix: string, options: StoreWatchOptions, currentRevision: number): StoreWatch {
    const after = options.afterRevision ?? 0;
    const watcher: Watcher = {
      prefix,
      onEvent: options.onEvent,
      onError: options.onError,
      // 0 means "from now on" (Kubernetes resourceVersion "0"/unset on a store watch).
      delivered: after > 0 ? after : currentRevision,
      backlog: undefined,
      stopped: false,
    };
    if (after > 0 && after < currentRevision) {
      watcher.backlog = [];
      queueMicrotask(() => this.replay(watcher, currentRevision));
    }
    this.watchers.add(watcher);
    return {
      stop: () => {
        watcher.stopped = true;
        watcher.backlog = undefined;
        this.watchers.delete(watcher);
      },
    };
  }

  /** Delivers committed events, in revision order, to every live watcher whose prefix matches. */
  emit(events: readonly StoreEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const event of events) {
      for (const watcher of this.watchers) {
        if (watcher.stopped || !event.key.startsWith(watcher.prefix)) continue;
        if (watcher.backlog) {
          watcher.backlog.push(event);
          continue;
        }
        if (event.revision <= watcher.delivered) continue;
        watcher.delivered = event.revision;
        this.deliver(watcher, event);
      }
    }
  }

  /** Ends every watch with `err` (the store is closing). */
  closeAll(err: StoreError): void {
    const all = [...this.watchers];
    this.watchers.clear();
    for (const watcher of all) {
      if (watcher.stopped) continue;
      watcher.stopped = true;
      watcher.backlog = undefined;
      this.fail(watcher, err);
    }
  }

  private replay(watcher: Watcher, through: number): void {
    let after = watcher.delivered;
    while (!watcher.stopped) {
      let page: readonly StoreEvent[];
      try {
        page = this.readHistory(watcher.prefix, after, through, REPLAY_PAGE);
      } catch (err) {
        this.watchers.delete(watcher);
        watcher.stopped = true;
        const error = err instanceof StoreError ? err : new StoreError("Corrupt", `watch replay failed: ${String(err)}`);
        // Nobody to tell: surface the failure rather than leave the watch silently stalled.
        if (!watcher.onError) rethrowLater(error);
        else this.fail(watcher, error);
        return;
      }
      for (const event of page) {
        if (watcher.stopped) return;
        watcher.delivered = event.revision;
        this.deliver(watcher, event);
      }
      if (page.length < REPLAY_PAGE) break;
      after = page[page.length - 1].revision;
    }
    if (watcher.stopped) return;
    // Everything up to `through` is covered now, even revisions on other prefixes.
    if (watcher.delivered < through) watcher.delivered = through;
    const backlog = watcher.backlog ?? [];
    watcher.backlog = undefined;
    for (const event of backlog) {
      if (watcher.stopped) return;
      if (event.revision <= watcher.delivered) continue;
      watcher.delivered = event.revision;
      this.deliver(watcher, event);
    }
  }

  /**
   * Calls the watcher. A throwing callback is a bug in the consumer: it must not undo a commit
   * that is already durable nor starve the other watchers, so the watch is stopped and the error
   * is rethrown on a microtask, where it surfaces as an uncaught exception (as an EventEmitter
   * listener's would).
   */
  private deliver(watcher: Watcher, event: StoreEvent): void {
    try {
      watcher.onEvent(event);
    } catch (err) {
      watcher.stopped = true;
      watcher.backlog = undefined;
      this.watchers.delete(watcher);
      rethrowLater(err);
    }
  }

  private fail(watcher: Watcher, err: StoreError): void {
    if (!watcher.onError) return;
    try {
      watcher.onError(err);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }
}

/** Throws `err` on a microtask, where it surfaces as an uncaught exception instead of unwinding the store's commit path. */
function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

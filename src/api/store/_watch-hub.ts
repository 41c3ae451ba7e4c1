/**
 * Watch fan-out shared by every store implementation: replays retained history from a revision,
 * then hands over to live delivery with no gap and no duplicate, the way an etcd watcher catches
 * up on old revisions before joining the synced watcher group (etcd `mvcc/watchable_store.go`).
 */
import { StoreError } from "./store.js";
import type { StoreEvent, StoreTriggerIndex, StoreWatch, StoreWatchOptions, StoreWatchTrigger } from "./store.js";

/**
 * Reads retained history: the events on keys with `prefix` whose revision is in
 * `(afterRevision, throughRevision]`, oldest first, at most `limit` of them.
 */
export type HistoryReader = (prefix: string, afterRevision: number, throughRevision: number, limit: number) => readonly StoreEvent[];

/** Replay reads history in pages so a long catch-up never holds a large result in memory. */
const REPLAY_PAGE = 512;

interface Watcher {
  /** Order the watch was started in: every event reaches its watchers in this order. */
  readonly seq: number;
  readonly prefix: string;
  readonly trigger: StoreWatchTrigger | undefined;
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
  /** Watchers without a trigger, asked about every event, in start order. */
  private readonly plain = new Set<Watcher>();
  /** Watchers with a trigger, by index and wanted value (the cacher's `triggerWatchers`). */
  private readonly indexed = new Map<StoreTriggerIndex, Map<string, Set<Watcher>>>();
  private seq = 0;

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
      seq: this.seq++,
      prefix,
      trigger: options.trigger,
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
    const trigger = watcher.trigger;
    if (!trigger) this.plain.add(watcher);
    else {
      let byValue = this.indexed.get(trigger.index);
      if (!byValue) this.indexed.set(trigger.index, (byValue = new Map()));
      let set = byValue.get(trigger.value);
      if (!set) byValue.set(trigger.value, (set = new Set()));
      set.add(watcher);
    }
    return {
      stop: () => {
        watcher.stopped = true;
        watcher.backlog = undefined;
        this.remove(watcher);
      },
    };
  }

  private remove(watcher: Watcher): void {
    this.watchers.delete(watcher);
    const trigger = watcher.trigger;
    if (!trigger) {
      this.plain.delete(watcher);
      return;
    }
    const byValue = this.indexed.get(trigger.index);
    const set = byValue?.get(trigger.value);
    if (!byValue || !set) return;
    set.delete(watcher);
    if (set.size === 0) byValue.delete(trigger.value);
    if (byValue.size === 0) this.indexed.delete(trigger.index);
  }

  /**
   * Delivers committed events, in revision order, to every live watcher whose prefix matches
   * (and whose trigger, if any, the event's object or previous object meets), each event to its
   * watchers in the order they started.
   */
  emit(events: readonly StoreEvent[]): void {
    if (this.watchers.size === 0) return;
    for (const event of events) {
      const triggered = this.indexed.size > 0 ? this.triggered(event) : undefined;
      if (!triggered) {
        for (const watcher of this.plain) this.offer(watcher, event);
        continue;
      }
      // Merge the few triggered watchers into the plain ones by start order.
      let i = 0;
      for (const watcher of this.plain) {
        while (i < triggered.length && triggered[i].seq < watcher.seq) this.offer(triggered[i++], event);
        this.offer(watcher, event);
      }
      while (i < triggered.length) this.offer(triggered[i++], event);
    }
  }

  /** Watchers with a trigger that the event meets (by its object or previous object), in start order. */
  private triggered(event: StoreEvent): Watcher[] | undefined {
    let out: Watcher[] | undefined;
    for (const [index, byValue] of this.indexed) {
      const now = index.of(event.object);
      const sets = [byValue.get(now)];
      if (event.previous) {
        const before = index.of(event.previous);
        if (before !== now) sets.push(byValue.get(before));
      }
      for (const set of sets) {
        if (!set) continue;
        out ??= [];
        for (const watcher of set) out.push(watcher);
      }
    }
    if (out && out.length > 1) out.sort((a, b) => a.seq - b.seq);
    return out;
  }

  private offer(watcher: Watcher, event: StoreEvent): void {
    if (watcher.stopped || !event.key.startsWith(watcher.prefix)) return;
    if (watcher.backlog) {
      watcher.backlog.push(event);
      return;
    }
    if (event.revision <= watcher.delivered) return;
    watcher.delivered = event.revision;
    this.deliver(watcher, event);
  }

  /** Ends every watch with `err` (the store is closing). */
  closeAll(err: StoreError): void {
    const all = [...this.watchers];
    this.watchers.clear();
    this.plain.clear();
    this.indexed.clear();
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
        this.remove(watcher);
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
      this.remove(watcher);
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

/**
 * A rate-limited work queue of keys, as client-go's `util/workqueue` used by every
 * kube-controller-manager controller (kubernetes/sample-controller pattern): watch events add
 * `namespace/name` keys; a key is never processed by two workers at once; a key added again while
 * it is being processed is processed once more afterwards; failures are retried with per-item
 * exponential back-off (`ItemExponentialFailureRateLimiter`, 5 ms doubling to 1000 s) and
 * `forget` resets it. Delays run on the injected clock.
 */
import type { Clock, Timer } from "../api/clock.js";

/** Sync function: converge the object behind `key`. Throw to retry with back-off. */
export type SyncFn = (key: string) => Promise<void>;

/** Options of a queue. */
export interface WorkQueueOptions {
  /** Number of keys processed concurrently (controllers' `--concurrent-*-syncs`). */
  readonly workers?: number;
  /** First retry delay (client-go default 5 ms). */
  readonly baseDelayMs?: number;
  /** Longest retry delay (client-go default 1000 s). */
  readonly maxDelayMs?: number;
  /** Called with each failure (after which the key is retried). */
  readonly onError?: (key: string, err: unknown) => void;
}

/** A de-duplicating, rate-limited queue of keys with workers. */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirtyWhileProcessing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { at: number; timer: Timer }>();
  private active = 0;
  private shuttingDown = false;
  private idleWaiters: Array<() => void> = [];
  private readonly workers: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly sync: SyncFn,
    private readonly options: WorkQueueOptions = {},
  ) {
    this.workers = options.workers ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 1_000_000;
  }

  /** Adds a key now. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirtyWhileProcessing.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Adds a key after `ms` of clock time; a key already waiting keeps the earlier of its two times. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    // client-go's delaying queue keeps the earliest ready time of a key waiting twice.
    const at = this.clock.now() + ms;
    const waiting = this.delayed.get(key);
    if (waiting && waiting.at <= at) return;
    waiting?.timer.cancel();
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a key after its back-off delay and counts a failure. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n));
  }

  /** Clears a key's failure count (call after a successful sync). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Number of failures recorded for a key. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Number of keys waiting or being processed. */
  get length(): number {
    return this.queue.length + this.processing.size;
  }

  /** Resolves when no key is queued or being processed (delayed keys do not count). */
  idle(): Promise<void> {
    if (this.queue.length === 0 && this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops accepting keys and cancels delayed ones. Keys being processed finish. */
  shutdown(): void {
    this.shuttingDown = true;
    for (const t of this.delayed.values()) t.timer.cancel();
    this.delayed.clear();
    this.queue.length = 0;
    this.queued.clear();
  }

  private pump(): void {
    while (this.active < this.workers && this.queue.length > 0) {
      const key = this.queue.shift()!;
      this.queued.delete(key);
      this.processing.add(key);
      this.active++;
      void this.run(key);
    }
    if (this.queue.length === 0 && this.active === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.sync(key);
      this.forget(key);
    } catch (err) {
      this.options.onError?.(key, err);
      if (!this.shuttingDown) this.addRateLimited(key);
    } finally {
      this.processing.delete(key);
      this.active--;
      if (this.dirtyWhileProcessing.delete(key)) this.add(key);
      this.pump();
    }
  }
}

/**
 * The node lifecycle controller's per-zone eviction queue (`RateLimitedTimedQueue` in upstream
 * `pkg/controller/nodelifecycle/scheduler/rate_limited_queue.go`): a queue of node names ordered by
 * `processAt`, each processed no earlier than its `processAt` and only when the zone's token bucket
 * (`--node-eviction-rate`, burst 1) grants a token. Upstream polls it every 100 ms
 * (`NodeEvictionPeriod`); here the queue wakes itself on the clock when the next item can run,
 * which gives the same order and the same times without a 100 ms timer running forever.
 */
import type { Clock, Timer } from "../../api/clock.js";

/** `NodeEvictionPeriod`: how often upstream tries the queue. */
export const NODE_EVICTION_PERIOD_MS = 100;
/** `EvictionRateLimiterBurst`. */
export const EVICTION_RATE_LIMITER_BURST = 1;

/** An item of the queue (`TimedValue`). */
export interface TimedValue {
  readonly value: string;
  readonly uid: string;
  readonly addedAt: number;
  processAt: number;
}

/** A token bucket (`flowcontrol.NewTokenBucketRateLimiter`); qps 0 never grants a token (`NewFakeNeverRateLimiter`). */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    readonly qps: number,
    private readonly burst = EVICTION_RATE_LIMITER_BURST,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    if (this.qps > 0) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
  }

  /** Takes a token if one is available. */
  tryAccept(): boolean {
    if (this.qps <= 0) return false;
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Milliseconds until a token is available (Infinity when qps is 0). */
  msUntilToken(): number {
    if (this.qps <= 0) return Number.POSITIVE_INFINITY;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.qps) * 1000);
  }
}

/** What processing an item says: done, or retry after `retryMs`. */
export type ActionResult = { readonly done: true } | { readonly done: false; readonly retryMs: number };

/** A rate-limited queue of node names. */
export class RateLimitedTimedQueue {
  private readonly items: TimedValue[] = [];
  /**
   * Every node added and not `remove`d (`UniqueQueue.set`): a node processed successfully leaves
   * the queue but stays here, so it is not queued again until `remove` (the node became
   * reachable, or its taint disappeared).
   */
  private readonly members = new Set<string>();
  private limiter: TokenBucket;
  private timer: Timer | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    qps: number,
    private readonly action: (item: TimedValue) => Promise<ActionResult>,
  ) {
    this.limiter = new TokenBucket(clock, qps);
  }

  /** Current rate. */
  get qps(): number {
    return this.limiter.qps;
  }

  /** Adds a node unless it was added before and not removed since (`UniqueQueue.Add`). */
  add(value: string, uid: string): boolean {
    if (this.members.has(value)) return false;
    this.members.add(value);
    const now = this.clock.now();
    this.items.push({ value, uid, addedAt: now, processAt: now });
    this.schedule(NODE_EVICTION_PERIOD_MS);
    return true;
  }

  /** Removes a node, so that it may be added again (`Remove`). Returns false when it was not there. */
  remove(value: string): boolean {
    const i = this.items.findIndex((x) => x.value === value);
    if (i >= 0) this.items.splice(i, 1);
    return this.members.delete(value);
  }

  /** Number of queued nodes. */
  get length(): number {
    return this.items.length;
  }

  /**
   * `SwapLimiter`: a new rate (0 stops evictions). With burst 1, a limiter that had no token
   * left hands over an empty new one, so a swap never lets an extra node through.
   */
  swapLimiter(qps: number): void {
    if (this.limiter.qps === qps) return;
    const next = new TokenBucket(this.clock, qps);
    if (qps > 0 && !this.limiter.tryAccept()) next.tryAccept();
    this.limiter = next;
    this.schedule(NODE_EVICTION_PERIOD_MS);
  }

  /** Stops waking up. */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** The item due first (the queue is a heap on `processAt`; ties keep insertion order). */
  private head(): TimedValue | undefined {
    let best: TimedValue | undefined;
    for (const i of this.items) if (!best || i.processAt < best.processAt) best = i;
    return best;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.items.length === 0 || !Number.isFinite(delayMs)) return;
    // Round up to the 100 ms tick upstream polls on.
    const delay = Math.max(NODE_EVICTION_PERIOD_MS, Math.ceil(delayMs / NODE_EVICTION_PERIOD_MS) * NODE_EVICTION_PERIOD_MS);
    this.timer?.cancel();
    this.timer = this.clock.setTimeout(() => void this.tryAll(), delay);
  }

  /** `Try`: process items from the head while tokens allow and they are due. */
  private async tryAll(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      for (;;) {
        const head = this.head();
        if (!head) break;
        if (!this.limiter.tryAccept()) break;
        const now = this.clock.now();
        if (now < head.processAt) break;
        const result = await this.action(head);
        const i = this.items.indexOf(head);
        if (i < 0) continue;
        // RemoveFromQueue: out of the queue, still in the set.
        if (result.done) this.items.splice(i, 1);
        else {
          // Replace: the item keeps its place, due again after the wait.
          head.processAt = this.clock.now() + result.retryMs + 1;
        }
      }
    } finally {
      this.running = false;
    }
    const head = this.head();
    if (head) this.schedule(Math.max(this.limiter.msUntilToken(), head.processAt - this.clock.now()));
  }
}

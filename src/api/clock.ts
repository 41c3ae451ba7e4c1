/**
 * Time for every component. Nothing else in kubelings calls `Date.now()`, `setTimeout` or
 * `setInterval`: components take a `Clock`, so the same code runs on real time (optionally
 * sped up) and on a virtual clock that jumps to the next timer (tests, `kubelings sim`).
 *
 * The clock lives in `api` because both `cluster` and `gitops` need it and neither may import
 * the other (DESIGN.md, dependency direction).
 */

/** A cancellable timer handle. */
export interface Timer {
  /** Cancels the timer; harmless if it already fired. */
  cancel(): void;
}

/** Time source and timers. */
export interface Clock {
  /** Milliseconds since the Unix epoch, on this clock. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds of this clock's time. */
  setTimeout(fn: () => void, ms: number): Timer;
  /** Runs `fn` every `ms` milliseconds of this clock's time. */
  setInterval(fn: () => void, ms: number): Timer;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** RFC 3339 timestamp with second precision, as Kubernetes writes `metav1.Time`. */
export function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** RFC 3339 timestamp with microseconds, as Kubernetes writes `metav1.MicroTime` (Events, Leases). */
export function rfc3339Micro(ms: number): string {
  const iso = new Date(Math.floor(ms)).toISOString(); // 2024-01-01T00:00:00.123Z
  return iso.replace(/\.(\d{3})Z$/, (_, frac: string) => `.${frac}000Z`);
}

/** Parses an RFC 3339 timestamp to epoch milliseconds (NaN when absent or invalid). */
export function parseTime(value: string | undefined): number {
  return value ? Date.parse(value) : Number.NaN;
}

/**
 * Real time, optionally sped up: with `speed` 10, one second of clock time passes in 100 ms of
 * wall time, and `now()` advances ten times as fast from the moment the clock was made.
 */
export class RealClock implements Clock {
  private readonly startWall: number;
  private readonly startClock: number;

  constructor(readonly speed = 1) {
    if (!(speed > 0)) throw new Error(`clock speed must be a positive number, got ${speed}`);
    this.startWall = Date.now();
    this.startClock = this.startWall;
  }

  now(): number {
    return this.startClock + (Date.now() - this.startWall) * this.speed;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const handle = setTimeout(fn, Math.max(0, ms / this.speed));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  }

  setInterval(fn: () => void, ms: number): Timer {
    const handle = setInterval(fn, Math.max(1, ms / this.speed));
    handle.unref?.();
    return { cancel: () => clearInterval(handle) };
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // Not unref'd: a sleeping caller keeps the process alive, like a plain setTimeout would.
      setTimeout(resolve, Math.max(0, ms / this.speed));
    });
  }
}

interface PendingTimer {
  readonly id: number;
  at: number;
  readonly fn: () => void;
  readonly interval: number | undefined;
  cancelled: boolean;
  /** True while the timer sits in the queue (a one-shot timer leaves it when it fires). */
  queued: boolean;
}

/** Firing order: earlier time first, then the order the timers were set (ids only grow). */
function firesBefore(a: PendingTimer, b: PendingTimer): boolean {
  return a.at < b.at || (a.at === b.at && a.id < b.id);
}

/**
 * A binary min-heap of timers in firing order. Cancelled timers stay in it until they reach
 * the top (lazy deletion): a cancel is O(1) and the heap never needs searching, so a cluster
 * with thousands of pending timers pays O(log n) per timer instead of a scan.
 */
class TimerHeap {
  private readonly items: PendingTimer[] = [];

  get size(): number {
    return this.items.length;
  }

  push(timer: PendingTimer): void {
    const items = this.items;
    let i = items.length;
    items.push(timer);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!firesBefore(timer, items[parent])) break;
      items[i] = items[parent];
      i = parent;
    }
    items[i] = timer;
  }

  peek(): PendingTimer | undefined {
    return this.items[0];
  }

  /** Drops every timer `keep` refuses and restores the heap order (Floyd's bottom-up build). */
  retain(keep: (timer: PendingTimer) => boolean): void {
    const kept = this.items.filter(keep);
    this.items.length = 0;
    for (const t of kept) this.items.push(t);
    for (let i = (kept.length >> 1) - 1; i >= 0; i--) this.siftDown(i, this.items[i]);
  }

  pop(): PendingTimer | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) this.siftDown(0, last);
    return top;
  }

  /** Places `timer` at index `i` or below, moving earlier children up. */
  private siftDown(i: number, timer: PendingTimer): void {
    const items = this.items;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && firesBefore(items[right], items[left]) ? right : left;
      if (!firesBefore(items[child], timer)) break;
      items[i] = items[child];
      i = child;
    }
    items[i] = timer;
  }
}

/**
 * A virtual clock: time stands still until `advance`/`runUntil`/`runFor` moves it, and then
 * jumps straight to each due timer in order (ties fire in the order they were set). Between
 * timers it lets pending promise work settle, so async controllers run as they would in real
 * time, only without waiting. Deterministic: the same timers give the same order every time.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new TimerHeap();
  /** Timers queued and not cancelled. */
  private live = 0;

  /** @param start epoch milliseconds the clock starts at (default 2024-01-01T00:00:00Z, fixed for reproducible output). */
  constructor(start = Date.UTC(2024, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.add(resolve, ms, undefined));
  }

  /** Number of timers still waiting. */
  get pending(): number {
    return this.live;
  }

  /** Epoch ms of the next timer, or undefined when none is set. */
  nextAt(): number | undefined {
    return this.head()?.at;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.current + ms);
  }

  /** Alias of `advance`, reads better in scenario code: `await clock.runFor(5 * MINUTE)`. */
  runFor(ms: number): Promise<void> {
    return this.advance(ms);
  }

  /** Fires timers due up to `until` (epoch ms) in order, letting async work settle between them, then sets the time to `until`. */
  async runUntil(until: number): Promise<void> {
    await settle();
    for (;;) {
      const timer = this.popDue(until);
      if (!timer) break;
      this.current = Math.max(this.current, timer.at);
      if (timer.interval !== undefined) {
        timer.at = this.current + timer.interval;
        this.enqueue(timer);
      }
      timer.fn();
      await settle();
    }
    if (until > this.current) this.current = until;
    await settle();
  }

  /** Lets pending promise callbacks and I/O callbacks run without moving time. */
  settle(): Promise<void> {
    return settle();
  }

  private add(fn: () => void, ms: number, interval: number | undefined): Timer {
    const timer: PendingTimer = { id: this.seq++, at: this.current + Math.max(0, ms), fn, interval, cancelled: false, queued: false };
    this.enqueue(timer);
    return {
      cancel: () => {
        if (timer.cancelled) return;
        timer.cancelled = true;
        if (!timer.queued) return;
        this.live--;
        // Mostly-cancelled queues (work queues re-arm delays often) are swept so memory stays bounded.
        if (this.timers.size > 1024 && this.live < this.timers.size / 2) this.sweep();
      },
    };
  }

  private enqueue(timer: PendingTimer): void {
    timer.queued = true;
    this.live++;
    this.timers.push(timer);
  }

  private sweep(): void {
    this.timers.retain((t) => {
      if (t.cancelled) t.queued = false;
      return !t.cancelled;
    });
  }

  /** The earliest live timer, dropping cancelled ones that reached the top. */
  private head(): PendingTimer | undefined {
    for (;;) {
      const top = this.timers.peek();
      if (!top || !top.cancelled) return top;
      this.timers.pop();
      top.queued = false;
    }
  }

  private popDue(until: number): PendingTimer | undefined {
    const top = this.head();
    if (!top || top.at > until) return undefined;
    this.timers.pop();
    top.queued = false;
    this.live--;
    return top;
  }
}

/** Yields to the event loop a few times so chained promises and setImmediate work complete. */
async function settle(): Promise<void> {
  for (let i = 0; i < 4; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Common durations in milliseconds. */
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/**
 * Parses a Go-style duration (`300ms`, `10s`, `2m`, `1h30m`, `1.5s`) into milliseconds.
 * A bare number is seconds. Throws with a clear message on anything else.
 */
export function parseDuration(text: string): number {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * SECOND;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(value))) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : m[2] === "s" ? n * SECOND : m[2] === "m" ? n * MINUTE : n * HOUR;
    consumed = re.lastIndex;
  }
  if (consumed === 0 || consumed !== value.length) {
    throw new Error(`invalid duration "${text}": use a number with a unit, like 500ms, 10s, 5m or 1h30m`);
  }
  return total;
}

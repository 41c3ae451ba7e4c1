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
  private timers: PendingTimer[] = [];

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
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Epoch ms of the next timer, or undefined when none is set. */
  nextAt(): number | undefined {
    let next: number | undefined;
    for (const t of this.timers) if (!t.cancelled && (next === undefined || t.at < next)) next = t.at;
    return next;
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
        this.timers.push(timer);
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
    const timer: PendingTimer = { id: this.seq++, at: this.current + Math.max(0, ms), fn, interval, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  private popDue(until: number): PendingTimer | undefined {
    let best = -1;
    for (let i = 0; i < this.timers.length; i++) {
      const t = this.timers[i];
      if (t.cancelled || t.at > until) continue;
      if (best < 0 || t.at < this.timers[best].at || (t.at === this.timers[best].at && t.id < this.timers[best].id)) best = i;
    }
    if (best < 0) {
      if (this.timers.some((t) => t.cancelled)) this.timers = this.timers.filter((t) => !t.cancelled);
      return undefined;
    }
    const [timer] = this.timers.splice(best, 1);
    return timer;
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

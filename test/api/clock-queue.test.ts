/**
 * The virtual clock's timer queue under load: thousands of timers, intervals and cancellations
 * fire exactly in (time, order set) order, as a plain sorted list would fire them.
 */
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/api/clock.js";

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("VirtualClock queue", () => {
  it("fires thousands of timers in time order, ties in the order they were set, skipping cancelled ones", async () => {
    const clock = new VirtualClock(0);
    const random = seeded(42);
    const fired: string[] = [];
    const expected: { at: number; seq: number; label: string }[] = [];
    const handles: { cancel(): void }[] = [];
    for (let i = 0; i < 3000; i++) {
      const delay = Math.floor(random() * 200) * 5; // many ties
      const label = `t${i}`;
      handles.push(clock.setTimeout(() => fired.push(`${label}@${clock.now()}`), delay));
      expected.push({ at: delay, seq: i, label });
    }
    // Cancel a third of them, including most of the queue, so the queue is swept on the way.
    const cancelled = new Set<number>();
    for (let i = 0; i < 3000; i += 3) {
      handles[i].cancel();
      handles[i].cancel(); // harmless twice
      cancelled.add(i);
    }
    expect(clock.pending).toBe(2000);
    await clock.advance(2000);
    const want = expected
      .filter((e) => !cancelled.has(e.seq))
      .sort((a, b) => a.at - b.at || a.seq - b.seq)
      .map((e) => `${e.label}@${e.at}`);
    expect(fired).toEqual(want);
    expect(clock.pending).toBe(0);
    expect(clock.nextAt()).toBeUndefined();
  });

  it("keeps an interval's place among timers set later for the same instant", async () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    const every = clock.setInterval(() => fired.push(`i@${clock.now()}`), 100);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 200);
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 100);
    await clock.advance(300);
    expect(fired).toEqual(["i@100", "b@100", "i@200", "a@200", "i@300"]);
    every.cancel();
    expect(clock.pending).toBe(0);
  });

  it("counts and reports pending timers when many are cancelled and re-armed", async () => {
    const clock = new VirtualClock(0);
    let fired = 0;
    let handle = clock.setTimeout(() => fired++, 10_000);
    for (let i = 0; i < 5000; i++) {
      // A work queue re-arming a delay: cancel the old timer, set a new, earlier one.
      handle.cancel();
      handle = clock.setTimeout(() => fired++, 10_000 - i);
    }
    expect(clock.pending).toBe(1);
    expect(clock.nextAt()).toBe(10_000 - 4999);
    await clock.advance(10_000);
    expect(fired).toBe(1);
    expect(clock.pending).toBe(0);
  });
});

import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/api/clock.js";
import { WorkQueue } from "../../src/cluster/workqueue.js";

describe("work queue (client-go workqueue semantics)", () => {
  it("de-duplicates keys waiting to be processed", async () => {
    const clock = new VirtualClock(0);
    const seen: string[] = [];
    const q = new WorkQueue(clock, async (k) => void seen.push(k), { workers: 1 });
    q.add("a");
    q.add("b");
    q.add("b");
    await q.idle();
    expect(seen).toEqual(["a", "b"]);
  });

  it("never processes one key twice at once, and reprocesses a key added while it ran", async () => {
    const clock = new VirtualClock(0);
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const q = new WorkQueue(
      clock,
      async () => {
        running++;
        runs++;
        maxRunning = Math.max(maxRunning, running);
        if (runs === 1) await new Promise<void>((r) => (release = r));
        running--;
      },
      { workers: 4 },
    );
    q.add("a");
    await clock.settle();
    q.add("a");
    q.add("a");
    release();
    await q.idle();
    expect(maxRunning).toBe(1);
    expect(runs).toBe(2);
  });

  it("retries a failing key with exponential back-off and forgets it after success", async () => {
    const clock = new VirtualClock(0);
    const attempts: number[] = [];
    const q = new WorkQueue(
      clock,
      async () => {
        attempts.push(clock.now());
        if (attempts.length < 4) throw new Error("transient");
      },
      { baseDelayMs: 100 },
    );
    q.add("a");
    await clock.advance(10_000);
    expect(attempts).toEqual([0, 100, 300, 700]);
    expect(q.retries("a")).toBe(0);
  });

  it("keeps the earliest time when a waiting key is added again with a delay", async () => {
    const clock = new VirtualClock(0);
    const at: number[] = [];
    const q = new WorkQueue(clock, async () => void at.push(clock.now()));
    q.addAfter("a", 1_000);
    q.addAfter("a", 5_000);
    await clock.advance(10_000);
    expect(at).toEqual([1_000]);
    q.addAfter("b", 5_000);
    q.addAfter("b", 2_000);
    await clock.advance(10_000);
    expect(at).toEqual([1_000, 12_000]);
  });

  it("delays a key with addAfter on the clock", async () => {
    const clock = new VirtualClock(0);
    const at: number[] = [];
    const q = new WorkQueue(clock, async () => void at.push(clock.now()));
    q.addAfter("a", 5_000);
    await clock.advance(4_999);
    expect(at).toEqual([]);
    await clock.advance(1);
    expect(at).toEqual([5_000]);
  });
});

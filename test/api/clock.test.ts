import { describe, expect, it } from "vitest";
import { MINUTE, RealClock, SECOND, VirtualClock, parseDuration, rfc3339, rfc3339Micro } from "../../src/api/clock.js";

describe("VirtualClock", () => {
  it("stands still until advanced, then fires timers in time order", async () => {
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 2 * SECOND);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 1 * SECOND);
    expect(clock.now()).toBe(0);
    await clock.advance(5 * SECOND);
    expect(fired).toEqual(["a@1000", "b@2000"]);
    expect(clock.now()).toBe(5000);
  });

  it("fires timers set for the same instant in the order they were set", async () => {
    const clock = new VirtualClock(0);
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimeout(() => fired.push(i), 100);
    await clock.advance(100);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  it("runs intervals until cancelled", async () => {
    const clock = new VirtualClock(0);
    let ticks = 0;
    const t = clock.setInterval(() => ticks++, 10 * SECOND);
    await clock.runFor(MINUTE);
    expect(ticks).toBe(6);
    t.cancel();
    await clock.runFor(MINUTE);
    expect(ticks).toBe(6);
  });

  it("lets async work chained on a timer complete before the next timer", async () => {
    const clock = new VirtualClock(0);
    const log: string[] = [];
    clock.setTimeout(async () => {
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      log.push("first done");
      clock.setTimeout(() => log.push(`second@${clock.now()}`), 500);
    }, 1000);
    await clock.advance(2000);
    expect(log).toEqual(["first done", "second@1500"]);
  });

  it("resolves sleep at the virtual time", async () => {
    const clock = new VirtualClock(1000);
    let woke = 0;
    void clock.sleep(30 * SECOND).then(() => (woke = clock.now()));
    await clock.advance(MINUTE);
    expect(woke).toBe(31_000);
  });

  it("does not fire a cancelled timer", async () => {
    const clock = new VirtualClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 10).cancel();
    await clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.pending).toBe(0);
  });
});

describe("RealClock", () => {
  it("runs time faster with a speed factor", async () => {
    const clock = new RealClock(100);
    const start = clock.now();
    await clock.sleep(2 * SECOND); // 20 ms of wall time
    expect(clock.now() - start).toBeGreaterThanOrEqual(1500);
  });

  it("refuses a speed that is not positive", () => {
    expect(() => new RealClock(0)).toThrow(/positive/);
  });
});

describe("time formats", () => {
  it("writes metav1.Time with second precision and MicroTime with microseconds", () => {
    expect(rfc3339(Date.UTC(2024, 0, 1, 12, 0, 5, 678))).toBe("2024-01-01T12:00:05Z");
    expect(rfc3339Micro(Date.UTC(2024, 0, 1, 12, 0, 5, 678))).toBe("2024-01-01T12:00:05.678000Z");
  });

  it("parses Go-style durations", () => {
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("1.5s")).toBe(1500);
    expect(parseDuration("30")).toBe(30_000);
    expect(() => parseDuration("ten")).toThrow(/invalid duration "ten"/);
    expect(() => parseDuration("10x")).toThrow(/invalid duration/);
  });
});

import { describe, expect, it } from "vitest";
import {
  CONTAINER_BACKOFF,
  formatGoDuration,
  gcBackoff,
  isInBackOffSince,
  isInBackOffSinceUpdate,
  nextBackoff,
  nextDelay,
  type BackoffRecord,
} from "../../src/cluster/runtime/backoff.js";

const S = 1000;

describe("flowcontrol.Backoff semantics", () => {
  it("starts at 10 s and doubles to a 300 s cap", () => {
    let r: BackoffRecord | undefined;
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      r = nextBackoff(r, i * S, i * S, CONTAINER_BACKOFF);
      seen.push(r.backoffMs / S);
    }
    expect(seen).toEqual([10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it("restarts at 10 s when the event comes more than 2×max (600 s) after the last update", () => {
    const r = { backoffMs: 300 * S, lastUpdate: 0 };
    expect(nextBackoff(r, 600 * S, 600 * S, CONTAINER_BACKOFF).backoffMs).toBe(300 * S); // exactly 600 s: not expired (strictly greater)
    expect(nextBackoff(r, 600 * S + 1, 600 * S + 1, CONTAINER_BACKOFF).backoffMs).toBe(10 * S);
  });

  it("IsInBackOffSince counts from the container's finish time, not from the update", () => {
    const r = { backoffMs: 20 * S, lastUpdate: 100 * S };
    expect(isInBackOffSince(r, 105 * S, 124 * S, CONTAINER_BACKOFF)).toBe(true);
    expect(isInBackOffSince(r, 105 * S, 125 * S, CONTAINER_BACKOFF)).toBe(false);
    expect(isInBackOffSince(undefined, 105 * S, 106 * S, CONTAINER_BACKOFF)).toBe(false);
    // A container that ran more than 10 minutes since the last restart decision is never in back-off.
    expect(isInBackOffSince(r, 701 * S, 701 * S, CONTAINER_BACKOFF)).toBe(false);
  });

  it("IsInBackOffSinceUpdate (image pulls) counts from the last update", () => {
    const r = { backoffMs: 10 * S, lastUpdate: 1 * S };
    expect(isInBackOffSinceUpdate(r, 10.999 * S, CONTAINER_BACKOFF)).toBe(true);
    expect(isInBackOffSinceUpdate(r, 11 * S, CONTAINER_BACKOFF)).toBe(false);
  });

  it("GC drops entries not updated for more than 2×max", () => {
    const r = { backoffMs: 40 * S, lastUpdate: 0 };
    expect(gcBackoff(r, 600 * S, CONTAINER_BACKOFF)).toBe(r);
    expect(gcBackoff(r, 600 * S + 1, CONTAINER_BACKOFF)).toBeUndefined();
  });

  it("nextDelay tells how long until doBackOff lets the container start", () => {
    const r = { backoffMs: 40 * S, lastUpdate: 45 * S };
    expect(nextDelay(r, 50 * S, 50 * S)).toBe(40 * S);
    expect(nextDelay(r, 50 * S, 80 * S)).toBe(10 * S);
    expect(nextDelay(r, 50 * S, 90 * S)).toBe(0);
  });

  it("replays the restart times of a container that crashes 5 s after every start", () => {
    // Derivation (doBackOff + flowcontrol, pod worker retrying a failed sync every 10 s):
    // the first exit has no back-off entry yet, so the kubelet restarts at once and creates the
    // entry (10 s); every later exit is in back-off for the current delay counted from its
    // finish time, and the restart that ends the wait doubles the delay for next time.
    let r: BackoffRecord | undefined;
    let start = 0;
    const starts = [0];
    for (let run = 0; run < 7; run++) {
      const finished = start + 5 * S;
      start = finished + nextDelay(r, finished, finished);
      r = nextBackoff(r, finished, start, CONTAINER_BACKOFF);
      starts.push(start / S);
    }
    expect(starts).toEqual([0, 5, 20, 45, 90, 175, 340, 645]);
  });
});

describe("Go duration formatting", () => {
  it.each([
    [0, "0s"],
    [512, "512ms"],
    [1000, "1s"],
    [1234, "1.234s"],
    [1500, "1.5s"],
    [10_000, "10s"],
    [80_000, "1m20s"],
    [160_000, "2m40s"],
    [300_000, "5m0s"],
    [3_600_000, "1h0m0s"],
    [3_723_500, "1h2m3.5s"],
  ])("%i ms prints as %s", (ms, text) => {
    expect(formatGoDuration(ms)).toBe(text);
  });
});

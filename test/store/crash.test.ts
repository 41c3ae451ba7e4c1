/**
 * Crash safety: a writer is killed with SIGKILL at random moments, 20 times in a row on the same
 * state directory. After each kill the store must open cleanly and hold every acknowledged write
 * intact, with a revision counter at least as high as the last acknowledged revision.
 */
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/api/store/sqlite-store.js";
import { removeDir, runFixture, seededRandom, tempDir } from "./fixtures/helpers.js";

interface Ack {
  readonly key: string;
  readonly revision: number;
  readonly sum: string;
}

const KILLS = 20;
const SEED = 0x5eed_c0de;
const dir = tempDir("crash");

afterAll(() => removeDir(dir));

function checksum(key: string, seq: string, payload: string): string {
  return createHash("sha256").update(`${key}\n${seq}\n${payload}`).digest("hex");
}

describe("crash safety", () => {
  it(`keeps every acknowledged write across ${KILLS} kill -9 at random moments (seed 0x${SEED.toString(16)})`, async () => {
    const random = seededRandom(SEED);
    /** Latest acknowledged write per key, over every run. */
    const acked = new Map<string, Ack>();
    let lastAcked = 0;
    let totalAcks = 0;
    for (let run = 0; run < KILLS; run++) {
      const child = runFixture("crash-writer.ts", [dir, String(run)]);
      await child.waitForLine((l) => l === "ready");
      const delay = 20 + Math.floor(random() * 181);
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.process.kill("SIGKILL");
      const exit = await child.exited;
      expect(exit.signal, `run ${run} stderr: ${child.stderr()}`).toBe("SIGKILL");

      // Every complete line was written after its write was acknowledged.
      for (const line of child.lines.slice(1)) {
        const ack = JSON.parse(line) as Ack;
        totalAcks++;
        lastAcked = Math.max(lastAcked, ack.revision);
        const before = acked.get(ack.key);
        if (!before || before.revision < ack.revision) acked.set(ack.key, ack);
      }

      const store = openSqliteStore(dir);
      try {
        expect(store.revision).toBeGreaterThanOrEqual(lastAcked);
        const items = new Map((await store.range("/registry/configmaps/crash/")).items.map((i) => [i.key, i]));
        // Checked with plain comparisons and reported together: tens of thousands of expect()
        // calls per run would dominate the test's time.
        const problems: string[] = [];
        for (const ack of acked.values()) {
          const stored = items.get(ack.key);
          if (!stored) problems.push(`acknowledged ${ack.key}@${ack.revision} is missing`);
          else if (stored.modRevision < ack.revision) problems.push(`${ack.key} is at ${stored.modRevision}, older than acknowledged ${ack.revision}`);
          else if (stored.modRevision === ack.revision && stored.object.data.sum !== ack.sum) problems.push(`${ack.key}@${ack.revision} has another value`);
        }
        // No value is ever half-written, acknowledged or not.
        for (const item of items.values()) {
          const { seq, payload, sum } = item.object.data as Record<string, string>;
          if (checksum(item.key, seq, payload) !== sum) problems.push(`${item.key} is damaged`);
          if (item.object.metadata.resourceVersion !== String(item.modRevision)) problems.push(`${item.key} has resourceVersion ${item.object.metadata.resourceVersion}`);
          if (item.modRevision > store.revision) problems.push(`${item.key} is ahead of the store revision`);
        }
        expect(problems.slice(0, 10), `run ${run}`).toEqual([]);
      } finally {
        await store.close();
      }
    }
    // The kills landed while writes were flowing, not before the first one.
    expect(totalAcks).toBeGreaterThan(KILLS * 10);
  });
});

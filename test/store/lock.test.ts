/**
 * The state directory lock across processes: a second kubelings process is refused with a
 * message naming the directory and the holder, and the lock dies with its holder (kill -9).
 */
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/api/store/sqlite-store.js";
import { StoreError } from "../../src/api/store/store.js";
import { removeDir, runFixture, tempDir } from "./fixtures/helpers.js";
import type { Child } from "./fixtures/helpers.js";

const dirs: string[] = [];
const children: Child[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill("SIGKILL");
    await child.exited;
  }
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function start(script: string, dir: string): Child {
  const child = runFixture(script, [dir]);
  children.push(child);
  return child;
}

describe("state directory lock", () => {
  it("refuses a second process while this one holds the directory, with the holder's pid and what to do", async () => {
    const dir = tempDir("lock");
    dirs.push(dir);
    const store = openSqliteStore(dir);
    try {
      const child = start("try-open.ts", dir);
      const outcome = JSON.parse(await child.waitForLine((l) => l.startsWith("{")));
      expect(outcome).toEqual({
        ok: false,
        code: "Locked",
        message: `state directory ${dir} is in use by another kubelings process (pid ${process.pid}). Stop it (the running kubelings serve) or use a different --state directory.`,
      });
      expect((await child.exited).code).toBe(0);
    } finally {
      await store.close();
    }
    const after = start("try-open.ts", dir);
    expect(JSON.parse(await after.waitForLine((l) => l.startsWith("{")))).toEqual({ ok: true, revision: 0 });
  });

  it("releases the lock when the holder is killed with SIGKILL", async () => {
    const dir = tempDir("lock-kill");
    dirs.push(dir);
    const holder = start("hold-store.ts", dir);
    const ready = await holder.waitForLine((l) => l.startsWith("ready "));
    const pid = Number(ready.split(" ")[1]);
    expect(pid).toBe(holder.process.pid);

    let refused: unknown;
    try {
      openSqliteStore(dir);
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({ code: "Locked" });
    expect((refused as Error).message).toContain(`state directory ${dir} is in use by another kubelings process (pid ${pid})`);

    holder.process.kill("SIGKILL");
    expect((await holder.exited).signal).toBe("SIGKILL");
    // The kernel dropped the dead holder's lock; its stale pid file does not matter.
    const store = openSqliteStore(dir);
    try {
      expect(store.revision).toBe(1);
      expect((await store.get("/registry/configmaps/default/held"))?.object.data).toEqual({ pid: String(pid) });
    } finally {
      await store.close();
    }
  });
});

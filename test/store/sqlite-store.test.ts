/**
 * What only the durable store does: restart recovery, the state directory and its lock (within
 * one process), damaged files, the bounded change log and a failed commit.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore, PID_FILE, STORE_FILE } from "../../src/api/store/sqlite-store.js";
import type { SqliteStore } from "../../src/api/store/sqlite-store.js";
import { StoreError } from "../../src/api/store/store.js";
import type { StoreEvent } from "../../src/api/store/store.js";
import { collect, configMap, removeDir, tempDir, tick } from "./fixtures/helpers.js";

const dirs: string[] = [];
const opened: SqliteStore[] = [];

function newDir(): string {
  const dir = tempDir("sqlite");
  dirs.push(dir);
  return dir;
}

function open(dir: string, options?: { historyLimit?: number }): SqliteStore {
  const store = openSqliteStore(dir, options);
  opened.push(store);
  return store;
}

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function openError(dir: string): StoreError {
  try {
    open(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error("expected openSqliteStore to fail");
}

function logRows(file: string): { count: number; min: number | null } {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT count(*) AS count, min(rev) AS min FROM log").get() as { count: number; min: number | null };
  } finally {
    db.close();
  }
}

describe("SqliteStore state directory", () => {
  it("creates the state directory with mode 0700 and the database and pid files in it", async () => {
    const dir = path.join(newDir(), "nested", ".kubelings");
    const store = open(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    expect(fs.existsSync(path.join(dir, STORE_FILE))).toBe(true);
    expect(fs.readFileSync(path.join(dir, PID_FILE), "utf8").trim()).toBe(String(process.pid));
    expect(store.dir).toBe(dir);
    await store.close();
    expect(fs.existsSync(path.join(dir, PID_FILE))).toBe(false);
  });

  it("restores every object, the revision counter, the compacted revision and the history after a restart", async () => {
    const dir = newDir();
    const first = open(dir);
    for (let i = 0; i < 10; i++) await first.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`, { i: String(i) }));
    await first.update("/registry/configmaps/default/c1", configMap("c1", { i: "updated" }));
    await first.delete("/registry/configmaps/default/c2");
    await first.txn([
      { op: "create", key: "/registry/pods/default/p", object: configMap("p") },
      { op: "delete", key: "/registry/configmaps/default/c3" },
    ]);
    await first.compact(5);
    const before = await first.range("/registry/");
    const history: StoreEvent[] = collect(first, "/registry/", 5).events;
    await tick();
    await first.close();

    const second = open(dir);
    expect(second.revision).toBe(14);
    expect(second.compactedRevision).toBe(5);
    expect(await second.range("/registry/")).toEqual(before);
    const replayed = collect(second, "/registry/", 5);
    await tick();
    expect(replayed.events).toEqual(history);
    expect(() => second.watch("/registry/", { afterRevision: 4, onEvent: () => {} })).toThrow(/too old resource version: 4 \(5\)/);
    // The counter continues where it stopped.
    expect((await second.create("/registry/configmaps/default/next", configMap("next"))).modRevision).toBe(15);
  });

  it("keeps the change log bounded by historyLimit on disk", async () => {
    const dir = newDir();
    const store = open(dir, { historyLimit: 50 });
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.create(`/registry/configmaps/default/r${round}-${i}`, configMap("x"))));
    }
    expect(store.revision).toBe(500);
    expect(store.compactedRevision).toBe(450);
    await store.close();
    expect(logRows(path.join(dir, STORE_FILE))).toEqual({ count: 50, min: 451 });
  });

  it("compacts and purges old history when reopened with a smaller historyLimit", async () => {
    const dir = newDir();
    const first = open(dir);
    await Promise.all(Array.from({ length: 30 }, (_, i) => first.create(`/registry/configmaps/default/c${i}`, configMap("x"))));
    await first.close();
    const second = open(dir, { historyLimit: 5 });
    await tick();
    expect(second.compactedRevision).toBe(25);
    await second.close();
    expect(logRows(path.join(dir, STORE_FILE))).toEqual({ count: 5, min: 26 });
  });

  it("refuses a second open of the same directory with Locked, naming the directory and the holder's pid", async () => {
    const dir = newDir();
    const holder = open(dir);
    const err = openError(dir);
    expect(err.code).toBe("Locked");
    expect(err.message).toBe(
      `state directory ${dir} is in use by another kubelings process (pid ${process.pid}). Stop it (the running kubelings serve) or use a different --state directory.`,
    );
    await holder.close();
    const again = open(dir);
    expect(again.revision).toBe(0);
  });
});

describe("SqliteStore damaged files", () => {
  it("reports a file that is not a SQLite database as Corrupt, naming the file and the fix", () => {
    const dir = newDir();
    fs.writeFileSync(path.join(dir, STORE_FILE), "this is not a database, it is a text file\n".repeat(200));
    const err = openError(dir);
    expect(err.code).toBe("Corrupt");
    const file = path.join(dir, STORE_FILE);
    expect(err.message).toBe(
      `cannot read the kubelings store ${file}: it is not a SQLite database. Move it aside (mv ${file} ${file}.broken) to start with an empty cluster, or point --state at another directory.`,
    );
  });

  it("reports another application's SQLite database as Corrupt", () => {
    const dir = newDir();
    const db = new Database(path.join(dir, STORE_FILE));
    db.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
    db.close();
    const err = openError(dir);
    expect(err.code).toBe("Corrupt");
    expect(err.message).toContain("it is a SQLite database but not a kubelings store");
  });

  it("reports a truncated database as Corrupt", async () => {
    const dir = newDir();
    const store = open(dir);
    const big = "x".repeat(3000);
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`, { big }))));
    await store.close();
    const file = path.join(dir, STORE_FILE);
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(100_000);
    fs.truncateSync(file, Math.floor(size / 2));
    const err = openError(dir);
    expect(err.code).toBe("Corrupt");
    expect(err.message).toContain(`mv ${file} ${file}.broken`);
  });
});

describe("SqliteStore failed commit", () => {
  it("rejects every operation of a batch that cannot be written and keeps the revision counter", async () => {
    const dir = newDir();
    const store = open(dir);
    await store.create("/registry/configmaps/default/before", configMap("before"));
    // Cap the file at its current size so the next batch runs out of space (SQLITE_FULL).
    const db = (store as unknown as { backend: { db: Database.Database } }).backend.db;
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const { events } = collect(store, "/registry/");
    const batch = Array.from({ length: 5 }, (_, i) => store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`, { big: "x".repeat(20_000) })));
    const settled = await Promise.allSettled(batch);
    expect(settled.every((s) => s.status === "rejected")).toBe(true);
    expect((settled[0] as PromiseRejectedResult).reason.code).toBe("SQLITE_FULL");
    expect(store.revision).toBe(1);
    expect(events).toEqual([]);
    expect(await store.get("/registry/configmaps/default/c0")).toBeUndefined();
    // Once there is room again, writes continue from the same revision.
    db.pragma("max_page_count = 1073741823");
    expect((await store.create("/registry/configmaps/default/after", configMap("after"))).modRevision).toBe(2);
    await store.close();
    const reopened = open(dir);
    expect(reopened.revision).toBe(2);
    expect((await reopened.range("/registry/")).items.map((i) => i.key)).toEqual([
      "/registry/configmaps/default/after",
      "/registry/configmaps/default/before",
    ]);
  });
});

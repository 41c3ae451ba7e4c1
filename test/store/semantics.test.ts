/**
 * The Store contract, run against both implementations: etcd-like revisions, error codes,
 * transactions, group commit, watches (replay + live) and compaction.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import { openSqliteStore } from "../../src/api/store/sqlite-store.js";
import { StoreError } from "../../src/api/store/store.js";
import type { Store, StoreEvent, StoredValue } from "../../src/api/store/store.js";
import type { StoreOptions } from "../../src/api/store/_versioned-store.js";
import { collect, configMap, isDeepFrozen, removeDir, seededRandom, tempDir, tick } from "./fixtures/helpers.js";

interface Factory {
  readonly name: string;
  open(options?: StoreOptions): Store;
}

const dirs: string[] = [];
const opened: Store[] = [];

const factories: Factory[] = [
  { name: "MemoryStore", open: (options) => new MemoryStore(options) },
  {
    name: "SqliteStore",
    open: (options) => {
      const dir = tempDir("semantics");
      dirs.push(dir);
      return openSqliteStore(dir, options);
    },
  },
];

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StoreError);
    return err as StoreError;
  }
  throw new Error("expected the operation to fail");
}

describe.each(factories)("$name", (factory) => {
  function open(options?: StoreOptions): Store {
    const store = factory.open(options);
    opened.push(store);
    return store;
  }

  describe("create, get, update, delete", () => {
    it("creates a key at the next revision and sets resourceVersion to its modRevision", async () => {
      const store = open();
      expect(store.revision).toBe(0);
      const created = await store.create("/registry/configmaps/default/a", configMap("a", { k: "v" }));
      expect(created).toMatchObject({ key: "/registry/configmaps/default/a", createRevision: 1, modRevision: 1 });
      expect(created.object.metadata.resourceVersion).toBe("1");
      expect(created.object.data).toEqual({ k: "v" });
      expect(store.revision).toBe(1);
      const read = await store.get("/registry/configmaps/default/a");
      expect(read).toEqual(created);
    });

    it("ignores the resourceVersion the caller sent", async () => {
      const store = open();
      const object = configMap("a");
      object.metadata.resourceVersion = "999";
      const created = await store.create("/registry/configmaps/default/a", object);
      expect(created.object.metadata.resourceVersion).toBe("1");
    });

    it("returns deeply frozen copies and never freezes or keeps the caller's object", async () => {
      const store = open();
      const object = configMap("a", { k: "v" });
      const created = await store.create("/registry/configmaps/default/a", object);
      expect(isDeepFrozen(created)).toBe(true);
      expect(isDeepFrozen((await store.get("/registry/configmaps/default/a"))!)).toBe(true);
      expect(Object.isFrozen(object)).toBe(false);
      expect(object.metadata.resourceVersion).toBeUndefined();
      object.data.k = "changed";
      expect((await store.get("/registry/configmaps/default/a"))!.object.data).toEqual({ k: "v" });
    });

    it("snapshots the object when the write is issued, not when it commits", async () => {
      const store = open();
      const object = configMap("a", { k: "before" });
      const pending = store.create("/registry/configmaps/default/a", object);
      object.data.k = "after";
      expect((await pending).object.data).toEqual({ k: "before" });
    });

    it("refuses to create an existing key with KeyExists", async () => {
      const store = open();
      await store.create("/registry/configmaps/default/a", configMap("a"));
      const err = await storeError(store.create("/registry/configmaps/default/a", configMap("a")));
      expect(err.code).toBe("KeyExists");
      expect(err.key).toBe("/registry/configmaps/default/a");
      expect(err.message).toContain("/registry/configmaps/default/a");
      expect(store.revision).toBe(1);
    });

    it("updates keep createRevision and bump modRevision", async () => {
      const store = open();
      await store.create("/registry/configmaps/default/a", configMap("a"));
      await store.create("/registry/configmaps/default/b", configMap("b"));
      const updated = await store.update("/registry/configmaps/default/a", configMap("a", { k: "2" }));
      expect(updated).toMatchObject({ createRevision: 1, modRevision: 3 });
      expect(updated.object.metadata.resourceVersion).toBe("3");
      expect((await store.get("/registry/configmaps/default/a"))!.object.data).toEqual({ k: "2" });
    });

    it("refuses to update or delete a missing key with KeyNotFound", async () => {
      const store = open();
      expect((await storeError(store.update("/registry/configmaps/default/x", configMap("x")))).code).toBe("KeyNotFound");
      expect((await storeError(store.delete("/registry/configmaps/default/x"))).code).toBe("KeyNotFound");
      expect(store.revision).toBe(0);
    });

    it("refuses a stale expectedRevision with Conflict carrying the current modRevision", async () => {
      const store = open();
      const created = await store.create("/registry/configmaps/default/a", configMap("a"));
      await store.update("/registry/configmaps/default/a", configMap("a", { k: "2" }), created.modRevision);
      const err = await storeError(store.update("/registry/configmaps/default/a", configMap("a", { k: "3" }), created.modRevision));
      expect(err.code).toBe("Conflict");
      expect(err.revision).toBe(2);
      expect((await storeError(store.delete("/registry/configmaps/default/a", 1))).code).toBe("Conflict");
      expect((await store.get("/registry/configmaps/default/a"))!.object.data).toEqual({ k: "2" });
      const deleted = await store.delete("/registry/configmaps/default/a", 2);
      expect(deleted.modRevision).toBe(3);
    });

    it("delete returns the last value at the deletion revision and removes the key", async () => {
      const store = open();
      await store.create("/registry/configmaps/default/a", configMap("a", { k: "v" }));
      const deleted = await store.delete("/registry/configmaps/default/a");
      expect(deleted).toMatchObject({ createRevision: 1, modRevision: 2 });
      expect(deleted.object.metadata.resourceVersion).toBe("2");
      expect(deleted.object.data).toEqual({ k: "v" });
      expect(await store.get("/registry/configmaps/default/a")).toBeUndefined();
      // A new object under the same key starts a new life.
      const again = await store.create("/registry/configmaps/default/a", configMap("a"));
      expect(again).toMatchObject({ createRevision: 3, modRevision: 3 });
    });

    it("rejects bad input with a TypeError naming the problem", async () => {
      const store = open();
      await expect(store.create("", configMap("a"))).rejects.toThrow(/key must be a non-empty string/);
      await expect(store.create("/registry/x", null as never)).rejects.toThrow(/must be a JSON object/);
      await expect(store.create("/registry/x", { apiVersion: "v1", kind: "X" } as never)).rejects.toThrow(/needs a metadata object/);
      await expect(store.update("/registry/x", configMap("x"), -1)).rejects.toThrow(/expectedRevision .* non-negative integer/);
      await expect(store.txn([{ op: "put", key: "/k" } as never])).rejects.toThrow(/op must be "create", "update" or "delete"/);
      const cyclic = configMap("c") as Record<string, unknown>;
      cyclic.self = cyclic;
      await expect(store.create("/registry/c", cyclic as never)).rejects.toThrow(/not JSON-serializable/);
      expect(store.revision).toBe(0);
    });
  });

  describe("revisions and group commit", () => {
    it("gives every write of a batch its own consecutive revision; a refused op fails alone", async () => {
      const store = open();
      await store.create("/registry/configmaps/default/taken", configMap("taken"));
      const writes = Array.from({ length: 50 }, (_, i) =>
        i === 20 ? store.create("/registry/configmaps/default/taken", configMap("taken")) : store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`)),
      );
      const settled = await Promise.allSettled(writes);
      const failed = settled.filter((s) => s.status === "rejected");
      expect(failed).toHaveLength(1);
      expect((failed[0] as PromiseRejectedResult).reason.code).toBe("KeyExists");
      const revisions = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.modRevision] : []));
      expect(revisions).toEqual(Array.from({ length: 49 }, (_, i) => i + 2));
      expect(store.revision).toBe(50);
      for (const s of settled) if (s.status === "fulfilled") expect(s.value.object.metadata.resourceVersion).toBe(String(s.value.modRevision));
    });

    it("delivers a write's watch events before its promise resolves", async () => {
      const store = open();
      const seen: number[] = [];
      store.watch("/registry/", { onEvent: (e) => seen.push(e.revision) });
      const created = await store.create("/registry/configmaps/default/a", configMap("a"));
      expect(seen).toEqual([created.modRevision]);
    });

    it("range lists keys with the prefix in key order at the current revision", async () => {
      const store = open();
      for (const name of ["b", "a", "c"]) await store.create(`/registry/configmaps/ns1/${name}`, configMap(name));
      await store.create("/registry/configmaps/ns2/a", configMap("a", {}, "ns2"));
      await store.create("/registry/configmapsx/ns1/a", configMap("a"));
      const result = await store.range("/registry/configmaps/ns1/");
      expect(result.items.map((i) => i.key)).toEqual(["/registry/configmaps/ns1/a", "/registry/configmaps/ns1/b", "/registry/configmaps/ns1/c"]);
      expect(result.revision).toBe(5);
      expect(result.items.every((i) => i.object.metadata.resourceVersion === String(i.modRevision))).toBe(true);
      expect((await store.range("/registry/configmaps/")).items).toHaveLength(4);
      expect((await store.range("/registry/nothing/")).items).toEqual([]);
      expect((await store.range("")).items).toHaveLength(5);
    });
  });

  describe("txn", () => {
    it("applies every operation in consecutive revisions", async () => {
      const store = open();
      await store.create("/registry/configmaps/default/a", configMap("a"));
      await store.create("/registry/configmaps/default/b", configMap("b"));
      const { events } = collect(store, "/registry/");
      const values = await store.txn([
        { op: "create", key: "/registry/configmaps/default/c", object: configMap("c") },
        { op: "update", key: "/registry/configmaps/default/a", object: configMap("a", { k: "2" }), expectedRevision: 1 },
        { op: "delete", key: "/registry/configmaps/default/b" },
        { op: "update", key: "/registry/configmaps/default/c", object: configMap("c", { k: "2" }) },
      ]);
      expect(values.map((v) => v.modRevision)).toEqual([3, 4, 5, 6]);
      expect(values[3]).toMatchObject({ createRevision: 3, modRevision: 6 });
      expect(events.map((e) => [e.type, e.revision])).toEqual([
        ["ADDED", 3],
        ["MODIFIED", 4],
        ["DELETED", 5],
        ["MODIFIED", 6],
      ]);
      expect(store.revision).toBe(6);
    });

    it("applies nothing when one operation fails, and throws that failure", async () => {
      const store = open();
      await store.create("/registry/configmaps/default/a", configMap("a"));
      const { events } = collect(store, "/registry/");
      const err = await storeError(
        store.txn([
          { op: "create", key: "/registry/configmaps/default/new", object: configMap("new") },
          { op: "update", key: "/registry/configmaps/default/a", object: configMap("a", { k: "2" }) },
          { op: "delete", key: "/registry/configmaps/default/a", expectedRevision: 1 },
        ]),
      );
      expect(err.code).toBe("Conflict");
      expect(err.revision).toBe(3);
      expect(await store.get("/registry/configmaps/default/new")).toBeUndefined();
      expect((await store.get("/registry/configmaps/default/a"))!.modRevision).toBe(1);
      expect(store.revision).toBe(1);
      expect(events).toEqual([]);
    });

    it("a failed txn in a batch leaves no gap in the revisions of the writes around it", async () => {
      const store = open();
      const results = await Promise.allSettled([
        store.create("/registry/configmaps/default/a", configMap("a")),
        store.txn([
          { op: "create", key: "/registry/configmaps/default/b", object: configMap("b") },
          { op: "create", key: "/registry/configmaps/default/b", object: configMap("b") },
        ]),
        store.create("/registry/configmaps/default/c", configMap("c")),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      expect((results[1] as PromiseRejectedResult).reason.code).toBe("KeyExists");
      expect((results[2] as PromiseFulfilledResult<StoredValue>).value.modRevision).toBe(2);
      expect(await store.get("/registry/configmaps/default/b")).toBeUndefined();
    });

    it("an empty txn changes nothing", async () => {
      const store = open();
      expect(await store.txn([])).toEqual([]);
      expect(store.revision).toBe(0);
    });
  });

  describe("watch", () => {
    it("delivers ADDED, MODIFIED and DELETED with objects and previous values", async () => {
      const store = open();
      const { events } = collect(store, "/registry/configmaps/");
      await store.create("/registry/configmaps/default/a", configMap("a", { v: "1" }));
      await store.update("/registry/configmaps/default/a", configMap("a", { v: "2" }));
      await store.create("/registry/pods/default/p", configMap("p"));
      await store.delete("/registry/configmaps/default/a");
      expect(events.map((e) => [e.type, e.revision, e.object.metadata.resourceVersion, e.previous?.metadata.resourceVersion])).toEqual([
        ["ADDED", 1, "1", undefined],
        ["MODIFIED", 2, "2", "1"],
        ["DELETED", 4, "4", "2"],
      ]);
      expect(events[1].previous!.data).toEqual({ v: "1" });
      expect(events[2].object.data).toEqual({ v: "2" });
      expect(events.every(isDeepFrozen)).toBe(true);
    });

    it("stop ends delivery", async () => {
      const store = open();
      const watch = collect(store, "/registry/");
      await store.create("/registry/configmaps/default/a", configMap("a"));
      watch.stop();
      await store.create("/registry/configmaps/default/b", configMap("b"));
      expect(watch.events.map((e) => e.revision)).toEqual([1]);
    });

    it("delivers every change in order from any retained revision (random operations)", async () => {
      const store = open();
      const random = seededRandom(20240611);
      const prefixes = ["/registry/pods/a/", "/registry/pods/b/", "/registry/configmaps/a/"];
      const keys = prefixes.flatMap((p) => Array.from({ length: 6 }, (_, i) => `${p}k${i}`));
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
      const live = collect(store, "/registry/");
      const live0 = collect(store, "", 0);
      const expected: StoreEvent[] = [];
      const record = (value: StoredValue, type: StoreEvent["type"]) =>
        expected.push({ type, key: value.key, object: value.object, revision: value.modRevision });
      for (let round = 0; round < 40; round++) {
        // Several operations in one turn: they share a group commit, some of them fail.
        const writes: Array<Promise<void>> = [];
        for (let n = 1 + Math.floor(random() * 6); n > 0; n--) {
          const key = pick(keys);
          const roll = random();
          const obj = configMap(key.split("/").pop()!, { n: String(random()) });
          const guard = random() < 0.3 ? 1 + Math.floor(random() * (store.revision + 2)) : undefined;
          if (roll < 0.4) writes.push(store.create(key, obj).then((v) => void record(v, "ADDED"), () => {}));
          else if (roll < 0.7) writes.push(store.update(key, obj, guard).then((v) => void record(v, "MODIFIED"), () => {}));
          else if (roll < 0.85) writes.push(store.delete(key, guard).then((v) => void record(v, "DELETED"), () => {}));
          else {
            const other = pick(keys);
            writes.push(
              store
                .txn([
                  { op: "update", key, object: obj },
                  { op: "create", key: other, object: configMap("t") },
                ])
                .then(([u, c]) => {
                  record(u, "MODIFIED");
                  record(c, "ADDED");
                }, () => {}),
            );
          }
        }
        await Promise.all(writes);
      }
      expected.sort((x, y) => x.revision - y.revision);
      const head = store.revision;
      expect(head).toBeGreaterThan(60);
      expect(expected.map((e) => e.revision)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      const summary = (events: readonly StoreEvent[]) => events.map((e) => [e.revision, e.type, e.key, e.object]);
      expect(summary(live.events)).toEqual(summary(expected));
      expect(summary(live0.events)).toEqual(summary(expected));
      for (const e of live.events.filter((e) => e.type !== "ADDED")) expect(e.previous).toBeDefined();

      for (const after of [1, 2, Math.floor(head / 3), Math.floor(head / 2), head - 1, head]) {
        for (const prefix of ["", "/registry/pods/", ...prefixes]) {
          const replayed = collect(store, prefix, after);
          await tick();
          expect(summary(replayed.events), `after ${after} prefix ${prefix}`).toEqual(
            summary(expected.filter((e) => e.revision > after && e.key.startsWith(prefix))),
          );
          // Replayed events carry the same previous values as live ones.
          expect(replayed.events.map((e) => e.previous)).toEqual(live.events.filter((e) => e.revision > after && e.key.startsWith(prefix)).map((e) => e.previous));
          replayed.stop();
        }
      }
    });

    it("joins replay and live delivery without gap or duplicate while writes continue", async () => {
      const store = open();
      const watchers: Array<{ after: number; events: StoreEvent[] }> = [];
      let nested: { after: number; events: StoreEvent[] } | undefined;
      store.watch("/registry/", {
        onEvent: (event) => {
          // A watch started from inside another watch's callback, in the middle of a batch.
          if (event.revision === 150 && !nested) {
            nested = { after: 120, events: [] };
            const target = nested;
            store.watch("/registry/", { afterRevision: 120, onEvent: (e) => target.events.push(e) });
          }
        },
      });
      const writes: Array<Promise<unknown>> = [];
      for (let i = 0; i < 300; i++) {
        writes.push(store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`)));
        if (i % 40 === 39) {
          await Promise.all(writes.splice(0, writes.length - 10));
          // Some writes are still in flight: start watches from several past revisions now.
          for (const after of [1, Math.max(1, store.revision - 5), store.revision]) {
            const entry = { after, events: [] as StoreEvent[] };
            store.watch("/registry/", { afterRevision: after, onEvent: (e) => entry.events.push(e) });
            watchers.push(entry);
          }
        }
      }
      await Promise.all(writes);
      expect(store.revision).toBe(300);
      expect(nested).toBeDefined();
      for (const { after, events } of [...watchers, nested!]) {
        expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 300 - after }, (_, i) => after + 1 + i));
      }
    });

    it("a watch from a future revision delivers only changes after it", async () => {
      const store = open();
      const { events } = collect(store, "/registry/", 3);
      for (let i = 0; i < 5; i++) await store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`));
      expect(events.map((e) => e.revision)).toEqual([4, 5]);
    });

    it("serves 100 watchers on one prefix", async () => {
      const store = open();
      const all = Array.from({ length: 100 }, () => collect(store, "/registry/pods/"));
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(`/registry/pods/default/p${i}`, configMap(`p${i}`))));
      await store.create("/registry/configmaps/default/x", configMap("x"));
      for (const w of all) expect(w.events.map((e) => e.revision)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });
  });

  describe("compaction", () => {
    it("a watch from before the compacted revision fails with Compacted; from it, replays the rest", async () => {
      const store = open();
      for (let i = 0; i < 20; i++) await store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`));
      await store.compact(10);
      expect(store.compactedRevision).toBe(10);
      let err: unknown;
      try {
        store.watch("/registry/", { afterRevision: 9, onEvent: () => {} });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: "Compacted", revision: 10, message: "too old resource version: 9 (10)" });
      const { events } = collect(store, "/registry/", 10);
      await tick();
      expect(events.map((e) => e.revision)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      // Reads and watches from now are unaffected.
      expect((await store.range("/registry/")).items).toHaveLength(20);
    });

    it("compacting an already compacted revision is a no-op; a future revision is refused", async () => {
      const store = open();
      for (let i = 0; i < 5; i++) await store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`));
      await store.compact(4);
      await store.compact(2);
      expect(store.compactedRevision).toBe(4);
      await expect(store.compact(6)).rejects.toThrow(/revision 6 is in the future \(the store is at revision 5\)/);
      await expect(store.compact(-1)).rejects.toThrow(TypeError);
    });

    it("keeps at most historyLimit revisions of history", async () => {
      const store = open({ historyLimit: 10 });
      for (let i = 0; i < 5; i++) await store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`));
      expect(store.compactedRevision).toBe(0);
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.create(`/registry/configmaps/default/d${i}`, configMap(`d${i}`))));
      expect(store.revision).toBe(25);
      expect(store.compactedRevision).toBe(15);
      expect(() => store.watch("/registry/", { afterRevision: 14, onEvent: () => {} })).toThrow(/too old resource version: 14 \(15\)/);
      const { events } = collect(store, "/registry/", 15);
      await tick();
      expect(events.map((e) => e.revision)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    });

    it("refuses a historyLimit that is not a positive integer", () => {
      expect(() => factory.open({ historyLimit: 0 })).toThrow(/historyLimit must be a positive integer/);
    });
  });

  describe("close", () => {
    it("completes pending writes, ends watches with Closed, then refuses every operation", async () => {
      const store = open();
      const errors: StoreError[] = [];
      store.watch("/registry/", { onEvent: () => {}, onError: (e) => errors.push(e) });
      const pending = Array.from({ length: 10 }, (_, i) => store.create(`/registry/configmaps/default/c${i}`, configMap(`c${i}`)));
      const closing = store.close();
      const late = storeError(store.create("/registry/configmaps/default/late", configMap("late")));
      expect((await Promise.all(pending)).map((v) => v.modRevision)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect((await late).code).toBe("Closed");
      await closing;
      await store.close();
      expect(errors.map((e) => e.code)).toEqual(["Closed"]);
      expect((await storeError(store.get("/registry/configmaps/default/c1"))).code).toBe("Closed");
      expect((await storeError(store.range("/registry/"))).code).toBe("Closed");
      expect((await storeError(store.update("/registry/configmaps/default/c1", configMap("c1")))).code).toBe("Closed");
      expect((await storeError(store.delete("/registry/configmaps/default/c1"))).code).toBe("Closed");
      expect((await storeError(store.txn([]))).code).toBe("Closed");
      expect((await storeError(store.compact(1))).code).toBe("Closed");
      expect(() => store.watch("/registry/", { onEvent: () => {} })).toThrow(StoreError);
    });
  });
});

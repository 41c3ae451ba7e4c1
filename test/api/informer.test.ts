import { describe, expect, it } from "vitest";
import type { Client } from "../../src/api/client.js";
import { Informer } from "../../src/api/informer.js";
import { pod, startApi } from "./_harness.js";

const pods = { apiVersion: "v1", kind: "Pod" };

describe("informer", () => {
  it("lists, then follows the watch, with namespace and label indexes", async () => {
    const { api } = await startApi();
    await api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    await api.create(pod("a", { labels: { app: "web" } }));
    const informer = new Informer(api, pods);
    const seen: string[] = [];
    informer.addHandlers({
      add: (o) => seen.push(`add ${o.metadata.name}`),
      update: (o, n) => seen.push(`update ${n.metadata.name} ${o.metadata.resourceVersion}->${n.metadata.resourceVersion}`),
      delete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    await informer.start();
    expect(informer.hasSynced).toBe(true);
    await api.create(pod("b", { labels: { app: "db" }, namespace: "shop" }));
    const updated = await api.patch({ ...pods, namespace: "default", name: "a" }, "application/merge-patch+json", { metadata: { labels: { app: "web", v: "2" } } });
    await api.delete({ ...pods, namespace: "shop", name: "b" });
    expect(seen[0]).toBe("add a");
    expect(seen[1]).toBe("add b");
    expect(seen[2]).toMatch(/^update a \d+->\d+$/);
    expect(seen[3]).toBe("delete b");
    expect(informer.get("default", "a")?.metadata.resourceVersion).toBe(updated.metadata.resourceVersion);
    expect(informer.list("default").map((p) => p.metadata.name)).toEqual(["a"]);
    expect(informer.list("shop")).toEqual([]);
    expect(informer.withLabel("v", "2").map((p) => p.metadata.name)).toEqual(["a"]);
    expect(informer.withLabel("app", "db")).toEqual([]);
    informer.stop();
  });

  it("resumes a broken watch from its last revision, and relists when that revision was compacted", async () => {
    const { api, store } = await startApi();
    await api.create(pod("a"));
    await api.create(pod("b"));
    // A client whose watches can be broken on demand, like a dropped HTTP connection.
    const breakers: Array<{ drop: () => void; report: () => void }> = [];
    let lists = 0;
    const flaky: Client = Object.create(api);
    flaky.list = (ref, opts) => {
      lists++;
      return api.list(ref, opts);
    };
    flaky.watch = (ref, opts, onEvent, onError) => {
      const handle = api.watch(ref, opts, onEvent, onError);
      breakers.push({
        drop: () => handle.stop(),
        report: () =>
          onError?.({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 500, reason: "InternalError", message: "connection reset" }),
      });
      return handle;
    };
    const informer = new Informer(flaky, pods);
    const events: string[] = [];
    informer.addHandlers({ add: (o) => events.push(`add ${o.metadata.name}`), delete: (o) => events.push(`delete ${o.metadata.name}`) });
    await informer.start();
    expect(lists).toBe(1);
    // Break the watch: it resumes from the last revision without a relist.
    breakers.at(-1)!.drop();
    breakers.at(-1)!.report();
    await api.create(pod("c"));
    expect(lists).toBe(1);
    expect(events).toContain("add c");
    // The connection drops silently, things change, history is compacted, then the failure surfaces:
    // resuming gets 410 Gone, so the informer relists and reconciles.
    const last = breakers.at(-1)!;
    last.drop();
    await api.delete({ ...pods, namespace: "default", name: "a" });
    await api.create(pod("d"));
    await store.compact(api.revision);
    events.length = 0;
    last.report();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(lists).toBe(2);
    expect(events.sort()).toEqual(["add d", "delete a"]);
    expect(informer.list().map((p) => p.metadata.name).sort()).toEqual(["b", "c", "d"]);
    informer.stop();
  });
});

/**
 * Pod watches with `spec.nodeName=<node>` are indexed by node in the store (the cacher's
 * `NodeNameTriggerFunc`): each kubelet-style watch still sees exactly the events a full scan
 * would give it (bound, moved away, deleted, unbound pods for `spec.nodeName=`), and every event
 * reaches all its watches in the order they were started.
 */
import { describe, expect, it } from "vitest";
import type { WatchEvent } from "../../src/api/types.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import { startApi } from "./_harness.js";

const pods = { apiVersion: "v1", kind: "Pod" };

function pod(name: string) {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default" }, spec: { containers: [{ name: "c", image: "nginx" }] } };
}

describe("pod watches by node", () => {
  it("deliver what the selector selects, in watch start order, and leave other nodes' events out", async () => {
    const store = new MemoryStore();
    const { api } = await startApi(store);
    const seen: string[] = [];
    const record = (who: string) => (e: WatchEvent) => seen.push(`${who}:${e.type}:${e.object.metadata.name}`);
    const all = api.watch(pods, { resourceVersion: String(api.revision) }, record("all"));
    const n1 = api.watch(pods, { resourceVersion: String(api.revision), fieldSelector: "spec.nodeName=n1" }, record("n1"));
    const unbound = api.watch(pods, { resourceVersion: String(api.revision), fieldSelector: "spec.nodeName=" }, record("unbound"));
    const n2 = api.watch(pods, { resourceVersion: String(api.revision), fieldSelector: "spec.nodeName=n2,metadata.namespace=default" }, record("n2"));
    // Started after the others: must come after them on every event.
    const late = api.watch(pods, { resourceVersion: String(api.revision), fieldSelector: "spec.nodeName=n1" }, record("late"));

    await api.create(pod("a"));
    await api.bind({ ...pods, namespace: "default", name: "a" }, "n1");
    await api.update({ ...pod("a"), status: { phase: "Running" } }, { subresource: "status" });
    await api.create(pod("b"));
    await api.bind({ ...pods, namespace: "default", name: "b" }, "n2");
    await api.delete({ ...pods, namespace: "default", name: "a" }, { gracePeriodSeconds: 0 });

    expect(seen).toEqual([
      "all:ADDED:a",
      "unbound:ADDED:a",
      "all:MODIFIED:a",
      "n1:ADDED:a",
      "unbound:DELETED:a",
      "late:ADDED:a",
      "all:MODIFIED:a",
      "n1:MODIFIED:a",
      "late:MODIFIED:a",
      "all:ADDED:b",
      "unbound:ADDED:b",
      "all:MODIFIED:b",
      "unbound:DELETED:b",
      "n2:ADDED:b",
      "all:DELETED:a",
      "n1:DELETED:a",
      "late:DELETED:a",
    ]);
    for (const w of [all, n1, unbound, n2, late]) w.stop();
    api.stop();
    await store.close();
  });

  it("replays history to a node watch that starts in the past, then follows live events", async () => {
    const store = new MemoryStore();
    const { api } = await startApi(store);
    const from = String(api.revision);
    await api.create(pod("a"));
    await api.bind({ ...pods, namespace: "default", name: "a" }, "n1");
    const seen: string[] = [];
    const w = api.watch(pods, { resourceVersion: from, fieldSelector: "spec.nodeName=n1" }, (e) => seen.push(`${e.type}:${e.object.metadata.name}`));
    await api.create(pod("b"));
    await api.bind({ ...pods, namespace: "default", name: "b" }, "n1");
    await api.create(pod("c"));
    await api.bind({ ...pods, namespace: "default", name: "c" }, "n2");
    expect(seen).toEqual(["ADDED:a", "ADDED:b"]);
    w.stop();
    await api.create(pod("d"));
    await api.bind({ ...pods, namespace: "default", name: "d" }, "n1");
    expect(seen).toEqual(["ADDED:a", "ADDED:b"]);
    api.stop();
    await store.close();
  });
});

/**
 * The namespace controller on the virtual clock: deleting a namespace removes its content, shows
 * progress in the namespace conditions while pods terminate gracefully, then removes the
 * `kubernetes` finalizer so the API server deletes the namespace. No kubelet runs here: the test
 * plays its part by deleting terminating pods with a zero grace period.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ApiError } from "../../src/api/errors.js";
import type { KubeObject } from "../../src/api/types.js";
import { garbageCollector } from "../../src/cluster/controllers/garbage-collector.js";
import { contentConditions, namespaceController, updateConditions, type NamespaceCondition } from "../../src/cluster/controllers/namespace.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";

let cluster: TestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

const NS = "shop";
const nsRef = { apiVersion: "v1", kind: "Namespace", name: NS };

async function start(withGc = false): Promise<TestCluster> {
  cluster = await startTestCluster((ctx) => [namespaceController(ctx), ...(withGc ? [garbageCollector(ctx)] : [])]);
  await cluster.api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  return cluster;
}

function pod(name: string, nodeName?: string): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NS, labels: { app: "shop" } },
    spec: { ...(nodeName ? { nodeName } : {}), containers: [{ name: "web", image: "nginx:1.27" }] },
  };
}

async function fillNamespace(c: TestCluster): Promise<void> {
  await c.api.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: NS }, data: { mode: "prod" } });
  await c.api.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "token", namespace: NS }, stringData: { token: "s3cr3t" } });
  await c.api.create({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: NS }, spec: { selector: { app: "shop" }, ports: [{ port: 80 }] } });
  // Scheduled pods terminate gracefully (30 s by default); an unscheduled one goes at once.
  await c.api.create(pod("web-1", "node-1"));
  await c.api.create(pod("web-2", "node-1"));
  await c.api.create(pod("pending"));
}

async function count(c: TestCluster, kind: string, apiVersion = "v1"): Promise<number> {
  return (await c.api.list({ apiVersion, kind, namespace: NS })).items.length;
}

function condition(ns: KubeObject | undefined, type: string): NamespaceCondition | undefined {
  return (ns?.status?.conditions as NamespaceCondition[] | undefined)?.find((c) => c.type === type);
}

describe("namespace controller", () => {
  it("deletes configmaps, secrets, services and pods, reports the pods still terminating, then deletes the namespace", async () => {
    const c = await start();
    await fillNamespace(c);

    const deleting = await c.api.delete(nsRef);
    expect(deleting.status.phase).toBe("Terminating");
    expect(deleting.spec.finalizers).toEqual(["kubernetes"]);

    // The controller waits 5 s (namespaceDeletionGracePeriod) before acting.
    await c.clock.advance(4_000);
    expect(await count(c, "ConfigMap")).toBe(1);
    await c.clock.advance(1_500);

    expect(await count(c, "ConfigMap")).toBe(0);
    expect(await count(c, "Secret")).toBe(0);
    expect(await count(c, "Service")).toBe(0);
    const pods = (await c.api.list({ apiVersion: "v1", kind: "Pod", namespace: NS })).items;
    expect(pods.map((p) => p.metadata.name).sort()).toEqual(["web-1", "web-2"]);
    for (const p of pods) expect(p.metadata.deletionTimestamp).toBeDefined();

    const ns = c.api.peek(nsRef);
    expect(ns?.metadata.deletionTimestamp).toBeDefined();
    expect(condition(ns, "NamespaceContentRemaining")).toMatchObject({
      status: "True",
      reason: "SomeResourcesRemain",
      message: "Some resources are remaining: pods. has 2 resource instances",
    });
    expect(condition(ns, "NamespaceFinalizersRemaining")).toMatchObject({ status: "False", reason: "ContentHasNoFinalizers" });
    expect(condition(ns, "NamespaceDeletionContentFailure")).toMatchObject({ status: "False", reason: "ContentDeleted" });
    expect(condition(ns, "NamespaceDeletionDiscoveryFailure")).toMatchObject({ status: "False", reason: "ResourcesDiscovered" });
    expect(c.logs).toContain("namespace-controller: Content remaining in namespace shop, waiting 16 seconds");

    // The kubelet finishes stopping the pods.
    for (const p of pods) await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: NS, name: p.metadata.name! }, { gracePeriodSeconds: 0 });
    // Still there until the controller looks again: its own condition update re-queued the
    // namespace after the 5 s grace period, earlier than the 16 s estimate (client-go's delaying
    // queue keeps the earliest time), so the next pass is at 10 s.
    expect(c.api.peek(nsRef)).toBeDefined();
    await c.clock.advance(4_000);
    expect(c.api.peek(nsRef)).toBeDefined();
    await c.clock.advance(1_000);
    expect(c.api.peek(nsRef)).toBeUndefined();
  });

  it("refuses new content while the namespace terminates", async () => {
    const c = await start();
    await c.api.create(pod("web-1", "node-1"));
    await c.api.delete(nsRef);
    await c.clock.advance(6_000);

    let refused: unknown;
    try {
      await c.api.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "late", namespace: NS }, data: {} });
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).status).toMatchObject({
      code: 403,
      reason: "Forbidden",
      message: `configmaps "late" is forbidden: unable to create new content in namespace ${NS} because it is being terminated`,
    });
    // The namespace is still waiting on its pod.
    expect(c.api.peek(nsRef)?.status?.phase).toBe("Terminating");
  });

  it("reports content held by finalizers and waits for them", async () => {
    const c = await start();
    await c.api.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "kept", namespace: NS, finalizers: ["example.com/backup"] }, data: {} });
    await c.api.delete(nsRef);
    await c.clock.advance(6_000);

    const ns = c.api.peek(nsRef);
    expect(condition(ns, "NamespaceContentRemaining")?.message).toBe("Some resources are remaining: configmaps. has 1 resource instances");
    expect(condition(ns, "NamespaceFinalizersRemaining")).toMatchObject({
      status: "True",
      reason: "SomeFinalizersRemain",
      message: "Some content in the namespace has finalizers remaining: example.com/backup in 1 resource instances",
    });

    // The owner of the finalizer finishes its work.
    await c.api.patch({ apiVersion: "v1", kind: "ConfigMap", namespace: NS, name: "kept" }, "application/merge-patch+json", { metadata: { finalizers: null } });
    await c.clock.advance(10_000);
    expect(c.api.peek(nsRef)).toBeUndefined();
  });

  it("reports pods that outlive their grace period as a content deletion failure", async () => {
    const c = await start();
    await c.api.create(pod("stuck", "node-1"));
    await c.api.delete(nsRef);
    // No kubelet ever confirms the pod stopped: past 30 s the estimate runs out.
    await c.clock.advance(60_000);

    const ns = c.api.peek(nsRef);
    expect(condition(ns, "NamespaceDeletionContentFailure")).toMatchObject({
      status: "True",
      reason: "ContentDeletionFailed",
      message: `Failed to delete all resource types, 1 remaining: unexpected items still remain in namespace: ${NS} for gvr: { v1 pods}`,
    });
    expect(c.api.peek(nsRef)).toBeDefined();
  });

  it("runs alongside the garbage collector: owned and owning content both go, and so does the namespace", async () => {
    const c = await start(true);
    const owner = await c.api.create<KubeObject>({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "owner", namespace: NS }, data: {} });
    await c.api.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "dependent", namespace: NS, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: owner.metadata.uid!, controller: true }] },
      data: {},
    });
    await c.api.delete(nsRef);
    await c.clock.advance(30_000);
    expect(c.api.peek(nsRef)).toBeUndefined();
    expect(await count(c, "ConfigMap")).toBe(0);
    expect(c.logs.filter((l) => l.includes("error syncing") || l.includes("failed"))).toEqual([]);
  });
});

describe("namespace conditions", () => {
  it("moves lastTransitionTime only when a condition's status flips", () => {
    const status: { conditions?: NamespaceCondition[] } = {};
    const t0 = "2024-01-01T00:00:05Z";
    const remaining = contentConditions(new Map([["pods.", 2]]), new Map(), [], t0);
    expect(updateConditions(status, remaining, t0)).toBe(true);
    expect(status.conditions!.map((c) => c.type)).toEqual([
      "NamespaceDeletionDiscoveryFailure",
      "NamespaceDeletionGroupVersionParsingFailure",
      "NamespaceDeletionContentFailure",
      "NamespaceContentRemaining",
      "NamespaceFinalizersRemaining",
    ]);
    // Same content a moment later: nothing to write.
    expect(updateConditions(status, contentConditions(new Map([["pods.", 2]]), new Map(), [], "2024-01-01T00:00:10Z"), "2024-01-01T00:00:10Z")).toBe(false);
    // One pod left: message changes, transition time does not.
    expect(updateConditions(status, contentConditions(new Map([["pods.", 1]]), new Map(), [], "2024-01-01T00:00:20Z"), "2024-01-01T00:00:20Z")).toBe(true);
    const remainingNow = status.conditions!.find((c) => c.type === "NamespaceContentRemaining")!;
    expect(remainingNow).toMatchObject({ status: "True", message: "Some resources are remaining: pods. has 1 resource instances", lastTransitionTime: t0 });
    // Empty: flips to the ok variant with a new transition time.
    expect(updateConditions(status, [], "2024-01-01T00:00:30Z")).toBe(true);
    expect(status.conditions!.find((c) => c.type === "NamespaceContentRemaining")).toMatchObject({
      status: "False",
      reason: "ContentRemoved",
      message: "All content successfully removed",
      lastTransitionTime: "2024-01-01T00:00:30Z",
    });
  });
});

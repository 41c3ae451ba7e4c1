/**
 * The garbage collector on the virtual clock, against the real API server. No Deployment or
 * ReplicaSet controller runs here: owners and dependents are written by hand with the
 * ownerReferences those controllers would set, so only the collector acts on them.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { ObjectRef } from "../../src/api/client.js";
import type { KubeObject, OwnerReference } from "../../src/api/types.js";
import { garbageCollector } from "../../src/cluster/controllers/garbage-collector.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";

let cluster: TestCluster | undefined;

afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

async function start(): Promise<TestCluster> {
  cluster = await startTestCluster((ctx) => [garbageCollector(ctx)]);
  return cluster;
}

/** The reference a controller sets on what it creates (controller: true, blockOwnerDeletion: true). */
function controllerRef(owner: KubeObject, block = true): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: block };
}

function refOf(obj: KubeObject): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name! };
}

const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } });

function deployment(name: string, namespace = "default"): KubeObject {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: template(name) } };
}

function replicaSet(name: string, app: string, owners: OwnerReference[] = [], namespace = "default"): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name, namespace, labels: { app }, ownerReferences: owners },
    spec: { replicas: 2, selector: { matchLabels: { app } }, template: template(app) },
  };
}

function pod(name: string, app: string, owners: OwnerReference[], options: { nodeName?: string; namespace?: string } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: options.namespace ?? "default", labels: { app }, ownerReferences: owners },
    spec: { ...(options.nodeName ? { nodeName: options.nodeName } : {}), containers: [{ name: "web", image: "nginx:1.27" }] },
  };
}

function configMap(name: string, namespace = "default", owners: OwnerReference[] = [], finalizers?: string[]): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, ownerReferences: owners, ...(finalizers ? { finalizers } : {}) }, data: { k: "v" } };
}

/** A Deployment, its ReplicaSet and two pods of it, linked as the controllers link them. */
async function deploymentChain(c: TestCluster, options: { nodeName?: string } = {}) {
  const deploy = await c.api.create(deployment("web"));
  const rs = await c.api.create(replicaSet("web-5d9c", "web", [controllerRef(deploy)]));
  const pods = [
    await c.api.create(pod("web-5d9c-a", "web", [controllerRef(rs)], options)),
    await c.api.create(pod("web-5d9c-b", "web", [controllerRef(rs)], options)),
  ];
  return { deploy, rs, pods };
}

const exists = (c: TestCluster, obj: KubeObject) => c.api.peek(refOf(obj)) !== undefined;
const current = (c: TestCluster, obj: KubeObject) => c.api.peek(refOf(obj));

describe("garbage collector", () => {
  it("background deletion of a Deployment deletes its ReplicaSet, then the ReplicaSet's pods", async () => {
    const c = await start();
    const { deploy, rs, pods } = await deploymentChain(c);
    const bystander = await c.api.create(pod("other", "other", []));
    await c.clock.advance(1000);
    // Nothing is garbage while the owners exist.
    expect([deploy, rs, ...pods].every((o) => exists(c, o))).toBe(true);

    await c.api.delete(refOf(deploy), { propagationPolicy: "Background" });
    expect(exists(c, deploy)).toBe(false);
    await c.clock.advance(1000);

    expect(exists(c, rs)).toBe(false);
    expect(pods.some((p) => exists(c, p))).toBe(false);
    expect(exists(c, bystander)).toBe(true);
    expect(c.logs.some((l) => l.includes("Deleting ReplicaSet default/web-5d9c (propagation Background): its owner Deployment web is gone"))).toBe(true);
  });

  it("foreground deletion keeps the owner, marked for deletion, until its blocking dependents are gone", async () => {
    const c = await start();
    // Scheduled pods delete gracefully: they stay until their kubelet confirms them stopped.
    const { deploy, rs, pods } = await deploymentChain(c, { nodeName: "node-1" });
    await c.clock.advance(1000);

    await c.api.delete(refOf(deploy), { propagationPolicy: "Foreground" });
    await c.clock.advance(2000);

    const d = current(c, deploy)!;
    expect(d.metadata.deletionTimestamp).toBeDefined();
    expect(d.metadata.finalizers).toEqual(["foregroundDeletion"]);
    // The ReplicaSet has dependents of its own, so it is deleted in the foreground too.
    const r = current(c, rs)!;
    expect(r.metadata.deletionTimestamp).toBeDefined();
    expect(r.metadata.finalizers).toEqual(["foregroundDeletion"]);
    for (const p of pods) expect(current(c, p)?.metadata.deletionTimestamp).toBeDefined();

    // A minute later nothing changed: the pods still block.
    await c.clock.advance(60_000);
    expect(exists(c, deploy)).toBe(true);
    expect(exists(c, rs)).toBe(true);

    // The kubelet confirms the pods stopped.
    for (const p of pods) await c.api.delete(refOf(p), { gracePeriodSeconds: 0 });
    await c.clock.advance(1000);

    expect(exists(c, rs)).toBe(false);
    expect(exists(c, deploy)).toBe(false);
  });

  it("foreground deletion waits only for dependents with blockOwnerDeletion", async () => {
    const c = await start();
    const owner = await c.api.create(configMap("owner"));
    // A non-blocking dependent held by a finalizer of its own does not hold its owner back.
    const held = await c.api.create(configMap("held", "default", [controllerRef(owner, false)], ["example.com/hold"]));
    await c.clock.advance(1000);

    await c.api.delete(refOf(owner), { propagationPolicy: "Foreground" });
    await c.clock.advance(1000);

    expect(exists(c, owner)).toBe(false);
    const h = current(c, held)!;
    expect(h.metadata.deletionTimestamp).toBeDefined();
    expect(h.metadata.finalizers).toEqual(["example.com/hold"]);
  });

  it("orphan deletion removes the owner reference from dependents, which survive, and the owner disappears", async () => {
    const c = await start();
    const { rs, pods } = await deploymentChain(c);
    await c.clock.advance(1000);

    const deleting = await c.api.delete(refOf(rs), { propagationPolicy: "Orphan" });
    expect(deleting.metadata.finalizers).toEqual(["orphan"]);
    await c.clock.advance(1000);

    expect(exists(c, rs)).toBe(false);
    for (const p of pods) {
      const live = current(c, p)!;
      expect(live.metadata.deletionTimestamp).toBeUndefined();
      expect(live.metadata.ownerReferences ?? []).toEqual([]);
    }
    expect(c.logs.some((l) => l.includes("Orphaned 2 dependent(s) of ReplicaSet default/web-5d9c"))).toBe(true);
  });

  it("an owner reference whose uid does not match the live owner counts as absent", async () => {
    const c = await start();
    const owner = await c.api.create(configMap("owner"));
    const stale: OwnerReference = { apiVersion: "v1", kind: "ConfigMap", name: "owner", uid: "0b5e9a4e-0000-4000-8000-000000000000" };
    const dependent = await c.api.create(configMap("dependent", "default", [stale]));
    await c.clock.advance(1000);

    expect(exists(c, dependent)).toBe(false);
    expect(exists(c, owner)).toBe(true);
  });

  it("a dependent with two owners survives the deletion of one, which is removed from its references", async () => {
    const c = await start();
    const a = await c.api.create(configMap("owner-a"));
    const b = await c.api.create(configMap("owner-b"));
    const dependent = await c.api.create(configMap("shared", "default", [controllerRef(a), { ...controllerRef(b), controller: false }]));
    await c.clock.advance(1000);

    await c.api.delete(refOf(a));
    await c.clock.advance(1000);

    const live = current(c, dependent)!;
    expect(live.metadata.deletionTimestamp).toBeUndefined();
    expect(live.metadata.ownerReferences!.map((r) => r.uid)).toEqual([b.metadata.uid]);
  });

  it("a dependent of an owner in foreground deletion that has another live owner drops the waiting reference and survives", async () => {
    const c = await start();
    const a = await c.api.create(configMap("owner-a"));
    const b = await c.api.create(configMap("owner-b"));
    const dependent = await c.api.create(configMap("shared", "default", [controllerRef(a), { ...controllerRef(b), controller: false }]));
    await c.clock.advance(1000);

    await c.api.delete(refOf(a), { propagationPolicy: "Foreground" });
    await c.clock.advance(1000);

    expect(exists(c, a)).toBe(false);
    const live = current(c, dependent)!;
    expect(live.metadata.deletionTimestamp).toBeUndefined();
    expect(live.metadata.ownerReferences!.map((r) => r.uid)).toEqual([b.metadata.uid]);
  });

  it("an owner reference to another namespace is treated as absent and reported with OwnerRefInvalidNamespace", async () => {
    const c = await start();
    await c.api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
    await c.api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-b" } });
    const owner = await c.api.create(configMap("settings", "team-a"));
    const dependent = await c.api.create(configMap("copy", "team-b", [controllerRef(owner)]));
    await c.clock.advance(1000);

    expect(exists(c, dependent)).toBe(false);
    expect(exists(c, owner)).toBe(true);
    const events = (await c.api.list({ apiVersion: "v1", kind: "Event", namespace: "team-b" })).items;
    const warning = events.find((e) => e.reason === "OwnerRefInvalidNamespace");
    expect(warning).toMatchObject({ type: "Warning", involvedObject: { kind: "ConfigMap", name: "copy", namespace: "team-b" }, source: { component: "garbage-collector-controller" } });
    expect(warning!.message).toBe(`ownerRef [v1/ConfigMap, namespace: team-b, name: settings, uid: ${owner.metadata.uid}] does not exist in namespace "team-b"`);
  });

  it("a cluster-scoped object naming a namespaced owner is never collected", async () => {
    const c = await start();
    const role = await c.api.create({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "reader", ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "gone", uid: "7c1f2d3e-0000-4000-8000-000000000000" }] },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    });
    await c.clock.advance(5000);
    expect(exists(c, role)).toBe(true);
  });

  it("collects the dependents of an owner deleted while it was not running, once it starts", async () => {
    const c = await start();
    c.components[0].stop();
    const { deploy, rs, pods } = await deploymentChain(c);
    await c.api.delete(refOf(deploy));
    await c.clock.advance(1000);
    expect(exists(c, rs)).toBe(true);

    // A fresh collector builds its graph from the informers' initial lists.
    const restarted = garbageCollector(c.ctx);
    c.components.push(restarted);
    await restarted.start();
    await c.clock.advance(1000);
    expect(exists(c, rs)).toBe(false);
    expect(pods.some((p) => exists(c, p))).toBe(false);
  });
});

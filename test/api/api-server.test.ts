import { describe, expect, it } from "vitest";
import type { WatchEvent } from "../../src/api/types.js";
import { deployment, pod, startApi, statusOf } from "./_harness.js";

describe("API server: create", () => {
  it("sets uid, creationTimestamp, generation and resourceVersion, and applies defaults", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    expect(created.metadata.uid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.metadata.creationTimestamp).toBe("2024-01-01T00:00:00Z");
    expect(created.metadata.generation).toBe(1);
    expect(Number(created.metadata.resourceVersion)).toBeGreaterThan(0);
    expect(created.spec.replicas).toBe(1);
    expect(created.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } });
    expect(created.spec.revisionHistoryLimit).toBe(10);
    expect(created.status).toEqual({});
    expect(Object.isFrozen(created)).toBe(true);
  });

  it("starts pods Pending with their QoS class, ignoring a status sent on create", async () => {
    const { api } = await startApi();
    const p = pod("p");
    p.status = { phase: "Running" };
    const created = await api.create(p);
    expect(created.status).toEqual({ phase: "Pending", qosClass: "BestEffort" });
  });

  it("refuses a duplicate with 409 AlreadyExists", async () => {
    const { api } = await startApi();
    await api.create(deployment("web"));
    const status = await statusOf(() => api.create(deployment("web")));
    expect(status).toMatchObject({ code: 409, reason: "AlreadyExists", message: 'deployments.apps "web" already exists' });
  });

  it("refuses a missing namespace with 404 and a terminating one with 403", async () => {
    const { api } = await startApi();
    const missing = await statusOf(() => api.create(pod("p", { namespace: "nope" })));
    expect(missing).toMatchObject({ code: 404, reason: "NotFound", message: 'namespaces "nope" not found' });
    await api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    await api.delete({ apiVersion: "v1", kind: "Namespace", name: "shop" });
    const terminating = await statusOf(() => api.create(pod("p", { namespace: "shop" })));
    expect(terminating).toMatchObject({ code: 403, reason: "Forbidden" });
    expect(terminating.message).toContain("unable to create new content in namespace shop because it is being terminated");
  });

  it("refuses an invalid object with 422 Invalid naming the field", async () => {
    const { api } = await startApi();
    const bad = deployment("web");
    bad.spec.template.spec.containers[0].image = "";
    const status = await statusOf(() => api.create(bad));
    expect(status).toMatchObject({ code: 422, reason: "Invalid" });
    expect(status.details?.causes?.map((c) => c.field)).toContain("spec.template.spec.containers[0].image");
  });

  it("refuses an unknown kind with 404 no matches", async () => {
    const { api } = await startApi();
    const status = await statusOf(() => api.create({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } }));
    expect(status).toMatchObject({ code: 404, message: 'no matches for kind "Widget" in version "example.com/v1"' });
  });

  it("generates a name from generateName", async () => {
    const { api } = await startApi();
    const p = pod("");
    delete p.metadata.name;
    p.metadata.generateName = "web-";
    const created = await api.create(p);
    expect(created.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it("persists nothing on a dry-run create", async () => {
    const { api } = await startApi();
    const before = api.revision;
    const result = await api.create(deployment("web"), { dryRun: true });
    expect(result.spec.replicas).toBe(1);
    expect(api.revision).toBe(before);
    expect((await statusOf(() => api.get({ apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web" }))).code).toBe(404);
  });
});

describe("API server: update and generation", () => {
  it("bumps generation on spec changes only", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    const relabelled = structuredClone(created);
    relabelled.metadata.labels = { ...relabelled.metadata.labels, tier: "fe" };
    const afterLabel = await api.update(relabelled);
    expect(afterLabel.metadata.generation).toBe(1);
    const scaled = structuredClone(afterLabel);
    scaled.spec.replicas = 3;
    const afterSpec = await api.update(scaled);
    expect(afterSpec.metadata.generation).toBe(2);
    const withStatus = structuredClone(afterSpec);
    withStatus.status = { replicas: 3, observedGeneration: 2 };
    const afterStatus = await api.update(withStatus, { subresource: "status" });
    expect(afterStatus.metadata.generation).toBe(2);
    expect(afterStatus.status).toEqual({ replicas: 3, observedGeneration: 2 });
  });

  it("ignores status written through the main resource and spec written through status", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    const both = structuredClone(created);
    both.status = { replicas: 99 };
    both.spec.replicas = 4;
    const viaMain = await api.update(both);
    expect(viaMain.status).toEqual({});
    expect(viaMain.spec.replicas).toBe(4);
    const again = structuredClone(viaMain);
    again.spec.replicas = 7;
    again.status = { replicas: 4 };
    const viaStatus = await api.update(again, { subresource: "status" });
    expect(viaStatus.spec.replicas).toBe(4);
    expect(viaStatus.status).toEqual({ replicas: 4 });
  });

  it("refuses a stale resourceVersion with 409 Conflict", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    const first = structuredClone(created);
    first.spec.replicas = 2;
    await api.update(first);
    const stale = structuredClone(created);
    stale.spec.replicas = 3;
    const status = await statusOf(() => api.update(stale));
    expect(status).toMatchObject({ code: 409, reason: "Conflict" });
    expect(status.message).toContain('Operation cannot be fulfilled on deployments.apps "web": the object has been modified');
  });

  it("refuses changing an immutable selector", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    const changed = structuredClone(created);
    changed.spec.selector = { matchLabels: { app: "other" } };
    changed.spec.template.metadata.labels = { app: "other" };
    const status = await statusOf(() => api.update(changed));
    expect(status).toMatchObject({ code: 422, reason: "Invalid" });
    expect(status.details?.causes?.some((c) => c.field === "spec.selector")).toBe(true);
  });

  it("treats a uid in the request as a precondition, and drops empty metadata lists", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web" };
    const status = await statusOf(() => api.patch(ref, "application/merge-patch+json", { metadata: { uid: "other", labels: { a: "b" } } }));
    expect(status.code).toBe(409);
    expect(status.message).toContain(`Precondition failed: UID in precondition: other, UID in object meta: ${created.metadata.uid}`);
    const patched = await api.patch(ref, "application/merge-patch+json", { metadata: { ownerReferences: [], finalizers: [] } });
    expect("ownerReferences" in patched.metadata).toBe(false);
    expect("finalizers" in patched.metadata).toBe(false);
  });

  it("returns the object unchanged (same resourceVersion) for a no-op update", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    const same = await api.update(structuredClone(created));
    expect(same.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
  });
});

describe("API server: patch", () => {
  const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web" };

  it("applies a JSON patch with a resourceVersion test, and fails the test on a stale version", async () => {
    const { api } = await startApi();
    const created = await api.create(deployment("web"));
    const patched = await api.patch(ref, "application/json-patch+json", [
      { op: "test", path: "/metadata/resourceVersion", value: created.metadata.resourceVersion },
      { op: "replace", path: "/spec/replicas", value: 5 },
    ]);
    expect(patched.spec.replicas).toBe(5);
    const status = await statusOf(() =>
      api.patch(ref, "application/json-patch+json", [
        { op: "test", path: "/metadata/resourceVersion", value: created.metadata.resourceVersion },
        { op: "replace", path: "/spec/replicas", value: 6 },
      ]),
    );
    expect([409, 422]).toContain(status.code);
  });

  it("applies a merge patch and a strategic merge patch that merges containers by name", async () => {
    const { api } = await startApi();
    const d = deployment("web");
    d.spec.template.spec.containers.push({ name: "sidecar", image: "busybox:1.36" });
    await api.create(d);
    const merged = await api.patch(ref, "application/merge-patch+json", { metadata: { labels: { tier: "fe" } } });
    expect(merged.metadata.labels).toEqual({ app: "web", tier: "fe" });
    const smp = await api.patch(ref, "application/strategic-merge-patch+json", {
      spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.26" }] } } },
    });
    const containers = smp.spec.template.spec.containers;
    expect(containers.map((c: any) => `${c.name}=${c.image}`)).toEqual(["web=nginx:1.26", "sidecar=busybox:1.36"]);
    expect(smp.metadata.generation).toBe(2);
  });

  it("patches the status and scale subresources", async () => {
    const { api } = await startApi();
    await api.create(deployment("web", { replicas: 2 }));
    const status = await api.patch(ref, "application/merge-patch+json", { status: { replicas: 2 } }, { subresource: "status" });
    expect(status.status.replicas).toBe(2);
    const scale = await api.getScale(ref);
    expect(scale).toMatchObject({ apiVersion: "autoscaling/v1", kind: "Scale", spec: { replicas: 2 }, status: { replicas: 2, selector: "app=web" } });
    const scaled = await api.patch(ref, "application/merge-patch+json", { spec: { replicas: 4 } }, { subresource: "scale" });
    expect(scaled.spec.replicas).toBe(4);
    expect((await api.get(ref)).spec.replicas).toBe(4);
    const updated = await api.updateScale(ref, { ...scaled, spec: { replicas: 1 } });
    expect(updated.spec.replicas).toBe(1);
  });

  it("persists nothing on a dry-run patch", async () => {
    const { api } = await startApi();
    await api.create(deployment("web"));
    const rev = api.revision;
    const result = await api.patch(ref, "application/merge-patch+json", { spec: { replicas: 9 } }, { dryRun: true });
    expect(result.spec.replicas).toBe(9);
    expect(api.revision).toBe(rev);
    expect((await api.get(ref)).spec.replicas).toBe(1);
  });
});

describe("API server: binding", () => {
  it("binds a pod to a node once, setting PodScheduled", async () => {
    const { api } = await startApi();
    await api.create(pod("p"));
    const ref = { apiVersion: "v1", kind: "Pod", namespace: "default", name: "p" };
    const bound = await api.bind(ref, "worker-1");
    expect(bound.spec.nodeName).toBe("worker-1");
    expect(bound.status.conditions).toEqual([{ type: "PodScheduled", status: "True", lastProbeTime: null, lastTransitionTime: "2024-01-01T00:00:00Z" }]);
    const again = await statusOf(() => api.bind(ref, "worker-2"));
    expect(again).toMatchObject({ code: 409, reason: "Conflict" });
    expect(again.message).toContain('is already assigned to node "worker-1"');
  });
});

describe("API server: delete", () => {
  const podRef = (name: string) => ({ apiVersion: "v1", kind: "Pod", namespace: "default", name });

  it("deletes an unscheduled pod at once and a scheduled pod gracefully", async () => {
    const { api } = await startApi();
    await api.create(pod("pending"));
    await api.delete(podRef("pending"));
    expect((await statusOf(() => api.get(podRef("pending")))).code).toBe(404);

    await api.create(pod("running", { nodeName: "worker-1" }));
    const terminating = await api.delete(podRef("running"));
    expect(terminating.metadata.deletionTimestamp).toBe("2024-01-01T00:00:30Z");
    expect(terminating.metadata.deletionGracePeriodSeconds).toBe(30);
    // The kubelet finishes with a zero grace period.
    await api.delete(podRef("running"), { gracePeriodSeconds: 0 });
    expect((await statusOf(() => api.get(podRef("running")))).code).toBe(404);
  });

  it("keeps an object with finalizers until the last one is removed", async () => {
    const { api } = await startApi();
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default", finalizers: ["example.com/keep"] }, data: { a: "1" } };
    await api.create(cm);
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "c" };
    const deleting = await api.delete(ref);
    expect(deleting.metadata.deletionTimestamp).toBeDefined();
    const added = await statusOf(() => api.patch(ref, "application/merge-patch+json", { metadata: { finalizers: ["example.com/keep", "more"] } }));
    expect(added.code).toBe(422);
    await api.patch(ref, "application/merge-patch+json", { metadata: { finalizers: null } });
    expect((await statusOf(() => api.get(ref))).code).toBe(404);
  });

  it("adds the garbage collector's finalizer for foreground and orphan deletion", async () => {
    const { api } = await startApi();
    await api.create(deployment("fg"));
    await api.create(deployment("or"));
    const fg = await api.delete({ apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "fg" }, { propagationPolicy: "Foreground" });
    expect(fg.metadata.finalizers).toEqual(["foregroundDeletion"]);
    expect(fg.metadata.deletionTimestamp).toBeDefined();
    const or = await api.delete({ apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "or" }, { propagationPolicy: "Orphan" });
    expect(or.metadata.finalizers).toEqual(["orphan"]);
  });

  it("orphans a v1 ReplicationController's pods by default, for backward compatibility", async () => {
    const { api } = await startApi();
    await api.create({
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "rc", namespace: "default" },
      spec: { replicas: 1, selector: { app: "rc" }, template: { metadata: { labels: { app: "rc" } }, spec: { containers: [{ name: "c", image: "nginx" }] } } },
    });
    const rc = await api.delete({ apiVersion: "v1", kind: "ReplicationController", namespace: "default", name: "rc" });
    expect(rc.metadata.finalizers).toEqual(["orphan"]);
  });

  it("checks delete preconditions", async () => {
    const { api } = await startApi();
    await api.create(pod("p"));
    const status = await statusOf(() => api.delete(podRef("p"), { preconditions: { uid: "not-the-uid" } }));
    expect(status.code).toBe(409);
    expect(status.message).toContain("Precondition failed: UID in precondition: not-the-uid");
  });

  it("marks a namespace Terminating until its finalizers are cleared, and protects system namespaces", async () => {
    const { api } = await startApi();
    await api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } });
    const ns = await api.delete({ apiVersion: "v1", kind: "Namespace", name: "shop" });
    expect(ns.status.phase).toBe("Terminating");
    expect(ns.spec.finalizers).toEqual(["kubernetes"]);
    await api.update({ ...structuredClone(ns), spec: { finalizers: [] } }, { subresource: "finalize" });
    expect((await statusOf(() => api.get({ apiVersion: "v1", kind: "Namespace", name: "shop" }))).code).toBe(404);
    const protectedNs = await statusOf(() => api.delete({ apiVersion: "v1", kind: "Namespace", name: "default" }));
    expect(protectedNs).toMatchObject({ code: 403, reason: "Forbidden" });
  });

  it("persists nothing on a dry-run delete", async () => {
    const { api } = await startApi();
    await api.create(pod("p"));
    await api.delete(podRef("p"), { dryRun: true });
    expect((await api.get(podRef("p"))).metadata.name).toBe("p");
  });
});

describe("API server: list and watch", () => {
  const pods = { apiVersion: "v1", kind: "Pod", namespace: "default" };

  it("lists with label and field selectors and reports the list's resourceVersion", async () => {
    const { api } = await startApi();
    await api.create(pod("a", { labels: { app: "web" }, nodeName: "n1" }));
    await api.create(pod("b", { labels: { app: "db" }, nodeName: "n2" }));
    await api.create(pod("c", { labels: { app: "web" } }));
    const web = await api.list(pods, { labelSelector: "app=web" });
    expect(web.items.map((p) => p.metadata.name)).toEqual(["a", "c"]);
    expect(web.kind).toBe("PodList");
    expect(web.metadata.resourceVersion).toBe(String(api.revision));
    const onN1 = await api.list(pods, { fieldSelector: "spec.nodeName=n1" });
    expect(onN1.items.map((p) => p.metadata.name)).toEqual(["a"]);
    const unscheduled = await api.list(pods, { fieldSelector: "spec.nodeName=" });
    expect(unscheduled.items.map((p) => p.metadata.name)).toEqual(["c"]);
    const bad = await statusOf(() => api.list(pods, { fieldSelector: "spec.bogus=1" }));
    expect(bad.code).toBe(400);
  });

  it("pages a list with limit and continue", async () => {
    const { api } = await startApi();
    for (const n of ["a", "b", "c", "d", "e"]) await api.create(pod(n));
    const first = await api.list(pods, { limit: 2 });
    expect(first.items.map((p) => p.metadata.name)).toEqual(["a", "b"]);
    expect(first.metadata.remainingItemCount).toBe(3);
    const second = await api.list(pods, { limit: 2, continue: first.metadata.continue });
    expect(second.items.map((p) => p.metadata.name)).toEqual(["c", "d"]);
  });

  it("watches from a list's resourceVersion and sees every later change in order", async () => {
    const { api } = await startApi();
    await api.create(pod("a"));
    const list = await api.list(pods);
    const events: string[] = [];
    const w = api.watch(pods, { resourceVersion: list.metadata.resourceVersion }, (e: WatchEvent) => events.push(`${e.type} ${e.object.metadata.name}`));
    await api.create(pod("b"));
    await api.patch({ ...pods, name: "a" }, "application/merge-patch+json", { metadata: { labels: { app: "web", v: "2" } } });
    await api.delete({ ...pods, name: "b" });
    w.stop();
    await api.create(pod("c"));
    expect(events).toEqual(["ADDED b", "MODIFIED a", "DELETED b"]);
  });

  it("sends the current state first when no resourceVersion is given", async () => {
    const { api } = await startApi();
    await api.create(pod("a"));
    const events: string[] = [];
    const w = api.watch(pods, {}, (e) => events.push(`${e.type} ${e.object.metadata.name}`));
    await api.create(pod("b"));
    w.stop();
    expect(events).toEqual(["ADDED a", "ADDED b"]);
  });

  it("turns selector transitions into ADDED and DELETED, as the watch cache does", async () => {
    const { api } = await startApi();
    await api.create(pod("a", { labels: { app: "db" } }));
    const list = await api.list(pods);
    const events: string[] = [];
    const w = api.watch(pods, { resourceVersion: list.metadata.resourceVersion, labelSelector: "app=web" }, (e) =>
      events.push(`${e.type} ${e.object.metadata.name}`),
    );
    const ref = { ...pods, name: "a" };
    await api.patch(ref, "application/merge-patch+json", { metadata: { labels: { app: "web" } } });
    await api.patch(ref, "application/merge-patch+json", { metadata: { labels: { app: "web", x: "1" } } });
    await api.patch(ref, "application/merge-patch+json", { metadata: { labels: { app: "db" } } });
    w.stop();
    expect(events).toEqual(["ADDED a", "MODIFIED a", "DELETED a"]);
  });

  it("answers a watch from a compacted revision with 410 Gone", async () => {
    const { api, store } = await startApi();
    await api.create(pod("a"));
    const old = api.revision;
    await api.create(pod("b"));
    await api.create(pod("c"));
    await store.compact(api.revision);
    const status = await statusOf(async () => api.watch(pods, { resourceVersion: String(old) }, () => undefined));
    expect(status).toMatchObject({ code: 410 });
    expect(status.message).toContain("too old resource version");
  });

  it("sends bookmarks when asked", async () => {
    const { api, clock } = await startApi();
    const events: string[] = [];
    const w = api.watch(pods, { resourceVersion: String(api.revision), allowWatchBookmarks: true }, (e) =>
      events.push(`${e.type} ${e.object.metadata.resourceVersion}`),
    );
    await clock.advance(61_000);
    w.stop();
    expect(events).toEqual([`BOOKMARK ${api.revision}`]);
  });
});

describe("API server: services and versions", () => {
  it("allocates a ClusterIP from 10.96.0.0/12 and node ports from 30000-32767", async () => {
    const { api } = await startApi();
    const svc: any = await api.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web", namespace: "default" },
      spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    const [a, b] = svc.spec.clusterIP.split(".").map(Number);
    expect(a).toBe(10);
    expect(b).toBeGreaterThanOrEqual(96);
    expect(b).toBeLessThanOrEqual(111);
    expect(svc.spec.clusterIPs).toEqual([svc.spec.clusterIP]);
    expect(svc.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(svc.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    expect(svc.spec.ports[0].targetPort).toBe(80);
    expect(svc.spec.ports[0].protocol).toBe("TCP");

    const taken = await statusOf(() =>
      api.create({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "dup", namespace: "default" },
        spec: { type: "NodePort", ports: [{ port: 80, nodePort: svc.spec.ports[0].nodePort }] },
      }),
    );
    expect(taken.code).toBe(422);
    expect(taken.message).toContain("provided port is already allocated");
    const outside = await statusOf(() =>
      api.create({ apiVersion: "v1", kind: "Service", metadata: { name: "x", namespace: "default" }, spec: { clusterIP: "10.0.0.5", ports: [{ port: 80 }] } }),
    );
    expect(outside.message).toContain("The range of valid IPs is 10.96.0.0/12");
    const headless = await api.create({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "h", namespace: "default" },
      spec: { clusterIP: "None", selector: { app: "db" }, ports: [{ port: 5432 }] },
    });
    expect(headless.spec.clusterIP).toBe("None");
  });

  it("serves a HorizontalPodAutoscaler in autoscaling/v1 and v2 from one storage", async () => {
    const { api } = await startApi();
    await api.create({
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "default" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
    });
    const v2 = await api.get({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", namespace: "default", name: "web" });
    expect(v2.spec.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }]);
    const v1 = await api.get({ apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", namespace: "default", name: "web" });
    expect(v1.apiVersion).toBe("autoscaling/v1");
    expect(v1.spec.targetCPUUtilizationPercentage).toBe(60);
    expect(v1.spec.metrics).toBeUndefined();
  });

  it("creates the system namespaces at start", async () => {
    const { api } = await startApi();
    const list = await api.list({ apiVersion: "v1", kind: "Namespace" });
    expect(list.items.map((n) => n.metadata.name)).toEqual(["default", "kube-node-lease", "kube-public", "kube-system"]);
    expect(list.items.every((n) => n.status.phase === "Active")).toBe(true);
  });
});

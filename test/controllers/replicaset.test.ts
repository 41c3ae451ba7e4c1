import { afterEach, describe, expect, it } from "vitest";
import type { Client } from "../../src/api/client.js";
import { ApiError, failure } from "../../src/api/errors.js";
import type { KubeObject } from "../../src/api/types.js";
import { replicaSetController, replicationController, slowStartBatch } from "../../src/cluster/controllers/replicaset.js";
import { getPodsToDelete, POD_DELETION_COST_ANNOTATION } from "../../src/cluster/controllers/_pod-ranking.js";
import { ControllerExpectations, EXPECTATIONS_TIMEOUT_MS } from "../../src/cluster/controllers/_expectations.js";
import { VirtualClock } from "../../src/api/clock.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";
import { eventLines, fakeKubelet, listPods, runFor, setPodReady } from "./_fake-kubelet.js";

const RS = { apiVersion: "apps/v1", kind: "ReplicaSet" } as const;

function replicaSet(name: string, replicas: number, extra: { labels?: Record<string, string>; nodeName?: string; minReadySeconds?: number } = {}): KubeObject {
  const labels = extra.labels ?? { app: name };
  return {
    ...RS,
    metadata: { name, namespace: "default" },
    spec: {
      replicas,
      ...(extra.minReadySeconds ? { minReadySeconds: extra.minReadySeconds } : {}),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { ...(extra.nodeName ? { nodeName: extra.nodeName } : {}), containers: [{ name: "web", image: "nginx:1.25" }] },
      },
    },
  };
}

function bare(name: string, labels: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", labels }, spec: { containers: [{ name: "web", image: "nginx:1.25" }] } };
}

async function getRS(api: Client, name: string): Promise<KubeObject> {
  return api.get({ ...RS, namespace: "default", name });
}

/** Groups a start/end log of concurrent calls into batches: calls that overlap form one batch. */
function batchesOf(log: readonly string[]): number[] {
  const batches: number[] = [];
  let open = 0;
  for (const entry of log) {
    if (entry === "start") {
      if (open === 0) batches.push(0);
      open++;
      batches[batches.length - 1]++;
    } else open--;
  }
  return batches;
}

let cluster: TestCluster | undefined;
afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

describe("ReplicaSet controller", () => {
  it("turns 3 replicas into 3 pods named <rs>-xxxxx, controlled by the ReplicaSet, and reports them ready", async () => {
    cluster = await startTestCluster((ctx) => [replicaSetController(ctx), fakeKubelet(ctx)]);
    const { api, clock } = cluster;
    const created = await api.create(replicaSet("web", 3));
    await runFor(clock, 3000);

    const pods = await listPods(api);
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(pod.metadata.generateName).toBe("web-");
      expect(pod.metadata.labels).toEqual({ app: "web" });
      expect(pod.metadata.ownerReferences).toEqual([
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: created.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    const rs = await getRS(api, "web");
    expect(rs.status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    const events = await eventLines(api, "replicaset-controller");
    expect(events.filter((e) => e.startsWith("SuccessfulCreate: Created pod: web-"))).toHaveLength(3);
  });

  it("replaces a deleted pod (self-healing)", async () => {
    cluster = await startTestCluster((ctx) => [replicaSetController(ctx), fakeKubelet(ctx)]);
    const { api, clock } = cluster;
    await api.create(replicaSet("web", 3));
    await runFor(clock, 2000);
    const [victim] = await listPods(api);
    await api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: victim.metadata.name! });
    await runFor(clock, 2000);

    const pods = await listPods(api);
    expect(pods).toHaveLength(3);
    expect(pods.map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
    expect((await getRS(api, "web")).status.readyReplicas).toBe(3);
  });

  it("creates in slow-start batches of 1, 2, 4, ... and stops at the first batch with a failure", async () => {
    // A client that records when creates start and end, and refuses pods beyond a quota.
    let quota = Infinity;
    let created = 0;
    const log: string[] = [];
    const wrap = (client: Client): Client =>
      new Proxy(client, {
        get(target, prop, receiver) {
          if (prop !== "create") return Reflect.get(target, prop, receiver);
          return async (obj: KubeObject, opts?: unknown) => {
            if (obj.kind !== "Pod") return target.create(obj, opts as never);
            log.push("start");
            try {
              if (created >= quota) {
                throw new ApiError(
                  failure(403, "Forbidden", `pods "${obj.metadata.generateName}" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=${created}, limited: pods=${quota}`),
                );
              }
              created++;
              return await target.create(obj, opts as never);
            } finally {
              log.push("end");
            }
          };
        },
      });
    cluster = await startTestCluster((ctx) => [replicaSetController({ ...ctx, client: wrap(ctx.client) })]);
    const { api, clock } = cluster;
    await api.create(replicaSet("web", 10));
    await runFor(clock, 500);

    expect(batchesOf(log)).toEqual([1, 2, 4, 3]);
    expect(await listPods(api)).toHaveLength(10);

    // Now the quota allows 12 pods in all; scaling to 20 creates 1 + 1 and fails in the second batch.
    quota = 12;
    log.length = 0;
    await api.patch({ ...RS, namespace: "default", name: "web" }, "application/merge-patch+json", { spec: { replicas: 20 } });
    await runFor(clock, 1);
    // 1 created, then a batch of 2 with one refused; every later attempt starts slow again, with one create.
    const later = batchesOf(log);
    expect(later.slice(0, 2)).toEqual([1, 2]);
    expect(later.slice(2).every((n) => n === 1)).toBe(true);
    expect(await listPods(api)).toHaveLength(12);
    const rs = await getRS(api, "web");
    expect(rs.status.conditions).toEqual([
      expect.objectContaining({ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: expect.stringContaining("exceeded quota") }),
    ]);
    const events = await eventLines(api, "replicaset-controller");
    expect(events).toContainEqual(expect.stringMatching(/^FailedCreate: Error creating: pods "web-" is forbidden: exceeded quota/));

    // Quota lifted: the next retry creates the rest and clears the condition.
    quota = Infinity;
    await runFor(clock, 2000);
    expect(await listPods(api)).toHaveLength(20);
    expect((await getRS(api, "web")).status.conditions).toBeUndefined();
  });

  it("scales down the upstream-ranked pods first: unscheduled, then pending, then not ready, then lower deletion cost", async () => {
    cluster = await startTestCluster((ctx) => [replicaSetController(ctx)]);
    const { api, clock } = cluster;
    await api.create(replicaSet("web", 6, { nodeName: "node-1" }));
    await runFor(clock, 200);
    const pods = await listPods(api);
    expect(pods).toHaveLength(6);
    // pods[0]: Pending; pods[1]: Running, not ready; pods[2..5]: Running and Ready, pods[5] cheap to delete.
    await setPodReady(api, pods[1], false, clock.now());
    for (const p of pods.slice(2)) await setPodReady(api, p, true, clock.now());
    await api.patch({ apiVersion: "v1", kind: "Pod", namespace: "default", name: pods[5].metadata.name! }, "application/merge-patch+json", {
      metadata: { annotations: { [POD_DELETION_COST_ANNOTATION]: "-10" } },
    });
    await runFor(clock, 200);

    await api.patch({ ...RS, namespace: "default", name: "web" }, "application/merge-patch+json", { spec: { replicas: 3 } });
    await runFor(clock, 200);
    // Deleted pods of a scheduled pod wait for the kubelet (there is none here): they keep a deletionTimestamp.
    const after = await listPods(api);
    const deleted = after.filter((p) => p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    expect(deleted.sort()).toEqual([pods[0], pods[1], pods[5]].map((p) => p.metadata.name).sort());
    const events = await eventLines(api, "replicaset-controller");
    expect(events.filter((e) => e.startsWith("SuccessfulDelete"))).toEqual(
      [pods[0], pods[1], pods[5]].map((p) => `SuccessfulDelete: Deleted pod: ${p.metadata.name}`),
    );
    expect((await getRS(api, "web")).status.replicas).toBe(3);
  });

  it("ranks ready pods: ready for less time first, more restarts first, and prefers nodes crowded with related pods", () => {
    const now = Date.UTC(2024, 0, 1, 1, 0, 0);
    const at = (s: number) => new Date(now - s * 1000).toISOString().replace(".000Z", "Z");
    const pod = (name: string, node: string, readySecondsAgo: number, restarts = 0): KubeObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "default", uid: `uid-${name}`, creationTimestamp: at(3600) },
      spec: { nodeName: node, containers: [{ name: "c", image: "x" }] },
      status: {
        phase: "Running",
        conditions: [{ type: "Ready", status: "True", lastTransitionTime: at(readySecondsAgo) }],
        containerStatuses: [{ name: "c", restartCount: restarts }],
      },
    });
    const young = pod("young", "n1", 10);
    const old = pod("old", "n1", 3000);
    expect(getPodsToDelete([old, young], [], 1, now)).toEqual([young]);
    // Ready times in the same logarithmic bucket (2^41..2^42 ns, about 37 to 73 minutes ago) count as equal: UID decides.
    const a = pod("a", "n1", 2400);
    const b = pod("b", "n1", 2500);
    expect(getPodsToDelete([b, a], [], 1, now)).toEqual([a]);
    // Equal ready times: more restarts first.
    const calm = pod("calm", "n1", 2400, 0);
    const flaky = pod("flaky", "n1", 2400, 3);
    expect(getPodsToDelete([calm, flaky], [], 1, now)).toEqual([flaky]);
    // Doubled-up: the pod sharing its node with more related pods goes first.
    const lonely = pod("lonely", "n2", 3000);
    const crowded = pod("crowded", "n1", 3000);
    expect(getPodsToDelete([lonely, crowded], [lonely, crowded, pod("other", "n1", 3000)], 1, now)).toEqual([crowded]);
  });

  it("adopts a matching orphan and releases a pod whose labels stop matching", async () => {
    cluster = await startTestCluster((ctx) => [replicaSetController(ctx), fakeKubelet(ctx)]);
    const { api, clock } = cluster;
    await api.create(bare("stray", { app: "web" }));
    const rs = await api.create(replicaSet("web", 3));
    await runFor(clock, 2000);

    let pods = await listPods(api);
    expect(pods).toHaveLength(3);
    const stray = pods.find((p) => p.metadata.name === "stray")!;
    expect(stray.metadata.ownerReferences).toEqual([
      { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web", uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect((await eventLines(api, "replicaset-controller")).filter((e) => e.startsWith("SuccessfulCreate"))).toHaveLength(2);

    // Relabel a pod out of the selector (the usual way to take a pod out for debugging).
    await api.patch({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "stray" }, "application/merge-patch+json", { metadata: { labels: { app: "debug" } } });
    await runFor(clock, 2000);
    pods = await listPods(api);
    expect(pods).toHaveLength(4);
    expect(pods.find((p) => p.metadata.name === "stray")!.metadata.ownerReferences).toBeUndefined();
    expect(pods.filter((p) => p.metadata.labels?.app === "web")).toHaveLength(3);
    expect((await getRS(api, "web")).status.replicas).toBe(3);
  });

  it("never adopts a pod that is being deleted", async () => {
    cluster = await startTestCluster((ctx) => [replicaSetController(ctx)]);
    const { api, clock } = cluster;
    const doomed = bare("doomed", { app: "web" });
    doomed.spec.nodeName = "node-1"; // scheduled, so deletion waits for a kubelet that is not there
    await api.create(doomed);
    await api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "doomed" });
    await api.create(replicaSet("web", 1));
    await runFor(clock, 500);
    const pods = await listPods(api);
    expect(pods.find((p) => p.metadata.name === "doomed")!.metadata.ownerReferences).toBeUndefined();
    expect(pods.filter((p) => !p.metadata.deletionTimestamp)).toHaveLength(1);
  });

  it("counts a pod available only after minReadySeconds, and notices it without another event", async () => {
    cluster = await startTestCluster((ctx) => [replicaSetController(ctx), fakeKubelet(ctx, { readyAfterMs: 1000 })]);
    const { api, clock } = cluster;
    await api.create(replicaSet("web", 2, { minReadySeconds: 10 }));
    await runFor(clock, 2000);
    let rs = await getRS(api, "web");
    expect(rs.status.readyReplicas).toBe(2);
    expect(rs.status.availableReplicas).toBeUndefined();
    await runFor(clock, 8000);
    expect((await getRS(api, "web")).status.availableReplicas).toBeUndefined();
    await runFor(clock, 2000);
    rs = await getRS(api, "web");
    expect(rs.status.availableReplicas).toBe(2);
  });

  it("runs ReplicationControllers with their equality-based selector map", async () => {
    cluster = await startTestCluster((ctx) => [replicationController(ctx), replicaSetController(ctx), fakeKubelet(ctx)]);
    const { api, clock } = cluster;
    const rc = await api.create<KubeObject>({
      apiVersion: "v1",
      kind: "ReplicationController",
      metadata: { name: "nginx", namespace: "default" },
      spec: { replicas: 2, selector: { app: "nginx" }, template: { metadata: { labels: { app: "nginx", tier: "web" } }, spec: { containers: [{ name: "nginx", image: "nginx" }] } } },
    });
    await runFor(clock, 2000);
    const pods = await listPods(api);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^nginx-/);
      expect(pod.metadata.ownerReferences).toEqual([
        { apiVersion: "v1", kind: "ReplicationController", name: "nginx", uid: rc.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
    }
    const status = (await api.get({ apiVersion: "v1", kind: "ReplicationController", namespace: "default", name: "nginx" })).status;
    expect(status).toEqual({ replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 1 });
    expect((await eventLines(api, "replication-controller")).filter((e) => e.startsWith("SuccessfulCreate: Created pod: nginx-"))).toHaveLength(2);
    expect(await eventLines(api, "replicaset-controller")).toEqual([]);
  });

  it("slowStartBatch doubles the batch after each fully successful one and stops after a failing batch", async () => {
    const run = async (count: number, failOnCall?: number) => {
      let completed = 0;
      let calls = 0;
      const startedAt: number[] = [];
      const result = await slowStartBatch(count, 1, async () => {
        const call = ++calls;
        startedAt.push(completed);
        await Promise.resolve();
        completed++;
        if (call === failOnCall) throw new Error(`call ${call} failed`);
      });
      // Calls that started with the same number of completed calls ran in one batch.
      const batches = [...new Set(startedAt)].map((c) => startedAt.filter((x) => x === c).length);
      return { result, batches };
    };
    expect(await run(20)).toEqual({ result: { successes: 20 }, batches: [1, 2, 4, 8, 5] });
    const failed = await run(20, 5);
    expect(failed.batches).toEqual([1, 2, 4]);
    expect(failed.result.successes).toBe(6);
    expect(String(failed.result.error)).toContain("call 5 failed");
  });

  it("expectations hold back the next sync until its own creates and deletes are observed, or 5 minutes pass", async () => {
    const clock = new VirtualClock();
    const exp = new ControllerExpectations(clock);
    expect(exp.satisfied("default/web")).toBe(true);
    exp.expectCreations("default/web", 2);
    expect(exp.satisfied("default/web")).toBe(false);
    exp.creationObserved("default/web");
    expect(exp.satisfied("default/web")).toBe(false);
    exp.creationObserved("default/web");
    expect(exp.satisfied("default/web")).toBe(true);

    exp.expectDeletions("default/web", ["default/web-a", "default/web-b"]);
    exp.deletionObserved("default/web", "default/web-a");
    exp.deletionObserved("default/web", "default/web-a"); // seen again (deletionTimestamp, then gone): counted once
    exp.deletionObserved("default/web", "default/web-x"); // not one of ours
    expect(exp.pending("default/web")).toEqual({ add: 0, del: 1 });
    expect(exp.satisfied("default/web")).toBe(false);
    await clock.advance(EXPECTATIONS_TIMEOUT_MS + 1);
    expect(exp.satisfied("default/web")).toBe(true);
  });
});

import { afterEach, describe, expect, it } from "vitest";
import type { Client } from "../../src/api/client.js";
import type { KubeObject } from "../../src/api/types.js";
import { deploymentController } from "../../src/cluster/controllers/deployment.js";
import { replicaSetController } from "../../src/cluster/controllers/replicaset.js";
import { computeHash, safeEncodeString } from "../../src/cluster/controllers/_hash.js";
import { getProportion, resolveFenceposts } from "../../src/cluster/controllers/_deployment-util.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";
import { eventLines, fakeKubelet, listPods, runFor, type FakeKubeletOptions } from "./_fake-kubelet.js";

const DEPLOY = { apiVersion: "apps/v1", kind: "Deployment" } as const;
const RS = { apiVersion: "apps/v1", kind: "ReplicaSet" } as const;

interface DeploymentOptions {
  replicas?: number;
  image?: string;
  strategy?: Record<string, unknown>;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  revisionHistoryLimit?: number;
  paused?: boolean;
}

function deployment(name: string, o: DeploymentOptions = {}): KubeObject {
  const labels = { app: name };
  return {
    ...DEPLOY,
    metadata: { name, namespace: "default" },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: labels },
      ...(o.strategy ? { strategy: o.strategy } : {}),
      ...(o.minReadySeconds !== undefined ? { minReadySeconds: o.minReadySeconds } : {}),
      ...(o.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      ...(o.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: o.revisionHistoryLimit } : {}),
      ...(o.paused ? { paused: true } : {}),
      template: { metadata: { labels }, spec: { containers: [{ name: "web", image: o.image ?? "nginx:1.25" }] } },
    },
  };
}

async function start(kubelet: FakeKubeletOptions = {}): Promise<TestCluster> {
  cluster = await startTestCluster((ctx) => [deploymentController(ctx), replicaSetController(ctx), fakeKubelet(ctx, kubelet)]);
  return cluster;
}

async function getDeployment(api: Client, name = "web"): Promise<KubeObject> {
  return api.get({ ...DEPLOY, namespace: "default", name });
}

async function replicaSets(api: Client): Promise<KubeObject[]> {
  const list = await api.list({ ...RS, namespace: "default" });
  return [...list.items].sort((a, b) => Number(a.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0) - Number(b.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0));
}

async function setImage(api: Client, image: string, name = "web"): Promise<void> {
  await api.patch({ ...DEPLOY, namespace: "default", name }, "application/strategic-merge-patch+json", {
    spec: { template: { spec: { containers: [{ name: "web", image }] } } },
  });
}

async function patchSpec(api: Client, spec: Record<string, unknown>, name = "web"): Promise<void> {
  await api.patch({ ...DEPLOY, namespace: "default", name }, "application/merge-patch+json", { spec });
}

function condition(d: KubeObject, type: string): Record<string, string> | undefined {
  return (d.status?.conditions ?? []).find((c: any) => c.type === type);
}

/** One moment of a rollout, recorded after every pod watch event. */
interface Moment {
  /** Pods that exist and are not terminating. */
  total: number;
  /** Every pod object, terminating ones included. */
  all: number;
  /** Ready pods that are not terminating (available, with minReadySeconds 0). */
  available: number;
  /** Pods (terminating included) by image. */
  byImage: Record<string, number>;
}

/** Records a timeline of the pods of the default namespace from a watch. */
function recordPods(api: Client): { moments: Moment[]; stop(): void } {
  const pods = new Map<string, KubeObject>();
  const moments: Moment[] = [];
  let replaying = true;
  const record = () => {
    const live = [...pods.values()].filter((p) => !p.metadata.deletionTimestamp);
    const byImage: Record<string, number> = {};
    for (const p of pods.values()) {
      const image = p.spec.containers[0].image;
      byImage[image] = (byImage[image] ?? 0) + 1;
    }
    moments.push({
      total: live.length,
      all: pods.size,
      available: live.filter((p) => (p.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True")).length,
      byImage,
    });
  };
  // The watch first replays the current pods as ADDED events: one moment for that state, then one per change.
  const handle = api.watch({ apiVersion: "v1", kind: "Pod", namespace: "default" }, { resourceVersion: "0" }, (event) => {
    if (event.type === "BOOKMARK") return;
    if (event.type === "DELETED") pods.delete(event.object.metadata.name!);
    else pods.set(event.object.metadata.name!, event.object);
    if (!replaying) record();
  });
  replaying = false;
  record();
  return { moments, stop: () => handle.stop() };
}

let cluster: TestCluster | undefined;
afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

describe("Deployment controller", () => {
  it("creates a ReplicaSet named <deployment>-<pod-template-hash> that runs the replicas, and reports the Deployment available", async () => {
    const { api, clock } = await start();
    const d = await api.create(deployment("web", { replicas: 3 }));
    await runFor(clock, 3000);

    const [rs] = await replicaSets(api);
    const hash = rs.metadata.labels!["pod-template-hash"];
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(hash).toBe(computeHash(d.spec.template));
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.spec.selector).toEqual({ matchLabels: { app: "web", "pod-template-hash": hash } });
    expect(rs.spec.template.metadata.labels).toEqual({ app: "web", "pod-template-hash": hash });
    expect(rs.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(rs.metadata.annotations).toEqual({
      "deployment.kubernetes.io/revision": "1",
      "deployment.kubernetes.io/desired-replicas": "3",
      "deployment.kubernetes.io/max-replicas": "4",
    });

    const pods = await listPods(api);
    expect(pods).toHaveLength(3);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(new RegExp(`^web-${hash}-[a-z0-9]{5}$`));
      expect(pod.metadata.labels).toEqual({ app: "web", "pod-template-hash": hash });
    }

    const web = await getDeployment(api);
    expect(web.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    expect(web.status).toMatchObject({ observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
    expect(web.status.unavailableReplicas).toBeUndefined();
    expect(condition(web, "Available")).toMatchObject({ status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." });
    expect(condition(web, "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "web-${hash}" has successfully progressed.` });
    expect(web.status.conditions.map((c: any) => c.type)).toEqual(["Available", "Progressing"]);
    expect(await eventLines(api, "deployment-controller")).toEqual([`ScalingReplicaSet: Scaled up replica set web-${hash} from 0 to 3`]);
  });

  it("rolls 10 replicas to a new image without going below 8 available or above 13 pods at any moment", async () => {
    const { api, clock } = await start({ readyAfterMs: 2000 });
    await api.create(deployment("web", { replicas: 10 }));
    await runFor(clock, 5000);
    const timeline = recordPods(api);
    const deployments: KubeObject[] = [];
    const dWatch = api.watch({ ...DEPLOY, namespace: "default" }, { resourceVersion: "0" }, (e) => {
      if (e.type !== "BOOKMARK") deployments.push(e.object);
    });

    await setImage(api, "nginx:1.26");
    await runFor(clock, 60_000);
    timeline.stop();
    dWatch.stop();

    const moments = timeline.moments;
    expect(moments[0]).toEqual({ total: 10, all: 10, available: 10, byImage: { "nginx:1.25": 10 } });
    expect(moments.length).toBeGreaterThan(30);
    expect(Math.min(...moments.map((m) => m.available))).toBe(8);
    expect(Math.max(...moments.map((m) => m.total))).toBe(13);
    expect(Math.max(...moments.map((m) => m.all))).toBeLessThanOrEqual(13);
    // Both versions ran side by side during the rollout; at the end only the new one runs.
    expect(moments.some((m) => (m.byImage["nginx:1.25"] ?? 0) > 0 && (m.byImage["nginx:1.26"] ?? 0) > 0)).toBe(true);
    expect(moments[moments.length - 1]).toEqual({ total: 10, all: 10, available: 10, byImage: { "nginx:1.26": 10 } });
    // The Deployment's own view never reported fewer than 8 available once the first rollout finished.
    expect(Math.min(...deployments.map((d) => d.status?.availableReplicas ?? 0))).toBeGreaterThanOrEqual(8);

    const [old, cur] = await replicaSets(api);
    expect(old.spec.replicas).toBe(0);
    expect(cur.spec.replicas).toBe(10);
    expect(cur.metadata.annotations!["deployment.kubernetes.io/revision"]).toBe("2");
    const web = await getDeployment(api);
    expect(web.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("2");
    expect(condition(web, "Progressing")).toMatchObject({ reason: "NewReplicaSetAvailable" });
    const events = await eventLines(api, "deployment-controller");
    expect(events[1]).toBe(`ScalingReplicaSet: Scaled up replica set ${cur.metadata.name} from 0 to 3`);
    expect(events[2]).toBe(`ScalingReplicaSet: Scaled down replica set ${old.metadata.name} from 10 to 8`);
    expect(events[events.length - 1]).toMatch(/^ScalingReplicaSet: Scaled (up|down) replica set /);
  });

  it("brings back the first ReplicaSet when the image is reverted: it takes revision 3 and remembers revision 1", async () => {
    const { api, clock } = await start();
    await api.create(deployment("web", { replicas: 3 }));
    await runFor(clock, 5000);
    const [first] = await replicaSets(api);
    await setImage(api, "nginx:1.26");
    await runFor(clock, 20_000);
    await setImage(api, "nginx:1.25"); // git revert
    await runFor(clock, 20_000);

    const rss = await replicaSets(api);
    expect(rss).toHaveLength(2);
    const [second, back] = rss;
    expect(back.metadata.name).toBe(first.metadata.name);
    expect(back.metadata.uid).toBe(first.metadata.uid);
    expect(back.metadata.annotations!["deployment.kubernetes.io/revision"]).toBe("3");
    expect(back.metadata.annotations!["deployment.kubernetes.io/revision-history"]).toBe("1");
    expect(back.spec.replicas).toBe(3);
    expect(second.metadata.annotations!["deployment.kubernetes.io/revision"]).toBe("2");
    expect(second.spec.replicas).toBe(0);
    const web = await getDeployment(api);
    expect(web.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(condition(web, "Progressing")).toMatchObject({ reason: "NewReplicaSetAvailable", message: `ReplicaSet "${first.metadata.name}" has successfully progressed.` });
    const pods = await listPods(api);
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.metadata.labels!["pod-template-hash"] === first.metadata.labels!["pod-template-hash"])).toBe(true);
    const events = await eventLines(api, "deployment-controller");
    expect(events).toContain(`ScalingReplicaSet: Scaled up replica set ${first.metadata.name} from 0 to 1`);
    expect(events[events.length - 1]).toBe(`ScalingReplicaSet: Scaled down replica set ${second.metadata.name} from 1 to 0`);
    expect(cluster!.logs.some((l) => l.includes(`becomes the new replica set again, with revision 3 (was 1)`))).toBe(true);
  });

  it("honours the legacy deprecated.deployment.rollback.to annotation: copies the old template back and clears it", async () => {
    const { api, clock } = await start();
    await api.create(deployment("web", { replicas: 2 }));
    await runFor(clock, 5000);
    await setImage(api, "nginx:1.26");
    await runFor(clock, 15_000);
    await api.patch({ ...DEPLOY, namespace: "default", name: "web" }, "application/merge-patch+json", {
      metadata: { annotations: { "deprecated.deployment.rollback.to": "0" } },
    });
    await runFor(clock, 15_000);

    const web = await getDeployment(api);
    expect(web.metadata.annotations?.["deprecated.deployment.rollback.to"]).toBeUndefined();
    expect(web.spec.template.spec.containers[0].image).toBe("nginx:1.25");
    expect(web.spec.template.metadata.labels).toEqual({ app: "web" });
    expect(web.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("3");
    expect(await eventLines(api, "deployment-controller")).toContain('DeploymentRollback: Rolled back deployment "web" to revision 1');

    await api.patch({ ...DEPLOY, namespace: "default", name: "web" }, "application/merge-patch+json", {
      metadata: { annotations: { "deprecated.deployment.rollback.to": "9" } },
    });
    await runFor(clock, 1000);
    expect((await getDeployment(api)).metadata.annotations?.["deprecated.deployment.rollback.to"]).toBeUndefined();
    expect(await eventLines(api, "deployment-controller")).toContain("DeploymentRollbackRevisionNotFound: Unable to find the revision to rollback to.");
  });

  it("Recreate: scales the old ReplicaSet to 0 and starts new pods only when the old ones are gone", async () => {
    const { api, clock } = await start();
    await api.create(deployment("web", { replicas: 3, strategy: { type: "Recreate" } }));
    await runFor(clock, 5000);
    const timeline = recordPods(api);
    await setImage(api, "nginx:1.26");
    await runFor(clock, 1000);
    const mid = await getDeployment(api);
    await runFor(clock, 10_000);
    timeline.stop();

    expect(timeline.moments.some((m) => m.byImage["nginx:1.25"] && m.byImage["nginx:1.26"])).toBe(false);
    expect(timeline.moments.some((m) => m.all === 0)).toBe(true);
    expect(timeline.moments[timeline.moments.length - 1]).toEqual({ total: 3, all: 3, available: 3, byImage: { "nginx:1.26": 3 } });
    // Recreate tolerates no unavailability, so the Deployment is not Available while it restarts.
    expect(condition(mid, "Available")).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." });
    const [old, cur] = await replicaSets(api);
    const events = await eventLines(api, "deployment-controller");
    expect(events.slice(1)).toEqual([`ScalingReplicaSet: Scaled down replica set ${old.metadata.name} from 3 to 0`, `ScalingReplicaSet: Scaled up replica set ${cur.metadata.name} from 0 to 3`]);
    expect(old.metadata.annotations).toMatchObject({ "deployment.kubernetes.io/desired-replicas": "3", "deployment.kubernetes.io/max-replicas": "3" });
    expect(condition(await getDeployment(api), "Available")).toMatchObject({ status: "True" });
  });

  it("minReadySeconds: pods count as available only after being ready that long, which slows the rollout", async () => {
    const { api, clock } = await start({ readyAfterMs: 1000 });
    await api.create(deployment("web", { replicas: 3, minReadySeconds: 10 }));
    await runFor(clock, 5000);
    let web = await getDeployment(api);
    expect(web.status).toMatchObject({ replicas: 3, readyReplicas: 3, unavailableReplicas: 3 });
    expect(web.status.availableReplicas).toBeUndefined();
    expect(condition(web, "Available")).toMatchObject({ status: "False", reason: "MinimumReplicasUnavailable" });
    const [rs] = await replicaSets(api);
    expect(rs.spec.minReadySeconds).toBe(10);
    await runFor(clock, 7000);
    web = await getDeployment(api);
    expect(web.status.availableReplicas).toBe(3);
    expect(condition(web, "Available")).toMatchObject({ status: "True" });

    // The new pod is ready after 1 s, but the old ones stay until it has been ready for 10 s.
    await setImage(api, "nginx:1.26");
    await runFor(clock, 8000);
    let [old] = await replicaSets(api);
    expect(old.spec.replicas).toBe(3);
    await runFor(clock, 4000);
    [old] = await replicaSets(api);
    expect(old.spec.replicas).toBe(2);
  });

  it("paused: a template change does not roll out, replicas changes still apply, and resuming rolls out", async () => {
    const { api, clock } = await start();
    await api.create(deployment("web", { replicas: 3 }));
    await runFor(clock, 5000);
    await patchSpec(api, { paused: true });
    await setImage(api, "nginx:1.26");
    await runFor(clock, 10_000);

    let web = await getDeployment(api);
    expect(await replicaSets(api)).toHaveLength(1);
    expect((await listPods(api)).every((p) => p.spec.containers[0].image === "nginx:1.25")).toBe(true);
    expect(condition(web, "Progressing")).toMatchObject({ status: "Unknown", reason: "DeploymentPaused", message: "Deployment is paused" });
    expect(web.status.observedGeneration).toBe(web.metadata.generation);

    await patchSpec(api, { replicas: 5 });
    await runFor(clock, 5000);
    let [rs] = await replicaSets(api);
    expect(rs.spec.replicas).toBe(5);
    expect(rs.metadata.annotations!["deployment.kubernetes.io/desired-replicas"]).toBe("5");
    expect(await listPods(api)).toHaveLength(5);

    await patchSpec(api, { paused: false });
    await runFor(clock, 30_000);
    const rss = await replicaSets(api);
    expect(rss).toHaveLength(2);
    [rs] = rss;
    expect(rs.spec.replicas).toBe(0);
    expect((await listPods(api)).map((p) => p.spec.containers[0].image)).toEqual(Array(5).fill("nginx:1.26"));
    web = await getDeployment(api);
    expect(condition(web, "Progressing")).toMatchObject({ status: "True", reason: "NewReplicaSetAvailable" });
  });

  it("progressDeadlineSeconds: a rollout whose pods never become ready turns Progressing False, ProgressDeadlineExceeded", async () => {
    const { api, clock } = await start({ images: { "nginx:broken": "never" } });
    await api.create(deployment("web", { replicas: 3, progressDeadlineSeconds: 30 }));
    await runFor(clock, 5000);
    await setImage(api, "nginx:broken");
    await runFor(clock, 25_000);
    let web = await getDeployment(api);
    const [, broken] = await replicaSets(api);
    expect(condition(web, "Progressing")).toMatchObject({ status: "True", reason: "ReplicaSetUpdated", message: `ReplicaSet "${broken.metadata.name}" is progressing.` });

    await runFor(clock, 10_000);
    web = await getDeployment(api);
    expect(condition(web, "Progressing")).toMatchObject({
      status: "False",
      reason: "ProgressDeadlineExceeded",
      message: `ReplicaSet "${broken.metadata.name}" has timed out progressing.`,
    });
    // Nothing is undone: the old pods keep serving, so the Deployment is still Available.
    expect(condition(web, "Available")).toMatchObject({ status: "True" });
    expect(web.status).toMatchObject({ replicas: 4, updatedReplicas: 1, availableReplicas: 3, unavailableReplicas: 1 });
    const lastUpdate = Date.parse(condition(web, "Progressing")!.lastUpdateTime);
    const brokenAt = Date.parse(broken.metadata.creationTimestamp!);
    expect(lastUpdate - brokenAt).toBeGreaterThan(30_000);
    expect(lastUpdate - brokenAt).toBeLessThanOrEqual(33_000);
  });

  it("revisionHistoryLimit 2 keeps the two most recent old ReplicaSets and deletes older ones", async () => {
    const { api, clock } = await start();
    await api.create(deployment("web", { replicas: 2, revisionHistoryLimit: 2 }));
    await runFor(clock, 5000);
    for (const version of ["1.26", "1.27", "1.28", "1.29"]) {
      await setImage(api, `nginx:${version}`);
      await runFor(clock, 15_000);
    }
    const rss = await replicaSets(api);
    expect(rss.map((rs) => rs.metadata.annotations!["deployment.kubernetes.io/revision"])).toEqual(["3", "4", "5"]);
    expect(rss.map((rs) => rs.spec.replicas)).toEqual([0, 0, 2]);
    expect(rss[2].spec.template.spec.containers[0].image).toBe("nginx:1.29");
  });

  it("scales proportionally when replicas change in the middle of a rollout", async () => {
    const { api, clock } = await start({ images: { "nginx:broken": "never" } });
    await api.create(deployment("web", { replicas: 10 }));
    await runFor(clock, 5000);
    await setImage(api, "nginx:broken");
    await runFor(clock, 10_000);
    let [old, cur] = await replicaSets(api);
    // Stuck: 10 + 3 surge pods planned, 8 old must stay available because no new pod becomes ready.
    expect([old.spec.replicas, cur.spec.replicas]).toEqual([8, 5]);

    await patchSpec(api, { replicas: 15 });
    await runFor(clock, 5000);
    [old, cur] = await replicaSets(api);
    // 15 + 4 (25% surge, rounded up) = 19 pods shared by size: old 8*19/13 = 11.7 -> 12, new 5*19/13 = 7.3 -> 7.
    expect([old.spec.replicas, cur.spec.replicas]).toEqual([12, 7]);
    for (const rs of [old, cur]) {
      expect(rs.metadata.annotations).toMatchObject({ "deployment.kubernetes.io/desired-replicas": "15", "deployment.kubernetes.io/max-replicas": "19" });
    }
    const events = await eventLines(api, "deployment-controller");
    expect(events.slice(-2)).toEqual([
      `ScalingReplicaSet: Scaled up replica set ${old.metadata.name} from 8 to 12`,
      `ScalingReplicaSet: Scaled up replica set ${cur.metadata.name} from 5 to 7`,
    ]);
    expect(await listPods(api)).toHaveLength(19);
  });

  it("adopts an orphan ReplicaSet its selector matches and rolls it out like its own", async () => {
    const { api, clock } = await start();
    const orphan = await api.create<KubeObject>({
      ...RS,
      metadata: { name: "web-legacy", namespace: "default", labels: { app: "web" } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web", generation: "legacy" } },
        template: { metadata: { labels: { app: "web", generation: "legacy" } }, spec: { containers: [{ name: "web", image: "nginx:1.24" }] } },
      },
    });
    await runFor(clock, 3000);
    expect(await listPods(api)).toHaveLength(2);
    const d = await api.create(deployment("web", { replicas: 2 }));
    await runFor(clock, 20_000);

    const legacy = await api.get<KubeObject>({ ...RS, namespace: "default", name: "web-legacy" });
    expect(legacy.metadata.uid).toBe(orphan.metadata.uid);
    expect(legacy.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    expect(legacy.spec.replicas).toBe(0);
    expect((await listPods(api)).map((p) => p.spec.containers[0].image)).toEqual(["nginx:1.25", "nginx:1.25"]);
    expect((await getDeployment(api)).metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
  });
});

describe("Deployment controller, hash collisions", () => {
  it("bumps collisionCount when its ReplicaSet name is taken by another template, and uses the next hash", async () => {
    const { api, clock } = await start();
    const template = deployment("web").spec.template;
    // Let the API server default the template exactly as it will default the Deployment's.
    const probe = await api.create(deployment("probe"), { dryRun: true });
    const hash = computeHash({ ...probe.spec.template, metadata: { labels: { app: "web" } } });
    await api.create({
      ...RS,
      metadata: { name: `web-${hash}`, namespace: "default", labels: { app: "squatter" } },
      spec: { replicas: 0, selector: { matchLabels: { app: "squatter" } }, template: { metadata: { labels: { app: "squatter" } }, spec: template.spec } },
    });
    await api.create(deployment("web"));
    await runFor(clock, 5000);

    const web = await getDeployment(api);
    expect(web.status.collisionCount).toBe(1);
    const ours = (await replicaSets(api)).filter((rs) => rs.metadata.ownerReferences?.[0]?.name === "web");
    expect(ours).toHaveLength(1);
    expect(ours[0].metadata.name).toBe(`web-${computeHash(web.spec.template, 1)}`);
    expect(ours[0].metadata.name).not.toBe(`web-${hash}`);
    expect(await listPods(api, "default", "app=web")).toHaveLength(3);
  });
});

describe("Deployment arithmetic", () => {
  it("rounds maxSurge up and maxUnavailable down, allowing one unavailable pod when both come out 0", () => {
    expect(resolveFenceposts("25%", "25%", 10)).toEqual({ surge: 3, unavailable: 2 });
    expect(resolveFenceposts("25%", "25%", 4)).toEqual({ surge: 1, unavailable: 1 });
    expect(resolveFenceposts("25%", "25%", 1)).toEqual({ surge: 1, unavailable: 0 });
    expect(resolveFenceposts(0, "10%", 5)).toEqual({ surge: 0, unavailable: 1 });
    expect(resolveFenceposts(2, 1, 10)).toEqual({ surge: 2, unavailable: 1 });
    expect(() => resolveFenceposts("two", 1, 10)).toThrow(/not a percentage/);
  });

  it("renders hashes with the SafeEncodeString alphabet, digit by digit", () => {
    expect(safeEncodeString("0123456789")).toBe("456789bcdf");
    expect(safeEncodeString("1804289383")).toBe("5d486df7d7");
    const template = { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx" }] } };
    expect(computeHash(template)).toBe(computeHash(JSON.parse(JSON.stringify(template))));
    expect(computeHash(template)).not.toBe(computeHash(template, 1));
  });

  it("shares added replicas in proportion to each ReplicaSet's size before the change", () => {
    const d: KubeObject = { ...DEPLOY, metadata: { name: "web" }, spec: { replicas: 20, strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } } }, status: { replicas: 13 } };
    const rs = (replicas: number): KubeObject => ({ ...RS, metadata: { name: "x", annotations: { "deployment.kubernetes.io/max-replicas": "13" } }, spec: { replicas } });
    // 20 + 5 = 25 allowed: 8 * 25 / 13 = 15.4 -> +7, then 5 * 25 / 13 = 9.6 -> +5 (capped by what is left).
    expect(getProportion(rs(8), d, 12, 0)).toBe(7);
    expect(getProportion(rs(5), d, 12, 7)).toBe(5);
    expect(getProportion(rs(5), d, 12, 12)).toBe(0);
  });
});

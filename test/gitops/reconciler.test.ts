/**
 * The reconciler engine, one behaviour at a time: validation of every object before anything is
 * applied (errors with file, line and column), immutable fields, namespaces created by the same
 * commit, apply and prune order, conflicts, dry runs, hints, what is recorded, status, and the
 * state it defends against drift.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Client, ObjectRef, PatchType, WriteOptions } from "../../src/api/client.js";
import { VirtualClock } from "../../src/api/clock.js";
import { ApiError } from "../../src/api/errors.js";
import { JSON_PATCH, MERGE_PATCH } from "../../src/api/patch/index.js";
import { ApiServer } from "../../src/api/server/api-server.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import { MemoryHistory } from "../../src/gitops/history.js";
import { Reconciler, type ReconcilerOptions } from "../../src/gitops/reconciler.js";
import { TRACKING_ANNOTATION } from "../../src/gitops/tracking.js";
import { seeded } from "../api/_harness.js";
import { TestRepo } from "./_git.js";

const repos: TestRepo[] = [];
afterAll(() => {
  for (const r of repos) r.remove();
});

function newRepo(): TestRepo {
  const repo = TestRepo.init();
  repos.push(repo);
  return repo;
}

async function startApi(): Promise<{ api: ApiServer; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const api = new ApiServer({ store: new MemoryStore(), clock, random: seeded() });
  await api.start();
  return { api, clock };
}

function reconciler(repo: TestRepo, client: Client, clock: VirtualClock, extra: Partial<ReconcilerOptions> = {}): Reconciler {
  return new Reconciler({ client, clock, repoDir: repo.dir, history: new MemoryHistory(), repoName: "learner", ...extra });
}

function deployment(name: string, opts: { replicas?: number; app?: string; namespace?: string } = {}): string {
  const app = opts.app ?? name;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${opts.namespace ? `  namespace: ${opts.namespace}\n` : ""}spec:
  replicas: ${opts.replicas ?? 1}
  selector:
    matchLabels:
      app: ${app}
  template:
    metadata:
      labels:
        app: ${app}
    spec:
      containers:
      - name: main
        image: nginx:1.27
`;
}

const webRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web" };

async function exists(api: Client, ref: ObjectRef): Promise<boolean> {
  try {
    await api.get(ref);
    return true;
  } catch {
    return false;
  }
}

describe("validation before any change", () => {
  it("refuses a change to an immutable field with the way out, at the field's line, and changes nothing", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web") });
    const r = reconciler(repo, api, clock);
    await r.sync();
    const before = (await api.get(webRef)).metadata.resourceVersion;
    repo.commitFiles("Relabel web", { "web.yaml": deployment("web", { app: "frontend", replicas: 3 }) });
    const result = await r.sync();
    expect(result.result).toBe("Refused");
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatchObject({ file: "web.yaml", line: 7, column: 3, field: "spec.selector" });
    expect(result.errors[0].message).toBe(
      "spec.selector of Deployment web cannot change: delete the Deployment (kubectl delete deploy web --cascade=orphan keeps its pods) or rename it in git so it is created anew",
    );
    expect((await api.get(webRef)).metadata.resourceVersion).toBe(before);
  });

  it("applies objects in a namespace the same commit creates, namespace first", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Team namespace", {
      "team/web.yaml": deployment("web", { namespace: "team" }),
      "team/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
    });
    const result = await reconciler(repo, api, clock).sync();
    expect(result.result).toBe("Synced");
    expect(result.operations.map((o) => `${o.kind} ${o.name}`)).toEqual(["Namespace team", "Deployment web"]);
    expect(await exists(api, { ...webRef, namespace: "team" })).toBe(true);
  });

  it("names the namespace line when a namespace does not exist, and the kind line for a kind the API does not serve", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Typos", {
      "web.yaml": deployment("web", { namespace: "tema" }),
      "cron.yaml": "apiVersion: batch/v1beta1\nkind: CronJob\nmetadata:\n  name: nightly\nspec: {}\n",
    });
    const result = await reconciler(repo, api, clock).sync();
    expect(result.result).toBe("Refused");
    expect(result.errors.map((e) => e.text)).toEqual([
      'cron.yaml:2:1 kind: no matches for kind "CronJob" in version "batch/v1beta1": batch/v1beta1 CronJob was removed in Kubernetes v1.25; use apiVersion: batch/v1',
      'web.yaml:5:3 metadata.namespace: namespaces "tema" not found: add a Namespace named tema to the repository (kind: Namespace), or use an existing namespace',
    ]);
  });

  it("dry-runs without applying or recording anything, listing what a sync would do", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web") });
    const r = reconciler(repo, api, clock);
    const dry = await r.sync({ dryRun: true });
    expect(dry).toMatchObject({ result: "Synced", dryRun: true });
    expect(dry.operations.map((o) => `${o.action} ${o.name}`)).toEqual(["create web"]);
    expect(dry.entry).toBeUndefined();
    expect(await exists(api, webRef)).toBe(false);
    expect(await r.history.list()).toEqual([]);
  });
});

describe("apply and prune", () => {
  it("applies in dependency order whatever the file order, and prunes in reverse", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    const files = {
      "a-ingress.yaml": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
spec:
  defaultBackend:
    service:
      name: web
      port:
        number: 80
`,
      "b-hpa.yaml": `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 3
`,
      "c-web.yaml": deployment("web"),
      "d-svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
      "e-cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata: {a: b}\n",
      "f-sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n",
      "g-ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n",
    };
    repo.commitFiles("Everything", files);
    const r = reconciler(repo, api, clock);
    const result = await r.sync();
    const order = ["Namespace", "ServiceAccount", "ConfigMap", "Service", "Deployment", "HorizontalPodAutoscaler", "Ingress"];
    expect(result.operations.map((o) => o.kind)).toEqual(order);

    for (const f of Object.keys(files)) if (f !== "c-web.yaml") repo.delete(f);
    repo.commit("Only the Deployment");
    const pruned = await r.sync();
    expect(pruned.operations.map((o) => `${o.action} ${o.kind}`)).toEqual(
      ["Ingress", "HorizontalPodAutoscaler", "Service", "ConfigMap", "ServiceAccount", "Namespace"].map((k) => `delete ${k}`),
    );
  });

  it("keeps a namespace removed from git while it holds an object made by hand", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Team", {
      "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
      "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team\ndata: {a: b}\n",
      "web.yaml": deployment("web"),
    });
    const r = reconciler(repo, api, clock);
    await r.sync();
    await api.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "notes", namespace: "team" }, data: { mine: "yes" } });
    repo.delete("ns.yaml");
    repo.delete("cm.yaml");
    repo.commit("Drop the team");
    const result = await r.sync();
    expect(result.operations.map((o) => `${o.action} ${o.kind} ${o.name}`)).toEqual(["delete ConfigMap settings"]);
    expect(result.warnings).toEqual([
      "Namespace team was removed from git but is kept: it holds ConfigMap team/notes, which git does not manage and deleting the namespace would delete; delete it by hand if you mean it (kubectl delete namespace team)",
    ]);
    expect(await exists(api, { apiVersion: "v1", kind: "Namespace", name: "team" })).toBe(true);
  });

  it("prunes a namespace whose other objects were made by controllers (a Service's Endpoints, owned objects)", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Team", {
      "ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n",
      "svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: team\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n",
      "web.yaml": deployment("web"),
    });
    const r = reconciler(repo, api, clock);
    await r.sync();
    // What the endpoints and ReplicaSet controllers would have written.
    await api.create({ apiVersion: "v1", kind: "Endpoints", metadata: { name: "web", namespace: "team" } });
    const svc = await api.get({ apiVersion: "v1", kind: "Service", namespace: "team", name: "web" });
    await api.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "owned", namespace: "team", ownerReferences: [{ apiVersion: "v1", kind: "Service", name: "web", uid: svc.metadata.uid! }] },
    });
    repo.delete("ns.yaml");
    repo.delete("svc.yaml");
    repo.commit("Drop the team");
    const result = await r.sync();
    expect(result.warnings).toEqual([]);
    expect(result.operations.map((o) => `${o.action} ${o.kind} ${o.name}`)).toEqual(["delete Service web", "delete Namespace team"]);
  });

  it("re-reads and retries an object that changed between the diff and the patch, keeping the other writer's change", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web") });
    await reconciler(repo, api, clock).sync();
    repo.commitFiles("Scale web", { "web.yaml": deployment("web", { replicas: 4 }) });
    // A client whose first real JSON patch races with another writer labelling the object.
    let raced = 0;
    const racing: Client = Object.create(api);
    racing.patch = async <T,>(ref: ObjectRef, type: PatchType, patch: unknown, options?: WriteOptions & { subresource?: "status" | "scale" | "finalize" }): Promise<T> => {
      if (type === JSON_PATCH && !options?.dryRun && raced === 0) {
        raced++;
        await api.patch(ref, MERGE_PATCH, { metadata: { labels: { touched: "yes" } } });
      }
      return api.patch(ref, type, patch, options) as Promise<T>;
    };
    const result = await reconciler(repo, racing, clock).sync();
    expect(raced).toBe(1);
    expect(result.result).toBe("Synced");
    const live = await api.get(webRef);
    expect(live.spec.replicas).toBe(4);
    expect(live.metadata.labels).toEqual({ touched: "yes" });
  });

  it("takes over an object another repository applied, with a warning", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web") });
    await reconciler(repo, api, clock, { repoName: "other" }).sync();
    const result = await reconciler(repo, api, clock).sync();
    expect(result.warnings).toEqual(["Deployment default/web was applied from another repository (other); this repository takes it over"]);
    expect((await api.get(webRef)).metadata.annotations?.[TRACKING_ANNOTATION]).toBe("learner:apps/Deployment:default/web");
  });
});

describe("the repository", () => {
  it("reports uncommitted changes as hints and never applies them", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web") });
    const r = reconciler(repo, api, clock);
    await r.sync();
    repo.write("web.yaml", deployment("web", { replicas: 9 }));
    repo.write("new.yaml", deployment("new"));
    const result = await r.sync();
    expect(result.result).toBe("NoChange");
    expect(result.hints).toEqual([
      'new.yaml is new and not committed: only committed files are applied (git add new.yaml && git commit -m "...")',
      'web.yaml has changes that are not committed: only committed files are applied (git commit -am "...")',
    ]);
    expect((await api.get(webRef)).spec.replicas).toBe(1);
    expect(await exists(api, { ...webRef, name: "new" })).toBe(false);
  });

  it("reports a missing or empty repository clearly and leaves the cluster as it is", async () => {
    const { api, clock } = await startApi();
    const repo = newRepo();
    const empty = await reconciler(repo, api, clock).sync();
    expect(empty.result).toBe("Failed");
    expect(empty.commit).toBeUndefined();
    expect(empty.errors[0].text).toContain("has no commits yet");
    const missing = await new Reconciler({ client: api, clock, repoDir: `${repo.dir}/nope`, history: new MemoryHistory() }).sync();
    expect(missing.errors[0].text).toContain("does not exist");
  });
});

describe("history", () => {
  it("records every manual attempt, but not periodic resyncs that change nothing or fail as before", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web") });
    const r = reconciler(repo, api, clock);
    await r.sync();
    await r.sync({ trigger: "resync" });
    await r.sync();
    repo.commitFiles("Break web", { "web.yaml": deployment("web").replace("replicas: 1", "replicas: many") });
    await r.sync({ trigger: "commit" });
    await r.sync({ trigger: "resync" });
    await r.sync({ trigger: "resync" });
    expect((await r.history.list()).map((e) => `${e.id} ${e.trigger} ${e.result}`)).toEqual(["1 manual Synced", "2 manual NoChange", "3 commit Refused"]);
  });
});

describe("status", () => {
  it("reports per object sync and health, drift, objects to prune, and the overall worst health", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add", {
      "web.yaml": deployment("web"),
      "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata: {a: b}\n",
    });
    const r = reconciler(repo, api, clock);
    await r.sync();
    let status = await r.status();
    expect(status.sync).toBe("Synced");
    expect(status.objects.map((o) => [o.kind, o.sync, o.health])).toEqual([
      ["ConfigMap", "Synced", "Healthy"],
      // No controllers run here: the Deployment's status never reports the rollout.
      ["Deployment", "Synced", "Progressing"],
    ]);
    expect(status.health).toBe("Progressing");
    expect(status.healthMessage).toMatch(/^Deployment default\/web: Waiting for rollout to finish/);

    await api.patch({ apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings" }, MERGE_PATCH, { data: { a: "changed" } });
    repo.commitFiles("Add worker, drop config", { "worker.yaml": deployment("worker") });
    repo.delete("cm.yaml");
    repo.commit("Drop config");
    status = await r.status();
    expect(status.sync).toBe("OutOfSync");
    expect(status.objects.map((o) => [o.kind, o.name, o.sync, o.health, o.message])).toEqual([
      ["Deployment", "web", "Synced", "Progressing", ""],
      ["Deployment", "worker", "OutOfSync", "Missing", "missing from the cluster: the next sync creates it"],
      ["ConfigMap", "settings", "OutOfSync", "Healthy", "no longer in git: the next sync prunes it"],
    ]);
    expect(status.health).toBe("Missing");
  });
});

describe("drift against the last good commit", () => {
  it("after a restart with a refused head, defends the state recorded on the objects", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web", { replicas: 2 }) });
    await reconciler(repo, api, clock).sync();
    repo.commitFiles("Break web", { "web.yaml": deployment("web", { replicas: 2 }).replace("image: nginx:1.27", "image: ''") });

    const restarted = reconciler(repo, api, clock);
    expect((await restarted.sync({ trigger: "start" })).result).toBe("Refused");
    await api.patch(webRef, MERGE_PATCH, { spec: { replicas: 6 } });
    const [report] = await restarted.checkDrift();
    expect(report.sentences).toEqual(["replicas was changed from 2 to 6 outside git"]);
    const healed = await restarted.heal([report.key]);
    expect(healed.result).toBe("Synced");
    expect((await api.get(webRef)).spec.replicas).toBe(2);
    expect((await api.get(webRef)).spec.template.spec.containers[0].image).toBe("nginx:1.27");
  });

  it("turns an API failure while applying into a Failed sync with the object's position", async () => {
    const repo = newRepo();
    const { api, clock } = await startApi();
    repo.commitFiles("Add web", { "web.yaml": deployment("web") });
    const failing: Client = Object.create(api);
    failing.create = async () => {
      throw new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", code: 500, reason: "InternalError", message: "Internal error occurred: disk full" });
    };
    // Dry-runs pass through; only the real create fails.
    const dryRunning: Client = Object.create(failing);
    dryRunning.create = (obj, options) => (options?.dryRun ? api.create(obj, options) : failing.create(obj, options));
    const result = await reconciler(repo, dryRunning, clock).sync();
    expect(result.result).toBe("Failed");
    expect(result.errors.map((e) => e.text)).toEqual(["web.yaml:1:1 Internal error occurred: disk full"]);
  });
});

/**
 * End to end: real git repositories made by the real `git` CLI, the reconciler, and the
 * in-process API server (no controllers: objects just exist). Each test is one thing a learner
 * does: commit, amend, revert, reset, gc, commit a broken file, delete a manifest, make an object
 * by hand, change an object behind git's back, let an HPA scale, restart.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Client } from "../../src/api/client.js";
import { VirtualClock } from "../../src/api/clock.js";
import { MERGE_PATCH } from "../../src/api/patch/index.js";
import { ApiServer } from "../../src/api/server/api-server.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import { openSqliteStore } from "../../src/api/store/sqlite-store.js";
import type { KubeObject } from "../../src/api/types.js";
import { runDiff } from "../../src/cli/commands/diff.js";
import { runHistory } from "../../src/cli/commands/history.js";
import { runStatus } from "../../src/cli/commands/status.js";
import { runSync } from "../../src/cli/commands/sync.js";
import { FileHistory, MemoryHistory, type HistoryEntry } from "../../src/gitops/history.js";
import { keyOf } from "../../src/gitops/_live.js";
import { loadManifests } from "../../src/gitops/load.js";
import { Reconciler, type DriftReport } from "../../src/gitops/reconciler.js";
import { TRACKING_ANNOTATION } from "../../src/gitops/tracking.js";
import { Watcher } from "../../src/gitops/watcher.js";
import { seeded } from "../api/_harness.js";
import { TestRepo } from "./_git.js";
import { CORPUS_DIR } from "../_corpus.js";

const cleanup: Array<() => void> = [];
afterAll(() => {
  for (const fn of cleanup.reverse()) fn();
});

function newRepo(): TestRepo {
  const repo = TestRepo.init();
  cleanup.push(() => repo.remove());
  return repo;
}

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startCluster(store = new MemoryStore()): Promise<{ api: ApiServer; clock: VirtualClock }> {
  const clock = new VirtualClock();
  const api = new ApiServer({ store, clock, random: seeded() });
  await api.start();
  return { api, clock };
}

function reconcilerFor(repo: TestRepo, api: Client, clock: VirtualClock, extra: Partial<ConstructorParameters<typeof Reconciler>[0]> = {}): Reconciler {
  return new Reconciler({ client: api, clock, repoDir: repo.dir, history: new MemoryHistory(), repoName: "learner", ...extra });
}

function deployment(name: string, replicas: number | string, image = "nginx:1.27"): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels:
    app: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: ${name}
        image: ${image}
        ports:
        - containerPort: 80
        resources:
          requests:
            cpu: 0.5
            memory: 64Mi
`;
}

function service(name: string, port: number | string = 80): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: ${name}
  ports:
  - port: ${port}
    targetPort: 80
`;
}

const CONFIG = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  LOG_LEVEL: info
---
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cret
`;

const HPA = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
`;

const webRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web" };

async function exists(api: Client, ref: { apiVersion: string; kind: string; namespace?: string; name: string }): Promise<boolean> {
  try {
    await api.get(ref);
    return true;
  } catch {
    return false;
  }
}

async function replicas(api: Client): Promise<number> {
  return (await api.get(webRef)).spec.replicas;
}

describe("following git", () => {
  it("syncs a commit, and a second sync of the same commit finds zero operations", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    const oid = repo.commitFiles("Add web", { "apps/web.yaml": deployment("web", 2), "apps/web-svc.yaml": service("web"), "config.yaml": CONFIG });
    const r = reconcilerFor(repo, api, clock);

    const first = await r.sync();
    expect(first.result).toBe("Synced");
    expect(first.commit?.oid).toBe(oid);
    expect(first.operations.map((o) => `${o.action} ${o.kind} ${o.name}`)).toEqual([
      "create ConfigMap settings",
      "create Secret db",
      "create Service web",
      "create Deployment web",
    ]);
    const web = await api.get(webRef);
    expect(web.spec.replicas).toBe(2);
    expect(web.metadata.annotations?.[TRACKING_ANNOTATION]).toBe("learner:apps/Deployment:default/web");

    const second = await r.sync();
    expect(second.result).toBe("NoChange");
    expect(second.operations).toEqual([]);
    const dry = await r.sync({ dryRun: true });
    expect(dry.operations).toEqual([]);
    const history = await r.history.list();
    expect(history.map((e) => [e.commit, e.result])).toEqual([
      [oid, "Synced"],
      [oid, "NoChange"],
    ]);
    expect(history[0]).toMatchObject({ subject: "Add web", trigger: "manual", author: { name: "Ada Learner", email: "ada@example.com" } });
  });

  it("takes the amended commit as the desired state after git commit --amend", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    repo.commitFiles("Add web", { "web.yaml": deployment("web", 2) });
    const r = reconcilerFor(repo, api, clock);
    await r.sync();
    repo.write("web.yaml", deployment("web", 4));
    repo.git("add", "-A");
    repo.git("commit", "-q", "--amend", "-m", "Add web with 4 replicas");
    const amended = repo.head();
    const result = await r.sync();
    expect(result.result).toBe("Synced");
    expect(result.commit?.oid).toBe(amended);
    expect(result.commit?.subject).toBe("Add web with 4 replicas");
    expect(await replicas(api)).toBe(4);
  });

  it("rolls back with git revert, and the history shows the rollback", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    const state = tempDir("kubelings-state-");
    const history = FileHistory.open(state);
    repo.commitFiles("Add web", { "web.yaml": deployment("web", 2) });
    const r = reconcilerFor(repo, api, clock, { history });
    await r.sync();
    const bad = repo.commitFiles("Scale web to 10", { "web.yaml": deployment("web", 10) });
    await r.sync();
    expect(await replicas(api)).toBe(10);

    repo.git("revert", "--no-edit", "HEAD");
    const result = await r.sync();
    expect(result.result).toBe("Synced");
    expect(result.commit?.reverts).toBe(bad);
    expect(await replicas(api)).toBe(2);

    const entries = await history.list();
    expect(entries[entries.length - 1]).toMatchObject({ result: "Synced", subject: 'Revert "Scale web to 10"', reverts: bad });
    const out = capture();
    expect(await runHistory({ state }, out.io)).toBe(0);
    expect(out.stdout()).toContain(`Revert "Scale web to 10" (rollback of ${bad.slice(0, 7)})`);
  });

  it("follows git reset --hard to an earlier commit: the later objects are pruned", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    const first = repo.commitFiles("Add web", { "web.yaml": deployment("web", 2) });
    repo.commitFiles("Add worker, scale web", { "web.yaml": deployment("web", 3), "worker.yaml": deployment("worker", 1) });
    const r = reconcilerFor(repo, api, clock);
    await r.sync();
    expect(await exists(api, { ...webRef, name: "worker" })).toBe(true);

    repo.git("reset", "-q", "--hard", first);
    const result = await r.sync();
    expect(result.result).toBe("Synced");
    expect(result.commit?.oid).toBe(first);
    expect(await replicas(api)).toBe(2);
    expect(await exists(api, { ...webRef, name: "worker" })).toBe(false);
    expect(result.operations.map((o) => `${o.action} ${o.name}`)).toEqual(["patch web", "delete worker"]);
  });

  it("still reads the repository after git gc packs objects and refs", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    repo.commitFiles("Add web", { "web.yaml": deployment("web", 2) });
    const r = reconcilerFor(repo, api, clock);
    await r.sync();
    repo.git("gc", "-q");
    expect(fs.existsSync(path.join(repo.dir, ".git", "packed-refs"))).toBe(true);
    expect((await r.sync()).result).toBe("NoChange");
    repo.commitFiles("Scale web", { "web.yaml": deployment("web", 5) });
    expect((await r.sync()).result).toBe("Synced");
    expect(await replicas(api)).toBe(5);
  });
});

describe("a commit is applied whole or not at all", () => {
  it("refuses a commit with one invalid file among valid ones: nothing applied, every error listed with file and line", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    const good = repo.commitFiles("Add web", { "apps/web.yaml": deployment("web", 2) });
    const r = reconcilerFor(repo, api, clock);
    await r.sync();
    const before = await api.get(webRef);

    const bad = repo.commitFiles("Scale web, add api and config", {
      "apps/web.yaml": deployment("web", 5),
      "apps/api.yaml": deployment("api", '"three"'),
      "apps/api-svc.yaml": service("api", 70000),
      "config.yaml": CONFIG,
    });
    const result = await r.sync();
    expect(result.result).toBe("Refused");
    expect(result.operations).toEqual([]);
    expect(result.errors.map((e) => e.text)).toEqual([
      "apps/api-svc.yaml:9:5 spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'apps/api.yaml:8:3 spec.replicas: Invalid value: "three": expected integer, got string',
    ]);
    expect(result.errors[1]).toMatchObject({ file: "apps/api.yaml", line: 8, column: 3, field: "spec.replicas", object: "Deployment default/api" });
    // The cluster stays on the last good commit.
    const after = await api.get(webRef);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(await exists(api, { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings" })).toBe(false);
    expect(await exists(api, { ...webRef, name: "api" })).toBe(false);
    const entries = await r.history.list();
    expect(entries[entries.length - 1]).toMatchObject({ commit: bad, result: "Refused", operations: [] });
    expect(r.lastSynced?.oid).toBe(good);

    const status = await r.status();
    expect(status.errorsCommit).toBe(bad);
    expect(status.errors.map((e) => [e.file, e.line])).toEqual([
      ["apps/api-svc.yaml", 9],
      ["apps/api.yaml", 8],
    ]);
    expect(status.sync).toBe("OutOfSync");
    expect(status.lastSynced?.oid).toBe(good);
  });

  it("refuses a commit whose YAML does not parse, naming the file and line", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    repo.commitFiles("Add web", { "web.yaml": deployment("web", 2) });
    const r = reconcilerFor(repo, api, clock);
    await r.sync();
    repo.commitFiles("Broken", { "web.yaml": deployment("web", 3), "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n\tdata: {}\n" });
    const result = await r.sync();
    expect(result.result).toBe("Refused");
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0].text).toMatch(/^broken\.yaml:5:1 invalid YAML/);
    expect(await replicas(api)).toBe(2);
  });
});

describe("ownership and prune", () => {
  it("prunes the object of a deleted manifest, and keeps it with prune off", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    repo.commitFiles("Add web and config", { "web.yaml": deployment("web", 2), "config.yaml": CONFIG });
    const keep = reconcilerFor(repo, api, clock, { prune: false });
    await keep.sync();
    repo.delete("config.yaml");
    repo.commit("Drop the config");
    const kept = await keep.sync();
    expect(kept.result).toBe("NoChange");
    expect(kept.warnings).toEqual(["2 objects are no longer in git but kept because prune is off (e.g. ConfigMap default/settings)"]);
    const cm = { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings" };
    expect(await exists(api, cm)).toBe(true);

    const pruned = await reconcilerFor(repo, api, clock).sync();
    expect(pruned.result).toBe("Synced");
    expect(pruned.operations.map((o) => `${o.action} ${o.kind} ${o.name}`)).toEqual(["delete Secret db", "delete ConfigMap settings"]);
    expect(await exists(api, cm)).toBe(false);
  });

  it("never prunes an object made by hand, nor a copy carrying another object's tracking id", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    repo.commitFiles("Add web and config", { "web.yaml": deployment("web", 2), "config.yaml": CONFIG });
    const r = reconcilerFor(repo, api, clock);
    await r.sync();
    // kubectl create configmap notes --from-literal=a=b
    await api.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "notes", namespace: "default" }, data: { a: "b" } });
    // A copy of a managed object, annotations and all, under another name.
    const settings = await api.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings" });
    await api.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings-copy", namespace: "default", annotations: settings.metadata.annotations }, data: settings.data });

    repo.delete("config.yaml");
    repo.commit("Drop the config");
    const result = await r.sync();
    expect(result.operations.map((o) => `${o.action} ${o.name}`)).toEqual(["delete db", "delete settings"]);
    expect(await exists(api, { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "notes" })).toBe(true);
    expect(await exists(api, { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "settings-copy" })).toBe(true);
  });

  it("refuses a commit without manifests that would delete everything, unless allowEmpty", async () => {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    repo.commitFiles("Add web", { "web.yaml": deployment("web", 2) });
    const r = reconcilerFor(repo, api, clock);
    await r.sync();
    repo.delete("web.yaml");
    const empty = repo.commit("Remove everything");
    const refused = await r.sync();
    expect(refused.result).toBe("Refused");
    expect(refused.errors[0].text).toContain("this commit would delete every object this repository manages (1 object, e.g. Deployment default/web)");
    expect(refused.errors[0].text).toContain("--allow-empty");
    expect(await exists(api, webRef)).toBe(true);

    const allowed = await r.sync({ allowEmpty: true });
    expect(allowed.result).toBe("Synced");
    expect(allowed.commit?.oid).toBe(empty);
    expect(await exists(api, webRef)).toBe(false);
  });
});

describe("drift", () => {
  async function watched(selfHeal: boolean, files: Record<string, string>) {
    const repo = newRepo();
    const { api, clock } = await startCluster();
    repo.commitFiles("Add web", files);
    const r = reconcilerFor(repo, api, clock, { selfHeal });
    const drift: DriftReport[] = [];
    const watcher = new Watcher({ reconciler: r, watchFiles: false, onDrift: (reports) => drift.push(...reports) });
    await watcher.start();
    cleanup.push(() => void watcher.stop());
    return { repo, api, clock, r, watcher, drift };
  }

  it("detects kubectl scale behind git's back, reports the undoing patch and reverts it with self-heal", async () => {
    const { api, clock, r, watcher, drift } = await watched(true, { "web.yaml": deployment("web", 2) });
    await api.patch(webRef, MERGE_PATCH, { spec: { replicas: 5 } });
    await clock.advance(100);
    await watcher.idle();
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ kind: "Deployment", name: "web", deleted: false, sentences: ["replicas was changed from 2 to 5 outside git"] });
    expect(drift[0].ops.filter((o) => o.op !== "test")).toEqual([{ op: "replace", path: "/spec/replicas", value: 2 }]);
    expect(drift[0].lines).toEqual(["~ /spec/replicas: 5 → 2"]);
    expect(await replicas(api)).toBe(2);
    const last = (await r.history.list()).pop() as HistoryEntry;
    expect(last).toMatchObject({ trigger: "self-heal", result: "Synced" });
    expect(last.operations[0]).toMatchObject({ action: "patch", cause: "drift", name: "web" });

    // kubectl delete: reported at once; created again after the self-heal back-off (the same
    // object drifted again right after a heal, so it waits 1 s instead of fighting in a loop).
    await api.delete(webRef);
    await clock.advance(100);
    await watcher.idle();
    expect(drift[1]).toMatchObject({ deleted: true, sentences: ["Deployment default/web was deleted outside git"] });
    expect(await exists(api, webRef)).toBe(false);
    await clock.advance(1000);
    await watcher.idle();
    expect(await replicas(api)).toBe(2);
    await watcher.stop();
  });

  it("reports drift but leaves it alone when self-heal is off, even across periodic resyncs", async () => {
    const { api, clock, watcher, drift } = await watched(false, { "web.yaml": deployment("web", 2) });
    await api.patch(webRef, MERGE_PATCH, { spec: { replicas: 5 } });
    await clock.advance(100);
    await watcher.idle();
    expect(drift.map((d) => d.sentences[0])).toEqual(["replicas was changed from 2 to 5 outside git"]);
    await clock.advance(60_000);
    await watcher.idle();
    expect(await replicas(api)).toBe(5);
    await watcher.stop();
  });

  it("leaves replicas owned by an HPA alone, and a new commit does not fight it either", async () => {
    const { repo, api, clock, r, watcher, drift } = await watched(true, { "web.yaml": deployment("web", 2), "hpa.yaml": HPA });
    // The HPA controller scales the Deployment through the scale subresource.
    await api.updateScale(webRef, { apiVersion: "autoscaling/v1", kind: "Scale", metadata: { name: "web", namespace: "default" }, spec: { replicas: 7 } });
    await clock.advance(100);
    await watcher.idle();
    expect(drift).toEqual([]);
    expect(await replicas(api)).toBe(7);
    expect((await r.sync()).result).toBe("NoChange");

    repo.commitFiles("Ask for 3 replicas", { "web.yaml": deployment("web", 3) });
    const result = await r.sync();
    expect(await replicas(api)).toBe(7);
    expect(result.operations.flatMap((o) => o.ops.map((op) => op.path))).not.toContain("/spec/replicas");
    await watcher.stop();
  });
});

describe("restart", () => {
  it("keeps the history and the cluster across a restart (SqliteStore and file history)", async () => {
    const repo = newRepo();
    const state = tempDir("kubelings-state-");
    repo.commitFiles("Add web", { "web.yaml": deployment("web", 2), "svc.yaml": service("web") });

    const store1 = openSqliteStore(path.join(state, "store"));
    const c1 = await startCluster(store1);
    const r1 = reconcilerFor(repo, c1.api, c1.clock, { history: FileHistory.open(state) });
    expect((await r1.sync()).result).toBe("Synced");
    c1.api.stop();
    await store1.close();

    const store2 = openSqliteStore(path.join(state, "store"));
    const c2 = await startCluster(store2);
    const history = FileHistory.open(state);
    expect((await history.list()).map((e) => e.result)).toEqual(["Synced"]);
    const r2 = reconcilerFor(repo, c2.api, c2.clock, { history });
    const again = await r2.sync();
    expect(again.result).toBe("NoChange");
    expect(again.operations).toEqual([]);
    expect((await history.list()).map((e) => [e.id, e.result])).toEqual([
      [1, "Synced"],
      [2, "NoChange"],
    ]);
    c2.api.stop();
    await store2.close();
  });
});

describe("idempotence over the corpus", () => {
  it("finds zero operations after syncing every accepted manifest of the corpus", async () => {
    const root = CORPUS_DIR;
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of fs.readdirSync(dir).sort()) {
        const p = path.join(dir, name);
        if (fs.statSync(p).isDirectory()) walk(p);
        else if (/\.(ya?ml|json)$/.test(name)) files.push(p);
      }
    };
    walk(root);

    // Accepted: loads, and every object passes the API server's dry-run on its own.
    const probe = await startCluster();
    type Accepted = { rel: string; content: Buffer; keys: string[]; namespaces: string[]; defines: string[] };
    const accepted: Accepted[] = [];
    for (const file of files) {
      const rel = path.relative(root, file);
      const content = fs.readFileSync(file);
      const loaded = loadManifests([{ path: rel, content }]);
      if (loaded.errors.length > 0 || loaded.objects.length === 0) continue;
      let ok = true;
      for (const { object } of loaded.objects) {
        const ns = object.metadata.namespace;
        try {
          await probe.api.create(ns ? { ...object, metadata: { ...object.metadata, namespace: "default" } } : object, { dryRun: true });
        } catch (err) {
          if ((err as { reason?: string }).reason !== "AlreadyExists") ok = false;
        }
      }
      if (!ok) continue;
      accepted.push({
        rel,
        content,
        keys: loaded.objects.map((o) => keyOf(o.object)),
        namespaces: loaded.objects.map((o) => o.object.metadata.namespace).filter((n): n is string => !!n && n !== "default"),
        defines: loaded.objects.filter((o) => o.object.kind === "Namespace").map((o) => o.object.metadata.name!),
      });
    }
    expect(accepted.length).toBeGreaterThan(200);

    // Files defining the same object go to different commits, each synced to a fresh cluster.
    const batches: Array<{ files: Accepted[]; keys: Set<string> }> = [];
    for (const a of accepted) {
      let batch = batches.find((b) => a.keys.every((k) => !b.keys.has(k)));
      if (!batch) batches.push((batch = { files: [], keys: new Set() }));
      batch.files.push(a);
      for (const k of a.keys) batch.keys.add(k);
    }
    const repo = newRepo();
    let objects = 0;
    for (const [i, batch] of batches.entries()) {
      for (const entry of fs.readdirSync(repo.dir)) if (entry !== ".git") fs.rmSync(path.join(repo.dir, entry), { recursive: true });
      for (const a of batch.files) repo.write(path.join("corpus", a.rel), a.content.toString("utf8"));
      const defined = new Set(batch.files.flatMap((a) => a.defines));
      const needed = [...new Set(batch.files.flatMap((a) => a.namespaces))].filter((n) => !defined.has(n)).sort();
      if (needed.length > 0) repo.write("namespaces.yaml", needed.map((n) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${n}\n`).join("---\n"));
      repo.commit(`corpus batch ${i + 1}`);
      const { api, clock } = await startCluster();
      const r = reconcilerFor(repo, api, clock, { hints: false });
      const synced = await r.sync();
      expect({ batch: i + 1, result: synced.result, errors: synced.errors.map((e) => e.text) }).toEqual({ batch: i + 1, result: "Synced", errors: [] });
      objects += synced.operations.length;
      const diff = await r.sync({ dryRun: true });
      expect({ batch: i + 1, operations: diff.operations }).toEqual({ batch: i + 1, operations: [] });
    }
    expect(objects).toBeGreaterThan(200);
  });
});

describe("commands", () => {
  it("sync, diff, status and history work on a state directory with the exit codes of the design", async () => {
    const repo = newRepo();
    const state = tempDir("kubelings-state-");
    const oid = repo.commitFiles("Add web", { "web.yaml": deployment("web", 2), "svc.yaml": service("web") });
    const opts = { repo: repo.dir, state, output: "table" as const };

    let out = capture();
    expect(await runDiff(opts, out.io)).toBe(1);
    expect(out.stdout()).toContain("+ Deployment default/web: created (web.yaml:1:1)");

    out = capture();
    expect(await runSync({ ...opts, dryRun: true }, out.io)).toBe(0);
    expect(out.stdout()).toContain("would sync");

    out = capture();
    expect(await runSync(opts, out.io)).toBe(0);
    expect(out.stdout()).toContain(`synced ${oid.slice(0, 7)} "Add web": 2 objects changed`);

    out = capture();
    expect(await runDiff(opts, out.io)).toBe(0);
    expect(out.stdout()).toContain("nothing to apply");

    repo.commitFiles("Scale web", { "web.yaml": deployment("web", 4) });
    out = capture();
    expect(await runDiff({ ...opts, output: "json" }, out.io)).toBe(1);
    const diff = JSON.parse(out.stdout());
    expect(diff.operations[0].ops.filter((o: { op: string }) => o.op !== "test").map((o: { path: string }) => o.path)).toEqual([
      "/metadata/annotations/kubelings.dev~1last-applied",
      "/spec/replicas",
    ]);
    out = capture();
    expect(await runDiff(opts, out.io)).toBe(1);
    expect(out.stdout()).toContain("~ /spec/replicas: 2 → 4");

    repo.commitFiles("Break it", { "web.yaml": deployment("web", '"four"') });
    out = capture();
    expect(await runSync(opts, out.io)).toBe(1);
    expect(out.stderr()).toContain('web.yaml:8:3 spec.replicas: Invalid value: "four": expected integer, got string');
    out = capture();
    expect(await runDiff(opts, out.io)).toBe(2);

    out = capture();
    expect(await runStatus({ ...opts, output: "json" }, out.io)).toBe(0);
    const status = JSON.parse(out.stdout());
    expect(status.lastSynced.oid).toBe(oid);
    expect(status.errors[0]).toMatchObject({ file: "web.yaml", line: 8, column: 3 });
    expect(status.objects.map((o: KubeObject) => `${o.kind}/${o.name}`)).toEqual(["Service/web", "Deployment/web"]);
    out = capture();
    expect(await runStatus(opts, out.io)).toBe(0);
    expect(out.stdout()).toMatch(/Errors of commit [0-9a-f]{7} \(refused/);

    out = capture();
    expect(await runHistory({ state, output: "json" }, out.io)).toBe(0);
    expect(JSON.parse(out.stdout()).map((e: HistoryEntry) => e.result)).toEqual(["Synced", "Refused"]);
  });

  it("stops with the store's message while another process holds the state directory, and exits 2 on bad input", async () => {
    const repo = newRepo();
    const state = tempDir("kubelings-state-");
    repo.commitFiles("Add web", { "web.yaml": deployment("web", 2) });
    const held = openSqliteStore(path.join(state, "store"));
    try {
      const out = capture();
      expect(await runSync({ repo: repo.dir, state }, out.io)).toBe(2);
      expect(out.stderr()).toContain("is in use by another kubelings process");
    } finally {
      await held.close();
    }
    let out = capture();
    expect(await runStatus({ repo: repo.dir, state, output: "yaml" }, out.io)).toBe(2);
    expect(out.stderr()).toContain('unknown output format "yaml"');
    out = capture();
    expect(await runSync({ repo: path.join(repo.dir, "missing"), state }, out.io)).toBe(2);
    expect(out.stderr()).toContain("does not exist");
  });
});

/** Captured stdout and stderr of a command. */
function capture() {
  let stdout = "";
  let stderr = "";
  return {
    io: { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

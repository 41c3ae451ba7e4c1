/**
 * GitOps benchmark. Prints figures; asserts nothing.
 *
 * 1. Commit-to-first-patch latency: the reconciler and its watcher run on the real clock against
 *    an in-process API server; 50 times, a commit changes one Deployment's replicas with the real
 *    `git` CLI, and the time from the `git commit` process's exit to the first change of that
 *    Deployment seen by a client watch is measured. Target: median under 100 ms (Argo CD polls
 *    every 180 s by default; Flux every interval you set).
 * 2. Scale: wall time and peak RSS to sync a generated repository of 1,000 apps (a Deployment, a
 *    ServiceAccount, a Service and an Ingress each: Flux's published benchmark, 4 min 16 s and
 *    175 MiB for 1,000 such Kustomizations). Each store runs in a fresh child process so that its
 *    peak RSS is its own. Target: under 5 s and under 300 MB.
 *
 *   npx tsx bench/gitops.ts
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { RealClock } from "../src/api/clock.js";
import { ApiServer } from "../src/api/server/api-server.js";
import { MemoryStore } from "../src/api/store/memory-store.js";
import { openSqliteStore } from "../src/api/store/sqlite-store.js";
import type { Store } from "../src/api/store/store.js";
import { FileHistory } from "../src/gitops/history.js";
import { Reconciler } from "../src/gitops/reconciler.js";
import { Watcher } from "../src/gitops/watcher.js";

const COMMITS = 50;
const APPS = 1000;

function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kubelings-bench-${label}-`));
}

function git(dir: string, ...args: string[]): string {
  return execFileSync("git", args, {
    cwd: dir,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { PATH: process.env.PATH, HOME: dir, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", GIT_AUTHOR_NAME: "Bench", GIT_AUTHOR_EMAIL: "bench@example.com", GIT_COMMITTER_NAME: "Bench", GIT_COMMITTER_EMAIL: "bench@example.com" },
  });
}

function deployment(name: string, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  labels: {app: ${name}}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      serviceAccountName: ${name}
      containers:
      - name: app
        image: ghcr.io/stefanprodan/podinfo:6.7.0
        ports:
        - containerPort: 9898
        resources:
          requests: {cpu: 10m, memory: 16Mi}
`;
}

function app(name: string): string {
  return [
    `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: ${name}\n`,
    deployment(name, 0),
    `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  selector: {app: ${name}}\n  ports:\n  - port: 80\n    targetPort: 9898\n`,
    `apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: ${name}\nspec:\n  rules:\n  - host: ${name}.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: ${name}\n            port: {number: 80}\n`,
  ].join("---\n");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

// ---------------------------------------------------------------------------------------------
// 1. Commit-to-first-patch latency

async function latency(): Promise<void> {
  const repo = tempDir("repo");
  const state = tempDir("state");
  git(repo, "init", "-q", "-b", "main");
  for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(repo, `app-${i}.yaml`), app(`app-${i}`));
  fs.writeFileSync(path.join(repo, "web.yaml"), deployment("web", 1));
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", "initial");

  const clock = new RealClock();
  const store = new MemoryStore();
  const api = new ApiServer({ store, clock });
  await api.start();
  const reconciler = new Reconciler({ client: api, clock, repoDir: repo, history: FileHistory.open(state) });
  const watcher = new Watcher({ reconciler });
  await watcher.start();

  let waiting: { replicas: number; resolve: (t: number) => void } | undefined;
  const handle = api.watch({ apiVersion: "apps/v1", kind: "Deployment", namespace: "default" }, { resourceVersion: String(api.revision) }, (event) => {
    if (event.type === "MODIFIED" && event.object.metadata.name === "web" && waiting && event.object.spec.replicas === waiting.replicas) {
      const w = waiting;
      waiting = undefined;
      w.resolve(performance.now());
    }
  });

  const samples: number[] = [];
  for (let i = 0; i < COMMITS; i++) {
    const replicas = i + 2;
    fs.writeFileSync(path.join(repo, "web.yaml"), deployment("web", replicas));
    git(repo, "add", "web.yaml");
    const seen = new Promise<number>((resolve, reject) => {
      waiting = { replicas, resolve };
      setTimeout(() => reject(new Error(`commit ${i + 1}: no patch within 10 s`)), 10_000).unref();
    });
    git(repo, "commit", "-q", "-m", `scale web to ${replicas}`);
    const exited = performance.now();
    samples.push((await seen) - exited);
    await watcher.idle();
  }
  handle.stop();
  await watcher.stop();
  api.stop();
  await store.close();
  const history = await reconciler.history.list();

  console.log(`commit-to-first-patch latency over ${COMMITS} commits (real clock, real git, chokidar):`);
  console.log(`  median ${median(samples).toFixed(1)} ms, p90 ${percentile(samples, 90).toFixed(1)} ms, min ${Math.min(...samples).toFixed(1)} ms, max ${Math.max(...samples).toFixed(1)} ms (target: median < 100 ms)`);
  console.log(`  syncs recorded: ${history.length} (${history.filter((e) => e.result === "Synced").length} Synced)`);
  fs.rmSync(repo, { recursive: true, force: true });
  fs.rmSync(state, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// 2. Scale (child process per store)

async function scaleChild(kind: "memory" | "sqlite", repo: string): Promise<void> {
  const state = tempDir(`scale-${kind}`);
  const clock = new RealClock();
  const store: Store = kind === "memory" ? new MemoryStore() : openSqliteStore(path.join(state, "store"));
  const api = new ApiServer({ store, clock });
  await api.start();
  const reconciler = new Reconciler({ client: api, clock, repoDir: repo, history: FileHistory.open(state) });
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const first = await reconciler.sync();
  const t1 = performance.now();
  const second = await reconciler.sync();
  const t2 = performance.now();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  const out = {
    kind,
    result: first.result,
    objects: first.operations.length,
    syncMs: t1 - t0,
    resyncResult: second.result,
    resyncMs: t2 - t1,
    rssBeforeMiB: rssBefore / 1048576,
    peakRssMiB: peak / 1048576,
  };
  api.stop();
  await store.close();
  fs.rmSync(state, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(out) + "\n");
}

function scale(): void {
  const repo = tempDir("apps");
  git(repo, "init", "-q", "-b", "main");
  fs.mkdirSync(path.join(repo, "apps"));
  for (let i = 0; i < APPS; i++) {
    const name = `app-${String(i).padStart(4, "0")}`;
    fs.writeFileSync(path.join(repo, "apps", `${name}.yaml`), app(name));
  }
  git(repo, "add", "-A");
  git(repo, "commit", "-q", "-m", `${APPS} apps`);
  console.log(`sync of ${APPS} apps (Deployment + ServiceAccount + Service + Ingress each, ${APPS * 4} objects), fresh process per store:`);
  for (const kind of ["memory", "sqlite"] as const) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "--scale-child", kind, repo], { encoding: "utf8" });
    if (child.status !== 0) {
      console.log(`  ${kind}: failed: ${child.stderr}`);
      continue;
    }
    const r = JSON.parse(child.stdout.trim().split("\n").pop()!);
    console.log(
      `  ${kind === "memory" ? "MemoryStore" : "SqliteStore (fsync)"}: ${r.result} ${r.objects} objects in ${(r.syncMs / 1000).toFixed(2)} s, ` +
        `peak RSS ${r.peakRssMiB.toFixed(0)} MiB (${r.rssBeforeMiB.toFixed(0)} MiB before the sync); second sync ${r.resyncResult} in ${(r.resyncMs / 1000).toFixed(2)} s (target: < 5 s, < 300 MB)`,
    );
  }
  fs.rmSync(repo, { recursive: true, force: true });
}

const args = process.argv.slice(2);
if (args[0] === "--scale-child") {
  await scaleChild(args[1] as "memory" | "sqlite", args[2]);
} else {
  await latency();
  scale();
}

/**
 * Store benchmark: durable create throughput with group commit, watch fan-out, and the memory a
 * server holding 100,000 Pods needs. Prints figures; asserts nothing.
 *
 *   npx tsx bench/store.ts                           # quick
 *   node --expose-gc --import tsx bench/store.ts     # RSS measured after a full GC
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { KubeObject } from "../src/api/types.js";
import { MemoryStore } from "../src/api/store/memory-store.js";
import { openSqliteStore } from "../src/api/store/sqlite-store.js";
import type { Store } from "../src/api/store/store.js";
import { RealClock } from "../src/api/clock.js";
import { ApiServer } from "../src/api/server/api-server.js";

const CREATES = 100_000;
const IN_FLIGHT = 1_000;
const PODS = 100_000;
const WATCHERS = 100;
const WATCHED_WRITES = 10_000;

const gc = (globalThis as { gc?: () => void }).gc;
const rows: Array<[string, string, string]> = [];

function report(name: string, value: string, note = ""): void {
  rows.push([name, value, note]);
  console.log(`  ${name}: ${value}${note ? ` (${note})` : ""}`);
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function perSecond(count: number, ms: number): string {
  return `${Math.round((count * 1000) / ms).toLocaleString("en-US")}/s`;
}

function settledRss(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().rss;
}

function stateDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kubelings-bench-${label}-`));
}

function dirSize(dir: string): number {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

/** Runs `count` writes keeping `inFlight` of them pending at once; returns elapsed milliseconds. */
async function pump(count: number, inFlight: number, write: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = performance.now();
  async function lane(): Promise<void> {
    while (next < count) await write(next++);
  }
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, lane));
  return performance.now() - start;
}

/** A ConfigMap of about 1 KB of JSON. */
function configMap(i: number): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `cm-${i}`, namespace: "bench", uid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, labels: { app: "bench" } },
    data: { "config.yaml": `entry-${i}: `.padEnd(840, "x") },
  };
}

/** A Pod as a ReplicaSet creates it and a kubelet reports it: scheduled, running, with status. */
function pod(i: number): KubeObject {
  const ns = `team-${i % 50}`;
  const name = `web-7d9f8b6c5d-${i.toString(36).padStart(5, "0")}`;
  const time = "2025-06-11T09:30:00Z";
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      generateName: "web-7d9f8b6c5d-",
      namespace: ns,
      uid: `6b1f3c2e-0000-4000-8000-${String(i).padStart(12, "0")}`,
      creationTimestamp: time,
      labels: { app: "web", "pod-template-hash": "7d9f8b6c5d", tier: "frontend" },
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d9f8b6c5d", uid: "0f8e7d6c-0000-4000-8000-000000000001", controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      containers: [
        {
          name: "web",
          image: "nginx:1.27",
          ports: [{ containerPort: 80, protocol: "TCP" }],
          resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
          readinessProbe: { httpGet: { path: "/healthz", port: 80, scheme: "HTTP" }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
          terminationMessagePath: "/dev/termination-log",
          terminationMessagePolicy: "File",
          imagePullPolicy: "IfNotPresent",
        },
      ],
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      serviceAccountName: "default",
      nodeName: `node-${i % 20}`,
      schedulerName: "default-scheduler",
      tolerations: [{ key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: "PreemptLowerPriority",
    },
    status: {
      phase: "Running",
      conditions: [
        { type: "Initialized", status: "True", lastTransitionTime: time },
        { type: "Ready", status: "True", lastTransitionTime: time },
        { type: "ContainersReady", status: "True", lastTransitionTime: time },
        { type: "PodScheduled", status: "True", lastTransitionTime: time },
      ],
      hostIP: `10.0.0.${i % 20}`,
      podIP: `10.244.${(i >> 8) & 255}.${i & 255}`,
      podIPs: [{ ip: `10.244.${(i >> 8) & 255}.${i & 255}` }],
      startTime: time,
      containerStatuses: [
        {
          name: "web",
          state: { running: { startedAt: time } },
          lastState: {},
          ready: true,
          restartCount: 0,
          image: "docker.io/library/nginx:1.27",
          imageID: "docker.io/library/nginx@sha256:6784fb0834aa7dbbe12e3d7471e69c290df3e6ba810dc38b34ae33d3c1c05f7d",
          containerID: "containerd://3f9c1b2a4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8",
          started: true,
        },
      ],
      qosClass: "Burstable",
    },
  };
}

async function benchPodsMemory(): Promise<void> {
  console.log(`\n${PODS.toLocaleString("en-US")} Pods in a SqliteStore`);
  const baseline = settledRss();
  const dir = stateDir("pods");
  const store = openSqliteStore(dir);
  const size = JSON.stringify(pod(12345)).length;
  const ms = await pump(PODS, IN_FLIGHT, (i) => store.create(`/registry/pods/team-${i % 50}/p${i}`, pod(i)));
  report("pod JSON size", `${size.toLocaleString("en-US")} B`);
  report("pod creates", perSecond(PODS, ms), `${(ms / 1000).toFixed(1)} s, ${IN_FLIGHT} in flight`);
  const rss = settledRss();
  report("RSS with 100,000 pods", mib(rss), `${mib(rss - baseline)} above the ${mib(baseline)} before opening${gc ? ", after GC" : ", run with --expose-gc for a settled figure"}`);
  report("heap used", mib(process.memoryUsage().heapUsed));
  let start = performance.now();
  for (let i = 0; i < 10_000; i++) await store.get(`/registry/pods/team-${(i * 7919) % PODS % 50}/p${(i * 7919) % PODS}`);
  report("random get", perSecond(10_000, performance.now() - start));
  start = performance.now();
  const listed = await store.range("/registry/pods/team-7/");
  report("range one namespace", `${(performance.now() - start).toFixed(0)} ms`, `${listed.items.length.toLocaleString("en-US")} pods`);
  await store.close();
  report("state directory size", mib(dirSize(dir)), "values + change log");
  start = performance.now();
  const reopened = openSqliteStore(dir);
  report("reopen", `${(performance.now() - start).toFixed(0)} ms`, `lock + integrity check, revision ${reopened.revision.toLocaleString("en-US")}`);
  await reopened.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * The API server's watch cache over 100,000 stored Pods: start-up load, resident memory of the
 * whole server (store + cache), and reads served from the cache (frozen objects, no copy).
 */
async function benchWatchCache(): Promise<void> {
  console.log(`\nAPI server watch cache over ${PODS.toLocaleString("en-US")} stored Pods`);
  const dir = stateDir("cache");
  const writer = openSqliteStore(dir);
  await pump(PODS, IN_FLIGHT, (i) => writer.create(`/registry/pods/team-${i % 50}/p${i}`, pod(i)));
  await writer.close();
  gc?.();
  const baseline = settledRss();
  const store = openSqliteStore(dir);
  const api = new ApiServer({ store, clock: new RealClock() });
  let start = performance.now();
  await api.start();
  report("cache load at start", `${(performance.now() - start).toFixed(0)} ms`, `${PODS.toLocaleString("en-US")} pods read and frozen`);
  const rss = settledRss();
  report("RSS, API server holding 100,000 pods", mib(rss), `${mib(rss - baseline)} above the process before opening${gc ? ", after GC" : ""}`);
  const refs = Array.from({ length: 1024 }, (_, k) => {
    const i = (k * 7919) % PODS;
    return { apiVersion: "v1", kind: "Pod", namespace: `team-${i % 50}`, name: `p${i}` };
  });
  const GETS = 2_000_000;
  let found = 0;
  start = performance.now();
  for (let i = 0; i < GETS; i++) if (api.peek(refs[i & 1023])) found++;
  report("gets from the watch cache (sync)", perSecond(GETS, performance.now() - start), `${found === GETS ? "all found" : `${found} found`}, no copy per read`);
  const ASYNC_GETS = 200_000;
  start = performance.now();
  for (let i = 0; i < ASYNC_GETS; i++) await api.get(refs[i & 1023]);
  report("gets through the Client interface (await)", perSecond(ASYNC_GETS, performance.now() - start));
  api.stop();
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function benchCreates(label: string, open: () => { store: Store; dir?: string }): Promise<void> {
  console.log(`\n${CREATES.toLocaleString("en-US")} creates of 1 KB, ${IN_FLIGHT} in flight: ${label}`);
  const { store, dir } = open();
  const ms = await pump(CREATES, IN_FLIGHT, (i) => store.create(`/registry/configmaps/bench/cm-${i}`, configMap(i)));
  report(`${label} creates`, perSecond(CREATES, ms), `${(ms / 1000).toFixed(2)} s`);
  await store.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

async function benchFanOut(): Promise<void> {
  console.log(`\nWatch fan-out: ${WATCHERS} watchers on one prefix, ${WATCHED_WRITES.toLocaleString("en-US")} writes (SqliteStore)`);
  const dir = stateDir("watch");
  const store = openSqliteStore(dir);
  let delivered = 0;
  for (let w = 0; w < WATCHERS; w++) store.watch("/registry/pods/", { onEvent: () => void delivered++ });
  const ms = await pump(WATCHED_WRITES, IN_FLIGHT, (i) => store.create(`/registry/pods/bench/p${i}`, configMap(i)));
  report("events delivered", delivered.toLocaleString("en-US"), `expected ${(WATCHERS * WATCHED_WRITES).toLocaleString("en-US")}`);
  report("delivery rate", perSecond(delivered, ms), `writes ${perSecond(WATCHED_WRITES, ms)}`);
  // A late watcher catching up on the whole history from the change log.
  let replayed = 0;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    store.watch("/registry/pods/", { afterRevision: 1, onEvent: (e) => void (++replayed === WATCHED_WRITES - 1 && resolve()) });
  });
  report("replay from revision 1", perSecond(replayed, performance.now() - start), `${replayed.toLocaleString("en-US")} events`);
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  console.log(`kubelings store benchmark (node ${process.version}, ${os.cpus().length} CPUs, ${os.platform()})`);
  await benchPodsMemory();
  await benchWatchCache();
  await benchCreates("SqliteStore (durable)", () => {
    const dir = stateDir("creates");
    return { store: openSqliteStore(dir), dir };
  });
  await benchCreates("MemoryStore", () => ({ store: new MemoryStore() }));
  await benchFanOut();

  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c].length), ["measure", "value", "note"][c].length));
  const line = (r: readonly string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c])).join(" | ")} |`;
  console.log(`\n${line(["measure", "value", "note"])}`);
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

await main();

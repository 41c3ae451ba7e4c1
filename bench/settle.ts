/**
 * Settle benchmark (issue 3): 1,000 Deployments of 3 replicas on 100 worker nodes, on the
 * virtual clock, until every Deployment is Available. Prints the wall time, the virtual time it
 * took, and peak resident memory. Asserts nothing.
 *
 *   npx tsx bench/settle.ts [deployments] [workers]
 */
import { performance } from "node:perf_hooks";
import { VirtualClock } from "../src/api/clock.js";
import { MemoryStore } from "../src/api/store/memory-store.js";
import type { KubeObject } from "../src/api/types.js";
import { Cluster } from "../src/cluster/cluster.js";
import { seededRandom } from "../src/cluster/scheduler/random.js";
import { defaultNodes } from "../src/cluster/node/node-spec.js";

const DEPLOYMENTS = Number(process.argv[2] ?? 1000);
const WORKERS = Number(process.argv[3] ?? 100);

function deployment(i: number): KubeObject {
  const labels = { app: `app-${i}` };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: `app-${i}`, namespace: "default", labels },
    spec: {
      replicas: 3,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: "web", image: "nginx:1.27", resources: { requests: { cpu: "10m", memory: "16Mi" } } }] },
      },
    },
  };
}

async function main(): Promise<void> {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const clock = new VirtualClock();
  const store = new MemoryStore();
  const cluster = new Cluster({ store, clock, nodes: defaultNodes(WORKERS), random: seededRandom(1) });
  const wallStart = performance.now();
  await cluster.start();
  await clock.advance(5_000); // kubelets register and report Ready
  const virtualStart = clock.now();
  const createStart = performance.now();
  for (let i = 0; i < DEPLOYMENTS; i++) await cluster.api.create(deployment(i));
  const createMs = performance.now() - createStart;
  let available = 0;
  let stepWall = performance.now();
  while (clock.now() - virtualStart < 30 * 60_000) {
    await clock.advance(1_000);
    const list = await cluster.api.list({ apiVersion: "apps/v1", kind: "Deployment" });
    available = list.items.filter((d) => (d.status?.conditions ?? []).some((c: any) => c.type === "Available" && c.status === "True") && d.status?.availableReplicas === 3).length;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (available === DEPLOYMENTS) break;
    if (performance.now() - stepWall > 5_000) {
      console.log(`  ... ${available}/${DEPLOYMENTS} available after ${((clock.now() - virtualStart) / 1000).toFixed(0)} s virtual, ${((performance.now() - wallStart) / 1000).toFixed(1)} s wall`);
      stepWall = performance.now();
    }
  }
  const wallMs = performance.now() - wallStart;
  clearInterval(sampler);
  const pods = (await cluster.api.list({ apiVersion: "v1", kind: "Pod" })).items;
  const running = pods.filter((p) => p.status?.phase === "Running").length;
  console.log(`kubelings settle benchmark (node ${process.version})`);
  console.log(`| measure | value |`);
  console.log(`|---|---|`);
  console.log(`| deployments available | ${available} of ${DEPLOYMENTS} (${running} pods Running on ${WORKERS} workers) |`);
  console.log(`| wall time to settle (incl. cluster start) | ${(wallMs / 1000).toFixed(2)} s |`);
  console.log(`| of which creating the Deployments | ${(createMs / 1000).toFixed(2)} s |`);
  console.log(`| virtual time to settle | ${((clock.now() - virtualStart) / 1000).toFixed(0)} s |`);
  console.log(`| peak RSS | ${(peakRss / 2 ** 20).toFixed(0)} MiB |`);
  cluster.stop();
  await store.close();
}

await main();

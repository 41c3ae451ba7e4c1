/**
 * Scheduler throughput: 10,000 deployment pods (100m cpu / 128Mi, owned by ReplicaSets, so the
 * system default topology spreading applies) onto 5,000 nodes (4 cpu / 8Gi / 110 pods, three
 * zones, hostname labels), each pod scheduled then assumed as the controller would.
 *
 * Compare with kube-scheduler's scheduler_perf SchedulingBasic 5000Nodes_10000Pods threshold of
 * 680 pods/s (test/integration/scheduler_perf/misc/performance-config.yaml), which also pays for a
 * real API server; this measures the algorithm alone.
 *
 * Run: npx tsx bench/scheduler.ts [nodes] [pods]
 */

import { performance } from "node:perf_hooks";
import type { KubeObject } from "../src/api/types.js";
import { isScheduled, Scheduler, seededRandom, Snapshot } from "../src/cluster/scheduler/index.js";

const NODES = Number(process.argv[2] ?? 5000);
const PODS = Number(process.argv[3] ?? 10000);
const REPLICASETS = 20;
const ZONES = ["zone-a", "zone-b", "zone-c"];

function node(i: number): KubeObject {
  const name = `node-${String(i).padStart(5, "0")}`;
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      uid: `uid-${name}`,
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "topology.kubernetes.io/region": "region-1",
        "topology.kubernetes.io/zone": ZONES[i % ZONES.length],
      },
    },
    spec: {},
    status: {
      capacity: { cpu: "4", memory: "8Gi", pods: "110" },
      allocatable: { cpu: "4", memory: "8Gi", pods: "110" },
    },
  };
}

function replicaSet(r: number): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: { name: `web-${r}-5d9c7b`, namespace: "default", uid: `uid-rs-${r}` },
    spec: { selector: { matchLabels: { app: `web-${r}`, "pod-template-hash": "5d9c7b" } } },
  };
}

function pod(i: number): KubeObject {
  const r = i % REPLICASETS;
  const name = `web-${r}-5d9c7b-${i.toString(36).padStart(5, "0")}`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: "default",
      uid: `uid-pod-${i}`,
      labels: { app: `web-${r}`, "pod-template-hash": "5d9c7b" },
      ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: `web-${r}-5d9c7b`, uid: `uid-rs-${r}`, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      schedulerName: "default-scheduler",
      priority: 0,
      containers: [{ name: "web", image: "nginx:1.27", resources: { requests: { cpu: "100m", memory: "128Mi" } } }],
    },
    status: { phase: "Pending" },
  };
}

const snapshot = new Snapshot();
for (let i = 0; i < NODES; i++) snapshot.addNode(node(i));
for (let r = 0; r < REPLICASETS; r++) snapshot.setWorkload(replicaSet(r));
const pods = Array.from({ length: PODS }, (_, i) => pod(i));
const scheduler = new Scheduler({ random: seededRandom(42) });

// Warm up the JIT on a separate snapshot so the measured run starts from an empty cluster.
{
  const warm = new Snapshot();
  for (let i = 0; i < Math.min(NODES, 500); i++) warm.addNode(node(i));
  const s = new Scheduler({ random: seededRandom(1) });
  for (let i = 0; i < 500; i++) {
    const r = s.schedule(pods[i], warm);
    if (isScheduled(r)) warm.assumePod(pods[i], r.nodeName);
  }
}

const t0 = performance.now();
let failed = 0;
for (const p of pods) {
  const r = scheduler.schedule(p, snapshot);
  if (isScheduled(r)) snapshot.assumePod(p, r.nodeName);
  else failed++;
}
const ms = performance.now() - t0;

let maxPods = 0;
let usedNodes = 0;
const perZone = new Map<string, number>();
for (const ni of snapshot.nodeInfos()) {
  if (ni.pods.length > 0) usedNodes++;
  maxPods = Math.max(maxPods, ni.pods.length);
  const z = ni.labels["topology.kubernetes.io/zone"];
  perZone.set(z, (perZone.get(z) ?? 0) + ni.pods.length);
}

console.log(`scheduler: ${PODS} pods onto ${NODES} nodes in ${ms.toFixed(0)} ms = ${Math.round((PODS / ms) * 1000)} pods/s (${failed} unschedulable)`);
console.log(`placement: ${usedNodes} nodes used, at most ${maxPods} pods on one node, per zone ${[...perZone].map(([z, n]) => `${z}=${n}`).join(" ")}`);
console.log(`reference: kube-scheduler scheduler_perf SchedulingBasic 5000Nodes_10000Pods threshold 680 pods/s`);

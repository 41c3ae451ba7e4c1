/** Builders for Node and Pod objects shaped like what the API server stores. */

import type { KubeObject } from "../../src/api/types.js";
import { isScheduled, Scheduler, seededRandom, Snapshot, type ScheduleResult, type SchedulerOptions } from "../../src/cluster/scheduler/index.js";

/** Options for {@link node}. */
export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: string;
  zone?: string;
  labels?: Record<string, string>;
  taints?: Array<{ key: string; value?: string; effect: string }>;
  unschedulable?: boolean;
  images?: Array<{ names: string[]; sizeBytes: number }>;
}

/** A Ready node with hostname (and optional zone) labels. */
export function node(name: string, o: NodeOptions = {}): KubeObject {
  const labels: Record<string, string> = { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", ...(o.labels ?? {}) };
  if (o.zone) labels["topology.kubernetes.io/zone"] = o.zone;
  const resources = { cpu: o.cpu ?? "4", memory: o.memory ?? "8Gi", pods: o.pods ?? "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, uid: `uid-node-${name}`, labels },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: "Ready", status: "True" }],
      ...(o.images ? { images: o.images } : {}),
    },
  };
}

/** The control-plane taint kubeadm puts on control-plane nodes. */
export const CONTROL_PLANE_TAINT = { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" };

/** Options for {@link pod}. */
export interface PodOptions {
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  namespace?: string;
  nodeName?: string;
  priority?: number;
  spec?: Record<string, unknown>;
  hostPort?: number;
  image?: string;
  owner?: { kind: string; name: string; apiVersion?: string };
  startTime?: string;
  status?: Record<string, unknown>;
}

let seq = 0;

/** A pod with one container requesting the given resources. */
export function pod(name: string, o: PodOptions = {}): KubeObject {
  const requests: Record<string, string> = {};
  if (o.cpu) requests.cpu = o.cpu;
  if (o.memory) requests.memory = o.memory;
  const container: Record<string, unknown> = { name: "main", image: o.image ?? "nginx:1.27", resources: { requests } };
  if (o.hostPort) container.ports = [{ containerPort: 80, hostPort: o.hostPort, protocol: "TCP" }];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: o.namespace ?? "default",
      uid: `uid-${name}-${++seq}`,
      labels: o.labels ?? {},
      ...(o.owner
        ? { ownerReferences: [{ apiVersion: o.owner.apiVersion ?? "apps/v1", kind: o.owner.kind, name: o.owner.name, uid: `uid-${o.owner.name}`, controller: true }] }
        : {}),
    },
    spec: {
      containers: [container],
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      ...(o.priority !== undefined ? { priority: o.priority } : {}),
      ...(o.spec ?? {}),
    },
    status: { phase: o.nodeName ? "Running" : "Pending", ...(o.startTime ? { startTime: o.startTime } : {}), ...(o.status ?? {}) },
  };
}

/** A snapshot holding the given nodes and bound pods. */
export function cluster(nodes: KubeObject[], boundPods: KubeObject[] = []): Snapshot {
  const s = new Snapshot();
  for (const n of nodes) s.addNode(n);
  for (const p of boundPods) s.addPod(p);
  return s;
}

/** A scheduler with a fixed seed. */
export function scheduler(options: SchedulerOptions = {}): Scheduler {
  return new Scheduler({ random: seededRandom(7), ...options });
}

/** Schedules and assumes each pod in turn, as the controller would; returns the node names (undefined when unschedulable). */
export function placeAll(s: Scheduler, snap: Snapshot, pods: KubeObject[]): Array<string | undefined> {
  return pods.map((p) => {
    const r = s.schedule(p, snap);
    if (!isScheduled(r)) return undefined;
    snap.assumePod(p, r.nodeName);
    return r.nodeName;
  });
}

/** The FailedScheduling message of a failed result (throws when the pod was scheduled). */
export function failure(r: ScheduleResult): string {
  if (isScheduled(r)) throw new Error(`expected the pod to be unschedulable, it went to ${r.nodeName}`);
  return r.error.message;
}

/** The node name of a successful result (throws with the message when it failed). */
export function placed(r: ScheduleResult): string {
  if (!isScheduled(r)) throw new Error(`expected the pod to be scheduled: ${r.error.message}`);
  return r.nodeName;
}

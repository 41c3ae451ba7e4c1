/**
 * A cluster of simulated nodes on the virtual clock: kubelets for the given node specs and,
 * optionally, the node controllers (lifecycle, taint eviction, pod GC). No scheduler runs: pods
 * are created with `spec.nodeName` set.
 */
import type { KubeObject } from "../../src/api/types.js";
import { defaultNodes, nodeControllers, simulatedNodes, type NodeFleet, type NodeSpec } from "../../src/cluster/node/index.js";
import { startTestCluster, type TestCluster } from "../cluster/_harness.js";

export interface NodeCluster extends TestCluster {
  fleet: NodeFleet;
  /** Seconds since the cluster started. */
  now(): number;
  /** Advances the clock by `seconds`. */
  run(seconds: number): Promise<void>;
  /** Events (optionally of one involved object name), oldest first. */
  events(name?: string): Promise<KubeObject[]>;
  pod(name: string, namespace?: string): Promise<KubeObject | undefined>;
  node(name: string): Promise<KubeObject>;
}

/** Starts kubelets for `specs` (default 1 control plane + 1 worker) and, with `controllers`, the node controllers. */
export async function startNodes(options: { specs?: NodeSpec[]; controllers?: boolean } = {}): Promise<NodeCluster> {
  let fleet!: NodeFleet;
  const cluster = await startTestCluster((ctx) => {
    fleet = simulatedNodes(ctx, options.specs ?? defaultNodes(1));
    return [...fleet.components(), ...(options.controllers ? nodeControllers(ctx) : [])];
  });
  const t0 = cluster.clock.now();
  return {
    ...cluster,
    fleet,
    now: () => (cluster.clock.now() - t0) / 1000,
    run: (seconds) => cluster.clock.advance(seconds * 1000),
    async events(name) {
      const items = (await cluster.api.list({ apiVersion: "v1", kind: "Event" })).items;
      return items
        .filter((e) => name === undefined || e.involvedObject?.name === name)
        .sort((a, b) => (stamp(a) < stamp(b) ? -1 : 1));
    },
    async pod(name, namespace = "default") {
      try {
        return await cluster.api.get({ apiVersion: "v1", kind: "Pod", namespace, name });
      } catch {
        return undefined;
      }
    },
    node: (name) => cluster.api.get({ apiVersion: "v1", kind: "Node", name }),
  };
}

/** The recorder names events `<object>.<hex nanoseconds>`, unique and increasing. */
function stamp(e: KubeObject): bigint {
  const name = e.metadata.name!;
  return BigInt(`0x${name.slice(name.lastIndexOf(".") + 1)}`);
}

/** A pod bound to `nodeName`. */
export function podOn(nodeName: string, name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: "default", ...meta },
    spec: { nodeName, containers: [{ name: "web", image: "nginx:1.27" }], ...spec },
  };
}

/** A condition of an object's status by type. */
export function conditionOf(obj: KubeObject | undefined, type: string): any {
  return (obj?.status?.conditions ?? []).find((c: any) => c.type === type);
}

/** One observed version of a pod. */
export interface PodSnapshot {
  /** Seconds since the cluster started. */
  readonly t: number;
  readonly phase?: string;
  /** First container's waiting reason, or `running`/`terminated:<reason>`. */
  readonly state: string;
  readonly ready?: string;
  readonly restartCount?: number;
  readonly podIP?: string;
  readonly deleted?: boolean;
}

/** Records every version of a pod the API holds, from now on. */
export function trackPod(c: NodeCluster, name: string, namespace = "default"): PodSnapshot[] {
  const out: PodSnapshot[] = [];
  c.api.watch({ apiVersion: "v1", kind: "Pod", namespace }, { fieldSelector: `metadata.name=${name}` }, (ev) => {
    if (ev.type === "BOOKMARK") return;
    const p = ev.object;
    const cs = p.status?.containerStatuses?.[0];
    const state = cs?.state?.waiting ? cs.state.waiting.reason ?? "" : cs?.state?.running ? "running" : cs?.state?.terminated ? `terminated:${cs.state.terminated.reason}` : "";
    out.push({ t: c.now(), phase: p.status?.phase, state, ready: conditionOf(p, "Ready")?.status, restartCount: cs?.restartCount, podIP: p.status?.podIP, ...(ev.type === "DELETED" ? { deleted: true } : {}) });
  });
  return out;
}

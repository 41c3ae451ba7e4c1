/**
 * Faults a learner (or a test, or `kubelings chaos`) can inject, each as the real event would
 * happen: deleting a pod is a plain API delete, as `kubectl delete pod` does; stopping a node
 * powers its machine off (its kubelet goes silent and its containers die, so the control plane
 * notices only through missing heartbeats); a partition cuts the kubelet off the API server while
 * its containers keep running; crashing a container kills its process, and the restart policy
 * decides what follows.
 */
import type { Client } from "../../api/client.js";
import type { KubeObject } from "../../api/types.js";
import type { NodeFleet } from "./fleet.js";
import type { Kubelet } from "./kubelet.js";

/** A fault that cannot be applied; the message says why and what exists. */
export class FaultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FaultError";
  }
}

/** What faults act on: the cluster's kubelets. */
export type FaultTarget = Pick<NodeFleet, "kubelet" | "kubelets">;

function nodeOf(cluster: FaultTarget, name: string): Kubelet {
  const k = cluster.kubelet(name);
  if (!k) throw new FaultError(`node "${name}" not found; the nodes are: ${[...cluster.kubelets.keys()].join(", ") || "(none)"}`);
  return k;
}

/**
 * Deletes a pod through the API (`kubectl delete pod`): graceful by default; its controller, if
 * any, replaces it. Returns the pod as the API left it (with a deletionTimestamp while it stops).
 */
export async function deletePod(client: Client, namespace: string, name: string, options: { gracePeriodSeconds?: number } = {}): Promise<KubeObject> {
  return client.delete({ apiVersion: "v1", kind: "Pod", namespace, name }, options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {});
}

/** Powers a node off: no more heartbeats or status, its containers are gone. */
export function stopNode(cluster: FaultTarget, name: string): void {
  const k = nodeOf(cluster, name);
  if (k.state !== "running") throw new FaultError(`node "${name}" is not running (it is ${k.state}); start it with restartNode`);
  k.powerOff();
}

/**
 * Boots a node: a stopped node powers on; a running node reboots (its containers are killed and
 * started again with restartCount + 1).
 */
export async function restartNode(cluster: FaultTarget, name: string): Promise<void> {
  const k = nodeOf(cluster, name);
  if (k.state === "powered-off") await k.powerOn();
  else if (k.state === "running") await k.reboot();
  else throw new FaultError(`node "${name}" cannot be restarted: its kubelet is ${k.state}`);
}

/** Cuts a node off from the API server (a network partition); its containers keep running. */
export function partitionNode(cluster: FaultTarget, name: string): void {
  nodeOf(cluster, name).partition();
}

/** Ends a partition made by `partitionNode`. */
export async function healPartition(cluster: FaultTarget, name: string): Promise<void> {
  await nodeOf(cluster, name).heal();
}

/**
 * Kills a container's process: exit code 1 (reason Error), or 137 (reason OOMKilled) with
 * `oom`. The pod's restartPolicy decides whether it restarts (and with what back-off).
 */
export function crashContainer(cluster: FaultTarget, namespace: string, pod: string, container: string, options: { oom?: boolean } = {}): void {
  for (const k of cluster.kubelets.values()) {
    const runtime = k.runtimeOf(namespace, pod);
    if (!runtime) continue;
    const machine = runtime.container(container);
    if (!machine) {
      const names = runtime.containers().map((m) => m.spec.name);
      throw new FaultError(`pod ${namespace}/${pod} has no container "${container}"; its containers are: ${names.join(", ")}`);
    }
    const done = options.oom ? runtime.oomKill(container) : runtime.crash(container);
    if (!done) throw new FaultError(`container "${container}" of pod ${namespace}/${pod} is not running, so it cannot crash; wait until it is Running`);
    return;
  }
  throw new FaultError(`pod ${namespace}/${pod} is not running on any node`);
}

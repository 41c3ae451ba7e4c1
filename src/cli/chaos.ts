/**
 * `kubelings chaos`: inject a fault into a running cluster and say, in a learner's words, what
 * will follow. Faults act on live machines (kubelets, containers), so they need the cluster a
 * `kubelings serve` runs: the command is sent over the server's control socket and
 * {@link runChaos} executes it inside the server, with the faults of `cluster/node/faults.ts`.
 *
 * ```
 * kubelings chaos delete-pod NAME [-n NS]      kubectl delete pod: its controller replaces it
 * kubelings chaos stop-node NODE               power the machine off
 * kubelings chaos restart-node NODE            power a stopped node on, or reboot a running one
 * kubelings chaos crash POD [-c C] [-n NS] [--oom]   kill a container's process (exit 1, or 137 OOMKilled)
 * kubelings chaos partition NODE               cut the node off the API server
 * kubelings chaos heal NODE                    end the partition
 * ```
 *
 * Exit codes (DESIGN.md): 0 the fault happened; 1 it cannot happen in the current state (the
 * node is already stopped, the container is not running); 2 a usage or input error (unknown
 * action, a pod or node that does not exist, no running server).
 */
import type { Client } from "../api/client.js";
import { ApiError } from "../api/errors.js";
import type { KubeObject } from "../api/types.js";
import type { Kubelet } from "../cluster/node/kubelet.js";
import { FaultError, crashContainer, deletePod, healPartition, partitionNode, restartNode, stopNode, type FaultTarget } from "../cluster/node/faults.js";
import { NODE_MONITOR_GRACE_PERIOD_MS } from "../cluster/node/node-lifecycle.js";
import { callControl, type CommandOutput } from "./control.js";

/** The faults `kubelings chaos` knows, by sub-command name. */
export const CHAOS_ACTIONS = ["delete-pod", "stop-node", "restart-node", "crash", "partition", "heal"] as const;

/** One of {@link CHAOS_ACTIONS}. */
export type ChaosAction = (typeof CHAOS_ACTIONS)[number];

/** A fault to inject, as the CLI sends it over the control socket. */
export interface ChaosOptions {
  readonly action: ChaosAction;
  /** The pod (`delete-pod`, `crash`) or node (the others). */
  readonly target: string;
  /** Namespace of the pod (default `default`). */
  readonly namespace?: string;
  /** Container to crash (default: the pod's default container, as kubectl picks it). */
  readonly container?: string;
  /** `crash --oom`: kill the container as the kernel's OOM killer does (exit 137, OOMKilled). */
  readonly oom?: boolean;
  /** `-o table` (default: sentences) or `-o json`. */
  readonly output?: "table" | "json";
}

/** What `runChaos` needs of a cluster: its API server and its kubelets by node name. */
export interface ChaosCluster {
  readonly api: Client;
  readonly kubelets: ReadonlyMap<string, Kubelet>;
}

/** The outcome of a fault, as `-o json` prints it. */
export interface ChaosResult {
  readonly action: ChaosAction;
  readonly node?: string;
  readonly namespace?: string;
  readonly pod?: string;
  readonly container?: string;
  /** What happened and what the cluster will do next. */
  readonly message: string;
}

/**
 * Seconds a pod tolerates a not-ready or unreachable node before eviction: the
 * `tolerationSeconds: 300` the DefaultTolerationSeconds admission plugin adds to every pod.
 */
const DEFAULT_TOLERATION_SECONDS = 300;

/** kubectl's annotation naming the container commands default to (`kubectl logs`, `exec`). */
const DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container";

const GRACE_SECONDS = NODE_MONITOR_GRACE_PERIOD_MS / 1000;
const EVICTION_SENTENCE = `the node goes NotReady after ${GRACE_SECONDS} s and its pods are evicted ${DEFAULT_TOLERATION_SECONDS / 60} minutes later`;

/** A bad request: exit code 2. */
class ChaosUsageError extends Error {}

/** A fault that cannot happen in the current state: exit code 1. */
class ChaosStateError extends Error {}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Checks a request that came over the control socket (untyped JSON) and returns it typed;
 * throws naming the option and the fix.
 */
export function parseChaosOptions(raw: Record<string, unknown>): ChaosOptions {
  const action = raw.action;
  if (typeof action !== "string" || !(CHAOS_ACTIONS as readonly string[]).includes(action)) {
    throw new ChaosUsageError(`unknown fault ${JSON.stringify(action ?? "")}: use one of ${CHAOS_ACTIONS.join(", ")}`);
  }
  const onPod = action === "delete-pod" || action === "crash";
  const target = raw.target;
  if (typeof target !== "string" || target === "") throw new ChaosUsageError(`${action} needs the name of a ${onPod ? "pod" : "node"}`);
  if (!DNS_SUBDOMAIN.test(target) || target.length > 253) throw new ChaosUsageError(`"${target}" is not a valid ${onPod ? "pod" : "node"} name: use lower-case letters, digits, '-' and '.'`);
  const str = (key: string): string | undefined => {
    const v = raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string" || v === "") throw new ChaosUsageError(`--${key} must be a non-empty name`);
    return v;
  };
  const namespace = str("namespace");
  const container = str("container");
  if (namespace !== undefined && !DNS_LABEL.test(namespace)) throw new ChaosUsageError(`--namespace "${namespace}" is not a valid namespace name: use lower-case letters, digits and '-'`);
  if (!onPod && namespace !== undefined) throw new ChaosUsageError(`--namespace does not apply to ${action}: nodes are not namespaced`);
  if (action !== "crash" && container !== undefined) throw new ChaosUsageError(`--container only applies to crash`);
  if (action !== "crash" && raw.oom === true) throw new ChaosUsageError(`--oom only applies to crash`);
  const output = raw.output ?? "table";
  if (output !== "table" && output !== "json") throw new ChaosUsageError(`unknown output format ${JSON.stringify(output)}: use -o table or -o json`);
  return {
    action: action as ChaosAction,
    target,
    ...(onPod ? { namespace: namespace ?? "default" } : {}),
    ...(container !== undefined ? { container } : {}),
    ...(raw.oom === true ? { oom: true } : {}),
    output,
  };
}

/**
 * Injects a fault into a running cluster (the server side of `kubelings chaos`) and reports
 * what happened and what Kubernetes will do about it. Never throws for a bad request: the
 * answer carries the exit code.
 */
export async function runChaos(cluster: ChaosCluster, raw: Record<string, unknown>): Promise<CommandOutput> {
  let options: ChaosOptions;
  try {
    options = parseChaosOptions(raw);
  } catch (err) {
    return { code: 2, stdout: "", stderr: `kubelings chaos: ${(err as Error).message}\n` };
  }
  try {
    const result = await inject(cluster, options);
    const stdout = options.output === "json" ? JSON.stringify(result, null, 2) + "\n" : result.message + "\n";
    return { code: 0, stdout, stderr: "" };
  } catch (err) {
    const code = err instanceof ChaosUsageError ? 2 : err instanceof ChaosStateError || err instanceof FaultError ? 1 : undefined;
    if (code === undefined) {
      if (err instanceof ApiError) return { code: 1, stdout: "", stderr: `kubelings chaos: ${err.message}\n` };
      throw err;
    }
    return { code, stdout: "", stderr: `kubelings chaos: ${(err as Error).message}\n` };
  }
}

async function inject(cluster: ChaosCluster, o: ChaosOptions): Promise<ChaosResult> {
  switch (o.action) {
    case "delete-pod":
      return deletePodFault(cluster, o.namespace!, o.target);
    case "crash":
      return crashFault(cluster, o);
    default:
      return nodeFault(cluster, o.action, o.target);
  }
}

/** Reads a pod; a missing one is an input error naming the namespace. */
async function getPod(api: Client, namespace: string, name: string): Promise<KubeObject> {
  try {
    return await api.get({ apiVersion: "v1", kind: "Pod", namespace, name });
  } catch (err) {
    if (err instanceof ApiError && err.code === 404) {
      throw new ChaosUsageError(`pod "${name}" not found in namespace "${namespace}"${namespace === "default" ? " (use -n NAMESPACE for another namespace)" : ""}`);
    }
    throw err;
  }
}

/** Who brings a deleted pod back, in a sentence. */
function replacementSentence(pod: KubeObject): string {
  const owner = (pod.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (!owner) return "nothing owns it, so nothing replaces it: a bare pod is gone for good (this is why apps run under a Deployment)";
  switch (owner.kind) {
    case "ReplicaSet":
      return `its ReplicaSet ${owner.name} sees one pod fewer than it wants and creates a replacement at once, with a new name and a new IP`;
    case "ReplicationController":
      return `its ReplicationController ${owner.name} sees one pod fewer than it wants and creates a replacement at once`;
    case "StatefulSet":
      return `its StatefulSet ${owner.name} creates it again with the same name once it is gone`;
    case "DaemonSet":
      return `its DaemonSet ${owner.name} creates it again on the same node`;
    case "Job":
      return `its Job ${owner.name} creates a replacement unless it has already finished`;
    default:
      return `its ${owner.kind} ${owner.name} decides whether to replace it`;
  }
}

async function deletePodFault(cluster: ChaosCluster, namespace: string, name: string): Promise<ChaosResult> {
  const pod = await getPod(cluster.api, namespace, name);
  const base = { action: "delete-pod" as const, namespace, pod: name };
  if (pod.metadata.deletionTimestamp) {
    throw new ChaosStateError(`pod ${namespace}/${name} is already terminating (deleted at ${pod.metadata.deletionTimestamp}); wait for its containers to stop`);
  }
  const deleted = await deletePod(cluster.api, namespace, name);
  const grace = deleted.metadata?.deletionGracePeriodSeconds;
  const stopping =
    grace === undefined || deleted.metadata?.deletionTimestamp === undefined
      ? "it is gone at once (it was not running on a node)"
      : `it is Terminating: its containers get SIGTERM and up to ${grace} s to exit (terminationGracePeriodSeconds) before SIGKILL`;
  return { ...base, message: `Deleted pod ${namespace}/${name}: ${stopping}; ${replacementSentence(pod)}.` };
}

/** The container kubectl would pick: the default-container annotation, else the first one. */
function defaultContainer(pod: KubeObject): { name: string; note?: string } {
  const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && names.includes(annotated)) return { name: annotated };
  const note = names.length > 1 ? `Defaulted container "${names[0]}" out of: ${names.join(", ")}` : undefined;
  return { name: names[0], ...(note ? { note } : {}) };
}

async function crashFault(cluster: ChaosCluster, o: ChaosOptions): Promise<ChaosResult> {
  const namespace = o.namespace!;
  const pod = await getPod(cluster.api, namespace, o.target);
  const picked = o.container ? { name: o.container } : defaultContainer(pod);
  const names: string[] = (pod.spec?.containers ?? []).map((c: any) => c.name);
  if (!names.includes(picked.name)) {
    throw new ChaosUsageError(`pod ${namespace}/${o.target} has no container "${picked.name}"; its containers are: ${names.join(", ")}`);
  }
  if (!pod.spec?.nodeName) throw new ChaosStateError(`pod ${namespace}/${o.target} is not scheduled to a node yet, so no container runs: wait until it is Running`);
  crashContainer(faultTarget(cluster), namespace, o.target, picked.name, { oom: o.oom === true });
  const how = o.oom ? "exit code 137, reason OOMKilled, as when the kernel's OOM killer ends it" : "exit code 1, reason Error";
  const policy: string = pod.spec?.restartPolicy ?? "Always";
  const next =
    policy === "Never"
      ? "restartPolicy Never: the kubelet does not restart it, and the pod ends Failed"
      : `restartPolicy ${policy}: the kubelet restarts it (restartCount + 1); if it keeps crashing, each restart waits longer (CrashLoopBackOff: 10 s, doubling up to 5 minutes)`;
  const note = picked.note ? ` (${picked.note})` : "";
  return {
    action: "crash",
    namespace,
    pod: o.target,
    container: picked.name,
    node: pod.spec.nodeName,
    message: `Crashed container ${picked.name} of pod ${namespace}/${o.target} on ${pod.spec.nodeName}${note}: ${how}; ${next}.`,
  };
}

function faultTarget(cluster: ChaosCluster): FaultTarget {
  return { kubelets: cluster.kubelets, kubelet: (name: string) => cluster.kubelets.get(name) };
}

/** How many pods the API has bound to a node, for the message. */
async function podsOn(api: Client, node: string): Promise<number> {
  const list = await api.list({ apiVersion: "v1", kind: "Pod" }, { fieldSelector: `spec.nodeName=${node}` });
  return list.items.filter((p) => !p.metadata.deletionTimestamp).length;
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? "" : "s"}`;
}

async function nodeFault(cluster: ChaosCluster, action: Exclude<ChaosAction, "delete-pod" | "crash">, node: string): Promise<ChaosResult> {
  const k = cluster.kubelets.get(node);
  if (!k) throw new ChaosUsageError(`node "${node}" not found; the nodes are: ${[...cluster.kubelets.keys()].join(", ") || "(none)"}`);
  const target = faultTarget(cluster);
  const pods = await podsOn(cluster.api, node);
  const result = (message: string): ChaosResult => ({ action, node, message });
  switch (action) {
    case "stop-node":
      if (k.state !== "running") throw new ChaosStateError(`node ${node} is already stopped; start it with \`kubelings chaos restart-node ${node}\``);
      stopNode(target, node);
      return result(
        pods > 0
          ? `Stopped node ${node}: its kubelet stops heartbeating; ${EVICTION_SENTENCE}, and their controllers replace them on other nodes (${count(pods, "pod")} ran there).`
          : `Stopped node ${node}: its kubelet stops heartbeating; the node goes NotReady after ${GRACE_SECONDS} s (no pods ran there, so nothing is evicted).`,
      );
    case "restart-node": {
      const wasStopped = k.state === "powered-off";
      await restartNode(target, node);
      if (wasStopped) {
        return result(
          `Started node ${node}: its kubelet registers again and heartbeats, the node becomes Ready and its taints are removed; ` +
            `pods the control plane evicted meanwhile are cleaned up, the others start again with restartCount + 1.`,
        );
      }
      return result(
        `Rebooted node ${node}: every container on it was killed and starts again (restartCount + 1, a new pod IP each)` +
          (pods > 0 ? ` for its ${count(pods, "pod")}` : "") +
          `; its kubelet is back within seconds, well inside the ${GRACE_SECONDS} s grace period, so nothing is evicted.`,
      );
    }
    case "partition":
      if (!k.isConnected) throw new ChaosStateError(`node ${node} is already cut off from the API server; end that with \`kubelings chaos heal ${node}\``);
      partitionNode(target, node);
      return result(
        `Cut node ${node} off from the API server: its containers keep running` +
          (pods > 0 ? ` (${pods === 1 ? "1 pod runs" : `${pods} pods run`} there)` : "") +
          `, but its kubelet can no longer heartbeat; ${EVICTION_SENTENCE} unless you heal it first with \`kubelings chaos heal ${node}\`.`,
      );
    case "heal":
      if (k.isConnected) throw new ChaosStateError(`node ${node} is not partitioned: nothing to heal`);
      await healPartition(target, node);
      if (k.state !== "running") {
        return result(`Reconnected node ${node} to the API server, but the machine is powered off: it stays NotReady until \`kubelings chaos restart-node ${node}\`.`);
      }
      return result(
        `Reconnected node ${node} to the API server: its kubelet reports again and the node becomes Ready; ` +
          `pods that were evicted meanwhile are stopped, the others were never interrupted.`,
      );
  }
}

/** Where the CLI side of `chaos` writes. */
export interface ChaosIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

/**
 * The CLI side of `kubelings chaos`: sends the fault to the `kubelings serve` running on
 * `state` and prints its answer. Without a running server the fault has nothing to act on:
 * exit code 2 with the way to start one.
 */
export async function chaosCommand(state: string, options: ChaosOptions, io: ChaosIo): Promise<number> {
  const answer = await callControl(state, "chaos", { ...options });
  if (!answer) {
    io.stderr.write(`no kubelings serve is running on ${state}: start one with \`kubelings serve\`\n`);
    return 2;
  }
  io.stdout.write(answer.stdout);
  io.stderr.write(answer.stderr);
  return answer.code;
}

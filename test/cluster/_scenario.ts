/**
 * Helpers for end-to-end scenarios: the whole simulated cluster (`Cluster`: API server, scheduler,
 * controllers, kubelets, node lifecycle, kube-proxy, DNS) on a virtual clock, a memory store and
 * a seeded random source, plus builders for the objects the scenarios apply and a recorder that
 * keeps every watch event in the order the API server committed it.
 */
import { VirtualClock } from "../../src/api/clock.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import type { KubeObject, WatchEvent } from "../../src/api/types.js";
import { Cluster } from "../../src/cluster/cluster.js";
import type { NodeSpec } from "../../src/cluster/node/node-spec.js";
import { seededRandom } from "../../src/cluster/scheduler/random.js";

export const DEPLOYMENT = { apiVersion: "apps/v1", kind: "Deployment" } as const;
export const REPLICASET = { apiVersion: "apps/v1", kind: "ReplicaSet" } as const;
export const POD = { apiVersion: "v1", kind: "Pod" } as const;

/** A running scenario. */
export interface Scenario {
  readonly cluster: Cluster;
  readonly clock: VirtualClock;
  /** Lines the components logged (`component: message`). */
  readonly logs: string[];
  /** Seconds of virtual time since the nodes became Ready. */
  now(): number;
  /** Advances the virtual clock by `seconds`. */
  run(seconds: number): Promise<void>;
  /**
   * Advances the clock second by second until `check` holds; returns `now()` at that moment.
   * Throws (naming `what`) when it does not hold within `maxSeconds`.
   */
  until(what: string, maxSeconds: number, check: () => Promise<boolean> | boolean): Promise<number>;
  /** Pods of a namespace (optionally matching a label selector). */
  pods(labelSelector?: string, namespace?: string): Promise<KubeObject[]>;
  /** Events about the object named `name` (all events when undefined), oldest first. */
  events(name?: string, namespace?: string): Promise<KubeObject[]>;
  /** Reads an object, undefined when absent. */
  peek(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject | undefined;
  /** Stops the cluster and closes its store. */
  stop(): Promise<void>;
}

/** Options of {@link startScenario}. */
export interface ScenarioOptions {
  /** Seed of the random source (uids, generated names, IPs, scheduling ties). Default 1. */
  readonly seed?: number;
  /** Worker nodes (a control-plane node is added). Default 3. */
  readonly workers?: number;
  /** Explicit node shapes instead of `workers`. */
  readonly nodes?: readonly NodeSpec[];
}

/** Starts a whole cluster and runs the clock until every node reports Ready. */
export async function startScenario(options: ScenarioOptions = {}): Promise<Scenario> {
  const clock = new VirtualClock();
  const store = new MemoryStore();
  const logs: string[] = [];
  const cluster = new Cluster({
    store,
    clock,
    random: seededRandom(options.seed ?? 1),
    log: (component, message) => logs.push(`${component}: ${message}`),
    ...(options.nodes ? { nodes: options.nodes } : { workers: options.workers ?? 3 }),
  });
  await cluster.start();
  let t0 = clock.now();
  const scenario: Scenario = {
    cluster,
    clock,
    logs,
    now: () => (clock.now() - t0) / 1000,
    run: (seconds) => clock.advance(seconds * 1000),
    async until(what, maxSeconds, check) {
      for (let i = 0; i <= maxSeconds; i++) {
        if (await check()) return scenario.now();
        if (i < maxSeconds) await clock.advance(1000);
      }
      throw new Error(`${what}: not reached within ${maxSeconds} s of virtual time (at ${scenario.now()} s)`);
    },
    async pods(labelSelector, namespace = "default") {
      return (await cluster.api.list({ ...POD, namespace }, labelSelector ? { labelSelector } : {})).items;
    },
    async events(name, namespace) {
      const items = (await cluster.api.list({ apiVersion: "v1", kind: "Event", ...(namespace ? { namespace } : {}) })).items;
      return items.filter((e) => name === undefined || e.involvedObject?.name === name).sort((a, b) => (eventStamp(a) < eventStamp(b) ? -1 : 1));
    },
    peek: (apiVersion, kind, name, namespace) => cluster.api.peek({ apiVersion, kind, name, namespace }) as KubeObject | undefined,
    async stop() {
      cluster.stop();
      await store.close();
    },
  };
  await scenario.until("every node Ready", 60, async () => {
    const nodes = (await cluster.api.list({ apiVersion: "v1", kind: "Node" })).items;
    return nodes.length > 0 && nodes.every((n) => conditionOf(n, "Ready")?.status === "True");
  });
  t0 = clock.now();
  return scenario;
}

/** The event recorder names events `<object>.<hex nanoseconds>`, unique and increasing. */
function eventStamp(e: KubeObject): bigint {
  const name = e.metadata.name!;
  return BigInt(`0x${name.slice(name.lastIndexOf(".") + 1)}`);
}

// ---------------------------------------------------------------------------------------------
// Builders

/** Options of {@link deployment}. */
export interface DeploymentOptions {
  readonly namespace?: string;
  readonly replicas?: number;
  readonly image?: string;
  /** CPU request of the container (`3`, `500m`). */
  readonly cpu?: string;
  readonly env?: Record<string, string>;
  readonly containerPort?: number;
  readonly strategy?: Record<string, unknown>;
}

/** A Deployment of one `web` container selecting `app: <name>`. */
export function deployment(name: string, o: DeploymentOptions = {}): KubeObject {
  const labels = { app: name };
  const container: Record<string, unknown> = { name: "web", image: o.image ?? "nginx:1.27" };
  if (o.cpu) container.resources = { requests: { cpu: o.cpu } };
  if (o.env) container.env = Object.entries(o.env).map(([k, v]) => ({ name: k, value: v }));
  if (o.containerPort) container.ports = [{ containerPort: o.containerPort }];
  return {
    ...DEPLOYMENT,
    metadata: { name, namespace: o.namespace ?? "default" },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: labels },
      ...(o.strategy ? { strategy: o.strategy } : {}),
      template: { metadata: { labels }, spec: { containers: [container] } },
    },
  };
}

/** A ClusterIP Service selecting `app: <app>`, port 80 to the pods' port 80. */
export function service(name: string, app: string, namespace = "default"): KubeObject {
  return { apiVersion: "v1", kind: "Service", metadata: { name, namespace }, spec: { selector: { app }, ports: [{ name: "http", port: 80, targetPort: 80 }] } };
}

/** Changes the image of a Deployment's `web` container, as `kubectl set image` does. */
export async function setImage(s: Scenario, name: string, image: string, namespace = "default"): Promise<void> {
  await s.cluster.api.patch({ ...DEPLOYMENT, namespace, name }, "application/strategic-merge-patch+json", {
    spec: { template: { spec: { containers: [{ name: "web", image }] } } },
  });
}

/** Scales a Deployment through its scale subresource, as `kubectl scale` does. */
export async function scale(s: Scenario, name: string, replicas: number, namespace = "default"): Promise<void> {
  await s.cluster.api.patch({ ...DEPLOYMENT, namespace, name }, "application/merge-patch+json", { spec: { replicas } }, { subresource: "scale" });
}

// ---------------------------------------------------------------------------------------------
// Reading objects

/** A condition of an object's status by type. */
export function conditionOf(obj: KubeObject | undefined, type: string): any {
  return (obj?.status?.conditions ?? []).find((c: any) => c.type === type);
}

/** Ready and not terminating: what a Deployment counts as available with minReadySeconds 0. */
export function isAvailable(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && conditionOf(pod, "Ready")?.status === "True";
}

/**
 * What the Endpoints controller lists as a ready address (`ShouldPodBeInEndpoints` then
 * `IsPodReady`): a pod with an IP, not terminal, not terminating, with Ready=True.
 */
export function isReadyEndpoint(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return Boolean(pod.status?.podIP) && phase !== "Succeeded" && phase !== "Failed" && isAvailable(pod);
}

/** True when the IPv4 address `ip` lies inside `cidr` (`10.244.1.0/24`). */
export function inCidr(ip: string, cidr: string): boolean {
  const [base, bits] = cidr.split("/");
  const toInt = (a: string) => a.split(".").reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

/** The revision annotation of a ReplicaSet or Deployment. */
export function revisionOf(obj: KubeObject): string | undefined {
  return obj.metadata.annotations?.["deployment.kubernetes.io/revision"];
}

// ---------------------------------------------------------------------------------------------
// Timelines

/** One watch event, stamped with the virtual time it arrived at and its arrival order. */
export interface Recorded {
  /** Arrival order across every watch of the recorder (the API server's commit order). */
  readonly seq: number;
  /** Seconds since the scenario started. */
  readonly t: number;
  readonly type: WatchEvent["type"];
  readonly kind: string;
  readonly object: KubeObject;
}

/** Records every event of some watches, in one sequence. */
export interface Recorder {
  readonly events: Recorded[];
  stop(): void;
}

/**
 * Watches the given kinds (in `namespace`) from now on, without the initial synthetic ADDED
 * events, and records every event with its virtual time.
 */
export function record(s: Scenario, kinds: readonly { apiVersion: string; kind: string }[], namespace = "default"): Recorder {
  const events: Recorded[] = [];
  const rv = String(s.cluster.api.revision);
  const handles = kinds.map((k) =>
    s.cluster.api.watch({ ...k, namespace }, { resourceVersion: rv }, (ev) => {
      if (ev.type === "BOOKMARK") return;
      events.push({ seq: events.length, t: s.now(), type: ev.type, kind: k.kind, object: ev.object });
    }),
  );
  return { events, stop: () => handles.forEach((h) => h.stop()) };
}

/**
 * Replays the pod events of a recording onto the pods that existed when it started: calls
 * `visit` after each pod event with the set of pods (by uid) that exist at that moment.
 */
export function replayPods(initial: readonly KubeObject[], events: readonly Recorded[], visit: (pods: ReadonlyMap<string, KubeObject>, event: Recorded) => void): void {
  const pods = new Map<string, KubeObject>(initial.map((p) => [p.metadata.uid!, p]));
  for (const e of events) {
    if (e.kind === "Pod") {
      if (e.type === "DELETED") pods.delete(e.object.metadata.uid!);
      else pods.set(e.object.metadata.uid!, e.object);
    }
    visit(pods, e);
  }
}

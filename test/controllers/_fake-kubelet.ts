/**
 * A stand-in for the kubelet in controller tests: it never schedules (spec.nodeName is not its
 * job), it only plays the two parts of a kubelet the workload controllers react to:
 * - a new pod becomes Running and Ready (Ready condition with lastTransitionTime = now) after a
 *   delay, written through the status subresource; an image can be made slower, or "never"
 *   ready (Running with Ready=False, like a failing readiness probe);
 * - a pod with a deletionTimestamp is removed at once (delete with gracePeriodSeconds 0).
 * Plus helpers the tests use to drive time and to mark single pods ready or not.
 */
import { rfc3339, type VirtualClock } from "../../src/api/clock.js";
import type { Client } from "../../src/api/client.js";
import { isReason } from "../../src/api/errors.js";
import type { Timer } from "../../src/api/clock.js";
import type { KubeObject } from "../../src/api/types.js";
import type { ClusterContext, Component } from "../../src/cluster/context.js";

/** Readiness of an image: a delay in ms, or never. */
export type Readiness = number | "never";

/** Options of the fake kubelet. */
export interface FakeKubeletOptions {
  /** Delay before a new pod is Running and Ready (default 1000 ms). */
  readonly readyAfterMs?: number;
  /** Per image (of any container): its delay, or "never". The slowest container wins. */
  readonly images?: Readonly<Record<string, Readiness>>;
  /** Leave new pods Pending until a test marks them (default false). */
  readonly manual?: boolean;
}

/** The fake kubelet component. */
export function fakeKubelet(ctx: ClusterContext, options: FakeKubeletOptions = {}): Component {
  const informer = ctx.informers.for("v1", "Pod");
  const started = new Set<string>();
  const deleting = new Set<string>();
  const timers = new Set<Timer>();
  let stopped = false;

  const readinessOf = (pod: KubeObject): Readiness => {
    let delay = options.readyAfterMs ?? 1000;
    for (const c of pod.spec?.containers ?? []) {
      const r = options.images?.[c.image];
      if (r === undefined) continue;
      if (r === "never") return "never";
      delay = Math.max(delay, r);
    }
    return delay;
  };

  const remove = (pod: KubeObject) => {
    const uid = pod.metadata.uid ?? "";
    if (deleting.has(uid)) return;
    deleting.add(uid);
    void ctx.client
      .delete({ apiVersion: "v1", kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name ?? "" }, { gracePeriodSeconds: 0, preconditions: { uid } })
      .catch((err) => {
        if (!isReason(err, "NotFound") && !isReason(err, "Conflict")) throw err;
      });
  };

  const observe = (pod: KubeObject) => {
    if (stopped) return;
    if (pod.metadata.deletionTimestamp) {
      remove(pod);
      return;
    }
    const uid = pod.metadata.uid ?? "";
    if (options.manual || started.has(uid) || pod.status?.phase !== "Pending") return;
    started.add(uid);
    const readiness = readinessOf(pod);
    const delay = readiness === "never" ? (options.readyAfterMs ?? 1000) : readiness;
    const timer = ctx.clock.setTimeout(() => {
      timers.delete(timer);
      const current = informer.get(pod.metadata.namespace, pod.metadata.name ?? "");
      if (!current || current.metadata.uid !== uid || current.metadata.deletionTimestamp) return;
      void setPodReady(ctx.client, current, readiness !== "never", ctx.clock.now()).catch((err) => {
        if (!isReason(err, "NotFound")) throw err;
      });
    }, delay);
    timers.add(timer);
  };

  return {
    name: "fake-kubelet",
    start() {
      informer.addHandlers({ add: observe, update: (_old, cur) => observe(cur) });
    },
    stop() {
      stopped = true;
      for (const t of timers) t.cancel();
    },
  };
}

/** Writes a Running status with the Ready condition True or False (lastTransitionTime = now when it changes). */
export async function setPodReady(client: Client, pod: KubeObject, ready: boolean, nowMs: number): Promise<KubeObject> {
  const now = rfc3339(nowMs);
  const previous = (pod.status?.conditions ?? []).find((c: any) => c.type === "Ready");
  const readyStatus = ready ? "True" : "False";
  const transition = previous && previous.status === readyStatus ? previous.lastTransitionTime : now;
  const notReady = ready ? {} : { reason: "ContainersNotReady", message: `containers with unready status: [${(pod.spec?.containers ?? []).map((c: any) => c.name).join(" ")}]` };
  const status = {
    phase: "Running",
    conditions: [
      { type: "PodReadyToStartContainers", status: "True", lastTransitionTime: pod.status?.startTime ?? now },
      { type: "Initialized", status: "True", lastTransitionTime: pod.status?.startTime ?? now },
      { type: "Ready", status: readyStatus, lastTransitionTime: transition, ...notReady },
      { type: "ContainersReady", status: readyStatus, lastTransitionTime: transition, ...notReady },
      { type: "PodScheduled", status: "True", lastTransitionTime: pod.status?.startTime ?? now },
    ],
    startTime: pod.status?.startTime ?? now,
    containerStatuses: (pod.spec?.containers ?? []).map((c: any) => ({
      name: c.name,
      image: c.image,
      imageID: "",
      ready,
      restartCount: 0,
      started: true,
      state: { running: { startedAt: pod.status?.startTime ?? now } },
    })),
  };
  return client.patch({ apiVersion: "v1", kind: "Pod", namespace: pod.metadata.namespace, name: pod.metadata.name ?? "" }, "application/merge-patch+json", { status }, { subresource: "status" });
}

/** Advances the virtual clock in small steps, so chains of writes settle between timers. */
export async function runFor(clock: VirtualClock, ms: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) await clock.advance(Math.min(stepMs, ms - t));
  for (let i = 0; i < 5; i++) await clock.settle();
}

/** Pods of a namespace, sorted by name. */
export async function listPods(client: Client, namespace = "default", labelSelector?: string): Promise<KubeObject[]> {
  const list = await client.list({ apiVersion: "v1", kind: "Pod", namespace }, labelSelector ? { labelSelector } : {});
  return [...list.items].sort((a, b) => ((a.metadata.name ?? "") < (b.metadata.name ?? "") ? -1 : 1));
}

/**
 * Events of a namespace, oldest first, as `reason: message` lines (optionally only one source
 * component). The recorder's "(combined from similar events): " prefix, added once an object has
 * more than ten distinct messages with one reason (client-go's aggregator), is left out.
 */
export async function eventLines(client: Client, component?: string, namespace = "default"): Promise<string[]> {
  const list = await client.list({ apiVersion: "v1", kind: "Event", namespace });
  return list.items
    .filter((e) => !component || e.source?.component === component)
    .sort((a, b) => (eventStamp(a) < eventStamp(b) ? -1 : eventStamp(a) > eventStamp(b) ? 1 : 0))
    .map((e) => `${e.reason}: ${String(e.message).replace(/^\(combined from similar events\): /, "")}`);
}

/** Event names end in the hex nanoseconds of their creation: a total order of events. */
function eventStamp(event: KubeObject): bigint {
  const name = event.metadata.name ?? "";
  return BigInt(`0x${name.slice(name.lastIndexOf(".") + 1) || "0"}`);
}

/**
 * Runs pods on a virtual clock and records what the kubelet would write: every status (with the
 * time it changed) and every event, times in seconds from the start.
 */
import { VirtualClock } from "../../src/api/clock.js";
import type { KubeObject } from "../../src/api/types.js";
import { NodeImageStore, PodRuntime, type ConfigLookup, type PodStatus, type RuntimeEvent } from "../../src/cluster/runtime/index.js";

/** A recorded event, time in seconds from the start. */
export interface SeenEvent {
  readonly t: number;
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly fieldPath?: string;
}

/** A pod running on a virtual clock. */
export interface PodRun {
  readonly clock: VirtualClock;
  readonly rt: PodRuntime;
  readonly images: NodeImageStore;
  readonly events: SeenEvent[];
  readonly statuses: { t: number; status: PodStatus }[];
  /** Seconds since the start. */
  now(): number;
  /** Advances the clock by `seconds`. */
  run(seconds: number): Promise<void>;
  /** The last status written at or before `t` seconds. */
  statusAt(t: number): PodStatus;
  /** Events with this reason. */
  eventsOf(reason: string): SeenEvent[];
}

/** A pod object for tests. */
export function podOf(spec: Record<string, unknown>, name = "web-abc"): KubeObject {
  return { apiVersion: "v1", kind: "Pod", metadata: { name, namespace: "default", uid: "0b1c2d3e-uid" }, spec };
}

/** Starts a pod on a fresh node (images `preloaded` present) and returns the recorder. */
export function startPod(
  spec: Record<string, unknown>,
  options: { preloaded?: string[]; lookup?: ConfigLookup; name?: string; pod?: KubeObject; random?: () => number } = {},
): PodRun {
  const clock = new VirtualClock();
  const t0 = clock.now();
  const images = new NodeImageStore({ clock, preloaded: options.preloaded ?? [] });
  const events: SeenEvent[] = [];
  const statuses: { t: number; status: PodStatus }[] = [];
  const sec = () => (clock.now() - t0) / 1000;
  const rt = new PodRuntime({
    clock,
    pod: options.pod ?? podOf(spec, options.name),
    hostIP: "172.18.0.3",
    podIP: "10.244.1.7",
    images,
    lookup: options.lookup,
    random: options.random,
    onEvent: (e: RuntimeEvent) => events.push({ t: (e.time - t0) / 1000, type: e.type, reason: e.reason, message: e.message, fieldPath: e.fieldPath }),
    onStatus: (s) => statuses.push({ t: sec(), status: s }),
  });
  rt.start();
  return {
    clock,
    rt,
    images,
    events,
    statuses,
    now: sec,
    run: (seconds) => clock.advance(seconds * 1000),
    statusAt(t) {
      let found: PodStatus | undefined;
      for (const s of statuses) if (s.t <= t) found = s.status;
      if (!found) throw new Error(`no status written by ${t}s`);
      return found;
    },
    eventsOf: (reason) => events.filter((e) => e.reason === reason),
  };
}

/** The single app container's status. */
export function only(status: PodStatus) {
  return status.containerStatuses[0];
}

/** A condition's status by type. */
export function cond(status: PodStatus, type: string) {
  return status.conditions.find((c) => c.type === type);
}

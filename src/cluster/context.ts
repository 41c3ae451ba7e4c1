/**
 * What every simulated component (controllers, scheduler, kubelets, kube-proxy) is given: the
 * API client (its only way to the cluster, as upstream components only talk to the
 * kube-apiserver), the clock, the shared informers, a seeded random source, an event recorder
 * per component, and a logger for notable happenings.
 */
import type { Client } from "../api/client.js";
import type { Clock } from "../api/clock.js";
import { EventRecorder, type EventSourceInfo } from "../api/events.js";
import type { InformerFactory } from "./informers.js";

/** A line for the `serve` log: component and message (no secrets, ever). */
export type Logger = (component: string, message: string) => void;

/** Shared context of the simulated components. */
export interface ClusterContext {
  readonly client: Client;
  readonly clock: Clock;
  readonly informers: InformerFactory;
  /** Deterministic random source (seeded in tests and `kubelings sim`). */
  readonly random: () => number;
  /** An event recorder for a component (and node, for node components). */
  recorder(source: EventSourceInfo): EventRecorder;
  readonly log: Logger;
}

/** A component that runs until stopped. */
export interface Component {
  /** Name as in `kubectl get events` sources: `deployment-controller`, `default-scheduler`, `kubelet`... */
  readonly name: string;
  /** Registers its informer handlers and starts working. Informers are started by the cluster after every component registered. */
  start(): Promise<void> | void;
  /** Stops timers and queues. */
  stop(): void;
}

/** Builds a context over a client. */
export function makeContext(options: {
  client: Client;
  clock: Clock;
  informers: InformerFactory;
  random: () => number;
  log?: Logger;
}): ClusterContext {
  const recorders = new Map<string, EventRecorder>();
  const log = options.log ?? (() => undefined);
  return {
    client: options.client,
    clock: options.clock,
    informers: options.informers,
    random: options.random,
    log,
    recorder(source) {
      const key = `${source.component}/${source.host ?? ""}`;
      let r = recorders.get(key);
      if (!r) {
        r = new EventRecorder(options.client, options.clock, source, { onError: (err) => log(source.component, `could not record an event: ${String(err)}`) });
        recorders.set(key, r);
      }
      return r;
    },
  };
}

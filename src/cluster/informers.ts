/**
 * Shared informers for the simulated control plane, as client-go's `SharedInformerFactory`: one
 * list-watch per kind however many controllers read it, so the whole cluster keeps one cache per
 * kind (the kube-controller-manager does the same).
 */
import type { Client } from "../api/client.js";
import type { Clock } from "../api/clock.js";
import { Informer } from "../api/informer.js";
import type { KubeObject } from "../api/types.js";

/** Hands out one shared informer per kind. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer<any>>();
  private started = false;

  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
    private readonly onError?: (err: unknown) => void,
  ) {}

  /** The shared informer for a kind (created on first use; started with `start`, or at once if the factory already runs). */
  for<T extends KubeObject = KubeObject>(apiVersion: string, kind: string): Informer<T> {
    const key = `${apiVersion}/${kind}`;
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer<T>(this.client, { apiVersion, kind }, { clock: this.clock, onError: this.onError });
      this.informers.set(key, informer);
      if (this.started) void informer.start();
    }
    return informer as Informer<T>;
  }

  /** Starts every informer and resolves when all hold their initial list (`WaitForCacheSync`). */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all([...this.informers.values()].map((i) => (i.hasSynced ? undefined : i.start())));
  }

  /** Stops every informer. */
  stop(): void {
    this.started = false;
    for (const i of this.informers.values()) i.stop();
  }
}

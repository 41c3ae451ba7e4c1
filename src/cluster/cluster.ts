/**
 * The simulated cluster, assembled: an API server over a store, the control plane
 * (scheduler; ReplicaSet, ReplicationController, Deployment, garbage collector, namespace,
 * Endpoints, EndpointSlice and node lifecycle controllers) and one kubelet per node, all on one
 * clock and one seeded random source. Every component talks to the others only through the
 * API server, as in a real cluster.
 */
import type { Clock } from "../api/clock.js";
import { ApiServer } from "../api/server/api-server.js";
import type { Store } from "../api/store/store.js";
import type { KubeList, KubeObject } from "../api/types.js";
import { KINDS } from "../api/kinds.js";
import { makeContext, type ClusterContext, type Component, type Logger } from "./context.js";
import { deploymentController } from "./controllers/deployment.js";
import { garbageCollector } from "./controllers/garbage-collector.js";
import { namespaceController } from "./controllers/namespace.js";
import { replicaSetController, replicationController } from "./controllers/replicaset.js";
import { InformerFactory } from "./informers.js";
import { nodeControllers } from "./node/fleet.js";
import { kubelet, type Kubelet } from "./node/kubelet.js";
import { defaultNodes, type NodeCapacity, type NodeSpec } from "./node/node-spec.js";
import { schedulerComponent } from "./scheduler/component.js";
import { bootstrapServices, clusterDNS, type ClusterDns } from "./services/dns.js";
import { kubeProxy, type KubeProxy } from "./services/kube-proxy.js";
import { endpointsController } from "./services/endpoints.js";
import { endpointSliceController } from "./services/endpointslice.js";

/** Options of a simulated cluster. */
export interface ClusterOptions {
  readonly store: Store;
  readonly clock: Clock;
  /** Worker nodes (a control-plane node is added). Default 3. */
  readonly workers?: number;
  /** Capacity of every node (default 4 CPU, 8Gi, 110 pods). */
  readonly capacity?: Partial<NodeCapacity>;
  /** Explicit node shapes, instead of `workers` and `capacity`. */
  readonly nodes?: readonly NodeSpec[];
  /** Seeded random source; default Math.random. */
  readonly random?: () => number;
  readonly log?: Logger;
  /** Scheduler scoring: LeastAllocated (spread, the default) or MostAllocated (bin packing). */
  readonly scoringStrategy?: "LeastAllocated" | "MostAllocated";
}

/** A running simulated cluster. */
export class Cluster {
  readonly api: ApiServer;
  readonly ctx: ClusterContext;
  /** kube-proxy: routes a Service address to a ready endpoint (set once started). */
  proxy!: KubeProxy;
  /** Cluster DNS (set once started). */
  dns!: ClusterDns;
  /** Kubelets by node name. */
  readonly kubelets = new Map<string, Kubelet>();
  private readonly components: Component[] = [];
  private readonly informers: InformerFactory;
  private started = false;

  constructor(private readonly options: ClusterOptions) {
    const random = options.random ?? Math.random;
    this.api = new ApiServer({ store: options.store, clock: options.clock, random });
    this.informers = new InformerFactory(this.api, options.clock, (err) => options.log?.("informers", String(err)));
    this.ctx = makeContext({ client: this.api, clock: options.clock, informers: this.informers, random, log: options.log });
  }

  /** Starts the API server, the control plane and the nodes; resolves when every cache is synced. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.api.start();
    await bootstrapServices(this.api);
    const ctx = this.ctx;
    this.components.push(
      schedulerComponent(ctx, { scoringStrategy: this.options.scoringStrategy }),
      replicaSetController(ctx),
      replicationController(ctx),
      deploymentController(ctx),
      garbageCollector(ctx),
      namespaceController(ctx),
      endpointsController(ctx),
      endpointSliceController(ctx),
      ...nodeControllers(ctx),
    );
    this.proxy = kubeProxy(ctx, { random: this.ctx.random });
    this.dns = clusterDNS(ctx);
    this.components.push(this.proxy, this.dns);
    const nodes = this.options.nodes ?? defaultNodes(this.options.workers ?? 3, { capacity: this.options.capacity });
    for (const spec of nodes) {
      const k = kubelet(ctx, spec);
      this.kubelets.set(spec.name, k);
      this.components.push(k);
    }
    for (const c of this.components) await c.start();
    await this.informers.start();
  }

  /** Stops every component (the store is closed by its owner). */
  stop(): void {
    for (const c of [...this.components].reverse()) c.stop();
    this.components.length = 0;
    this.informers.stop();
    this.api.stop();
    this.started = false;
  }

  /**
   * Resolves once every node reports Ready, or after `timeoutMs` of clock time (whichever comes
   * first). On a virtual clock, advance the clock instead: this waits on the clock's own time.
   */
  async waitForNodesReady(timeoutMs: number): Promise<boolean> {
    const clock = this.options.clock;
    const deadline = clock.now() + timeoutMs;
    for (;;) {
      const nodes = (await this.api.list({ apiVersion: "v1", kind: "Node" })).items;
      const ready = nodes.length > 0 && nodes.every((n) => (n.status?.conditions ?? []).some((c: any) => c.type === "Ready" && c.status === "True"));
      if (ready) return true;
      if (clock.now() >= deadline) return false;
      await clock.sleep(500);
    }
  }

  /** Every object in the cluster as a `v1 List`, in kind-registry order then namespace and name. */
  async snapshot(): Promise<KubeList> {
    const items: KubeObject[] = [];
    const seen = new Set<string>();
    for (const info of KINDS) {
      if (seen.has(info.storageResource)) continue; // one version per stored resource
      seen.add(info.storageResource);
      const list = await this.api.list({ apiVersion: info.apiVersion, kind: info.kind });
      for (const item of list.items) items.push({ ...item, apiVersion: info.apiVersion, kind: info.kind });
    }
    return { apiVersion: "v1", kind: "List", metadata: { resourceVersion: String(this.api.revision) }, items };
  }
}

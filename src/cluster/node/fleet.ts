/**
 * The simulated machines of a cluster: one kubelet per node spec, plus the control-plane
 * controllers that watch over nodes (node lifecycle, taint eviction, pod garbage collection).
 * Faults (`faults.ts`) and `kubectl logs` find a node's kubelet here.
 */
import type { ClusterContext, Component } from "../context.js";
import type { PodRuntime } from "../runtime/index.js";
import { kubelet, type Kubelet, type KubeletOptions } from "./kubelet.js";
import { nodeLifecycleController, type NodeLifecycleOptions } from "./node-lifecycle.js";
import { defaultNodes, type NodeSpec } from "./node-spec.js";
import { podGarbageCollector, type PodGcOptions } from "./pod-gc.js";
import { taintEvictionController } from "./taint-eviction.js";

/** The kubelets of a cluster, by node name. */
export interface NodeFleet {
  readonly kubelets: ReadonlyMap<string, Kubelet>;
  /** The kubelet of a node. */
  kubelet(name: string): Kubelet | undefined;
  /** Where a pod runs: its kubelet and runtime, when some node runs it. */
  findPod(namespace: string, name: string): { kubelet: Kubelet; runtime: PodRuntime } | undefined;
  /** The kubelets as components, to start with the cluster. */
  components(): Component[];
}

/** Builds one kubelet per node (default: 1 control plane and 3 workers). */
export function simulatedNodes(ctx: ClusterContext, specs: readonly NodeSpec[] = defaultNodes(), options: KubeletOptions = {}): NodeFleet {
  const kubelets = new Map<string, Kubelet>();
  for (const spec of specs) {
    if (kubelets.has(spec.name)) throw new Error(`node names must be unique: "${spec.name}" appears twice`);
    kubelets.set(spec.name, kubelet(ctx, spec, options));
  }
  return {
    kubelets,
    kubelet: (name) => kubelets.get(name),
    findPod(namespace, name) {
      for (const k of kubelets.values()) {
        const runtime = k.runtimeOf(namespace, name);
        if (runtime) return { kubelet: k, runtime };
      }
      return undefined;
    },
    components: () => [...kubelets.values()],
  };
}

/** Options of the node controllers. */
export interface NodeControllersOptions {
  readonly lifecycle?: NodeLifecycleOptions;
  readonly podGc?: PodGcOptions;
}

/** The kube-controller-manager's node controllers: node lifecycle, taint eviction, pod GC. */
export function nodeControllers(ctx: ClusterContext, options: NodeControllersOptions = {}): Component[] {
  return [nodeLifecycleController(ctx, options.lifecycle), taintEvictionController(ctx), podGarbageCollector(ctx, options.podGc)];
}

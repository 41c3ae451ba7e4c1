/**
 * The simulated nodes: kubelets (`kubelet.ts`), node descriptions (`node-spec.ts`), the
 * controllers watching over nodes (`node-lifecycle.ts`, `taint-eviction.ts`, `pod-gc.ts`), the
 * set of a cluster's nodes (`fleet.ts`) and faults (`faults.ts`).
 */
export {
  CONTAINER_RUNTIME_VERSION,
  DEFAULT_CAPACITY,
  DEFAULT_CLUSTER_NAME,
  DEFAULT_REGION,
  DEFAULT_ZONES,
  KUBELET_VERSION,
  LABEL_ARCH,
  LABEL_CONTROL_PLANE,
  LABEL_HOSTNAME,
  LABEL_OS,
  LABEL_REGION,
  LABEL_ZONE,
  NodeSpecError,
  defaultNodes,
  nodeSpec,
  type DefaultNodesOptions,
  type NodeCapacity,
  type NodeRole,
  type NodeSpec,
  type NodeSpecOptions,
  type NodeTaint,
} from "./node-spec.js";
export {
  KUBELET_NAME,
  Kubelet,
  NODE_LEASE_DURATION_SECONDS,
  NODE_LEASE_NAMESPACE,
  NODE_LEASE_RENEW_INTERVAL_MS,
  NODE_STATUS_REPORT_FREQUENCY_MS,
  NODE_STATUS_UPDATE_FREQUENCY_MS,
  PAUSE_IMAGE,
  kubelet,
  type KubeletOptions,
  type KubeletState,
} from "./kubelet.js";
export {
  NODE_CONTROLLER_NAME,
  NODE_MONITOR_GRACE_PERIOD_MS,
  NODE_MONITOR_PERIOD_MS,
  NODE_STARTUP_GRACE_PERIOD_MS,
  NOT_READY_TAINT,
  NodeLifecycleController,
  UNREACHABLE_TAINT,
  nodeLifecycleController,
  zoneKey,
  type NodeLifecycleOptions,
  type ZoneState,
} from "./node-lifecycle.js";
export { TAINT_EVICTION_CONTROLLER_NAME, TaintEvictionController, minTolerationTime, taintEvictionController } from "./taint-eviction.js";
export { POD_GC_NAME, PodGarbageCollector, TERMINATED_POD_GC_THRESHOLD, podGarbageCollector, type PodGcOptions } from "./pod-gc.js";
export { nodeControllers, simulatedNodes, type NodeControllersOptions, type NodeFleet } from "./fleet.js";
export { FaultError, crashContainer, deletePod, healPartition, partitionNode, restartNode, stopNode, type FaultTarget } from "./faults.js";

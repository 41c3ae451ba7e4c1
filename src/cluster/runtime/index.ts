/**
 * The simulated kubelet's core and container runtime: pure, table-driven pieces the kubelet loop
 * (which watches pods through the API and writes their status) is built on.
 *
 * - `workload.ts`: what a container does (the workload contract, `planContainer`).
 * - `images.ts`: image references, the catalog, pull outcomes, a node's image store.
 * - `backoff.ts`: CrashLoopBackOff and image pull back-off.
 * - `env.ts`: a container's environment (ConfigMaps, Secrets, fields), CreateContainerConfigError.
 * - `pod-status.ts`: phase, conditions, container statuses, QoS, as the kubelet reports them.
 * - `container.ts`: one container's lifecycle on the clock (pull, start, probes, exit, restart, kill).
 * - `pod.ts`: one pod on a node (volumes, sandbox, init containers, termination, logs, traffic).
 * - `logs.ts`: plausible log lines.
 */
export {
  CONTAINER_BACKOFF,
  IMAGE_PULL_BACKOFF,
  POD_WORKER_BACKOFF_MS,
  formatGoDuration,
  gcBackoff,
  hasExpired,
  isInBackOffSince,
  isInBackOffSinceUpdate,
  nextBackoff,
  nextDelay,
  type BackoffPolicy,
  type BackoffRecord,
} from "./backoff.js";
export {
  CONTAINER_EVENT,
  ContainerMachine,
  DEFAULT_TERMINATION_GRACE_SECONDS,
  KUBE_PROBE_USER_AGENT,
  MINIMUM_GRACE_PERIOD_MS,
  PLEG_RELIST_MS,
  PROBE_DEFAULTS,
  PROBE_RULES,
  STOP_RULES,
  SYNC_RULES,
  answerProbe,
  createdMessage,
  hookDurationMs,
  startedMessage,
  type ContainerKind,
  type ContainerMachineOptions,
  type MachineContainerSpec,
  type PodIdentity,
  type ProbeSpec,
  type RuntimeEvent,
  type TimelineEntry,
} from "./container.js";
export { missingVolumeSource, resolveContainerEnv, type ConfigLookup, type EnvContext, type EnvResult } from "./env.js";
export {
  IMAGE_CATALOG,
  IMAGE_EVENT,
  NodeImageStore,
  alreadyPresentMessage,
  backOffPullMessage,
  failedPullMessage,
  imageIdOf,
  imageProfile,
  imageWithDefaultTag,
  neverPullMessage,
  parseImage,
  pullDurationMs,
  pullOutcome,
  pulledMessage,
  pullingMessage,
  tagExists,
  typoOf,
  type ImageProfile,
  type ImageReference,
  type NodePullResult,
  type PullOutcome,
} from "./images.js";
export { InstanceLog, accessLogLines, formatDate, formatLogTimestamp, serverShutdownLines, serverStartupLines, type LogLine } from "./logs.js";
export {
  buildPodStatus,
  getPhase,
  getPodQOS,
  generateContainersReadyCondition,
  generatePodInitializedCondition,
  generatePodReadyCondition,
  shouldContainerBeRestarted,
  toContainerStatus,
  type ContainerRuntimeView,
  type ContainerStatus,
  type PodCondition,
  type PodStatus,
  type PodStatusInput,
  type RuntimeInstance,
} from "./pod-status.js";
export { PodRuntime, SANDBOX_SETUP_MS, type LogResult, type PodRuntimeOptions } from "./pod.js";
export {
  SIM_VARIABLES,
  WORKLOAD_SHAPES,
  expandKubeVars,
  parseSimEnv,
  planContainer,
  type Behaviour,
  type ContainerPlan,
  type ContainerSpec,
  type PlanStep,
  type ServerSpec,
  type SimVariable,
  type WorkloadShape,
} from "./workload.js";

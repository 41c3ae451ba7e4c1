/**
 * kube-scheduler for the simulated cluster: the default filter and score plugins with upstream
 * weights, the FailedScheduling wording, preemption, and the scheduling queue. Pure code: the
 * controller that watches pods, feeds the Snapshot, pops the queue and binds lives elsewhere.
 *
 * Wiring, as kube-scheduler's event handlers and `ScheduleOne` do it:
 * - Nodes: `snapshot.addNode/updateNode/removeNode`, then `queue.onNodeAdd()`,
 *   `queue.onNodeUpdate(old, new)`, `queue.onNodeDelete()`.
 * - Bound pods (`spec.nodeName` set): `snapshot.addPod/updatePod/removePod`, then
 *   `queue.onAssignedPodAdd()`, `onAssignedPodUpdate(old, new)`, `onAssignedPodDelete()`; a pod that
 *   just became bound also leaves the queue (`queue.delete(pod)`).
 * - Pending pods for `default-scheduler`: `queue.add/update/delete`; those with
 *   `status.nominatedNodeName` also `snapshot.addNominatedPod(pod)` (removed once bound or deleted).
 * - Services, ReplicaSets, StatefulSets, ReplicationControllers: `snapshot.setWorkload/removeWorkload`;
 *   Namespaces: `snapshot.setNamespace/removeNamespace`.
 * - Loop: `info = await queue.pop()`; skip pods being deleted (upstream `skipPodSchedule`);
 *   `r = scheduler.schedule(info.pod, snapshot)`.
 *   On success: `snapshot.assumePod(info.pod, r.nodeName)`, POST the Binding, `queue.done(info.pod)`,
 *   event `Scheduled` "Successfully assigned <ns>/<name> to <node>"; if binding fails,
 *   `snapshot.forgetPod(pod)` and `queue.addUnschedulableIfNotPresent(info, [])`.
 *   On failure: event `FailedScheduling` with `truncateMessage(r.error.message)`, pod condition
 *   PodScheduled=False reason Unschedulable (SchedulerError when the error is not a FitError or
 *   NoNodesAvailableError), then `queue.addUnschedulableIfNotPresent(info, fitError.diagnosis.unschedulablePlugins)`.
 *   When `r.nominatedNodeName` is set, patch `status.nominatedNodeName` ("" clears it) and delete
 *   `r.victims` (with a DisruptionTarget condition, reason PreemptionByScheduler, and a `Preempted` event).
 * - `queue.run()` starts the backoff and leftover flushes on the injected Clock.
 */

export { Scheduler, isScheduled, numFeasibleNodesToFind, type SchedulerOptions, type ScheduleResult, type ScheduleSuccess, type ScheduleFailure } from "./framework.js";
export { Snapshot, zoneKey, LABEL_HOSTNAME, LABEL_ZONE, LABEL_REGION, type TopologyTable } from "./snapshot.js";
export { NodeInfo } from "./nodeinfo.js";
export { PodInfo, type AffinityTerm, type HostPort, type Toleration } from "./podinfo.js";
export { FitError, NoNodesAvailableError, fitErrorMessage, truncateMessage, type Diagnosis } from "./messages.js";
export * as reasons from "./messages.js";
export {
  SchedulingQueue,
  podBackoffMs,
  nodeUpdateEvents,
  ClusterEvents,
  Action,
  PLUGIN_EVENTS,
  POD_INITIAL_BACKOFF_MS,
  POD_MAX_BACKOFF_MS,
  POD_MAX_IN_UNSCHEDULABLE_PODS_DURATION_MS,
  type ClusterEvent,
  type QueuedPodInfo,
  type SchedulingQueueOptions,
} from "./queue.js";
export { Status, MAX_NODE_SCORE, type PluginName, type RejectionCode } from "./types.js";
/** NodeResourcesFit scoring strategy: "LeastAllocated" or "MostAllocated". */
export type { ScoringStrategy } from "./plugins/node-resources-fit.js";
export { seededRandom } from "./random.js";

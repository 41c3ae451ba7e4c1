/**
 * Health of live objects, with Argo CD's per-kind rules (gitops-engine `pkg/health/health_*.go`,
 * read in `argoproj/argo-cd:gitops-engine/pkg/health/`; the CronJob rule is Argo CD's built-in
 * Lua check `resource_customizations/batch/CronJob/health.lua`). Most rules are kubectl's
 * `rollout status` logic (`kubectl/pkg/polymorphichelpers/rollout_status.go`), whose messages
 * they keep, so a learner sees the same words in kubelings, Argo CD and kubectl.
 *
 * Deviations, each an improvement a learner would expect:
 * - a Job whose `Suspended` condition is False (resumed) is Progressing while it runs; upstream
 *   counts any `Suspended` condition as finished and reports the running Job Healthy; likewise
 *   `Complete`/`Failed` conditions count only when not False.
 * - a Pod whose `restartPolicy` is absent is treated as `Always`, its Kubernetes default
 *   (upstream reads the Go zero value "" and skips the checks for `Always`).
 * - a ReplicationController uses the ReplicaSet rule (upstream has no rule for it).
 * - an autoscaling/v1 HPA without the conditions annotation falls back to `status.conditions`.
 */
import type { KubeObject } from "../api/types.js";
import { splitApiVersion } from "../api/kinds.js";

/** Health of one object, Argo CD's `HealthStatusCode`. */
export type HealthStatusCode = "Healthy" | "Progressing" | "Degraded" | "Missing" | "Suspended" | "Unknown";

/** Health of one object with a human message (empty when there is nothing to add). */
export interface HealthStatus {
  readonly status: HealthStatusCode;
  readonly message: string;
  /**
   * The status to use when aggregating, when it differs: a suspended Job counts as Healthy for the
   * whole repository (upstream `AggregateAs`, "Suspended Jobs should not affect Application health").
   */
  readonly aggregateAs?: HealthStatusCode;
}

/**
 * Health codes from best to worst, upstream `healthOrder` (`pkg/health/health.go`): the overall
 * health is the worst object's (`IsWorse`).
 */
export const HEALTH_ORDER: readonly HealthStatusCode[] = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"];

/** True when `next` is worse than `current` in `HEALTH_ORDER` (upstream `IsWorse`). */
export function isWorse(current: HealthStatusCode, next: HealthStatusCode): boolean {
  return HEALTH_ORDER.indexOf(next) > HEALTH_ORDER.indexOf(current);
}

/** The worst health in a list (with `aggregateAs` applied); Healthy for an empty list. */
export function worstHealth(list: readonly HealthStatus[]): HealthStatus {
  let worst: HealthStatus = { status: "Healthy", message: "" };
  for (const h of list) {
    const code = h.aggregateAs ?? h.status;
    if (isWorse(worst.status, code)) worst = { status: code, message: h.message };
  }
  return worst;
}

const health = (status: HealthStatusCode, message = ""): HealthStatus => ({ status, message });

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

function conditions(obj: KubeObject): Condition[] {
  const list = obj.status?.conditions;
  return Array.isArray(list) ? (list as Condition[]) : [];
}

function condition(obj: KubeObject, type: string): Condition | undefined {
  return conditions(obj).find((c) => c?.type === type);
}

function num(value: unknown): number {
  return typeof value === "number" ? value : 0;
}

/** Spec replicas when set (upstream compares only when the pointer is non-nil). */
function specReplicas(obj: KubeObject): number | undefined {
  return typeof obj.spec?.replicas === "number" ? obj.spec.replicas : undefined;
}

/** `health_deployment.go` */
function deploymentHealth(d: KubeObject): HealthStatus {
  if (d.spec?.paused === true) return health("Suspended", "Deployment is paused");
  const status = d.status ?? {};
  if (num(d.metadata?.generation) > num(status.observedGeneration)) {
    return health("Progressing", "Waiting for rollout to finish: observed deployment generation less than desired generation");
  }
  const progressing = condition(d, "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded") return health("Degraded", `Deployment "${d.metadata?.name}" exceeded its progress deadline`);
  const replicas = specReplicas(d);
  const updated = num(status.updatedReplicas);
  if (replicas !== undefined && updated < replicas) {
    return health("Progressing", `Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`);
  }
  if (num(status.replicas) > updated) {
    return health("Progressing", `Waiting for rollout to finish: ${num(status.replicas) - updated} old replicas are pending termination...`);
  }
  if (num(status.availableReplicas) < updated) {
    return health("Progressing", `Waiting for rollout to finish: ${num(status.availableReplicas)} of ${updated} updated replicas are available...`);
  }
  return health("Healthy");
}

/** `health_statefulset.go` */
function statefulSetHealth(s: KubeObject): HealthStatus {
  const status = s.status ?? {};
  const observed = num(status.observedGeneration);
  if (observed === 0 || num(s.metadata?.generation) > observed) return health("Progressing", "Waiting for statefulset spec update to be observed...");
  const replicas = specReplicas(s);
  const ready = num(status.readyReplicas);
  if (replicas !== undefined && ready < replicas) return health("Progressing", `Waiting for ${replicas - ready} pods to be ready...`);
  const strategy = s.spec?.updateStrategy ?? {};
  if (strategy.type === "RollingUpdate" && strategy.rollingUpdate) {
    const partition = strategy.rollingUpdate.partition;
    if (replicas !== undefined && typeof partition === "number" && num(status.updatedReplicas) < replicas - partition) {
      return health("Progressing", `Waiting for partitioned roll out to finish: ${num(status.updatedReplicas)} out of ${replicas - partition} new pods have been updated...`);
    }
    return health("Healthy", `partitioned roll out complete: ${num(status.updatedReplicas)} new pods have been updated...`);
  }
  if (strategy.type === "OnDelete") return health("Healthy", `statefulset has ${ready} ready pods`);
  if (status.updateRevision !== status.currentRevision) {
    return health("Progressing", `waiting for statefulset rolling update to complete ${num(status.updatedReplicas)} pods at revision ${status.updateRevision}...`);
  }
  return health("Healthy", `statefulset rolling update complete ${num(status.currentReplicas)} pods at revision ${status.currentRevision}...`);
}

/** `health_daemonset.go` */
function daemonSetHealth(ds: KubeObject): HealthStatus {
  const status = ds.status ?? {};
  if (num(ds.metadata?.generation) > num(status.observedGeneration)) {
    return health("Progressing", "Waiting for rollout to finish: observed daemon set generation less than desired generation");
  }
  const desired = num(status.desiredNumberScheduled);
  const updated = num(status.updatedNumberScheduled);
  if (ds.spec?.updateStrategy?.type === "OnDelete") return health("Healthy", `daemon set ${updated} out of ${desired} new pods have been updated`);
  if (updated < desired) return health("Progressing", `Waiting for daemon set "${ds.metadata?.name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`);
  const available = num(status.numberAvailable);
  if (available < desired) return health("Progressing", `Waiting for daemon set "${ds.metadata?.name}" rollout to finish: ${available} of ${desired} updated pods are available...`);
  return health("Healthy");
}

/** `health_replicaset.go` (also used for ReplicationControllers). */
function replicaSetHealth(rs: KubeObject): HealthStatus {
  const status = rs.status ?? {};
  if (num(rs.metadata?.generation) > num(status.observedGeneration)) {
    return health("Progressing", "Waiting for rollout to finish: observed replica set generation less than desired generation");
  }
  const failure = condition(rs, "ReplicaFailure");
  if (failure?.status === "True") return health("Degraded", failure.message ?? "");
  const replicas = specReplicas(rs);
  if (replicas !== undefined && num(status.availableReplicas) < replicas) {
    return health("Progressing", `Waiting for rollout to finish: ${num(status.availableReplicas)} out of ${replicas} new replicas are available...`);
  }
  return health("Healthy");
}

interface ContainerStatus {
  name?: string;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; message?: string; exitCode?: number } };
  lastState?: { terminated?: unknown };
}

/** `health_pod.go` */
function podHealth(pod: KubeObject): HealthStatus {
  const status = pod.status ?? {};
  const restartPolicy: string = pod.spec?.restartPolicy ?? "Always";
  const containerStatuses: ContainerStatus[] = Array.isArray(status.containerStatuses) ? status.containerStatuses : [];
  const initStatuses: ContainerStatus[] = Array.isArray(status.initContainerStatuses) ? status.initContainerStatuses : [];
  const message: string = typeof status.message === "string" ? status.message : "";
  // Only for Always: a Never/OnFailure pod is usually a one-off (a hook) that may still recover.
  if (restartPolicy === "Always") {
    const messages: string[] = [];
    for (const cs of containerStatuses) {
      const reason = cs?.state?.waiting?.reason;
      // Err* (ErrImagePull), *Error (CreateContainerConfigError), *BackOff (CrashLoopBackOff, ImagePullBackOff).
      if (reason && (reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff"))) messages.push(cs.state?.waiting?.message ?? reason);
    }
    if (messages.length > 0) return health("Degraded", messages.join(", "));
  }
  switch (status.phase) {
    case "Pending":
      return health("Progressing", message);
    case "Succeeded":
      return health("Healthy", message);
    case "Failed": {
      if (message) return health("Degraded", message);
      for (const cs of [...initStatuses, ...containerStatuses]) {
        const t = cs?.state?.terminated;
        if (!t) continue;
        if (t.message) return health("Degraded", t.message);
        if (t.reason === "OOMKilled") return health("Degraded", t.reason);
        if (typeof t.exitCode === "number" && t.exitCode !== 0) return health("Degraded", `container "${cs.name}" failed with exit code ${t.exitCode}`);
      }
      return health("Degraded", "");
    }
    case "Running": {
      if (restartPolicy !== "Always") return health("Progressing", message);
      if (condition(pod, "Ready")?.status === "True") return health("Healthy", message);
      // Not ready after a container already terminated once: it is failing, not starting.
      if (containerStatuses.some((cs) => cs?.lastState?.terminated)) return health("Degraded", message);
      return health("Progressing", message);
    }
    default:
      return health("Unknown", message);
  }
}

/** `health_service.go` */
function serviceHealth(svc: KubeObject): HealthStatus {
  if (svc.spec?.type === "LoadBalancer") {
    const ingress = svc.status?.loadBalancer?.ingress;
    return Array.isArray(ingress) && ingress.length > 0 ? health("Healthy") : health("Progressing");
  }
  return health("Healthy");
}

/** `health_ingress.go` */
function ingressHealth(ing: KubeObject): HealthStatus {
  const ingress = ing.status?.loadBalancer?.ingress;
  return Array.isArray(ingress) && ingress.length > 0 ? health("Healthy") : health("Progressing");
}

/** `health_pvc.go` (the version read in both repositories: Pending is Progressing). */
function pvcHealth(pvc: KubeObject): HealthStatus {
  switch (pvc.status?.phase) {
    case "Lost":
      return health("Degraded");
    case "Pending":
      return health("Progressing");
    case "Bound":
      return health("Healthy");
    default:
      return health("Unknown");
  }
}

/** `health_job.go` */
function jobHealth(job: KubeObject): HealthStatus {
  let failed = false;
  let complete = false;
  let suspended = false;
  let failMessage = "";
  let message = "";
  for (const c of conditions(job)) {
    if (c.type === "Failed" && c.status !== "False") {
      failed = true;
      complete = true;
      failMessage = c.message ?? "";
    } else if (c.type === "Complete" && c.status !== "False") {
      complete = true;
      message = c.message ?? "";
    } else if (c.type === "Suspended" && c.status === "True") {
      complete = true;
      suspended = true;
      message = c.message ?? "";
    }
  }
  if (!complete) return health("Progressing", message);
  if (failed) return health("Degraded", failMessage);
  if (suspended) return { status: "Suspended", message, aggregateAs: "Healthy" };
  return health("Healthy", message);
}

/** Argo CD's built-in CronJob check (`resource_customizations/batch/CronJob/health.lua`). */
function cronJobHealth(cj: KubeObject): HealthStatus {
  if (cj.spec?.suspend === true) return health("Suspended", "CronJob is Suspended");
  const status = cj.status;
  if (!status) return health("Progressing", "Waiting for CronJob");
  if (status.lastScheduleTime) {
    if (!status.lastSuccessfulTime) return health("Healthy", "The Cronjob never completed successfully. It may not be healthy");
    if (Array.isArray(status.active) && status.active.length > 0) return health("Healthy", "The job is running. Its last execution may not have been successful");
    // RFC 3339 times in UTC compare correctly as text.
    if (String(status.lastSuccessfulTime) < String(status.lastScheduleTime)) return health("Degraded", "CronJob has not completed its last execution successfully");
    return health("Healthy", "CronJob has completed its last execution successfully");
  }
  return health("Healthy", "CronJob has not been scheduled yet");
}

const HPA_DEGRADED: ReadonlyArray<[string, string]> = [
  ["AbleToScale", "FailedGetScale"],
  ["AbleToScale", "FailedUpdateScale"],
  ["ScalingActive", "FailedGetResourceMetric"],
  ["ScalingActive", "InvalidSelector"],
];

/** `health_hpa.go` */
function hpaHealth(hpa: KubeObject): HealthStatus {
  const waiting = health("Progressing", "Waiting to Autoscale");
  let list: Condition[] = conditions(hpa);
  if (hpa.apiVersion === "autoscaling/v1") {
    const annotation = hpa.metadata?.annotations?.["autoscaling.alpha.kubernetes.io/conditions"];
    if (typeof annotation === "string") {
      try {
        const parsed: unknown = JSON.parse(annotation);
        list = Array.isArray(parsed) ? (parsed as Condition[]) : [];
      } catch (err) {
        return health("Unknown", `failed to convert conditions annotation to typed: ${(err as Error).message}`);
      }
    }
  }
  for (const c of list) {
    if (HPA_DEGRADED.some(([type, reason]) => c?.type === type && c?.reason === reason)) return health("Degraded", c.message ?? "");
    if ((c?.type === "AbleToScale" || c?.type === "ScalingLimited") && c?.status === "True") return health("Healthy", c.message ?? "");
  }
  return waiting;
}

type Check = (obj: KubeObject) => HealthStatus;

/** Health checks by `group/kind` (upstream `GetHealthCheckFunc`). */
const CHECKS: ReadonlyMap<string, Check> = new Map<string, Check>([
  ["apps/Deployment", deploymentHealth],
  ["apps/StatefulSet", statefulSetHealth],
  ["apps/ReplicaSet", replicaSetHealth],
  ["apps/DaemonSet", daemonSetHealth],
  ["/ReplicationController", replicaSetHealth],
  ["/Service", serviceHealth],
  ["/PersistentVolumeClaim", pvcHealth],
  ["/Pod", podHealth],
  ["batch/Job", jobHealth],
  ["batch/CronJob", cronJobHealth],
  ["autoscaling/HorizontalPodAutoscaler", hpaHealth],
  ["networking.k8s.io/Ingress", ingressHealth],
  ["extensions/Ingress", ingressHealth],
]);

/**
 * Health of a live object: `Missing` when it does not exist; `Progressing` "Pending deletion"
 * while it is being deleted; the kind's rule; `Healthy` for kinds without a rule (Namespace,
 * ConfigMap, ...): present is all they can be.
 */
export function healthOf(live: KubeObject | undefined | null): HealthStatus {
  if (!live) return health("Missing", "the object does not exist in the cluster");
  if (live.metadata?.deletionTimestamp) return health("Progressing", "Pending deletion");
  const check = CHECKS.get(`${splitApiVersion(live.apiVersion ?? "").group}/${live.kind}`);
  if (!check) return health("Healthy");
  try {
    return check(live);
  } catch (err) {
    return health("Unknown", `health check of ${live.kind} ${live.metadata?.name ?? ""} failed: ${(err as Error).message}`);
  }
}

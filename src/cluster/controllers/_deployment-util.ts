/**
 * The Deployment controller's arithmetic and bookkeeping, as upstream
 * `pkg/controller/deployment/util/deployment_util.go` (revisions, annotations, conditions,
 * fenceposts, proportions, finding the new and old ReplicaSets, completeness and progress) and the
 * ReplicaSet sort orders of `pkg/controller/controller_utils.go`. Pure functions over plain
 * objects: the controller in `deployment.ts` does the I/O.
 */
import { parseTime, rfc3339 } from "../../api/clock.js";
import type { LabelSelector } from "../../api/labels.js";
import type { KubeObject } from "../../api/types.js";
import { canonicalJson } from "./_hash.js";

/** A Deployment object (`apps/v1`). */
export type Deployment = KubeObject;
/** A ReplicaSet object (`apps/v1`). */
export type ReplicaSet = KubeObject;

/** `deployment.kubernetes.io/revision`: the rollout number of a ReplicaSet (and of its Deployment). */
export const REVISION_ANNOTATION = "deployment.kubernetes.io/revision";
/** `deployment.kubernetes.io/revision-history`: earlier revisions of a ReplicaSet that was rolled back to. */
export const REVISION_HISTORY_ANNOTATION = "deployment.kubernetes.io/revision-history";
/** `deployment.kubernetes.io/desired-replicas`: the Deployment's replicas when this ReplicaSet was last scaled. */
export const DESIRED_REPLICAS_ANNOTATION = "deployment.kubernetes.io/desired-replicas";
/** `deployment.kubernetes.io/max-replicas`: replicas + maxSurge when this ReplicaSet was last scaled. */
export const MAX_REPLICAS_ANNOTATION = "deployment.kubernetes.io/max-replicas";
/** `apps.DefaultDeploymentUniqueLabelKey`. */
export const POD_TEMPLATE_HASH_LABEL = "pod-template-hash";
/** Annotation that round-trips the removed `spec.rollbackTo` of extensions/v1beta1. */
export const DEPRECATED_ROLLBACK_TO = "deprecated.deployment.rollback.to";
/** `maxRevHistoryLengthInChars` (sync.go): the revision-history annotation is trimmed to this length. */
export const MAX_REV_HISTORY_LENGTH_IN_CHARS = 2000;
/** `math.MaxInt32`: progressDeadlineSeconds or revisionHistoryLimit set to this means "none". */
export const MAX_INT32 = 2147483647;

/** Condition reasons (deployment_util.go constants). */
export const Reason = {
  ReplicaSetUpdated: "ReplicaSetUpdated",
  FailedRSCreate: "ReplicaSetCreateError",
  NewReplicaSet: "NewReplicaSetCreated",
  FoundNewRS: "FoundNewReplicaSet",
  NewRSAvailable: "NewReplicaSetAvailable",
  TimedOut: "ProgressDeadlineExceeded",
  Paused: "DeploymentPaused",
  Resumed: "DeploymentResumed",
  MinimumReplicasAvailable: "MinimumReplicasAvailable",
  MinimumReplicasUnavailable: "MinimumReplicasUnavailable",
} as const;

/** Annotations never copied from a Deployment to its ReplicaSets (`annotationsToSkip`). */
const ANNOTATIONS_TO_SKIP = new Set([
  "kubectl.kubernetes.io/last-applied-configuration",
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  DEPRECATED_ROLLBACK_TO,
]);

/** A Deployment condition as stored (`apps.DeploymentCondition`), fields in upstream's JSON order. */
export interface DeploymentCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastUpdateTime: string;
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The fields of a Deployment's status this controller computes. */
export interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  conditions?: DeploymentCondition[];
  collisionCount?: number;
}

// ------------------------------------------------------------------------------ small accessors

/** `*spec.replicas` (defaulted to 1 by the API server). */
export function specReplicas(obj: KubeObject | undefined): number {
  const r = obj?.spec?.replicas;
  return typeof r === "number" ? r : 1;
}

function statusNumber(obj: KubeObject | undefined, field: string): number {
  const v = obj?.status?.[field];
  return typeof v === "number" ? v : 0;
}

/** True for `strategy.type: RollingUpdate` (`IsRollingUpdate`). */
export function isRollingUpdate(d: Deployment): boolean {
  return d.spec?.strategy?.type === "RollingUpdate";
}

/** True unless progressDeadlineSeconds is unset or MaxInt32 (`HasProgressDeadline`). */
export function hasProgressDeadline(d: Deployment): boolean {
  const p = d.spec?.progressDeadlineSeconds;
  return typeof p === "number" && p !== MAX_INT32;
}

/** True unless revisionHistoryLimit is unset or MaxInt32 (`HasRevisionHistoryLimit`). */
export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const l = d.spec?.revisionHistoryLimit;
  return typeof l === "number" && l !== MAX_INT32;
}

// ------------------------------------------------------------------------------ intstr and fenceposts

/**
 * `intstr.GetScaledValueFromIntOrPercent`: an integer as is, or a percentage of `total` rounded
 * up (`roundUp`) or down. Throws for a string that is not a percentage.
 */
export function scaledValueFromIntOrPercent(value: number | string | undefined | null, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) throw new Error("nil value for IntOrString");
  if (typeof value === "number") return Math.trunc(value);
  if (!value.endsWith("%")) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage`);
  const digits = value.slice(0, -1);
  if (!/^[+-]?\d+$/.test(digits)) throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(value)}`);
  const pct = Number(digits);
  return roundUp ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
}

/**
 * `ResolveFenceposts`: maxSurge rounds up, maxUnavailable rounds down, and when both come out 0
 * one pod may be unavailable (validation forbids both 0 explicitly; rounding can still get there).
 */
export function resolveFenceposts(maxSurge: number | string | undefined, maxUnavailable: number | string | undefined, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValueFromIntOrPercent(maxSurge ?? 0, desired, true);
  let unavailable = scaledValueFromIntOrPercent(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

/** `MaxUnavailable`: 0 unless RollingUpdate with replicas > 0; never more than replicas. */
export function maxUnavailable(d: Deployment): number {
  const replicas = specReplicas(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  const { unavailable } = resolveFenceposts(ru.maxSurge, ru.maxUnavailable, replicas);
  return Math.min(unavailable, replicas);
}

/** `MaxSurge`: 0 unless RollingUpdate. */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge, ru.maxUnavailable, specReplicas(d)).surge;
}

/** `MinAvailable`: replicas - maxUnavailable for RollingUpdate, else 0. */
export function minAvailable(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  return specReplicas(d) - maxUnavailable(d);
}

// ------------------------------------------------------------------------------ replica counts

/** Sum of `spec.replicas` (`GetReplicaCountForReplicaSets`). */
export function replicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += specReplicas(rs);
  return n;
}

/** Sum of `status.replicas` (`GetActualReplicaCountForReplicaSets`). */
export function actualReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += statusNumber(rs, "replicas");
  return n;
}

/** Sum of `status.readyReplicas` (`GetReadyReplicaCountForReplicaSets`). */
export function readyReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += statusNumber(rs, "readyReplicas");
  return n;
}

/** Sum of `status.availableReplicas` (`GetAvailableReplicaCountForReplicaSets`). */
export function availableReplicaCount(rss: readonly (ReplicaSet | undefined)[]): number {
  let n = 0;
  for (const rs of rss) if (rs) n += statusNumber(rs, "availableReplicas");
  return n;
}

/** ReplicaSets with spec.replicas > 0 (`FilterActiveReplicaSets`). */
export function filterActiveReplicaSets(rss: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => rs !== undefined && specReplicas(rs) > 0);
}

// ------------------------------------------------------------------------------ sort orders

/** `ReplicaSetsByCreationTimestamp`: older first, then by name. */
export function byCreationTimestamp(a: KubeObject, b: KubeObject): number {
  const ta = parseTime(a.metadata.creationTimestamp);
  const tb = parseTime(b.metadata.creationTimestamp);
  if (ta === tb || (Number.isNaN(ta) && Number.isNaN(tb))) return compareNames(a, b);
  if (Number.isNaN(ta)) return -1;
  if (Number.isNaN(tb)) return 1;
  return ta < tb ? -1 : 1;
}

function compareNames(a: KubeObject, b: KubeObject): number {
  const na = a.metadata.name ?? "";
  const nb = b.metadata.name ?? "";
  return na < nb ? -1 : na > nb ? 1 : 0;
}

/** `ReplicaSetsByRevision`: lower revision first; unparsable or equal revisions by creation time. */
export function byRevision(a: ReplicaSet, b: ReplicaSet): number {
  const ra = revisionOf(a);
  const rb = revisionOf(b);
  if (ra === undefined || rb === undefined || ra === rb) return byCreationTimestamp(a, b);
  return ra < rb ? -1 : 1;
}

/** `ReplicaSetsBySizeOlder`: larger first; equal sizes older first. */
export function bySizeOlder(a: ReplicaSet, b: ReplicaSet): number {
  if (specReplicas(a) === specReplicas(b)) return byCreationTimestamp(a, b);
  return specReplicas(a) > specReplicas(b) ? -1 : 1;
}

/** `ReplicaSetsBySizeNewer`: larger first; equal sizes newer first. */
export function bySizeNewer(a: ReplicaSet, b: ReplicaSet): number {
  if (specReplicas(a) === specReplicas(b)) return byCreationTimestamp(b, a);
  return specReplicas(a) > specReplicas(b) ? -1 : 1;
}

// ------------------------------------------------------------------------------ revisions and annotations

/**
 * The revision of an object (`Revision`): 0 without the annotation, undefined when it is not an
 * integer (such ReplicaSets are skipped when computing the next revision).
 */
export function revisionOf(obj: KubeObject): number | undefined {
  const v = obj.metadata.annotations?.[REVISION_ANNOTATION];
  if (v === undefined) return 0;
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  return Number(v);
}

/** The highest revision of the ReplicaSets (`MaxRevision`). */
export function maxRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (v !== undefined && v > max) max = v;
  }
  return max;
}

/** The second highest revision (`LastRevision`): what `kubectl rollout undo` goes back to. */
export function lastRevision(rss: readonly ReplicaSet[]): number {
  let max = 0;
  let second = 0;
  for (const rs of rss) {
    const v = revisionOf(rs);
    if (v === undefined) continue;
    if (v >= max) {
      second = max;
      max = v;
    } else if (v > second) second = v;
  }
  return second;
}

/** `SetReplicasAnnotations`: desired-replicas and max-replicas; true when something changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = (rs.metadata.annotations ??= {});
  let updated = false;
  if (annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    updated = true;
  }
  if (annotations[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    annotations[MAX_REPLICAS_ANNOTATION] = String(max);
    updated = true;
  }
  return updated;
}

/** `ReplicasAnnotationsNeedUpdate`. */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = rs.metadata.annotations;
  if (!annotations) return true;
  return annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || annotations[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/** The desired-replicas annotation as a number, if present and valid (`GetDesiredReplicasAnnotation`). */
export function desiredReplicasAnnotation(rs: ReplicaSet): number | undefined {
  return intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
}

function intAnnotation(rs: ReplicaSet, key: string): number | undefined {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined || !/^[+-]?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n >= -MAX_INT32 - 1 && n <= MAX_INT32 ? n : undefined;
}

/** Copies the Deployment's annotations to the ReplicaSet, except the skipped ones (`copyDeploymentAnnotationsToReplicaSet`). */
function copyDeploymentAnnotationsToReplicaSet(d: Deployment, rs: ReplicaSet): boolean {
  const annotations = (rs.metadata.annotations ??= {});
  let changed = false;
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) {
    if (ANNOTATIONS_TO_SKIP.has(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  return changed;
}

/**
 * `SetNewReplicaSetAnnotations`: copies the Deployment's annotations, raises the revision to
 * `newRevision` (never lowers it), and when an RS that already had a revision is raised (the
 * template came back to it: a rollback), appends its old revision to revision-history, trimmed
 * from the front to `limitChars`. A new RS (`exists` false) also gets the replicas annotations.
 * Returns true when any annotation changed.
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, limitChars = MAX_REV_HISTORY_LENGTH_IN_CHARS): boolean {
  let changed = copyDeploymentAnnotationsToReplicaSet(d, rs);
  const annotations = (rs.metadata.annotations ??= {});
  const hadRevision = Object.hasOwn(annotations, REVISION_ANNOTATION);
  const oldRevision = annotations[REVISION_ANNOTATION] ?? "";
  let oldInt = 0;
  if (oldRevision !== "") {
    if (!/^[+-]?\d+$/.test(oldRevision)) return false;
    oldInt = Number(oldRevision);
  }
  if (!/^[+-]?\d+$/.test(newRevision)) return false;
  const newInt = Number(newRevision);
  if (oldInt < newInt) {
    annotations[REVISION_ANNOTATION] = newRevision;
    changed = true;
  }
  if (hadRevision && oldInt < newInt) {
    const history = annotations[REVISION_HISTORY_ANNOTATION] ?? "";
    const old = history.split(",");
    if (old[0].length === 0) {
      annotations[REVISION_HISTORY_ANNOTATION] = oldRevision;
    } else {
      let total = history.length + oldRevision.length + 1;
      let start = 0;
      while (total > limitChars && start < old.length) {
        total -= old[start].length + 1;
        start++;
      }
      if (total <= limitChars) annotations[REVISION_HISTORY_ANNOTATION] = [...old.slice(start), oldRevision].join(",");
    }
  }
  if (!exists && setReplicasAnnotations(rs, specReplicas(d), specReplicas(d) + maxSurge(d))) changed = true;
  return changed;
}

/**
 * `getRollbackTo`: the revision asked for by the `deprecated.deployment.rollback.to` annotation
 * (what extensions/v1beta1's `spec.rollbackTo` became), 0 meaning the previous one; undefined when
 * absent or not an integer.
 */
export function rollbackTo(d: Deployment): number | undefined {
  const v = d.metadata.annotations?.[DEPRECATED_ROLLBACK_TO];
  if (v === undefined || v === "" || !/^[+-]?\d+$/.test(v)) return undefined;
  return Number(v);
}

/**
 * `SetDeploymentAnnotationsTo`: on a rollback the Deployment takes the annotations of the
 * ReplicaSet it goes back to (e.g. its change-cause), keeping only its own skipped ones
 * (revision, last-applied-configuration, ...).
 */
export function deploymentAnnotationsFrom(d: Deployment, rs: ReplicaSet): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (ANNOTATIONS_TO_SKIP.has(k)) out[k] = v;
  for (const [k, v] of Object.entries(rs.metadata.annotations ?? {})) if (!ANNOTATIONS_TO_SKIP.has(k)) out[k] = v;
  return out;
}

/** `SetFromReplicaSetTemplate`: the ReplicaSet's template without its pod-template-hash label. */
export function templateFromReplicaSet(rs: ReplicaSet): any {
  const template = structuredClone(rs.spec?.template ?? {});
  template.metadata ??= {};
  if (template.metadata.labels) {
    delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  }
  return template;
}

/** `SetDeploymentRevision`: sets the Deployment's revision annotation; true when it changed. */
export function setDeploymentRevision(d: Deployment, revision: string): boolean {
  const annotations = (d.metadata.annotations ??= {});
  if (annotations[REVISION_ANNOTATION] === revision) return false;
  annotations[REVISION_ANNOTATION] = revision;
  return true;
}

// ------------------------------------------------------------------------------ conditions

/** `NewDeploymentCondition`: both times now. */
export function newDeploymentCondition(nowMs: number, type: string, status: DeploymentCondition["status"], reason: string, message: string): DeploymentCondition {
  const t = rfc3339(nowMs);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/** `GetDeploymentCondition`. */
export function getDeploymentCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * `SetDeploymentCondition`: no change when status and reason are the same; lastTransitionTime is
 * kept when only the reason changes; the condition moves to the end of the list.
 */
export function setDeploymentCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getDeploymentCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

/** `RemoveDeploymentCondition`. */
export function removeDeploymentCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
  if (status.conditions.length === 0) delete status.conditions;
}

/** `ReplicaSetToDeploymentCondition`: a ReplicaSet's condition as a Deployment condition. */
export function replicaSetToDeploymentCondition(c: { type: string; status: DeploymentCondition["status"]; lastTransitionTime?: string; reason?: string; message?: string }): DeploymentCondition {
  return {
    type: c.type,
    status: c.status,
    lastUpdateTime: c.lastTransitionTime ?? "",
    lastTransitionTime: c.lastTransitionTime ?? "",
    reason: c.reason ?? "",
    message: c.message ?? "",
  };
}

// ------------------------------------------------------------------------------ new and old ReplicaSets

/**
 * A JSON value with absent, null, empty-object and empty-list fields removed, so that two values
 * compare as `apiequality.Semantic.DeepEqual` sees them ("nil and empty are the same").
 */
function prune(value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((v) => prune(v) ?? null);
  if (typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = prune(v);
      if (p !== undefined) out[k] = p;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

/** Canonical forms of frozen (cache-owned, immutable) templates, computed once per object. */
const templateKeys = new WeakMap<object, string>();

/** The canonical form of a pod template without its pod-template-hash label, as EqualIgnoreHash compares them. */
function templateKey(t: any): string {
  if (t && typeof t === "object" && Object.isFrozen(t)) {
    const cached = templateKeys.get(t);
    if (cached !== undefined) return cached;
  }
  const copy = { ...(t ?? {}), metadata: { ...(t?.metadata ?? {}), labels: { ...(t?.metadata?.labels ?? {}) } } };
  delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  const key = canonicalJson(prune(copy));
  if (t && typeof t === "object" && Object.isFrozen(t)) templateKeys.set(t, key);
  return key;
}

/** `EqualIgnoreHash`: pod templates equal once the pod-template-hash label is removed from both. */
export function equalIgnoreHash(t1: any, t2: any): boolean {
  return templateKey(t1) === templateKey(t2);
}

/**
 * `FindNewReplicaSet`: the oldest ReplicaSet whose template equals the Deployment's (ignoring the
 * hash label). When the template goes back to an earlier one, that earlier ReplicaSet is the new
 * one again: this is how a rollback reuses it.
 */
export function findNewReplicaSet(d: Deployment, rsList: readonly ReplicaSet[]): ReplicaSet | undefined {
  const sorted = [...rsList].sort(byCreationTimestamp);
  return sorted.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** `FindOldReplicaSets`: every ReplicaSet but the new one, and those of them with replicas (`required`). */
export function findOldReplicaSets(d: Deployment, rsList: readonly ReplicaSet[]): { required: ReplicaSet[]; all: ReplicaSet[] } {
  const newRS = findNewReplicaSet(d, rsList);
  const all = rsList.filter((rs) => !newRS || rs.metadata.uid !== newRS.metadata.uid);
  return { required: all.filter((rs) => specReplicas(rs) !== 0), all };
}

/** `CloneSelectorAndAddLabel`: the selector with `key=value` added to matchLabels. */
export function cloneSelectorAndAddLabel(selector: LabelSelector | undefined, key: string, value: string): LabelSelector {
  const out: LabelSelector = { matchLabels: { ...(selector?.matchLabels ?? {}), [key]: value } };
  if (selector?.matchExpressions) out.matchExpressions = selector.matchExpressions.map((e) => ({ ...e, ...(e.values ? { values: [...e.values] } : {}) }));
  return out;
}

// ------------------------------------------------------------------------------ scaling arithmetic

/**
 * `NewRSNewReplicas`: how big the new ReplicaSet may be now. RollingUpdate: up to replicas +
 * maxSurge pods in total (counting every ReplicaSet's spec.replicas), never more than replicas.
 * Recreate: replicas at once (the caller waits for old pods to be gone first).
 */
export function newRSNewReplicas(d: Deployment, allRSs: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  const replicas = specReplicas(d);
  const type = d.spec?.strategy?.type;
  if (type === "RollingUpdate") {
    const surge = scaledValueFromIntOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge, replicas, true);
    const current = replicaCount(allRSs);
    const maxTotal = replicas + surge;
    if (current >= maxTotal) return specReplicas(newRS);
    const scaleUp = Math.min(maxTotal - current, replicas - specReplicas(newRS));
    return specReplicas(newRS) + scaleUp;
  }
  if (type === "Recreate") return replicas;
  throw new Error(`deployment type ${String(type)} isn't supported`);
}

/** `IsSaturated`: the new ReplicaSet has all replicas, annotated for this size, all available. */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  const replicas = specReplicas(d);
  return specReplicas(rs) === replicas && desired === replicas && statusNumber(rs, "availableReplicas") === replicas;
}

/**
 * `FindActiveOrLatest`: the only ReplicaSet with replicas, or the newest one when none has any,
 * or undefined when several have replicas (then scaling is proportional).
 */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreationTimestamp(b, a));
  const active = filterActiveReplicaSets([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** `integer.RoundToInt32`: round half away from zero. */
function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** `getReplicaSetFraction`: this ReplicaSet's share of the size change, from its max-replicas annotation. */
function replicaSetFraction(rs: ReplicaSet, d: Deployment): number {
  const replicas = specReplicas(d);
  if (replicas === 0) return -specReplicas(rs);
  const deploymentMax = replicas + maxSurge(d);
  let before = intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
  // Without the annotation (someone edited the ReplicaSet), fall back to the current size.
  if (before === undefined || before === 0) before = statusNumber(d, "replicas");
  const newSize = (specReplicas(rs) * deploymentMax) / before;
  return roundHalfAway(newSize) - specReplicas(rs);
}

/**
 * `GetProportion`: how many replicas this ReplicaSet gains (or loses) when `toAdd` replicas are
 * spread over the active ReplicaSets and `added` are already handed out.
 */
export function getProportion(rs: ReplicaSet | undefined, d: Deployment, toAdd: number, added: number): number {
  if (!rs || specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, d);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

// ------------------------------------------------------------------------------ rollout state

/** `DeploymentComplete`: every replica updated and available, and the latest generation observed. */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const replicas = specReplicas(d);
  return (s.updatedReplicas ?? 0) === replicas && (s.replicas ?? 0) === replicas && (s.availableReplicas ?? 0) === replicas && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/**
 * `DeploymentProgressing`: compared with the last status, more updated replicas, fewer old
 * replicas, or more ready or available ones.
 */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old: DeploymentStatus = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/**
 * `DeploymentTimedOut`: the Progressing condition was last updated more than
 * progressDeadlineSeconds ago (strictly), or already says ProgressDeadlineExceeded. A finished
 * rollout (NewReplicaSetAvailable) never times out.
 */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getDeploymentCondition(s, "Progressing");
  if (!condition) return false;
  if (condition.reason === Reason.NewRSAvailable) return false;
  if (condition.reason === Reason.TimedOut) return true;
  const from = parseTime(condition.lastUpdateTime);
  return from + d.spec.progressDeadlineSeconds * 1000 < nowMs;
}

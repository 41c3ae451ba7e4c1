/**
 * CrashLoopBackOff and image pull back-off, as the kubelet computes them.
 *
 * The kubelet keeps one `flowcontrol.Backoff` for container restarts and one for image pulls
 * (`pkg/kubelet/kubelet.go`: `flowcontrol.NewBackOff(backOffPeriod, MaxContainerBackOff)` with
 * `backOffPeriod = 10s`, `MaxContainerBackOff = 300s`; no jitter). Each key (a container, or a
 * pod UID + image) has an entry `{backoff, lastUpdate}`. The rules, from
 * `k8s.io/client-go/util/flowcontrol/backoff.go`:
 *
 * - `Next(id, eventTime)`: a missing entry, or one whose `lastUpdate` is more than 2×max
 *   (600 s) before `eventTime`, starts again at the initial 10 s; otherwise the delay doubles,
 *   capped at 300 s. `lastUpdate` becomes *now*.
 * - `IsInBackOffSince(id, eventTime)`: false without an entry or when expired (as above);
 *   otherwise `now - eventTime < backoff`. The kubelet asks it with the `finishedAt` of the
 *   container's latest exit (`kuberuntime_manager.go` `doBackOff`).
 * - `IsInBackOffSinceUpdate(id, eventTime)`: `eventTime - lastUpdate < backoff`; the image
 *   manager asks it with *now* (`images/image_manager.go` `EnsureImageExists`).
 * - `GC()`: drops entries not updated for more than 2×max.
 *
 * That 2×max expiry is the documented "once a container has executed for 10 minutes without
 * any problems, the kubelet resets the restart backoff timer": a container that exits more than
 * 600 s after its last restart decision is restarted at once and its next delay is 10 s again.
 *
 * Everything here is a pure function over a small record, so callers keep the record beside
 * the container and tests can replay exact timelines.
 */

/** Initial and maximum delay of a back-off. */
export interface BackoffPolicy {
  /** First delay (`backOffPeriod`). */
  readonly initialMs: number;
  /** Cap (`MaxContainerBackOff`). */
  readonly maxMs: number;
}

/** Container restart back-off: 10 s doubling to 300 s (`pkg/kubelet/kubelet.go`). */
export const CONTAINER_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

/** Image pull back-off: the same constants (`imageBackOff := flowcontrol.NewBackOff(backOffPeriod, MaxContainerBackOff)`). */
export const IMAGE_PULL_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000 };

/**
 * How long the pod worker waits before syncing a pod again after a sync that returned an error
 * (a container in back-off, a failed pull, a missing ConfigMap): `backOffPeriod`, 10 s
 * (`pkg/kubelet/pod_workers.go` `completeWork`). Upstream adds up to 50 % jitter; the
 * simulation leaves it out unless a random source is given, so timelines are reproducible.
 */
export const POD_WORKER_BACKOFF_MS = 10_000;

/** Jitter factor upstream applies to the pod worker's retry (`workerBackOffPeriodJitterFactor`). */
export const POD_WORKER_JITTER_FACTOR = 0.5;

/** One back-off entry (`flowcontrol.backoffEntry`). */
export interface BackoffRecord {
  /** Current delay. */
  readonly backoffMs: number;
  /** Clock time of the last `Next` call. */
  readonly lastUpdate: number;
}

/** True when the entry is stale: `eventTime - lastUpdate > 2×max` (`hasExpired`). */
export function hasExpired(eventTime: number, lastUpdate: number, policy: BackoffPolicy): boolean {
  return eventTime - lastUpdate > policy.maxMs * 2;
}

/** `Backoff.Next`: the entry after one more failure at `eventTime`, decided at `now`. */
export function nextBackoff(record: BackoffRecord | undefined, eventTime: number, now: number, policy: BackoffPolicy): BackoffRecord {
  if (!record || hasExpired(eventTime, record.lastUpdate, policy)) return { backoffMs: policy.initialMs, lastUpdate: now };
  return { backoffMs: Math.min(record.backoffMs * 2, policy.maxMs), lastUpdate: now };
}

/** `Backoff.IsInBackOffSince`: still waiting, counting from `eventTime` (a container's `finishedAt`). */
export function isInBackOffSince(record: BackoffRecord | undefined, eventTime: number, now: number, policy: BackoffPolicy): boolean {
  if (!record) return false;
  if (hasExpired(eventTime, record.lastUpdate, policy)) return false;
  return now - eventTime < record.backoffMs;
}

/** `Backoff.IsInBackOffSinceUpdate`: still waiting, counting from the entry's last update (image pulls). */
export function isInBackOffSinceUpdate(record: BackoffRecord | undefined, eventTime: number, policy: BackoffPolicy): boolean {
  if (!record) return false;
  if (hasExpired(eventTime, record.lastUpdate, policy)) return false;
  return eventTime - record.lastUpdate < record.backoffMs;
}

/** `Backoff.GC` for one entry: undefined once it has not been updated for more than 2×max. */
export function gcBackoff(record: BackoffRecord | undefined, now: number, policy: BackoffPolicy): BackoffRecord | undefined {
  if (!record) return undefined;
  return now - record.lastUpdate > policy.maxMs * 2 ? undefined : record;
}

/**
 * Milliseconds until a container that exited at `finishedAt` may be restarted (0 when it may be
 * restarted now): what `doBackOff` will answer at each later sync.
 */
export function nextDelay(record: BackoffRecord | undefined, finishedAt: number, now: number, policy: BackoffPolicy = CONTAINER_BACKOFF): number {
  if (!isInBackOffSince(record, finishedAt, now, policy)) return 0;
  return finishedAt + record!.backoffMs - now;
}

/**
 * A duration the way Go's `time.Duration.String()` prints it, for millisecond values:
 * `0s`, `512ms`, `1.5s`, `10s`, `1m20s`, `5m0s`, `1h0m0s`. Kubelet messages print durations
 * this way (`back-off 1m20s restarting failed container=...`, `Successfully pulled image ... in 1.2s`).
 */
export function formatGoDuration(ms: number): string {
  const total = Math.trunc(ms);
  if (total === 0) return "0s";
  const sign = total < 0 ? "-" : "";
  const abs = Math.abs(total);
  if (abs < 1000) return `${sign}${abs}ms`;
  const hours = Math.floor(abs / 3_600_000);
  const minutes = Math.floor((abs % 3_600_000) / 60_000);
  const millis = abs % 60_000;
  const whole = Math.floor(millis / 1000);
  const frac = millis % 1000;
  const seconds = frac === 0 ? `${whole}` : `${whole}.${String(frac).padStart(3, "0").replace(/0+$/, "")}`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

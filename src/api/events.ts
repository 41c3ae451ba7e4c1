/**
 * The event recorder: writes core/v1 Events the way client-go's `tools/record` broadcaster does.
 * - Names are `<involved name>.<hex nanoseconds>` (`makeEvent`).
 * - An identical event (same source, object, type, reason and message) is not written again:
 *   the existing Event's `count` goes up and `lastTimestamp` moves (`EventLogger.eventObserve`).
 * - More than 10 events with the same source, object, type and reason but different messages
 *   within 10 minutes are aggregated into one Event whose message starts with
 *   "(combined from similar events): " (`EventAggregator`, defaultAggregateMaxEvents = 10,
 *   defaultAggregateIntervalInSeconds = 600).
 * - A spam filter allows a burst of 25 events per object and source, refilled one per 5 minutes
 *   (`EventSourceObjectSpamFilter`, defaultSpamBurst = 25, defaultSpamQPS = 1/300).
 * Writes happen in order, in the background; a failed write is reported to `onError` and never
 * thrown at the component that recorded the event.
 */
import type { Client } from "./client.js";
import type { Clock } from "./clock.js";
import { rfc3339 } from "./clock.js";
import { isReason } from "./errors.js";
import type { KubeObject } from "./types.js";

/** Event type. */
export type EventType = "Normal" | "Warning";

/** Who reports the event (`EventSource`). */
export interface EventSourceInfo {
  /** Component, e.g. `deployment-controller`, `kubelet`, `default-scheduler`. */
  readonly component: string;
  /** Node name for node components. */
  readonly host?: string;
}

/** The object an event is about (`ObjectReference`). */
export interface InvolvedObject {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  /** e.g. `spec.containers{web}` for container events. */
  readonly fieldPath?: string;
}

/** Options of the recorder. */
export interface EventRecorderOptions {
  readonly onError?: (err: unknown) => void;
  /** Extra annotations added to every event (e.g. the git commit that caused it). */
  readonly annotations?: () => Record<string, string> | undefined;
}

const AGGREGATE_MAX_EVENTS = 10;
const AGGREGATE_INTERVAL_MS = 600_000;
const SPAM_BURST = 25;
const SPAM_REFILL_MS = 300_000;

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

interface Aggregate {
  messages: Set<string>;
  lastMs: number;
}

interface Bucket {
  tokens: number;
  lastMs: number;
}

/** Builds the reference for an object. */
export function referenceOf(obj: Pick<KubeObject, "apiVersion" | "kind" | "metadata">, fieldPath?: string): InvolvedObject {
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    namespace: obj.metadata.namespace,
    name: obj.metadata.name ?? "",
    uid: obj.metadata.uid,
    resourceVersion: obj.metadata.resourceVersion,
    ...(fieldPath ? { fieldPath } : {}),
  };
}

/** Records Events for one component. */
export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private readonly aggregates = new Map<string, Aggregate>();
  private readonly buckets = new Map<string, Bucket>();
  private queue: Promise<void> = Promise.resolve();
  private lastNanos = 0n;

  constructor(
    private readonly client: Client,
    private readonly clock: Clock,
    readonly source: EventSourceInfo,
    private readonly options: EventRecorderOptions = {},
  ) {}

  /**
   * Records an event about `involved` (an object or a reference). Returns a promise that settles
   * when the event is written (callers normally ignore it).
   */
  event(involved: Pick<KubeObject, "apiVersion" | "kind" | "metadata"> | InvolvedObject, type: EventType, reason: string, message: string): Promise<void> {
    const ref: InvolvedObject = "metadata" in involved ? referenceOf(involved) : involved;
    const now = this.clock.now();
    if (!this.allow(ref, now)) return Promise.resolve();
    const aggregated = this.aggregate(ref, type, reason, message, now);
    const write = () => this.write(ref, type, reason, aggregated, now);
    this.queue = this.queue.then(write, write);
    return this.queue;
  }

  /** Resolves when every recorded event so far is written. */
  flush(): Promise<void> {
    return this.queue;
  }

  private allow(ref: InvolvedObject, now: number): boolean {
    const key = `${this.source.component}/${this.source.host ?? ""}/${ref.kind}/${ref.namespace ?? ""}/${ref.name}/${ref.uid ?? ""}`;
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: SPAM_BURST, lastMs: now }));
    const refill = Math.floor((now - bucket.lastMs) / SPAM_REFILL_MS);
    if (refill > 0) {
      bucket.tokens = Math.min(SPAM_BURST, bucket.tokens + refill);
      bucket.lastMs += refill * SPAM_REFILL_MS;
    }
    if (bucket.tokens <= 0) return false;
    bucket.tokens--;
    return true;
  }

  private aggregate(ref: InvolvedObject, type: EventType, reason: string, message: string, now: number): string {
    const key = [this.source.component, this.source.host ?? "", ref.kind, ref.namespace ?? "", ref.name, ref.uid ?? "", type, reason].join("\u0000");
    let record = this.aggregates.get(key);
    if (!record || now - record.lastMs > AGGREGATE_INTERVAL_MS) this.aggregates.set(key, (record = { messages: new Set(), lastMs: now }));
    record.messages.add(message);
    record.lastMs = now;
    if (record.messages.size >= AGGREGATE_MAX_EVENTS) return `(combined from similar events): ${message}`;
    return message;
  }

  private async write(ref: InvolvedObject, type: EventType, reason: string, message: string, now: number): Promise<void> {
    const namespace = ref.namespace || "default";
    const dedupKey = [this.source.component, this.source.host ?? "", ref.kind, namespace, ref.name, ref.uid ?? "", ref.fieldPath ?? "", type, reason, message.startsWith("(combined") ? "(combined)" : message].join("\u0000");
    const timestamp = rfc3339(now);
    const previous = this.seen.get(dedupKey);
    try {
      if (previous) {
        previous.count++;
        try {
          await this.client.patch(
            { apiVersion: "v1", kind: "Event", namespace: previous.namespace, name: previous.name },
            "application/merge-patch+json",
            { count: previous.count, lastTimestamp: timestamp, message },
          );
          return;
        } catch (err) {
          // The Event was deleted (or expired): write it anew, as client-go does on a failed patch.
          if (!isReason(err, "NotFound")) throw err;
          this.seen.delete(dedupKey);
        }
      }
      const name = `${ref.name}.${this.nanosHex(now)}`;
      const annotations = this.options.annotations?.();
      await this.client.create({
        apiVersion: "v1",
        kind: "Event",
        metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
        involvedObject: { ...ref, namespace: ref.namespace },
        reason,
        message,
        source: { component: this.source.component, ...(this.source.host ? { host: this.source.host } : {}) },
        firstTimestamp: timestamp,
        lastTimestamp: timestamp,
        count: 1,
        type,
        eventTime: null,
        reportingComponent: this.source.component,
        reportingInstance: this.source.host ?? "",
      });
      this.seen.set(dedupKey, { name, namespace, count: 1, firstTimestamp: timestamp });
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  /** Unique, increasing nanosecond stamp for names (two events in one millisecond must not collide). */
  private nanosHex(nowMs: number): string {
    let nanos = BigInt(Math.floor(nowMs)) * 1_000_000n;
    if (nanos <= this.lastNanos) nanos = this.lastNanos + 1n;
    this.lastNanos = nanos;
    return nanos.toString(16);
  }
}

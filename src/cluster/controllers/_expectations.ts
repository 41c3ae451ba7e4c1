/**
 * Controller expectations, as upstream `pkg/controller/controller_utils.go`
 * (`ControllerExpectations` and `UIDTrackingControllerExpectations`): before creating or deleting
 * pods a controller records how many it expects to see, and it does not manage replicas again
 * until its informer has observed them all (or the expectations are older than
 * `ExpectationsTimeout`, 5 minutes). Without this, a sync that runs before the cache shows its
 * own new pods would create them a second time.
 *
 * Deletions are tracked by pod key, so a pod is counted once whether the controller sees it get a
 * deletionTimestamp or disappear.
 */
import type { Clock } from "../../api/clock.js";

/** `ExpectationsTimeout`: expectations older than this no longer block a sync. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

interface Record {
  add: number;
  del: number;
  timestamp: number;
  deleteKeys: Set<string>;
}

/** Per-controller-key expectations of pod creations and deletions. */
export class ControllerExpectations {
  private readonly records = new Map<string, Record>();

  constructor(private readonly clock: Clock) {}

  /**
   * True when the controller may manage replicas (`SatisfiedExpectations`): no expectations, all
   * observed, or expired.
   */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.add <= 0 && r.del <= 0) return true;
    return this.clock.now() - r.timestamp > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Expects `count` creations (`ExpectCreations`), replacing earlier expectations. */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, del: 0, timestamp: this.clock.now(), deleteKeys: new Set() });
  }

  /** Expects the deletion of these pods (`UIDTrackingControllerExpectations.ExpectDeletions`). */
  expectDeletions(key: string, podKeys: readonly string[]): void {
    const keys = new Set(podKeys);
    this.records.set(key, { add: 0, del: keys.size, timestamp: this.clock.now(), deleteKeys: keys });
  }

  /** One expected creation was observed, or will never happen (`CreationObserved`). */
  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.add--;
  }

  /** The deletion of this pod was observed; counted only once and only if expected (`DeletionObserved`). */
  deletionObserved(key: string, podKey: string): void {
    const r = this.records.get(key);
    if (r && r.deleteKeys.delete(podKey)) r.del--;
  }

  /** Forgets a controller (`DeleteExpectations`): it was deleted. */
  delete(key: string): void {
    this.records.delete(key);
  }

  /** Pending creations and deletions (for logs and tests). */
  pending(key: string): { add: number; del: number } | undefined {
    const r = this.records.get(key);
    return r ? { add: r.add, del: r.del } : undefined;
  }
}

/**
 * PrioritySort queue-sort plugin (`plugins/queuesort/priority_sort.go`): the scheduling queue pops
 * the pod with the highest `spec.priority` first, and among equal priorities the one queued
 * earliest.
 */

/** What the queue order looks at. */
export interface QueueSortItem {
  /** `spec.priority` of the pod (0 when unset). */
  readonly priority: number;
  /** When the pod was (re)queued, epoch ms. */
  readonly timestamp: number;
}

/** PrioritySort plugin. */
export class PrioritySort {
  readonly name = "PrioritySort" as const;

  /** `Less`: true when `a` must be scheduled before `b`. */
  less(a: QueueSortItem, b: QueueSortItem): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.timestamp < b.timestamp);
  }
}

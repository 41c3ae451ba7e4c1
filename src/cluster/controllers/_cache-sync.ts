/**
 * `cache.WaitForCacheSync` for the simulated controllers: a controller must not act on a partial
 * cache (a ReplicaSet that sees no pods because the pod informer has not listed yet would create
 * them all again). Components are started before the informers, so the first syncs wait here.
 *
 * Checked at once, then on the next turns of the event loop (an in-process API server lists in a
 * few microtasks), then every 100 ms of clock time, as upstream polls (`syncedPollPeriod`).
 */
import type { Clock } from "../../api/clock.js";
import type { Informer } from "../../api/informer.js";

/** Poll period of upstream's WaitForCacheSync. */
const SYNCED_POLL_PERIOD_MS = 100;
/** Event-loop turns tried before falling back to clock time. */
const QUICK_POLLS = 20;

/** Resolves when every informer holds its initial list (or `stopped()` turns true). */
export async function waitForCacheSync(informers: readonly Informer<any>[], clock: Clock, stopped: () => boolean): Promise<void> {
  for (let i = 0; !informers.every((inf) => inf.hasSynced); i++) {
    if (stopped()) return;
    if (i < QUICK_POLLS) await new Promise<void>((resolve) => setImmediate(resolve));
    else await clock.sleep(SYNCED_POLL_PERIOD_MS);
  }
}

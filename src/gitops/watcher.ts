/**
 * What makes the reconciler run: a file watcher on the repository's refs, a periodic resync,
 * and watches on the managed objects for drift (issue 4, points 2 and 9).
 *
 * - Commits: chokidar watches `.git/HEAD`, `.git/packed-refs` and `.git/refs/` (which holds
 *   the branch HEAD points at). git updates a ref by renaming a lock file over it, so the event
 *   arrives as soon as the commit exists; a cheap read of the head id then decides whether a
 *   sync is needed (`git gc` moving refs into packed-refs changes no commit). Argo CD polls
 *   every 3 minutes by default and Flux every interval; here a commit starts a sync at once.
 * - Coalescing: never two syncs at once. Commits that arrive during a sync make exactly one
 *   more sync, which reads the newest head then.
 * - Periodic resync (default 60 s on the clock): catches what events missed. With self-heal on
 *   it is a full sync (drift reverted); with self-heal off it only syncs a new head and reports
 *   drift, as Argo CD only syncs automatically on a new commit unless selfHeal is set.
 * - Drift: an informer per managed kind (the kinds the repository holds). When a managed object
 *   changes or is deleted behind git's back, the drift is reported at once with the JSON Patch
 *   that would undo it, and with self-heal on the object is put back. Fields another controller
 *   owns (replicas under an HPA) are not drift. An object that keeps drifting right after each
 *   heal (another writer fighting git) is healed with a growing delay, 1 s doubling to 60 s,
 *   instead of in a tight loop (Argo CD retries self-heal with a back-off too).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { watch as chokidarWatch, type FSWatcher } from "chokidar";
import type { Client } from "../api/client.js";
import type { Clock, Timer } from "../api/clock.js";
import { Informer } from "../api/informer.js";
import type { KubeObject } from "../api/types.js";
import { keyOf } from "./_live.js";
import type { SyncTrigger } from "./history.js";
import { RECONCILER_COMPONENT, type DriftReport, type Reconciler, type ReconcilerLog, type SyncResult } from "./reconciler.js";
import { headOid } from "./source.js";

/** Options of a `Watcher`. */
export interface WatcherOptions {
  readonly reconciler: Reconciler;
  /** Clock of the timers (default: the reconciler's). */
  readonly clock?: Clock;
  /** Client to watch managed objects with (default: the reconciler's). */
  readonly client?: Client;
  /** Milliseconds between periodic resyncs (default 60,000; 0 turns it off). */
  readonly resyncIntervalMs?: number;
  /** Watch the repository's refs with chokidar (default true; off for virtual-clock runs driven by `trigger`). */
  readonly watchFiles?: boolean;
  /** Watch managed objects for drift (default true). */
  readonly watchDrift?: boolean;
  /** Changes to managed objects within this many milliseconds are checked together (default 50). */
  readonly driftDebounceMs?: number;
  /** Longest self-heal back-off for an object that keeps drifting (default 60,000 ms). */
  readonly maxHealBackoffMs?: number;
  readonly log?: ReconcilerLog;
  /** Called after every sync and self-heal. */
  readonly onSync?: (result: SyncResult) => void;
  /** Called with every drift found (before it is healed). */
  readonly onDrift?: (reports: DriftReport[]) => void;
}

/** Triggers ordered by importance, for coalescing: a pending commit sync wins over a resync. */
const TRIGGER_WEIGHT: Record<SyncTrigger, number> = { resync: 0, "self-heal": 0, manual: 1, start: 2, commit: 3 };

/** Self-heal back-off starts at this delay and doubles (see the module comment). */
const FIRST_HEAL_BACKOFF_MS = 1000;
/** An object healed again within this window after its last heal is "fighting": it backs off. */
const HEAL_FIGHT_WINDOW_MS = 30_000;

/** The git directory of a working tree: `.git`, or where a `.git` file (worktree, submodule) points. */
function gitDirOf(repoDir: string): string {
  const dotGit = path.join(repoDir, ".git");
  try {
    if (fs.statSync(dotGit).isFile()) {
      const m = /^gitdir:\s*(.+)\s*$/m.exec(fs.readFileSync(dotGit, "utf8"));
      if (m) return path.resolve(repoDir, m[1].trim());
    }
  } catch {
    // No .git yet: watch where it will be; the sync reports the missing repository.
  }
  return dotGit;
}

/** Runs the reconciler on commits, on a timer and on drift. */
export class Watcher {
  private readonly reconciler: Reconciler;
  private readonly clock: Clock;
  private readonly client: Client;
  private readonly resyncIntervalMs: number;
  private readonly watchFiles: boolean;
  private readonly watchDrift: boolean;
  private readonly driftDebounceMs: number;
  private readonly maxHealBackoffMs: number;
  private readonly log: ReconcilerLog;
  private readonly onSync: (result: SyncResult) => void;
  private readonly onDrift: (reports: DriftReport[]) => void;

  private stopped = true;
  private fsWatcher: FSWatcher | undefined;
  private resyncTimer: Timer | undefined;
  private inFlight: Promise<void> | undefined;
  private pending: SyncTrigger | undefined;
  private lastSeenHead: string | undefined;
  private checkingHead = false;
  private recheckHead = false;
  private readonly informers = new Map<string, Informer>();
  private readonly driftKeys = new Set<string>();
  private driftTimer: Timer | undefined;
  private driftRun: Promise<void> = Promise.resolve();
  private readonly heals = new Map<string, { count: number; last: number }>();
  private readonly healTimers = new Map<string, Timer>();
  private syncs = 0;

  constructor(options: WatcherOptions) {
    this.reconciler = options.reconciler;
    this.clock = options.clock ?? options.reconciler.clock;
    this.client = options.client ?? options.reconciler.client;
    this.resyncIntervalMs = options.resyncIntervalMs ?? 60_000;
    if (!(this.resyncIntervalMs >= 0)) throw new RangeError(`resyncIntervalMs must be 0 (off) or a positive number of milliseconds, got ${options.resyncIntervalMs}`);
    this.watchFiles = options.watchFiles ?? true;
    this.watchDrift = options.watchDrift ?? true;
    this.driftDebounceMs = options.driftDebounceMs ?? 50;
    this.maxHealBackoffMs = options.maxHealBackoffMs ?? 60_000;
    this.log = options.log ?? (() => undefined);
    this.onSync = options.onSync ?? (() => undefined);
    this.onDrift = options.onDrift ?? (() => undefined);
  }

  /** Number of syncs run so far (self-heals not counted). */
  get syncCount(): number {
    return this.syncs;
  }

  /** True while a sync runs or waits to run. */
  get syncing(): boolean {
    return this.inFlight !== undefined;
  }

  /**
   * Starts watching the refs, runs the first sync (resolves once it is done), then starts the
   * periodic resync and the drift watches.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.watchFiles) await this.startFileWatch();
    this.requestSync("start");
    await this.inFlight;
    if (this.resyncIntervalMs > 0) this.resyncTimer = this.clock.setInterval(() => this.requestSync("resync"), this.resyncIntervalMs);
  }

  /** Stops every watch and timer, then waits for a sync or self-heal in flight to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.resyncTimer?.cancel();
    this.resyncTimer = undefined;
    this.driftTimer?.cancel();
    this.driftTimer = undefined;
    for (const t of this.healTimers.values()) t.cancel();
    this.healTimers.clear();
    for (const inf of this.informers.values()) inf.stop();
    this.informers.clear();
    const closing = this.fsWatcher?.close();
    this.fsWatcher = undefined;
    await closing;
    await this.inFlight;
    await this.driftRun;
    await this.reconciler.idle();
  }

  /**
   * Asks for a sync (`commit` when something outside saw a new commit, `resync` for a periodic
   * one). Coalesces with a sync in flight; resolves when the syncs it caused are done.
   */
  async trigger(trigger: SyncTrigger = "commit"): Promise<void> {
    this.requestSync(trigger);
    await this.inFlight;
  }

  /** Resolves when no sync, drift check or self-heal is running or waiting. */
  async idle(): Promise<void> {
    for (;;) {
      const inFlight = this.inFlight;
      const drift = this.driftRun;
      await inFlight;
      await drift;
      await this.reconciler.idle();
      if (this.inFlight === inFlight && this.driftRun === drift && this.inFlight === undefined) return;
    }
  }

  // ------------------------------------------------------------------------------------------
  // Commits

  private async startFileWatch(): Promise<void> {
    const gitdir = gitDirOf(this.reconciler.repoDir);
    // refs/ holds every branch, including the one HEAD points at; lock files are git's
    // half-written refs, renamed over the real ones when complete.
    const watcher = chokidarWatch([path.join(gitdir, "HEAD"), path.join(gitdir, "packed-refs"), path.join(gitdir, "refs")], {
      ignoreInitial: true,
      // atomic would hold an unlink back 100 ms to merge it with a re-add: every event is wanted at once here.
      atomic: false,
      ignored: (p: string) => p.endsWith(".lock"),
    });
    watcher.on("all", () => void this.onRefEvent());
    // chokidar drops a second "change" of one path within 50 ms (its change throttle), and two
    // quick commits are exactly that; its "raw" events are every fs.watch event, unthrottled.
    watcher.on("raw", () => void this.onRefEvent());
    watcher.on("error", (err) => this.log(RECONCILER_COMPONENT, `watching ${gitdir} failed: ${err instanceof Error ? err.message : String(err)}; the periodic resync still catches new commits`));
    this.fsWatcher = watcher;
    await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  }

  /** A ref changed: sync if the tracked branch's head is a new commit. */
  private async onRefEvent(): Promise<void> {
    if (this.stopped) return;
    // One head read at a time; events during it (git writes several files per commit) re-check once.
    if (this.checkingHead) {
      this.recheckHead = true;
      return;
    }
    this.checkingHead = true;
    try {
      do {
        this.recheckHead = false;
        let oid: string | undefined;
        try {
          oid = await headOid(this.reconciler.repoDir, this.reconciler.branch);
        } catch {
          // Mid-update (or broken): the sync that follows, or the next resync, reports it.
          oid = undefined;
        }
        if (oid !== undefined && oid !== this.lastSeenHead) {
          this.lastSeenHead = oid;
          this.requestSync("commit");
        }
      } while (this.recheckHead && !this.stopped);
    } finally {
      this.checkingHead = false;
    }
  }

  private requestSync(trigger: SyncTrigger): void {
    if (this.stopped) return;
    if (this.inFlight) {
      if (this.pending === undefined || TRIGGER_WEIGHT[trigger] > TRIGGER_WEIGHT[this.pending]) this.pending = trigger;
      return;
    }
    this.inFlight = this.syncLoop(trigger);
  }

  private async syncLoop(first: SyncTrigger): Promise<void> {
    let next: SyncTrigger | undefined = first;
    try {
      while (next !== undefined && !this.stopped) {
        this.pending = undefined;
        await this.syncOnce(next);
        next = this.pending;
      }
    } finally {
      this.pending = undefined;
      this.inFlight = undefined;
    }
  }

  private async syncOnce(trigger: SyncTrigger): Promise<void> {
    try {
      let head: string | undefined;
      try {
        head = await headOid(this.reconciler.repoDir, this.reconciler.branch);
      } catch {
        head = undefined;
      }
      // A commit event for a head the last sync already read (it saw the commit before the event did).
      if (trigger === "commit" && head !== undefined && head === this.reconciler.lastAttemptedCommit) return;
      if (trigger === "resync" && !this.reconciler.selfHeal && head !== undefined && head === this.reconciler.lastAttemptedCommit) {
        // Self-heal off: the resync only reports drift.
        const reports = await this.reconciler.checkDrift();
        if (reports.length > 0) this.reportDrift(reports, false);
        return;
      }
      const result = await this.reconciler.sync({ trigger: trigger === "resync" && head !== this.reconciler.lastAttemptedCommit ? "commit" : trigger });
      this.syncs++;
      if (result.commit) this.lastSeenHead = result.commit.oid;
      this.onSync(result);
      if (this.watchDrift && !this.stopped) await this.updateInformers();
    } catch (err) {
      this.log(RECONCILER_COMPONENT, `sync failed unexpectedly: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Drift

  /** Watches exactly the kinds (at git's versions) of the managed objects. */
  private async updateInformers(): Promise<void> {
    const wanted = new Map<string, { apiVersion: string; kind: string }>();
    for (const d of this.reconciler.managedObjects.values()) wanted.set(`${d.ref.apiVersion}|${d.ref.kind}`, { apiVersion: d.ref.apiVersion, kind: d.ref.kind });
    for (const [id, inf] of this.informers) {
      if (!wanted.has(id)) {
        inf.stop();
        this.informers.delete(id);
      }
    }
    const starting: Promise<void>[] = [];
    for (const [id, ref] of wanted) {
      if (this.informers.has(id)) continue;
      const inf = new Informer<KubeObject>(this.client, ref, {
        clock: this.clock,
        onError: (err) => this.log(RECONCILER_COMPONENT, `watching ${ref.kind} for drift failed: ${err instanceof Error ? err.message : String(err)}; retrying`),
      });
      inf.addHandlers({
        // The initial list is the state just synced, not a change.
        add: (o) => {
          if (inf.hasSynced) this.onObjectChange(o);
        },
        update: (_old, o) => this.onObjectChange(o),
        delete: (o) => this.onObjectChange(o),
      });
      this.informers.set(id, inf);
      starting.push(inf.start());
    }
    await Promise.all(starting);
  }

  private onObjectChange(obj: KubeObject): void {
    if (this.stopped) return;
    const key = keyOf(obj);
    if (!this.reconciler.managedObjects.has(key)) return;
    this.driftKeys.add(key);
    if (this.driftTimer) return;
    this.driftTimer = this.clock.setTimeout(() => {
      this.driftTimer = undefined;
      const keys = [...this.driftKeys];
      this.driftKeys.clear();
      this.driftRun = this.driftRun.then(() => this.processDrift(keys));
    }, this.driftDebounceMs);
  }

  /** Checks the keys for drift, reports it (unless this is the delayed heal of a drift already reported) and heals it. */
  private async processDrift(keys: string[], report = true): Promise<void> {
    if (this.stopped || keys.length === 0) return;
    try {
      const reports = await this.reconciler.checkDrift(keys);
      if (reports.length === 0) return;
      if (report) this.reportDrift(reports, this.reconciler.selfHeal);
      if (!this.reconciler.selfHeal || this.stopped) return;
      const now = this.clock.now();
      const due: string[] = [];
      for (const r of reports) {
        const past = this.heals.get(r.key);
        const fighting = past !== undefined && now - past.last < HEAL_FIGHT_WINDOW_MS;
        const delay = fighting ? Math.min(this.maxHealBackoffMs, FIRST_HEAL_BACKOFF_MS * 2 ** (past.count - 1)) : 0;
        if (delay > 0 && now < past!.last + delay) {
          this.healLater(r.key, past!.last + delay - now);
          continue;
        }
        this.heals.set(r.key, { count: fighting ? past!.count + 1 : 1, last: now });
        due.push(r.key);
      }
      if (due.length === 0) return;
      const result = await this.reconciler.heal(due);
      this.onSync(result);
    } catch (err) {
      this.log(RECONCILER_COMPONENT, `drift check failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private healLater(key: string, delayMs: number): void {
    if (this.healTimers.has(key)) return;
    this.log(RECONCILER_COMPONENT, `${key} keeps changing behind git's back: next self-heal in ${Math.ceil(delayMs / 1000)} s`);
    this.healTimers.set(
      key,
      this.clock.setTimeout(() => {
        this.healTimers.delete(key);
        this.driftRun = this.driftRun.then(() => this.processDrift([key], false));
      }, delayMs),
    );
  }

  private reportDrift(reports: DriftReport[], healing: boolean): void {
    for (const r of reports) {
      const what = `${r.kind} ${r.namespace ? `${r.namespace}/` : ""}${r.name}`;
      const undo = r.deleted ? "create it again" : `undo with ${JSON.stringify(r.ops.filter((o) => o.op !== "test"))}`;
      this.log(RECONCILER_COMPONENT, `drift: ${what}: ${r.sentences.join("; ")}; ${healing ? "self-heal puts it back" : `self-heal is off (${undo})`}`);
    }
    this.onDrift(reports);
  }
}

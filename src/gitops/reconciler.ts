/**
 * The reconciler engine: makes the cluster match the head commit of the learner's repository.
 *
 * One sync, in order (issue 4, points 4-7 and 10):
 * 1. read the head commit (`source.ts`) and load its manifests (`load.ts`); a file that does not
 *    load refuses the whole commit;
 * 2. give every object the tracking annotation and its last-applied record;
 * 3. validate EVERY object through the API server's dry-run (a dry-run create for an object the
 *    cluster lacks, the JSON Patch with dryRun for one it has) and collect every error as
 *    `file:line:col field: message`; changes to immutable fields are reported with the way out.
 *    Any error refuses the commit: nothing is applied and the cluster stays on the last good
 *    commit ("applied whole or not at all", as Argo CD runs every task with dryRun first);
 * 4. apply in dependency order (`order.ts`): create what is missing, patch what differs with a
 *    three-way diff (`diff.ts`) whose first operation tests the resourceVersion; a 409 Conflict,
 *    or a 422 from that failed test, re-reads the object and retries it (bounded);
 * 5. prune: objects carrying this repository's tracking annotation that git no longer has are
 *    deleted, in reverse order; a commit without manifests that would delete everything needs
 *    `allowEmpty` (Argo CD's allowEmpty guard);
 * 6. record the attempt in the history (`history.ts`).
 *
 * Between syncs, `checkDrift` compares managed objects with the last applied commit and `heal`
 * puts back what was changed behind git's back; `watcher.ts` calls both from watch events.
 * Every public operation runs alone (one at a time, in call order), so a drift check never sees
 * a sync half-applied and two syncs never interleave.
 */
import type { Operation } from "fast-json-patch";
import type { Client } from "../api/client.js";
import type { Clock } from "../api/clock.js";
import { ApiError } from "../api/errors.js";
import { JSON_PATCH } from "../api/patch/index.js";
import type { KubeObject } from "../api/types.js";
import {
  apiErrors,
  describeObject,
  desiredFromRecord,
  fromLoadError,
  getLive,
  hintFor,
  keyOf,
  liveFor,
  objectError,
  prepareDesired,
  refOf,
  syncError,
  takeInventory,
  trackedObjects,
  visibleOps,
  isSecret,
  printable,
  type DesiredObject,
  type Inventory,
} from "./_live.js";
import { computeDiff, describeDrift, findImmutableChanges, formatOps, ownedByOthers, type DiffResult } from "./diff.js";
import type { HistoryAuthor, HistoryEntry, ObjectOperations, SyncError, SyncHistory, SyncResultCode, SyncTrigger } from "./history.js";
import { formatLoadError, loadManifests } from "./load.js";
import { readLastApplied } from "./normalize.js";
import { compareForApply, deletionOrder } from "./order.js";
import { SourceCache, SourceError, readHead, uncommittedChanges, type HeadCommit } from "./source.js";
import { computeStatus, type RepoStatus } from "./status.js";
import { isTrackedBy, parseTracking, repoId as makeRepoId } from "./tracking.js";

export type { DesiredObject } from "./_live.js";
export { visibleOps } from "./_live.js";

/** A log line: component and message, like the cluster's logger (never secrets). */
export type ReconcilerLog = (component: string, message: string) => void;

/** Component name in log lines. */
export const RECONCILER_COMPONENT = "gitops";

/** Options of a `Reconciler`. */
export interface ReconcilerOptions {
  /** The cluster: the in-process API server, or any client of the Kubernetes API. */
  readonly client: Client;
  readonly clock: Clock;
  /** The learner's repository (its working tree folder). */
  readonly repoDir: string;
  /** Branch to track; default the branch HEAD points at. */
  readonly branch?: string;
  /** Name in the tracking annotations; default the folder's name and a hash of its path (`tracking.ts` repoId). */
  readonly repoName?: string;
  /** Delete objects removed from git (default true; `--no-prune`). */
  readonly prune?: boolean;
  /** Revert changes made behind git's back (default true; `--no-self-heal`). Used by the watcher. */
  readonly selfHeal?: boolean;
  /** Allow a commit without manifests to delete every object (default false; `--allow-empty`). */
  readonly allowEmpty?: boolean;
  /** Where attempts are recorded. */
  readonly history: SyncHistory;
  readonly log?: ReconcilerLog;
  /** Git object cache (default: a cache of this reconciler's own). */
  readonly cache?: SourceCache;
  /** Report uncommitted changes of the working tree as hints (default true). */
  readonly hints?: boolean;
  /** Re-reads of one object after a conflict before the sync fails (default 5). */
  readonly maxConflictRetries?: number;
  /** API requests in flight at once for objects of one kind (default 32). */
  readonly concurrency?: number;
}

/** Options of one sync. */
export interface SyncOptions {
  /** Validate and compute the operations, apply nothing, record nothing. */
  readonly dryRun?: boolean;
  /** What started it (recorded in the history; default `manual`). */
  readonly trigger?: SyncTrigger;
  /** Override the reconciler's prune setting for this sync. */
  readonly prune?: boolean;
  /** Override the reconciler's allowEmpty setting for this sync. */
  readonly allowEmpty?: boolean;
  /** Sync this commit (a full id) instead of the branch head (`kubelings sim --replay`). */
  readonly commit?: string;
}

/** The commit a sync used. */
export interface CommitInfo {
  readonly oid: string;
  readonly subject: string;
  readonly message: string;
  readonly author: HistoryAuthor;
  /** The commit it reverts, for a `git revert` commit. */
  readonly reverts?: string;
  /** Branch it was read from (null for a detached HEAD). */
  readonly branch: string | null;
}

/** What one sync did (or, with `dryRun`, would do). */
export interface SyncResult {
  readonly result: SyncResultCode;
  readonly dryRun: boolean;
  readonly trigger: SyncTrigger;
  /** Absent when the repository could not be read. */
  readonly commit?: CommitInfo;
  /** Operations applied (planned, with `dryRun`), per object, in order: creates and patches, then deletions. */
  readonly operations: ObjectOperations[];
  readonly errors: SyncError[];
  /** Notes that did not stop the sync. */
  readonly warnings: string[];
  /** Uncommitted changes in the working tree (never applied). */
  readonly hints: string[];
  /** The history entry, when one was recorded. */
  readonly entry?: HistoryEntry;
}

/** A managed object changed behind git's back. */
export interface DriftReport {
  readonly key: string;
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** True when the object was deleted (`kubectl delete`): undoing it means creating it again. */
  readonly deleted: boolean;
  /** The JSON Patch that undoes the change (empty when deleted). */
  readonly ops: Operation[];
  /** The patch in readable form (`~ /spec/replicas: 5 → 3`). */
  readonly lines: string[];
  /** What changed, in sentences ("replicas was changed from 3 to 5 outside git"). */
  readonly sentences: string[];
  /** Where the object is defined in the repository. */
  readonly source?: { readonly file: string; readonly line: number; readonly column: number };
}

/** What a planned change to one object is. */
interface Plan {
  readonly d: DesiredObject;
  action: "create" | "patch" | "none" | "wait";
  live?: KubeObject;
  diff?: DiffResult;
  /** A note for the learner that does not stop the sync (a takeover, an object being deleted). */
  warning?: string;
}

/** Runs `task` over `items` with at most `limit` in flight; resolves when all are done. */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await task(items[next++]);
  });
  await Promise.all(workers);
}

/** Consecutive runs of objects of the same kind, in the given (apply or deletion) order. */
function byKind<T>(ordered: readonly T[], kindOf: (item: T) => string): T[][] {
  const groups: T[][] = [];
  for (const item of ordered) {
    const last = groups[groups.length - 1];
    if (last && kindOf(last[0]) === kindOf(item)) last.push(item);
    else groups.push([item]);
  }
  return groups;
}

/** True for the failures that mean "the object changed since it was read": retry with a fresh read. */
function isStale(err: unknown): boolean {
  if (!(err instanceof ApiError)) return false;
  if (err.code === 409 && err.reason === "Conflict") return true;
  return err.code === 422 && (err.status.details?.causes ?? []).some((c) => /testing value \/metadata\/resourceVersion failed/.test(c.message ?? ""));
}

/** A sync error from an unexpected failure (a non-API error): the message is all there is. */
function unexpected(err: unknown, object?: string): SyncError {
  const message = err instanceof Error ? err.message : String(err);
  return syncError({ object, message });
}

function commitInfo(commit: HeadCommit, branch: string | null): CommitInfo {
  const info: { -readonly [K in keyof CommitInfo]: CommitInfo[K] } = {
    oid: commit.oid,
    subject: commit.subject,
    message: commit.message,
    author: { name: commit.author.name, email: commit.author.email, time: new Date(commit.author.timestamp * 1000).toISOString().replace(".000Z", "Z") },
    branch,
  };
  if (commit.reverts) info.reverts = commit.reverts;
  return info;
}

function short(oid: string | undefined): string {
  return oid ? oid.slice(0, 7) : "(none)";
}

/** The desired object with its source as plain data (no link to the parsed YAML, which can then be freed). */
function withPlainSource(d: DesiredObject): DesiredObject {
  if (!d.source) return d;
  const { file, line, column, documentIndex, item } = d.source;
  return { ...d, source: { file, line, column, documentIndex, ...(item !== undefined ? { item } : {}) } };
}

/** A failure that stops a sync with these errors. */
class SyncFailure extends Error {
  constructor(readonly errors: SyncError[]) {
    super(errors.map((e) => e.text).join("; "));
  }
}

/** The reconciler: sync, drift check and self-heal of one repository against one cluster. */
export class Reconciler {
  /** The repository id in tracking annotations. */
  readonly repoId: string;
  /** The learner's repository. */
  readonly repoDir: string;
  /** The tracked branch (undefined: the branch HEAD points at). */
  readonly branch: string | undefined;
  /** Whether objects removed from git are deleted. */
  readonly prune: boolean;
  /** Whether drift is reverted (read by the watcher). */
  readonly selfHeal: boolean;
  /** Whether a commit without manifests may delete every object. */
  readonly allowEmpty: boolean;
  /** Where attempts are recorded. */
  readonly history: SyncHistory;
  /** The cluster. */
  readonly client: Client;
  /** The clock of history times and durations. */
  readonly clock: Clock;
  private readonly log: ReconcilerLog;
  private readonly cache: SourceCache;
  private readonly hints: boolean;
  private readonly maxRetries: number;
  private readonly concurrency: number;
  /** The desired objects of the last commit applied (the state drift is measured against). */
  private managed = new Map<string, DesiredObject>();
  private managedCommit: CommitInfo | undefined;
  /** The objects of the last tree applied, reused while the head's tree stays the same. */
  private loaded: { tree: string; desired: DesiredObject[]; warnings: string[] } | undefined;
  private lastAttempted: string | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private running = 0;

  constructor(options: ReconcilerOptions) {
    if (!options.client) throw new TypeError("Reconciler: client is required (the API server or a client of it)");
    if (!options.clock) throw new TypeError("Reconciler: clock is required");
    if (typeof options.repoDir !== "string" || options.repoDir === "") throw new TypeError("Reconciler: repoDir must be the folder of the learner's repository");
    if (!options.history) throw new TypeError("Reconciler: history is required (FileHistory for serve, MemoryHistory for tests)");
    this.client = options.client;
    this.clock = options.clock;
    this.repoDir = options.repoDir;
    this.branch = options.branch;
    this.repoId = makeRepoId(options.repoDir, options.repoName);
    this.prune = options.prune ?? true;
    this.selfHeal = options.selfHeal ?? true;
    this.allowEmpty = options.allowEmpty ?? false;
    this.history = options.history;
    this.log = options.log ?? (() => undefined);
    this.cache = options.cache ?? new SourceCache();
    this.hints = options.hints ?? true;
    this.maxRetries = options.maxConflictRetries ?? 5;
    this.concurrency = Math.max(1, options.concurrency ?? 32);
  }

  /** The commit the cluster was last synced to by this reconciler (undefined before the first good sync). */
  get lastSynced(): CommitInfo | undefined {
    return this.managedCommit;
  }

  /** The head commit id of the last sync attempt (synced or not). */
  get lastAttemptedCommit(): string | undefined {
    return this.lastAttempted;
  }

  /** The desired objects of the last applied commit, by key. */
  get managedObjects(): ReadonlyMap<string, DesiredObject> {
    return this.managed;
  }

  /** True while a sync, drift check or heal runs. */
  get busy(): boolean {
    return this.running > 0;
  }

  /** Resolves when every operation queued so far has finished. */
  async idle(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  /**
   * Syncs the cluster to the head commit (see the module comment for the steps). Never throws
   * for a bad repository or a refused commit: the result says what happened.
   */
  sync(options: SyncOptions = {}): Promise<SyncResult> {
    return this.exclusive(() => this.runSync(options));
  }

  /** Compares managed objects (all, or those with the given keys) with the last applied commit. */
  checkDrift(keys?: Iterable<string>): Promise<DriftReport[]> {
    return this.exclusive(() => this.runCheckDrift(keys));
  }

  /**
   * Puts the given managed objects back to the last applied commit (self-heal): re-creates deleted
   * ones, patches changed ones. Records a `self-heal` history entry when something was applied.
   */
  heal(keys: Iterable<string>): Promise<SyncResult> {
    return this.exclusive(() => this.runHeal([...keys]));
  }

  /** The sync and health report of the repository (status.ts). */
  status(): Promise<RepoStatus> {
    return computeStatus({ client: this.client, repoDir: this.repoDir, branch: this.branch, repoName: this.repoId, history: this.history, cache: this.cache });
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(async () => {
      this.running++;
      try {
        return await fn();
      } finally {
        this.running--;
      }
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  // ------------------------------------------------------------------------------------------
  // Sync

  private async runSync(options: SyncOptions): Promise<SyncResult> {
    const started = this.clock.now();
    const dryRun = options.dryRun ?? false;
    const trigger = options.trigger ?? "manual";
    const prune = options.prune ?? this.prune;
    const allowEmpty = options.allowEmpty ?? this.allowEmpty;
    const warnings: string[] = [];
    const finish = (result: SyncResultCode, commit: CommitInfo | undefined, operations: ObjectOperations[], errors: SyncError[], hints: string[] = []) =>
      this.finish({ started, dryRun, trigger, result, commit, operations, errors, warnings, hints });

    let head;
    try {
      head = await readHead(this.repoDir, { branch: this.branch, commit: options.commit, cache: this.cache });
    } catch (err) {
      if (!(err instanceof SourceError)) throw err;
      // A missing, empty or damaged repository: the cluster is left as it is.
      return finish("Failed", undefined, [], [syncError({ message: err.message })]);
    }
    const commit = commitInfo(head.commit, head.branch);
    this.lastAttempted = commit.oid;
    for (const s of head.skipped) warnings.push(`${s.path} is ${s.reason === "symlink" ? "a symbolic link" : "a submodule"} and is not read: commit the manifest itself`);

    const hints = () => this.hintsFor(commit.oid, trigger);
    // The same tree as the last load (a resync, an amended message): its objects are reused
    // instead of parsing every file again.
    const cached = this.loaded?.tree === head.commit.tree ? this.loaded : undefined;
    let desired: DesiredObject[];
    let loadWarnings: string[];
    if (cached) {
      desired = cached.desired;
      loadWarnings = cached.warnings;
      warnings.push(...loadWarnings);
    } else {
      const loaded = loadManifests(head.files.map((f) => ({ path: f.path, content: f.content })));
      loadWarnings = loaded.warnings.map(formatLoadError);
      warnings.push(...loadWarnings);
      if (loaded.errors.length > 0) {
        const errors = loaded.errors.map(fromLoadError);
        if (!dryRun) await this.recoverManaged();
        return finish("Refused", commit, [], errors, await hints());
      }
      desired = loaded.objects.map((o) => prepareDesired(o, this.repoId));
    }

    let inventory: Inventory;
    try {
      inventory = await takeInventory(this.client);
    } catch (err) {
      return finish("Failed", commit, [], [unexpected(err)], await hints());
    }
    const desiredKeys = new Set(desired.map((d) => d.key));
    const extras = trackedObjects(inventory, this.repoId).filter((o) => !desiredKeys.has(keyOf(o)));

    // Argo CD's allowEmpty guard: a commit without manifests would prune everything.
    if (desired.length === 0 && prune && extras.length > 0 && !allowEmpty) {
      const message =
        `this commit would delete every object this repository manages (${extras.length} object${extras.length === 1 ? "" : "s"}, e.g. ${describeObject(extras[0])}) because it has no manifests: ` +
        `if an empty cluster is what you want, sync with --allow-empty; otherwise commit the manifests again (git revert ${short(commit.oid)})`;
      if (!dryRun) this.recoverManagedFrom(inventory);
      return finish("Refused", commit, [], [syncError({ message })], await hints());
    }

    // Validate everything before changing anything.
    const hpas = [...desired.map((d) => d.object), ...inventory.all].filter((o) => o.kind === "HorizontalPodAutoscaler");
    const ignoreFor = (d: DesiredObject) => ownedByOthers(d.object, hpas);
    const newNamespaces = new Set(desired.filter((d) => d.object.kind === "Namespace" && !inventory.byKey.has(d.key)).map((d) => d.object.metadata.name!));
    const plans: Plan[] = [];
    const errors: SyncError[] = [];
    try {
      await eachLimited(desired, this.concurrency, async (d) => {
        const live = await liveFor(this.client, inventory, d);
        const { plan, errors: found, warning } = await this.validate(d, live, ignoreFor(d), newNamespaces);
        if (warning) plan.warning = warning;
        plans.push(plan);
        errors.push(...found);
      });
    } catch (err) {
      return finish("Failed", commit, [], [unexpected(err)], await hints());
    }
    // Validation ran concurrently: sort, so that warnings and operations come in apply order.
    const ordered = plans.sort((a, b) => compareForApply(a.d.object, b.d.object));
    for (const p of ordered) if (p.warning) warnings.push(p.warning);
    if (errors.length > 0 && cached) {
      // Reused objects no longer carry their YAML nodes: load again so errors point at their fields.
      this.loaded = undefined;
      return this.runSync(options);
    }
    if (errors.length > 0) {
      if (!dryRun) this.recoverManagedFrom(inventory);
      return finish("Refused", commit, [], sortErrors(errors), await hints());
    }

    const pruneList = prune ? this.pruneCandidates(extras, inventory, desired, warnings) : [];
    if (!prune && extras.length > 0) {
      warnings.push(`${extras.length} object${extras.length === 1 ? " is" : "s are"} no longer in git but kept because prune is off (e.g. ${describeObject(extras[0])})`);
    }

    if (dryRun) {
      const planned: ObjectOperations[] = [];
      for (const p of ordered) {
        if (p.action === "create") planned.push(this.record(p.d, "create", []));
        else if (p.action === "patch" && p.diff) planned.push(this.record(p.d, "patch", p.diff.ops, p.diff.drift ? "drift" : "git"));
      }
      for (const o of deletionOrder(pruneList)) planned.push(this.recordDelete(o));
      return finish(planned.length > 0 ? "Synced" : "NoChange", commit, planned, [], await hints());
    }

    // Apply, kind by kind in dependency order; objects of one kind do not depend on each other.
    const operations: ObjectOperations[] = [];
    const applyErrors: SyncError[] = [];
    for (const group of byKind(ordered, (p) => p.d.object.kind)) {
      const done = new Map<Plan, ObjectOperations>();
      await eachLimited(group, this.concurrency, async (p) => {
        try {
          const op = await this.apply(p, ignoreFor(p.d));
          if (op) done.set(p, op);
        } catch (err) {
          applyErrors.push(...(err instanceof SyncFailure ? err.errors : err instanceof ApiError ? apiErrors(p.d, p.d.object, err) : [unexpected(err, describeObject(p.d.object))]));
        }
      });
      for (const p of group) {
        const op = done.get(p);
        if (op) operations.push(op);
      }
    }

    // Prune only after every apply succeeded: a half-applied commit must not also lose objects.
    if (applyErrors.length === 0) {
      for (const group of byKind(deletionOrder(pruneList), (o) => o.kind)) {
        const done = new Map<KubeObject, ObjectOperations>();
        await eachLimited(group, this.concurrency, async (o) => {
          try {
            if (await this.deleteObject(o)) done.set(o, this.recordDelete(o));
          } catch (err) {
            applyErrors.push(err instanceof ApiError ? apiErrors(undefined, o, err)[0] : unexpected(err, describeObject(o)));
          }
        });
        for (const o of group) {
          const op = done.get(o);
          if (op) operations.push(op);
        }
      }
    } else if (pruneList.length > 0) {
      warnings.push(`${pruneList.length} object${pruneList.length === 1 ? " was" : "s were"} not pruned because applying the commit failed`);
    }

    // The cluster now follows this commit: drift is measured against it. Sources are kept as
    // plain positions, so the parsed YAML of every file can be freed.
    const kept = desired.map(withPlainSource);
    this.managed = new Map(kept.map((d) => [d.key, d]));
    this.loaded = { tree: head.commit.tree, desired: kept, warnings: loadWarnings };
    this.managedCommit = commit;
    const result: SyncResultCode = applyErrors.length > 0 ? "Failed" : operations.length > 0 ? "Synced" : "NoChange";
    return finish(result, commit, operations, sortErrors(applyErrors), await hints());
  }

  /** Validates one object by dry-run and plans its change. */
  private async validate(
    d: DesiredObject,
    live: KubeObject | undefined,
    ignorePaths: string[],
    newNamespaces: ReadonlySet<string>,
  ): Promise<{ plan: Plan; errors: SyncError[]; warning?: string }> {
    const obj = d.object;
    if (!live) {
      // An object in a namespace this commit creates cannot be dry-run there (the namespace does
      // not exist yet): dry-run it in "default" instead, where AlreadyExists still means "valid"
      // (the API server checks existence after admission).
      const ns = obj.metadata.namespace;
      const moved = ns !== undefined && newNamespaces.has(ns);
      const probe = moved ? { ...obj, metadata: { ...obj.metadata, namespace: "default" } } : obj;
      try {
        await this.client.create(probe, { dryRun: true });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (!(moved && err.reason === "AlreadyExists")) return { plan: { d, action: "create" }, errors: apiErrors(d, obj, err) };
      }
      return { plan: { d, action: "create" }, errors: [] };
    }
    let warning: string | undefined;
    const owner = parseTracking(live);
    if (owner && owner.repoId !== this.repoId) {
      warning = `${describeObject(obj)} was applied from another repository (${owner.repoId}); this repository takes it over`;
    }
    if (live.metadata.deletionTimestamp) {
      return {
        plan: { d, action: "wait", live },
        errors: [],
        warning: `${describeObject(obj)} is being deleted; it is created again once it is gone (the next sync or self-heal)`,
      };
    }
    for (let attempt = 0; ; attempt++) {
      const diff = computeDiff({ desired: obj, lastApplied: readLastApplied(live), live, ignorePaths });
      if (diff.ops.length === 0) return { plan: { d, action: "none", live, diff }, errors: [], warning };
      const immutable = findImmutableChanges(live, diff.ops);
      const errors = immutable.map((c) => objectError(d, obj, c.field, c.message));
      try {
        await this.client.patch(d.ref, JSON_PATCH, diff.ops, { dryRun: true });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        if (isStale(err) && attempt < this.maxRetries) {
          const fresh = await getLive(this.client, d.ref);
          if (!fresh) return this.validate(d, undefined, ignorePaths, newNamespaces);
          live = fresh;
          continue;
        }
        // The API server reports the immutable fields too ("field is immutable", possibly on a
        // related field such as clusterIPs): keep only the messages with the way out.
        const covered = immutable.map((c) => c.field);
        for (const e of apiErrors(d, obj, err)) {
          const field = e.field;
          if (field && covered.some((f) => field === f || field.startsWith(`${f}.`) || field.startsWith(`${f}[`))) continue;
          if (covered.length > 0 && /field is immutable/.test(e.message)) continue;
          errors.push(e);
        }
      }
      return { plan: { d, action: "patch", live, diff }, errors, warning };
    }
  }

  /** Applies one planned change; returns what was done, or undefined when nothing was needed. */
  private async apply(p: Plan, ignorePaths: string[]): Promise<ObjectOperations | undefined> {
    if (p.action === "none" || p.action === "wait") return undefined;
    const d = p.d;
    if (p.action === "create") {
      try {
        await this.client.create(d.object);
        return this.record(d, "create", []);
      } catch (err) {
        // Created by someone else since the inventory: patch it like any existing object.
        if (!(err instanceof ApiError && err.reason === "AlreadyExists")) throw err;
        return this.patchFresh(d, ignorePaths, 0);
      }
    }
    const diff = p.diff!;
    try {
      await this.client.patch(d.ref, JSON_PATCH, diff.ops);
      return this.record(d, "patch", diff.ops, diff.drift ? "drift" : "git");
    } catch (err) {
      // Changed since it was validated: re-read and patch what differs now.
      if (!isStale(err)) throw err;
      return this.patchFresh(d, ignorePaths, 1);
    }
  }

  /** Re-reads an object and applies the diff against what is there now (the retry after a conflict). */
  private async patchFresh(d: DesiredObject, ignorePaths: string[], attempt: number): Promise<ObjectOperations | undefined> {
    for (; ; attempt++) {
      const live = await getLive(this.client, d.ref);
      if (!live) {
        await this.client.create(d.object);
        return this.record(d, "create", []);
      }
      if (live.metadata.deletionTimestamp) return undefined;
      const diff = computeDiff({ desired: d.object, lastApplied: readLastApplied(live), live, ignorePaths });
      if (diff.ops.length === 0) return undefined;
      const immutable = findImmutableChanges(live, diff.ops);
      if (immutable.length > 0) throw new SyncFailure(immutable.map((c) => objectError(d, d.object, c.field, c.message)));
      try {
        await this.client.patch(d.ref, JSON_PATCH, diff.ops);
        return this.record(d, "patch", diff.ops, diff.drift ? "drift" : "git");
      } catch (err) {
        if (!isStale(err) || attempt >= this.maxRetries) {
          if (isStale(err)) {
            throw new SyncFailure([
              objectError(d, d.object, undefined, `kept changing while the sync patched it (${this.maxRetries + 1} attempts): another writer is changing it at the same time; the next sync tries again`),
            ]);
          }
          throw err;
        }
      }
    }
  }

  /**
   * Tracked objects no longer in git that may be deleted. A Namespace is kept (with a warning)
   * while it holds objects git does not manage, or objects git still wants: deleting it would
   * delete them too (Argo CD users lost shared namespaces that way, argo-cd #22607).
   */
  private pruneCandidates(extras: KubeObject[], inventory: Inventory, desired: DesiredObject[], warnings: string[]): KubeObject[] {
    const out: KubeObject[] = [];
    const leaving = new Set(extras.map(keyOf));
    for (const o of extras) {
      if (o.metadata.deletionTimestamp) continue;
      if (o.kind === "Namespace") {
        const ns = o.metadata.name!;
        const wanted = desired.find((d) => d.object.metadata.namespace === ns);
        if (wanted) {
          warnings.push(`Namespace ${ns} was removed from git but is kept: ${describeObject(wanted.object)} in git still lives in it`);
          continue;
        }
        const services = new Set(inventory.all.filter((x) => x.kind === "Service" && x.metadata.namespace === ns).map((x) => x.metadata.name));
        const foreign = inventory.all.find((x) => x.metadata.namespace === ns && !leaving.has(keyOf(x)) && isHandMade(x, this.repoId, services));
        if (foreign) {
          warnings.push(
            `Namespace ${ns} was removed from git but is kept: it holds ${describeObject(foreign)}, which git does not manage and deleting the namespace would delete; delete it by hand if you mean it (kubectl delete namespace ${ns})`,
          );
          continue;
        }
      }
      out.push(o);
    }
    return out;
  }

  /** Deletes a pruned object, only if it is still the object that was listed. */
  private async deleteObject(o: KubeObject): Promise<boolean> {
    try {
      await this.client.delete(refOf(o), { propagationPolicy: "Background", preconditions: { uid: o.metadata.uid } });
      return true;
    } catch (err) {
      // Gone already, or replaced by another object of the same name (uid precondition): nothing to prune.
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return false;
      throw err;
    }
  }

  private record(d: DesiredObject, action: "create" | "patch", ops: Operation[], cause?: "git" | "drift"): ObjectOperations {
    const o = d.object;
    const entry: { -readonly [K in keyof ObjectOperations]: ObjectOperations[K] } = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, action, ops: visibleOps(ops, o) };
    if (o.metadata.namespace) entry.namespace = o.metadata.namespace;
    if (d.source) entry.source = { file: d.source.file, line: d.source.line, column: d.source.column };
    if (cause) entry.cause = cause;
    return entry;
  }

  private recordDelete(o: KubeObject): ObjectOperations {
    const entry: { -readonly [K in keyof ObjectOperations]: ObjectOperations[K] } = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name!, action: "delete", ops: [] };
    if (o.metadata.namespace) entry.namespace = o.metadata.namespace;
    return entry;
  }

  /**
   * After a refused commit, before any good sync in this process: the state to defend against
   * drift is the last good commit, read back from the live objects' last-applied records.
   */
  private recoverManagedFrom(inventory: Inventory): void {
    if (this.managed.size > 0) return;
    for (const o of trackedObjects(inventory, this.repoId)) {
      const d = desiredFromRecord(o);
      if (d) this.managed.set(d.key, d);
    }
  }

  private async recoverManaged(): Promise<void> {
    if (this.managed.size > 0) return;
    try {
      this.recoverManagedFrom(await takeInventory(this.client));
    } catch {
      // Without the cluster there is nothing to recover; the next sync tries again.
    }
  }

  private async hintsFor(oid: string, trigger: SyncTrigger): Promise<string[]> {
    // The periodic resync and self-heal do not walk the working tree: nothing there changed for them.
    if (!this.hints || trigger === "resync" || trigger === "self-heal") return [];
    try {
      return (await uncommittedChanges(this.repoDir, oid, { cache: this.cache })).map(hintFor);
    } catch {
      return [];
    }
  }

  private async finish(r: {
    started: number;
    dryRun: boolean;
    trigger: SyncTrigger;
    result: SyncResultCode;
    commit: CommitInfo | undefined;
    operations: ObjectOperations[];
    errors: SyncError[];
    warnings: string[];
    hints: string[];
  }): Promise<SyncResult> {
    const out: { -readonly [K in keyof SyncResult]: SyncResult[K] } = {
      result: r.result,
      dryRun: r.dryRun,
      trigger: r.trigger,
      operations: r.operations,
      errors: r.errors,
      warnings: r.warnings,
      hints: r.hints,
    };
    if (r.commit) out.commit = r.commit;
    if (r.dryRun) return out;
    if (await this.shouldRecord(r.trigger, r.result, r.commit?.oid ?? null, r.errors)) {
      const entry: { -readonly [K in keyof HistoryEntry]?: HistoryEntry[K] } = {
        time: new Date(this.clock.now()).toISOString(),
        durationMs: Math.max(0, this.clock.now() - r.started),
        trigger: r.trigger,
        repo: this.repoId,
        commit: r.commit?.oid ?? null,
        subject: r.commit?.subject ?? "",
        result: r.result,
        operations: r.operations,
        errors: r.errors,
      };
      if (r.commit) entry.author = r.commit.author;
      if (r.commit?.reverts) entry.reverts = r.commit.reverts;
      if (r.warnings.length > 0) entry.warnings = r.warnings;
      try {
        out.entry = await this.history.append(entry as Omit<HistoryEntry, "id">);
      } catch (err) {
        this.log(RECONCILER_COMPONENT, `could not record the sync in the history: ${(err as Error).message}`);
      }
    }
    this.logResult(out);
    return out;
  }

  /**
   * Every attempt is recorded, except repeats that would drown the history: a periodic resync or
   * self-heal that changed nothing, and a periodic resync that failed exactly as the last entry did
   * (a resync every minute would otherwise fill the 1,000 entries in 17 hours).
   */
  private async shouldRecord(trigger: SyncTrigger, result: SyncResultCode, commit: string | null, errors: SyncError[]): Promise<boolean> {
    if (trigger !== "resync" && trigger !== "self-heal") return true;
    if (result === "NoChange") return false;
    if (result === "Synced") return true;
    const entries = await this.history.list();
    const last = entries[entries.length - 1];
    return !(last && last.result === result && last.commit === commit && JSON.stringify(last.errors.map((e) => e.text)) === JSON.stringify(errors.map((e) => e.text)));
  }

  private logResult(r: SyncResult): void {
    const c = r.commit ? `${short(r.commit.oid)} "${r.commit.subject}"` : "(no commit)";
    const count = (a: string) => r.operations.filter((o) => o.action === a).length;
    const summary = `${count("create")} created, ${count("patch")} patched, ${count("delete")} deleted`;
    const rollback = r.commit?.reverts ? ` (rollback of ${short(r.commit.reverts)})` : "";
    switch (r.result) {
      case "Synced":
        this.log(RECONCILER_COMPONENT, `${r.trigger === "self-heal" ? "self-healed" : "synced"} ${c}${rollback}: ${summary}`);
        break;
      case "NoChange":
        if (r.trigger !== "resync" && r.trigger !== "self-heal") this.log(RECONCILER_COMPONENT, `${c}: in sync, nothing to apply`);
        break;
      case "Refused":
        this.log(RECONCILER_COMPONENT, `refused ${c}: nothing applied, the cluster stays on ${short(this.managedCommit?.oid)}; ${r.errors.length} error${r.errors.length === 1 ? "" : "s"}: ${r.errors.map((e) => e.text).join("; ")}`);
        break;
      case "Failed":
        this.log(RECONCILER_COMPONENT, `sync of ${c} failed (${summary}): ${r.errors.map((e) => e.text).join("; ")}`);
        break;
    }
    for (const w of r.warnings) this.log(RECONCILER_COMPONENT, `warning: ${w}`);
  }

  // ------------------------------------------------------------------------------------------
  // Drift and self-heal

  /** HPAs that may own a managed object's replicas: those in git and those in the cluster. */
  private async hpasFor(namespaces: Set<string>): Promise<KubeObject[]> {
    const out: KubeObject[] = [...this.managed.values()].map((d) => d.object).filter((o) => o.kind === "HorizontalPodAutoscaler");
    for (const namespace of namespaces) {
      try {
        out.push(...(await this.client.list({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", namespace })).items);
      } catch {
        // A cluster without autoscaling/v2: no HPA owns anything there.
      }
    }
    return out;
  }

  private async runCheckDrift(keys?: Iterable<string>): Promise<DriftReport[]> {
    const targets = keys ? [...new Set(keys)].map((k) => this.managed.get(k)).filter((d): d is DesiredObject => d !== undefined) : [...this.managed.values()];
    const namespaces = new Set(targets.filter((d) => ["Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"].includes(d.object.kind)).map((d) => d.object.metadata.namespace ?? "default"));
    const hpas = await this.hpasFor(namespaces);
    const reports: DriftReport[] = [];
    for (const d of targets) {
      const live = await getLive(this.client, d.ref);
      const base = {
        key: d.key,
        apiVersion: d.object.apiVersion,
        kind: d.object.kind,
        name: d.object.metadata.name!,
        ...(d.object.metadata.namespace ? { namespace: d.object.metadata.namespace } : {}),
        ...(d.source ? { source: { file: d.source.file, line: d.source.line, column: d.source.column } } : {}),
      };
      if (!live) {
        reports.push({ ...base, deleted: true, ops: [], lines: [`+ ${describeObject(d.object)} (created again)`], sentences: [`${describeObject(d.object)} was deleted outside git`] });
        continue;
      }
      if (live.metadata.deletionTimestamp) continue;
      const diff = computeDiff({ desired: d.object, lastApplied: readLastApplied(live), live, ignorePaths: ownedByOthers(d.object, hpas) });
      if (diff.ops.length === 0) continue;
      // A Secret's values are never shown: its drift is described without them.
      const secret = isSecret(live);
      const sentences = secret ? [] : describeDrift(diff);
      const ops = visibleOps(diff.ops, live);
      reports.push({
        ...base,
        deleted: false,
        ops,
        lines: formatOps(ops, printable(live)),
        sentences: sentences.length > 0 ? sentences : [`${describeObject(d.object)} differs from git${secret ? " (values hidden)" : ""}`],
      });
    }
    return reports;
  }

  private async runHeal(keys: string[]): Promise<SyncResult> {
    const started = this.clock.now();
    const targets = [...new Set(keys)].map((k) => this.managed.get(k)).filter((d): d is DesiredObject => d !== undefined);
    const namespaces = new Set(targets.map((d) => d.object.metadata.namespace ?? "default"));
    const hpas = await this.hpasFor(namespaces);
    const operations: ObjectOperations[] = [];
    const errors: SyncError[] = [];
    for (const d of [...targets].sort((a, b) => compareForApply(a.object, b.object))) {
      try {
        const op = await this.patchFresh(d, ownedByOthers(d.object, hpas), 0);
        if (op) operations.push(op.action === "patch" ? { ...op, cause: "drift" } : op);
      } catch (err) {
        errors.push(...(err instanceof SyncFailure ? err.errors : err instanceof ApiError ? apiErrors(d, d.object, err) : [unexpected(err, describeObject(d.object))]));
      }
    }
    const result: SyncResultCode = errors.length > 0 ? "Failed" : operations.length > 0 ? "Synced" : "NoChange";
    const commit = this.managedCommit ?? (await this.lastGoodCommit());
    return this.finish({ started, dryRun: false, trigger: "self-heal", result, commit, operations, errors, warnings: [], hints: [] });
  }

  /** The last commit the history records as synced (after a restart, before this process synced one). */
  private async lastGoodCommit(): Promise<CommitInfo | undefined> {
    const entries = await this.history.list();
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i];
      if ((e.result === "Synced" || e.result === "NoChange") && e.commit) {
        return { oid: e.commit, subject: e.subject, message: e.subject, author: e.author ?? { name: "", email: "", time: "" }, branch: null, ...(e.reverts ? { reverts: e.reverts } : {}) };
      }
    }
    return undefined;
  }
}

/**
 * An object a person made (not from git, not by a controller): no tracking annotation for this
 * repository and no owner. The objects Kubernetes puts in every namespace (the `default`
 * ServiceAccount, the `kube-root-ca.crt` ConfigMap) do not count, nor the Endpoints the
 * endpoints controller keeps for each Service (same name, no owner reference upstream).
 */
function isHandMade(o: KubeObject, repo: string, services: ReadonlySet<string | undefined>): boolean {
  if (isTrackedBy(o, repo)) return false;
  if ((o.metadata.ownerReferences ?? []).length > 0) return false;
  if (o.kind === "ServiceAccount" && o.metadata.name === "default") return false;
  if (o.kind === "ConfigMap" && o.metadata.name === "kube-root-ca.crt") return false;
  if (o.kind === "Endpoints" && services.has(o.metadata.name)) return false;
  return true;
}

function sortErrors(errors: SyncError[]): SyncError[] {
  return [...errors].sort(
    (a, b) =>
      (a.file ?? "\uffff").localeCompare(b.file ?? "\uffff") || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || a.text.localeCompare(b.text),
  );
}

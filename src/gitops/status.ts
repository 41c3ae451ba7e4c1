/**
 * The status report of a repository against the cluster, as Argo CD shows an Application: per
 * object, sync status (Synced or OutOfSync, from the same three-way diff a sync uses, so what is
 * reported OutOfSync is exactly what the next sync would change) and health (`health.ts`, Argo
 * CD's per-kind rules; Missing for an object git has and the cluster lacks); for the whole
 * repository, the overall sync status and the worst health (upstream `IsWorse`), the head
 * commit, the last commit synced, and the errors of a refused commit with file, line and column.
 *
 * Objects the cluster holds with this repository's tracking annotation that git no longer has
 * are listed OutOfSync with `requiresPruning` (Argo CD's wording); they do not count towards
 * the overall health (they are on their way out).
 */
import type { Operation } from "fast-json-patch";
import type { Client } from "../api/client.js";
import {
  describeObject,
  fromLoadError,
  hintFor,
  keyOf,
  liveFor,
  prepareDesired,
  takeInventory,
  trackedObjects,
  visibleOps,
  type DesiredObject,
} from "./_live.js";
import { computeDiff, ownedByOthers } from "./diff.js";
import { healthOf, worstHealth, type HealthStatusCode } from "./health.js";
import type { HistoryAuthor, HistoryEntry, SyncError, SyncHistory, SyncResultCode } from "./history.js";
import { formatLoadError, loadManifests } from "./load.js";
import { readLastApplied } from "./normalize.js";
import { compareForApply } from "./order.js";
import { SourceCache, SourceError, readHead, uncommittedChanges } from "./source.js";
import { repoId as makeRepoId } from "./tracking.js";

/** Sync status of one object or of the repository (Argo CD's `SyncStatusCode`). */
export type SyncStatusCode = "Synced" | "OutOfSync" | "Unknown";

/** The status of one object. */
export interface ObjectStatus {
  readonly apiVersion: string;
  readonly kind: string;
  /** Absent for cluster-scoped objects. */
  readonly namespace?: string;
  readonly name: string;
  readonly sync: "Synced" | "OutOfSync";
  readonly health: HealthStatusCode;
  /** Why the health is what it is (kubectl rollout status wording), "" when there is nothing to add. */
  readonly healthMessage: string;
  /** Why the object is OutOfSync ("" when Synced). */
  readonly message: string;
  /** The operations the next sync would send (without the resourceVersion test; bookkeeping values shortened). */
  readonly ops: Operation[];
  /** True when the difference was made in the cluster, behind git's back. */
  readonly drift: boolean;
  /** True for an object the cluster holds from this repository that git no longer has. */
  readonly requiresPruning?: boolean;
  /** Where the object is defined in the repository. */
  readonly source?: { readonly file: string; readonly line: number; readonly column: number };
}

/** A commit in the report. */
export interface StatusCommit {
  readonly oid: string;
  readonly subject: string;
  readonly author?: HistoryAuthor;
  /** For a `git revert` commit: the commit it reverts. */
  readonly reverts?: string;
}

/** The status of the repository. */
export interface RepoStatus {
  readonly repo: { readonly dir: string; readonly id: string; readonly branch: string | null };
  /** The head commit of the tracked branch (absent when the repository cannot be read). */
  readonly head?: StatusCommit;
  /** Why the repository cannot be read. */
  readonly headError?: string;
  /** The last commit a sync applied (or found in sync), from the history. */
  readonly lastSynced?: StatusCommit & { readonly time: string; readonly result: SyncResultCode };
  /** Synced when every object matches git; Unknown when the head cannot be read or loaded. */
  readonly sync: SyncStatusCode;
  /** The worst health of the objects in git. */
  readonly health: HealthStatusCode;
  readonly healthMessage: string;
  readonly objects: ObjectStatus[];
  /**
   * Errors that keep the cluster from following git: the head's manifests that do not load, or
   * the errors of the last refused (or failed) commit when nothing was synced since.
   */
  readonly errors: SyncError[];
  /** The commit `errors` belong to. */
  readonly errorsCommit?: string;
  /** Uncommitted changes of the working tree (never applied). */
  readonly hints: string[];
  /** Loader warnings of the head commit. */
  readonly warnings: string[];
}

/** What `computeStatus` needs. */
export interface StatusOptions {
  readonly client: Client;
  readonly repoDir: string;
  readonly branch?: string;
  /** Name in the tracking annotations (as given to the Reconciler); default from the folder. */
  readonly repoName?: string;
  /** The sync history, for the last synced commit and the errors of a refused one. */
  readonly history?: SyncHistory;
  readonly cache?: SourceCache;
  /** Report uncommitted changes (default true). */
  readonly hints?: boolean;
}

/** The last entry that applied a commit or found it in sync, and the failure after it, if any. */
function fromHistory(entries: readonly HistoryEntry[]): { synced?: HistoryEntry; failure?: HistoryEntry } {
  let synced: HistoryEntry | undefined;
  let failure: HistoryEntry | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i];
    if (e.result === "Synced" || e.result === "NoChange") {
      synced = e;
      break;
    }
    if (!failure && (e.result === "Refused" || e.result === "Failed") && e.trigger !== "self-heal") failure = e;
  }
  return { synced, failure };
}

function commitOf(e: HistoryEntry): StatusCommit {
  return { oid: e.commit ?? "", subject: e.subject, ...(e.author ? { author: e.author } : {}), ...(e.reverts ? { reverts: e.reverts } : {}) };
}

/** Builds the status report of a repository against the cluster. */
export async function computeStatus(options: StatusOptions): Promise<RepoStatus> {
  const { client, repoDir } = options;
  const repo = makeRepoId(repoDir, options.repoName);
  const cache = options.cache ?? new SourceCache();
  // A state directory may have served several repositories: only this one's attempts count.
  const entries = (options.history ? await options.history.list() : []).filter((e) => e.repo === undefined || e.repo === repo);
  const { synced, failure } = fromHistory(entries);
  const lastSynced = synced && synced.commit ? { ...commitOf(synced), time: synced.time, result: synced.result } : undefined;
  let errors: SyncError[] = failure ? failure.errors : [];
  let errorsCommit = failure?.commit ?? undefined;

  let head;
  try {
    head = await readHead(repoDir, { branch: options.branch, cache });
  } catch (err) {
    if (!(err instanceof SourceError)) throw err;
    return {
      repo: { dir: repoDir, id: repo, branch: options.branch ?? null },
      headError: err.message,
      ...(lastSynced ? { lastSynced } : {}),
      sync: "Unknown",
      health: "Unknown",
      healthMessage: err.message,
      objects: [],
      errors,
      ...(errorsCommit ? { errorsCommit } : {}),
      hints: [],
      warnings: [],
    };
  }
  const headCommit: StatusCommit = {
    oid: head.commit.oid,
    subject: head.commit.subject,
    author: { name: head.commit.author.name, email: head.commit.author.email, time: new Date(head.commit.author.timestamp * 1000).toISOString().replace(".000Z", "Z") },
    ...(head.commit.reverts ? { reverts: head.commit.reverts } : {}),
  };
  const loaded = loadManifests(head.files.map((f) => ({ path: f.path, content: f.content })));
  if (loaded.errors.length > 0) {
    errors = loaded.errors.map(fromLoadError);
    errorsCommit = head.commit.oid;
  }
  const desired: DesiredObject[] = loaded.errors.length > 0 ? [] : loaded.objects.map((o) => prepareDesired(o, repo));
  const inventory = await takeInventory(client);
  const hpas = [...desired.map((d) => d.object), ...inventory.all].filter((o) => o.kind === "HorizontalPodAutoscaler");

  const objects: ObjectStatus[] = [];
  for (const d of [...desired].sort((a, b) => compareForApply(a.object, b.object))) {
    const live = await liveFor(client, inventory, d);
    const health = healthOf(live);
    const base = {
      apiVersion: d.object.apiVersion,
      kind: d.object.kind,
      ...(d.object.metadata.namespace ? { namespace: d.object.metadata.namespace } : {}),
      name: d.object.metadata.name!,
      health: health.status,
      healthMessage: health.message,
      ...(d.source ? { source: { file: d.source.file, line: d.source.line, column: d.source.column } } : {}),
    };
    if (!live) {
      objects.push({ ...base, sync: "OutOfSync", message: "missing from the cluster: the next sync creates it", ops: [], drift: false });
      continue;
    }
    const diff = computeDiff({ desired: d.object, lastApplied: readLastApplied(live), live, ignorePaths: ownedByOthers(d.object, hpas) });
    const ops = visibleOps(diff.ops.filter((op) => op.op !== "test"), live);
    const fields = diff.changes.map((c) => c.field).filter((f) => !f.startsWith("metadata.annotations.kubelings.dev/"));
    const message =
      ops.length === 0
        ? ""
        : diff.drift
          ? `changed in the cluster behind git's back${fields.length ? ` (${fields.join(", ")})` : ""}`
          : `differs from git${fields.length ? ` (${fields.join(", ")})` : ""}: the next sync applies it`;
    objects.push({ ...base, sync: ops.length === 0 ? "Synced" : "OutOfSync", message, ops, drift: diff.drift });
  }
  const keys = new Set(desired.map((d) => d.key));
  const extras = loaded.errors.length > 0 ? [] : trackedObjects(inventory, repo).filter((o) => !keys.has(keyOf(o)));
  for (const o of extras.sort(compareForApply)) {
    const health = healthOf(o);
    const leaving = o.metadata.deletionTimestamp !== undefined;
    objects.push({
      apiVersion: o.apiVersion,
      kind: o.kind,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
      name: o.metadata.name!,
      sync: "OutOfSync",
      health: health.status,
      healthMessage: health.message,
      message: leaving ? "no longer in git: being deleted" : "no longer in git: the next sync prunes it",
      ops: [],
      drift: false,
      requiresPruning: true,
    });
  }

  const inGit = objects.filter((o) => !o.requiresPruning);
  // An object already being pruned counts for nothing: the sync that pruned it is done.
  const counted = objects.filter((o) => !(o.requiresPruning && extras.some((x) => x.metadata.deletionTimestamp && x.kind === o.kind && x.metadata.name === o.name && x.metadata.namespace === o.namespace)));
  const worst = worstHealth(inGit.map((o) => ({ status: o.health, message: o.healthMessage })));
  const worstObject = worst.status === "Healthy" ? undefined : inGit.find((o) => o.health === worst.status);
  let sync: SyncStatusCode;
  if (loaded.errors.length > 0) sync = "Unknown";
  // A refused head keeps the repository OutOfSync with git, whatever the objects say.
  else if (counted.some((o) => o.sync === "OutOfSync") || (errors.length > 0 && errorsCommit === head.commit.oid)) sync = "OutOfSync";
  else sync = "Synced";
  if (sync === "Synced") {
    // The cluster matches the head: errors of an older refused commit no longer matter.
    errors = [];
    errorsCommit = undefined;
  }

  let hints: string[] = [];
  if (options.hints ?? true) {
    try {
      hints = (await uncommittedChanges(repoDir, head.commit.oid, { cache })).map(hintFor);
    } catch {
      hints = [];
    }
  }
  return {
    repo: { dir: repoDir, id: repo, branch: head.branch },
    head: headCommit,
    ...(lastSynced ? { lastSynced } : {}),
    sync,
    health: worst.status,
    healthMessage: worstObject ? `${describeObject(worstObject)}: ${worstObject.healthMessage || worstObject.health}` : "",
    objects,
    errors,
    ...(errorsCommit && errors.length > 0 ? { errorsCommit } : {}),
    hints,
    warnings: loaded.warnings.map(formatLoadError),
  };
}


/**
 * What the GitOps commands (`sync`, `diff`, `status`, `history`) share: their options, their
 * output streams, the way they reach the cluster, and small printing helpers.
 *
 * Until `kubelings serve` serves the API to other processes, a command builds an in-process
 * cluster on the state directory: the durable store at `<state>/store` and an API server over
 * it. The store takes an exclusive lock, so a command never becomes a second writer beside a
 * running `kubelings serve`: it stops with the store's "in use by another kubelings process"
 * message instead.
 */
import * as path from "node:path";
import type { Client } from "../../api/client.js";
import { RealClock, type Clock } from "../../api/clock.js";
import { ApiServer } from "../../api/server/api-server.js";
import { StoreError, openSqliteStore } from "../../api/store/index.js";
import { FileHistory } from "../../gitops/history.js";
import { Reconciler } from "../../gitops/reconciler.js";
import type { KubeObject } from "../../api/types.js";
import { formatOps, toPointer } from "../../gitops/diff.js";
import { LAST_APPLIED_ANNOTATION } from "../../gitops/normalize.js";
import type { ObjectOperations, SyncError } from "../../gitops/history.js";

/** Options every GitOps command takes (`--repo`, `--state`, `-o`), plus those of sync and diff. */
export interface CommandOptions {
  /** The learner's repository (`--repo DIR`). */
  readonly repo: string;
  /** The state directory (`--state DIR`): store and sync history. */
  readonly state: string;
  /** `-o table` (default) or `-o json`. */
  readonly output?: "table" | "json" | string;
  /** Branch to track (`--branch`); default the branch HEAD points at. */
  readonly branch?: string;
  /** `sync --dry-run`: validate and show the operations, apply nothing. */
  readonly dryRun?: boolean;
  /** `--no-prune` gives false: keep objects removed from git. Default true. */
  readonly prune?: boolean;
  /** `--allow-empty`: let a commit without manifests delete every object. */
  readonly allowEmpty?: boolean;
  /** Repository name in tracking annotations (default from the folder; must match `serve`'s). */
  readonly repoName?: string;
}

/** A connection to the cluster a command works on. */
export interface ClusterConnection {
  readonly client: Client;
  /** Releases it (for the in-process cluster: stops the API server and closes the store). */
  close(): Promise<void>;
}

/** Where a command writes and how it reaches the cluster (injectable for tests and for `serve`). */
export interface CommandIO {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Connects to the cluster of a state directory (default: `connectInProcess`). */
  readonly connect?: (state: string) => Promise<ClusterConnection>;
  /** Clock for the reconciler (default real time). */
  readonly clock?: Clock;
}

/** Exit code of success (DESIGN.md exit codes). */
export const EXIT_OK = 0;
/** Exit code of a difference (`diff`) or a refused or failed sync (`sync`). */
export const EXIT_DIFFERENT = 1;
/** Exit code of a usage or input error (bad option, no repository, state directory in use). */
export const EXIT_USAGE = 2;

/** A usage or input error the command reports with exit code 2. */
export class UsageError extends Error {}

/** Checks the options shared by every command; throws `UsageError` naming the option and the fix. */
export function checkOptions(opts: CommandOptions): "table" | "json" {
  if (typeof opts.repo !== "string" || opts.repo === "") throw new UsageError("--repo is required: the folder of the learner's git repository");
  return checkStateOptions(opts);
}

/** Checks `--state` and `-o`, for commands that read the state directory only (`history`); returns the output format. */
export function checkStateOptions(opts: Pick<CommandOptions, "state" | "output">): "table" | "json" {
  if (typeof opts.state !== "string" || opts.state === "") throw new UsageError("--state is required: the state directory (default .kubelings beside the repository)");
  const output = opts.output ?? "table";
  if (output !== "table" && output !== "json") throw new UsageError(`unknown output format "${output}": use -o table or -o json`);
  return output;
}

/**
 * The in-process cluster on a state directory: `SqliteStore` at `<state>/store` and an API
 * server on the real clock. A store held by another process (a running `kubelings serve`) is a
 * `UsageError` with the store's own message (who holds it and what to do).
 */
export async function connectInProcess(state: string): Promise<ClusterConnection> {
  let store;
  try {
    store = openSqliteStore(path.join(state, "store"));
  } catch (err) {
    if (err instanceof StoreError) throw new UsageError(err.message);
    throw err;
  }
  const api = new ApiServer({ store, clock: new RealClock() });
  try {
    await api.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    client: api,
    close: async () => {
      api.stop();
      await store.close();
    },
  };
}

/** Opens the sync history of a state directory, sending its warnings (a torn last line) to stderr. */
export function openHistory(state: string, io: CommandIO): FileHistory {
  return FileHistory.open(state, { warn: (m) => io.stderr.write(`warning: ${m}\n`) });
}

/** Runs a command body with a connection, closing it afterwards; maps errors to messages and exit codes. */
export async function withCluster(opts: CommandOptions, io: CommandIO, body: (conn: ClusterConnection) => Promise<number>): Promise<number> {
  let conn: ClusterConnection | undefined;
  try {
    conn = await (io.connect ?? connectInProcess)(opts.state);
    return await body(conn);
  } catch (err) {
    return reportError(err, io);
  } finally {
    await conn?.close();
  }
}

/**
 * The prologue of a command that works on the cluster (`sync`, `diff`, `status`): checks the
 * options (a bad one is exit code 2), then runs `body` with a connection and the output format,
 * as `withCluster` does.
 */
export async function runClusterCommand(
  opts: CommandOptions,
  io: CommandIO,
  body: (conn: ClusterConnection, output: "table" | "json") => Promise<number>,
): Promise<number> {
  let output: "table" | "json";
  try {
    output = checkOptions(opts);
  } catch (err) {
    return reportError(err, io);
  }
  return withCluster(opts, io, (conn) => body(conn, output));
}

/**
 * The reconciler of a one-shot command (`sync`, `diff`): the command's repository, branch,
 * repository name, prune and allow-empty options, the state directory's history, on the IO's
 * clock (real time by default).
 */
export function commandReconciler(opts: CommandOptions, io: CommandIO, client: Client): Reconciler {
  return new Reconciler({
    client,
    clock: io.clock ?? new RealClock(),
    repoDir: opts.repo,
    branch: opts.branch,
    repoName: opts.repoName,
    prune: opts.prune ?? true,
    allowEmpty: opts.allowEmpty ?? false,
    history: openHistory(opts.state, io),
  });
}

/** Writes an error and returns its exit code (2: every error reaching here is about the input or the environment). */
export function reportError(err: unknown, io: CommandIO): number {
  io.stderr.write(`kubelings: ${err instanceof Error ? err.message : String(err)}\n`);
  return EXIT_USAGE;
}

/** The first 7 characters of a commit id. */
export function shortOid(oid: string | null | undefined): string {
  return oid ? oid.slice(0, 7) : "-------";
}

/** Writes rows as aligned columns (the last column is not padded), like kubectl's tables. */
export function writeTable(out: { write(text: string): unknown }, rows: string[][]): void {
  if (rows.length === 0) return;
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  for (const r of rows) out.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join("").trimEnd() + "\n");
}

/** Writes errors, one `file:line:col field: message` per line. */
export function writeErrors(out: { write(text: string): unknown }, errors: readonly SyncError[], indent = "  "): void {
  for (const e of errors) out.write(`${indent}${e.text}\n`);
}

/** Writes the warnings and hints of a sync or a status report, one `warning: ` or `hint: ` line each. */
export function writeNotes(out: { write(text: string): unknown }, notes: { readonly warnings: readonly string[]; readonly hints: readonly string[] }): void {
  for (const w of notes.warnings) out.write(`warning: ${w}\n`);
  for (const h of notes.hints) out.write(`hint: ${h}\n`);
}

/** JSON output: indented, one trailing newline. */
export function writeJson(out: { write(text: string): unknown }, value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + "\n");
}

/** JSON pointer of the reconciler's last-applied record annotation. */
const LAST_APPLIED_POINTER = toPointer(["metadata", "annotations", LAST_APPLIED_ANNOTATION]);

/** The operations of a sync, readable: one line per object, then its patch lines indented. */
export function writeOperations(
  out: { write(text: string): unknown },
  operations: readonly ObjectOperations[],
  live: ReadonlyMap<string, KubeObject> = new Map(),
): void {
  for (const o of operations) {
    const what = `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`;
    const where = o.source ? ` (${o.source.file}:${o.source.line}:${o.source.column})` : "";
    if (o.action === "create") out.write(`+ ${what}: created${where}\n`);
    else if (o.action === "delete") out.write(`- ${what}: deleted, no longer in git\n`);
    else {
      out.write(`~ ${what}: patched${o.cause === "drift" ? " (undoing a change made outside git)" : ""}${where}\n`);
      // The last-applied record is bookkeeping (a copy of the manifest): one short line, not its value.
      const shown = o.ops.filter((op) => op.path !== LAST_APPLIED_POINTER);
      for (const line of formatOps(shown, live.get(operationKey(o)))) out.write(`    ${line}\n`);
      if (shown.every((op) => op.op === "test")) out.write(`    ~ the record of what git applied (annotation ${LAST_APPLIED_ANNOTATION}) is updated\n`);
    }
  }
}

/** The key `writeOperations` looks a live object up by. */
export function operationKey(o: { apiVersion: string; kind: string; namespace?: string; name: string }): string {
  return `${o.apiVersion}|${o.kind}|${o.namespace ?? ""}|${o.name}`;
}

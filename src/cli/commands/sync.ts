/**
 * `kubelings sync [--repo DIR] [--state DIR] [--dry-run] [--no-prune] [--allow-empty] [-o json]`:
 * one sync of the repository's head commit, then exit. Exit code 0 when the cluster is synced
 * (or already was), 1 when the commit was refused or the sync failed, 2 for a usage or input
 * error (no repository, unknown option value, the state directory held by another process).
 */
import type { SyncResult } from "../../gitops/reconciler.js";
import {
  EXIT_DIFFERENT,
  EXIT_OK,
  EXIT_USAGE,
  commandReconciler,
  runClusterCommand,
  shortOid,
  writeErrors,
  writeJson,
  writeNotes,
  writeOperations,
  type CommandIO,
  type CommandOptions,
} from "./_common.js";

/** The exit code of a sync result: 0 synced, 1 refused or failed, 2 when the repository could not be read. */
export function syncExitCode(result: SyncResult): number {
  if (result.result === "Synced" || result.result === "NoChange") return EXIT_OK;
  if (result.result === "Failed" && !result.commit) return EXIT_USAGE;
  return EXIT_DIFFERENT;
}

/** Prints a sync result in table (readable) form. */
export function printSyncResult(result: SyncResult, out: { write(text: string): unknown }): void {
  const c = result.commit;
  const commit = c ? `${shortOid(c.oid)} "${c.subject}"${c.reverts ? ` (rollback: reverts ${shortOid(c.reverts)})` : ""}` : "";
  const prefix = result.dryRun ? "dry run: " : "";
  switch (result.result) {
    case "Synced":
      out.write(`${prefix}${result.dryRun ? "would sync" : "synced"} ${commit}: ${result.operations.length} object${result.operations.length === 1 ? "" : "s"} ${result.dryRun ? "to change" : "changed"}\n`);
      writeOperations(out, result.operations);
      break;
    case "NoChange":
      out.write(`${prefix}${commit}: the cluster already matches it, nothing to apply\n`);
      break;
    case "Refused":
      out.write(`${prefix}refused ${commit}: nothing was applied, the cluster stays on the last good commit. Fix these and commit again:\n`);
      writeErrors(out, result.errors);
      break;
    case "Failed":
      out.write(c ? `${prefix}sync of ${commit} failed:\n` : `${prefix}cannot sync:\n`);
      writeErrors(out, result.errors);
      if (result.operations.length > 0) {
        out.write("applied before the failure:\n");
        writeOperations(out, result.operations);
      }
      break;
  }
  writeNotes(out, result);
}

/** `kubelings sync`: one sync, printed; returns the exit code. */
export async function runSync(opts: CommandOptions, io: CommandIO): Promise<number> {
  return runClusterCommand(opts, io, async ({ client }, output) => {
    const result = await commandReconciler(opts, io, client).sync({ dryRun: opts.dryRun ?? false, trigger: "manual" });
    if (output === "json") writeJson(io.stdout, result);
    else printSyncResult(result, result.result === "Synced" || result.result === "NoChange" ? io.stdout : io.stderr);
    return syncExitCode(result);
  });
}

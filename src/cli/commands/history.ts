/**
 * `kubelings history [--state DIR] [-o json]`: every recorded sync attempt, oldest first: when,
 * what started it, the commit and its subject, the result, how many objects it changed, and a
 * `git revert` shown as the rollback of the commit it reverts. Reads the history file only, so
 * it works beside a running `kubelings serve`. Exit code 0 (2 for a usage error).
 */
import { repoId } from "../../gitops/tracking.js";
import type { HistoryEntry } from "../../gitops/history.js";
import { FileHistory } from "../../gitops/history.js";
import { EXIT_OK, checkStateOptions, reportError, shortOid, writeErrors, writeJson, writeTable, type CommandIO, type CommandOptions } from "./_common.js";

/** The subject as listed: a revert reads as the rollback it is. */
function subjectOf(e: HistoryEntry): string {
  return e.reverts ? `${e.subject} (rollback of ${shortOid(e.reverts)})` : e.subject;
}

/** Prints history entries as a table, with the errors of refused and failed attempts below each. */
export function printHistory(entries: readonly HistoryEntry[], out: { write(text: string): unknown }): void {
  if (entries.length === 0) {
    out.write("no syncs recorded yet\n");
    return;
  }
  const rows = [["ID", "TIME", "TRIGGER", "COMMIT", "RESULT", "OBJECTS", "SUBJECT"]];
  for (const e of entries) rows.push([String(e.id), e.time, e.trigger, shortOid(e.commit), e.result, String(e.operations.length), subjectOf(e)]);
  writeTable(out, rows);
  const failed = entries.filter((e) => e.errors.length > 0);
  for (const e of failed.slice(-5)) {
    out.write(`\n#${e.id} ${e.result} ${shortOid(e.commit)}:\n`);
    writeErrors(out, e.errors);
  }
}

/** `kubelings history`: prints the recorded sync attempts; returns the exit code. */
export async function runHistory(opts: Partial<CommandOptions> & { state: string }, io: CommandIO): Promise<number> {
  try {
    const output = checkStateOptions(opts);
    const all = FileHistory.read(opts.state, { warn: (m) => io.stderr.write(`warning: ${m}\n`) });
    // A state directory may have served several repositories: show the one asked for.
    const repo = opts.repo ? repoId(opts.repo, opts.repoName) : undefined;
    const entries = repo ? all.filter((e) => e.repo === undefined || e.repo === repo) : all;
    if (output === "json") writeJson(io.stdout, entries);
    else printHistory(entries, io.stdout);
    return EXIT_OK;
  } catch (err) {
    return reportError(err, io);
  }
}

/**
 * `kubelings status [--repo DIR] [--state DIR] [-o json]`: the head commit, the last synced
 * commit, overall sync and health, every managed object with kind, namespace, name, sync and
 * health, and the errors of a refused commit with file, line and column. Exit code 0 (2 for a
 * usage or input error).
 */
import { computeStatus, type RepoStatus } from "../../gitops/status.js";
import { EXIT_OK, openHistory, runClusterCommand, shortOid, writeErrors, writeJson, writeNotes, writeTable, type CommandIO, type CommandOptions } from "./_common.js";

/** Prints a status report in table (readable) form. */
export function printStatus(status: RepoStatus, out: { write(text: string): unknown }): void {
  const head = status.head;
  const rows: string[][] = [
    ["Repository:", `${status.repo.dir}${status.repo.branch ? ` (branch ${status.repo.branch})` : ""}`],
    ["Head:", head ? `${shortOid(head.oid)} ${head.subject}${head.author ? ` (${head.author.name}, ${head.author.time})` : ""}` : `unreadable: ${status.headError ?? ""}`],
    [
      "Last synced:",
      status.lastSynced ? `${shortOid(status.lastSynced.oid)} ${status.lastSynced.subject} (at ${status.lastSynced.time})` : "never",
    ],
    ["Sync:", status.sync],
    ["Health:", `${status.health}${status.healthMessage ? ` (${status.healthMessage})` : ""}`],
  ];
  writeTable(out, rows);
  if (status.objects.length > 0) {
    out.write("\n");
    const table = [["KIND", "NAMESPACE", "NAME", "SYNC", "HEALTH", "MESSAGE"]];
    for (const o of status.objects) {
      const message = o.message || o.healthMessage;
      table.push([o.kind, o.namespace ?? "", o.name, o.sync, o.health, message]);
    }
    writeTable(out, table);
  }
  if (status.errors.length > 0) {
    out.write(`\nErrors of commit ${shortOid(status.errorsCommit)} (refused: the cluster stays on the last good commit):\n`);
    writeErrors(out, status.errors);
  }
  writeNotes(out, status);
}

/** `kubelings status`: prints the report; returns the exit code. */
export async function runStatus(opts: CommandOptions, io: CommandIO): Promise<number> {
  return runClusterCommand(opts, io, async ({ client }, output) => {
    const status = await computeStatus({ client, repoDir: opts.repo, branch: opts.branch, repoName: opts.repoName, history: openHistory(opts.state, io) });
    if (output === "json") writeJson(io.stdout, status);
    else printStatus(status, io.stdout);
    return EXIT_OK;
  });
}

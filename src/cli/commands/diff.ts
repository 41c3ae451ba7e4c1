/**
 * `kubelings diff [--repo DIR] [--state DIR] [--no-prune] [--allow-empty] [-o json]`: the
 * operations a sync would apply, per object (creations, RFC 6902 JSON Patches with the value
 * each field has now, deletions), validated by the API server's dry-run. Exit code 0 when there
 * is nothing to apply, 1 when there is, 2 on error (a refused commit, no repository, ...), like
 * `argocd app diff`.
 */
import { printable } from "../../gitops/_live.js";
import type { KubeObject } from "../../api/types.js";
import {
  EXIT_DIFFERENT,
  EXIT_OK,
  EXIT_USAGE,
  commandReconciler,
  operationKey,
  runClusterCommand,
  shortOid,
  writeErrors,
  writeJson,
  writeNotes,
  writeOperations,
  type CommandIO,
  type CommandOptions,
} from "./_common.js";

/** `kubelings diff`: what a sync would change; returns the exit code. */
export async function runDiff(opts: CommandOptions, io: CommandIO): Promise<number> {
  return runClusterCommand(opts, io, async ({ client }, output) => {
    const result = await commandReconciler(opts, io, client).sync({ dryRun: true, trigger: "manual" });
    const failed = result.result === "Refused" || result.result === "Failed";
    const code = failed ? EXIT_USAGE : result.operations.length > 0 ? EXIT_DIFFERENT : EXIT_OK;
    if (output === "json") {
      writeJson(io.stdout, {
        commit: result.commit ?? null,
        result: failed ? result.result : result.operations.length > 0 ? "OutOfSync" : "Synced",
        operations: result.operations,
        errors: result.errors,
        warnings: result.warnings,
        hints: result.hints,
      });
      return code;
    }
    const c = result.commit;
    const commit = c ? `${shortOid(c.oid)} "${c.subject}"` : "";
    if (failed) {
      io.stderr.write(c ? `${commit} cannot be synced: nothing would be applied. Fix these and commit again:\n` : "cannot read the repository:\n");
      writeErrors(io.stderr, result.errors);
    } else if (result.operations.length === 0) {
      io.stdout.write(`${commit}: the cluster matches it, nothing to apply\n`);
    } else {
      // Read the objects as they are now, so each change shows the value it replaces.
      const live = new Map<string, KubeObject>();
      for (const o of result.operations) {
        if (o.action !== "patch") continue;
        try {
          live.set(operationKey(o), printable(await client.get({ apiVersion: o.apiVersion, kind: o.kind, namespace: o.namespace, name: o.name })));
        } catch {
          // Gone since the dry-run: the lines show the new values only.
        }
      }
      io.stdout.write(`a sync of ${commit} would change ${result.operations.length} object${result.operations.length === 1 ? "" : "s"}:\n`);
      writeOperations(io.stdout, result.operations, live);
    }
    writeNotes(failed ? io.stderr : io.stdout, result);
    return code;
  });
}

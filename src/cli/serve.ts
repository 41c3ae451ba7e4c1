/**
 * `kubelings serve`: runs the simulated cluster and the GitOps reconciler in the foreground on
 * the real clock (optionally sped up), logging one line per sync and per notable event, until
 * SIGINT or SIGTERM, when it stops cleanly (state flushed, exit 0). Other commands on the same
 * state directory (`sync`, `diff`, `status`) run inside it through its control socket, so it
 * stays the only writer.
 */
import fs from "node:fs";
import path from "node:path";
import { RealClock } from "../api/clock.js";
import { StoreError, openSqliteStore } from "../api/store/index.js";
import type { KubeObject } from "../api/types.js";
import { Cluster } from "../cluster/cluster.js";
import { FileHistory } from "../gitops/history.js";
import { Reconciler } from "../gitops/reconciler.js";
import { Watcher } from "../gitops/watcher.js";
import { initRepository } from "../gitops/init-repo.js";
import { runDiff } from "./commands/diff.js";
import { runStatus } from "./commands/status.js";
import { printSyncResult, syncExitCode } from "./commands/sync.js";
import { writeJson } from "./commands/_common.js";
import { CapturedIo, startControlServer, type CommandOutput } from "./control.js";
import { TEMPLATE_DIR } from "./init.js";
import { parseCapacity } from "./_flags.js";

/** Options of `kubelings serve`. */
export interface ServeOptions {
  readonly repo: string;
  readonly state?: string;
  readonly speed: number;
  readonly nodes: number;
  readonly prune: boolean;
  readonly selfHeal: boolean;
  /** Periodic resync (Go duration in ms). */
  readonly resyncMs: number;
  readonly branch?: string;
  /** `--node-capacity cpu=8,memory=16Gi,pods=110`. */
  readonly nodeCapacity?: string;
  /** `--bin-packing`: MostAllocated scoring. */
  readonly binPacking?: boolean;
}

/**
 * Components that log their own decisions with the reason behind them: their Events would only
 * repeat those lines. Events from the others (kubelets, taint eviction) are logged.
 */
const SELF_LOGGING_SOURCES = new Set([
  "deployment-controller",
  "replicaset-controller",
  "replication-controller",
  "default-scheduler",
  "endpoint-controller",
  "endpoint-slice-controller",
  "garbage-collector-controller",
  "namespace-controller",
]);

/** Routine kubelet events left out of the log (every pod start has them); `kubelings events` shows them all. */
const ROUTINE_REASONS = new Set([
  "Pulling",
  "Pulled",
  "Created",
  "Starting",
  "NodeHasSufficientMemory",
  "NodeHasNoDiskPressure",
  "NodeHasSufficientPID",
  "NodeAllocatableEnforced",
  "RegisteredNode",
]);

/** The default state directory: `.kubelings/` beside the repository, never inside it (DESIGN.md). */
export function defaultStateDir(repo: string): string {
  return path.join(path.dirname(path.resolve(repo)), ".kubelings");
}

function timestamp(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** Runs the server until a signal; returns the exit code. */
export async function runServe(opts: ServeOptions, out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  if (!(opts.speed > 0) || opts.speed > 1000) {
    err.write(`kubelings serve: --speed must be a number above 0 and at most 1000, got ${opts.speed}\n`);
    return 2;
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 500) {
    err.write(`kubelings serve: --nodes must be a whole number from 1 to 500, got ${opts.nodes}\n`);
    return 2;
  }
  let capacity;
  try {
    capacity = parseCapacity(opts.nodeCapacity);
  } catch (e) {
    err.write(`kubelings serve: ${(e as Error).message}\n`);
    return 2;
  }
  const clock = new RealClock(opts.speed);
  const log = (component: string, message: string) => out.write(`${timestamp(clock.now())} ${component}: ${message}\n`);
  const repo = path.resolve(opts.repo);
  if (!fs.existsSync(repo)) {
    await initRepository(repo, { template: TEMPLATE_DIR, clock });
    log("kubelings", `created the repository ${repo} from the template (edit it, then git commit)`);
  }
  const state = path.resolve(opts.state ?? defaultStateDir(repo));
  let store;
  try {
    store = openSqliteStore(path.join(state, "store"));
  } catch (e) {
    if (e instanceof StoreError) {
      err.write(`kubelings serve: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  let cluster: Cluster;
  try {
    cluster = new Cluster({ store, clock, workers: opts.nodes, capacity, log, scoringStrategy: opts.binPacking ? "MostAllocated" : "LeastAllocated" });
  } catch (e) {
    await store.close();
    err.write(`kubelings serve: ${(e as Error).message}\n`);
    return 2;
  }
  const history = FileHistory.open(state, { warn: (m) => log("history", m) });
  const reconciler = new Reconciler({ client: cluster.api, clock, repoDir: repo, branch: opts.branch, history, prune: opts.prune, selfHeal: opts.selfHeal, log });
  const watcher = new Watcher({
    reconciler,
    resyncIntervalMs: opts.resyncMs,
    log,
    // The reconciler logs each sync itself; hints about uncommitted files are added here.
    onSync: (r) => {
      for (const h of r.hints ?? []) log("gitops", `hint: ${h}`);
    },
  });

  const handler = async (command: string, options: Record<string, unknown>): Promise<CommandOutput> => {
    const io = new CapturedIo();
    const connect = async () => ({ client: cluster.api, close: async () => undefined });
    const common = { repo, state, output: typeof options.output === "string" ? options.output : "table", branch: opts.branch };
    switch (command) {
      case "sync": {
        const result = await reconciler.sync({
          dryRun: options.dryRun === true,
          trigger: "manual",
          prune: typeof options.prune === "boolean" ? options.prune : undefined,
          allowEmpty: options.allowEmpty === true,
        });
        if (common.output === "json") writeJson(io.stdout, result);
        else printSyncResult(result, result.result === "Synced" || result.result === "NoChange" ? io.stdout : io.stderr);
        return io.result(syncExitCode(result));
      }
      case "diff":
        return io.result(await runDiff({ ...common }, { stdout: io.stdout, stderr: io.stderr, connect, clock }));
      case "status":
        return io.result(await runStatus({ ...common }, { stdout: io.stdout, stderr: io.stderr, connect, clock }));
      case "chaos":
        return (await import("./chaos.js")).runChaos(cluster, options);
      default:
        return { code: 2, stdout: "", stderr: `kubelings serve: unknown command "${command}"\n` };
    }
  };

  let control: { close(): Promise<void> } | undefined;
  let eventsWatch: { stop(): void } | undefined;
  const stopped = new Promise<string>((resolve) => {
    process.once("SIGINT", () => resolve("SIGINT"));
    process.once("SIGTERM", () => resolve("SIGTERM"));
  });
  try {
    await cluster.start();
    eventsWatch = cluster.api.watch({ apiVersion: "v1", kind: "Event" }, { resourceVersion: String(cluster.api.revision) }, (e) => {
      const ev = e.object as KubeObject;
      if (e.type !== "ADDED" || SELF_LOGGING_SOURCES.has(ev.source?.component) || ROUTINE_REASONS.has(ev.reason)) return;
      const obj = ev.involvedObject ?? {};
      log(ev.source?.component ?? "events", `${ev.type === "Warning" ? "Warning " : ""}${ev.reason} ${obj.kind}/${obj.namespace ? `${obj.namespace}/` : ""}${obj.name}: ${ev.message}`);
    });
    control = await startControlServer(state, handler);
    // Nodes come up NotReady (tainted not-ready) until their kubelet reports; syncing before that
    // would only produce FailedScheduling noise on every start.
    await cluster.waitForNodesReady(30_000);
    log("kubelings", `cluster of ${opts.nodes} worker node${opts.nodes === 1 ? "" : "s"} running at ${opts.speed}x speed; state in ${state}`);
    await watcher.start();
    log("kubelings", `watching ${repo}: commit to change the cluster; press Ctrl-C to stop`);
    const signal = await stopped;
    log("kubelings", `${signal} received: stopping`);
    return 0;
  } finally {
    eventsWatch?.stop();
    await watcher.stop();
    await control?.close();
    cluster.stop();
    await store.close();
  }
}

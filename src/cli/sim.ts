/**
 * `kubelings sim`: runs a repository on the virtual clock and prints the resulting cluster.
 *
 * The manifests at the branch head are synced by the reconciler into a fresh simulated cluster
 * (memory store, seeded random source, virtual clock starting 2024-01-01T00:00:00Z), the
 * cluster runs for `--for` of virtual time, and every object is printed as a `v1 List`. With
 * `--replay`, each commit of the branch from the first to the head is synced in order with
 * `--step` of virtual time after each, so a rollout followed by `git revert` replays exactly.
 * Same input, same output, every time.
 */
import fs from "node:fs";
import git from "isomorphic-git";
import { stringify } from "yaml";
import { VirtualClock, parseDuration, MINUTE } from "../api/clock.js";
import { MemoryStore } from "../api/store/memory-store.js";
import type { KubeObject } from "../api/types.js";
import { Cluster } from "../cluster/cluster.js";
import { seededRandom } from "../cluster/scheduler/random.js";
import { MemoryHistory } from "../gitops/history.js";
import { Reconciler } from "../gitops/reconciler.js";
import { SourceError, headOid } from "../gitops/source.js";
import { healthOf } from "../gitops/health.js";
import { parseCapacity } from "./_flags.js";

/** Options of `kubelings sim`. */
export interface SimOptions {
  readonly repo: string;
  readonly branch?: string;
  /** Worker nodes (a control-plane node is added). */
  readonly nodes: number;
  /** Virtual time to run after the sync (Go duration). */
  readonly for: string;
  readonly replay: boolean;
  /** Virtual time after each commit with --replay. */
  readonly step: string;
  readonly output: string;
  /** Seed of the random source (uids, names, addresses, scheduling ties). */
  readonly seed?: number;
  /** `--node-capacity cpu=8,memory=16Gi,pods=110`. */
  readonly nodeCapacity?: string;
  /** `--bin-packing`: the scheduler scores MostAllocated (packs pods) instead of LeastAllocated. */
  readonly binPacking?: boolean;
}

/** Where sim writes. */
export interface SimIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

class UsageError extends Error {}

function checkOptions(opts: SimOptions): { forMs: number; stepMs: number } {
  if (!["json", "yaml", "table"].includes(opts.output)) throw new UsageError(`unknown output format "${opts.output}": use -o json, -o yaml or -o table`);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 5000) throw new UsageError(`--nodes must be a whole number from 1 to 5000, got ${opts.nodes}`);
  const parse = (flag: string, text: string) => {
    try {
      const ms = parseDuration(text);
      if (ms > 7 * 24 * 60 * MINUTE) throw new Error(`${flag} ${text} is longer than a week of virtual time`);
      return ms;
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`);
    }
  };
  return { forMs: parse("--for", opts.for), stepMs: parse("--step", opts.step) };
}

/** Commits of the branch, oldest first, following first parents (as `git log --first-parent --reverse`). */
async function commitsOf(repo: string, branch?: string): Promise<string[]> {
  const head = await headOid(repo, branch);
  const chain: string[] = [];
  let oid: string | undefined = head;
  while (oid) {
    chain.push(oid);
    const { commit } = await git.readCommit({ fs, dir: repo, oid });
    oid = commit.parent[0];
  }
  return chain.reverse();
}

/** Runs `sim`; returns the exit code (0 ok, 1 a commit was refused or failed to sync, 2 usage or input error). */
export async function runSim(opts: SimOptions, io: SimIo): Promise<number> {
  let forMs: number;
  let stepMs: number;
  let capacity;
  try {
    ({ forMs, stepMs } = checkOptions(opts));
    capacity = parseCapacity(opts.nodeCapacity);
  } catch (err) {
    io.stderr.write(`kubelings sim: ${(err as Error).message}\n`);
    return 2;
  }
  const clock = new VirtualClock();
  const store = new MemoryStore();
  let cluster: Cluster;
  try {
    cluster = new Cluster({ store, clock, workers: opts.nodes, capacity, random: seededRandom(opts.seed ?? 1), scoringStrategy: opts.binPacking ? "MostAllocated" : "LeastAllocated" });
  } catch (err) {
    io.stderr.write(`kubelings sim: ${(err as Error).message}\n`);
    return 2;
  }
  const reconciler = new Reconciler({ client: cluster.api, clock, repoDir: opts.repo, branch: opts.branch, history: new MemoryHistory(1000), hints: false });
  let failed = false;
  try {
    await cluster.start();
    const commits = opts.replay ? await commitsOf(opts.repo, opts.branch) : [undefined];
    for (const commit of commits) {
      const result = await reconciler.sync({ commit, trigger: "manual" });
      const label = result.commit ? `${result.commit.oid.slice(0, 7)} ${result.commit.subject ?? ""}`.trim() : "(no commit)";
      if (result.result === "Refused" || result.result === "Failed") {
        failed = true;
        io.stderr.write(`kubelings sim: ${label}: ${result.result.toLowerCase()}\n`);
        for (const e of result.errors) io.stderr.write(`  ${e.text}\n`);
      }
      await clock.runFor(opts.replay ? stepMs : forMs);
    }
    const list = await cluster.snapshot();
    io.stdout.write(render(list.items, list, opts.output));
    return failed ? 1 : 0;
  } catch (err) {
    if (err instanceof SourceError) {
      io.stderr.write(`kubelings sim: ${err.message}\n`);
      return 2;
    }
    throw err;
  } finally {
    cluster.stop();
    await store.close();
  }
}

function render(items: readonly KubeObject[], list: unknown, output: string): string {
  if (output === "json") return JSON.stringify(list, null, 2) + "\n";
  if (output === "yaml") return stringify(list);
  const rows = [["KIND", "NAMESPACE", "NAME", "STATUS"]];
  for (const o of items) {
    if (o.kind === "Event" || o.kind === "Lease" || o.kind === "EndpointSlice") continue;
    rows.push([o.kind, o.metadata.namespace ?? "", o.metadata.name ?? "", summary(o)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3))).join("").trimEnd()).join("\n") + "\n";
}

/** A one-word state, like the STATUS column of `kubectl get`. */
function summary(o: KubeObject): string {
  if (o.kind === "Pod") {
    const waiting = (o.status?.containerStatuses ?? []).map((c: any) => c.state?.waiting?.reason ?? c.state?.terminated?.reason).find(Boolean);
    if (o.metadata.deletionTimestamp) return "Terminating";
    return waiting ?? o.status?.phase ?? "";
  }
  if (o.kind === "Node") return (o.status?.conditions ?? []).find((c: any) => c.type === "Ready")?.status === "True" ? "Ready" : "NotReady";
  if (o.kind === "Namespace") return o.status?.phase ?? "";
  const health = healthOf(o);
  return health.message ? `${health.status}: ${health.message}` : health.status;
}

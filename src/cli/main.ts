/**
 * The `kubelings` command line: wiring only. Each command's module is imported when the command
 * runs, so `kubelings --help` loads nothing but the parser and starts fast.
 */
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";

/** The package version, read from the nearest package.json (works from src/ under tsx and from dist/). */
function version(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8"));
      if (pkg.name === "kubelings") return String(pkg.version);
    } catch {
      /* try the next candidate */
    }
  }
  return "unknown";
}

/** Builds the command tree. `run` receives the exit code of a command. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name("kubelings")
    .description("Learn Kubernetes by GitOps: commit YAML to a local git repository and watch a simulated cluster converge.")
    .version(version(), "-v, --version")
    .showHelpAfterError("(run kubelings --help for the list of commands)")
    .exitOverride();

  program
    .command("init")
    .argument("[dir]", "folder to create", "my-cluster")
    .description("create a learner repository from the kubelings template (git init + first commit)")
    .action(async (dir: string) => {
      const { runInit } = await import("./init.js");
      process.exitCode = await runInit(dir, process.stdout, process.stderr);
    });

  program
    .command("api-resources")
    .description("list the kinds the simulated API server serves (like kubectl api-resources)")
    .option("-o, --output <format>", "output format: table or json", "table")
    .action(async (opts: { output: string }) => {
      const { apiResources } = await import("./api-resources.js");
      process.exitCode = apiResources(opts.output, process.stdout);
    });

  const DEFAULT_REPO = "my-cluster";
  const stateOf = async (o: { repo: string; state?: string }) => o.state ?? (await import("./serve.js")).defaultStateDir(o.repo);
  const outputOpt = ["-o, --output <format>", "output format: table or json", "table"] as const;

  /** sync/diff/status: through a running `kubelings serve` on the state when there is one, else in-process. */
  const gitopsCommand = (name: "sync" | "diff" | "status", describe: string, extra: (c: Command) => Command) =>
    extra(
      program
        .command(name)
        .description(describe)
        .option("--repo <dir>", "the learner's git repository", DEFAULT_REPO)
        .option("--state <dir>", "state directory (default: .kubelings beside the repository)")
        .option("--branch <name>", "branch to track (default: the branch HEAD points at)")
        .option(...outputOpt),
    ).action(async (o: Record<string, any>) => {
      const state = await stateOf(o as { repo: string; state?: string });
      const options = { repo: o.repo, state, output: o.output, branch: o.branch, dryRun: o.dryRun, prune: o.prune, allowEmpty: o.allowEmpty };
      const { callControl } = await import("./control.js");
      const remote = await callControl(state, name, options);
      if (remote) {
        process.stdout.write(remote.stdout);
        process.stderr.write(remote.stderr);
        process.exitCode = remote.code;
        return;
      }
      const io = { stdout: process.stdout, stderr: process.stderr };
      if (name === "sync") process.exitCode = await (await import("./commands/sync.js")).runSync(options, io);
      else if (name === "diff") process.exitCode = await (await import("./commands/diff.js")).runDiff(options, io);
      else process.exitCode = await (await import("./commands/status.js")).runStatus(options, io);
    });

  gitopsCommand("sync", "sync the cluster to the branch head once, then exit (0 synced, 1 refused or failed, 2 usage error)", (c) =>
    c
      .option("--dry-run", "validate and show the operations, apply nothing")
      .option("--no-prune", "keep objects that were removed from git")
      .option("--allow-empty", "allow a commit without manifests to delete every object"),
  );
  gitopsCommand("diff", "show the JSON patches a sync would apply (exit 0 none, 1 some, 2 error)", (c) => c);
  gitopsCommand("status", "head commit, last synced commit, sync and health of every managed object", (c) => c);

  program
    .command("history")
    .description("every sync attempt: commit, author, time, operations, result")
    .option("--repo <dir>", "the learner's git repository", DEFAULT_REPO)
    .option("--state <dir>", "state directory (default: .kubelings beside the repository)")
    .option(...outputOpt)
    .action(async (o: { repo: string; state?: string; output: string }) => {
      const { runHistory } = await import("./commands/history.js");
      process.exitCode = await runHistory({ repo: o.repo, state: await stateOf(o), output: o.output }, { stdout: process.stdout, stderr: process.stderr });
    });

  /** The cluster shape options `serve` and `sim` share. */
  const clusterShape = (c: Command) =>
    c
      .option("--nodes <count>", "worker nodes (a control-plane node is added)", "3")
      .option("--node-capacity <list>", "capacity of every node, e.g. cpu=8,memory=16Gi,pods=110 (default cpu=4,memory=8Gi,pods=110)")
      .option("--bin-packing", "schedule with MostAllocated scoring (pack pods onto few nodes) instead of LeastAllocated");

  clusterShape(program
    .command("serve")
    .description("run the simulated cluster and the GitOps reconciler in the foreground (Ctrl-C stops)")
    .option("--repo <dir>", "the learner's git repository (created from the template if missing)", DEFAULT_REPO)
    .option("--state <dir>", "state directory (default: .kubelings beside the repository)")
    .option("--speed <factor>", "run the clock this many times faster than real time", "1")
    .option("--branch <name>", "branch to track (default: the branch HEAD points at)")
    .option("--resync <duration>", "periodic resync that also catches drift", "60s")
    .option("--no-prune", "keep objects that were removed from git")
    .option("--no-self-heal", "report changes made behind git's back, but do not revert them"))
    .action(async (o: Record<string, any>) => {
      const [{ runServe }, { parseDuration }] = await Promise.all([import("./serve.js"), import("../api/clock.js")]);
      let resyncMs: number;
      try {
        resyncMs = parseDuration(o.resync);
      } catch (e) {
        process.stderr.write(`kubelings serve: --resync: ${(e as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = await runServe(
        {
          repo: o.repo,
          state: o.state,
          speed: Number(o.speed),
          nodes: Number(o.nodes),
          prune: o.prune,
          selfHeal: o.selfHeal,
          resyncMs,
          branch: o.branch,
          nodeCapacity: o.nodeCapacity,
          binPacking: o.binPacking === true,
        },
        process.stdout,
        process.stderr,
      );
    });

  const chaos = program
    .command("chaos")
    .description("inject a fault into the cluster of a running `kubelings serve`: delete a pod, crash a container, stop, restart or partition a node");
  const chaosFault = (action: import("./chaos.js").ChaosAction, arg: "pod" | "node", describe: string, extra: (c: Command) => Command = (c) => c) =>
    extra(
      chaos
        .command(action)
        .argument(`<${arg}>`, `name of the ${arg}`)
        .description(describe)
        .option("--repo <dir>", "the learner's git repository", DEFAULT_REPO)
        .option("--state <dir>", "state directory (default: .kubelings beside the repository)")
        .option(...outputOpt),
    ).action(async (target: string, o: Record<string, any>) => {
      const { chaosCommand } = await import("./chaos.js");
      const options = { action, target, namespace: o.namespace, container: o.container, oom: o.oom === true, output: o.output };
      process.exitCode = await chaosCommand(await stateOf(o as { repo: string; state?: string }), options, { stdout: process.stdout, stderr: process.stderr });
    });
  const inNamespace = (c: Command) => c.option("-n, --namespace <ns>", "namespace of the pod", "default");
  chaosFault("delete-pod", "pod", "delete a pod as `kubectl delete pod` does; its controller, if any, replaces it", inNamespace);
  chaosFault("crash", "pod", "kill a container's process (exit 1, or 137 OOMKilled with --oom); its restartPolicy decides what follows", (c) =>
    inNamespace(c).option("-c, --container <name>", "container to crash (default: the pod's default container)").option("--oom", "kill it as the OOM killer does"),
  );
  chaosFault("stop-node", "node", "power a node off: it stops heartbeating, goes NotReady, and its pods are evicted 5 minutes later");
  chaosFault("restart-node", "node", "power a stopped node on, or reboot a running one");
  chaosFault("partition", "node", "cut a node off from the API server; its containers keep running");
  chaosFault("heal", "node", "end a partition made by `kubelings chaos partition`");

  clusterShape(program
    .command("sim")
    .description("run the repository on the virtual clock and print every object of the resulting cluster")
    .option("--repo <dir>", "the git repository", DEFAULT_REPO)
    .option("--branch <name>", "branch (default: the branch HEAD points at)")
    .option("--for <duration>", "virtual time to run after syncing the head", "5m")
    .option("--replay", "sync each commit of the branch in order, from the first to the head")
    .option("--step <duration>", "virtual time after each commit with --replay", "5m")
    .option("--seed <n>", "seed of the random source", "1")
    .option("-o, --output <format>", "output format: json, yaml or table", "json"))
    .action(async (o: Record<string, any>) => {
      const { runSim } = await import("./sim.js");
      process.exitCode = await runSim(
        { repo: o.repo, branch: o.branch, nodes: Number(o.nodes), for: o.for, replay: o.replay === true, step: o.step, output: o.output, seed: Number(o.seed), nodeCapacity: o.nodeCapacity, binPacking: o.binPacking === true },
        { stdout: process.stdout, stderr: process.stderr },
      );
    });

  return program;
}

/** Entry point: parses argv and maps usage errors to exit code 2. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  if (argv.length <= 2) {
    // Without a command: the list of commands (the workbook will take this place).
    program.outputHelp();
    process.stdout.write("\nStart here: kubelings serve   (or npm start), then commit to my-cluster/.\n");
    return;
  }
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; usage errors with 2 (DESIGN.md exit codes).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    process.stderr.write(`kubelings: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  }
}

await main(process.argv);

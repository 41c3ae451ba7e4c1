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

  return program;
}

/** Entry point: parses argv and maps usage errors to exit code 2. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
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

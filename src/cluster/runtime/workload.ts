/**
 * # The simulated workload contract
 *
 * What a simulated container *does* is decided by its image, its command/args and its
 * environment, the way the same container would behave on a real node. `planContainer` turns a
 * container spec into a `ContainerPlan`: a timeline (log lines, files created and removed), how
 * the program ends (exit code and when, or never), whether and where it listens, how much memory
 * and CPU it uses, and how it reacts to SIGTERM. The container state machine (`container.ts`)
 * plays the plan on the clock.
 *
 * ## Recognised command shapes (`WORKLOAD_SHAPES`, first match wins)
 *
 * | shape | example | behaviour |
 * |---|---|---|
 * | image-default | `image: nginx` (no command) | what the image runs: servers listen until stopped; `busybox`, `alpine`, `ubuntu`, `python`... start a shell or REPL, which exits 0 at once without a terminal (CrashLoopBackOff with `Completed` restarts, as on a real cluster); `hello-world` prints and exits 0; unknown images run a server on their declared ports |
 * | server-flags | `image: redis`, `args: ["--appendonly", "yes"]` | flags for the image's server |
 * | shell-script | `sh -c "echo hi; sleep 3600"`, `bash -c`, `/bin/sh -ec` | the script is followed: `echo` lines become log lines, `sleep`s add up, `exit N` ends it, `while true` loops repeat, the last command of a script is the application |
 * | shell | `sh`, `bash` | an interactive shell: exits 0 at once unless `stdin: true` |
 * | shell-builtin | `exit 3`, `export A=b` as a command | fails to start: a builtin is not an executable (`exec: "exit": executable file not found in $PATH`) |
 * | sleep | `sleep 3600`, `sleep infinity` | exits 0 after the time; `infinity` never exits |
 * | true-false | `true`, `false` | exits 0 / 1 at once |
 * | echo | `echo hello`, `printf` | prints and exits 0 |
 * | perl-pi | `perl -Mbignum=bpi -wle "print bpi(2000)"` | prints π to that many digits and exits 0 (the Job example) |
 * | utility | `date`, `env`, `ls`, `cat f`, `wget`, `tail -f`, `ping` | short utilities exit 0; `tail -f`, `yes`, `ping` run until stopped |
 * | server-binary | `nginx -g "daemon off;"`, `redis-server`, `postgres` | that server, whatever the image |
 * | interpreter | `node app.js`, `python app.py`, `java -jar app.jar` | a long-running application (node and python ignore SIGTERM as PID 1) |
 * | program | anything else | a long-running application listening on the container's ports |
 *
 * ## Environment variables that steer a container (`SIM_VARIABLES`)
 *
 * Durations are Go-style (`500ms`, `10s`, `2m`, `1h30m`; a bare number is seconds). A value the
 * simulator cannot read makes the container fail to start (RunContainerError), with a message
 * naming the variable and the expected form.
 *
 * | variable | default | effect |
 * |---|---|---|
 * | SIM_START_DELAY | 1s | time from container start until the program listens; HTTP, TCP and gRPC probes fail before (connection refused) |
 * | SIM_CRASH_AFTER | never | the program crashes after running this long: exit code 1, reason Error |
 * | SIM_EXIT_AFTER | never | the program exits after running this long, with SIM_EXIT_CODE |
 * | SIM_EXIT_CODE | 0 | exit code for SIM_EXIT_AFTER (0–255): 0 is Completed, anything else Error |
 * | SIM_MEMORY | the image's usual | memory in use once started (`300Mi`); above the container's memory limit: OOMKilled, exit code 137 |
 * | SIM_CPU_PER_REQUEST | 0 | CPU used per request per second, a CPU quantity (`10m`); what the HPA sees under load |
 * | SIM_LIVENESS_FAIL_AFTER | never | after running this long, liveness probes fail (HTTP 500) |
 * | SIM_READINESS_FAIL_AFTER | never | after running this long, readiness probes fail (HTTP 503) |
 *
 * The full contract, for the README, is `docs/workload-contract.md`.
 */
import { parseDuration } from "../../api/clock.js";
import { intValue, isQuantity, milliValue, parseQuantity } from "../../api/quantity.js";
import { _seededRandom } from "./_hash.js";
import { runScript } from "./_shell.js";
import { IMAGE_CATALOG, imageProfile, parseImage, type ImageProfile, type ImageReference, type LogProfile } from "./images.js";

// ---------------------------------------------------------------------------------------------
// Types

/** One timed event of a plan, relative to the container's start. */
export type PlanStep =
  | {
      /** Milliseconds after the container started. */
      readonly at: number;
      /** A log line; `{{date}}` stands for the clock time (`date` output). */
      readonly log: string;
      readonly stream: "stdout" | "stderr";
    }
  | {
      readonly at: number;
      /** A file the program creates (`exists: true`) or removes, for exec probes. */
      readonly file: string;
      readonly exists: boolean;
    };

/** A listening server inside the container. */
export interface ServerSpec {
  /** The catalog image whose server runs (`nginx`, `redis`), or `generic`. */
  readonly program: string;
  /** Ports it listens on; undefined: every port answers (an unknown program with no declared ports). */
  readonly ports?: readonly number[];
  /** HTTP paths answering 200; undefined: every path. Others answer 404. */
  readonly httpPaths?: readonly string[];
  /** Log style. */
  readonly logs: LogProfile;
  /** Version shown in its logs. */
  readonly version: string;
  /** When the server process starts, in ms after the container started (after any script lines). */
  readonly startAtMs: number;
  /** True when the image's entrypoint script started it (nginx's entrypoint prints its setup lines). */
  readonly entrypoint?: boolean;
}

/** What SIGTERM does to the container's main process. */
export type SigtermBehaviour = { readonly code: number; readonly afterMs: number } | "ignore";

/** What a program does, before the SIM_* variables are applied. */
export interface Behaviour {
  /** One line for humans: "sleeps 1h, exits 0". */
  readonly summary: string;
  /** Timed output and file operations. */
  readonly steps: readonly PlanStep[];
  /** Steps repeated every `periodMs` from `startMs` until the container stops (a `while true` loop). */
  readonly loop?: { readonly startMs: number; readonly periodMs: number; readonly steps: readonly PlanStep[] };
  /** How the program ends by itself; undefined: it runs until stopped. */
  readonly exit?: { readonly afterMs: number; readonly code: number };
  /** The server it runs, if any. */
  readonly server?: ServerSpec;
  /** Reaction to SIGTERM (PID 1 without a handler ignores it and is killed at the end of the grace period). */
  readonly sigterm: SigtermBehaviour;
  /** Memory in use once started. */
  readonly memoryBytes: number;
  /** Set when the container cannot start: the runtime's error, reported as RunContainerError. */
  readonly startError?: string;
}

/** Why a container's program ends. */
export type ExitCause = "program" | "SIM_CRASH_AFTER" | "SIM_EXIT_AFTER" | "SIM_MEMORY" | "memory-limit" | "required-env";

/** The full plan of a container: its behaviour with the SIM_* variables and limits applied. */
export interface ContainerPlan extends Omit<Behaviour, "exit"> {
  /** The row of `WORKLOAD_SHAPES` that matched. */
  readonly shape: string;
  /** The command line run: command + args after `$(VAR)` expansion, or the image's ENTRYPOINT + CMD. */
  readonly argv: readonly string[];
  /** How and when the program ends; undefined: it runs until stopped. */
  readonly exit?: {
    readonly afterMs: number;
    readonly code: number;
    /** Terminated reason the runtime reports (containerd): Completed (0), Error, OOMKilled. */
    readonly reason: "Completed" | "Error" | "OOMKilled";
    readonly cause: ExitCause;
  };
  /** SIM_START_DELAY: time until the program listens. */
  readonly startDelayMs: number;
  /** SIM_CPU_PER_REQUEST in millicores. */
  readonly cpuPerRequestMillis: number;
  /** SIM_LIVENESS_FAIL_AFTER. */
  readonly livenessFailAfterMs?: number;
  /** SIM_READINESS_FAIL_AFTER. */
  readonly readinessFailAfterMs?: number;
}

/** The parts of a `v1.Container` the workload contract reads. */
export interface ContainerSpec {
  readonly name: string;
  readonly image?: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly ports?: readonly { readonly containerPort: number; readonly name?: string; readonly protocol?: string }[];
  readonly resources?: { readonly limits?: Readonly<Record<string, string | number>>; readonly requests?: Readonly<Record<string, string | number>> };
  readonly stdin?: boolean;
  readonly tty?: boolean;
}

/** Options of `planContainer`. */
export interface PlanOptions {
  /** Pod name: what `hostname` prints and `$HOSTNAME` holds. */
  readonly hostname?: string;
  /** Seed for `$RANDOM` and other choices (default: the container name). */
  readonly seed?: string;
}

// ---------------------------------------------------------------------------------------------
// SIM_* variables

/** One steering variable. */
export interface SimVariable {
  readonly name: string;
  readonly kind: "duration" | "exit-code" | "memory" | "cpu";
  /** Default, as written in the docs. */
  readonly default: string;
  /** What it does. */
  readonly effect: string;
}

/** The variables that steer a simulated container, in the order they are checked. */
export const SIM_VARIABLES: readonly SimVariable[] = [
  { name: "SIM_START_DELAY", kind: "duration", default: "1s", effect: "Time from container start until the program listens. HTTP, TCP and gRPC probes fail before it (connection refused)." },
  { name: "SIM_CRASH_AFTER", kind: "duration", default: "never", effect: "The program crashes after running this long: exit code 1, reason Error." },
  { name: "SIM_EXIT_AFTER", kind: "duration", default: "never", effect: "The program exits after running this long, with SIM_EXIT_CODE." },
  { name: "SIM_EXIT_CODE", kind: "exit-code", default: "0", effect: "Exit code for SIM_EXIT_AFTER (0 to 255): 0 reports Completed, anything else Error." },
  { name: "SIM_MEMORY", kind: "memory", default: "the image's usual", effect: "Memory in use once the program has started. Above the container's memory limit the container is OOMKilled (exit code 137)." },
  { name: "SIM_CPU_PER_REQUEST", kind: "cpu", default: "0", effect: "CPU used per request per second, as a CPU quantity (10m = 10 millicores): the load the HPA sees." },
  { name: "SIM_LIVENESS_FAIL_AFTER", kind: "duration", default: "never", effect: "After running this long, liveness probes fail (HTTP 500), so the kubelet restarts the container." },
  { name: "SIM_READINESS_FAIL_AFTER", kind: "duration", default: "never", effect: "After running this long, readiness probes fail (HTTP 503), so the pod leaves its Services' endpoints." },
];

/** Parsed SIM_* values (ms, bytes, millicores, codes). */
export interface SimValues {
  readonly SIM_START_DELAY?: number;
  readonly SIM_CRASH_AFTER?: number;
  readonly SIM_EXIT_AFTER?: number;
  readonly SIM_EXIT_CODE?: number;
  readonly SIM_MEMORY?: number;
  readonly SIM_CPU_PER_REQUEST?: number;
  readonly SIM_LIVENESS_FAIL_AFTER?: number;
  readonly SIM_READINESS_FAIL_AFTER?: number;
}

const SIM_HINT: Record<SimVariable["kind"], string> = {
  duration: "use a duration like 10s or 2m",
  "exit-code": "use a whole number from 0 to 255",
  memory: "use a memory quantity like 300Mi or 1Gi",
  cpu: "use a CPU quantity like 10m or 0.5",
};

/**
 * Reads the SIM_* variables of an environment. Returns the values, or the first error in
 * `SIM_VARIABLES` order, e.g. `invalid SIM_CRASH_AFTER "ten": use a duration like 10s or 2m`.
 * An unknown `SIM_` name is an error too (a typo would otherwise be silently ignored).
 */
export function parseSimEnv(env: Readonly<Record<string, string>>): { values: SimValues; error?: string } {
  const values: Record<string, number> = {};
  for (const v of SIM_VARIABLES) {
    const raw = env[v.name];
    if (raw === undefined) continue;
    const text = raw.trim();
    let parsed: number | undefined;
    try {
      if (v.kind === "duration") parsed = parseDuration(text);
      else if (v.kind === "exit-code") parsed = /^\d{1,3}$/.test(text) && Number(text) <= 255 ? Number(text) : undefined;
      else if (v.kind === "memory") parsed = isQuantity(text) && parseQuantity(text) >= 0 ? intValue(text) : undefined;
      else parsed = isQuantity(text) && parseQuantity(text) >= 0 ? milliValue(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || !Number.isFinite(parsed)) return { values, error: `invalid ${v.name} "${raw}": ${SIM_HINT[v.kind]}` };
    values[v.name] = parsed;
  }
  for (const name of Object.keys(env)) {
    if (!name.startsWith("SIM_") || SIM_VARIABLES.some((v) => v.name === name)) continue;
    const near = SIM_VARIABLES.map((v) => v.name).sort((a, b) => distance(name, a) - distance(name, b))[0];
    const hint = distance(name, near) <= 3 ? `did you mean ${near}? ` : "";
    return { values, error: `unknown variable ${name}: ${hint}the simulator understands ${SIM_VARIABLES.map((v) => v.name).join(", ")}` };
  }
  return { values };
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

// ---------------------------------------------------------------------------------------------
// Command line

/**
 * Expands `$(VAR)` references in a command or argument the way the kubelet does before starting
 * the container (`kubecontainer.ExpandContainerCommandAndArgs`): a defined variable is replaced,
 * an undefined one is left as written, `$$` is an escaped `$`.
 */
export function expandKubeVars(text: string, env: Readonly<Record<string, string>>): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== "$" || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const next = text[i + 1];
    if (next === "$") {
      out += "$";
      i++;
    } else if (next === "(") {
      const end = text.indexOf(")", i + 2);
      if (end < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, end);
      out += name in env ? env[name] : `$(${name})`;
      i = end;
    } else {
      out += c;
    }
  }
  return out;
}

/** Entrypoint wrappers that exec their arguments ("$@"). */
const WRAPPERS = new Set(["docker-entrypoint.sh", "entrypoint.sh", "docker-php-entrypoint", "tini", "dumb-init", "--"]);

const base = (arg: string) => arg.split("/").pop() ?? arg;

/** The command line the container runs: command + args, or the image's ENTRYPOINT/CMD (as the runtime merges them). */
export function resolveArgv(container: ContainerSpec, env: Readonly<Record<string, string>>, profile: ImageProfile | undefined): string[] {
  const command = (container.command ?? []).map((a) => expandKubeVars(a, env));
  const args = (container.args ?? []).map((a) => expandKubeVars(a, env));
  if (command.length) return [...command, ...args];
  if (args.length) return [...(profile?.entrypoint ?? []), ...args];
  return [...(profile?.entrypoint ?? []), ...(profile?.cmd ?? [])];
}

function stripWrappers(argv: string[]): string[] {
  let rest = argv;
  while (rest.length && WRAPPERS.has(base(rest[0]))) {
    rest = rest.slice(1);
    // tini's own flags.
    while (rest.length && /^-[sgpvwl]+$/.test(rest[0])) rest = rest.slice(1);
  }
  return rest;
}

// ---------------------------------------------------------------------------------------------
// Shapes

/** What a shape matcher sees. */
export interface ShapeContext {
  readonly container: ContainerSpec;
  readonly env: Readonly<Record<string, string>>;
  /** Command line after entrypoint wrappers (`docker-entrypoint.sh`, `tini --`) are stripped. */
  readonly argv: readonly string[];
  /** True when the pod sets neither command nor args. */
  readonly imageDefault: boolean;
  readonly ref?: ImageReference;
  readonly profile?: ImageProfile;
  /** Version the image's server reports. */
  readonly version: string;
  readonly hostname: string;
  readonly random: () => number;
}

/** One recognised command shape: a matcher and the behaviour it yields. */
export interface WorkloadShape {
  readonly name: string;
  /** An example, for the docs. */
  readonly example: string;
  /** What it does, for the docs. */
  readonly doc: string;
  readonly match: (ctx: ShapeContext) => boolean;
  readonly build: (ctx: ShapeContext) => Behaviour;
}

const MiB = 1024 * 1024;
const SHELLS = new Set(["sh", "bash", "ash", "dash", "zsh", "ksh"]);
/** Shell builtins that have no executable: running one as a container command fails to start. */
const BUILTINS = new Set(["exit", "export", "cd", "source", ".", "set", "unset", "trap", "alias", "shift", "return", "eval", "exec", "wait", "read", "ulimit", "umask", "let", "local", "break", "continue", ":"]);
/** Utilities the shell interpreter knows (run directly they behave the same). */
const DIRECT = new Set([
  "echo", "printf", "date", "hostname", "env", "printenv", "seq", "true", "false", "sleep", "touch", "rm", "cat", "ls", "test", "[",
  "yes", "tail", "ping", "cp", "mv", "mkdir", "chmod", "chown", "ln", "id", "whoami", "uname", "df", "du", "ps", "sysctl", "nslookup",
  "dig", "wget", "curl", "nc", "stat", "find", "grep", "sed", "awk", "head", "wc", "sort", "base64", "md5sum", "sha256sum",
]);
const INTERPRETERS: Record<string, SigtermBehaviour> = {
  // PID 1 without a SIGTERM handler ignores the signal: node and python are killed at the end of the grace period.
  node: "ignore",
  nodejs: "ignore",
  npm: "ignore",
  yarn: "ignore",
  python: "ignore",
  python3: "ignore",
  python2: "ignore",
  ruby: "ignore",
  php: "ignore",
  perl: "ignore",
  // The JVM and .NET install handlers and exit 143; gunicorn/uvicorn shut down cleanly.
  java: { code: 143, afterMs: 500 },
  dotnet: { code: 143, afterMs: 300 },
  gunicorn: { code: 0, afterMs: 300 },
  uvicorn: { code: 0, afterMs: 300 },
};

function serverFrom(profile: ImageProfile, version: string, startAtMs = 0): Behaviour {
  const r = profile.runs;
  return {
    summary: `runs ${profile.name} (listening on port${(r.ports?.length ?? 0) > 1 ? "s" : ""} ${(r.ports ?? []).join(", ")}) until stopped`,
    steps: [],
    server: { program: profile.name, ports: r.ports, httpPaths: r.httpPaths, logs: r.logs, version, startAtMs },
    sigterm: r.sigterm,
    memoryBytes: r.memoryBytes,
  };
}

function genericProgram(ctx: ShapeContext, sigterm: SigtermBehaviour, what: string): Behaviour {
  const ports = (ctx.container.ports ?? []).map((p) => p.containerPort).filter((p) => Number.isInteger(p));
  return {
    summary: `runs ${what} until stopped${ports.length ? ` (listening on port${ports.length > 1 ? "s" : ""} ${ports.join(", ")})` : ""}`,
    steps: [],
    server: { program: "generic", ports: ports.length ? ports : undefined, logs: "generic", version: ctx.version, startAtMs: 0 },
    sigterm,
    memoryBytes: 20 * MiB,
  };
}

/** Runs a command line through the shell interpreter as one simple command. */
function runDirect(ctx: ShapeContext, argv: readonly string[]): Behaviour {
  const script = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  const b = runScript(script, shellOptions(ctx, "sh"));
  // Run directly, the utility itself is PID 1: nothing handles SIGTERM.
  return { ...b, sigterm: "ignore" };
}

function shellOptions(ctx: ShapeContext, shell: string) {
  return {
    shell,
    env: { ...ctx.env },
    hostname: ctx.hostname,
    stdin: ctx.container.stdin === true,
    random: ctx.random,
    program: (argv: string[]) => programBehaviour({ ...ctx, argv, imageDefault: false }),
  };
}

/** The behaviour of a program started by a script (`exec X`, last command), or undefined for short utilities. */
function programBehaviour(ctx: ShapeContext): Behaviour | undefined {
  const name = base(ctx.argv[0] ?? "");
  if (DIRECT.has(name) && name !== "sleep" && name !== "tail" && name !== "yes" && name !== "ping") return undefined;
  const shape = WORKLOAD_SHAPES.find((s) => s.match(ctx))!;
  return shape.build(ctx);
}

function shellScriptArg(argv: readonly string[]): number {
  // `sh -c SCRIPT`, `sh -ec SCRIPT`, `sh -c -- SCRIPT`, `bash -x -c SCRIPT`: index of SCRIPT or -1.
  let i = 1;
  let hasC = false;
  while (i < argv.length && /^-[a-zA-Z]+$|^--$/.test(argv[i])) {
    if (argv[i] !== "--" && argv[i].includes("c")) hasC = true;
    i++;
  }
  return hasC && i < argv.length ? i : hasC ? argv.length : -1;
}

function piDigits(digits: number): string {
  // Machin: pi = 16 atan(1/5) - 4 atan(1/239), in fixed point with guard digits, then
  // rounded half-even to `digits` significant digits as Math::BigFloat's bpi does.
  const guard = 10;
  const scale = 10n ** BigInt(digits + guard);
  const atanInv = (x: bigint): bigint => {
    let sum = 0n;
    let term = scale / x;
    const x2 = x * x;
    let n = 1n;
    let sign = 1n;
    while (term !== 0n) {
      sum += (sign * term) / n;
      term /= x2;
      n += 2n;
      sign = -sign;
    }
    return sum;
  };
  const pi = 16n * atanInv(5n) - 4n * atanInv(239n);
  const div = 10n ** BigInt(guard + 1);
  let kept = pi / div;
  const rest = pi % div;
  const half = div / 2n;
  if (rest > half || (rest === half && kept % 2n === 1n)) kept += 1n;
  const s = kept.toString();
  return `${s[0]}.${s.slice(1)}`;
}

/**
 * The recognised shapes, in match order. The last row matches everything, so every container
 * has a plan. Each row has golden tests in `test/runtime/workload.test.ts`.
 */
export const WORKLOAD_SHAPES: readonly WorkloadShape[] = [
  {
    name: "image-default",
    example: "image: nginx",
    doc: "No command or args: what the image runs. Servers listen until stopped; shell and REPL images (busybox, alpine, ubuntu, python, node) exit 0 at once without a terminal, so they restart into CrashLoopBackOff with Completed; hello-world prints and exits 0; unknown images run a server on their declared ports.",
    match: (ctx) => ctx.argv.length === 0 || (ctx.imageDefault && ctx.profile !== undefined),
    build: (ctx) => {
      const p = ctx.profile;
      if (!p) return genericProgram(ctx, { code: 143, afterMs: 50 }, `the image's program`);
      switch (p.runs.kind) {
        case "server":
          return serverFrom(p, ctx.version);
        case "pause":
          return { summary: "sleeps until stopped (the pause program)", steps: [], sigterm: p.runs.sigterm, memoryBytes: p.runs.memoryBytes };
        case "hello":
          return {
            summary: "prints its greeting and exits 0",
            steps: HELLO_LINES.map((log) => ({ at: 5, log, stream: "stdout" as const })),
            exit: { afterMs: 10, code: 0 },
            sigterm: "ignore",
            memoryBytes: p.runs.memoryBytes,
          };
        default: {
          const name = p.cmd.join(" ");
          if (ctx.container.stdin) return { summary: `runs ${name}, waiting for input on stdin until stopped`, steps: [], sigterm: "ignore", memoryBytes: p.runs.memoryBytes };
          return {
            summary: `starts ${name}, which exits 0 at once: no terminal on stdin`,
            steps: [],
            exit: { afterMs: 20, code: 0 },
            sigterm: "ignore",
            memoryBytes: p.runs.memoryBytes,
          };
        }
      }
    },
  },
  {
    name: "server-flags",
    example: 'image: redis, args: ["--appendonly", "yes"]',
    doc: "Args that start with a dash, for an image whose entrypoint runs a server: the server with those flags.",
    match: (ctx) => ctx.argv[0]?.startsWith("-") === true && ctx.profile?.runs.kind === "server",
    build: (ctx) => serverFrom(ctx.profile!, ctx.version),
  },
  {
    name: "shell-script",
    example: 'command: ["sh", "-c", "echo hello; sleep 3600"]',
    doc: "A shell with -c: the script is followed. echo/printf/date lines become log lines, sleeps add up, exit N ends it, while-true loops repeat, touch/rm create and remove files (for exec probes), and the last command of the script is the application that keeps running.",
    match: (ctx) => SHELLS.has(base(ctx.argv[0] ?? "")) && shellScriptArg(ctx.argv) >= 0,
    build: (ctx) => {
      const idx = shellScriptArg(ctx.argv);
      const script = ctx.argv[idx] ?? "";
      // Extra operands become $0, $1...: set them as positional-ish variables.
      const env = { ...ctx.env };
      ctx.argv.slice(idx + 1).forEach((v, i) => (env[String(i)] = v));
      return runScript(script, { ...shellOptions({ ...ctx, env }, base(ctx.argv[0])) });
    },
  },
  {
    name: "shell",
    example: 'command: ["sh"]',
    doc: "A shell without -c: interactive, it exits 0 at once unless the container has stdin: true; with a script file it runs that script as the application.",
    match: (ctx) => SHELLS.has(base(ctx.argv[0] ?? "")),
    build: (ctx) => {
      const operands = ctx.argv.slice(1).filter((a) => !a.startsWith("-"));
      if (operands.length) return genericProgram(ctx, "ignore", `the script ${operands[0]}`);
      if (ctx.container.stdin) return { summary: `runs ${base(ctx.argv[0])}, waiting for input on stdin until stopped`, steps: [], sigterm: "ignore", memoryBytes: MiB };
      return { summary: `starts ${base(ctx.argv[0])}, which exits 0 at once: no terminal on stdin`, steps: [], exit: { afterMs: 20, code: 0 }, sigterm: "ignore", memoryBytes: MiB };
    },
  },
  {
    name: "shell-builtin",
    example: 'command: ["exit", "3"]',
    doc: 'A shell builtin used as the command: there is no such executable, so the container fails to start (StartError, exit code 128) with the runtime\'s "executable file not found in $PATH". Use sh -c "exit 3".',
    match: (ctx) => BUILTINS.has(ctx.argv[0] ?? ""),
    build: (ctx) => ({
      summary: `cannot start: "${ctx.argv[0]}" is a shell builtin, not an executable`,
      steps: [],
      sigterm: "ignore",
      memoryBytes: 0,
      startError: `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${ctx.argv[0]}": executable file not found in $PATH: unknown`,
    }),
  },
  {
    name: "sleep",
    example: 'command: ["sleep", "3600"]',
    doc: "sleep N (seconds, or 10s, 5m, 1h, 1d): exits 0 after N; sleep infinity never exits. As PID 1, sleep ignores SIGTERM: deleting the pod takes the whole grace period and ends with exit code 137.",
    match: (ctx) => base(ctx.argv[0] ?? "") === "sleep",
    build: (ctx) => runDirect(ctx, ctx.argv),
  },
  {
    name: "true-false",
    example: 'command: ["false"]',
    doc: "true exits 0, false exits 1, at once.",
    match: (ctx) => ["true", "false"].includes(base(ctx.argv[0] ?? "")),
    build: (ctx) => runDirect(ctx, ctx.argv),
  },
  {
    name: "echo",
    example: 'command: ["echo", "hello"]',
    doc: "echo and printf print their arguments and exit 0.",
    match: (ctx) => ["echo", "printf"].includes(base(ctx.argv[0] ?? "")),
    build: (ctx) => runDirect(ctx, ctx.argv),
  },
  {
    name: "perl-pi",
    example: 'command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]',
    doc: "The Job example from the Kubernetes docs: prints π to the requested number of digits and exits 0.",
    match: (ctx) => base(ctx.argv[0] ?? "") === "perl" && ctx.argv.some((a) => /bpi\(\s*\d+\s*\)/.test(a)),
    build: (ctx) => {
      const n = Math.min(20_000, Math.max(1, Number(/bpi\(\s*(\d+)\s*\)/.exec(ctx.argv.join(" "))![1])));
      const computeMs = Math.max(100, Math.round(2000 * (n / 2000) ** 2));
      return {
        summary: `prints pi to ${n} digits, exits 0`,
        steps: [{ at: computeMs, log: piDigits(n), stream: "stdout" }],
        exit: { afterMs: computeMs + 10, code: 0 },
        sigterm: "ignore",
        memoryBytes: 12 * MiB,
      };
    },
  },
  {
    name: "utility",
    example: 'command: ["date"]',
    doc: "Short utilities (date, hostname, env, ls, cat FILE, cp, mkdir, wget, curl, nslookup...) do their work and exit 0; tail -f, yes and ping without -c run until stopped.",
    match: (ctx) => DIRECT.has(base(ctx.argv[0] ?? "")),
    build: (ctx) => runDirect(ctx, ctx.argv),
  },
  {
    name: "server-binary",
    example: 'command: ["nginx", "-g", "daemon off;"]',
    doc: "A known server binary (nginx, redis-server, postgres, mysqld, mongod, httpd...): that server, whatever the image.",
    match: (ctx) => serverByBinary(base(ctx.argv[0] ?? "")) !== undefined,
    build: (ctx) => {
      const p = serverByBinary(base(ctx.argv[0]))!;
      return serverFrom(p, p === ctx.profile ? ctx.version : p.latestVersion);
    },
  },
  {
    name: "interpreter",
    example: 'command: ["node", "server.js"]',
    doc: "An application run by an interpreter (node, python, ruby, php, java, dotnet...): runs until stopped, listening on the container's ports. node and python as PID 1 ignore SIGTERM, so stopping them takes the grace period (exit 137).",
    match: (ctx) => base(ctx.argv[0] ?? "") in INTERPRETERS,
    build: (ctx) => genericProgram(ctx, INTERPRETERS[base(ctx.argv[0])], `${base(ctx.argv[0])} ${ctx.argv.slice(1).join(" ")}`.trim()),
  },
  {
    name: "program",
    example: 'command: ["/app/server", "--port=8080"]',
    doc: "Any other program: a long-running application listening on the container's declared ports (on every port if none is declared); SIGTERM stops it with exit code 143.",
    match: () => true,
    build: (ctx) => genericProgram(ctx, { code: 143, afterMs: 50 }, base(ctx.argv[0] ?? "the program")),
  },
];

const HELLO_LINES = [
  "",
  "Hello from Docker!",
  "This message shows that your installation appears to be working correctly.",
  "",
  "To generate this message, Docker took the following steps:",
  " 1. The Docker client contacted the Docker daemon.",
  ' 2. The Docker daemon pulled the "hello-world" image from the Docker Hub.',
  "    (amd64)",
  " 3. The Docker daemon created a new container from that image which runs the",
  "    executable that produces the output you are currently reading.",
  " 4. The Docker daemon streamed that output to the Docker client, which sent it",
  "    to your terminal.",
  "",
  "To try something more ambitious, you can run an Ubuntu container with:",
  " $ docker run -it ubuntu bash",
  "",
  "Share images, automate workflows, and more with a free Docker ID:",
  " https://hub.docker.com/",
  "",
  "For more examples and ideas, visit:",
  " https://docs.docker.com/get-started/",
  "",
];

let binaryIndex: Map<string, ImageProfile> | undefined;
function serverByBinary(name: string): ImageProfile | undefined {
  if (!binaryIndex) {
    binaryIndex = new Map();
    for (const p of IMAGE_CATALOG) for (const b of p.runs.binaries ?? []) if (p.runs.kind === "server") binaryIndex.set(base(b), p);
  }
  return binaryIndex.get(name);
}

// ---------------------------------------------------------------------------------------------
// Planning

function versionOf(ref: ImageReference | undefined, profile: ImageProfile | undefined): string {
  const tag = ref?.tag;
  const m = tag ? /^v?(\d+(?:\.\d+){0,2})/.exec(tag) : null;
  // `nginx:1.27` runs the newest 1.27 release.
  if (m) return profile?.latestVersion.startsWith(`${m[1]}.`) ? profile.latestVersion : m[1];
  return profile?.latestVersion ?? tag ?? "latest";
}

/** The container's memory limit in bytes, or undefined when it has none. */
export function memoryLimitBytes(container: ContainerSpec): number | undefined {
  const v = container.resources?.limits?.memory;
  return v === undefined ? undefined : intValue(v);
}

/**
 * Decides what a simulated container does from its image, command/args and environment
 * (`env` is the container's resolved environment, ConfigMap and Secret values included).
 */
export function planContainer(container: ContainerSpec, env: Readonly<Record<string, string>>, options: PlanOptions = {}): ContainerPlan {
  const sim = parseSimEnv(env);
  const parsed = parseImage(container.image ?? "");
  const ref = parsed.ok ? parsed.ref : undefined;
  const profile = ref ? imageProfile(ref) : undefined;
  const rawArgv = resolveArgv(container, env, profile);
  const ctx: ShapeContext = {
    container,
    env,
    argv: stripWrappers(rawArgv),
    imageDefault: !(container.command?.length || container.args?.length),
    ref,
    profile,
    version: versionOf(ref, profile),
    hostname: options.hostname ?? env.HOSTNAME ?? container.name,
    random: _seededRandom(options.seed ?? container.name),
  };
  const shape = WORKLOAD_SHAPES.find((s) => s.match(ctx))!;
  let b = shape.build(ctx);
  let cause: ExitCause = "program";

  // The image's entrypoint refuses to start its server without required settings.
  const required = b.server && b.server.program === profile?.name ? profile.runs.requiredEnv : undefined;
  if (required && !required.satisfied(env)) {
    b = {
      summary: `${profile!.name}'s entrypoint exits 1: required environment is missing`,
      steps: required.message.map((log) => ({ at: b.server!.startAtMs + 50, log, stream: "stderr" as const })),
      exit: { afterMs: b.server!.startAtMs + 100, code: 1 },
      sigterm: "ignore",
      memoryBytes: MiB,
    };
    cause = "required-env";
  }

  const v = sim.values;
  const startDelayMs = v.SIM_START_DELAY ?? 1000;
  const memoryBytes = v.SIM_MEMORY ?? b.memoryBytes;
  const startError = sim.error ?? b.startError;

  // Candidate ends, earliest wins; at equal times the kernel's OOM kill comes first.
  type End = { afterMs: number; code: number; cause: ExitCause; line?: PlanStep };
  const ends: End[] = [];
  const limit = memoryLimitBytes(container);
  if (limit !== undefined && memoryBytes > limit) {
    ends.push({ afterMs: (b.server?.startAtMs ?? 0) + startDelayMs, code: 137, cause: v.SIM_MEMORY !== undefined ? "SIM_MEMORY" : "memory-limit" });
  }
  if (v.SIM_CRASH_AFTER !== undefined) {
    ends.push({
      afterMs: v.SIM_CRASH_AFTER,
      code: 1,
      cause: "SIM_CRASH_AFTER",
      line: { at: v.SIM_CRASH_AFTER, log: `fatal error: simulated crash after ${env.SIM_CRASH_AFTER!.trim()} (SIM_CRASH_AFTER)`, stream: "stderr" },
    });
  }
  if (v.SIM_EXIT_AFTER !== undefined) {
    const code = v.SIM_EXIT_CODE ?? 0;
    ends.push({
      afterMs: v.SIM_EXIT_AFTER,
      code,
      cause: "SIM_EXIT_AFTER",
      line: { at: v.SIM_EXIT_AFTER, log: `exiting with code ${code} after ${env.SIM_EXIT_AFTER!.trim()} (SIM_EXIT_AFTER)`, stream: "stdout" },
    });
  }
  if (b.exit) ends.push({ ...b.exit, cause });
  const end = ends.reduce<End | undefined>((best, e) => (!best || e.afterMs < best.afterMs ? e : best), undefined);

  let steps = [...b.steps];
  let loop = b.loop;
  let summary = b.summary;
  let exit: ContainerPlan["exit"];
  if (end) {
    steps = steps.filter((s) => s.at <= end.afterMs);
    if (end.line) steps.push(end.line);
    if (loop && loop.startMs >= end.afterMs) loop = undefined;
    const reason = end.code === 137 && (end.cause === "SIM_MEMORY" || end.cause === "memory-limit") ? "OOMKilled" : end.code === 0 ? "Completed" : "Error";
    exit = { afterMs: end.afterMs, code: end.code, reason, cause: end.cause };
    if (end.cause === "SIM_MEMORY" || end.cause === "memory-limit") summary = `${summary}; uses ${memoryBytes} bytes, over its ${limit}-byte limit: OOMKilled`;
    else if (end.cause === "SIM_CRASH_AFTER") summary = `${summary}; crashes (exit 1) after ${env.SIM_CRASH_AFTER!.trim()}`;
    else if (end.cause === "SIM_EXIT_AFTER") summary = `${summary}; exits ${end.code} after ${env.SIM_EXIT_AFTER!.trim()}`;
  }
  if (startError) summary = `cannot start: ${startError}`;

  return {
    shape: shape.name,
    argv: rawArgv,
    summary,
    steps,
    loop,
    exit: startError ? undefined : exit,
    server: b.server ? { ...b.server, entrypoint: WRAPPERS.has(base(rawArgv[0] ?? "")) } : undefined,
    sigterm: b.sigterm,
    memoryBytes,
    startError,
    startDelayMs,
    cpuPerRequestMillis: v.SIM_CPU_PER_REQUEST ?? 0,
    livenessFailAfterMs: v.SIM_LIVENESS_FAIL_AFTER,
    readinessFailAfterMs: v.SIM_READINESS_FAIL_AFTER,
  };
}

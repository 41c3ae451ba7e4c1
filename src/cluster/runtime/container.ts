/**
 * One container of a pod, as the kubelet and the container runtime drive it: image pull, create,
 * start, probes, exit, restart with CrashLoopBackOff, kill. A `ContainerMachine` lives as long
 * as its pod on the node and plays each instance's `ContainerPlan` on the clock.
 *
 * The lifecycle is data, as KWOK describes pod stages: three ordered rule tables decide every
 * step, each row a guard and an outcome, mirroring the upstream code path they name.
 *
 * - `SYNC_RULES` are one pass of the pod worker over this container (`SyncPod` →
 *   `doBackOff` → `startContainer` → `EnsureImageExists`): the first row whose guard holds acts
 *   and either ends the pass, asks the pod worker to retry in 10 s (`POD_WORKER_BACKOFF_MS`),
 *   or hands over to the next row. Waiting reasons (CrashLoopBackOff, ErrImagePull,
 *   ImagePullBackOff, InvalidImageName, ErrImageNeverPull, CreateContainerConfigError,
 *   RunContainerError) are the kubelet's "reason cache" entries these rows write.
 * - `PROBE_RULES` decide what the simulated program answers to a probe (connection refused
 *   before SIM_START_DELAY, HTTP 500 after SIM_LIVENESS_FAIL_AFTER, 404 for a path nginx does
 *   not serve, a file check against the files the script created...).
 * - `STOP_RULES` decide how an instance ends when the kubelet stops it: preStop hook, then the
 *   program's reaction to SIGTERM, or SIGKILL (exit 137) at the end of the grace period.
 *
 * Timing follows the kubelet: a container exit is seen at once (PLEG) and synced; a failed sync
 * is retried after 10 s; probes run `initialDelaySeconds` after the start and then every
 * `periodSeconds`, and a readiness probe also runs when the kubelet regenerates the pod status
 * one PLEG relist (1 s) after the start, so a container is Ready about a second after it starts
 * rather than a whole period later. Everything is deterministic for a given clock.
 */
import type { Clock, Timer } from "../../api/clock.js";
import {
  CONTAINER_BACKOFF,
  IMAGE_PULL_BACKOFF,
  POD_WORKER_BACKOFF_MS,
  POD_WORKER_JITTER_FACTOR,
  formatGoDuration,
  isInBackOffSince,
  isInBackOffSinceUpdate,
  nextBackoff,
  type BackoffRecord,
} from "./backoff.js";
import { _sha256Hex } from "./_hash.js";
import { parseSleep } from "./_shell.js";
import {
  IMAGE_EVENT,
  alreadyPresentMessage,
  backOffPullMessage,
  failedPullMessage,
  imageProfile,
  neverPullMessage,
  parseImage,
  pullingMessage,
  pulledMessage,
  type NodeImageStore,
  type ParsedImage,
} from "./images.js";
import { InstanceLog, PAUSE_SHUTDOWN, accessLogLines, serverShutdownLines, serverStartupLines, serverWorkerPid, type LogContext, type LogLine } from "./logs.js";
import type { ContainerRuntimeView, ProbeState, RuntimeInstance } from "./pod-status.js";
import { planContainer, type ContainerPlan, type PlanStep } from "./workload.js";

// ---------------------------------------------------------------------------------------------
// Constants

/** How often the generic PLEG relists containers (`plegRelistPeriod`, 1 s). */
export const PLEG_RELIST_MS = 1000;
/** Minimum time a container gets after SIGTERM (`minimumGracePeriodInSeconds`, 2 s). */
export const MINIMUM_GRACE_PERIOD_MS = 2000;
/** `terminationGracePeriodSeconds` default. */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;
/** User agent of the kubelet's HTTP probes (`kube-probe/<major>.<minor>`). */
export const KUBE_PROBE_USER_AGENT = "kube-probe/1.32";

/** Probe defaults (`SetDefaults_Probe`, `pkg/apis/core/v1/defaults.go`). */
export const PROBE_DEFAULTS = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } as const;

/** Event reasons of the kubelet for containers (`pkg/kubelet/events/event.go`). */
export const CONTAINER_EVENT = {
  created: "Created",
  started: "Started",
  failed: "Failed",
  killing: "Killing",
  backOff: "BackOff",
  unhealthy: "Unhealthy",
} as const;

/**
 * `Created container web`: the 1.32 kubelet's wording (`startContainer`). Releases from 1.33
 * print `Created container: web`.
 */
export function createdMessage(name: string): string {
  return `Created container ${name}`;
}

/** `Started container web` (`startContainer`). */
export function startedMessage(name: string): string {
  return `Started container ${name}`;
}

// ---------------------------------------------------------------------------------------------
// Types

/** An event the kubelet records, about the pod (`fieldPath` names the container). */
export interface RuntimeEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
  /** `spec.containers{web}`, `spec.initContainers{init}`; undefined for pod-level events. */
  readonly fieldPath?: string;
  /** Clock time. */
  readonly time: number;
}

/** One step of a container's life, for tests and debugging. */
export interface TimelineEntry {
  readonly time: number;
  /** The rule or stage that acted (`pull`, `start`, `crash-loop-back-off`, `exit`, `liveness-kill`...). */
  readonly stage: string;
  readonly detail?: string;
}

/** The pod facts a container needs. */
export interface PodIdentity {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly restartPolicy: "Always" | "OnFailure" | "Never";
  /** `spec.terminationGracePeriodSeconds` (default 30). */
  readonly terminationGracePeriodSeconds: number;
}

/** A probe as written in the pod spec. */
export interface ProbeSpec {
  readonly httpGet?: { readonly path?: string; readonly port: number | string; readonly scheme?: string; readonly host?: string };
  readonly tcpSocket?: { readonly port: number | string };
  readonly exec?: { readonly command?: readonly string[] };
  readonly grpc?: { readonly port: number; readonly service?: string };
  readonly initialDelaySeconds?: number;
  readonly timeoutSeconds?: number;
  readonly periodSeconds?: number;
  readonly successThreshold?: number;
  readonly failureThreshold?: number;
  readonly terminationGracePeriodSeconds?: number;
}

/** A lifecycle hook handler. */
export interface HookSpec {
  readonly exec?: { readonly command?: readonly string[] };
  readonly httpGet?: { readonly path?: string; readonly port: number | string };
  readonly sleep?: { readonly seconds: number };
}

/** The container spec fields the machine reads (a `v1.Container`). */
export interface MachineContainerSpec {
  readonly name: string;
  readonly image?: string;
  readonly imagePullPolicy?: "Always" | "IfNotPresent" | "Never";
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly ports?: readonly { readonly containerPort: number; readonly name?: string; readonly protocol?: string }[];
  readonly resources?: { readonly limits?: Readonly<Record<string, string | number>>; readonly requests?: Readonly<Record<string, string | number>> };
  readonly livenessProbe?: ProbeSpec;
  readonly readinessProbe?: ProbeSpec;
  readonly startupProbe?: ProbeSpec;
  readonly lifecycle?: { readonly postStart?: HookSpec; readonly preStop?: HookSpec };
  readonly stdin?: boolean;
  readonly tty?: boolean;
  readonly restartPolicy?: string;
}

/** Kind of container in the pod. */
export type ContainerKind = "regular" | "init" | "sidecar";

/** The environment for a start attempt, or the CreateContainerConfigError message. */
export type EnvResolution = { readonly ok: true; readonly env: Record<string, string> } | { readonly ok: false; readonly message: string };

/** What a `ContainerMachine` is given. */
export interface ContainerMachineOptions {
  readonly clock: Clock;
  readonly pod: PodIdentity;
  readonly spec: MachineContainerSpec;
  readonly kind: ContainerKind;
  /** The node's images and puller. */
  readonly images: NodeImageStore;
  /** Resolves the environment at each start attempt (`makeEnvironmentVariables`). */
  readonly resolveEnv: () => EnvResolution;
  /** The pod's IP (probes and logs use it). */
  readonly podIP: () => string;
  /** The node's IP: HTTP probes come from it. */
  readonly hostIP: string;
  /** Seed for container IDs (default: the pod UID). */
  readonly seed?: string;
  /** Node CPUs (nginx starts one worker per CPU). */
  readonly cpus?: number;
  /** Jitter source for the pod worker's retry; without it, retries are exactly 10 s (reproducible). */
  readonly random?: () => number;
  readonly onEvent: (event: RuntimeEvent) => void;
  /** Called whenever the container's status may have changed. */
  readonly onChange: () => void;
  /**
   * The instance that ran before the node restarted, as the runtime kept it on disk (added for
   * the kubelet's reboot): shown as the previous instance, and the next instance's restartCount
   * follows it (`restartCount + 1`), as upstream derives it from the runtime's last container.
   */
  readonly prior?: RuntimeInstance;
}

/** A probe worker's state (`prober/worker.go`). */
interface ProbeWorker {
  readonly type: "liveness" | "readiness" | "startup";
  readonly spec: Required<Pick<ProbeSpec, "initialDelaySeconds" | "timeoutSeconds" | "periodSeconds" | "successThreshold" | "failureThreshold">> & ProbeSpec;
  /** The results manager's value for the current instance. */
  result: "success" | "failure" | "pending";
  lastResult?: "success" | "failure";
  resultRun: number;
  onHold: boolean;
}

/** One run of the container, from create to exit. */
interface Instance {
  id: string;
  state: "created" | "running" | "exited";
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  reason?: string;
  message?: string;
  restartCount: number;
  image: string;
  imageID: string;
  plan: ContainerPlan;
  log: InstanceLog;
  /** Pending timers of this instance (each removes itself when it fires). */
  timers: Set<Timer>;
  probes: ProbeWorker[];
  /** Killed by the kubelet: what happens once it has exited. */
  afterKill?: "restart" | "back-off" | "stay";
  /** Time the kubelet asked it to stop. */
  stoppingSince?: number;
  /** Recent request times, for CPU usage. */
  requests: number[];
  /** Called once the instance has exited. */
  exitWaiters: (() => void)[];
}

/** Result of one sync rule. */
type Outcome = "done" | "retry" | "next";

interface SyncContext {
  readonly m: ContainerMachine;
  /** The restart decision was already taken (a kill-and-restart by a probe). */
  readonly decided: boolean;
  imageRef?: string;
  image?: string;
  env?: Record<string, string>;
}

/** One row of the sync table. */
interface SyncRule {
  readonly name: string;
  readonly when: (ctx: SyncContext) => boolean;
  readonly run: (ctx: SyncContext) => Outcome | Promise<Outcome>;
}

// ---------------------------------------------------------------------------------------------
// The sync table

/**
 * One pass of the kubelet over a container, in upstream order (`SyncPod`, `doBackOff`,
 * `startContainer`, `EnsureImageExists`). First matching row acts.
 */
export const SYNC_RULES: readonly SyncRule[] = [
  {
    name: "running",
    when: ({ m }) => m.current?.state === "running",
    run: () => "done",
  },
  {
    // ShouldContainerBeRestarted: an exited container the restart policy does not restart stays terminated.
    name: "finished",
    when: ({ m, decided }) => !decided && !m.shouldRestart(),
    run: () => "done",
  },
  {
    // doBackOff: still inside the back-off window counted from the last exit.
    name: "crash-loop-back-off",
    when: ({ m, decided }) => !decided && m.current?.state === "exited" && isInBackOffSince(m.restartBackoff, m.current.finishedAt!, m.now(), CONTAINER_BACKOFF),
    run: ({ m }) => m.crashLoopBackOff(),
  },
  {
    // doBackOff: out of the window, so the delay grows for next time (Backoff.Next).
    name: "back-off-step",
    when: ({ m, decided }) => !decided && m.current?.state === "exited",
    run: ({ m }) => {
      m.restartBackoff = nextBackoff(m.restartBackoff, m.current!.finishedAt!, m.now(), CONTAINER_BACKOFF);
      return "next";
    },
  },
  {
    name: "invalid-image-name",
    when: ({ m }) => !m.parsedImage().ok,
    run: ({ m }) => {
      const message = (m.parsedImage() as { message: string }).message;
      m.event("Warning", IMAGE_EVENT.inspectFailed, message);
      m.event("Warning", CONTAINER_EVENT.failed, "Error: InvalidImageName");
      m.setWaiting("InvalidImageName", message);
      return "retry";
    },
  },
  {
    name: "never-pull",
    when: ({ m }) => m.pullPolicy() === "Never" && !m.imagePresent(),
    run: ({ m }) => {
      const message = neverPullMessage(m.spec.image ?? "");
      m.event("Warning", IMAGE_EVENT.neverPull, message);
      m.event("Warning", CONTAINER_EVENT.failed, "Error: ErrImageNeverPull");
      m.setWaiting("ErrImageNeverPull", message);
      return "retry";
    },
  },
  {
    name: "image-present",
    when: ({ m }) => m.pullPolicy() !== "Always" && m.imagePresent(),
    run: (ctx) => {
      ctx.m.event("Normal", IMAGE_EVENT.pulled, alreadyPresentMessage(ctx.m.spec.image ?? ""));
      ctx.imageRef = ctx.m.options.images.imageRef(ctx.m.spec.image ?? "");
      return "next";
    },
  },
  {
    // EnsureImageExists: IsInBackOffSinceUpdate(podUID_image, now).
    name: "image-pull-back-off",
    when: ({ m, imageRef }) => imageRef === undefined && isInBackOffSinceUpdate(m.pullBackoffFor(), m.now(), IMAGE_PULL_BACKOFF),
    run: ({ m }) => {
      const message = backOffPullMessage(m.spec.image ?? "");
      m.event("Normal", IMAGE_EVENT.backOff, message);
      m.event("Warning", CONTAINER_EVENT.failed, "Error: ImagePullBackOff");
      m.setWaiting("ImagePullBackOff", message);
      return "retry";
    },
  },
  {
    name: "pull",
    when: ({ imageRef }) => imageRef === undefined,
    run: async (ctx) => {
      const { m } = ctx;
      const image = m.spec.image ?? "";
      m.event("Normal", IMAGE_EVENT.pulling, pullingMessage(image));
      m.mark("pull", image);
      const result = await m.options.images.pull(image);
      if (m.gone()) return "done";
      if (!result.ok) {
        m.event("Warning", IMAGE_EVENT.failed, failedPullMessage(image, result.message));
        m.setPullBackoff(nextBackoff(m.pullBackoffFor(), m.now(), m.now(), IMAGE_PULL_BACKOFF));
        m.event("Warning", CONTAINER_EVENT.failed, "Error: ErrImagePull");
        m.setWaiting("ErrImagePull", result.message);
        return "retry";
      }
      m.event("Normal", IMAGE_EVENT.pulled, pulledMessage(image, result.pullMs, result.totalMs, result.sizeBytes));
      ctx.imageRef = result.imageRef;
      return "next";
    },
  },
  {
    // generateContainerConfig → makeEnvironmentVariables.
    name: "config-error",
    when: (ctx) => {
      const env = ctx.m.options.resolveEnv();
      if (env.ok) ctx.env = env.env;
      else ctx.m.lastEnvError = env.message;
      return !env.ok;
    },
    run: ({ m }) => {
      const message = m.lastEnvError ?? "";
      m.event("Warning", CONTAINER_EVENT.failed, `Error: ${message}`);
      m.setWaiting("CreateContainerConfigError", message);
      return "retry";
    },
  },
  {
    // CreateContainer succeeds, StartContainer fails: the runtime records a StartError exit (128).
    name: "start-error",
    when: (ctx) => ctx.m.planFor(ctx.env!).startError !== undefined,
    run: (ctx) => {
      const plan = ctx.m.planFor(ctx.env!);
      ctx.m.startFailed(ctx.imageRef!, plan);
      return "retry";
    },
  },
  {
    name: "start",
    when: () => true,
    run: (ctx) => {
      ctx.m.startInstance(ctx.imageRef!, ctx.m.planFor(ctx.env!));
      return "done";
    },
  },
];

// ---------------------------------------------------------------------------------------------
// The probe table

/** What the simulated program answers to one probe. */
export interface ProbeAnswer {
  readonly success: boolean;
  /** The prober's output on failure (the Unhealthy event's text after "<Type> probe failed: "). */
  readonly output: string;
  /** The HTTP status answered (HTTP probes that reached the server). */
  readonly httpStatus?: number;
}

/** What a probe rule sees. */
export interface ProbeContext {
  readonly type: "liveness" | "readiness" | "startup";
  readonly probe: ProbeSpec;
  readonly plan: ContainerPlan;
  /** Milliseconds since the instance started. */
  readonly elapsedMs: number;
  readonly podIP: string;
  /** Resolved probe port (named ports looked up in the container's ports). */
  readonly port?: number;
  /** Files of the instance's script at probe time: true created, false removed, absent never touched. */
  readonly files: ReadonlyMap<string, boolean>;
  /** Image key (`busybox`), for utility message wording. */
  readonly imageKey?: string;
}

const listenAt = (c: ProbeContext) => (c.plan.server ? c.plan.server.startAtMs + c.plan.startDelayMs : Number.POSITIVE_INFINITY);
const networked = (c: ProbeContext) => c.probe.httpGet !== undefined || c.probe.tcpSocket !== undefined || c.probe.grpc !== undefined;
const refused = (c: ProbeContext): ProbeAnswer => {
  const addr = `${c.podIP}:${c.port ?? 0}`;
  if (c.probe.httpGet) return { success: false, output: `Get "${httpUrl(c)}": dial tcp ${addr}: connect: connection refused` };
  if (c.probe.grpc) return { success: false, output: `timeout: failed to connect service "${addr}" within ${c.probe.timeoutSeconds ?? 1}s` };
  return { success: false, output: `dial tcp ${addr}: connect: connection refused` };
};
const httpUrl = (c: ProbeContext) => `${(c.probe.httpGet?.scheme ?? "HTTP").toLowerCase()}://${c.probe.httpGet?.host ?? c.podIP}:${c.port ?? 0}${c.probe.httpGet?.path ?? "/"}`;
const failing = (c: ProbeContext, httpStatus: number, variable: string): ProbeAnswer => {
  if (c.probe.httpGet) return { success: false, output: `HTTP probe failed with statuscode: ${httpStatus}`, httpStatus };
  if (c.probe.grpc) return { success: false, output: 'service unhealthy (responded with "NOT_SERVING")' };
  if (c.probe.tcpSocket) return refused(c);
  return { success: false, output: `simulated failure: ${variable} has passed` };
};
/** `cat F`, `test -f F`, `[ -e F ]`, `ls F`, `stat F`: the file an exec probe checks. */
const fileCheck = (c: ProbeContext): { path: string; tool: string } | undefined => {
  let argv = [...(c.probe.exec?.command ?? [])];
  if (["sh", "/bin/sh", "bash", "/bin/bash"].includes(argv[0] ?? "") && argv[1] === "-c") argv = (argv[2] ?? "").trim().split(/\s+/);
  const tool = (argv[0] ?? "").split("/").pop() ?? "";
  if (["cat", "ls", "stat"].includes(tool) && argv.length === 2) return { path: argv[1], tool };
  if ((tool === "test" || tool === "[") && ["-f", "-e", "-s", "-r"].includes(argv[1] ?? "")) return { path: argv[2], tool };
  return undefined;
};
const BUSYBOX_IMAGES = new Set(["busybox", "alpine"]);

/**
 * How the simulated program answers a probe, in order (first matching row). HTTP answers
 * 200–399 succeed, as the kubelet's HTTP prober counts them.
 */
export const PROBE_RULES: readonly { readonly name: string; readonly when: (c: ProbeContext) => boolean; readonly answer: (c: ProbeContext) => ProbeAnswer }[] = [
  {
    // The docs' liveness example: `touch /tmp/healthy; sleep 30; rm -f /tmp/healthy` probed with `cat /tmp/healthy`.
    name: "exec-file-check",
    when: (c) => fileCheck(c) !== undefined,
    answer: (c) => {
      const { path, tool } = fileCheck(c)!;
      const state = c.files.get(path.replace(/\/+$/, ""));
      // A script never created it: a fresh /tmp is empty; elsewhere assume the image or a volume provides it.
      const exists = state ?? (c.plan.shape === "shell-script" && path.startsWith("/tmp/") ? false : true);
      if (exists) return { success: true, output: "" };
      const busybox = BUSYBOX_IMAGES.has(c.imageKey ?? "");
      if (tool === "cat") return { success: false, output: busybox ? `cat: can't open '${path}': No such file or directory` : `cat: ${path}: No such file or directory` };
      if (tool === "ls") return { success: false, output: busybox ? `ls: ${path}: No such file or directory` : `ls: cannot access '${path}': No such file or directory` };
      if (tool === "stat") return { success: false, output: busybox ? `stat: can't stat '${path}': No such file or directory` : `stat: cannot statx '${path}': No such file or directory` };
      return { success: false, output: "" };
    },
  },
  {
    name: "not-listening-yet",
    when: (c) => networked(c) && c.elapsedMs < listenAt(c),
    answer: refused,
  },
  {
    name: "port-not-served",
    when: (c) => networked(c) && c.plan.server?.ports !== undefined && (c.port === undefined || !c.plan.server.ports.includes(c.port)),
    answer: refused,
  },
  {
    name: "liveness-fails-after",
    when: (c) => c.type === "liveness" && c.plan.livenessFailAfterMs !== undefined && c.elapsedMs >= c.plan.livenessFailAfterMs,
    answer: (c) => failing(c, 500, "SIM_LIVENESS_FAIL_AFTER"),
  },
  {
    name: "readiness-fails-after",
    when: (c) => c.type === "readiness" && c.plan.readinessFailAfterMs !== undefined && c.elapsedMs >= c.plan.readinessFailAfterMs,
    answer: (c) => failing(c, 503, "SIM_READINESS_FAIL_AFTER"),
  },
  {
    name: "http-path-not-found",
    when: (c) => c.probe.httpGet !== undefined && c.plan.server?.httpPaths !== undefined && !c.plan.server.httpPaths.includes((c.probe.httpGet.path ?? "/").split("?")[0]),
    answer: () => ({ success: false, output: "HTTP probe failed with statuscode: 404", httpStatus: 404 }),
  },
  {
    // A health command (redis-cli ping, pg_isready, a script) fails until the program is up.
    name: "exec-program-not-up",
    when: (c) => c.probe.exec !== undefined && c.plan.server !== undefined && c.elapsedMs < listenAt(c),
    answer: () => ({ success: false, output: "" }),
  },
  {
    name: "healthy",
    when: () => true,
    answer: (c) => ({ success: true, output: "", httpStatus: c.probe.httpGet ? 200 : undefined }),
  },
];

/** Evaluates the probe table. */
export function answerProbe(c: ProbeContext): ProbeAnswer & { rule: string } {
  const rule = PROBE_RULES.find((r) => r.when(c))!;
  return { ...rule.answer(c), rule: rule.name };
}

// ---------------------------------------------------------------------------------------------
// The stop table

/** How an instance ends once the kubelet stops it. */
export interface StopDecision {
  /** Time the preStop hook takes. */
  readonly hookMs: number;
  /** Exit code and when, counted from the stop request. */
  readonly exitAfterMs: number;
  readonly exitCode: number;
  /** Whether the program itself handled SIGTERM (prints its shutdown lines). */
  readonly graceful: boolean;
  readonly rule: string;
}

/** Duration of a preStop hook: `sleep N` (exec or the sleep action) takes N seconds, other handlers return at once. */
export function hookDurationMs(hook: HookSpec | undefined): number {
  if (!hook) return 0;
  if (hook.sleep) return Math.max(0, hook.sleep.seconds) * 1000;
  const argv = hook.exec?.command ?? [];
  const script = ["sh", "/bin/sh", "bash", "/bin/bash"].includes(argv[0] ?? "") && argv[1] === "-c" ? (argv[2] ?? "") : argv.join(" ");
  let total = 0;
  for (const m of script.matchAll(/(?:^|[;&|\s])sleep\s+(\S+)/g)) {
    const ms = parseSleep(m[1]);
    if (ms !== undefined && Number.isFinite(ms)) total += ms;
  }
  return total;
}

/**
 * `killContainer`: the preStop hook runs first and its time comes out of the grace period, which
 * never drops below 2 s; then SIGTERM (or the image's STOPSIGNAL). A program that handles it
 * exits on its own; one that ignores it (PID 1 without a handler: sleep, shells, node) is
 * killed with SIGKILL at the end of the grace period: exit code 137.
 */
export const STOP_RULES: readonly { readonly name: string; readonly when: (plan: ContainerPlan, hookMs: number, graceMs: number) => boolean; readonly decide: (plan: ContainerPlan, hookMs: number, graceMs: number) => StopDecision }[] = [
  {
    name: "exits-on-sigterm",
    when: (plan, hookMs, graceMs) => plan.sigterm !== "ignore" && plan.sigterm.afterMs <= Math.max(graceMs - hookMs, MINIMUM_GRACE_PERIOD_MS),
    decide: (plan, hookMs) => {
      const s = plan.sigterm as { code: number; afterMs: number };
      return { hookMs, exitAfterMs: hookMs + s.afterMs, exitCode: s.code, graceful: true, rule: "exits-on-sigterm" };
    },
  },
  {
    name: "sigkill-after-grace",
    when: () => true,
    decide: (_plan, hookMs, graceMs) => ({ hookMs, exitAfterMs: hookMs + Math.max(graceMs - hookMs, MINIMUM_GRACE_PERIOD_MS), exitCode: 137, graceful: false, rule: "sigkill-after-grace" }),
  },
];

// ---------------------------------------------------------------------------------------------
// The machine

function defaultProbe(spec: ProbeSpec): ProbeWorker["spec"] {
  return {
    ...spec,
    initialDelaySeconds: spec.initialDelaySeconds ?? PROBE_DEFAULTS.initialDelaySeconds,
    timeoutSeconds: spec.timeoutSeconds ?? PROBE_DEFAULTS.timeoutSeconds,
    periodSeconds: spec.periodSeconds ?? PROBE_DEFAULTS.periodSeconds,
    successThreshold: spec.successThreshold ?? PROBE_DEFAULTS.successThreshold,
    failureThreshold: spec.failureThreshold ?? PROBE_DEFAULTS.failureThreshold,
  };
}

const PROBE_NAME = { liveness: "Liveness", readiness: "Readiness", startup: "Startup" } as const;
const MAX_TIMELINE = 2000;

/** A container of a pod on a node: its instances, back-off state, probes and logs. */
export class ContainerMachine {
  readonly options: ContainerMachineOptions;
  /** The container spec (replaced by `updateSpec` when the pod's image changes). */
  spec: MachineContainerSpec;
  /** Steps taken so far (capped), for tests and `describe`-like views. */
  readonly timeline: TimelineEntry[] = [];
  /** Container restart back-off entry (`getStableKey(pod, container)`). */
  restartBackoff: BackoffRecord | undefined;
  /** Last CreateContainerConfigError message. */
  lastEnvError: string | undefined;

  private readonly instances: Instance[] = [];
  private waiting: { reason: string; message?: string } | undefined;
  private pullBackoff: { key: string; record: BackoffRecord } | undefined;
  private syncing = false;
  private pendingSync = false;
  private retryTimer: Timer | undefined;
  private stopped = false;
  private halted = false;
  private planCache: { key: string; plan: ContainerPlan } | undefined;
  private parsed: ParsedImage | undefined;

  constructor(options: ContainerMachineOptions) {
    this.options = options;
    this.spec = options.spec;
  }

  // --- facts used by the rule tables ---------------------------------------------------------

  /** Clock time. */
  now(): number {
    return this.options.clock.now();
  }

  /** The latest instance. */
  get current(): Instance | undefined {
    return this.instances[this.instances.length - 1];
  }

  /** True once the pod is being torn down or the node is gone: nothing more starts. */
  gone(): boolean {
    return this.stopped || this.halted;
  }

  /** `ShouldContainerBeRestarted` for this container's latest instance. */
  shouldRestart(): boolean {
    const cur = this.current;
    if (this.stopped) return false;
    if (!cur) {
      const prior = this.options.prior;
      if (!prior) return true;
      const policy = this.effectivePolicy();
      return policy === "Always" || (policy === "OnFailure" && (prior.exitCode ?? 0) !== 0);
    }
    if (cur.state === "running") return false;
    if (cur.state === "created") return true;
    if (cur.afterKill === "restart" || cur.afterKill === "back-off") return true;
    const policy = this.effectivePolicy();
    if (policy === "Never") return false;
    if (policy === "OnFailure") return (cur.exitCode ?? 0) !== 0;
    return true;
  }

  /** Restart policy that applies: sidecars always restart, init containers restart only on failure (unless the pod says Never). */
  effectivePolicy(): "Always" | "OnFailure" | "Never" {
    if (this.options.kind === "sidecar") return "Always";
    if (this.options.kind === "init") return this.options.pod.restartPolicy === "Never" ? "Never" : "OnFailure";
    return this.options.pod.restartPolicy;
  }

  /** The parsed image reference. */
  parsedImage(): ParsedImage {
    if (!this.parsed) this.parsed = parseImage(this.spec.image ?? "");
    return this.parsed;
  }

  /** `imagePullPolicy`, defaulted as the API server does when absent. */
  pullPolicy(): "Always" | "IfNotPresent" | "Never" {
    if (this.spec.imagePullPolicy) return this.spec.imagePullPolicy;
    const p = this.parsedImage();
    if (!p.ok) return "IfNotPresent";
    return p.ref.tag === "latest" && !p.ref.digest ? "Always" : "IfNotPresent";
  }

  /** The image is present on the node. */
  imagePresent(): boolean {
    return this.options.images.imageRef(this.spec.image ?? "") !== undefined;
  }

  /** The pull back-off entry for the current image (`<pod UID>_<image>`). */
  pullBackoffFor(): BackoffRecord | undefined {
    const key = `${this.options.pod.uid}_${this.spec.image ?? ""}`;
    return this.pullBackoff?.key === key ? this.pullBackoff.record : undefined;
  }

  /** Stores the pull back-off entry for the current image. */
  setPullBackoff(record: BackoffRecord): void {
    this.pullBackoff = { key: `${this.options.pod.uid}_${this.spec.image ?? ""}`, record };
  }

  /** The plan for this environment (cached while the environment is unchanged). */
  planFor(env: Record<string, string>): ContainerPlan {
    const full = { HOSTNAME: this.options.pod.name, ...env };
    const key = JSON.stringify(full);
    if (this.planCache?.key !== key) this.planCache = { key, plan: planContainer(this.spec, full, { hostname: this.options.pod.name, seed: `${this.options.pod.uid}/${this.spec.name}` }) };
    return this.planCache.plan;
  }

  /** `spec.containers{web}` or `spec.initContainers{init}`. */
  fieldPath(): string {
    return `spec.${this.options.kind === "regular" ? "containers" : "initContainers"}{${this.spec.name}}`;
  }

  /** `format.Pod`: `name_namespace(uid)`. */
  podRef(): string {
    const p = this.options.pod;
    return `${p.name}_${p.namespace}(${p.uid})`;
  }

  /** Records a container event. */
  event(type: "Normal" | "Warning", reason: string, message: string): void {
    if (this.halted) return;
    this.options.onEvent({ type, reason, message, fieldPath: this.fieldPath(), time: this.now() });
  }

  /** Records a timeline step. */
  mark(stage: string, detail?: string): void {
    this.timeline.push({ time: this.now(), stage, ...(detail !== undefined ? { detail } : {}) });
    if (this.timeline.length > MAX_TIMELINE) this.timeline.splice(0, this.timeline.length - MAX_TIMELINE);
  }

  /** Writes the reason cache entry shown as `waiting` while the container is not running. */
  setWaiting(reason: string, message?: string): void {
    this.waiting = { reason, message };
    this.mark(reason, message);
  }

  // --- sync ------------------------------------------------------------------------------------

  /**
   * One pass of the pod worker over this container. Calls arriving while a pass is running
   * (an image pull) are folded into one more pass afterwards, as the pod worker does.
   */
  async sync(decided = false): Promise<void> {
    if (this.gone()) return;
    if (this.syncing) {
      this.pendingSync = true;
      return;
    }
    this.syncing = true;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    let outcome: Outcome = "done";
    try {
      const ctx: SyncContext = { m: this, decided };
      for (const rule of SYNC_RULES) {
        if (!rule.when(ctx)) continue;
        outcome = await rule.run(ctx);
        if (outcome !== "next") break;
      }
    } finally {
      this.syncing = false;
    }
    if (outcome === "retry" && !this.gone()) this.scheduleRetry();
    this.options.onChange();
    if (this.pendingSync && !this.gone()) {
      this.pendingSync = false;
      this.options.clock.setTimeout(() => void this.sync(), 0);
    }
  }

  private scheduleRetry(): void {
    const jitter = this.options.random ? this.options.random() * POD_WORKER_JITTER_FACTOR * POD_WORKER_BACKOFF_MS : 0;
    this.retryTimer?.cancel();
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.sync();
    }, POD_WORKER_BACKOFF_MS + jitter);
  }

  /** The kubelet sees an exit at the next relist; the simulation reacts at once (same instant). */
  private plegSync(): void {
    if (this.gone()) return;
    this.options.clock.setTimeout(() => void this.sync(), 0);
  }

  /** doBackOff's failure branch: BackOff event and CrashLoopBackOff waiting. */
  crashLoopBackOff(): Outcome {
    const delay = formatGoDuration(this.restartBackoff?.backoffMs ?? CONTAINER_BACKOFF.initialMs);
    this.event("Warning", CONTAINER_EVENT.backOff, `Back-off restarting failed container ${this.spec.name} in pod ${this.podRef()}`);
    this.setWaiting("CrashLoopBackOff", `back-off ${delay} restarting failed container=${this.spec.name} pod=${this.podRef()}`);
    return "retry";
  }

  private newInstance(imageRef: string | undefined, plan: ContainerPlan): Instance {
    const prev = this.current;
    const restartCount = prev ? prev.restartCount + 1 : this.options.prior ? this.options.prior.restartCount + 1 : 0;
    const seed = this.options.seed ?? this.options.pod.uid;
    const parsed = this.parsedImage();
    const inst: Instance = {
      id: `containerd://${_sha256Hex(`${seed}/${this.spec.name}/${restartCount}`)}`,
      state: "created",
      restartCount,
      image: parsed.ok ? parsed.ref.fullName : this.spec.image ?? "",
      imageID: imageRef ?? this.options.images.imageRef(this.spec.image ?? "") ?? "",
      plan,
      log: new InstanceLog(this.now()),
      timers: new Set(),
      probes: [],
      requests: [],
      exitWaiters: [],
    };
    this.instances.push(inst);
    // The runtime keeps the latest dead instance besides the new one (container GC).
    if (this.instances.length > 2) this.instances.splice(0, this.instances.length - 2);
    return inst;
  }

  /** startContainer with a runtime start failure: Created, then Failed, exit 128 (StartError). */
  startFailed(imageRef: string, plan: ContainerPlan): void {
    const inst = this.newInstance(imageRef, plan);
    this.event("Normal", CONTAINER_EVENT.created, createdMessage(this.spec.name));
    this.event("Warning", CONTAINER_EVENT.failed, `Error: ${plan.startError}`);
    inst.state = "exited";
    inst.exitCode = 128;
    inst.reason = "StartError";
    inst.message = plan.startError;
    inst.finishedAt = this.now();
    inst.log.end(this.now());
    this.setWaiting("RunContainerError", plan.startError);
    this.plegSync();
  }

  /** startContainer: Created, Started, then the plan plays on the clock. */
  startInstance(imageRef: string, plan: ContainerPlan): void {
    const inst = this.newInstance(imageRef, plan);
    const now = this.now();
    this.event("Normal", CONTAINER_EVENT.created, createdMessage(this.spec.name));
    inst.state = "running";
    inst.startedAt = now;
    this.event("Normal", CONTAINER_EVENT.started, startedMessage(this.spec.name));
    this.waiting = undefined;
    this.mark("start", `restartCount=${inst.restartCount}`);
    inst.log.setPlan(plan.steps, plan.loop);
    if (plan.server) {
      const readyAt = now + plan.server.startAtMs + plan.startDelayMs;
      inst.log.append(...serverStartupLines(plan.server, now + plan.server.startAtMs, readyAt, this.logContext(inst)));
    }
    if (plan.exit) {
      const exit = plan.exit;
      this.after(inst, exit.afterMs, () => this.finish(inst, exit.code, exit.reason, exit.cause === "program" ? "exit" : exit.cause));
    }
    this.startProbes(inst);
  }

  private logContext(inst: Instance): LogContext {
    return { seed: inst.id, podIP: this.options.podIP(), hostname: this.options.pod.name, cpus: this.options.cpus };
  }

  /** The instance's process ended (by itself, OOM, or after a kill). */
  private finish(inst: Instance, code: number, reason: string, stage: string): void {
    if (inst.state !== "running") return;
    const now = this.now();
    inst.state = "exited";
    inst.exitCode = code;
    inst.reason = reason;
    inst.finishedAt = now;
    for (const t of inst.timers) t.cancel();
    inst.timers.clear();
    inst.log.end(now);
    for (const p of inst.probes) p.onHold = true;
    this.mark(stage, `exitCode=${code} reason=${reason}`);
    for (const resolve of inst.exitWaiters.splice(0)) resolve();
    if (this.halted) return;
    this.options.onChange();
    if (inst !== this.current || this.stopped) return;
    if (inst.afterKill === "restart") void this.sync(true);
    else if (inst.afterKill === "back-off") {
      this.crashLoopBackOff();
      this.scheduleRetry();
      this.options.onChange();
    } else this.plegSync();
  }

  // --- probes ----------------------------------------------------------------------------------

  private startProbes(inst: Instance): void {
    const types = ["startup", "readiness", "liveness"] as const;
    for (const type of types) {
      const spec = this.spec[`${type}Probe`];
      if (!spec) continue;
      // Initial results: readiness Failure, liveness Success, startup Unknown (`prober/worker.go`).
      inst.probes.push({ type, spec: defaultProbe(spec), result: type === "readiness" ? "failure" : type === "liveness" ? "success" : "pending", resultRun: 0, onHold: false });
    }
    for (const w of inst.probes) {
      const first = w.spec.initialDelaySeconds * 1000;
      this.scheduleProbe(inst, w, first);
    }
    const readiness = inst.probes.find((w) => w.type === "readiness");
    // The kubelet regenerates the pod status when PLEG sees the new container and runs a
    // not-yet-ready readiness probe at once (prober_manager UpdatePodStatus).
    if (readiness && readiness.spec.initialDelaySeconds * 1000 < PLEG_RELIST_MS) {
      this.after(inst, PLEG_RELIST_MS, () => this.runProbe(inst, readiness));
    }
  }

  /** Runs `fn` after `ms` unless the instance's timers are cancelled first. */
  private after(inst: Instance, ms: number, fn: () => void): void {
    const t = this.options.clock.setTimeout(() => {
      inst.timers.delete(t);
      fn();
    }, ms);
    inst.timers.add(t);
  }

  private scheduleProbe(inst: Instance, w: ProbeWorker, delayMs: number): void {
    this.after(inst, delayMs, () => {
      if (inst.state !== "running" || inst !== this.current) return;
      this.runProbe(inst, w);
      this.scheduleProbe(inst, w, w.spec.periodSeconds * 1000);
    });
  }

  private isPauseImage(): boolean {
    const p = this.parsedImage();
    return p.ok && imageProfile(p.ref)?.runs.kind === "pause" && !this.spec.command?.length;
  }

  private started(inst: Instance): boolean {
    const startup = inst.probes.find((w) => w.type === "startup");
    return !startup || startup.result === "success";
  }

  private resolvePort(port: number | string | undefined): number | undefined {
    if (typeof port === "number") return port;
    if (port === undefined) return undefined;
    if (/^\d+$/.test(port)) return Number(port);
    return this.spec.ports?.find((p) => p.name === port)?.containerPort;
  }

  /** The instance's files at `elapsedMs` (from its plan). */
  private filesAt(inst: Instance, elapsedMs: number): Map<string, boolean> {
    const files = new Map<string, boolean>();
    const apply = (s: PlanStep, at: number) => {
      if ("file" in s && at <= elapsedMs) files.set(s.file, s.exists);
    };
    for (const s of inst.plan.steps) apply(s, s.at);
    if (inst.plan.loop && elapsedMs >= inst.plan.loop.startMs) for (const s of inst.plan.loop.steps) apply(s, inst.plan.loop.startMs + s.at);
    return files;
  }

  /** `worker.doProbe` for one probe of the current instance. */
  private runProbe(inst: Instance, w: ProbeWorker): void {
    if (this.halted || inst.state !== "running" || inst !== this.current || w.onHold) return;
    const now = this.now();
    const elapsed = now - (inst.startedAt ?? now);
    if (elapsed < w.spec.initialDelaySeconds * 1000) return;
    const started = this.started(inst);
    if (w.type === "startup" && started) return;
    if (w.type !== "startup" && !started) return;
    const probe = w.spec;
    const port = this.resolvePort(probe.httpGet?.port ?? probe.tcpSocket?.port ?? probe.grpc?.port);
    const parsed = this.parsedImage();
    const answer = answerProbe({
      type: w.type,
      probe,
      plan: inst.plan,
      elapsedMs: elapsed,
      podIP: this.options.podIP(),
      port,
      files: this.filesAt(inst, elapsed),
      imageKey: parsed.ok ? (imageProfile(parsed.ref)?.name ?? parsed.ref.key) : undefined,
    });
    if (answer.httpStatus !== undefined && inst.plan.server) {
      inst.log.append(
        ...accessLogLines(inst.plan.server, {
          time: now,
          clientIP: this.options.hostIP,
          host: `${this.options.podIP()}:${port ?? 80}`,
          method: "GET",
          path: probe.httpGet?.path ?? "/",
          status: answer.httpStatus,
          userAgent: KUBE_PROBE_USER_AGENT,
          workerPid: serverWorkerPid(this.logContext(inst)),
        }),
      );
    }
    const result = answer.success ? "success" : "failure";
    if (!answer.success) this.event("Warning", CONTAINER_EVENT.unhealthy, `${PROBE_NAME[w.type]} probe failed: ${answer.output}`);
    if (w.lastResult === result) w.resultRun++;
    else {
      w.lastResult = result;
      w.resultRun = 1;
    }
    if ((result === "failure" && w.resultRun < probe.failureThreshold) || (result === "success" && w.resultRun < probe.successThreshold)) return;
    const changed = w.result !== result;
    w.result = result;
    if (changed) {
      this.mark(`${w.type}-${result}`, answer.output || undefined);
      this.options.onChange();
    }
    if (w.type === "startup" && result === "success" && changed) {
      // The status update triggers a readiness probe at once.
      const readiness = inst.probes.find((x) => x.type === "readiness");
      if (readiness) this.runProbe(inst, readiness);
    }
    if ((w.type === "liveness" || w.type === "startup") && result === "failure") {
      w.onHold = true;
      w.resultRun = 0;
      this.killForProbe(inst, w);
    }
  }

  /** computePodActions for a failed liveness/startup probe: kill, and restart when the policy allows. */
  private killForProbe(inst: Instance, w: ProbeWorker): void {
    const graceMs = (w.spec.terminationGracePeriodSeconds ?? this.options.pod.terminationGracePeriodSeconds) * 1000;
    this.killAndRestart(inst, `Container ${this.spec.name} failed ${w.type} probe`, this.effectivePolicy() !== "Never", graceMs, `${w.type}-kill`);
  }

  /**
   * computePodActions/SyncPod: kill the running instance with `message` (", will be restarted"
   * added when it restarts) and, in the same sync, decide its restart with doBackOff.
   */
  private killAndRestart(inst: Instance, reason: string, restart: boolean, graceMs: number, stage: string): void {
    const message = restart ? `${reason}, will be restarted` : reason;
    if (restart) {
      // doBackOff runs in the same SyncPod, on the pod status from before the kill: the latest
      // *exited* instance is the previous one.
      const prev = this.instances.length > 1 ? this.instances[this.instances.length - 2] : undefined;
      if (prev?.state === "exited" && isInBackOffSince(this.restartBackoff, prev.finishedAt!, this.now(), CONTAINER_BACKOFF)) inst.afterKill = "back-off";
      else {
        if (prev?.state === "exited") this.restartBackoff = nextBackoff(this.restartBackoff, prev.finishedAt!, this.now(), CONTAINER_BACKOFF);
        inst.afterKill = "restart";
      }
    } else inst.afterKill = "stay";
    this.mark(stage, message);
    this.stopInstance(inst, message, graceMs);
  }

  /**
   * A newer spec for this container (only `image` may change on a pod): the kubelet sees the
   * container's hash change and restarts it with the new image: "Container web definition
   * changed, will be restarted". A container still waiting (a mistyped image) is synced at
   * once when `syncNow`, so fixing the image takes effect without waiting for the retry.
   */
  updateSpec(spec: MachineContainerSpec, syncNow: boolean): void {
    if ((spec.image ?? "") === (this.spec.image ?? "")) return;
    this.spec = spec;
    this.parsed = undefined;
    this.planCache = undefined;
    const inst = this.current;
    if (inst?.state === "running" && inst.stoppingSince === undefined) {
      this.killAndRestart(inst, `Container ${spec.name} definition changed`, true, this.options.pod.terminationGracePeriodSeconds * 1000, "definition-changed");
    } else if (syncNow) void this.sync();
  }

  // --- stopping --------------------------------------------------------------------------------

  /** killContainer: Killing event, preStop hook, SIGTERM, SIGKILL at the end of the grace period. */
  private stopInstance(inst: Instance, message: string, graceMs: number): void {
    if (inst.state !== "running" || inst.stoppingSince !== undefined) return;
    const now = this.now();
    inst.stoppingSince = now;
    this.event("Normal", CONTAINER_EVENT.killing, message);
    for (const p of inst.probes) p.onHold = true;
    const hookMs = hookDurationMs(this.spec.lifecycle?.preStop);
    const rule = STOP_RULES.find((r) => r.when(inst.plan, hookMs, graceMs))!;
    const d = rule.decide(inst.plan, hookMs, graceMs);
    this.mark(`stop:${d.rule}`, `exitCode=${d.exitCode} after ${formatGoDuration(d.exitAfterMs)}`);
    if (d.graceful && inst.plan.server) inst.log.append(...serverShutdownLines(inst.plan.server, now + d.hookMs, this.logContext(inst)));
    else if (d.graceful && this.isPauseImage()) inst.log.append({ time: now + d.hookMs, stream: "stdout", text: PAUSE_SHUTDOWN });
    this.after(inst, d.exitAfterMs, () => this.finish(inst, d.exitCode, d.exitCode === 0 ? "Completed" : "Error", "stopped"));
  }

  /**
   * Stops the container for good (pod deletion, eviction): no more restarts, the running
   * instance gets "Stopping container <name>" and the grace period. Resolves once it has exited.
   */
  terminate(graceMs: number): Promise<void> {
    this.stopped = true;
    this.retryTimer?.cancel();
    this.retryTimer = undefined;
    const inst = this.current;
    if (!inst || inst.state !== "running") return Promise.resolve();
    return new Promise((resolve) => {
      inst.exitWaiters.push(resolve);
      if (inst.stoppingSince === undefined) this.stopInstance(inst, `Stopping container ${this.spec.name}`, graceMs);
    });
  }

  /** Forgets all timers without any further status or event (the node stopped). */
  halt(): void {
    this.halted = true;
    this.retryTimer?.cancel();
    for (const i of this.instances) for (const t of i.timers) t.cancel();
  }

  // --- faults and traffic ----------------------------------------------------------------------

  /** Makes the running instance crash now (a fault): exit code 1, reason Error. */
  crash(): boolean {
    const inst = this.current;
    if (!inst || inst.state !== "running") return false;
    inst.log.append({ time: this.now(), stream: "stderr", text: "fatal error: simulated crash (fault injected)" });
    this.finish(inst, 1, "Error", "crash");
    return true;
  }

  /** Kills the running instance as the kernel's OOM killer would: exit code 137, reason OOMKilled. */
  oomKill(): boolean {
    const inst = this.current;
    if (!inst || inst.state !== "running") return false;
    this.finish(inst, 137, "OOMKilled", "oom-kill");
    return true;
  }

  /**
   * Serves one HTTP request that reached this container on `port` (kube-proxy's choice):
   * the status the program answers, or undefined when nothing listens (connection refused).
   * The request is logged in the server's access-log format and counted for CPU usage.
   */
  serve(request: { port: number; path: string; method?: string; clientIP: string; userAgent?: string; host?: string }): number | undefined {
    const inst = this.current;
    if (!inst || inst.state !== "running" || !inst.plan.server) return undefined;
    const now = this.now();
    const elapsed = now - (inst.startedAt ?? now);
    const server = inst.plan.server;
    if (elapsed < server.startAtMs + inst.plan.startDelayMs) return undefined;
    if (server.ports && !server.ports.includes(request.port)) return undefined;
    const path = request.path.split("?")[0];
    const status = server.httpPaths && !server.httpPaths.includes(path) ? 404 : 200;
    inst.log.append(
      ...accessLogLines(server, {
        time: now,
        clientIP: request.clientIP,
        host: request.host ?? this.options.podIP(),
        method: request.method ?? "GET",
        path: request.path,
        status,
        userAgent: request.userAgent ?? "curl/8.5.0",
        workerPid: serverWorkerPid(this.logContext(inst)),
      }),
    );
    inst.requests.push(now);
    if (inst.requests.length > 10_000) inst.requests.splice(0, inst.requests.length - 10_000);
    return status;
  }

  /** CPU (millicores) and memory (bytes) in use now; zero when not running. */
  usage(windowMs = 15_000): { cpuMillis: number; memoryBytes: number } {
    const inst = this.current;
    if (!inst || inst.state !== "running") return { cpuMillis: 0, memoryBytes: 0 };
    const now = this.now();
    const recent = inst.requests.filter((t) => t >= now - windowMs).length;
    const rps = recent / (windowMs / 1000);
    return { cpuMillis: Math.ceil(1 + inst.plan.cpuPerRequestMillis * rps), memoryBytes: inst.plan.memoryBytes };
  }

  // --- views -----------------------------------------------------------------------------------

  private toRuntime(i: Instance): RuntimeInstance {
    return {
      id: i.id,
      state: i.state,
      ...(i.startedAt !== undefined ? { startedAt: i.startedAt } : {}),
      ...(i.finishedAt !== undefined ? { finishedAt: i.finishedAt } : {}),
      ...(i.exitCode !== undefined ? { exitCode: i.exitCode } : {}),
      ...(i.reason !== undefined ? { reason: i.reason } : {}),
      ...(i.message !== undefined ? { message: i.message } : {}),
      restartCount: i.restartCount,
      image: i.image,
      imageID: i.imageID,
    };
  }

  private probeState(type: "startup" | "readiness"): ProbeState {
    if (!this.spec[`${type}Probe`]) return "none";
    const inst = this.current;
    const w = inst?.probes.find((p) => p.type === type);
    if (!inst || inst.state !== "running" || !w) return type === "readiness" ? "failure" : "pending";
    return w.result;
  }

  /** What the kubelet knows about this container, for `buildPodStatus`. */
  view(): ContainerRuntimeView {
    const cur = this.current;
    const prev = this.instances.length > 1 ? this.instances[this.instances.length - 2] : undefined;
    // Before the first instance after a node restart, the runtime still reports the one before it.
    const prior = this.options.prior;
    const current = cur ? this.toRuntime(cur) : prior;
    const previous = prev ? this.toRuntime(prev) : cur ? prior : undefined;
    return {
      name: this.spec.name,
      ...(current ? { current } : {}),
      ...(previous ? { previous } : {}),
      ...(this.waiting ? { waiting: { ...this.waiting } } : {}),
      startup: this.probeState("startup"),
      readiness: this.probeState("readiness"),
    };
  }

  /** The plan of the latest instance (what the program does). */
  plan(): ContainerPlan | undefined {
    return this.current?.plan;
  }

  /** Log lines of the instance with this container ID (current or previous), up to now. */
  logsOf(containerID: string, options: { tailLines?: number; sinceMs?: number } = {}): LogLine[] | undefined {
    const inst = this.instances.find((i) => i.id === containerID);
    return inst?.log.lines(this.now(), options);
  }
}

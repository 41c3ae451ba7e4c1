import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SIM_VARIABLES, WORKLOAD_SHAPES, expandKubeVars, parseSimEnv, planContainer, type ContainerPlan, type ContainerSpec } from "../../src/cluster/runtime/workload.js";

const MiB = 1024 * 1024;

/** The parts of a plan a golden case pins. */
function golden(plan: ContainerPlan) {
  return {
    shape: plan.shape,
    logs: plan.steps.filter((s) => "log" in s).map((s) => `${s.at}ms ${"log" in s ? s.log : ""}`),
    files: plan.steps.filter((s) => "file" in s).map((s) => `${s.at}ms ${"file" in s ? `${s.exists ? "+" : "-"}${s.file}` : ""}`),
    loop: plan.loop ? { startMs: plan.loop.startMs, periodMs: plan.loop.periodMs, logs: plan.loop.steps.map((s) => ("log" in s ? s.log : `file ${s.file}`)) } : undefined,
    exit: plan.exit ? `${plan.exit.code} ${plan.exit.reason} after ${plan.exit.afterMs}ms (${plan.exit.cause})` : "runs until stopped",
    server: plan.server ? `${plan.server.program}:${plan.server.ports?.join(",") ?? "any"}` : undefined,
    sigterm: plan.sigterm === "ignore" ? "ignore" : `exit ${plan.sigterm.code}`,
    startError: plan.startError,
  };
}

const c = (spec: Partial<ContainerSpec>): ContainerSpec => ({ name: "app", ...spec });
const plan = (spec: Partial<ContainerSpec>, env: Record<string, string> = {}) => planContainer(c(spec), env, { hostname: "web-abc" });

/** Golden cases: [name, spec, env, expected (partial)] — every shape has at least one. */
const CASES: [string, Partial<ContainerSpec>, Record<string, string>, Partial<ReturnType<typeof golden>>][] = [
  ["nginx runs its server", { image: "nginx" }, {}, { shape: "image-default", exit: "runs until stopped", server: "nginx:80", sigterm: "exit 0" }],
  ["redis runs its server", { image: "redis:7.2" }, {}, { shape: "image-default", server: "redis:6379" }],
  ["postgres without a password exits 1", { image: "postgres:16" }, {}, { shape: "image-default", exit: "1 Error after 100ms (required-env)" }],
  ["postgres with a password serves", { image: "postgres:16" }, { POSTGRES_PASSWORD: "s3cret" }, { shape: "image-default", server: "postgres:5432" }],
  ["mysql without a root password exits 1", { image: "mysql:8.0" }, {}, { exit: "1 Error after 100ms (required-env)" }],
  ["busybox with no command exits 0 at once", { image: "busybox" }, {}, { shape: "image-default", exit: "0 Completed after 20ms (program)" }],
  ["alpine with stdin open keeps its shell", { image: "alpine", stdin: true }, {}, { shape: "image-default", exit: "runs until stopped" }],
  ["ubuntu with no command exits 0 at once", { image: "ubuntu:22.04" }, {}, { exit: "0 Completed after 20ms (program)" }],
  ["python with no command exits 0 at once", { image: "python:3.12" }, {}, { exit: "0 Completed after 20ms (program)" }],
  ["the pause image sleeps", { image: "registry.k8s.io/pause:3.10" }, {}, { exit: "runs until stopped", server: undefined, sigterm: "exit 0" }],
  ["an unknown image serves on its ports", { image: "registry.k8s.io/test-webserver", ports: [{ containerPort: 8080 }] }, {}, { shape: "image-default", server: "generic:8080", sigterm: "exit 143" }],
  ["server flags for redis", { image: "redis", args: ["--appendonly", "yes"] }, {}, { shape: "server-flags", server: "redis:6379" }],
  ["sh -c with echo and sleep", { image: "busybox", command: ["sh", "-c", "echo hello; sleep 3600"] }, {}, { shape: "shell-script", logs: ["0ms hello"], exit: "0 Completed after 3600000ms (program)", sigterm: "ignore" }],
  ["sh -c exit 3", { image: "busybox", command: ["sh", "-c", "exit 3"] }, {}, { shape: "shell-script", exit: "3 Error after 0ms (program)" }],
  ["/bin/sh -c via args", { image: "busybox", args: ["/bin/sh", "-c", "echo a; echo b; exit 2"] }, {}, { shape: "shell-script", logs: ["0ms a", "0ms b"], exit: "2 Error after 0ms (program)" }],
  ["bash -c", { image: "ubuntu", command: ["bash", "-c", "sleep 2m; echo done"] }, {}, { shape: "shell-script", logs: ["120000ms done"], exit: "0 Completed after 120000ms (program)" }],
  ["sh -c -- with the script in args", { image: "busybox", command: ["/bin/sh", "-c", "--"], args: ["while true; do sleep 30; done;"] }, {}, { shape: "shell-script", loop: { startMs: 0, periodMs: 30000, logs: [] }, exit: "runs until stopped" }],
  ["a while loop with date repeats", { image: "busybox", command: ["sh", "-c", "while true; do echo $(date) hi $HOSTNAME; sleep 5; done"] }, {}, { loop: { startMs: 0, periodMs: 5000, logs: ["{{date}} hi web-abc"] } }],
  ["the docs' liveness script creates and removes a file", { image: "busybox", args: ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"] }, {}, { files: ["0ms +/tmp/healthy", "30000ms -/tmp/healthy"], exit: "0 Completed after 630000ms (program)" }],
  ["the script's last command is the application", { image: "node:0.10.40", command: ["/bin/sh", "-c"], args: ["cd /home && npm install && node app.js"] }, {}, { shape: "shell-script", server: "generic:any", exit: "runs until stopped", sigterm: "ignore" }],
  ["exec hands PID 1 to the program", { image: "nginx", command: ["sh", "-c", "echo starting; exec nginx -g 'daemon off;'"] }, {}, { logs: ["0ms starting"], server: "nginx:80", sigterm: "exit 0" }],
  ["set -e stops at the first failure", { image: "busybox", command: ["sh", "-c", "set -e; echo one; false; echo two"] }, {}, { logs: ["0ms one"], exit: "1 Error after 0ms (program)" }],
  ["&& and || chain", { image: "busybox", command: ["sh", "-c", "false && echo no || echo yes; true && echo also"] }, {}, { logs: ["0ms yes", "0ms also"], exit: "0 Completed after 0ms (program)" }],
  ["a for loop unrolls", { image: "busybox", command: ["sh", "-c", "for i in 1 2 3; do echo step $i; sleep 1; done"] }, {}, { logs: ["0ms step 1", "1000ms step 2", "2000ms step 3"], exit: "0 Completed after 3000ms (program)" }],
  ["a trap makes SIGTERM exit cleanly", { image: "busybox", command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] }, {}, { sigterm: "exit 0", exit: "runs until stopped" }],
  ["an unterminated quote is a syntax error", { image: "busybox", command: ["sh", "-c", 'echo "oops'] }, {}, { logs: ["0ms sh: syntax error: unterminated quoted string"], exit: "2 Error after 0ms (program)" }],
  ["a missing done is a syntax error", { image: "busybox", command: ["sh", "-c", "while true; do echo x"] }, {}, { exit: "2 Error after 0ms (program)" }],
  ["sh alone exits at once", { image: "busybox", command: ["sh"] }, {}, { shape: "shell", exit: "0 Completed after 20ms (program)" }],
  ["a builtin cannot be exec'd", { image: "busybox", command: ["exit", "3"] }, {}, { shape: "shell-builtin", startError: 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "exit": executable file not found in $PATH: unknown' }],
  ["sleep N", { image: "busybox", command: ["sleep", "10"] }, {}, { shape: "sleep", exit: "0 Completed after 10000ms (program)", sigterm: "ignore" }],
  ["sleep infinity", { image: "busybox", command: ["sleep", "infinity"] }, {}, { shape: "sleep", exit: "runs until stopped" }],
  ["sleep via args on busybox", { image: "busybox", args: ["sleep", "1h"] }, {}, { shape: "sleep", exit: "0 Completed after 3600000ms (program)" }],
  ["true", { image: "busybox", command: ["true"] }, {}, { shape: "true-false", exit: "0 Completed after 0ms (program)" }],
  ["false", { image: "busybox", command: ["false"] }, {}, { shape: "true-false", exit: "1 Error after 0ms (program)" }],
  ["echo", { image: "busybox", command: ["echo", "hello", "world"] }, {}, { shape: "echo", logs: ["0ms hello world"], exit: "0 Completed after 0ms (program)" }],
  ["printf", { image: "busybox", command: ["printf", "%s=%s\\n", "a", "b"] }, {}, { shape: "echo", logs: ["0ms a=b"] }],
  ["the Job docs' perl pi", { image: "perl:5.34.0", command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(20)"] }, {}, { shape: "perl-pi", logs: ["100ms 3.1415926535897932385"], exit: "0 Completed after 110ms (program)" }],
  ["date prints the time", { image: "busybox", command: ["date"] }, {}, { shape: "utility", logs: ["0ms {{date}}"], exit: "0 Completed after 0ms (program)" }],
  ["env prints the environment", { image: "busybox", command: ["printenv", "GREETING"] }, { GREETING: "hi" }, { shape: "utility", logs: ["0ms hi"] }],
  ["tail -f runs until stopped", { image: "busybox", command: ["tail", "-f", "/dev/null"] }, {}, { shape: "utility", exit: "runs until stopped" }],
  ["a server binary in any image", { image: "ubuntu", command: ["nginx", "-g", "daemon off;"] }, {}, { shape: "server-binary", server: "nginx:80" }],
  ["redis-server", { image: "redis:7.2", command: ["redis-server", "--port", "6379"] }, {}, { shape: "server-binary", server: "redis:6379" }],
  ["node as PID 1 ignores SIGTERM", { image: "node:20", command: ["node", "server.js"], ports: [{ containerPort: 3000 }] }, {}, { shape: "interpreter", server: "generic:3000", sigterm: "ignore" }],
  ["java exits 143 on SIGTERM", { image: "eclipse-temurin:21", command: ["java", "-jar", "app.jar"] }, {}, { shape: "interpreter", sigterm: "exit 143" }],
  ["any other program", { image: "example.com/app:1", command: ["/app/server", "--port=8080"] }, {}, { shape: "program", server: "generic:any", sigterm: "exit 143" }],
];

describe("workload shapes (golden)", () => {
  it.each(CASES)("%s", (_name, spec, env, expected) => {
    expect(golden(plan(spec, env))).toMatchObject(expected);
  });

  it("every shape of the table has a golden case", () => {
    const covered = new Set(CASES.map(([, spec, env]) => plan(spec, env).shape));
    expect([...covered].sort()).toEqual(WORKLOAD_SHAPES.map((s) => s.name).sort());
  });

  it("expands $(VAR) in command and args as the kubelet does", () => {
    expect(expandKubeVars("--model=$(MODEL_ID)", { MODEL_ID: "m1" })).toBe("--model=m1");
    expect(expandKubeVars("$(UNSET) and $$(ESCAPED)", {})).toBe("$(UNSET) and $(ESCAPED)");
    const p = plan({ image: "busybox", command: ["echo", "$(GREETING)"] }, { GREETING: "hi" });
    expect(p.argv).toEqual(["echo", "hi"]);
  });

  it("uses the image's ENTRYPOINT with args and its CMD without", () => {
    expect(plan({ image: "nginx" }).argv).toEqual(["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]);
    expect(plan({ image: "redis", args: ["--maxmemory", "10mb"] }).argv).toEqual(["docker-entrypoint.sh", "--maxmemory", "10mb"]);
    expect(plan({ image: "busybox", args: ["sleep", "5"] }).argv).toEqual(["sleep", "5"]);
  });

  it("gives $RANDOM a deterministic value per container", () => {
    const spec = { image: "busybox", command: ["sh", "-c", "while true; do echo tick; sleep $(($RANDOM % 5 + 5)); done"] };
    const a = planContainer(c(spec), {}, { seed: "pod-1/app" });
    const b = planContainer(c(spec), {}, { seed: "pod-1/app" });
    expect(a.loop?.periodMs).toBe(b.loop?.periodMs);
    expect(a.loop!.periodMs).toBeGreaterThanOrEqual(5000);
    expect(a.loop!.periodMs).toBeLessThanOrEqual(9000);
  });
});

describe("SIM_* variables", () => {
  it("SIM_START_DELAY defaults to 1s and sets when the program listens", () => {
    expect(plan({ image: "nginx" }).startDelayMs).toBe(1000);
    expect(plan({ image: "nginx" }, { SIM_START_DELAY: "15s" }).startDelayMs).toBe(15_000);
  });

  it("SIM_CRASH_AFTER makes the program exit 1 with a log line", () => {
    const p = plan({ image: "nginx" }, { SIM_CRASH_AFTER: "30s" });
    expect(p.exit).toEqual({ afterMs: 30_000, code: 1, reason: "Error", cause: "SIM_CRASH_AFTER" });
    expect(p.steps).toContainEqual({ at: 30_000, log: "fatal error: simulated crash after 30s (SIM_CRASH_AFTER)", stream: "stderr" });
  });

  it("SIM_EXIT_AFTER with SIM_EXIT_CODE (default 0)", () => {
    expect(plan({ image: "nginx" }, { SIM_EXIT_AFTER: "2m" }).exit).toEqual({ afterMs: 120_000, code: 0, reason: "Completed", cause: "SIM_EXIT_AFTER" });
    expect(plan({ image: "nginx" }, { SIM_EXIT_AFTER: "2m", SIM_EXIT_CODE: "3" }).exit).toEqual({ afterMs: 120_000, code: 3, reason: "Error", cause: "SIM_EXIT_AFTER" });
  });

  it("the earliest end wins: a 5 s script with SIM_CRASH_AFTER=1m still exits 0 after 5 s", () => {
    expect(plan({ image: "busybox", command: ["sleep", "5"] }, { SIM_CRASH_AFTER: "1m" }).exit).toMatchObject({ afterMs: 5000, code: 0 });
    expect(plan({ image: "busybox", command: ["sleep", "60"] }, { SIM_CRASH_AFTER: "10s" }).exit).toMatchObject({ afterMs: 10_000, code: 1 });
  });

  it("SIM_MEMORY above the memory limit is OOMKilled (137) once the program is up", () => {
    const p = plan({ image: "nginx", resources: { limits: { memory: "128Mi" } } }, { SIM_MEMORY: "300Mi" });
    expect(p.memoryBytes).toBe(300 * MiB);
    expect(p.exit).toEqual({ afterMs: 1000, code: 137, reason: "OOMKilled", cause: "SIM_MEMORY" });
    expect(plan({ image: "nginx", resources: { limits: { memory: "512Mi" } } }, { SIM_MEMORY: "300Mi" }).exit).toBeUndefined();
    expect(plan({ image: "nginx" }, { SIM_MEMORY: "300Mi" }).exit).toBeUndefined();
  });

  it("an image's usual memory above the limit is OOMKilled too (mysql in 256Mi)", () => {
    const p = plan({ image: "mysql:8.0", resources: { limits: { memory: "256Mi" } } }, { MYSQL_ROOT_PASSWORD: "x" });
    expect(p.exit).toMatchObject({ code: 137, reason: "OOMKilled", cause: "memory-limit" });
  });

  it("SIM_CPU_PER_REQUEST is a CPU quantity in millicores", () => {
    expect(plan({ image: "nginx" }, { SIM_CPU_PER_REQUEST: "10m" }).cpuPerRequestMillis).toBe(10);
    expect(plan({ image: "nginx" }, { SIM_CPU_PER_REQUEST: "0.5" }).cpuPerRequestMillis).toBe(500);
    expect(plan({ image: "nginx" }).cpuPerRequestMillis).toBe(0);
  });

  it("SIM_LIVENESS_FAIL_AFTER and SIM_READINESS_FAIL_AFTER", () => {
    const p = plan({ image: "nginx" }, { SIM_LIVENESS_FAIL_AFTER: "1m", SIM_READINESS_FAIL_AFTER: "90s" });
    expect(p.livenessFailAfterMs).toBe(60_000);
    expect(p.readinessFailAfterMs).toBe(90_000);
  });

  it.each([
    ["SIM_START_DELAY", "soon", 'invalid SIM_START_DELAY "soon": use a duration like 10s or 2m'],
    ["SIM_CRASH_AFTER", "ten", 'invalid SIM_CRASH_AFTER "ten": use a duration like 10s or 2m'],
    ["SIM_EXIT_AFTER", "-5s", 'invalid SIM_EXIT_AFTER "-5s": use a duration like 10s or 2m'],
    ["SIM_EXIT_CODE", "256", 'invalid SIM_EXIT_CODE "256": use a whole number from 0 to 255'],
    ["SIM_MEMORY", "lots", 'invalid SIM_MEMORY "lots": use a memory quantity like 300Mi or 1Gi'],
    ["SIM_CPU_PER_REQUEST", "fast", 'invalid SIM_CPU_PER_REQUEST "fast": use a CPU quantity like 10m or 0.5'],
    ["SIM_LIVENESS_FAIL_AFTER", "1 minute", 'invalid SIM_LIVENESS_FAIL_AFTER "1 minute": use a duration like 10s or 2m'],
    ["SIM_READINESS_FAIL_AFTER", "x", 'invalid SIM_READINESS_FAIL_AFTER "x": use a duration like 10s or 2m'],
  ])("%s=%s is refused with a message naming the variable", (name, value, message) => {
    const p = plan({ image: "nginx" }, { [name]: value });
    expect(p.startError).toBe(message);
    expect(p.exit).toBeUndefined();
  });

  it("a misspelt SIM_ variable is refused with a suggestion", () => {
    expect(parseSimEnv({ SIM_CRASH_AFTR: "10s" }).error).toMatch(/^unknown variable SIM_CRASH_AFTR: did you mean SIM_CRASH_AFTER\? the simulator understands SIM_START_DELAY, /);
  });
});

describe("the workload contract document", () => {
  const doc = readFileSync(join(__dirname, "../../docs/workload-contract.md"), "utf8");
  it("lists every SIM_* variable with its default", () => {
    for (const v of SIM_VARIABLES) expect(doc).toMatch(new RegExp(`\\| \`${v.name}\` \\| ${v.default.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\|`));
  });
  it("lists every recognised shape", () => {
    for (const s of WORKLOAD_SHAPES) expect(doc).toContain(`| ${s.name} |`);
  });
});

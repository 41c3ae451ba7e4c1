import { describe, expect, it } from "vitest";
import { PROBE_DEFAULTS, answerProbe, type ProbeContext } from "../../src/cluster/runtime/container.js";
import { planContainer } from "../../src/cluster/runtime/workload.js";
import { cond, only, startPod } from "./_harness.js";

const NGINX = "nginx:1.27";
const httpProbe = (path = "/", port: number | string = 80, extra: Record<string, unknown> = {}) => ({ httpGet: { path, port }, ...extra });

describe("probe defaults", () => {
  it("are those of SetDefaults_Probe", () => {
    expect(PROBE_DEFAULTS).toEqual({ initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  });
});

describe("readiness", () => {
  it("starts as Failure and turns Ready when the program listens (1 s later by default)", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX, readinessProbe: httpProbe() }] }, { preloaded: [NGINX] });
    await run.run(5);
    // 0.5 s: running, not ready yet (the first probe meets a program not listening yet).
    expect(only(run.statusAt(0.5))).toMatchObject({ ready: false, started: true, state: { running: {} } });
    expect(cond(run.statusAt(0.5), "Ready")).toMatchObject({ status: "False", reason: "ContainersNotReady", message: "containers with unready status: [web]" });
    expect(run.eventsOf("Unhealthy")[0]).toMatchObject({
      t: 0.5,
      type: "Warning",
      message: 'Readiness probe failed: Get "http://10.244.1.7:80/": dial tcp 10.244.1.7:80: connect: connection refused',
    });
    // 1.5 s: the status regeneration runs the probe again; the program listens: Ready.
    expect(only(run.statusAt(1.5)).ready).toBe(true);
    expect(cond(run.statusAt(1.5), "Ready")?.status).toBe("True");
  });

  it("with a slow start (SIM_START_DELAY=15s) Ready waits for the probe period after it", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX, readinessProbe: httpProbe(), env: [{ name: "SIM_START_DELAY", value: "15s" }] }] }, { preloaded: [NGINX] });
    await run.run(30);
    // Probes at 0.5 (+1 s trigger), 10.5, 20.5: the first after the program listens (15.5) is 20.5.
    expect(run.statuses.find((s) => only(s.status).ready)?.t).toBe(20.5);
  });

  it("SIM_READINESS_FAIL_AFTER takes the pod out of Ready after failureThreshold failures, without a restart", async () => {
    const run = startPod(
      { containers: [{ name: "web", image: NGINX, readinessProbe: httpProbe("/", 80, { periodSeconds: 5 }), env: [{ name: "SIM_READINESS_FAIL_AFTER", value: "30s" }] }] },
      { preloaded: [NGINX] },
    );
    await run.run(60);
    // Failures at 30.5, 35.5, 40.5 (3 in a row): not ready from 40.5.
    expect(run.statuses.filter((s) => !only(s.status).ready && s.t > 2)[0].t).toBe(40.5);
    expect(run.eventsOf("Unhealthy").filter((e) => e.t > 2).map((e) => e.message)[0]).toBe("Readiness probe failed: HTTP probe failed with statuscode: 503");
    expect(run.eventsOf("Killing")).toEqual([]);
    expect(run.statusAt(60).phase).toBe("Running");
    expect(only(run.statusAt(60)).restartCount).toBe(0);
  });

  it("a probe on a path nginx does not serve gets 404 and the pod never becomes Ready", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX, readinessProbe: httpProbe("/healthz") }] }, { preloaded: [NGINX] });
    await run.run(30);
    expect(only(run.statusAt(30)).ready).toBe(false);
    expect(run.eventsOf("Unhealthy").at(-1)?.message).toBe("Readiness probe failed: HTTP probe failed with statuscode: 404");
  });
});

describe("liveness", () => {
  it("SIM_LIVENESS_FAIL_AFTER: three failures, Killing, restart (nginx exits 0 on its stop signal)", async () => {
    const run = startPod(
      { containers: [{ name: "web", image: NGINX, livenessProbe: httpProbe(), env: [{ name: "SIM_LIVENESS_FAIL_AFTER", value: "20s" }, { name: "SIM_START_DELAY", value: "0s" }] }] },
      { preloaded: [NGINX] },
    );
    await run.run(45);
    expect(run.eventsOf("Unhealthy").map((e) => [e.t, e.message])).toEqual([
      [20.5, "Liveness probe failed: HTTP probe failed with statuscode: 500"],
      [30.5, "Liveness probe failed: HTTP probe failed with statuscode: 500"],
      [40.5, "Liveness probe failed: HTTP probe failed with statuscode: 500"],
    ]);
    expect(run.eventsOf("Killing")).toEqual([{ t: 40.5, type: "Normal", reason: "Killing", message: "Container web failed liveness probe, will be restarted", fieldPath: "spec.containers{web}" }]);
    // nginx's STOPSIGNAL is SIGQUIT: a graceful exit 0 in 100 ms, then the restart.
    expect(run.eventsOf("Started").map((e) => e.t)).toEqual([0.5, 40.6]);
    const s = only(run.statusAt(45));
    expect(s.restartCount).toBe(1);
    expect(s.lastState.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
  });

  it("the docs' exec example: cat /tmp/healthy fails once the script removed it", async () => {
    const run = startPod(
      {
        containers: [
          {
            name: "liveness",
            image: "busybox:1.36",
            args: ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"],
            livenessProbe: { exec: { command: ["cat", "/tmp/healthy"] }, initialDelaySeconds: 5, periodSeconds: 5 },
          },
        ],
      },
      { preloaded: ["busybox:1.36"] },
    );
    await run.run(80);
    expect(run.eventsOf("Unhealthy").map((e) => [e.t, e.message])).toEqual([
      [30.5, "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"],
      [35.5, "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"],
      [40.5, "Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory"],
    ]);
    // The shell ignores SIGTERM: killed after the 30 s grace period, exit 137.
    expect(run.eventsOf("Started").map((e) => e.t)).toEqual([0.5, 70.5]);
    expect(only(run.statusAt(80)).lastState.terminated).toMatchObject({ exitCode: 137, reason: "Error" });
  });

  it("with restartPolicy Never a liveness failure stops the container for good", async () => {
    const run = startPod(
      { restartPolicy: "Never", containers: [{ name: "web", image: NGINX, livenessProbe: httpProbe(), env: [{ name: "SIM_LIVENESS_FAIL_AFTER", value: "5s" }] }] },
      { preloaded: [NGINX] },
    );
    await run.run(60);
    expect(run.eventsOf("Killing")[0].message).toBe("Container web failed liveness probe");
    expect(run.statusAt(60).phase).toBe("Succeeded");
  });

  it("a probe on a port the program does not listen on is refused", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX, livenessProbe: { tcpSocket: { port: 8080 } } }] }, { preloaded: [NGINX] });
    await run.run(31);
    expect(run.eventsOf("Unhealthy")[0].message).toBe("Liveness probe failed: dial tcp 10.244.1.7:8080: connect: connection refused");
    expect(run.eventsOf("Killing")[0]).toMatchObject({ t: 20.5, message: "Container web failed liveness probe, will be restarted" });
  });

  it("named ports are resolved from the container's ports", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX, ports: [{ name: "http", containerPort: 80 }], livenessProbe: httpProbe("/", "http") }] }, { preloaded: [NGINX] });
    await run.run(60);
    expect(run.eventsOf("Killing")).toEqual([]);
  });
});

describe("startup probes", () => {
  it("hold liveness and readiness back until the program has started", async () => {
    const run = startPod(
      {
        containers: [
          {
            name: "web",
            image: NGINX,
            env: [{ name: "SIM_START_DELAY", value: "12s" }],
            startupProbe: httpProbe("/", 80, { periodSeconds: 2, failureThreshold: 30 }),
            livenessProbe: httpProbe(),
            readinessProbe: httpProbe(),
          },
        ],
      },
      { preloaded: [NGINX] },
    );
    await run.run(20);
    expect(only(run.statusAt(10))).toMatchObject({ started: false, ready: false });
    // Startup probes at 0.5, 2.5 ... 12.5: the first success (12.5) starts the container and
    // triggers a readiness probe at once.
    expect(only(run.statusAt(12.5))).toMatchObject({ started: true, ready: true });
    expect(run.eventsOf("Unhealthy").every((e) => e.message.startsWith("Startup probe failed"))).toBe(true);
    expect(run.eventsOf("Killing")).toEqual([]);
  });

  it("kill and restart the container when it never starts", async () => {
    const run = startPod(
      { containers: [{ name: "web", image: NGINX, env: [{ name: "SIM_START_DELAY", value: "5m" }], startupProbe: httpProbe("/", 80, { failureThreshold: 3 }) }] },
      { preloaded: [NGINX] },
    );
    await run.run(25);
    expect(run.eventsOf("Killing")[0]).toMatchObject({ t: 20.5, message: "Container web failed startup probe, will be restarted" });
  });
});

describe("the probe table", () => {
  const ctx = (over: Partial<ProbeContext>): ProbeContext => ({
    type: "liveness",
    probe: { httpGet: { path: "/", port: 80 } },
    plan: planContainer({ name: "web", image: "nginx" }, {}),
    elapsedMs: 5000,
    podIP: "10.0.0.1",
    port: 80,
    files: new Map(),
    ...over,
  });

  it.each([
    ["healthy", ctx({}), true, ""],
    ["not-listening-yet", ctx({ elapsedMs: 500 }), false, 'Get "http://10.0.0.1:80/": dial tcp 10.0.0.1:80: connect: connection refused'],
    ["port-not-served", ctx({ port: 81, probe: { httpGet: { path: "/", port: 81 } } }), false, 'Get "http://10.0.0.1:81/": dial tcp 10.0.0.1:81: connect: connection refused'],
    ["http-path-not-found", ctx({ probe: { httpGet: { path: "/healthz", port: 80 } } }), false, "HTTP probe failed with statuscode: 404"],
    ["liveness-fails-after", ctx({ plan: planContainer({ name: "web", image: "nginx" }, { SIM_LIVENESS_FAIL_AFTER: "1s" }) }), false, "HTTP probe failed with statuscode: 500"],
    ["readiness-fails-after", ctx({ type: "readiness", plan: planContainer({ name: "web", image: "nginx" }, { SIM_READINESS_FAIL_AFTER: "1s" }) }), false, "HTTP probe failed with statuscode: 503"],
    ["not-listening-yet", ctx({ probe: { grpc: { port: 80 } }, elapsedMs: 0 }), false, 'timeout: failed to connect service "10.0.0.1:80" within 1s'],
    ["exec-program-not-up", ctx({ probe: { exec: { command: ["redis-cli", "ping"] } }, elapsedMs: 0 }), false, ""],
    ["exec-file-check", ctx({ probe: { exec: { command: ["sh", "-c", "cat /tmp/ready"] } }, files: new Map([["/tmp/ready", true]]) }), true, ""],
  ])("%s", (rule, c, success, output) => {
    expect(answerProbe(c)).toMatchObject({ rule, success, output });
  });
});

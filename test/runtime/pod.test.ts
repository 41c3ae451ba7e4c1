import { describe, expect, it } from "vitest";
import { cond, only, startPod } from "./_harness.js";

const NGINX = "nginx:1.27";
const BUSYBOX = "busybox:1.36";

describe("starting a pod", () => {
  it("Pending with ContainerCreating, then the sandbox (IP), then Running and Ready", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX }] });
    await run.run(10);
    const first = run.statusAt(0);
    expect(first.phase).toBe("Pending");
    expect(cond(first, "PodReadyToStartContainers")?.status).toBe("False");
    expect(first.podIP).toBeUndefined();
    expect(first.startTime).toBe("2024-01-01T00:00:00Z");
    const sandbox = run.statusAt(0.5);
    expect(cond(sandbox, "PodReadyToStartContainers")?.status).toBe("True");
    expect(sandbox.podIPs).toEqual([{ ip: "10.244.1.7" }]);
    const up = run.statusAt(10);
    expect(up.phase).toBe("Running");
    expect(cond(up, "Ready")?.status).toBe("True");
    expect(run.events.map((e) => e.reason)).toEqual(["Pulling", "Pulled", "Created", "Started"]);
    expect(run.events.map((e) => e.message).slice(2)).toEqual(["Created container web", "Started container web"]);
  });
});

describe("terminating a pod", () => {
  it("sleep ignores SIGTERM: killed after the 30 s grace period with exit 137, pod Failed", async () => {
    const run = startPod({ containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] }, { preloaded: [BUSYBOX] });
    await run.run(5);
    const done = run.rt.terminate();
    await run.run(40);
    await done;
    expect(run.eventsOf("Killing")).toEqual([{ t: 5, type: "Normal", reason: "Killing", message: "Stopping container c", fieldPath: "spec.containers{c}" }]);
    const s = run.statusAt(45);
    expect(only(s).state.terminated).toMatchObject({ exitCode: 137, reason: "Error", finishedAt: "2024-01-01T00:00:35Z" });
    expect(s.phase).toBe("Failed");
    expect(run.eventsOf("Started")).toHaveLength(1);
  });

  it("nginx stops gracefully at once: exit 0, pod Succeeded, shutdown lines in its log", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX }] }, { preloaded: [NGINX] });
    await run.run(5);
    const done = run.rt.terminate();
    await run.run(1);
    await done;
    expect(run.statusAt(6).phase).toBe("Succeeded");
    expect(only(run.statusAt(6)).state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    const log = run.rt.logs("web");
    expect(log.ok && log.text).toContain("[notice] 1#1: signal 3 (SIGQUIT) received, shutting down");
  });

  it("the preStop hook runs first and its time comes out of the grace period", async () => {
    const run = startPod(
      { terminationGracePeriodSeconds: 10, containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"], lifecycle: { preStop: { exec: { command: ["sh", "-c", "sleep 4"] } } } }] },
      { preloaded: [BUSYBOX] },
    );
    await run.run(1);
    void run.rt.terminate();
    await run.run(20);
    // 4 s of hook, then the 6 s left of the grace period: killed at 1 + 10 = 11 s.
    expect(only(run.statusAt(20)).state.terminated).toMatchObject({ exitCode: 137, finishedAt: "2024-01-01T00:00:11Z" });
  });

  it("a deletion grace period overrides the pod's (minimum 2 s)", async () => {
    const run = startPod({ containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "3600"] }] }, { preloaded: [BUSYBOX] });
    await run.run(1);
    void run.rt.terminate(0);
    await run.run(5);
    expect(only(run.statusAt(5)).state.terminated?.finishedAt).toBe("2024-01-01T00:00:03Z");
  });

  it("activeDeadlineSeconds fails the pod with DeadlineExceeded", async () => {
    const run = startPod({ activeDeadlineSeconds: 20, containers: [{ name: "web", image: NGINX }] }, { preloaded: [NGINX] });
    await run.run(30);
    const s = run.statusAt(30);
    // The handler's eviction makes the phase Failed even though nginx exited 0.
    expect(only(s).state.terminated?.exitCode).toBe(0);
    expect(s).toMatchObject({ phase: "Failed", reason: "DeadlineExceeded", message: "Pod was active on the node longer than the specified deadline" });
    expect(run.eventsOf("DeadlineExceeded")[0]).toMatchObject({ t: 20, type: "Normal" });
  });
});

describe("changing a pod's image", () => {
  it("fixing a mistyped image pulls the right one at once", async () => {
    const run = startPod({ containers: [{ name: "web", image: "ngnix" }] });
    await run.run(5);
    expect(only(run.statusAt(5)).state.waiting?.reason).toBe("ImagePullBackOff");
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "web-abc", namespace: "default", uid: "0b1c2d3e-uid" }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } };
    run.rt.updatePod(pod);
    await run.run(10);
    expect(run.eventsOf("Pulling").at(-1)).toMatchObject({ t: 5, message: 'Pulling image "nginx:1.27"' });
    expect(only(run.statusAt(15))).toMatchObject({ ready: true, restartCount: 0, image: "docker.io/library/nginx:1.27" });
  });

  it("a running container whose image changed is restarted with the new one", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX }] }, { preloaded: [NGINX, "nginx:1.26"] });
    await run.run(5);
    run.rt.updatePod({ apiVersion: "v1", kind: "Pod", metadata: { name: "web-abc", namespace: "default", uid: "0b1c2d3e-uid" }, spec: { containers: [{ name: "web", image: "nginx:1.26" }] } });
    await run.run(5);
    expect(run.eventsOf("Killing")[0]).toMatchObject({ t: 5, message: "Container web definition changed, will be restarted" });
    expect(only(run.statusAt(10))).toMatchObject({ restartCount: 1, image: "docker.io/library/nginx:1.26", state: { running: {} } });
  });
});

describe("eviction", () => {
  it("an evicted pod is Failed with the kubelet's reason, even when its containers exit 0", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX }] }, { preloaded: [NGINX] });
    await run.run(3);
    void run.rt.evict("Evicted", "The node was low on resource: memory.");
    await run.run(3);
    expect(run.statusAt(6)).toMatchObject({ phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." });
    expect(run.eventsOf("Evicted")[0]).toMatchObject({ t: 3, type: "Warning" });
    expect(run.eventsOf("Killing")[0].message).toBe("Stopping container web");
  });
});

describe("sidecars", () => {
  it("a sidecar (init container with restartPolicy Always) starts before the app and keeps running", async () => {
    const run = startPod(
      {
        initContainers: [{ name: "proxy", image: BUSYBOX, restartPolicy: "Always", command: ["sh", "-c", "while true; do sleep 5; done"] }],
        containers: [{ name: "web", image: NGINX }],
      },
      { preloaded: [BUSYBOX, NGINX] },
    );
    await run.run(10);
    expect(run.eventsOf("Started").map((e) => e.fieldPath)).toEqual(["spec.initContainers{proxy}", "spec.containers{web}"]);
    const s = run.statusAt(10);
    expect(s.phase).toBe("Running");
    expect(s.initContainerStatuses?.[0]).toMatchObject({ started: true, ready: true, state: { running: {} } });
    expect(cond(s, "Ready")?.status).toBe("True");
  });
});

describe("logs", () => {
  it("kubectl logs shows the script's output with dates as busybox prints them", async () => {
    const run = startPod({ containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "while true; do echo $(date) tick; sleep 10; done"] }] }, { preloaded: [BUSYBOX] });
    await run.run(25);
    const log = run.rt.logs("c");
    expect(log.ok && log.text).toBe("Mon Jan  1 00:00:00 UTC 2024 tick\nMon Jan  1 00:00:10 UTC 2024 tick\nMon Jan  1 00:00:20 UTC 2024 tick\n");
    const tail = run.rt.logs("c", { tailLines: 1, timestamps: true });
    expect(tail.ok && tail.text).toBe("2024-01-01T00:00:20.500000000Z Mon Jan  1 00:00:20 UTC 2024 tick\n");
  });

  it("during CrashLoopBackOff logs show the last run; --previous the one before", async () => {
    const run = startPod({ containers: [{ name: "c", image: BUSYBOX, command: ["sh", "-c", "echo starting; sleep 2; echo failing >&2; exit 1"] }] }, { preloaded: [BUSYBOX] });
    await run.run(5);
    expect(only(run.statusAt(5)).state.waiting?.reason).toBe("CrashLoopBackOff");
    const log = run.rt.logs("c");
    expect(log.ok && log.lines.map((l) => [l.stream, l.text])).toEqual([
      ["stdout", "starting"],
      ["stderr", "failing"],
    ]);
    expect(run.rt.logs("c", { previous: true }).ok).toBe(true);
    const fresh = startPod({ containers: [{ name: "c", image: BUSYBOX, command: ["sleep", "60"] }] }, { preloaded: [BUSYBOX] });
    await fresh.run(5);
    expect(fresh.rt.logs("c", { previous: true })).toEqual({ ok: false, message: 'previous terminated container "c" in pod "web-abc" not found' });
    expect(fresh.rt.logs("nope")).toEqual({ ok: false, message: 'container "nope" in pod "web-abc" is not available' });
  });

  it("a container still waiting has no logs yet", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX }] });
    await run.run(0.2);
    expect(run.rt.logs("web")).toEqual({ ok: false, message: 'container "web" in pod "web-abc" is waiting to start: ContainerCreating' });
  });
});

describe("traffic and usage", () => {
  it("requests reach nginx, are logged in its format, and 404 where nginx has no file", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX }] }, { preloaded: [NGINX] });
    await run.run(0.6);
    expect(run.rt.serve({ port: 80, path: "/", clientIP: "10.244.2.9" })).toBeUndefined(); // not listening yet (SIM_START_DELAY 1s)
    await run.run(2);
    expect(run.rt.serve({ port: 80, path: "/", clientIP: "10.244.2.9" })).toBe(200);
    expect(run.rt.serve({ port: 80, path: "/api", clientIP: "10.244.2.9" })).toBe(404);
    expect(run.rt.serve({ port: 8080, path: "/", clientIP: "10.244.2.9" })).toBeUndefined();
    const log = run.rt.logs("web");
    const stdout = log.ok ? log.lines.filter((l) => l.stream === "stdout").map((l) => l.text) : [];
    expect(stdout.slice(-2)).toEqual([
      '10.244.2.9 - - [01/Jan/2024:00:00:02 +0000] "GET / HTTP/1.1" 200 615 "-" "curl/8.5.0" "-"',
      '10.244.2.9 - - [01/Jan/2024:00:00:02 +0000] "GET /api HTTP/1.1" 404 153 "-" "curl/8.5.0" "-"',
    ]);
    // nginx also writes the missing file to its error log (stderr), naming its first worker.
    const worker = log.ok ? /start worker process (\d+)/.exec(log.text)?.[1] : undefined;
    expect(log.ok && log.lines.filter((l) => l.stream === "stderr").at(-1)?.text).toBe(
      `2024/01/01 00:00:02 [error] ${worker}#${worker}: *1 open() "/usr/share/nginx/html/api" failed (2: No such file or directory), client: 10.244.2.9, server: localhost, request: "GET /api HTTP/1.1", host: "10.244.1.7"`,
    );
  });

  it("CPU follows SIM_CPU_PER_REQUEST × requests per second; memory SIM_MEMORY", async () => {
    const run = startPod(
      { containers: [{ name: "web", image: NGINX, env: [{ name: "SIM_CPU_PER_REQUEST", value: "20m" }, { name: "SIM_MEMORY", value: "64Mi" }] }] },
      { preloaded: [NGINX] },
    );
    await run.run(2);
    for (let i = 0; i < 150; i++) {
      run.rt.serve({ port: 80, path: "/", clientIP: "10.244.2.9" });
      await run.run(0.1);
    }
    // 150 requests in the last 15 s: 10 req/s × 20m = 200m (+1m idle).
    expect(run.rt.usage()).toEqual([{ name: "web", cpuMillis: 201, memoryBytes: 64 * 1024 * 1024 }]);
  });

  it("faults: crash and OOM-kill a running container", async () => {
    const run = startPod({ containers: [{ name: "web", image: NGINX }] }, { preloaded: [NGINX] });
    await run.run(2);
    expect(run.rt.crash("web")).toBe(true);
    await run.run(1);
    expect(only(run.statusAt(3)).lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    expect(run.rt.oomKill("web")).toBe(true);
    await run.run(1);
    expect(only(run.statusAt(4)).state.waiting?.reason).toBe("CrashLoopBackOff");
    expect(only(run.statusAt(4)).lastState.terminated?.reason).toBe("OOMKilled");
  });
});

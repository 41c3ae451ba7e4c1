import { describe, expect, it } from "vitest";
import { pullOutcome } from "../../src/cluster/runtime/images.js";
import { cond, only, startPod } from "./_harness.js";

const BUSYBOX = "busybox:1.36";

describe("CrashLoopBackOff", () => {
  it("a container that crashes every 5 s restarts at once, then after 10, 20, 40, 80, 160 and 300 s", async () => {
    // Derivation (kuberuntime_manager.go doBackOff + client-go flowcontrol.Backoff, 10 s initial,
    // 300 s cap; the pod worker retries a failed sync every 10 s):
    // - the sandbox is ready at 0.5 s and the container starts (restartCount 0);
    // - first exit at 5.5 s: no back-off entry yet, so doBackOff lets it start at once and
    //   creates the entry (10 s) -> start at 5.5 s (restartCount 1);
    // - exit at 10.5 s: in back-off while now - 10.5 < 10 -> CrashLoopBackOff "back-off 10s";
    //   the retry at 20.5 s is out of it -> start (delay becomes 20 s);
    // - exit at 25.5 -> start at 45.5 (40 s next); exit 50.5 -> start 90.5 (80 s);
    //   exit 95.5 -> 175.5 (160 s); exit 180.5 -> 340.5 (300 s, the cap); exit 345.5 -> 645.5.
    const run = startPod({ containers: [{ name: "app", image: BUSYBOX, command: ["sh", "-c", "sleep 5; exit 1"] }] }, { preloaded: [BUSYBOX] });
    await run.run(700);
    expect(run.eventsOf("Started").map((e) => e.t)).toEqual([0.5, 5.5, 20.5, 45.5, 90.5, 175.5, 340.5, 645.5]);
    const waits = run.statuses.map((s) => only(s.status).state.waiting?.message).filter((m): m is string => m !== undefined && m.startsWith("back-off"));
    expect(waits.map((m) => m.split(" ")[1])).toEqual(["10s", "20s", "40s", "1m20s", "2m40s", "5m0s", "5m0s"]);
    expect(waits[0]).toBe("back-off 10s restarting failed container=app pod=web-abc_default(0b1c2d3e-uid)");
    expect(run.eventsOf("BackOff")[0]).toMatchObject({ t: 10.5, type: "Warning", message: "Back-off restarting failed container app in pod web-abc_default(0b1c2d3e-uid)", fieldPath: "spec.containers{app}" });
    // While it waits, the pod stays Running with the last exit as lastState.
    const waiting = run.statusAt(30);
    expect(waiting.phase).toBe("Running");
    expect(only(waiting)).toMatchObject({ restartCount: 2, ready: false, started: false, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1, reason: "Error" } } });
    expect(only(run.statusAt(646)).restartCount).toBe(7);
  });

  it("resets the back-off once a container ran more than 10 minutes", async () => {
    const long = startPod({ containers: [{ name: "app", image: BUSYBOX, command: ["sleep", "infinity"], env: [{ name: "SIM_CRASH_AFTER", value: "11m" }] }] }, { preloaded: [BUSYBOX] });
    await long.run(3 * 660 + 10);
    // Every exit comes more than 600 s after the last restart decision: restarted at once.
    expect(long.eventsOf("Started").map((e) => e.t)).toEqual([0.5, 660.5, 1320.5, 1980.5]);
    expect(long.eventsOf("BackOff")).toEqual([]);
    const short = startPod({ containers: [{ name: "app", image: BUSYBOX, command: ["sleep", "infinity"], env: [{ name: "SIM_CRASH_AFTER", value: "9m" }] }] }, { preloaded: [BUSYBOX] });
    await short.run(3 * 540 + 40);
    expect(short.eventsOf("Started").map((e) => e.t)).toEqual([0.5, 540.5, 1090.5, 1650.5]);
  });

  it("busybox with no command restarts into CrashLoopBackOff with Completed exits", async () => {
    const run = startPod({ containers: [{ name: "box", image: BUSYBOX }] }, { preloaded: [BUSYBOX] });
    await run.run(60);
    const s = only(run.statusAt(60));
    expect(s.state.waiting?.reason).toBe("CrashLoopBackOff");
    expect(s.lastState.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    expect(run.statusAt(60).phase).toBe("Running");
  });

  it("a start failure (invalid SIM_ value) is RunContainerError, then CrashLoopBackOff", async () => {
    const run = startPod({ containers: [{ name: "web", image: "nginx:1.27", env: [{ name: "SIM_CRASH_AFTER", value: "ten" }] }] }, { preloaded: ["nginx:1.27"] });
    await run.run(0.6);
    expect(run.events.map((e) => `${e.reason}: ${e.message}`)).toContain('Failed: Error: invalid SIM_CRASH_AFTER "ten": use a duration like 10s or 2m');
    await run.run(30);
    const statuses = run.statuses.map((s) => only(s.status));
    expect(statuses.some((s) => s.state.waiting?.reason === "RunContainerError" && s.state.waiting.message === 'invalid SIM_CRASH_AFTER "ten": use a duration like 10s or 2m')).toBe(true);
    const last = only(run.statusAt(30));
    expect(last.state.waiting?.reason).toBe("CrashLoopBackOff");
    expect(last.lastState.terminated).toMatchObject({ exitCode: 128, reason: "StartError", startedAt: "1970-01-01T00:00:00Z" });
  });
});

describe("image pulls", () => {
  it("ngnix: ErrImagePull, ImagePullBackOff at the next sync, pulls again after 10, 20 and 40 s", async () => {
    const fail = pullOutcome("ngnix").pullMs / 1000;
    const run = startPod({ containers: [{ name: "web", image: "ngnix" }] });
    await run.run(90);
    // Pull 1 at sandbox time (0.5 s); PLEG sees the sandbox at 1.5 s and the sync finds the pull
    // in back-off (10 s from the failure); the pod worker retries every 10 s; a pull is tried
    // again once now - lastFailure >= back-off (10, 20, 40 s).
    const pulls = run.eventsOf("Pulling").map((e) => e.t);
    expect(pulls[0]).toBeCloseTo(0.5, 6);
    expect(pulls[1]).toBeCloseTo(11.5, 6);
    expect(pulls[2]).toBeCloseTo(31.5 + fail, 6);
    expect(pulls[3]).toBeCloseTo(71.5 + 2 * fail, 6);
    const message =
      'failed to pull and unpack image "docker.io/library/ngnix:latest": failed to resolve reference "docker.io/library/ngnix:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed';
    expect(run.events.slice(0, 5).map((e) => [e.type, e.reason, e.message])).toEqual([
      ["Normal", "Pulling", 'Pulling image "ngnix"'],
      ["Warning", "Failed", `Failed to pull image "ngnix": ${message}`],
      ["Warning", "Failed", "Error: ErrImagePull"],
      ["Normal", "BackOff", 'Back-off pulling image "ngnix"'],
      ["Warning", "Failed", "Error: ImagePullBackOff"],
    ]);
    expect(only(run.statusAt(0.5 + fail)).state).toEqual({ waiting: { reason: "ErrImagePull", message } });
    expect(only(run.statusAt(1.5)).state).toEqual({ waiting: { reason: "ImagePullBackOff", message: 'Back-off pulling image "ngnix"' } });
    expect(run.statusAt(90).phase).toBe("Pending");
    expect(run.rt.logs("web")).toEqual({ ok: false, message: 'container "web" in pod "web-abc" is waiting to start: trying and failing to pull image' });
  });

  it("a tag that does not exist fails with not found", async () => {
    const run = startPod({ containers: [{ name: "web", image: "nginx:1.999" }] });
    await run.run(2);
    expect(run.eventsOf("Failed")[0].message).toBe(
      'Failed to pull image "nginx:1.999": rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.999": failed to resolve reference "docker.io/library/nginx:1.999": docker.io/library/nginx:1.999: not found',
    );
  });

  it("an invalid name is InvalidImageName, retried every 10 s", async () => {
    const run = startPod({ containers: [{ name: "web", image: "Nginx:latest" }] });
    await run.run(25);
    const message = 'Failed to apply default image tag "Nginx:latest": couldn\'t parse image name "Nginx:latest": invalid reference format: repository name (library/Nginx) must be lowercase';
    expect(only(run.statusAt(25)).state).toEqual({ waiting: { reason: "InvalidImageName", message } });
    expect(run.eventsOf("InspectFailed").map((e) => e.t)).toEqual([0.5, 1.5, 11.5, 21.5]);
    expect(run.eventsOf("Failed")[0].message).toBe("Error: InvalidImageName");
  });

  it("imagePullPolicy Never without the image is ErrImageNeverPull", async () => {
    const run = startPod({ containers: [{ name: "web", image: "nginx:1.27", imagePullPolicy: "Never" }] });
    await run.run(2);
    expect(only(run.statusAt(2)).state).toEqual({ waiting: { reason: "ErrImageNeverPull", message: 'Container image "nginx:1.27" is not present with pull policy of Never' } });
    expect(run.eventsOf("ErrImageNeverPull")[0].type).toBe("Warning");
  });

  it("a present image is not pulled with IfNotPresent, and is re-checked on every start with Always", async () => {
    const present = startPod({ containers: [{ name: "web", image: "nginx:1.27" }] }, { preloaded: ["nginx:1.27"] });
    await present.run(2);
    expect(present.events.map((e) => e.message).slice(0, 3)).toEqual(['Container image "nginx:1.27" already present on machine', "Created container web", "Started container web"]);
    const always = startPod({ containers: [{ name: "web", image: "nginx", env: [{ name: "SIM_CRASH_AFTER", value: "5s" }] }] }, { preloaded: ["nginx:latest"] });
    await always.run(8);
    expect(always.eventsOf("Pulled").map((e) => e.message)).toEqual([
      'Successfully pulled image "nginx" in 300ms (300ms including waiting). Image size: 72099409 bytes.',
      'Successfully pulled image "nginx" in 300ms (300ms including waiting). Image size: 72099409 bytes.',
    ]);
  });

  it("reports the fully qualified image and its digest once running", async () => {
    const run = startPod({ containers: [{ name: "web", image: "nginx:1.27" }] });
    await run.run(10);
    const s = only(run.statusAt(10));
    expect(s.image).toBe("docker.io/library/nginx:1.27");
    expect(s.imageID).toMatch(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    expect(s.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
    expect(run.eventsOf("Pulled")[0].message).toMatch(/^Successfully pulled image "nginx:1\.27" in 3\.384s \(3\.384s including waiting\)\. Image size: 72099409 bytes\.$/);
  });
});

describe("OOMKilled", () => {
  it("memory above the limit is OOMKilled with exit code 137, then restarted with back-off", async () => {
    const run = startPod(
      { containers: [{ name: "web", image: "nginx:1.27", resources: { limits: { memory: "128Mi" } }, env: [{ name: "SIM_MEMORY", value: "300Mi" }] }] },
      { preloaded: ["nginx:1.27"] },
    );
    await run.run(5);
    const killed = run.statuses.map((s) => only(s.status)).find((s) => s.state.terminated);
    expect(killed?.state.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled", startedAt: "2024-01-01T00:00:00Z", finishedAt: "2024-01-01T00:00:01Z" });
    const s = only(run.statusAt(5));
    expect(s.restartCount).toBe(1);
    expect(s.state.waiting?.reason).toBe("CrashLoopBackOff");
    expect(s.lastState.terminated?.reason).toBe("OOMKilled");
  });
});

describe("phase per restartPolicy", () => {
  it("Never: exit 1 fails the pod, with no restart", async () => {
    const run = startPod({ restartPolicy: "Never", containers: [{ name: "job", image: BUSYBOX, command: ["sh", "-c", "echo working; sleep 2; exit 1"] }] }, { preloaded: [BUSYBOX] });
    await run.run(60);
    const s = run.statusAt(60);
    expect(s.phase).toBe("Failed");
    expect(only(s)).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 1, reason: "Error" } } });
    expect(cond(s, "Ready")).toMatchObject({ status: "False", reason: "PodFailed" });
    expect(run.eventsOf("Started")).toHaveLength(1);
  });

  it("Never: the Job docs' pi completes and the pod Succeeds", async () => {
    const run = startPod({ restartPolicy: "Never", containers: [{ name: "pi", image: "perl:5.34.0", command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"] }] });
    await run.run(60);
    expect(run.statusAt(60).phase).toBe("Succeeded");
    const log = run.rt.logs("pi");
    expect(log.ok && log.text.startsWith("3.14159265358979323846264338327950288419716939937510")).toBe(true);
    expect(log.ok && log.text.trim().length).toBe(2001);
  });

  it("OnFailure: a failure restarts, a success completes", async () => {
    const failing = startPod({ restartPolicy: "OnFailure", containers: [{ name: "job", image: BUSYBOX, command: ["false"] }] }, { preloaded: [BUSYBOX] });
    await failing.run(30);
    expect(failing.statusAt(30).phase).toBe("Running");
    expect(only(failing.statusAt(30)).restartCount).toBeGreaterThanOrEqual(2);
    const ok = startPod({ restartPolicy: "OnFailure", containers: [{ name: "job", image: BUSYBOX, command: ["true"] }] }, { preloaded: [BUSYBOX] });
    await ok.run(30);
    expect(ok.statusAt(30).phase).toBe("Succeeded");
    expect(only(ok.statusAt(30)).restartCount).toBe(0);
  });
});

describe("init containers", () => {
  it("run one at a time before the app containers (PodInitializing meanwhile)", async () => {
    const run = startPod(
      {
        initContainers: [
          { name: "wait", image: BUSYBOX, command: ["sh", "-c", "echo waiting; sleep 5"] },
          { name: "migrate", image: BUSYBOX, command: ["sleep", "3"] },
        ],
        containers: [{ name: "web", image: "nginx:1.27" }],
      },
      { preloaded: [BUSYBOX, "nginx:1.27"] },
    );
    await run.run(3);
    const early = run.statusAt(3);
    expect(early.phase).toBe("Pending");
    expect(only(early).state).toEqual({ waiting: { reason: "PodInitializing" } });
    expect(cond(early, "Initialized")).toMatchObject({ status: "False", reason: "ContainersNotInitialized", message: "containers with incomplete status: [wait migrate]" });
    await run.run(10);
    expect(run.eventsOf("Started").map((e) => [e.t, e.fieldPath])).toEqual([
      [0.5, "spec.initContainers{wait}"],
      [5.5, "spec.initContainers{migrate}"],
      [8.5, "spec.containers{web}"],
    ]);
    const later = run.statusAt(13);
    expect(later.phase).toBe("Running");
    expect(cond(later, "Initialized")?.status).toBe("True");
    expect(later.initContainerStatuses?.map((s) => [s.name, s.ready, s.state.terminated?.reason])).toEqual([
      ["wait", true, "Completed"],
      ["migrate", true, "Completed"],
    ]);
  });

  it("a failing init container restarts with back-off and holds the app containers back", async () => {
    const run = startPod({ initContainers: [{ name: "init", image: BUSYBOX, command: ["false"] }], containers: [{ name: "web", image: "nginx:1.27" }] }, { preloaded: [BUSYBOX, "nginx:1.27"] });
    await run.run(40);
    const s = run.statusAt(40);
    expect(s.phase).toBe("Pending");
    expect(s.initContainerStatuses?.[0].state.waiting?.reason).toBe("CrashLoopBackOff");
    expect(run.eventsOf("Started").every((e) => e.fieldPath === "spec.initContainers{init}")).toBe(true);
  });

  it("a failing init container with restartPolicy Never fails the pod", async () => {
    const run = startPod({ restartPolicy: "Never", initContainers: [{ name: "init", image: BUSYBOX, command: ["false"] }], containers: [{ name: "web", image: "nginx:1.27" }] }, { preloaded: [BUSYBOX] });
    await run.run(20);
    expect(run.statusAt(20).phase).toBe("Failed");
  });
});

describe("configuration errors", () => {
  it("a missing ConfigMap is CreateContainerConfigError until it exists", async () => {
    const configMaps = new Map<string, Record<string, string>>();
    const lookup = { configMap: (_ns: string, name: string) => (configMaps.has(name) ? { data: configMaps.get(name) } : undefined), secret: () => undefined };
    const run = startPod(
      { containers: [{ name: "web", image: "nginx:1.27", env: [{ name: "MODE", valueFrom: { configMapKeyRef: { name: "app-config", key: "mode" } } }] }] },
      { preloaded: ["nginx:1.27"], lookup },
    );
    await run.run(5);
    expect(only(run.statusAt(5)).state).toEqual({ waiting: { reason: "CreateContainerConfigError", message: 'configmap "app-config" not found' } });
    expect(run.eventsOf("Failed")[0]).toMatchObject({ type: "Warning", message: 'Error: configmap "app-config" not found' });
    configMaps.set("app-config", { other: "x" });
    await run.run(10);
    expect(only(run.statusAt(15)).state.waiting?.message).toBe("couldn't find key mode in ConfigMap default/app-config");
    configMaps.set("app-config", { mode: "prod" });
    await run.run(10);
    expect(only(run.statusAt(25)).state.running).toBeDefined();
    expect(only(run.statusAt(25)).restartCount).toBe(0);
  });

  it("a missing Secret volume keeps the pod ContainerCreating with FailedMount events", async () => {
    const lookup = { configMap: () => undefined, secret: () => undefined };
    const run = startPod(
      { containers: [{ name: "web", image: "nginx:1.27" }], volumes: [{ name: "creds", secret: { secretName: "db-creds" } }] },
      { preloaded: ["nginx:1.27"], lookup },
    );
    await run.run(10);
    const s = run.statusAt(10);
    expect(cond(s, "PodReadyToStartContainers")?.status).toBe("False");
    expect(only(s).state).toEqual({ waiting: { reason: "ContainerCreating" } });
    expect(s.podIP).toBeUndefined();
    expect(run.eventsOf("FailedMount")[0]).toMatchObject({ type: "Warning", message: 'MountVolume.SetUp failed for volume "creds" : secret "db-creds" not found' });
    expect(run.eventsOf("FailedMount").map((e) => e.t)).toEqual([0, 0.5, 1.5, 3.5, 7.5]);
  });
});

describe("determinism", () => {
  it("the same pod gives the same events and statuses every time", async () => {
    const spec = { containers: [{ name: "web", image: "ngnix" }, { name: "side", image: BUSYBOX, command: ["sh", "-c", "while true; do date; sleep 3; done"] }] };
    const a = startPod(spec);
    const b = startPod(spec);
    await a.run(120);
    await b.run(120);
    expect(b.events).toEqual(a.events);
    expect(JSON.stringify(b.statuses)).toBe(JSON.stringify(a.statuses));
  });
});

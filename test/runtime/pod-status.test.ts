import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import {
  buildPodStatus,
  getPhase,
  getPodQOS,
  toContainerStatus,
  type ContainerRuntimeView,
  type ContainerStatus,
  type RuntimeInstance,
} from "../../src/cluster/runtime/pod-status.js";

const T = Date.UTC(2024, 0, 1);
const pod = (spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-abc", namespace: "default", uid: "u1", ...(extra.metadata ?? {}) },
  spec,
  ...(extra.status ? { status: extra.status } : {}),
});

const inst = (over: Partial<RuntimeInstance>): RuntimeInstance => ({
  id: "containerd://" + "a".repeat(64),
  state: "running",
  startedAt: T,
  restartCount: 0,
  image: "docker.io/library/nginx:1.27",
  imageID: "docker.io/library/nginx@sha256:" + "b".repeat(64),
  ...over,
});

const running: ContainerRuntimeView = { name: "web", current: inst({}), startup: "none", readiness: "none" };
const exited = (code: number, restartCount = 0): ContainerRuntimeView => ({
  name: "web",
  current: inst({ state: "exited", exitCode: code, reason: code === 0 ? "Completed" : "Error", finishedAt: T + 5000, restartCount }),
  startup: "none",
  readiness: "none",
});
const waitingView: ContainerRuntimeView = { name: "web", startup: "none", readiness: "none" };

function statusFor(p: KubeObject, view: ContainerRuntimeView): ContainerStatus {
  return toContainerStatus(p.spec.containers[0], view, p, { hasInitContainers: false, isInit: false });
}

describe("getPhase per restartPolicy", () => {
  const cases: [string, string | undefined, ContainerRuntimeView, string][] = [
    ["a container not created yet is Pending", "Always", waitingView, "Pending"],
    ["a running container is Running", "Always", running, "Running"],
    ["Always: an exited container restarting keeps the pod Running", "Always", exited(1), "Running"],
    ["Always: even an exit 0 restarts (Running)", "Always", exited(0), "Running"],
    ["OnFailure: exit 0 is Succeeded", "OnFailure", exited(0), "Succeeded"],
    ["OnFailure: exit 1 restarts (Running)", "OnFailure", exited(1), "Running"],
    ["Never: exit 0 is Succeeded", "Never", exited(0), "Succeeded"],
    ["Never: exit 1 is Failed", "Never", exited(1), "Failed"],
  ];
  it.each(cases)("%s", (_name, policy, view, phase) => {
    const p = pod({ restartPolicy: policy, containers: [{ name: "web", image: "nginx" }] });
    expect(getPhase(p, [statusFor(p, view)], false)).toBe(phase);
  });

  it("a terminal pod (deleted) is Succeeded only when every container exited 0", () => {
    const p = pod({ containers: [{ name: "web", image: "nginx" }] });
    expect(getPhase(p, [statusFor(p, exited(0))], true)).toBe("Succeeded");
    expect(getPhase(p, [statusFor(p, exited(137))], true)).toBe("Failed");
  });

  it("a failed init container with restartPolicy Never fails the pod", () => {
    const p = pod({ restartPolicy: "Never", initContainers: [{ name: "init", image: "busybox" }], containers: [{ name: "web", image: "nginx" }] });
    const init = toContainerStatus(p.spec.initContainers[0], { ...exited(1), name: "init" }, p, { hasInitContainers: true, isInit: true });
    const web = toContainerStatus(p.spec.containers[0], undefined, p, { hasInitContainers: true, isInit: false });
    expect(web.state).toEqual({ waiting: { reason: "PodInitializing" } });
    expect(getPhase(p, [web, init], false)).toBe("Failed");
  });
});

describe("container statuses", () => {
  const p = pod({ containers: [{ name: "web", image: "nginx:1.27" }] });

  it("defaults to ContainerCreating with the spec's image", () => {
    expect(statusFor(p, waitingView)).toEqual({ name: "web", state: { waiting: { reason: "ContainerCreating" } }, lastState: {}, ready: false, restartCount: 0, image: "nginx:1.27", imageID: "", started: false });
  });

  it("shows the kubelet's last error as waiting, with the exit as lastState", () => {
    const view: ContainerRuntimeView = { ...exited(1, 2), waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container=web pod=web-abc_default(u1)" } };
    const s = statusFor(p, view);
    expect(s.state).toEqual({ waiting: { reason: "CrashLoopBackOff", message: "back-off 40s restarting failed container=web pod=web-abc_default(u1)" } });
    expect(s.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error", startedAt: "2024-01-01T00:00:00Z", finishedAt: "2024-01-01T00:00:05Z" });
    expect(s.restartCount).toBe(2);
    expect(s.ready).toBe(false);
    expect(s.started).toBe(false);
  });

  it("does not show a waiting reason for a container that will not restart", () => {
    const never = pod({ restartPolicy: "Never", containers: [{ name: "web", image: "nginx" }] });
    const s = statusFor(never, { ...exited(1), waiting: { reason: "CrashLoopBackOff" } });
    expect(s.state.terminated?.exitCode).toBe(1);
  });

  it("a start error reports the epoch as start time", () => {
    const s = statusFor(pod({ restartPolicy: "Never", containers: [{ name: "web", image: "x" }] }), {
      name: "web",
      current: inst({ state: "exited", startedAt: undefined, finishedAt: T, exitCode: 128, reason: "StartError", message: "boom" }),
      startup: "none",
      readiness: "none",
    });
    expect(s.state.terminated).toMatchObject({ exitCode: 128, reason: "StartError", message: "boom", startedAt: "1970-01-01T00:00:00Z" });
  });

  it("ready needs started (startup probe) and readiness", () => {
    expect(statusFor(p, { ...running, readiness: "failure" })).toMatchObject({ started: true, ready: false });
    expect(statusFor(p, { ...running, readiness: "success" })).toMatchObject({ started: true, ready: true });
    expect(statusFor(p, { ...running, startup: "pending", readiness: "success" })).toMatchObject({ started: false, ready: false });
    expect(statusFor(p, running)).toMatchObject({ started: true, ready: true });
  });
});

describe("conditions", () => {
  const base = (views: ContainerRuntimeView[], spec: Record<string, unknown> = { containers: [{ name: "web", image: "nginx" }] }, extra: Partial<KubeObject> = {}) =>
    buildPodStatus({ pod: pod(spec, extra), now: T + 10_000, hostIP: "172.18.0.3", podIPs: ["10.244.1.7"], sandboxReady: true, startTime: T, initContainers: [], containers: views });

  it("are written in the kubelet's order, with unready containers named", () => {
    const s = base([{ ...running, readiness: "failure" }]);
    expect(s.conditions.map((c) => [c.type, c.status, c.reason ?? "", c.message ?? ""])).toEqual([
      ["PodReadyToStartContainers", "True", "", ""],
      ["Initialized", "True", "", ""],
      ["Ready", "False", "ContainersNotReady", "containers with unready status: [web]"],
      ["ContainersReady", "False", "ContainersNotReady", "containers with unready status: [web]"],
      ["PodScheduled", "True", "", ""],
    ]);
    expect(s.conditions.every((c) => c.lastProbeTime === null && c.lastTransitionTime === "2024-01-01T00:00:10Z")).toBe(true);
  });

  it("name every unready container in spec order", () => {
    const spec = { containers: [{ name: "web", image: "nginx" }, { name: "side", image: "busybox" }] };
    const s = base([{ ...running, readiness: "failure" }, { name: "side", startup: "none", readiness: "none" }], spec);
    expect(s.conditions.find((c) => c.type === "ContainersReady")?.message).toBe("containers with unready status: [web side]");
    expect(s.containerStatuses.map((c) => c.name)).toEqual(["side", "web"]);
  });

  it("a completed pod reports PodCompleted", () => {
    const s = buildPodStatus({ pod: pod({ restartPolicy: "Never", containers: [{ name: "web", image: "busybox" }] }), now: T, sandboxReady: true, initContainers: [], containers: [exited(0)] });
    expect(s.phase).toBe("Succeeded");
    expect(s.conditions.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
    expect(s.conditions.find((c) => c.type === "Initialized")).toMatchObject({ status: "True", reason: "PodCompleted" });
  });

  it("readiness gates keep Ready False while ContainersReady is True", () => {
    const gated = { containers: [{ name: "web", image: "nginx" }], readinessGates: [{ conditionType: "example.com/lb" }] };
    const s = base([running], gated);
    expect(s.conditions.find((c) => c.type === "ContainersReady")?.status).toBe("True");
    expect(s.conditions.find((c) => c.type === "Ready")).toMatchObject({ status: "False", reason: "ReadinessGatesNotReady", message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.' });
    const withGate = base([running], gated, { status: { conditions: [{ type: "example.com/lb", status: "True", lastProbeTime: null, lastTransitionTime: "2024-01-01T00:00:01Z" }] } });
    expect(withGate.conditions[0].type).toBe("example.com/lb");
    expect(withGate.conditions.find((c) => c.type === "Ready")?.status).toBe("True");
  });

  it("keep their lastTransitionTime while their status is unchanged", () => {
    const first = base([{ ...running, readiness: "failure" }]);
    const later = buildPodStatus({ pod: pod({ containers: [{ name: "web", image: "nginx" }] }), now: T + 60_000, sandboxReady: true, initContainers: [], containers: [{ ...running, readiness: "success" }], previous: first });
    expect(later.conditions.find((c) => c.type === "Initialized")?.lastTransitionTime).toBe("2024-01-01T00:00:10Z");
    expect(later.conditions.find((c) => c.type === "Ready")?.lastTransitionTime).toBe("2024-01-01T00:01:00Z");
  });

  it("init containers: Initialized False with the incomplete ones named, app containers PodInitializing", () => {
    const spec = { initContainers: [{ name: "migrate", image: "busybox" }], containers: [{ name: "web", image: "nginx" }] };
    const s = buildPodStatus({ pod: pod(spec), now: T, sandboxReady: true, initContainers: [{ name: "migrate", current: inst({ image: "docker.io/library/busybox:latest" }), startup: "none", readiness: "none" }], containers: [] });
    expect(s.phase).toBe("Pending");
    expect(s.conditions.find((c) => c.type === "Initialized")).toMatchObject({ status: "False", reason: "ContainersNotInitialized", message: "containers with incomplete status: [migrate]" });
    expect(s.containerStatuses[0].state).toEqual({ waiting: { reason: "PodInitializing" } });
    expect(s.initContainerStatuses?.[0].state.running).toBeDefined();
  });

  it("sets IPs, start time and QoS", () => {
    const s = base([running]);
    expect(s).toMatchObject({ hostIP: "172.18.0.3", hostIPs: [{ ip: "172.18.0.3" }], podIP: "10.244.1.7", podIPs: [{ ip: "10.244.1.7" }], startTime: "2024-01-01T00:00:00Z", qosClass: "BestEffort" });
  });
});

describe("QoS class (ComputePodQOS)", () => {
  const qos = (containers: Record<string, unknown>[], initContainers: Record<string, unknown>[] = []) => getPodQOS(pod({ containers, initContainers }));
  it.each([
    ["no requests or limits", [{ name: "a" }], "BestEffort"],
    ["requests only", [{ name: "a", resources: { requests: { cpu: "100m" } } }], "Burstable"],
    ["limits equal requests for cpu and memory", [{ name: "a", resources: { requests: { cpu: "500m", memory: "128Mi" }, limits: { cpu: "0.5", memory: "128Mi" } } }], "Guaranteed"],
    ["limits only (requests default to them)", [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }], "Guaranteed"],
    ["memory limit only", [{ name: "a", resources: { limits: { memory: "1Gi" } } }], "Burstable"],
    ["requests below limits", [{ name: "a", resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "200m", memory: "64Mi" } } }], "Burstable"],
    ["one guaranteed container and one best-effort", [{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }, { name: "b" }], "Burstable"],
    ["only non-compute resources", [{ name: "a", resources: { limits: { "ephemeral-storage": "1Gi" } } }], "BestEffort"],
  ])("%s: %s", (_n, containers, expected) => {
    expect(qos(containers as Record<string, unknown>[])).toBe(expected);
  });
  it("counts init containers", () => {
    expect(qos([{ name: "a", resources: { limits: { cpu: "1", memory: "1Gi" } } }], [{ name: "i" }])).toBe("Burstable");
  });
});

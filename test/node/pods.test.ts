/**
 * Pods run by the kubelet through the container runtime, observed through the API: phases,
 * container states, IPs and events as a real kubelet writes them.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { conditionOf, podOn, startNodes, trackPod, type NodeCluster } from "./_harness.js";

let cluster: NodeCluster | undefined;
afterEach(() => {
  cluster?.stop();
  cluster = undefined;
});

const WORKER = "kubelings-worker";

function reasons(events: KubeObject[]): string[] {
  return events.map((e) => e.reason);
}

describe("kubelet: running pods", () => {
  it("takes a pod from Pending through ContainerCreating to Running and Ready, with Pulling, Pulled, Created, Started and a fresh IP from the node CIDR", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    const seen = trackPod(c, "web");
    await c.api.create(podOn(WORKER, "web"));
    await c.run(30);
    const pod = (await c.pod("web"))!;
    expect(pod.status.phase).toBe("Running");
    expect(conditionOf(pod, "Ready").status).toBe("True");
    expect(pod.status.hostIP).toBe("172.18.0.3");
    expect(pod.status.podIP).toBe("10.244.1.2");
    expect(pod.status.podIPs).toEqual([{ ip: "10.244.1.2" }]);
    expect(pod.status.qosClass).toBe("BestEffort");
    expect(pod.status.startTime).toBeDefined();
    expect(pod.status.containerStatuses[0]).toMatchObject({ name: "web", ready: true, restartCount: 0, started: true, image: "docker.io/library/nginx:1.27" });

    const states = seen.map((s) => `${s.phase}/${s.state}/${s.ready ?? "-"}`);
    const firstRunning = states.findIndex((s) => s.startsWith("Running/running"));
    expect(states[0]).toBe("Pending//-");
    expect(states.slice(1, firstRunning).every((s) => s.startsWith("Pending/ContainerCreating"))).toBe(true);
    expect(states.at(-1)).toBe("Running/running/True");

    const events = await c.events("web");
    expect(reasons(events)).toEqual(["Pulling", "Pulled", "Created", "Started"]);
    for (const e of events) {
      expect(e.source).toEqual({ component: "kubelet", host: WORKER });
      expect(e.involvedObject.fieldPath).toBe("spec.containers{web}");
    }
    expect(events[0].message).toBe('Pulling image "nginx:1.27"');
    expect(events[3].message).toBe("Started container web");

    // A second pod gets the next address; a deleted pod's address is not handed out again at once.
    await c.api.create(podOn(WORKER, "web2"));
    await c.run(10);
    expect((await c.pod("web2"))!.status.podIP).toBe("10.244.1.3");
  });

  it("shows ErrImagePull then ImagePullBackOff for a mistyped image (ngnix)", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    const seen = trackPod(c, "typo");
    await c.api.create(podOn(WORKER, "typo", { containers: [{ name: "web", image: "ngnix" }] }));
    await c.run(60);
    const waiting = [...new Set(seen.map((s) => s.state).filter((s) => s !== "" && s !== "ContainerCreating"))];
    expect(waiting).toEqual(["ErrImagePull", "ImagePullBackOff"]);
    const pod = (await c.pod("typo"))!;
    expect(pod.status.phase).toBe("Pending");
    expect(pod.status.containerStatuses[0].state.waiting.message).toBe('Back-off pulling image "ngnix"');
    const rs = reasons(await c.events("typo"));
    expect(rs.slice(0, 3)).toEqual(["Pulling", "Failed", "Failed"]);
    expect(rs).toContain("BackOff");
  });
});

/** Samples the first container's status every second for `seconds`. */
async function sample(c: NodeCluster, name: string, seconds: number): Promise<{ t: number; cs: any; phase: string }[]> {
  const out: { t: number; cs: any; phase: string }[] = [];
  for (let i = 0; i < seconds; i++) {
    await c.run(1);
    const p = await c.pod(name);
    out.push({ t: c.now(), cs: p?.status?.containerStatuses?.[0], phase: p?.status?.phase });
  }
  return out;
}

describe("kubelet: restarts and failures", () => {
  it("restarts a container that crashes every 5 s with the real CrashLoopBackOff delays: at once, then 10 s, 20 s, 40 s, 80 s", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "crashy", { containers: [{ name: "web", image: "nginx:1.27", env: [{ name: "SIM_CRASH_AFTER", value: "5s" }] }] }));
    const samples = await sample(c, "crashy", 330);
    // For each restart: the time from the previous exit to the new start.
    const gaps = new Map<number, number>();
    for (const { cs } of samples) {
      if (!cs?.state?.running || !cs.lastState?.terminated) continue;
      gaps.set(cs.restartCount, (Date.parse(cs.state.running.startedAt) - Date.parse(cs.lastState.terminated.finishedAt)) / 1000);
    }
    expect([...gaps.entries()].slice(0, 5)).toEqual([
      [1, 0],
      [2, 10],
      [3, 20],
      [4, 40],
      [5, 80],
    ]);
    const waiting = samples.find((s) => s.cs?.state?.waiting?.reason === "CrashLoopBackOff")!;
    expect(waiting.phase).toBe("Running");
    expect(waiting.cs.state.waiting.message).toMatch(/^back-off \d+s restarting failed container=web pod=crashy_default\(/);
    expect(waiting.cs.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });
    const backOff = (await c.events("crashy")).find((e) => e.reason === "BackOff")!;
    expect(backOff.type).toBe("Warning");
    expect(backOff.message).toMatch(/^Back-off restarting failed container web in pod crashy_default\(/);
  });

  it("reports CreateContainerConfigError for a missing ConfigMap and starts the container once it appears", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(
      podOn(WORKER, "configured", { containers: [{ name: "web", image: "nginx:1.27", env: [{ name: "MODE", valueFrom: { configMapKeyRef: { name: "app-config", key: "mode" } } }] }] }),
    );
    await c.run(20);
    let cs = (await c.pod("configured"))!.status.containerStatuses[0];
    expect(cs.state.waiting).toEqual({ reason: "CreateContainerConfigError", message: 'configmap "app-config" not found' });
    expect((await c.events("configured")).some((e) => e.reason === "Failed" && e.message === 'Error: configmap "app-config" not found')).toBe(true);
    await c.api.create({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "app-config", namespace: "default" }, data: { mode: "prod" } });
    await c.run(12);
    cs = (await c.pod("configured"))!.status.containerStatuses[0];
    expect(cs.state.running).toBeDefined();
    expect(cs.ready).toBe(true);
  });

  it("OOM-kills a container whose SIM_MEMORY is above its memory limit", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(
      podOn(WORKER, "hungry", {
        containers: [{ name: "web", image: "nginx:1.27", env: [{ name: "SIM_MEMORY", value: "256Mi" }], resources: { limits: { memory: "128Mi", cpu: "250m" } } }],
      }),
    );
    await c.run(40);
    const pod = (await c.pod("hungry"))!;
    expect(pod.status.qosClass).toBe("Guaranteed");
    const cs = pod.status.containerStatuses[0];
    expect(cs.restartCount).toBeGreaterThanOrEqual(1);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
  });

  it("runs a Job-style pod (restartPolicy Never, sleep 5) to Succeeded with reason Completed", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "once", { restartPolicy: "Never", containers: [{ name: "main", image: "busybox:1.36", command: ["sleep", "5"] }] }));
    const samples = await sample(c, "once", 20);
    const done = samples.find((s) => s.phase === "Succeeded")!;
    expect(done).toBeDefined();
    expect(done.cs.state.terminated).toMatchObject({ exitCode: 0, reason: "Completed" });
    const ran = (Date.parse(done.cs.state.terminated.finishedAt) - Date.parse(done.cs.state.terminated.startedAt)) / 1000;
    expect(ran).toBe(5);
    expect(conditionOf(await c.pod("once"), "Ready")).toMatchObject({ status: "False", reason: "PodCompleted" });
    expect(samples.filter((s) => s.cs?.restartCount > 0)).toEqual([]);
  });

  it("rejects a pod asking for more CPU than the node has (OutOfcpu)", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "greedy", { containers: [{ name: "web", image: "nginx:1.27", resources: { requests: { cpu: "6" } } }] }));
    await c.run(2);
    const pod = (await c.pod("greedy"))!;
    expect(pod.status).toMatchObject({ phase: "Failed", reason: "OutOfcpu", message: "Pod was rejected: Node didn't have enough resource: cpu, requested: 6000, used: 0, capacity: 4000" });
    const [event] = await c.events("greedy");
    expect(event).toMatchObject({ type: "Warning", reason: "OutOfcpu" });
  });
});

describe("kubelet: graceful termination", () => {
  it("stops a deleted pod's containers (SIGKILL after the 30 s grace period for a program ignoring SIGTERM), then removes the pod", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "sleeper", { containers: [{ name: "main", image: "busybox:1.36", command: ["sleep", "3600"] }] }));
    await c.run(20);
    const seen = trackPod(c, "sleeper");
    const deletedAt = c.now();
    const deleted = await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "sleeper" });
    expect(deleted.metadata.deletionGracePeriodSeconds).toBe(30);
    await c.run(29);
    expect(await c.pod("sleeper")).toBeDefined();
    await c.run(3);
    expect(await c.pod("sleeper")).toBeUndefined();
    const gone = seen.find((s) => s.deleted)!;
    expect(gone.t - deletedAt).toBe(30);
    // The last status written before the removal: the container was killed (137), the pod is Failed.
    const last = seen.filter((s) => !s.deleted).at(-1)!;
    expect(last).toMatchObject({ phase: "Failed", state: "terminated:Error" });
    const killing = (await c.events("sleeper")).find((e) => e.reason === "Killing")!;
    expect(killing).toMatchObject({ type: "Normal", message: "Stopping container main" });
    expect(killing.involvedObject.fieldPath).toBe("spec.containers{main}");
    expect(c.fleet.kubelet(WORKER)!.podIPsInUse).toBe(0);
  });

  it("removes a pod that handles SIGTERM as soon as it has exited", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    await c.api.create(podOn(WORKER, "web"));
    await c.run(20);
    await c.api.delete({ apiVersion: "v1", kind: "Pod", namespace: "default", name: "web" });
    await c.run(3);
    expect(await c.pod("web")).toBeUndefined();
  });
});

describe("kubelet: secrets", () => {
  it("never writes a Secret's value into events, component logs or container logs", async () => {
    const c = (cluster = await startNodes());
    await c.run(2);
    const value = "hunter2-very-secret";
    await c.api.create({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "default" }, stringData: { password: value } });
    await c.api.create(
      podOn(WORKER, "app", {
        containers: [
          {
            name: "web",
            image: "nginx:1.27",
            env: [
              { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
              { name: "DB_URL", value: "postgres://app:$(DB_PASSWORD)@db:5432/app" },
            ],
          },
        ],
      }),
    );
    await c.api.create(podOn(WORKER, "broken", { containers: [{ name: "web", image: "nginx:1.27", env: [{ name: "X", valueFrom: { secretKeyRef: { name: "db", key: "nope" } } }] }] }));
    await c.run(30);
    expect((await c.pod("app"))!.status.phase).toBe("Running");
    const events = JSON.stringify(await c.events());
    expect(events).toContain("couldn't find key nope in Secret default/db");
    expect(events).not.toContain(value);
    expect(c.logs.join("\n")).not.toContain(value);
    const logs = c.fleet.kubelet(WORKER)!.logs("default", "app", "web");
    expect(logs.ok && logs.text.length > 0).toBe(true);
    expect(JSON.stringify(logs)).not.toContain(value);
  });
});

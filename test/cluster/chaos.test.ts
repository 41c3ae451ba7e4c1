/**
 * `kubelings chaos`: the server side (`runChaos`) against an in-process cluster on the virtual
 * clock, and the CLI side (`chaosCommand`) through a real control socket.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { chaosCommand, parseChaosOptions, runChaos } from "../../src/cli/chaos.js";
import { startControlServer } from "../../src/cli/control.js";
import { conditionOf, deployment, startScenario, type Scenario } from "./_scenario.js";

let scenario: Scenario | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await scenario?.stop();
  scenario = undefined;
});

/** A cluster with a rolled-out Deployment `web` of 3 (one pod per worker). */
async function withWeb(): Promise<Scenario> {
  const s = (scenario = await startScenario());
  await s.cluster.api.create(deployment("web", { replicas: 3 }));
  await s.until("web ready", 60, async () => (await s.pods("app=web")).filter((p) => conditionOf(p, "Ready")?.status === "True").length === 3);
  return s;
}

const nodeReady = (s: Scenario, node: string) => conditionOf(s.peek("v1", "Node", node), "Ready")?.status;

describe("kubelings chaos (server side)", () => {
  it("stops a node and says what follows; the node goes NotReady, then restart-node brings it back", async () => {
    const s = await withWeb();
    const out = await runChaos(s.cluster, { action: "stop-node", target: "kubelings-worker2" });
    expect(out).toEqual({
      code: 0,
      stdout:
        "Stopped node kubelings-worker2: its kubelet stops heartbeating; the node goes NotReady after 50 s and its pods are evicted 5 minutes later, " +
        "and their controllers replace them on other nodes (1 pod ran there).\n",
      stderr: "",
    });
    expect(s.cluster.kubelets.get("kubelings-worker2")!.state).toBe("powered-off");
    await s.run(70);
    expect(nodeReady(s, "kubelings-worker2")).toBe("Unknown");

    const again = await runChaos(s.cluster, { action: "stop-node", target: "kubelings-worker2" });
    expect(again).toEqual({ code: 1, stdout: "", stderr: "kubelings chaos: node kubelings-worker2 is already stopped; start it with `kubelings chaos restart-node kubelings-worker2`\n" });

    const started = await runChaos(s.cluster, { action: "restart-node", target: "kubelings-worker2", output: "json" });
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toEqual({
      action: "restart-node",
      node: "kubelings-worker2",
      message: expect.stringMatching(/^Started node kubelings-worker2: its kubelet registers again/),
    });
    await s.run(10);
    expect(nodeReady(s, "kubelings-worker2")).toBe("True");
  });

  it("says nothing is evicted when the stopped node ran no pods", async () => {
    const s = (scenario = await startScenario());
    const out = await runChaos(s.cluster, { action: "stop-node", target: "kubelings-control-plane" });
    expect(out.stdout).toBe("Stopped node kubelings-control-plane: its kubelet stops heartbeating; the node goes NotReady after 50 s (no pods ran there, so nothing is evicted).\n");
  });

  it("reboots a running node: its containers start again with restartCount + 1", async () => {
    const s = await withWeb();
    const out = await runChaos(s.cluster, { action: "restart-node", target: "kubelings-worker" });
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      "Rebooted node kubelings-worker: every container on it was killed and starts again (restartCount + 1, a new pod IP each) for its 1 pod; " +
        "its kubelet is back within seconds, well inside the 50 s grace period, so nothing is evicted.\n",
    );
    await s.run(20);
    const [pod] = (await s.pods("app=web")).filter((p) => p.spec.nodeName === "kubelings-worker");
    expect(pod.status.containerStatuses[0].restartCount).toBe(1);
    expect(conditionOf(pod, "Ready").status).toBe("True");
  });

  it("deletes a Deployment's pod and names the ReplicaSet that replaces it", async () => {
    const s = await withWeb();
    const [pod] = await s.pods("app=web");
    const rs = pod.metadata.ownerReferences![0].name;
    const out = await runChaos(s.cluster, { action: "delete-pod", target: pod.metadata.name, namespace: "default" });
    expect(out).toEqual({
      code: 0,
      stdout:
        `Deleted pod default/${pod.metadata.name}: it is Terminating: its containers get SIGTERM and up to 30 s to exit (terminationGracePeriodSeconds) before SIGKILL; ` +
        `its ReplicaSet ${rs} sees one pod fewer than it wants and creates a replacement at once, with a new name and a new IP.\n`,
      stderr: "",
    });
    await s.run(0);
    const pods = await s.pods("app=web");
    expect(pods.filter((p) => !p.metadata.deletionTimestamp)).toHaveLength(3);
    expect(pods.find((p) => p.metadata.uid === pod.metadata.uid)?.metadata.deletionTimestamp).toBeDefined();

    const twice = await runChaos(s.cluster, { action: "delete-pod", target: pod.metadata.name });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/is already terminating/);
    const missing = await runChaos(s.cluster, { action: "delete-pod", target: "nope" });
    expect(missing).toEqual({ code: 2, stdout: "", stderr: 'kubelings chaos: pod "nope" not found in namespace "default" (use -n NAMESPACE for another namespace)\n' });
  });

  it("says a bare pod is not replaced", async () => {
    const s = (scenario = await startScenario());
    await s.cluster.api.create({ apiVersion: "v1", kind: "Pod", metadata: { name: "solo", namespace: "default" }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } });
    await s.run(10);
    const out = await runChaos(s.cluster, { action: "delete-pod", target: "solo" });
    expect(out.stdout).toMatch(/; nothing owns it, so nothing replaces it: a bare pod is gone for good/);
  });

  it("crashes a container (exit 1, or 137 OOMKilled with --oom) and the kubelet restarts it", async () => {
    const s = await withWeb();
    const [pod] = await s.pods("app=web");
    const name = pod.metadata.name!;
    const out = await runChaos(s.cluster, { action: "crash", target: name });
    expect(out).toEqual({
      code: 0,
      stdout:
        `Crashed container web of pod default/${name} on ${pod.spec.nodeName}: exit code 1, reason Error; restartPolicy Always: the kubelet restarts it (restartCount + 1); ` +
        "if it keeps crashing, each restart waits longer (CrashLoopBackOff: 10 s, doubling up to 5 minutes).\n",
      stderr: "",
    });
    await s.run(2);
    let cs = (await s.pods("app=web")).find((p) => p.metadata.name === name)!.status.containerStatuses[0];
    expect(cs.restartCount).toBe(1);
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 1, reason: "Error" });

    await s.run(30);
    const oom = await runChaos(s.cluster, { action: "crash", target: name, container: "web", oom: true, output: "json" });
    expect(JSON.parse(oom.stdout)).toMatchObject({ action: "crash", namespace: "default", pod: name, container: "web", node: pod.spec.nodeName });
    await s.run(2);
    cs = (await s.pods("app=web")).find((p) => p.metadata.name === name)!.status.containerStatuses[0];
    expect(cs.lastState.terminated).toMatchObject({ exitCode: 137, reason: "OOMKilled" });

    const wrong = await runChaos(s.cluster, { action: "crash", target: name, container: "sidecar" });
    expect(wrong).toEqual({ code: 2, stdout: "", stderr: `kubelings chaos: pod default/${name} has no container "sidecar"; its containers are: web\n` });
  });

  it("crashes the default container of a multi-container pod, as kubectl picks it, and says so", async () => {
    const s = (scenario = await startScenario());
    await s.cluster.api.create({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "duo", namespace: "default" },
      spec: {
        restartPolicy: "Never",
        containers: [
          { name: "app", image: "nginx:1.27" },
          { name: "sidecar", image: "busybox:1.36", command: ["sleep", "3600"] },
        ],
      },
    });
    await s.run(15);
    const out = await runChaos(s.cluster, { action: "crash", target: "duo" });
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Crashed container app of pod default\/duo on kubelings-worker\d? \(Defaulted container "app" out of: app, sidecar\): exit code 1, reason Error; restartPolicy Never: the kubelet does not restart it, and the pod ends Failed\.\n$/);
  });

  it("partitions a node and heals it: the containers keep running throughout", async () => {
    const s = await withWeb();
    const notCut = await runChaos(s.cluster, { action: "heal", target: "kubelings-worker3" });
    expect(notCut).toEqual({ code: 1, stdout: "", stderr: "kubelings chaos: node kubelings-worker3 is not partitioned: nothing to heal\n" });
    const cut = await runChaos(s.cluster, { action: "partition", target: "kubelings-worker3" });
    expect(cut.stdout).toBe(
      "Cut node kubelings-worker3 off from the API server: its containers keep running (1 pod runs there), but its kubelet can no longer heartbeat; " +
        "the node goes NotReady after 50 s and its pods are evicted 5 minutes later unless you heal it first with `kubelings chaos heal kubelings-worker3`.\n",
    );
    await s.run(70);
    expect(nodeReady(s, "kubelings-worker3")).toBe("Unknown");
    const healed = await runChaos(s.cluster, { action: "heal", target: "kubelings-worker3" });
    expect(healed.stdout).toMatch(/^Reconnected node kubelings-worker3 to the API server: its kubelet reports again/);
    await s.run(10);
    expect(nodeReady(s, "kubelings-worker3")).toBe("True");
    const [pod] = (await s.pods("app=web")).filter((p) => p.spec.nodeName === "kubelings-worker3");
    expect(pod.status.containerStatuses[0].restartCount).toBe(0);
  });

  it("refuses bad requests with exit code 2, naming the option and the fix", async () => {
    const s = (scenario = await startScenario());
    const cases: [Record<string, unknown>, string][] = [
      [{ action: "explode", target: "x" }, 'unknown fault "explode": use one of delete-pod, stop-node, restart-node, crash, partition, heal'],
      [{ action: "stop-node" }, "stop-node needs the name of a node"],
      [{ action: "stop-node", target: "Worker_1" }, '"Worker_1" is not a valid node name: use lower-case letters, digits, \'-\' and \'.\''],
      [{ action: "stop-node", target: "node-9" }, 'node "node-9" not found; the nodes are: kubelings-control-plane, kubelings-worker, kubelings-worker2, kubelings-worker3'],
      [{ action: "stop-node", target: "kubelings-worker", namespace: "default" }, "--namespace does not apply to stop-node: nodes are not namespaced"],
      [{ action: "delete-pod", target: "web", container: "web" }, "--container only applies to crash"],
      [{ action: "crash", target: "web", namespace: "Shop" }, '--namespace "Shop" is not a valid namespace name: use lower-case letters, digits and \'-\''],
      [{ action: "heal", target: "kubelings-worker", output: "yaml" }, 'unknown output format "yaml": use -o table or -o json'],
    ];
    for (const [options, message] of cases) {
      expect(await runChaos(s.cluster, options), JSON.stringify(options)).toEqual({ code: 2, stdout: "", stderr: `kubelings chaos: ${message}\n` });
    }
    expect(s.cluster.kubelets.get("kubelings-worker")!.state).toBe("running");
    expect(parseChaosOptions({ action: "crash", target: "web", oom: true })).toEqual({ action: "crash", target: "web", namespace: "default", oom: true, output: "table" });
  });
});

describe("kubelings chaos (CLI side)", () => {
  function tempState(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kl-chaos-"));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, out, err };
  }

  it("exits 2 with how to start a server when no kubelings serve runs on the state directory", async () => {
    const state = tempState();
    const { io, out, err } = capture();
    expect(await chaosCommand(state, { action: "stop-node", target: "kubelings-worker2" }, io)).toBe(2);
    expect(out).toEqual([]);
    expect(err.join("")).toBe(`no kubelings serve is running on ${state}: start one with \`kubelings serve\`\n`);
  });

  it("sends the fault through the control socket to the server, which runs it on its cluster", async () => {
    const s = await withWeb();
    const state = tempState();
    const server = await startControlServer(state, async (command, options) =>
      command === "chaos" ? runChaos(s.cluster, options) : { code: 2, stdout: "", stderr: `unknown command ${command}\n` },
    );
    cleanups.push(() => server.close());
    const { io, out, err } = capture();
    expect(await chaosCommand(state, { action: "stop-node", target: "kubelings-worker2" }, io)).toBe(0);
    expect(out.join("")).toMatch(/^Stopped node kubelings-worker2: its kubelet stops heartbeating/);
    expect(err.join("")).toBe("");
    expect(s.cluster.kubelets.get("kubelings-worker2")!.state).toBe("powered-off");
    const second = capture();
    expect(await chaosCommand(state, { action: "stop-node", target: "kubelings-worker2" }, second.io)).toBe(1);
    expect(second.err.join("")).toMatch(/is already stopped/);
  });
});

import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/api/clock.js";
import { ClusterEvents, nodeUpdateEvents, podBackoffMs, SchedulingQueue } from "../../src/cluster/scheduler/index.js";
import { node, pod } from "./_fixtures.js";

function setup() {
  const clock = new VirtualClock();
  const queue = new SchedulingQueue({ clock });
  return { clock, queue };
}

describe("podBackoffMs", () => {
  it("backs off 1, 2, 4, 8, 10, 10 seconds", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => podBackoffMs(n))).toEqual([1000, 2000, 4000, 8000, 10000, 10000]);
    expect(podBackoffMs(0)).toBe(0);
    expect(podBackoffMs(100)).toBe(10000);
  });

  it("follows configured initial and maximum backoff", () => {
    expect([1, 2, 3].map((n) => podBackoffMs(n, 500, 1500))).toEqual([500, 1000, 1500]);
    expect(() => new SchedulingQueue({ clock: new VirtualClock(), podInitialBackoffMs: 0 })).toThrow(/podInitialBackoffMs/);
  });
});

describe("SchedulingQueue", () => {
  it("pops the highest priority first, then the earliest queued", async () => {
    const { clock, queue } = setup();
    queue.add(pod("low", { priority: 0 }));
    await clock.advance(1);
    queue.add(pod("first", { priority: 10 }));
    await clock.advance(1);
    queue.add(pod("second", { priority: 10 }));
    const order = [queue.tryPop(), queue.tryPop(), queue.tryPop()].map((i) => i!.pod.metadata.name);
    expect(order).toEqual(["first", "second", "low"]);
    expect(queue.tryPop()).toBeUndefined();
  });

  it("counts attempts and scheduling cycles", () => {
    const { queue } = setup();
    queue.add(pod("p"));
    const info = queue.tryPop()!;
    expect(info.attempts).toBe(1);
    expect(info.cycle).toBe(1);
    expect(queue.schedulingCycle).toBe(1);
    expect(queue.where(info.pod)).toBe("inFlight");
  });

  it("parks an unschedulable pod until an event its rejecting plugin cares about", async () => {
    const { clock, queue } = setup();
    const p = pod("web");
    queue.add(p);
    const info = queue.tryPop()!;
    expect(queue.addUnschedulableIfNotPresent(info, ["NodeResourcesFit"])).toBe(true);
    expect(queue.where(p)).toBe("unschedulable");
    // A bound pod appearing cannot free resources: NodeResourcesFit does not register Pod/Add.
    queue.onAssignedPodAdd();
    expect(queue.where(p)).toBe("unschedulable");
    // A bound pod going away may: the pod moves, to backoffQ while its 1 s backoff runs.
    queue.onAssignedPodDelete();
    expect(queue.where(p)).toBe("backoff");
    await clock.advance(999);
    queue.flushBackoffQCompleted();
    expect(queue.where(p)).toBe("backoff");
    await clock.advance(1);
    queue.flushBackoffQCompleted();
    expect(queue.where(p)).toBe("active");
  });

  it("moves a pod whose backoff already expired straight to activeQ", async () => {
    const { clock, queue } = setup();
    const p = pod("web");
    queue.add(p);
    queue.addUnschedulableIfNotPresent(queue.tryPop()!, ["TaintToleration"]);
    await clock.advance(5000);
    queue.onNodeUpdate(node("a"), node("a", { taints: [] , labels: { new: "label" } }));
    expect(queue.where(p)).toBe("active");
  });

  it("maps node updates to the upstream cluster events", () => {
    const old = node("a");
    const changed = node("a", { cpu: "8", labels: { x: "y" }, taints: [{ key: "k", effect: "NoSchedule" }], unschedulable: true });
    expect(nodeUpdateEvents(old, changed).map((e) => e.label)).toEqual(["NodeSpecUnschedulableChange", "NodeAllocatableChange", "NodeLabelChange", "NodeTaintChange"]);
    expect(nodeUpdateEvents(old, node("a"))).toEqual([]);
  });

  it("sends a pod to backoffQ when an event arrived during its scheduling attempt", () => {
    const { queue } = setup();
    const p = pod("web");
    queue.add(p);
    const info = queue.tryPop()!;
    queue.moveAllToActiveOrBackoffQueue(ClusterEvents.NodeAdd);
    queue.addUnschedulableIfNotPresent(info, ["NodeAffinity"]);
    expect(queue.where(p)).toBe("backoff");
  });

  it("sends a pod that failed with an error (no rejecting plugin) to backoffQ", () => {
    const { queue } = setup();
    const p = pod("web");
    queue.add(p);
    queue.addUnschedulableIfNotPresent(queue.tryPop()!, []);
    expect(queue.where(p)).toBe("backoff");
  });

  it("retries pods left unschedulable for 5 minutes", async () => {
    const { clock, queue } = setup();
    queue.run();
    const p = pod("web");
    queue.add(p);
    queue.addUnschedulableIfNotPresent(queue.tryPop()!, ["NodeAffinity"]);
    await clock.advance(5 * 60_000);
    expect(queue.where(p)).toBe("unschedulable");
    await clock.advance(30_000);
    expect(queue.where(p)).toBe("active");
    queue.close();
  });

  it("holds pods with scheduling gates until the gates are removed", () => {
    const { queue } = setup();
    const gated = pod("gated", { spec: { schedulingGates: [{ name: "example.com/wait" }] } });
    queue.add(gated);
    expect(queue.where(gated)).toBe("unschedulable");
    queue.moveAllToActiveOrBackoffQueue(ClusterEvents.ForceActivate);
    expect(queue.tryPop()).toBeUndefined();
    queue.update(gated, { ...gated, spec: { ...gated.spec, schedulingGates: [] } });
    expect(queue.tryPop()!.pod.metadata.name).toBe("gated");
  });

  it("requeues an unschedulable pod when its spec changes, not on status-only updates", () => {
    const { queue } = setup();
    const p = pod("web");
    queue.add(p);
    queue.addUnschedulableIfNotPresent(queue.tryPop()!, ["NodeAffinity"]);
    queue.update(p, { ...p, status: { ...p.status, conditions: [{ type: "PodScheduled", status: "False" }] } });
    expect(queue.where(p)).toBe("unschedulable");
    queue.update(p, { ...p, spec: { ...p.spec, nodeSelector: { disk: "ssd" } } });
    expect(queue.where(p)).toBe("backoff");
  });

  it("queues a new version of a pod changed while it was being scheduled, dropping the old attempt's failure", () => {
    const { queue } = setup();
    const p = pod("web");
    queue.add(p);
    const info = queue.tryPop()!;
    const changed = { ...p, spec: { ...p.spec, nodeSelector: { disk: "ssd" } } };
    queue.update(p, changed);
    expect(queue.where(p)).toBe("active");
    expect(queue.addUnschedulableIfNotPresent(info, ["NodeAffinity"])).toBe(false);
    expect(queue.tryPop()!.pod).toBe(changed);
  });

  it("resolves a waiting pop when a pod arrives, and with undefined when closed", async () => {
    const { queue } = setup();
    const waiting = queue.pop();
    queue.add(pod("late"));
    expect((await waiting)!.pod.metadata.name).toBe("late");
    const never = queue.pop();
    queue.close();
    expect(await never).toBeUndefined();
  });

  it("forgets deleted pods", () => {
    const { queue } = setup();
    const p = pod("web");
    queue.add(p);
    queue.delete(p);
    expect(queue.where(p)).toBeUndefined();
    expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0 });
  });
});

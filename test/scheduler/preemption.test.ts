import { describe, expect, it } from "vitest";
import type { ScheduleFailure } from "../../src/cluster/scheduler/index.js";
import { cluster, failure, node, placed, pod, scheduler } from "./_fixtures.js";

function asFailure(r: unknown): ScheduleFailure {
  if (!r || typeof r !== "object" || !("error" in r)) throw new Error("expected a failure");
  return r as ScheduleFailure;
}

describe("DefaultPreemption", () => {
  it("nominates a node and names the lower-priority victims when evicting them makes room", () => {
    const low = pod("batch", { cpu: "1500m", priority: 0, nodeName: "a" });
    const snap = cluster([node("a", { cpu: "2" })], [low]);
    const r = asFailure(scheduler().schedule(pod("critical", { cpu: "1", priority: 1000 }), snap));
    // A successful preemption leaves no "preemption:" part in the message.
    expect(r.error.message).toBe("0/1 nodes are available: 1 Insufficient cpu.");
    expect(r.nominatedNodeName).toBe("a");
    expect(r.victims!.map((v) => v.metadata.name)).toEqual(["batch"]);
  });

  it("leaves the snapshot untouched while dry-running preemption", () => {
    const snap = cluster([node("a", { cpu: "2" })], [pod("batch", { cpu: "1500m", priority: 0, nodeName: "a" })]);
    const before = { cpu: snap.get("a")!.requested.milliCPU, pods: snap.get("a")!.pods.length };
    scheduler().schedule(pod("critical", { cpu: "1", priority: 1000 }), snap);
    expect({ cpu: snap.get("a")!.requested.milliCPU, pods: snap.get("a")!.pods.length }).toEqual(before);
  });

  it("evicts as few pods as needed, reprieving the most important first", () => {
    const bound = [
      pod("v-low", { cpu: "500m", priority: 1, nodeName: "a" }),
      pod("v-mid", { cpu: "500m", priority: 5, nodeName: "a" }),
      pod("v-high", { cpu: "500m", priority: 9, nodeName: "a" }),
    ];
    const snap = cluster([node("a", { cpu: "2" })], bound);
    const r = asFailure(scheduler().schedule(pod("critical", { cpu: "1", priority: 100 }), snap));
    expect(r.victims!.map((v) => v.metadata.name)).toEqual(["v-low"]);
  });

  it("prefers the node whose most important victim has the lowest priority", () => {
    const snap = cluster(
      [node("a", { cpu: "1" }), node("b", { cpu: "1" })],
      [pod("on-a", { cpu: "1", priority: 50, nodeName: "a" }), pod("on-b", { cpu: "1", priority: 10, nodeName: "b" })],
    );
    const r = asFailure(scheduler().schedule(pod("critical", { cpu: "1", priority: 100 }), snap));
    expect(r.nominatedNodeName).toBe("b");
    expect(r.victims!.map((v) => v.metadata.name)).toEqual(["on-b"]);
  });

  it("keeps the filter's reason for nodes where removing lower-priority pods is not enough", () => {
    const snap = cluster(
      [node("a", { cpu: "2" }), node("b", { cpu: "2" })],
      [pod("same-a", { cpu: "1500m", priority: 100, nodeName: "a" }), pod("low-b", { cpu: "500m", priority: 0, nodeName: "b" }), pod("same-b", { cpu: "1500m", priority: 100, nodeName: "b" })],
    );
    const r = asFailure(scheduler().schedule(pod("p", { cpu: "1", priority: 100 }), snap));
    expect(r.error.message).toBe(
      "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 1 Insufficient cpu, 1 No preemption victims found for incoming pod.",
    );
    expect(r.nominatedNodeName).toBe("");
    expect(r.victims).toBeUndefined();
  });

  it("makes nominated pods of higher priority hold their room against others", () => {
    const snap = cluster([node("a", { cpu: "2" }), node("b", { cpu: "2" })]);
    const nominated = pod("critical", { cpu: "1500m", priority: 1000, status: { nominatedNodeName: "a" } });
    snap.addNominatedPod(nominated);
    const r = scheduler().schedule(pod("low", { cpu: "1", priority: 0 }), snap);
    expect(placed(r)).toBe("b");
    // The nominated pod itself, and pods of higher priority, are not held back by the nomination.
    expect(placed(scheduler().schedule(nominated, snap))).toBe("a");
    snap.removeNominatedPod(nominated);
    snap.addPod(pod("full-b", { cpu: "1500m", nodeName: "b" }));
    expect(placed(scheduler().schedule(pod("low2", { cpu: "1", priority: 0 }), snap))).toBe("a");
  });

  it("waits while earlier victims on the nominated node are still terminating", () => {
    const dying = pod("victim", { cpu: "1500m", priority: 0, nodeName: "a" });
    dying.metadata.deletionTimestamp = "2024-01-01T00:00:00Z";
    const snap = cluster([node("a", { cpu: "2" })], [dying]);
    const r = scheduler().schedule(pod("critical", { cpu: "1", priority: 1000, status: { nominatedNodeName: "a" } }), snap);
    expect(failure(r)).toBe("0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to a terminating pod on the nominated node.");
  });

  it("tries the nominated node first and takes it when it fits", () => {
    const snap = cluster([node("a"), node("b"), node("c")]);
    const r = scheduler().schedule(pod("p", { status: { nominatedNodeName: "c" } }), snap);
    expect(placed(r)).toBe("c");
    expect((r as { evaluatedNodes: number }).evaluatedNodes).toBe(1);
  });
});

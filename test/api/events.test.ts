import { describe, expect, it } from "vitest";
import { EventRecorder } from "../../src/api/events.js";
import { pod, startApi } from "./_harness.js";

const events = { apiVersion: "v1", kind: "Event", namespace: "default" };

describe("event recorder (client-go tools/record)", () => {
  it("writes a core/v1 Event with reason, message, involved object, count and timestamps", async () => {
    const { api, clock } = await startApi();
    const p = await api.create(pod("web-1"));
    const recorder = new EventRecorder(api, clock, { component: "default-scheduler" });
    await recorder.event(p, "Normal", "Scheduled", "Successfully assigned default/web-1 to worker-1");
    const list = await api.list(events);
    expect(list.items).toHaveLength(1);
    const e = list.items[0];
    expect(e.metadata.name).toMatch(/^web-1\.[0-9a-f]+$/);
    expect(e).toMatchObject({
      reason: "Scheduled",
      message: "Successfully assigned default/web-1 to worker-1",
      type: "Normal",
      count: 1,
      source: { component: "default-scheduler" },
      involvedObject: { kind: "Pod", name: "web-1", namespace: "default", uid: p.metadata.uid, apiVersion: "v1" },
      firstTimestamp: "2024-01-01T00:00:00Z",
      lastTimestamp: "2024-01-01T00:00:00Z",
    });
  });

  it("counts a repeated identical event on the same Event instead of writing a new one", async () => {
    const { api, clock } = await startApi();
    const p = await api.create(pod("web-1"));
    const recorder = new EventRecorder(api, clock, { component: "kubelet", host: "worker-1" });
    await recorder.event(p, "Warning", "BackOff", "Back-off restarting failed container web");
    await clock.advance(10_000);
    await recorder.event(p, "Warning", "BackOff", "Back-off restarting failed container web");
    await clock.advance(20_000);
    await recorder.event(p, "Warning", "BackOff", "Back-off restarting failed container web");
    const list = await api.list(events);
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ count: 3, firstTimestamp: "2024-01-01T00:00:00Z", lastTimestamp: "2024-01-01T00:00:30Z" });
  });

  it("combines more than 10 similar events with different messages within 10 minutes", async () => {
    const { api, clock } = await startApi();
    const p = await api.create(pod("web-1"));
    const recorder = new EventRecorder(api, clock, { component: "kubelet" });
    for (let i = 0; i < 12; i++) await recorder.event(p, "Warning", "Unhealthy", `Readiness probe failed: attempt ${i}`);
    const list = await api.list(events);
    const combined = list.items.filter((e) => e.message.startsWith("(combined from similar events): "));
    expect(list.items.length).toBe(10);
    expect(combined).toHaveLength(1);
    expect(combined[0].count).toBe(3);
  });

  it("drops events beyond a burst of 25 per object until the bucket refills", async () => {
    const { api, clock } = await startApi();
    const p = await api.create(pod("web-1"));
    const recorder = new EventRecorder(api, clock, { component: "kubelet" });
    for (let i = 0; i < 30; i++) await recorder.event(p, "Normal", "Pulled", "same message");
    let list = await api.list(events);
    expect(list.items[0].count).toBe(25);
    await clock.advance(300_000);
    await recorder.event(p, "Normal", "Pulled", "same message");
    list = await api.list(events);
    expect(list.items[0].count).toBe(26);
  });
});

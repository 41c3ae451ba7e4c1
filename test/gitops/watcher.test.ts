/**
 * The watcher: commits seen through chokidar on the real clock (nothing is timed, the tests only
 * wait for things to happen), syncs never overlapping, commits during a sync coalescing into one
 * sync of the newest head, the periodic resync and the self-heal back-off on the virtual clock.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Client, CollectionRef, ListOptions } from "../../src/api/client.js";
import { RealClock, VirtualClock, type Clock } from "../../src/api/clock.js";
import { MERGE_PATCH } from "../../src/api/patch/index.js";
import { ApiServer } from "../../src/api/server/api-server.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import type { KubeObject } from "../../src/api/types.js";
import { MemoryHistory } from "../../src/gitops/history.js";
import { Reconciler, type DriftReport, type SyncOptions, type SyncResult } from "../../src/gitops/reconciler.js";
import { Watcher } from "../../src/gitops/watcher.js";
import { seeded } from "../api/_harness.js";
import { TestRepo } from "./_git.js";

const cleanup: Array<() => unknown> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

function deployment(replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
`;
}

const webRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web" };

/** Polls `check` on the real clock until it holds (fails after `ms`). */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A client whose lists wait at a gate while it is closed: a slow sync on demand. */
class Gate {
  private open: Promise<void> | undefined;
  private release: (() => void) | undefined;
  /** Number of calls that reached the closed gate. */
  hits = 0;

  close(): void {
    this.open = new Promise((resolve) => (this.release = resolve));
  }

  opened(): void {
    this.release?.();
    this.open = undefined;
  }

  wrap(api: ApiServer): Client {
    const gated: Client = Object.create(api);
    gated.list = async <T extends KubeObject>(ref: CollectionRef, options?: ListOptions) => {
      if (this.open) {
        this.hits++;
        await this.open;
      }
      return api.list<T>(ref, options);
    };
    return gated;
  }
}

async function setup(options: { clock: Clock; gate?: Gate; selfHeal?: boolean; watchFiles?: boolean; watchDrift?: boolean; resyncIntervalMs?: number }) {
  const repo = TestRepo.init();
  cleanup.push(() => repo.remove());
  repo.commitFiles("Add web", { "web.yaml": deployment(1) });
  const api = new ApiServer({ store: new MemoryStore(), clock: options.clock, random: seeded() });
  await api.start();
  const client = options.gate ? options.gate.wrap(api) : api;
  const reconciler = new Reconciler({ client, clock: options.clock, repoDir: repo.dir, history: new MemoryHistory(), selfHeal: options.selfHeal ?? true, hints: false });
  // Count syncs running at once: the watcher must never start a second one.
  let active = 0;
  let maxActive = 0;
  const sync = reconciler.sync.bind(reconciler);
  reconciler.sync = async (o?: SyncOptions) => {
    active++;
    maxActive = Math.max(maxActive, active);
    try {
      return await sync(o);
    } finally {
      active--;
    }
  };
  const synced: SyncResult[] = [];
  const drift: DriftReport[] = [];
  const watcher = new Watcher({
    reconciler,
    watchFiles: options.watchFiles ?? true,
    watchDrift: options.watchDrift ?? true,
    resyncIntervalMs: options.resyncIntervalMs,
    onSync: (r) => synced.push(r),
    onDrift: (r) => drift.push(...r),
  });
  cleanup.push(() => watcher.stop());
  return { repo, api, reconciler, watcher, synced, drift, maxActive: () => maxActive };
}

describe("commits", () => {
  it("starts a sync when a commit lands on the tracked branch", async () => {
    const { repo, api, watcher, synced } = await setup({ clock: new RealClock() });
    await watcher.start();
    expect(synced.map((s) => s.trigger)).toEqual(["start"]);
    const oid = repo.commitFiles("Scale web", { "web.yaml": deployment(3) });
    await waitFor(() => synced.some((s) => s.commit?.oid === oid));
    expect(synced[synced.length - 1]).toMatchObject({ trigger: "commit", result: "Synced" });
    expect((await api.get(webRef)).spec.replicas).toBe(3);
    await watcher.stop();
  });

  it("coalesces commits made during a sync into one sync of the newest head, never two at once", async () => {
    const gate = new Gate();
    const { repo, watcher, synced, maxActive } = await setup({ clock: new RealClock(), gate, watchDrift: false });
    await watcher.start();
    gate.close();
    const first = repo.commitFiles("Scale to 2", { "web.yaml": deployment(2) });
    await waitFor(() => gate.hits > 0);
    repo.commitFiles("Scale to 3", { "web.yaml": deployment(3) });
    const newest = repo.commitFiles("Scale to 4", { "web.yaml": deployment(4) });
    await waitFor(() => watcher.syncing);
    // Let the watcher see both commits while the first sync is held at the gate.
    await new Promise((resolve) => setTimeout(resolve, 300));
    gate.opened();
    await waitFor(() => synced.some((s) => s.commit?.oid === newest));
    await watcher.idle();
    expect(synced.map((s) => s.commit?.oid)).toEqual([synced[0].commit?.oid, first, newest]);
    expect(maxActive()).toBe(1);
    await watcher.stop();
  });

  it("waits for a sync in flight when stopped", async () => {
    const gate = new Gate();
    const { reconciler, watcher } = await setup({ clock: new RealClock(), gate, watchFiles: false, watchDrift: false });
    await watcher.start();
    gate.close();
    const triggered = watcher.trigger("manual");
    await waitFor(() => gate.hits > 0);
    let stopped = false;
    const stopping = watcher.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    gate.opened();
    await stopping;
    await triggered;
    expect(stopped).toBe(true);
    expect(reconciler.busy).toBe(false);
  });
});

describe("on the clock", () => {
  it("catches a commit and drift at the periodic resync when no event came", async () => {
    const clock = new VirtualClock();
    const { repo, api, watcher, synced } = await setup({ clock, watchFiles: false, watchDrift: false, resyncIntervalMs: 60_000 });
    await watcher.start();
    const oid = repo.commitFiles("Scale web", { "web.yaml": deployment(2) });
    await clock.advance(60_000);
    await watcher.idle();
    expect(synced[synced.length - 1]).toMatchObject({ trigger: "commit", result: "Synced", commit: { oid } });

    await api.patch(webRef, MERGE_PATCH, { spec: { replicas: 9 } });
    await clock.advance(59_000);
    await watcher.idle();
    expect((await api.get(webRef)).spec.replicas).toBe(9);
    await clock.advance(1_000);
    await watcher.idle();
    expect((await api.get(webRef)).spec.replicas).toBe(2);
    expect(synced[synced.length - 1]).toMatchObject({ trigger: "resync", result: "Synced" });
    expect(synced[synced.length - 1].operations[0]).toMatchObject({ action: "patch", cause: "drift" });
    await watcher.stop();
  });

  it("backs off self-heal for an object that keeps drifting right after each heal", async () => {
    const clock = new VirtualClock();
    const { api, watcher, drift } = await setup({ clock, watchFiles: false, resyncIntervalMs: 0 });
    await watcher.start();
    const scale = async (n: number) => {
      await api.patch(webRef, MERGE_PATCH, { spec: { replicas: n } });
      await clock.advance(100);
      await watcher.idle();
    };
    await scale(5);
    expect((await api.get(webRef)).spec.replicas).toBe(1);
    // The same object drifts again at once: reported, healed only after 1 s, then 2 s.
    await scale(6);
    expect((await api.get(webRef)).spec.replicas).toBe(6);
    await clock.advance(1_000);
    await watcher.idle();
    expect((await api.get(webRef)).spec.replicas).toBe(1);
    await scale(7);
    await clock.advance(1_000);
    await watcher.idle();
    expect((await api.get(webRef)).spec.replicas).toBe(7);
    await clock.advance(1_000);
    await watcher.idle();
    expect((await api.get(webRef)).spec.replicas).toBe(1);
    // Each drift is reported once, when it happens, whenever it is healed.
    expect(drift.map((d) => d.sentences[0])).toEqual([
      "replicas was changed from 1 to 5 outside git",
      "replicas was changed from 1 to 6 outside git",
      "replicas was changed from 1 to 7 outside git",
    ]);
    await watcher.stop();
  });
});

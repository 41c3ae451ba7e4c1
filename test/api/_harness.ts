/** Test harness: an API server on a memory store and a virtual clock, with a seeded random source. */
import { VirtualClock } from "../../src/api/clock.js";
import { ApiError } from "../../src/api/errors.js";
import { ApiServer } from "../../src/api/server/api-server.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import type { Store } from "../../src/api/store/store.js";
import type { KubeObject, Status } from "../../src/api/types.js";

/** Mulberry32: a small seeded PRNG so uids and allocations are reproducible. */
export function seeded(seed = 42): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Harness {
  api: ApiServer;
  clock: VirtualClock;
  store: Store;
}

/** Starts an API server on a fresh memory store. */
export async function startApi(store: Store = new MemoryStore()): Promise<Harness> {
  const clock = new VirtualClock();
  const api = new ApiServer({ store, clock, random: seeded() });
  await api.start();
  return { api, clock, store };
}

/** Runs `fn` and returns the Status it failed with (fails the test if it succeeded). */
export async function statusOf(fn: () => Promise<unknown>): Promise<Status> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiError) return err.status;
    throw err;
  }
  throw new Error("expected the call to fail with a Status, but it succeeded");
}

/** A minimal valid Deployment. */
export function deployment(name: string, extra: { replicas?: number; image?: string; labels?: Record<string, string> } = {}): KubeObject {
  const labels = extra.labels ?? { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default", labels },
    spec: {
      ...(extra.replicas !== undefined ? { replicas: extra.replicas } : {}),
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "web", image: extra.image ?? "nginx:1.25" }] } },
    },
  };
}

/** A minimal valid Pod. */
export function pod(name: string, extra: { labels?: Record<string, string>; nodeName?: string; namespace?: string } = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: extra.namespace ?? "default", labels: extra.labels ?? { app: "web" } },
    spec: { ...(extra.nodeName ? { nodeName: extra.nodeName } : {}), containers: [{ name: "web", image: "nginx:1.25" }] },
  };
}

/**
 * Test harness for simulated components: an API server on a memory store, a virtual clock,
 * shared informers, and whatever components the test passes in.
 */
import { VirtualClock } from "../../src/api/clock.js";
import { ApiServer } from "../../src/api/server/api-server.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import { makeContext, type ClusterContext, type Component } from "../../src/cluster/context.js";
import { InformerFactory } from "../../src/cluster/informers.js";
import { seeded } from "../api/_harness.js";

export interface TestCluster {
  api: ApiServer;
  clock: VirtualClock;
  ctx: ClusterContext;
  components: Component[];
  /** Log lines written by components. */
  logs: string[];
  stop(): void;
}

/** Starts an API server and the given components on a virtual clock. */
export async function startTestCluster(build: (ctx: ClusterContext) => Component[], seed = 7): Promise<TestCluster> {
  const clock = new VirtualClock();
  const store = new MemoryStore();
  const random = seeded(seed);
  const api = new ApiServer({ store, clock, random });
  await api.start();
  const logs: string[] = [];
  const informers = new InformerFactory(api, clock);
  const ctx = makeContext({ client: api, clock, informers, random, log: (c, m) => logs.push(`${c}: ${m}`) });
  const components = build(ctx);
  for (const c of components) await c.start();
  await informers.start();
  await clock.settle();
  return {
    api,
    clock,
    ctx,
    components,
    logs,
    stop() {
      for (const c of components) c.stop();
      informers.stop();
      api.stop();
    },
  };
}

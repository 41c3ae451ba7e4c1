/**
 * The memory store keeps versions of an object sharing what they have in common: an update
 * that changes one part stores a new version whose unchanged parts are the previous version's
 * (frozen) values. Nothing of the caller's object is kept, and every version stays deeply frozen
 * with exactly the JSON the caller wrote.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import type { KubeObject } from "../../src/api/types.js";
import { isDeepFrozen } from "./fixtures/helpers.js";

const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function deployment(status: Record<string, unknown>): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: { app: "web" } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: "web", image: "nginx" }] } } },
    status,
  };
}

describe("MemoryStore versions", () => {
  it("share the parts an update leaves unchanged, and keep nothing of the caller's object", async () => {
    const store = new MemoryStore();
    stores.push(store);
    const first = await store.create("/registry/deployments/default/web", deployment({ replicas: 0 }));
    const request = deployment({ replicas: 2 });
    const second = await store.update("/registry/deployments/default/web", request, first.modRevision);
    expect(second.object.spec).toBe(first.object.spec);
    expect(second.object.metadata.labels).toBe(first.object.metadata.labels);
    expect(second.object.metadata).not.toBe(first.object.metadata);
    expect(second.object.metadata.resourceVersion).toBe(String(second.modRevision));
    expect(first.object.metadata.resourceVersion).toBe(String(first.modRevision));
    expect(second.object.status).toEqual({ replicas: 2 });
    expect(isDeepFrozen(second.object)).toBe(true);
    // The caller's object is neither frozen nor referenced.
    expect(Object.isFrozen(request.spec)).toBe(false);
    request.spec.replicas = 9;
    expect((await store.get("/registry/deployments/default/web"))!.object.spec.replicas).toBe(2);
    expect(JSON.parse(JSON.stringify(second.object))).toEqual({ ...deployment({ replicas: 2 }), metadata: { ...deployment({}).metadata, resourceVersion: String(second.modRevision) } });
  });
});

import { describe, expect, it } from "vitest";
import { applyMergePatch, applyMergePatchToObject } from "../../src/api/patch/index.js";
import { ApiError } from "../../src/api/errors.js";
import { deepFreeze, type Json, type KubeObject } from "../../src/api/types.js";

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

describe("RFC 7386 Appendix A test vectors", () => {
  const vectors: Array<[Json, Json, Json]> = [
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [["a", "b"], ["c", "d"], ["c", "d"]],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];

  it.each(vectors)("%j merged with %j is %j", (original, patch, result) => {
    const frozen = deepFreeze(structuredClone(original));
    expect(applyMergePatch(frozen, patch)).toEqual(result);
    expect(frozen).toEqual(original);
  });
});

function deployment(): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", labels: { app: "web", tier: "frontend" }, resourceVersion: "3" },
    spec: { replicas: 1, template: { spec: { containers: [{ name: "web", image: "nginx" }, { name: "log", image: "fluentd" }] } } },
  };
}

describe("applyMergePatchToObject (kubectl label, annotate and scale)", () => {
  it("adds and removes labels as `kubectl label app=api tier-` sends them", () => {
    const out = applyMergePatchToObject(deployment(), { metadata: { labels: { app: "api", tier: null } } });
    expect(out.metadata.labels).toEqual({ app: "api" });
  });

  it("sets spec.replicas as `kubectl scale --replicas=5` does", () => {
    expect(applyMergePatchToObject(deployment(), { spec: { replicas: 5 } }).spec.replicas).toBe(5);
  });

  it("replaces lists whole: a merge patch of containers drops the containers it does not list", () => {
    const out = applyMergePatchToObject(deployment(), { spec: { template: { spec: { containers: [{ name: "web", image: "nginx:1.26" }] } } } });
    expect(out.spec.template.spec.containers).toEqual([{ name: "web", image: "nginx:1.26" }]);
  });

  it("returns an object that shares nothing with a frozen input", () => {
    const doc = deepFreeze(deployment());
    const out = applyMergePatchToObject(doc, { spec: { paused: true } });
    out.metadata.resourceVersion = "4";
    out.spec.template.spec.containers[0].image = "changed";
    expect(doc.metadata.resourceVersion).toBe("3");
    expect(doc.spec.template.spec.containers[0].image).toBe("nginx");
  });

  it("treats a __proto__ member as data, never touching Object.prototype", () => {
    const patch = JSON.parse('{"data": {"__proto__": {"polluted": "yes"}}}');
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "1" } };
    const out = applyMergePatchToObject(cm, patch);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out.data)).toBe(Object.prototype);
    expect(Object.keys(out.data)).toEqual(["a", "__proto__"]);
  });

  it("refuses a null body with 400 'Invalid JSON Patch' as evanphx/json-patch does", () => {
    const err = apiError(() => applyMergePatchToObject(deployment(), null));
    expect(err.code).toBe(400);
    expect(err.message).toBe("Invalid JSON Patch");
  });

  it("rejects a body that is not an object: the result is not the kind (422 Invalid)", () => {
    const err = apiError(() => applyMergePatchToObject(deployment(), ["replicas"]));
    expect(err.code).toBe(422);
    expect(err.reason).toBe("Invalid");
    expect(err.status.details?.causes?.[0]?.field).toBe("patch");
  });
});

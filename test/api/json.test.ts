/**
 * The JSON round trips of the write path (`src/api/_json.ts`) and `clone`: each must give exactly
 * what its `JSON.stringify` / `structuredClone` formulation gives, only faster.
 */
import { describe, expect, it } from "vitest";
import { jsonCopy, jsonCopyReusing, jsonEqual } from "../../src/api/_json.js";
import { clone, deepFreeze } from "../../src/api/types.js";

/** Values where JSON encoding has a rule of its own. */
function cases(): unknown[] {
  return [
    {},
    [],
    { a: 1 },
    { a: undefined },
    { a: () => 1 },
    [undefined, () => 1, Symbol("x")],
    { a: Number.NaN, b: Number.POSITIVE_INFINITY, c: -0 },
    [Number.NaN, -0],
    { a: new Date(0) },
    { a: "1970-01-01T00:00:00.000Z" },
    { d: { toJSON: () => "x" } },
    { d: "x" },
    JSON.parse('{"__proto__": {"x": 1}}'),
    { a: null },
    { a: "null" },
    { a: [1, { b: [2, 3] }] },
    { a: [1, { b: [2, 4] }] },
    { b: 1, a: 2 },
    { a: 2, b: 1 },
    { a: 1, b: undefined },
    { b: undefined, a: 1 },
    Object.create(null),
    { m: new Map([[1, 2]]) },
    { m: {} },
    { s: new String("a") },
    { s: "a" },
    { arr: [, 1] },
    { arr: [null, 1] },
    { x: true },
    { x: 0 },
    { x: "" },
  ];
}

const viaText = (v: unknown) => JSON.parse(JSON.stringify(v));

describe("jsonCopy", () => {
  it("gives what JSON.parse(JSON.stringify(v)) gives, keys in the same order", () => {
    for (const v of cases()) {
      const copy = jsonCopy(v);
      expect(JSON.stringify(copy)).toBe(JSON.stringify(viaText(v)));
      expect(Object.keys(copy as object)).toEqual(Object.keys(viaText(v)));
    }
  });

  it("writes -0 as 0, keeps __proto__ as an own key and shares nothing with the input", () => {
    expect(Object.is(jsonCopy({ z: -0 }).z, 0)).toBe(true);
    const p = jsonCopy(JSON.parse('{"__proto__": {"x": 1}}'));
    expect(Object.prototype.hasOwnProperty.call(p, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(p)).toBe(Object.prototype);
    const input = { a: { b: [1] } };
    const copy = jsonCopy(input);
    input.a.b.push(2);
    expect(copy).toEqual({ a: { b: [1] } });
  });

  it("throws the encoder's TypeError for cycles and bigints", () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => jsonCopy(cyclic)).toThrow(TypeError);
    expect(() => jsonCopy({ n: 1n })).toThrow(TypeError);
  });
});

describe("jsonEqual", () => {
  it("agrees with comparing JSON.stringify output on every pair", () => {
    const all = cases();
    for (const a of all) for (const b of all) expect(jsonEqual(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`).toBe(JSON.stringify(a) === JSON.stringify(b));
  });
});

describe("jsonCopyReusing", () => {
  const stored = () =>
    deepFreeze({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "web", resourceVersion: "5", labels: { app: "web" } },
      spec: { containers: [{ name: "web", image: "nginx" }] },
      status: { phase: "Pending" },
    });

  it("shares the unchanged frozen parts and copies the rest, top level and metadata always new", () => {
    const prev = stored();
    const next = jsonCopyReusing({ ...viaText(prev), status: { phase: "Running" } }, prev);
    expect(next).toEqual({ ...viaText(prev), status: { phase: "Running" } });
    expect(next.spec).toBe(prev.spec);
    expect(next.metadata.labels).toBe(prev.metadata.labels);
    expect(next.metadata).not.toBe(prev.metadata);
    expect(next.status).not.toBe(prev.status);
    expect(Object.isFrozen(next) || Object.isFrozen(next.metadata)).toBe(false);
    const same = jsonCopyReusing(prev, prev);
    expect(same).not.toBe(prev);
    expect(same.metadata).not.toBe(prev.metadata);
  });

  it("never shares a part that encodes differently (key order, length, dropped values)", () => {
    const prev = deepFreeze({ metadata: {}, spec: { b: 1, a: 2, arr: [1, null] } });
    const reordered = jsonCopyReusing({ metadata: {}, spec: { a: 2, b: 1, arr: [1, null] } }, prev);
    expect(reordered.spec).not.toBe(prev.spec);
    expect(Object.keys(reordered.spec)).toEqual(["a", "b", "arr"]);
    expect(reordered.spec.arr).toBe(prev.spec.arr);
    const longer = jsonCopyReusing({ metadata: {}, spec: { b: 1, a: 2, arr: [1, null, 3] } }, prev);
    expect(longer.spec.arr).toEqual([1, null, 3]);
    const dropped = jsonCopyReusing({ metadata: {}, spec: { b: 1, a: 2, arr: [1, undefined], x: undefined } }, prev);
    expect(dropped.spec).toBe(prev.spec);
  });

  it("gives jsonCopy's result for any value, whatever the previous version", () => {
    for (const v of cases()) {
      if (v === null || typeof v !== "object" || Array.isArray(v)) continue;
      const prev = deepFreeze(viaText({ metadata: { a: v }, spec: v }));
      const value = { metadata: { a: v }, spec: v, extra: [v] };
      expect(JSON.stringify(jsonCopyReusing(value, prev))).toBe(JSON.stringify(viaText(value)));
    }
    expect(() => jsonCopyReusing({ metadata: {}, spec: { n: 1n } }, stored())).toThrow(TypeError);
  });
});

describe("clone", () => {
  it("copies JSON values deeply, like structuredClone", () => {
    const value = { a: [1, { b: "x", c: null, d: undefined }], e: true };
    const copy = clone(value);
    expect(copy).toEqual(structuredClone(value));
    expect(Object.keys(copy.a[1] as object)).toEqual(["b", "c", "d"]);
    expect(copy.a).not.toBe(value.a);
    expect(clone(deepFreeze({ x: { y: 1 } })).x).not.toSatisfy(Object.isFrozen);
  });

  it("hands anything that is not plain JSON to structuredClone", () => {
    const when = new Date(5);
    const copy = clone({ when, map: new Map([["k", 1]]) });
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when).not.toBe(when);
    expect(copy.map.get("k")).toBe(1);
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const c = clone(cyclic);
    expect(c.self).toBe(c);
    expect(() => clone({ f: () => 1 })).toThrow();
  });
});

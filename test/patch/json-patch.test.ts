import { describe, expect, it } from "vitest";
import { applyJsonPatch, decodeJsonPatch, escapePointerToken, unescapePointerToken, PATCH_REJECTED_MESSAGE } from "../../src/api/patch/index.js";
import { ApiError } from "../../src/api/errors.js";
import { deepFreeze, type KubeObject } from "../../src/api/types.js";

/** Runs `fn` and returns the ApiError it throws. */
function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

describe("RFC 6902 Appendix A examples", () => {
  // Each case: [section, document, patch, expected result or "error"].
  const cases: Array<[string, object, unknown[], object | "error"]> = [
    ["A.1 adding an object member", { foo: "bar" }, [{ op: "add", path: "/baz", value: "qux" }], { baz: "qux", foo: "bar" }],
    ["A.2 adding an array element", { foo: ["bar", "baz"] }, [{ op: "add", path: "/foo/1", value: "qux" }], { foo: ["bar", "qux", "baz"] }],
    ["A.3 removing an object member", { baz: "qux", foo: "bar" }, [{ op: "remove", path: "/baz" }], { foo: "bar" }],
    ["A.4 removing an array element", { foo: ["bar", "qux", "baz"] }, [{ op: "remove", path: "/foo/1" }], { foo: ["bar", "baz"] }],
    ["A.5 replacing a value", { baz: "qux", foo: "bar" }, [{ op: "replace", path: "/baz", value: "boo" }], { baz: "boo", foo: "bar" }],
    [
      "A.6 moving a value",
      { foo: { bar: "baz", waldo: "fred" }, qux: { corge: "grault" } },
      [{ op: "move", from: "/foo/waldo", path: "/qux/thud" }],
      { foo: { bar: "baz" }, qux: { corge: "grault", thud: "fred" } },
    ],
    [
      "A.7 moving an array element",
      { foo: ["all", "grass", "cows", "eat"] },
      [{ op: "move", from: "/foo/1", path: "/foo/3" }],
      { foo: ["all", "cows", "eat", "grass"] },
    ],
    [
      "A.8 testing a value: success",
      { baz: "qux", foo: ["a", 2, "c"] },
      [
        { op: "test", path: "/baz", value: "qux" },
        { op: "test", path: "/foo/1", value: 2 },
      ],
      { baz: "qux", foo: ["a", 2, "c"] },
    ],
    ["A.9 testing a value: error", { baz: "qux" }, [{ op: "test", path: "/baz", value: "bar" }], "error"],
    ["A.10 adding a nested member object", { foo: "bar" }, [{ op: "add", path: "/child", value: { grandchild: {} } }], { foo: "bar", child: { grandchild: {} } }],
    ["A.11 ignoring unrecognized elements", { foo: "bar" }, [{ op: "add", path: "/baz", value: "qux", xyz: 123 }], { foo: "bar", baz: "qux" }],
    ["A.12 adding to a nonexistent target", { foo: "bar" }, [{ op: "add", path: "/baz/bat", value: "qux" }], "error"],
    // A.13's document repeats "op"; once decoded only the last one survives ("remove" of a
    // member that does not exist), so the patch is still rejected as the RFC requires.
    ["A.13 invalid JSON Patch document", { foo: "bar" }, [JSON.parse('{ "op": "add", "path": "/baz", "value": "qux", "op": "remove" }')], "error"],
    ["A.14 ~ escape ordering", { "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: 10 }], { "/": 9, "~1": 10 }],
    ["A.15 comparing strings and numbers", { "/": 9, "~1": 10 }, [{ op: "test", path: "/~01", value: "10" }], "error"],
    ["A.16 adding an array value", { foo: ["bar"] }, [{ op: "add", path: "/foo/-", value: ["abc", "def"] }], { foo: ["bar", ["abc", "def"]] }],
  ];

  it.each(cases)("%s", (_section, doc, patch, expected) => {
    if (expected === "error") {
      const err = apiError(() => applyJsonPatch(doc, patch));
      expect(err.code).toBe(422);
    } else {
      expect(applyJsonPatch(doc, patch)).toEqual(expected);
    }
  });
});

function deployment(): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", resourceVersion: "7", annotations: { "example.com/owner": "team-a" } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: "web", image: "nginx:1.25" }] } } },
  };
}

describe("applyJsonPatch on Kubernetes objects", () => {
  it("never changes the input, even a deeply frozen store object", () => {
    const doc = deepFreeze(deployment());
    const before = structuredClone(doc);
    const out = applyJsonPatch(doc, [{ op: "replace", path: "/spec/replicas", value: 5 }]);
    expect(out.spec.replicas).toBe(5);
    expect(doc).toEqual(before);
    // The result shares nothing with the input: the caller may stamp it.
    out.metadata.resourceVersion = "8";
    expect(doc.metadata.resourceVersion).toBe("7");
  });

  it("leaves the input untouched when a later operation fails", () => {
    const doc = deployment();
    const before = structuredClone(doc);
    apiError(() =>
      applyJsonPatch(doc, [
        { op: "replace", path: "/spec/replicas", value: 9 },
        { op: "test", path: "/metadata/resourceVersion", value: "6" },
      ]),
    );
    expect(doc).toEqual(before);
  });

  it("rejects a failing test with 422 Invalid and upstream's message, naming the operation in a cause", () => {
    const err = apiError(() => applyJsonPatch(deployment(), [{ op: "test", path: "/metadata/resourceVersion", value: "6" }]));
    expect(err.code).toBe(422);
    expect(err.reason).toBe("Invalid");
    expect(err.message).toBe(PATCH_REJECTED_MESSAGE);
    expect(err.message).toBe("the server rejected our request due to an error in our request");
    expect(err.status.details?.causes).toEqual([
      { reason: "FieldValueInvalid", field: "patch", message: "testing value /metadata/resourceVersion failed: test failed" },
    ]);
  });

  it("passes a test of the current resourceVersion (optimistic concurrency by JSON Patch)", () => {
    const out = applyJsonPatch(deployment(), [
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      { op: "replace", path: "/spec/template/spec/containers/0/image", value: "nginx:1.26" },
    ]);
    expect(out.spec.template.spec.containers[0].image).toBe("nginx:1.26");
  });

  it("addresses annotation keys containing '/' with ~1 escaping", () => {
    const path = `/metadata/annotations/${escapePointerToken("example.com/owner")}`;
    expect(path).toBe("/metadata/annotations/example.com~1owner");
    const out = applyJsonPatch(deployment(), [
      { op: "replace", path, value: "team-b" },
      { op: "add", path: "/metadata/annotations/a~0b~1c", value: "tilde" },
    ]);
    expect(out.metadata.annotations).toEqual({ "example.com/owner": "team-b", "a~b/c": "tilde" });
    expect(unescapePointerToken("a~0b~1c")).toBe("a~b/c");
  });

  it("words missing paths and keys like the Go json-patch library", () => {
    const cause = (ops: unknown[]) => apiError(() => applyJsonPatch(deployment(), ops)).status.details?.causes?.[0]?.message;
    expect(cause([{ op: "remove", path: "/metadata/labels" }])).toBe("error in remove for path: '/metadata/labels': Unable to remove nonexistent key: labels: missing value");
    expect(cause([{ op: "replace", path: "/spec/paused", value: true }])).toBe("replace operation does not apply: doc is missing key: /spec/paused: missing value");
    expect(cause([{ op: "add", path: "/metadata/labels/app", value: "web" }])).toBe('add operation does not apply: doc is missing path: "/metadata/labels/app": missing value');
    expect(cause([{ op: "frobnicate", path: "/spec" }])).toBe("Unexpected kind: frobnicate");
    expect(cause([{ op: "move", from: "/spec/nope", path: "/spec/x" }])).toBe("move operation does not apply: doc is missing from path: /spec/nope: missing value");
    expect(cause([{ op: "add", path: "/spec/template/spec/containers/5", value: {} }])).toBe(
      "error in add for path: '/spec/template/spec/containers/5': Unable to access invalid index: 5: invalid index referenced",
    );
  });

  it("refuses a body that is not a list of operations with 400 BadRequest, worded like Go's decoder", () => {
    let err = apiError(() => applyJsonPatch(deployment(), { op: "add", path: "/x", value: 1 }));
    expect(err.code).toBe(400);
    expect(err.reason).toBe("BadRequest");
    expect(err.message).toBe("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    err = apiError(() => applyJsonPatch(deployment(), ["add"]));
    expect(err.message).toBe("json: cannot unmarshal string into Go value of type jsonpatch.Operation");
  });

  it("treats a null body as an empty patch, as DecodePatch does", () => {
    expect(applyJsonPatch(deployment(), null)).toEqual(deployment());
    expect(decodeJsonPatch(null)).toEqual([]);
  });

  it("refuses more than 10000 operations with 413", () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: "test", path: "/kind", value: "Deployment" }));
    const err = apiError(() => applyJsonPatch(deployment(), ops));
    expect(err.code).toBe(413);
    expect(err.reason).toBe("RequestEntityTooLarge");
    expect(err.message).toBe("Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001");
  });

  it("rejects a patch whose result is not an object with 422 Invalid on field patch", () => {
    const err = apiError(() => applyJsonPatch(deployment(), [{ op: "replace", path: "", value: ["not", "an", "object"] }]));
    expect(err.code).toBe(422);
    expect(err.reason).toBe("Invalid");
    expect(err.status.details?.causes?.[0]?.field).toBe("patch");
    expect(err.message).toContain("cannot unmarshal array into Go value of type map[string]interface {}");
  });

  it("applies the RFC's move and copy on real objects (kubectl rollout undo sends replace of the template)", () => {
    const out = applyJsonPatch(deployment(), [
      { op: "copy", from: "/metadata/annotations", path: "/spec/template/metadata" },
      { op: "move", from: "/spec/replicas", path: "/spec/minReadySeconds" },
    ]);
    expect(out.spec.template.metadata).toEqual({ "example.com/owner": "team-a" });
    expect(out.spec.replicas).toBeUndefined();
    expect(out.spec.minReadySeconds).toBe(2);
  });
});

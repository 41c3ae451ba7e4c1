import { describe, expect, it } from "vitest";
import {
  APPLY_PATCH,
  JSON_PATCH,
  MERGE_PATCH,
  STRATEGIC_MERGE_PATCH,
  applyPatch,
  decodePatchBody,
  mediaTypeOf,
  patchTypesFor,
} from "../../src/api/patch/index.js";
import { ApiError } from "../../src/api/errors.js";
import type { KubeObject } from "../../src/api/types.js";

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

const pod = (): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", labels: { app: "web" } },
  spec: { containers: [{ name: "a", image: "nginx" }, { name: "b", image: "redis" }] },
});

describe("applyPatch dispatches on the Content-Type", () => {
  it("applies JSON Patch, merge patch and strategic merge patch", () => {
    expect(applyPatch(pod(), JSON_PATCH, [{ op: "replace", path: "/metadata/labels/app", value: "api" }], "v1", "Pod").metadata.labels).toEqual({ app: "api" });
    // A merge patch replaces the containers list; a strategic one merges it by name.
    const containers = { spec: { containers: [{ name: "a", image: "nginx:2" }] } };
    expect(applyPatch(pod(), MERGE_PATCH, containers, "v1", "Pod").spec.containers).toHaveLength(1);
    expect(applyPatch(pod(), STRATEGIC_MERGE_PATCH, containers, "v1", "Pod").spec.containers).toEqual([
      { name: "a", image: "nginx:2" },
      { name: "b", image: "redis" },
    ]);
  });

  it("ignores Content-Type parameters, as upstream strips '; charset='", () => {
    expect(mediaTypeOf("application/merge-patch+json; charset=utf-8")).toBe(MERGE_PATCH);
    expect(applyPatch(pod(), "application/merge-patch+json; charset=utf-8", { metadata: { labels: null } }, "v1", "Pod").metadata).toEqual({ name: "p" });
  });

  it("answers 415 with the accepted types for an unknown Content-Type", () => {
    const err = apiError(() => applyPatch(pod(), "application/json", {}, "v1", "Pod"));
    expect(err.code).toBe(415);
    expect(err.reason).toBe("UnsupportedMediaType");
    expect(err.message).toBe(
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml",
    );
  });

  it("offers no strategic merge patch for custom resources", () => {
    expect(patchTypesFor("example.com/v1", "Widget")).toEqual([JSON_PATCH, MERGE_PATCH, APPLY_PATCH]);
    const widget = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 1 } };
    expect(applyPatch(widget, MERGE_PATCH, { spec: { size: 2 } }, "example.com/v1", "Widget").spec.size).toBe(2);
    const err = apiError(() => applyPatch(widget, STRATEGIC_MERGE_PATCH, { spec: { size: 2 } }, "example.com/v1", "Widget"));
    expect(err.code).toBe(415);
    expect(err.message).not.toContain("strategic");
  });

  it("leaves server-side apply to the API server", () => {
    const err = apiError(() => applyPatch(pod(), APPLY_PATCH, {}, "v1", "Pod"));
    expect(err.code).toBe(500);
    expect(err.message).toContain("server-side apply");
  });
});

describe("decodePatchBody", () => {
  it("parses JSON bodies", () => {
    expect(decodePatchBody(JSON_PATCH, '[{"op":"remove","path":"/x"}]')).toEqual([{ op: "remove", path: "/x" }]);
  });

  it("answers 400 for text that is not JSON, 'Invalid JSON Patch' for merge patches", () => {
    expect(apiError(() => decodePatchBody(MERGE_PATCH, "{nope")).message).toBe("Invalid JSON Patch");
    const err = apiError(() => decodePatchBody(STRATEGIC_MERGE_PATCH, "{nope"));
    expect(err.code).toBe(400);
    expect(err.message).toMatch(/^error decoding patch: /);
  });
});

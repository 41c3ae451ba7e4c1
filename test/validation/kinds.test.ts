/**
 * Unknown and removed kinds are refused before validation (kinds.ts `kindFor`), and `validate`
 * / `admit` surface that Status unchanged.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api/errors.js";
import { KINDS, kindFor } from "../../src/api/kinds.js";
import { hasSchema } from "../../src/api/_validation-schema.js";
import { admit, validate } from "../../src/api/validation.js";

function refusal(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected an ApiError");
}

describe("kindFor", () => {
  it("refuses a removed extensions/v1beta1 Deployment, naming v1.16 and apps/v1", () => {
    const err = refusal(() => kindFor("extensions/v1beta1", "Deployment"));
    expect(err.code).toBe(404);
    expect(err.reason).toBe("NotFound");
    expect(err.message).toMatch(/^no matches for kind "Deployment" in version "extensions\/v1beta1": /);
    expect(err.message).toContain("v1.16");
    expect(err.message).toContain("apps/v1");
  });

  it("refuses a kind nobody serves", () => {
    expect(refusal(() => kindFor("example.com/v1", "Widget")).message).toBe('no matches for kind "Widget" in version "example.com/v1"');
  });

  it("passes the same Status through admit and validate", () => {
    const obj = { apiVersion: "batch/v1beta1", kind: "CronJob", metadata: { name: "c", namespace: "default" } };
    const fromAdmit = refusal(() => admit(obj));
    const fromValidate = refusal(() => validate(obj));
    expect(fromAdmit.status).toEqual(fromValidate.status);
    expect(fromAdmit.message).toContain("v1.25");
    expect(fromAdmit.message).toContain("batch/v1");
  });

  it("has a schema for every served kind, so types and unknown fields are always checked", () => {
    expect(KINDS.filter((k) => !hasSchema(k)).map((k) => `${k.apiVersion}/${k.kind}`)).toEqual([]);
  });

  it("validates every served kind it has a schema for without crashing on a minimal object", () => {
    for (const [apiVersion, kind] of [
      ["v1", "Endpoints"],
      ["v1", "ServiceAccount"],
      ["v1", "Event"],
      ["v1", "Node"],
      ["rbac.authorization.k8s.io/v1", "ClusterRole"],
      ["coordination.k8s.io/v1", "Lease"],
      ["events.k8s.io/v1", "Event"],
      ["policy/v1", "PodDisruptionBudget"],
    ]) {
      const namespaced = kindFor(apiVersion, kind).namespaced;
      const metadata = namespaced ? { name: "x", namespace: "default" } : { name: "x" };
      expect(validate({ apiVersion, kind, metadata, bogus: 1 } as never)).toEqual([
        { reason: "FieldValueUnknown", field: "bogus", message: 'unknown field "bogus"' },
      ]);
    }
  });
});

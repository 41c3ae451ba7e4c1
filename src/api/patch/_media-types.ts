/**
 * The PATCH content types and the 415 the apiserver answers for any other, worded as
 * `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/negotiation/errors.go`
 * (`errUnsupportedMediaType`). Internal to the patch package; re-exported by its index.
 */
import { ApiError, failure } from "../errors.js";

/** RFC 6902 JSON Patch. */
export const JSON_PATCH = "application/json-patch+json";
/** RFC 7386 JSON merge patch. */
export const MERGE_PATCH = "application/merge-patch+json";
/** Kubernetes strategic merge patch (built-in kinds only). */
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";
/** Server-side apply; applied by the API server's field manager, not by this package. */
export const APPLY_PATCH = "application/apply-patch+yaml";

/** A PATCH content type. */
export type PatchType = typeof JSON_PATCH | typeof MERGE_PATCH | typeof STRATEGIC_MERGE_PATCH | typeof APPLY_PATCH;

/** Patch types served for built-in kinds, in the order upstream lists them (`installer.go`). */
export const BUILT_IN_PATCH_TYPES: readonly PatchType[] = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];

/** Patch types served for custom resources: no strategic merge patch (`customresource_handler.go`). */
export const CUSTOM_RESOURCE_PATCH_TYPES: readonly PatchType[] = [JSON_PATCH, MERGE_PATCH, APPLY_PATCH];

/** 415 UnsupportedMediaType listing the accepted content types. */
export function unsupportedMediaType(accepted: readonly string[]): ApiError {
  return new ApiError(
    failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: ${accepted.join(", ")}`),
  );
}

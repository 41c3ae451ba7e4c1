/**
 * PATCH for kubelings' API server: JSON Patch (RFC 6902), JSON merge patch (RFC 7386) and
 * strategic merge patch, chosen by the request's Content-Type as the kube-apiserver does in
 * `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`. Server-side apply
 * (`application/apply-patch+yaml`) is the API server's field manager's business, not this package's.
 */
import type { KubeObject } from "../types.js";
import { badRequest, internal } from "../errors.js";
import { tryKindFor } from "../kinds.js";
import {
  APPLY_PATCH,
  BUILT_IN_PATCH_TYPES,
  CUSTOM_RESOURCE_PATCH_TYPES,
  JSON_PATCH,
  MERGE_PATCH,
  STRATEGIC_MERGE_PATCH,
  unsupportedMediaType,
  type PatchType,
} from "./_media-types.js";
import { applyJsonPatch } from "./json-patch.js";
import { applyMergePatchToObject } from "./merge-patch.js";
import { applyStrategicMergePatch } from "./strategic-merge-patch.js";

export {
  APPLY_PATCH,
  BUILT_IN_PATCH_TYPES,
  CUSTOM_RESOURCE_PATCH_TYPES,
  JSON_PATCH,
  MERGE_PATCH,
  STRATEGIC_MERGE_PATCH,
  unsupportedMediaType,
  type PatchType,
} from "./_media-types.js";
export {
  applyJsonPatch,
  decodeJsonPatch,
  escapePointerToken,
  unescapePointerToken,
  MAX_JSON_PATCH_OPERATIONS,
  PATCH_REJECTED_MESSAGE,
  type JsonPatchOperation,
} from "./json-patch.js";
export { applyMergePatch, applyMergePatchToObject } from "./merge-patch.js";
export { applyStrategicMergePatch } from "./strategic-merge-patch.js";
export { patchTableFor, type PatchMeta, type PatchTable } from "./patch-keys.js";

/** The media type of a Content-Type header, without parameters (`; charset=utf-8`), as upstream strips them. */
export function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon > 0 ? contentType.slice(0, semicolon) : contentType).trim();
}

/** Patch types accepted for a kind: every built-in kind takes strategic merge patch, custom resources do not. */
export function patchTypesFor(apiVersion: string, kind: string): readonly PatchType[] {
  return tryKindFor(apiVersion, kind) ? BUILT_IN_PATCH_TYPES : CUSTOM_RESOURCE_PATCH_TYPES;
}

/**
 * Parses a PATCH request body. Throws 400 BadRequest for text that is not JSON, worded per
 * patch type as upstream: "Invalid JSON Patch" for merge patches (evanphx `ErrBadJSONPatch`).
 */
export function decodePatchBody(contentType: string, body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (mediaTypeOf(contentType) === MERGE_PATCH) throw badRequest("Invalid JSON Patch");
    throw badRequest(`error decoding patch: ${why}`);
  }
}

/**
 * Applies a decoded PATCH body to `doc` (never changed; the patched copy is returned),
 * dispatching on the Content-Type (parameters such as `; charset=utf-8` are ignored).
 * Throws 415 UnsupportedMediaType with upstream's wording for any other type, including
 * strategic merge patch on a kind kubelings does not serve; 500 for `application/apply-patch+yaml`,
 * which the API server must route to server-side apply instead.
 */
export function applyPatch(doc: KubeObject, contentType: string, patch: unknown, apiVersion: string, kind: string): KubeObject {
  const patchType = mediaTypeOf(contentType);
  const accepted = patchTypesFor(apiVersion, kind);
  if (!(accepted as readonly string[]).includes(patchType)) throw unsupportedMediaType(accepted);
  switch (patchType) {
    case JSON_PATCH:
      return applyJsonPatch(doc, patch);
    case MERGE_PATCH:
      return applyMergePatchToObject(doc, patch);
    case STRATEGIC_MERGE_PATCH:
      return applyStrategicMergePatch(doc, patch, apiVersion, kind);
    case APPLY_PATCH:
      throw internal(`${APPLY_PATCH}: apply patches are handled by server-side apply, not applyPatch`);
    default:
      throw unsupportedMediaType(accepted);
  }
}

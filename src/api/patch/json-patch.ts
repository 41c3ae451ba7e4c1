/**
 * JSON Patch (RFC 6902, `application/json-patch+json`) as the kube-apiserver applies it.
 *
 * The operations themselves are applied by the maintained `fast-json-patch` library. Around it
 * sits what `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go` (`applyJSPatch`) adds:
 * the patch must decode as a list of operations (else 400 BadRequest), at most 10000 operations
 * (else 413), and any operation that does not apply (a failing `test`, a missing path) rejects
 * the whole patch with 422 Invalid, "the server rejected our request due to an error in our
 * request". The document passed in is never changed: operations run on a copy.
 */
import jsonpatch from "fast-json-patch";
import { ApiError, badRequest, failure, invalid } from "../errors.js";
import type { StatusCause } from "../types.js";
import { jsonTypeWord } from "./_go-format.js";

/** One RFC 6902 operation. Paths are JSON pointers (RFC 6901): `/` in a key is written `~1`, `~` is `~0`. */
export type JsonPatchOperation =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; path: string; from: string };

/** Upstream `maxJSONPatchOperations`: a longer patch is refused with 413. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** Message of every 422 a JSON or strategic patch gets (apimachinery `NewGenericServerResponse` for 422). */
export const PATCH_REJECTED_MESSAGE = "the server rejected our request due to an error in our request";

/**
 * A 422 Invalid for a patch that does not apply. The kube-apiserver sends only the generic
 * message with empty details; kubelings adds one cause with the json-patch library's wording
 * (`testing value /metadata/resourceVersion failed: test failed`) so the learner sees which
 * operation failed. kubectl then prints `The request is invalid: * patch: <cause>`.
 */
export function patchRejected(detail: string): ApiError {
  const cause: StatusCause = { reason: "FieldValueInvalid", field: "patch", message: detail };
  return new ApiError(failure(422, "Invalid", PATCH_REJECTED_MESSAGE, { causes: [cause] }));
}

/**
 * 422 for a patch whose result is not an object of the kind, as upstream's decode of the patched
 * JSON into the typed object fails: `"" is invalid: patch: Invalid value: "<json>": <why>`.
 */
export function patchedObjectInvalid(patched: unknown, why: string): ApiError {
  return invalid("", "", "", [{ reason: "FieldValueInvalid", field: "patch", message: `Invalid value: ${JSON.stringify(JSON.stringify(patched))}: ${why}` }]);
}

/** Escapes one key for use in a JSON pointer: `example.com/owner` becomes `example.com~1owner`. */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** Undoes `escapePointerToken`. */
export function unescapePointerToken(token: string): string {
  return token.replace(/~1/g, "/").replace(/~0/g, "~");
}

/**
 * Decodes a JSON Patch body as the apiserver does (`jsonpatch.DecodePatch`): it must be a list
 * of objects; `null` is an empty patch. Throws 400 BadRequest worded like Go's encoding/json,
 * and 413 past `MAX_JSON_PATCH_OPERATIONS`.
 */
export function decodeJsonPatch(ops: unknown): Record<string, unknown>[] {
  if (ops === null || ops === undefined) return [];
  if (!Array.isArray(ops)) throw badRequest(`json: cannot unmarshal ${jsonTypeWord(ops)} into Go value of type jsonpatch.Patch`);
  for (const op of ops) {
    if (op !== null && (typeof op !== "object" || Array.isArray(op))) {
      throw badRequest(`json: cannot unmarshal ${jsonTypeWord(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new ApiError(
      failure(
        413,
        "RequestEntityTooLarge",
        `Request entity too large: The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`,
      ),
    );
  }
  return ops.map((op) => (op === null ? {} : (op as Record<string, unknown>)));
}

/**
 * Applies a JSON Patch to a copy of `doc` and returns the copy; `doc` (which may be deeply
 * frozen, as store objects are) is never changed, even when an operation fails halfway.
 * Throws an ApiError: 400 for a body that is not a list of operations, 413 for more than 10000
 * operations, 422 Invalid when an operation does not apply or the result is not an object.
 */
export function applyJsonPatch<T extends object>(doc: T, ops: unknown): T {
  const operations = decodeJsonPatch(ops);
  let document: unknown = structuredClone(doc);
  operations.forEach((raw, index) => {
    const op = structuredClone(raw);
    const kind = typeof op.op === "string" ? op.op : "unknown";
    try {
      document = jsonpatch.applyOperation(document, op as any, true, true, true, index).newDocument;
    } catch (err) {
      throw patchRejected(describeFailure(err, kind, op, document));
    }
  });
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw patchedObjectInvalid(document, `json: cannot unmarshal ${jsonTypeWord(document)} into Go value of type map[string]interface {}`);
  }
  return document as T;
}

/** Whether the container a pointer points into exists in `doc` (the pointer minus its last token). */
function parentExists(doc: unknown, pointer: string): boolean {
  const tokens = pointer.split("/").slice(1, -1).map(unescapePointerToken);
  let node: unknown = doc;
  for (const token of tokens) {
    if (node === null || typeof node !== "object") return false;
    if (!Object.prototype.hasOwnProperty.call(node, token)) return false;
    node = (node as Record<string, unknown>)[token];
  }
  return node !== null && typeof node === "object";
}

/**
 * Words a failed operation the way the Go json-patch library used by the apiserver
 * (evanphx/json-patch) does, so the cause reads like a real cluster's.
 */
function describeFailure(err: unknown, kind: string, op: Record<string, unknown>, doc: unknown): string {
  const path = typeof op.path === "string" ? op.path : "";
  const from = typeof op.from === "string" ? op.from : "";
  const last = unescapePointerToken(path.slice(path.lastIndexOf("/") + 1));
  const name = err instanceof Error ? err.name : "";
  switch (name) {
    case "OPERATION_OP_INVALID":
      return `Unexpected kind: ${kind}`;
    case "TEST_OPERATION_FAILED":
      return `testing value ${path} failed: test failed`;
    case "OPERATION_PATH_INVALID":
      return `${kind} operation failed to decode path`;
    case "OPERATION_FROM_REQUIRED":
      return `${kind} operation failed to decode from`;
    case "OPERATION_FROM_UNRESOLVABLE":
      return `${kind} operation does not apply: doc is missing from path: ${from}: missing value`;
    case "OPERATION_PATH_CANNOT_ADD":
      return `add operation does not apply: doc is missing path: "${path}": missing value`;
    case "OPERATION_PATH_UNRESOLVABLE":
      if (!parentExists(doc, path)) {
        return kind === "remove"
          ? `remove operation does not apply: doc is missing path: "${path}": missing value`
          : `${kind} operation does not apply: doc is missing path: ${path}: missing value`;
      }
      return kind === "remove"
        ? `error in remove for path: '${path}': Unable to remove nonexistent key: ${last}: missing value`
        : `${kind} operation does not apply: doc is missing key: ${path}: missing value`;
    case "OPERATION_VALUE_OUT_OF_BOUNDS":
    case "OPERATION_PATH_ILLEGAL_ARRAY_INDEX":
      return `error in ${kind} for path: '${path}': Unable to access invalid index: ${last}: invalid index referenced`;
    case "OPERATION_VALUE_REQUIRED":
      return `${kind} operation requires a "value" member (RFC 6902 section 4)`;
    default:
      // fast-json-patch appends the operation and document on later lines; the first line is the sentence.
      return (err instanceof Error ? err.message : String(err)).split("\n")[0];
  }
}

/**
 * JSON merge patch (RFC 7386, `application/merge-patch+json`): what `kubectl label`,
 * `kubectl annotate` and `kubectl scale` send.
 *
 * The algorithm is the RFC's `MergePatch(Target, Patch)` (section 2): an object patch merges
 * member by member, `null` removes a member, anything else (arrays included) replaces the
 * target whole. It is small enough to write out; the RFC's Appendix A vectors pin it in the tests.
 */
import type { Json, JsonObject, KubeObject } from "../types.js";
import { ApiError, failure } from "../errors.js";
import { getMember, jsonTypeWord, setMember } from "./_go-format.js";
import { patchedObjectInvalid } from "./json-patch.js";

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** MergePatch on a target this module owns (already copied): merges in place and returns it. */
function mergeInto(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  // RFC 7386: a target that is not an object is replaced by an empty object before merging.
  const result: Record<string, unknown> = isObject(target) ? target : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else setMember(result, name, mergeInto(getMember(result, name), value));
  }
  return result;
}

function merge(target: unknown, patch: unknown): unknown {
  // Copy first: the result must share nothing with `target`, which may be a frozen store object
  // that the caller goes on to stamp (resourceVersion, generation) after patching.
  return mergeInto(target === undefined ? undefined : structuredClone(target), patch);
}

/**
 * RFC 7386 MergePatch: returns a new value, `target` with `patch` merged in. Neither argument
 * is changed and the result shares nothing with them. A non-object patch replaces the target.
 */
export function applyMergePatch(target: KubeObject, patch: JsonObject): KubeObject;
export function applyMergePatch(target: Json | undefined, patch: Json): Json;
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return merge(target, patch);
}

/**
 * Applies a merge patch to an object as the kube-apiserver does (`jsonpatch.MergePatch` in
 * `handlers/patch.go`): a `null` body is refused with 400 "Invalid JSON Patch", and a body that
 * is not an object replaces the whole object, which then fails to decode as the kind (422).
 */
export function applyMergePatchToObject<T extends object>(doc: T, patch: unknown): T {
  if (patch === null || patch === undefined) throw new ApiError(failure(400, "BadRequest", "Invalid JSON Patch"));
  const patched = merge(doc, patch);
  if (!isObject(patched)) {
    throw patchedObjectInvalid(patched, `json: cannot unmarshal ${jsonTypeWord(patched)} into Go value of type map[string]interface {}`);
  }
  return patched as T;
}

/**
 * Strategic merge patch (`application/strategic-merge-patch+json`), the patch `kubectl apply`,
 * `kubectl edit`, `kubectl set image` and `kubectl rollout restart` send for built-in kinds.
 *
 * This follows the server side of `k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`
 * (`StrategicMergeMapPatch`, i.e. `mergeMap` with MergeParallelList and IgnoreUnmatchedNulls):
 * - maps merge recursively; `null` deletes a field;
 * - lists with `patchStrategy: merge` merge by their merge key (containers by `name`, ports by
 *   `containerPort`, ...; see patch-keys.ts), lists of primitives with that strategy merge as
 *   sets; every other list is replaced whole;
 * - directives: `$patch: replace|delete` (in a map or a list element), `$retainKeys`,
 *   `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`;
 * - merged lists keep the patch's relative order, then the live object's, exactly as upstream's
 *   `normalizeElementOrder` interleaves them.
 * Errors carry upstream's wording and HTTP code (`interpretStrategicMergePatchError` in
 * `apiserver/pkg/endpoints/handlers/patch.go`).
 *
 * Where upstream copies a patch value verbatim into a field the object does not have yet (and
 * relies on decoding into the Go struct to drop nulls and unknown `$` keys), kubelings merges it
 * into an empty value instead, so directives nested in a new field are honoured and no `null`
 * or `$directive` key ever reaches the stored object.
 */
import type { KubeObject } from "../types.js";
import { ApiError, badRequest } from "../errors.js";
import { goTypeName, goValue, jsonTypeWord, setMember } from "./_go-format.js";
import { CUSTOM_RESOURCE_PATCH_TYPES, unsupportedMediaType } from "./_media-types.js";
import { patchRejected } from "./json-patch.js";
import { patchTableFor, type PatchMeta } from "./patch-keys.js";

const DIRECTIVE_MARKER = "$patch";
const DELETE_DIRECTIVE = "delete";
const REPLACE_DIRECTIVE = "replace";
const MERGE_DIRECTIVE = "merge";
const RETAIN_KEYS_DIRECTIVE = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER_PREFIX = "$setElementOrder";

type JsonMap = Record<string, unknown>;
type Table = ReadonlyMap<string, PatchMeta>;
type ElementKind = "map" | "list" | "string" | "number" | "boolean" | "null";

/** How the apiserver answers a merge error. */
type Disposition = "badRequest" | "unprocessable" | "internal";

/** A strategic merge failure, before it becomes an ApiError. */
class MergeError extends Error {
  constructor(
    message: string,
    readonly disposition: Disposition,
  ) {
    super(message);
  }
}

// Sentinel errors of k8s.io/apimachinery/pkg/util/mergepatch/errors.go, with the code
// interpretStrategicMergePatchError gives each; anything else becomes a 500.
const errBadPatchFormatForPrimitiveList = () => new MergeError("invalid patch format of primitive list", "badRequest");
const errBadPatchFormatForRetainKeys = () => new MergeError("invalid patch format of retainKeys", "badRequest");
const errBadPatchFormatForSetElementOrderList = () => new MergeError("invalid patch format of setElementOrder list", "badRequest");
const errNoListOfLists = () => new MergeError("lists of lists are not supported", "unprocessable");
const errNoMergeKey = (m: JsonMap, key: string) => new MergeError(`map: ${goValue(m)} does not contain declared merge key: ${key}`, "internal");
const errBadArgType = (expected: string, actual: unknown) =>
  new MergeError(`expected a ${expected}, but received a ${goTypeName(actual)}`, "internal");
const errBadPatchType = (directive: unknown, m: JsonMap) =>
  new MergeError(`unknown patch type: ${typeof directive === "string" ? directive : `%!s(${goTypeName(directive)}=${goValue(directive)})`} in map: ${goValue(m)}`, "internal");
const internal = (message: string) => new MergeError(message, "internal");

const MAP_TYPE = "map[string]interface {}";
const LIST_TYPE = "[]interface {}";

function isMap(value: unknown): value is JsonMap {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function hasOwn(m: JsonMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(m, key);
}

function kindOf(value: unknown): ElementKind {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "list";
  if (typeof value === "object") return "map";
  return typeof value as "string" | "number" | "boolean";
}

function childPath(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * A patch value as the typed object would hold it after decoding: map members that are null
 * or `$`-prefixed (directives, never valid field names) are dropped, recursively.
 */
function clean(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clean);
  if (!isMap(value)) return value;
  const out: JsonMap = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || k.startsWith("$")) continue;
    setMember(out, k, clean(v));
  }
  return out;
}

/** `extractKey`: the field a `$deleteFromPrimitiveList/<field>` or `$setElementOrder/<field>` key names. */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf("/");
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw prefix === DELETE_FROM_PRIMITIVE_LIST_PREFIX ? errBadPatchFormatForPrimitiveList() : errBadPatchFormatForSetElementOrderList();
  }
  return key.slice(slash + 1);
}

/** Merges `patch` into `original` (both owned by the caller, changed in place) and returns the result. */
function mergeMap(original: JsonMap, patch: JsonMap, path: string, table: Table): JsonMap {
  if (hasOwn(patch, DIRECTIVE_MARKER)) return handleDirectiveInMergeMap(patch[DIRECTIVE_MARKER], patch);

  applyRetainKeysDirective(original, patch);
  // $setElementOrder lists are handled together with the list they order, and removed from the patch.
  mergePatchIntoOriginal(original, patch, path, table);

  for (const patchKey of Object.keys(patch)) {
    const patchValue = patch[patchKey];
    let key = patchKey;
    let isDeleteList = false;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      key = extractKey(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
      isDeleteList = true;
    } else if (key.startsWith("$")) {
      // An unknown directive: decoding into the typed object would drop it as an unknown field.
      continue;
    }

    // null deletes the field (IgnoreUnmatchedNulls: a null for an absent field is dropped).
    if (patchValue === null) {
      delete original[key];
      continue;
    }

    const child = childPath(path, key);
    if (!hasOwn(original, key)) {
      // Deleting from a list the object does not have deletes nothing.
      if (!isDeleteList) setMember(original, key, freshValue(patchValue, child, table));
      continue;
    }

    const originalValue = original[key];
    if (kindOf(originalValue) !== kindOf(patchValue)) {
      setMember(original, key, clean(patchValue));
      continue;
    }
    const meta = table.get(child);
    if (isMap(originalValue)) {
      setMember(original, key, meta?.strategy === REPLACE_DIRECTIVE ? clean(patchValue) : mergeMap(originalValue, patchValue as JsonMap, child, table));
    } else if (Array.isArray(originalValue)) {
      setMember(original, key, mergeSliceHandler(originalValue, patchValue as unknown[], meta, child, isDeleteList, table));
    } else {
      setMember(original, key, patchValue);
    }
  }
  return original;
}

/** A patch value for a field the object does not have: merged into an empty value of its type. */
function freshValue(value: unknown, path: string, table: Table): unknown {
  if (isMap(value)) return mergeMap({}, value, path, table);
  if (Array.isArray(value)) {
    const meta = table.get(path);
    if (meta?.strategy !== MERGE_DIRECTIVE || !meta.mergeKey) return clean(value);
    // A new merging list: keep the patch's items in order, without the `$patch` markers
    // (deleting from, or replacing, an empty list leaves just the plain items).
    return value.filter((item) => !(isMap(item) && hasOwn(item, DIRECTIVE_MARKER))).map((item) => (isMap(item) ? mergeMap({}, item, `${path}[]`, table) : item));
  }
  return value;
}

/** `$patch` in a map: `replace` takes the patch as the whole new value, `delete` empties it. */
function handleDirectiveInMergeMap(directive: unknown, patch: JsonMap): JsonMap {
  if (directive === REPLACE_DIRECTIVE) {
    const { [DIRECTIVE_MARKER]: _marker, ...rest } = patch;
    return clean(rest) as JsonMap;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw errBadPatchType(directive, patch);
}

/**
 * `$retainKeys`: every field not listed is cleared from the original, and the patch may only
 * set listed fields (upstream `applyRetainKeysDirective`).
 */
function applyRetainKeysDirective(original: JsonMap, patch: JsonMap): void {
  if (!hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retain = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(retain)) throw errBadPatchFormatForRetainKeys();
  const keep = new Set<unknown>(retain);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) || key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    if (!keep.has(key)) throw errBadPatchFormatForRetainKeys();
  }
  for (const key of Object.keys(original)) {
    if (!keep.has(key)) delete original[key];
  }
}

/**
 * `$setElementOrder/<field>`: merges the patch's list for `<field>` (if any) into the original,
 * then orders the result: the directive's order first, then the live order (upstream
 * `mergePatchIntoOriginal`).
 */
function mergePatchIntoOriginal(original: JsonMap, patch: JsonMap, path: string, table: Table): void {
  for (const directiveKey of Object.keys(patch)) {
    if (!directiveKey.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    const setOrder = patch[directiveKey];
    delete patch[directiveKey];
    if (!Array.isArray(setOrder)) throw errBadArgType(LIST_TYPE, setOrder);
    const key = extractKey(directiveKey, SET_ELEMENT_ORDER_PREFIX);

    const foundOriginal = hasOwn(original, key);
    const foundPatch = hasOwn(patch, key);
    let originalList: unknown[] = [];
    let patchList: unknown[] = [];
    if (foundOriginal) {
      const value = original[key];
      if (!Array.isArray(value)) throw errBadArgType(LIST_TYPE, value);
      originalList = value;
    }
    if (foundPatch) {
      const value = patch[key];
      if (!Array.isArray(value)) throw errBadArgType(LIST_TYPE, value);
      patchList = value;
    }
    const child = childPath(path, key);
    const meta = table.get(child);
    const mergeKey = meta?.mergeKey ?? "";
    validatePatchWithSetOrderList(patchList, setOrder, mergeKey);

    let merged: unknown[];
    if (foundOriginal && !foundPatch) merged = originalList;
    else if (!foundOriginal && foundPatch) merged = freshValue(patchList, child, table) as unknown[];
    else if (foundOriginal && foundPatch) merged = mergeSliceHandler(originalList, patchList, meta, child, false, table);
    else continue;

    const [patchItems, serverOnly] = mergeKey
      ? partitionMapsByPresentInList(merged, setOrder, mergeKey)
      : partitionPrimitivesByPresentInList(merged, setOrder);
    const kind = sliceElementKind([originalList, patchList]);
    setMember(original, key, normalizeElementOrder(patchItems, serverOnly, setOrder, originalList, mergeKey, kind));
    delete patch[key];
  }
}

/** The patch list must list its items in the same relative order as `$setElementOrder`. */
function validatePatchWithSetOrderList(patchList: unknown[], setOrder: unknown[], mergeKey: string): void {
  if (setOrder.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let patchIndex = 0;
  let orderIndex = 0;
  while (patchIndex < nonDelete.length && orderIndex < setOrder.length) {
    if (isMap(nonDelete[patchIndex]) && hasOwn(nonDelete[patchIndex] as JsonMap, DIRECTIVE_MARKER)) {
      patchIndex++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[patchIndex], setOrder[orderIndex], mergeKey)) patchIndex++;
    orderIndex++;
  }
  if (patchIndex < nonDelete.length && orderIndex >= setOrder.length) {
    throw internal(`The order in patch list:\n${goValue(patchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${goValue(setOrder)}\n`);
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isMap(left)) throw errBadArgType(MAP_TYPE, left);
  if (!isMap(right)) throw errBadArgType(MAP_TYPE, right);
  if (!hasOwn(left, mergeKey)) throw errNoMergeKey(left, mergeKey);
  if (!hasOwn(right, mergeKey)) throw errNoMergeKey(right, mergeKey);
  return left[mergeKey] === right[mergeKey];
}

/** A list field: merged when its strategy is `merge`, otherwise replaced by the patch. */
function mergeSliceHandler(
  original: unknown[],
  patch: unknown[],
  meta: PatchMeta | undefined,
  path: string,
  isDeleteList: boolean,
  table: Table,
): unknown[] {
  if (meta?.strategy !== MERGE_DIRECTIVE) return clean(patch) as unknown[];
  return mergeSlice(original, patch, meta.mergeKey ?? "", `${path}[]`, isDeleteList, table);
}

/** The kind shared by every element of the lists (upstream `sliceElementType`). */
function sliceElementKind(lists: unknown[][]): ElementKind {
  let kind: ElementKind | undefined;
  for (const list of lists) {
    for (const item of list) {
      const itemKind = kindOf(item);
      if (kind === undefined) {
        kind = itemKind;
        if (kind === "list") throw errNoListOfLists();
      } else if (kind !== itemKind) {
        throw internal(`list element types are not identical: ${goValue(lists)}`);
      }
    }
  }
  if (kind === undefined) throw internal("no elements in any of the given slices");
  return kind;
}

/** Merges two lists with the merge strategy (upstream `mergeSlice`). */
function mergeSlice(original: unknown[], patch: unknown[], mergeKey: string, elementPath: string, isDeleteList: boolean, table: Table): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind([original, patch]);

  let merged: unknown[];
  if (kind !== "map") {
    // $deleteFromPrimitiveList/<field>: the patch lists values to remove.
    if (isDeleteList) return original.filter((item) => !patch.includes(item));
    merged = [...new Set([...original, ...patch])];
  } else {
    if (!mergeKey) throw internal("cannot merge lists without merge key for type struct");
    [original, patch] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements(original, patch, mergeKey, elementPath, table);
  }

  const [patchItems, serverOnly] = mergeKey ? partitionMapsByPresentInList(merged, patch, mergeKey) : partitionPrimitivesByPresentInList(merged, patch);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/**
 * Applies the `$patch` items of a merging list: `delete` removes the live items with that
 * merge key, `replace` makes the rest of the patch the whole list.
 */
function mergeSliceWithSpecialElements(original: unknown[], patch: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const plain: unknown[] = [];
  let replace = false;
  let remaining = original;
  for (const item of patch) {
    const m = item as JsonMap;
    if (!hasOwn(m, DIRECTIVE_MARKER)) {
      plain.push(item);
      continue;
    }
    const directive = m[DIRECTIVE_MARKER];
    if (directive === DELETE_DIRECTIVE) {
      if (!hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
      remaining = remaining.filter((o) => !(isMap(o) && hasOwn(o, mergeKey) && o[mergeKey] === m[mergeKey]));
    } else if (directive === REPLACE_DIRECTIVE) {
      // Keep scanning so that every other `$patch` item is pruned too.
      replace = true;
    } else if (directive === MERGE_DIRECTIVE) {
      throw internal("merging lists cannot yet be specified in the patch");
    } else {
      throw errBadPatchType(directive, m);
    }
  }
  if (replace) return [plain.map(clean), []];
  return [remaining, plain];
}

/** Merges each patch item into the live item with the same merge key, or appends it. */
function mergeSliceWithoutSpecialElements(original: unknown[], patch: unknown[], mergeKey: string, elementPath: string, table: Table): unknown[] {
  const result = [...original];
  for (const item of patch) {
    const m = item as JsonMap;
    if (!hasOwn(m, mergeKey)) throw errNoMergeKey(m, mergeKey);
    const index = result.findIndex((o) => isMap(o) && hasOwn(o, mergeKey) && o[mergeKey] === m[mergeKey]);
    if (index >= 0) result[index] = mergeMap(result[index] as JsonMap, m, elementPath, table);
    else result.push(mergeMap({}, m, elementPath, table));
  }
  return result;
}

function partitionPrimitivesByPresentInList(list: unknown[], partitionBy: unknown[]): [unknown[], unknown[]] {
  const present = new Set(partitionBy);
  return [list.filter((v) => present.has(v)), list.filter((v) => !present.has(v))];
}

function partitionMapsByPresentInList(list: unknown[], partitionBy: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const inPatch: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const item of list) {
    if (!isMap(item)) throw errBadArgType(MAP_TYPE, item);
    if (!hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
    const found = partitionBy.some((p, i) => {
      if (!isMap(p)) throw internal(`value for key ${i} is not a map.`);
      return hasOwn(p, mergeKey) && p[mergeKey] === item[mergeKey];
    });
    (found ? inPatch : serverOnly).push(item);
  }
  return [inPatch, serverOnly];
}

/** Position of `value` in `list`, comparing merge key values for maps (upstream `index`). */
function indexOf(list: unknown[], value: unknown, mergeKey: string, kind: ElementKind): number {
  const key = (item: unknown) => (kind === "map" ? (isMap(item) ? item[mergeKey] : undefined) : item);
  const wanted = key(value);
  return list.findIndex((item) => key(item) === wanted);
}

function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const toDelete: unknown[] = [];
  for (const item of list) {
    if (!isMap(item)) throw errBadArgType(MAP_TYPE, item);
    (item[DIRECTIVE_MARKER] === DELETE_DIRECTIVE ? toDelete : keep).push(item);
  }
  return [keep, toDelete];
}

/** Sorts `toSort` by the positions its items have in `order` (stable), deletions last. */
function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let toDelete: unknown[] = [];
  if (kind === "map") {
    for (const list of [toSort, order]) {
      for (const item of list) {
        if (!isMap(item)) throw errBadArgType(MAP_TYPE, item);
        if (!hasOwn(item, mergeKey)) throw errNoMergeKey(item, mergeKey);
      }
    }
    [toSort, toDelete] = extractToDeleteItems(toSort);
  }
  const sorted = [...toSort].sort((a, b) => {
    const ia = indexOf(order, a, mergeKey, kind);
    const ib = indexOf(order, b, mergeKey, kind);
    return ia >= 0 && ib >= 0 ? ia - ib : 0;
  });
  return [...sorted, ...toDelete];
}

/**
 * Sorts patch items by the patch order and server-only items by the live order, then
 * interleaves them: a server-only item goes before the first patch item that comes after it
 * in the live list; patch items new to the list therefore come before the remaining
 * server-only items (upstream `normalizeElementOrder` and `mergeSortedSlice`).
 */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const right = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const left = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = indexOf(serverOrder, left[i], mergeKey, kind);
      const ri = indexOf(serverOrder, right[j], mergeKey, kind);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

function toApiError(err: MergeError): ApiError {
  switch (err.disposition) {
    case "badRequest":
      return badRequest(err.message);
    case "unprocessable":
      return patchRejected(err.message);
    case "internal":
      // Not a Status error upstream: the apiserver answers 500 with the bare message and
      // StatusReasonUnknown (an empty reason), e.g. `map: map[image:nginx] does not contain
      // declared merge key: name`.
      return new ApiError({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: err.message, code: 500 });
  }
}

/**
 * Applies a strategic merge patch to a copy of `doc` (a built-in kind identified by
 * `apiVersion` and `kind`) and returns it; `doc` and `patch` are never changed.
 *
 * Throws an ApiError as the kube-apiserver would: 415 for a kind without strategic merge
 * metadata (custom resources), 400 for a body that is not an object or a malformed directive,
 * 422 for lists of lists, 500 (no reason) for a list item missing its merge key and other
 * structural errors. A `null` body changes nothing.
 */
export function applyStrategicMergePatch(doc: KubeObject, patch: unknown, apiVersion: string, kind: string): KubeObject {
  const table = patchTableFor(apiVersion, kind);
  if (!table) throw unsupportedMediaType(CUSTOM_RESOURCE_PATCH_TYPES);
  if (patch === null || patch === undefined) return structuredClone(doc);
  if (!isMap(patch)) throw badRequest(`json: cannot unmarshal ${jsonTypeWord(patch)} into Go value of type map[string]interface {}`);

  let result: JsonMap;
  try {
    result = mergeMap(structuredClone(doc) as JsonMap, structuredClone(patch), "", table);
  } catch (err) {
    if (err instanceof MergeError) throw toApiError(err);
    throw err;
  }
  // The patched map is decoded into the typed object of the endpoint's kind: apiVersion and
  // kind cannot be patched, and missing metadata decodes as empty ObjectMeta.
  result.apiVersion = doc.apiVersion;
  result.kind = doc.kind;
  if (!isMap(result.metadata)) result.metadata = {};
  return result as KubeObject;
}

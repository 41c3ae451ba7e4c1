/**
 * The Kubernetes object model as kubelings uses it: the common envelope every object shares
 * (apiVersion, kind, metadata) and the API machinery types (List, WatchEvent, Status).
 *
 * Objects are plain JSON. Objects handed out by the store and caches are deeply frozen: read
 * them freely, copy them (see `clone`) before changing anything, as client-go asks of
 * objects read from an informer cache.
 */

/** A JSON value as stored and sent on the wire. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** metadata.ownerReferences[] entry (apimachinery `OwnerReference`). */
export interface OwnerReference {
  /** API version of the owner, e.g. `apps/v1`. */
  apiVersion: string;
  /** Kind of the owner, e.g. `ReplicaSet`. */
  kind: string;
  /** Name of the owner, in the dependent's namespace. */
  name: string;
  /** UID of the owner: an owner with the same name and another UID is a different object. */
  uid: string;
  /** True when the owner is the managing controller (at most one per object). */
  controller?: boolean;
  /** With foreground deletion, the owner waits until this dependent is gone. */
  blockOwnerDeletion?: boolean;
}

/** Standard object metadata (apimachinery `ObjectMeta`). */
export interface ObjectMeta {
  /** Unique within the namespace (or cluster, for cluster-scoped kinds). */
  name?: string;
  /** Prefix used by the server to generate a unique name when `name` is empty. */
  generateName?: string;
  /** Namespace of a namespaced object; absent for cluster-scoped kinds. */
  namespace?: string;
  /** Server-assigned unique id, stable for the object's whole life. */
  uid?: string;
  /** Store revision of the object's last write (opaque to clients). */
  resourceVersion?: string;
  /** Bumped by the server on every change of the desired state (spec), never on status. */
  generation?: number;
  /** RFC 3339 time the object was created. */
  creationTimestamp?: string;
  /** Set when deletion was requested and the object waits for finalizers or a grace period. */
  deletionTimestamp?: string;
  /** Grace period in seconds that deletion was requested with. */
  deletionGracePeriodSeconds?: number;
  /** Identifying key/value pairs, matched by selectors. */
  labels?: Record<string, string>;
  /** Non-identifying key/value pairs. */
  annotations?: Record<string, string>;
  /** Objects this one depends on; drives garbage collection. */
  ownerReferences?: OwnerReference[];
  /** Names of finalizers that must be removed before the object disappears. */
  finalizers?: string[];
  /** Field ownership records (server-side apply); kept as the client sent it. */
  managedFields?: Json[];
  [key: string]: Json | undefined | OwnerReference[] | Record<string, string>;
}

/** Any Kubernetes object: the envelope every kind shares. */
export interface KubeObject {
  /** `group/version`, or `version` for the core group (e.g. `v1`, `apps/v1`). */
  apiVersion: string;
  /** The kind, e.g. `Pod`. */
  kind: string;
  /** Object metadata. */
  metadata: ObjectMeta;
  /** Desired state (most kinds). */
  spec?: any;
  /** Observed state, written through the status subresource. */
  status?: any;
  [key: string]: any;
}

/** List metadata (apimachinery `ListMeta`). */
export interface ListMeta {
  /** Store revision the list was read at: watch from here to see every later change. */
  resourceVersion: string;
  /** Continue token for paginated lists. */
  continue?: string;
  /** Objects left after this page, when known. */
  remainingItemCount?: number;
}

/** A list of objects of one kind (`PodList`), or a `v1 List` of mixed kinds. */
export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: ListMeta;
  items: T[];
}

/** Type of a watch event, as on the Kubernetes wire. */
export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

/** One watch event. For DELETED the object is its last state; for BOOKMARK only metadata.resourceVersion is meaningful. */
export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

/** One cause of a failure (`StatusCause`). */
export interface StatusCause {
  /** Machine-readable cause, e.g. `FieldValueRequired`, `FieldValueInvalid`. */
  reason?: string;
  /** Human-readable description. */
  message?: string;
  /** Path of the field at fault, e.g. `spec.template.spec.containers[0].image`. */
  field?: string;
}

/** Details of a failure (`StatusDetails`). */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The `Status` object the API returns for failures and for some deletes. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never> | { resourceVersion?: string };
  status: "Success" | "Failure";
  message?: string;
  /** `NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, `Gone`, `BadRequest`, ... */
  reason?: string;
  details?: StatusDetails;
  /** HTTP status code. */
  code: number;
}

/**
 * A deep copy of a JSON value: use before changing an object read from the store or a cache.
 * Plain objects and arrays are copied by a direct walk, several times faster than
 * `structuredClone` (which serializes and deserializes) on the controllers' and the API
 * server's hot paths; any other value inside (a Date, a Map) and a cyclic value go through
 * `structuredClone`. For JSON data the result is `structuredClone`'s, except that an object
 * reached twice through the same value is copied twice, as a JSON round trip (or the wire)
 * would give it.
 */
export function clone<T>(value: T): T {
  try {
    return copyJson(value);
  } catch (err) {
    // A cycle overflows the walk; structuredClone copies cycles.
    if (err instanceof RangeError) return structuredClone(value);
    throw err;
  }
}

function copyJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) {
    // Functions and symbols are refused the way structuredClone refuses them.
    return typeof value === "function" || typeof value === "symbol" ? structuredClone(value) : value;
  }
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return structuredClone(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = copyJson((value as Record<string, unknown>)[key]);
    // JSON.parse makes "__proto__" an own property; plain assignment would set the prototype instead.
    if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
    else out[key] = v;
  }
  return out as T;
}

/** Recursively freezes a JSON value in place and returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value as object)) deepFreeze((value as any)[key]);
  }
  return value;
}

/**
 * JSON round trips without the text in between, for the write path's hot spots. Each function
 * gives exactly what its `JSON.stringify` formulation gives for plain data (objects, arrays,
 * strings, finite numbers, booleans, null, with `undefined`, functions and symbols dropped from
 * objects and written as null in arrays), several times faster because nothing is encoded or
 * parsed. Anything else met on the way (a `toJSON` method, a Date, a class instance, a bigint,
 * a cycle) makes them fall back to the `JSON.stringify` formulation itself, so the result and
 * any error are always the ones it would give.
 */

/** Thrown inside a walk when a value needs the real JSON encoder. */
const EXOTIC = Symbol("exotic JSON value");

/** True for values `JSON.stringify` leaves out of an object (and writes as null in an array). */
function omitted(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/** A plain object or array, without `toJSON`: the only containers walked directly. */
function plainContainer(value: object): boolean {
  if (Array.isArray(value)) return typeof (value as { toJSON?: unknown }).toJSON !== "function";
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && typeof (value as { toJSON?: unknown }).toJSON !== "function";
}

/**
 * `JSON.parse(JSON.stringify(value))` for a JSON object or array: a deep copy with what JSON
 * cannot hold dropped, non-finite numbers as null and -0 as 0. Throws what `JSON.stringify`
 * throws (a cycle, a bigint).
 */
export function jsonCopy<T>(value: T): T {
  try {
    return copy(value) as T;
  } catch (err) {
    if (err !== EXOTIC && !(err instanceof RangeError)) throw err;
    const text = JSON.stringify(value);
    return (text === undefined ? undefined : JSON.parse(text)) as T;
  }
}

function copy(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) return null;
      return value === 0 ? 0 : value; // -0 is written "0"
    case "object":
      break;
    default:
      // undefined, functions and symbols at the top, bigints anywhere.
      throw EXOTIC;
  }
  if (value === null) return null;
  if (!plainContainer(value)) throw EXOTIC;
  if (Array.isArray(value)) {
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      out[i] = omitted(v) ? null : copy(v);
    }
    return out;
  }
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (omitted(v)) continue;
    // JSON.parse makes "__proto__" an own property; an assignment would set the prototype.
    if (key === "__proto__") Object.defineProperty(out, key, { value: copy(v), enumerable: true, writable: true, configurable: true });
    else out[key] = copy(v);
  }
  return out;
}

/**
 * `jsonCopy` of a JSON object that reuses the parts equal to `previous`, a deeply frozen value
 * (the stored version being replaced): wherever a value below the top level and below
 * `metadata` encodes exactly like the matching one of `previous`, that frozen value is taken
 * instead of a copy. The top-level object and its `metadata` are always new, so the caller may
 * still set fields on them. An update that changes only `status` thus copies only the status,
 * and versions of an object share what they have in common.
 */
export function jsonCopyReusing<T>(value: T, previous: unknown): T {
  if (previous === null || typeof previous !== "object" || Array.isArray(previous)) return jsonCopy(value);
  try {
    if (value === null || typeof value !== "object" || !plainContainer(value) || Array.isArray(value)) throw EXOTIC;
    const prev = previous as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      if (omitted(v)) continue;
      const p = Object.prototype.hasOwnProperty.call(prev, key) ? prev[key] : undefined;
      setKey(out, key, key === "metadata" ? copyFreshReusingChildren(v, p) : copyReusing(v, p));
    }
    return out as T;
  } catch (err) {
    if (err !== EXOTIC && !(err instanceof RangeError)) throw err;
    return jsonCopy(value);
  }
}

function setKey(out: Record<string, unknown>, key: string, v: unknown): void {
  // JSON.parse makes "__proto__" an own property; an assignment would set the prototype.
  if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  else out[key] = v;
}

/** A new object (when `value` is a plain object) whose children reuse `previous`'s equal ones. */
function copyFreshReusingChildren(value: unknown, previous: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value) || !plainContainer(value)) return copy(value);
  const prev = previous !== null && typeof previous === "object" && !Array.isArray(previous) ? (previous as Record<string, unknown>) : undefined;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (omitted(v)) continue;
    setKey(out, key, copyReusing(v, prev && Object.prototype.hasOwnProperty.call(prev, key) ? prev[key] : undefined));
  }
  return out;
}

/** `copy(value)`, or `previous` itself when it encodes exactly like `value`. */
function copyReusing(value: unknown, previous: unknown): unknown {
  if (previous === undefined || previous === null || typeof previous !== "object") return copy(value);
  if (value === null || typeof value !== "object") return copy(value);
  if (!plainContainer(value)) throw EXOTIC;
  if (Array.isArray(value)) {
    const prev = Array.isArray(previous) ? previous : undefined;
    let same = prev !== undefined && prev.length === value.length;
    const out = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      const c = omitted(v) ? null : copyReusing(v, prev && i < prev.length ? prev[i] : undefined);
      out[i] = c;
      if (same && c !== prev![i]) same = false;
    }
    return same ? previous : out;
  }
  const prev = !Array.isArray(previous) ? (previous as Record<string, unknown>) : undefined;
  const prevKeys = prev ? Object.keys(prev) : undefined;
  let same = prevKeys !== undefined;
  let j = 0;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (omitted(v)) continue;
    const p = prev && Object.prototype.hasOwnProperty.call(prev, key) ? prev[key] : undefined;
    const c = copyReusing(v, p);
    setKey(out, key, c);
    if (same && (prevKeys![j] !== key || c !== p)) same = false;
    j++;
  }
  if (same && j !== prevKeys!.length) same = false;
  return same ? previous : out;
}

/**
 * `JSON.stringify(a) === JSON.stringify(b)`, stopping at the first difference: the same keys in
 * the same order with the same JSON values. Unlike the encoder it cannot see a bigint or a cycle
 * placed after the first difference (it throws the encoder's TypeError for those it reaches);
 * objects that passed admission hold neither.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  try {
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") throw EXOTIC;
    return equal(a, b);
  } catch (err) {
    if (err !== EXOTIC && !(err instanceof RangeError)) throw err;
    return JSON.stringify(a) === JSON.stringify(b);
  }
}

/** A JSON leaf as the encoder writes it: non-finite numbers are null. */
function leaf(value: unknown): unknown {
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}

function equal(a: unknown, b: unknown): boolean {
  const objectA = a !== null && typeof a === "object";
  const objectB = b !== null && typeof b === "object";
  if (!objectA || !objectB) {
    // A Date (or anything with toJSON) may encode like the leaf it is compared with.
    if (typeof a === "bigint" || typeof b === "bigint" || (objectA && !plainContainer(a as object)) || (objectB && !plainContainer(b as object))) throw EXOTIC;
    return leaf(a) === leaf(b);
  }
  if (!plainContainer(a) || !plainContainer(b)) throw EXOTIC;
  const arrayA = Array.isArray(a);
  if (arrayA !== Array.isArray(b)) return false;
  if (arrayA) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      if (!equal(omitted(x[i]) ? null : x[i], omitted(y[i]) ? null : y[i])) return false;
    }
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keysA = Object.keys(x);
  const keysB = Object.keys(y);
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < keysA.length && omitted(x[keysA[i]])) i++;
    while (j < keysB.length && omitted(y[keysB[j]])) j++;
    if (i === keysA.length || j === keysB.length) return i === keysA.length && j === keysB.length;
    if (keysA[i] !== keysB[j] || !equal(x[keysA[i]], y[keysB[j]])) return false;
    i++;
    j++;
  }
}

/**
 * The `pod-template-hash`: upstream `pkg/controller/controller_utils.go` `ComputeHash` hashes the
 * pod template with FNV-32a (plus the Deployment's `collisionCount`, when set) and renders the
 * decimal sum through `rand.SafeEncodeString`, an alphabet without vowels so no word can appear
 * in a name: that is why ReplicaSets are called `web-5d9c7b8f4`.
 *
 * Upstream feeds FNV the `spew` dump of the Go struct, which TypeScript cannot reproduce; here the
 * template's canonical JSON (keys sorted) is hashed instead. The property that matters holds: the
 * same template always gives the same hash, so a template that comes back finds its old
 * ReplicaSet's name, and any change gives another one.
 */

/** `k8s.io/apimachinery/pkg/util/rand` alphanums: digits and consonants, no vowels. */
const ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789";

/** FNV-32a of bytes (`hash/fnv.New32a`). */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** `rand.SafeEncodeString`: each character mapped to `alphanums[code % 27]`. */
export function safeEncodeString(s: string): string {
  let out = "";
  for (const ch of s) out += ALPHANUMS[ch.codePointAt(0)! % ALPHANUMS.length];
  return out;
}

/**
 * Canonical forms of frozen (cache-owned, immutable) values, kept for the outermost frozen value
 * of each call: versions of an object share their unchanged parts, so a template or a list of
 * conditions is encoded once, not at every sync.
 */
const canonicalForms = new WeakMap<object, string>();

/** JSON with object keys sorted at every level: the canonical form hashed. */
export function canonicalJson(value: unknown): string {
  return canonical(value, false) as string;
}

function canonical(value: unknown, insideFrozen: boolean): string | undefined {
  if (value === null || typeof value !== "object") return JSON.stringify(value ?? null);
  const frozen = Object.isFrozen(value);
  const cacheable = frozen && !insideFrozen;
  if (cacheable) {
    const known = canonicalForms.get(value);
    if (known !== undefined) return known;
  }
  let out: string;
  if (Array.isArray(value)) {
    out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      const v = value[i];
      // As Array.prototype.join: an element with no JSON form (a function) adds nothing.
      out += canonical(v === undefined ? null : v, frozen) ?? "";
    }
    out += "]";
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    out = "{";
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) out += ",";
      out += `${JSON.stringify(keys[i])}:${canonical(record[keys[i]], frozen)}`;
    }
    out += "}";
  }
  if (cacheable) canonicalForms.set(value, out);
  return out;
}

/**
 * The hash of a pod template (`ComputeHash`): FNV-32a of its canonical JSON, then of the
 * collision count as 8 little-endian bytes (only the low 4 set, as upstream), rendered through
 * SafeEncodeString.
 */
export function computeHash(template: unknown, collisionCount?: number): string {
  const hasher = new TextEncoder();
  let h = fnv32a(hasher.encode(canonicalJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(bytes, h);
  }
  return safeEncodeString(String(h));
}

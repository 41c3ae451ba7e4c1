/**
 * Deterministic identifiers and numbers for the simulated runtime. Everything a real runtime
 * would draw at random (container IDs, image digests, worker pids, sizes of unknown images) is
 * derived from a seed string instead, so the same cluster gives the same output every time.
 */
import { createHash } from "node:crypto";

/** SHA-256 of `text` as 64 lowercase hex digits (the shape of a containerd container ID or an image digest). */
export function _sha256Hex(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A 32-bit unsigned integer derived from `text` (FNV-1a), for picking deterministic numbers. */
export function _hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A deterministic integer in [min, max] derived from `seed`. */
export function _pick(seed: string, min: number, max: number): number {
  return min + (_hash32(seed) % (max - min + 1));
}

/** A deterministic pseudo-random source (mulberry32) seeded from a string. */
export function _seededRandom(seed: string): () => number {
  let a = _hash32(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

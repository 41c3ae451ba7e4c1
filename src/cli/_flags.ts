/** Parsers for command-line values shared by several commands. */
import { isQuantity } from "../api/quantity.js";
import type { NodeCapacity } from "../cluster/node/node-spec.js";

/** A flag value that cannot be used: the message names the flag and the fix. */
export class FlagError extends Error {}

/**
 * Parses `--node-capacity cpu=8,memory=16Gi,pods=110` (any subset of cpu, memory, pods,
 * ephemeral-storage). Values are Kubernetes quantities; pods is a whole number.
 */
export function parseCapacity(text: string | undefined): Partial<NodeCapacity> | undefined {
  if (text === undefined || text === "") return undefined;
  const out: { cpu?: string; memory?: string; pods?: number; ephemeralStorage?: string } = {};
  for (const part of text.split(",")) {
    const [key, value, extra] = part.split("=").map((s) => s.trim());
    if (!key || value === undefined || extra !== undefined || value === "") {
      throw new FlagError(`--node-capacity: "${part}" is not key=value: write it like cpu=8,memory=16Gi,pods=110`);
    }
    if (key === "pods") {
      if (!/^\d+$/.test(value)) throw new FlagError(`--node-capacity: pods must be a whole number, got "${value}"`);
      out.pods = Number(value);
    } else if (key === "cpu" || key === "memory" || key === "ephemeral-storage") {
      if (!isQuantity(value)) throw new FlagError(`--node-capacity: ${key} must be a quantity like 4, 3500m, 8Gi; got "${value}"`);
      if (key === "ephemeral-storage") out.ephemeralStorage = value;
      else out[key] = value;
    } else {
      throw new FlagError(`--node-capacity: unknown resource "${key}": use cpu, memory, pods or ephemeral-storage`);
    }
  }
  return out;
}

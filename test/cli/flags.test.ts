import { describe, expect, it } from "vitest";
import { FlagError, parseCapacity } from "../../src/cli/_flags.js";

describe("--node-capacity", () => {
  it("reads any subset of cpu, memory, pods and ephemeral-storage", () => {
    expect(parseCapacity("cpu=8,memory=16Gi,pods=110")).toEqual({ cpu: "8", memory: "16Gi", pods: 110 });
    expect(parseCapacity("cpu=3500m")).toEqual({ cpu: "3500m" });
    expect(parseCapacity("ephemeral-storage=50Gi")).toEqual({ ephemeralStorage: "50Gi" });
    expect(parseCapacity(undefined)).toBeUndefined();
  });

  it("names the flag, the value and the fix when it cannot read one", () => {
    expect(() => parseCapacity("cpu=lots")).toThrow(FlagError);
    expect(() => parseCapacity("cpu=lots")).toThrow('--node-capacity: cpu must be a quantity like 4, 3500m, 8Gi; got "lots"');
    expect(() => parseCapacity("gpu=1")).toThrow('unknown resource "gpu"');
    expect(() => parseCapacity("pods=1.5")).toThrow("pods must be a whole number");
    expect(() => parseCapacity("cpu")).toThrow("is not key=value");
  });
});

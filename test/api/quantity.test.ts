import { describe, expect, it } from "vitest";
import { canonicalQuantity, intValue, milliValue, parseQuantity, quantitiesEqual } from "../../src/api/quantity.js";

describe("resource quantities (apimachinery resource.Quantity)", () => {
  it("parses decimal, binary and exponent suffixes", () => {
    expect(parseQuantity("500m")).toBe(0.5);
    expect(parseQuantity("2")).toBe(2);
    expect(parseQuantity("1Gi")).toBe(1024 ** 3);
    expect(parseQuantity("128Mi")).toBe(128 * 1024 ** 2);
    expect(parseQuantity("1k")).toBe(1000);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity(0.25)).toBe(0.25);
    expect(() => parseQuantity("1.2.3")).toThrow(/quantities must match/);
    expect(() => parseQuantity("10 Mi")).toThrow();
  });

  it("rounds CPU up to whole millicores like MilliValue()", () => {
    expect(milliValue("100m")).toBe(100);
    expect(milliValue("0.1")).toBe(100);
    expect(milliValue("1")).toBe(1000);
    expect(milliValue("0.0001")).toBe(1);
    expect(intValue("1Gi")).toBe(1073741824);
    expect(intValue("1.5")).toBe(2);
  });

  it("writes the canonical form the API server returns", () => {
    expect(canonicalQuantity("0.5")).toBe("500m");
    expect(canonicalQuantity("1000m")).toBe("1");
    expect(canonicalQuantity("1500m")).toBe("1500m");
    expect(canonicalQuantity("2000")).toBe("2k");
    expect(canonicalQuantity("1.5Gi")).toBe("1536Mi");
    expect(canonicalQuantity("1024Mi")).toBe("1Gi");
    expect(canonicalQuantity(1)).toBe("1");
    expect(canonicalQuantity("0")).toBe("0");
  });

  it("compares quantities by amount", () => {
    expect(quantitiesEqual("0.5", "500m")).toBe(true);
    expect(quantitiesEqual("1Gi", "1024Mi")).toBe(true);
    expect(quantitiesEqual("1G", "1Gi")).toBe(false);
  });
});

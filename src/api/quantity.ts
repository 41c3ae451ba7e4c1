/**
 * Resource quantities (`500m`, `0.5`, `128Mi`, `1e3`, `2G`), following apimachinery's
 * `k8s.io/apimachinery/pkg/api/resource` Quantity: a number with an optional binary-SI
 * (`Ki Mi Gi Ti Pi Ei`), decimal-SI (`n u m k M G T P E`) or decimal-exponent (`e3`) suffix.
 *
 * `canonicalQuantity` renders a value the way the API server serializes it, so that `0.5` and
 * `500m` compare equal after a round trip (the reconciler's diff relies on this).
 */

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY_RE = /^([+-]?(?:\d+\.?\d*|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** Which suffix family a quantity was written with; kept when canonicalizing, as upstream does. */
export type QuantityFormat = "BinarySI" | "DecimalSI" | "DecimalExponent";

/** A parsed quantity. */
export interface ParsedQuantity {
  /** Value in base units (cores for CPU, bytes for memory), as a float. */
  readonly value: number;
  readonly format: QuantityFormat;
}

/** True when `text` is a syntactically valid quantity. */
export function isQuantity(text: unknown): boolean {
  if (typeof text === "number") return Number.isFinite(text);
  return typeof text === "string" && QUANTITY_RE.test(text.trim());
}

/** Parses a quantity; throws with the expected syntax when invalid. */
export function parseQuantityFull(input: string | number): ParsedQuantity {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) throw new Error(`quantities must be finite numbers, got ${input}`);
    return { value: input, format: "DecimalSI" };
  }
  const m = QUANTITY_RE.exec(input.trim());
  if (!m) {
    throw new Error(`quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$', got "${input}"`);
  }
  const num = Number(m[1]);
  const suffix = m[2] ?? "";
  if (suffix in BINARY) return { value: num * BINARY[suffix], format: "BinarySI" };
  if (suffix in DECIMAL) return { value: num * 10 ** DECIMAL[suffix], format: "DecimalSI" };
  return { value: num * 10 ** Number(suffix.slice(1)), format: "DecimalExponent" };
}

/** Parses a quantity to its value in base units (`500m` -> 0.5, `1Gi` -> 1073741824). */
export function parseQuantity(input: string | number): number {
  return parseQuantityFull(input).value;
}

/** CPU quantity in millicores, rounded up as the scheduler's `MilliValue()` does. */
export function milliValue(input: string | number | undefined): number {
  if (input === undefined) return 0;
  return Math.ceil(Math.round(parseQuantity(input) * 1e9) / 1e6);
}

/** Memory (or any integer) quantity in whole units, rounded up as `Value()` does. */
export function intValue(input: string | number | undefined): number {
  if (input === undefined) return 0;
  return Math.ceil(parseQuantity(input) - 1e-9);
}

/**
 * The canonical string the API server writes back for a quantity (`Quantity.String()`):
 * binary quantities keep a binary suffix when exact, decimal ones use the largest decimal
 * suffix that keeps the value an integer (`0.5` -> `500m`, `1000m` -> `1`, `1.5Gi` -> `1536Mi`).
 */
export function canonicalQuantity(input: string | number): string {
  const { value, format } = parseQuantityFull(input);
  if (value === 0) return "0";
  const sign = value < 0 ? "-" : "";
  const abs = Math.abs(value);
  if (format === "BinarySI" && Number.isInteger(abs) && abs >= 1024) {
    const units = ["Ei", "Pi", "Ti", "Gi", "Mi", "Ki"];
    for (const u of units) {
      const n = abs / BINARY[u];
      if (Number.isInteger(n)) return `${sign}${n}${u}`;
    }
  }
  if (format === "BinarySI" && Number.isInteger(abs)) return `${sign}${abs}`;
  // Decimal: find the largest exponent (multiple of 3) that keeps an integer mantissa.
  const exps = format === "DecimalExponent" ? [18, 15, 12, 9, 6, 3, 0, -3, -6, -9] : [18, 15, 12, 9, 6, 3, 0, -3, -6, -9];
  for (const e of exps) {
    const n = abs / 10 ** e;
    const rounded = Math.round(n);
    if (rounded >= 1 && Math.abs(n - rounded) < 1e-9 * Math.max(1, n)) {
      if (format === "DecimalExponent") return e === 0 ? `${sign}${rounded}` : `${sign}${rounded}e${e}`;
      const suffix = Object.keys(DECIMAL).find((k) => DECIMAL[k] === e) ?? "";
      return `${sign}${rounded}${suffix}`;
    }
  }
  // Below a nano: upstream rounds up to 1n.
  return `${sign}1n`;
}

/** True when two quantities denote the same amount (`0.5` and `500m`). */
export function quantitiesEqual(a: string | number, b: string | number): boolean {
  try {
    return Math.abs(parseQuantity(a) - parseQuantity(b)) <= 1e-12 * Math.max(1, Math.abs(parseQuantity(a)));
  } catch {
    return a === b;
  }
}

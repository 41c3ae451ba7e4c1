/**
 * Small JSON helpers shared by the patch modules, and Go `fmt` renderings of JSON values, so that patch errors read exactly as the kube-apiserver
 * words them: `%v` of a `map[string]interface{}` is `map[image:nginx name:web]` (keys sorted),
 * of a `[]interface{}` is `[a b]`, and `reflect.TypeOf` names such as `map[string]interface {}`.
 * Internal to the patch package.
 */

/** Go `%v` of a decoded JSON value. */
export function goValue(value: unknown): string {
  if (value === null || value === undefined) return "<nil>";
  if (Array.isArray(value)) return `[${value.map(goValue).join(" ")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value as object).sort();
    return `map[${keys.map((k) => `${k}:${goValue((value as Record<string, unknown>)[k])}`).join(" ")}]`;
  }
  return String(value);
}

/**
 * Go type name of a decoded JSON value as `reflect.TypeOf` prints it. The apiserver decodes
 * patches preserving integers (`kjson.UnmarshalCaseSensitivePreserveInts`), so whole numbers
 * are int64.
 */
export function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return "%!s(<nil>)";
  if (Array.isArray(value)) return "[]interface {}";
  switch (typeof value) {
    case "object":
      return "map[string]interface {}";
    case "string":
      return "string";
    case "boolean":
      return "bool";
    case "number":
      return Number.isInteger(value) ? "int64" : "float64";
    default:
      return typeof value;
  }
}

/** The JSON type word encoding/json uses in `cannot unmarshal <word> into Go value of type ...`. */
export function jsonTypeWord(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

/**
 * Sets an own member even when the key is `__proto__` (a JSON body can carry one; a plain
 * assignment would replace the object's prototype instead of adding a member).
 */
export function setMember(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

/** An own member, never one inherited from Object.prototype. */
export function getMember(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

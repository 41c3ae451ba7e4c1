/**
 * Label selectors, as `k8s.io/apimachinery/pkg/labels` (the string syntax of `-l` and
 * `?labelSelector=`) and `metav1.LabelSelectorAsSelector` (the `matchLabels` +
 * `matchExpressions` objects in Deployments, Services' owners, PDBs, NetworkPolicies, ...).
 *
 * Selectors are compiled once into a matcher closure: controllers and the watch cache test
 * every object against them, so matching does no parsing and no allocation.
 *
 * Error messages are upstream's, word for word: parse errors from `labels/selector.go`, key and
 * value checks from `api/validate/content/kube.go` (IsLabelKey, IsLabelValue), rendered as
 * `field.Error` does (`<nil>: Invalid value: "a b": ...`).
 */
import { ApiError, badRequest } from "./errors.js";
import { isQualifiedName, isValidLabelValue } from "./names.js";

/** A label set: label key to value. */
export type Labels = Readonly<Record<string, string>>;

/** Operators of a requirement, spelled as upstream's `selection.Operator`. */
export type SelectorOperator = "in" | "notin" | "=" | "==" | "!=" | "exists" | "!" | "gt" | "lt";

/** One requirement of a selector: `key`, `operator`, `values`. */
export interface Requirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Values as given (parsed selectors hold them sorted and without duplicates). */
  readonly values: readonly string[];
}

/** A compiled label selector. */
export interface Selector {
  /** Requirements, sorted by key; ANDed together. */
  readonly requirements: readonly Requirement[];
  /** True for the selector that matches nothing (a null `LabelSelector`). */
  readonly matchesNothing: boolean;
  /** True when the object's labels satisfy every requirement. */
  matches(labels: Labels | undefined | null): boolean;
  /** True when the selector does not restrict anything (matches everything). */
  empty(): boolean;
  /** Canonical form, as upstream `Selector.String()`: requirements by key, `in` values sorted. */
  toString(): string;
}

/** metav1.LabelSelectorRequirement. */
export interface LabelSelectorRequirement {
  key: string;
  operator: "In" | "NotIn" | "Exists" | "DoesNotExist" | string;
  values?: string[];
}

/** metav1.LabelSelector: matchLabels and matchExpressions are ANDed. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

// ---------------------------------------------------------------------------------------------
// Validation (k8s.io/apimachinery/pkg/util/validation): one implementation, in names.ts.

export { isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from "./names.js";

/** Upstream's newer name for `isQualifiedName`. */
export const isLabelKey = isQualifiedName;

// ---------------------------------------------------------------------------------------------
// field.Error rendering

/** Go `%q` of a string (strconv.Quote). */
function goQuote(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Go `%#v` of a []string: `[]string{"a", "b"}`, `[]string{}`, or `[]string(nil)`. */
function goStringSlice(values: readonly string[] | null): string {
  if (values === null) return "[]string(nil)";
  return `[]string{${values.map(goQuote).join(", ")}}`;
}

/** `field.Invalid(path, value, detail).Error()`. */
function invalidValue(field: string, value: string, detail: string): string {
  return `${field}: Invalid value: ${value}: ${detail}`;
}

/** An aggregate of error strings as `utilerrors.NewAggregate(...).Error()` prints it (deduplicated). */
function aggregate(errs: string[]): string {
  const unique = [...new Set(errs)];
  return unique.length === 1 ? unique[0] : `[${unique.join(", ")}]`;
}

/** Thrown for a selector that does not parse or validate; the API server answers 400 BadRequest. */
function selectorError(message: string): ApiError {
  return badRequest(message);
}

// ---------------------------------------------------------------------------------------------
// Requirements and compiled selectors

type Matcher = (labels: Labels) => boolean;

const has = (labels: Labels, key: string): boolean => Object.prototype.hasOwnProperty.call(labels, key);

/** Parses a Gt/Lt operand as Go's strconv.ParseInt(s, 10, 64) would; undefined when it would fail. */
function parseInt64(value: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

function compileRequirement(r: Requirement): Matcher {
  const { key } = r;
  switch (r.operator) {
    case "in":
    case "=":
    case "==": {
      if (r.values.length === 1) {
        const only = r.values[0];
        return (labels) => has(labels, key) && labels[key] === only;
      }
      const set = new Set(r.values);
      return (labels) => has(labels, key) && set.has(labels[key]);
    }
    case "notin":
    case "!=": {
      const set = new Set(r.values);
      return (labels) => !has(labels, key) || !set.has(labels[key]);
    }
    case "exists":
      return (labels) => has(labels, key);
    case "!":
      return (labels) => !has(labels, key);
    case "gt":
    case "lt": {
      const bound = r.values.length === 1 ? parseInt64(r.values[0]) : undefined;
      if (bound === undefined) return () => false;
      const greater = r.operator === "gt";
      return (labels) => {
        if (!has(labels, key)) return false;
        const value = parseInt64(labels[key]);
        if (value === undefined) return false;
        return greater ? value > bound : value < bound;
      };
    }
  }
}

/** Upstream `Requirement.String()`. */
function requirementToString(r: Requirement): string {
  const values = r.values.length === 1 ? r.values[0] : [...r.values].sort().join(",");
  switch (r.operator) {
    case "!":
      return `!${r.key}`;
    case "exists":
      return r.key;
    case "in":
      return `${r.key} in (${values})`;
    case "notin":
      return `${r.key} notin (${values})`;
    case "gt":
      return `${r.key}>${values}`;
    case "lt":
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

function compile(requirements: Requirement[]): Selector {
  // Upstream sorts requirements by key (`ByKey`) so that String() is deterministic.
  const byKey = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const sorted = Object.freeze(byKey.map((r) => Object.freeze({ ...r, values: Object.freeze([...r.values]) })));
  const matchers = sorted.map(compileRequirement);
  const text = sorted.map(requirementToString).join(",");
  let matches: (labels: Labels | undefined | null) => boolean;
  if (matchers.length === 0) matches = () => true;
  else if (matchers.length === 1) {
    const [only] = matchers;
    matches = (labels) => only(labels ?? EMPTY);
  } else {
    matches = (labels) => {
      const set = labels ?? EMPTY;
      for (const m of matchers) if (!m(set)) return false;
      return true;
    };
  }
  return Object.freeze({
    requirements: sorted,
    matchesNothing: false,
    matches,
    empty: () => sorted.length === 0,
    toString: () => text,
  });
}

const EMPTY: Labels = Object.freeze({});

const EVERYTHING: Selector = compile([]);

const NOTHING: Selector = Object.freeze({
  requirements: Object.freeze([]) as readonly Requirement[],
  matchesNothing: true,
  matches: () => false,
  empty: () => false,
  toString: () => "",
});

/** The selector that matches every label set (an empty `LabelSelector`, an empty string). */
export function everything(): Selector {
  return EVERYTHING;
}

/** The selector that matches nothing (a null `LabelSelector`). */
export function nothing(): Selector {
  return NOTHING;
}

/**
 * Validates a requirement as upstream `NewRequirement` does and returns the error strings
 * (field paths `key`, `values`, `values[0][<key>]`, `operator`).
 */
function validateRequirement(key: string, operator: SelectorOperator, values: readonly string[] | null): string[] {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(invalidValue("key", goQuote(key), keyErrs.join("; ")));
  const vals = values ?? [];
  switch (operator) {
    case "in":
    case "notin":
      if (vals.length === 0) errs.push(invalidValue("values", goStringSlice(values), "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case "=":
    case "==":
    case "!=":
      if (vals.length !== 1) errs.push(invalidValue("values", goStringSlice(values), "exact-match compatibility requires one single value"));
      break;
    case "exists":
    case "!":
      if (vals.length !== 0) errs.push(invalidValue("values", goStringSlice(values), "values set must be empty for exists and does not exist"));
      break;
    case "gt":
    case "lt":
      if (vals.length !== 1) errs.push(invalidValue("values", goStringSlice(values), "for 'Gt', 'Lt' operators, exactly one value is required"));
      vals.forEach((v, i) => {
        if (parseInt64(v) === undefined) errs.push(invalidValue(`values[${i}]`, goQuote(v), "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  vals.forEach((v, i) => {
    const valueErrs = isValidLabelValue(v);
    if (valueErrs.length) errs.push(invalidValue(`values[${i}][${key}]`, goQuote(v), valueErrs.join("; ")));
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// The string syntax (labels.Parse)

type Token = "error" | "eos" | ")" | "," | "!" | "==" | "=" | ">" | "id" | "in" | "<" | "!=" | "notin" | "(";

// A Map, not an object literal: an identifier such as `constructor` must not find Object.prototype.
const LITERAL_TOKENS: ReadonlyMap<string, Token> = new Map<string, Token>([
  [")", ")"],
  [",", ","],
  ["!", "!"],
  ["==", "=="],
  ["=", "="],
  [">", ">"],
  ["in", "in"],
  ["<", "<"],
  ["!=", "!="],
  ["notin", "notin"],
  ["(", "("],
]);

/** The binary operators in upstream's order, for "expected: ..." messages. */
const BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt";

const isWhitespace = (ch: string) => ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
const isSpecialSymbol = (ch: string) => ch === "=" || ch === "!" || ch === "(" || ch === ")" || ch === "," || ch === ">" || ch === "<";

/** Upstream `Lexer`: identifiers and keywords, and greedy special-symbol operators. */
function lex(input: string): Array<[Token, string]> {
  const items: Array<[Token, string]> = [];
  let pos = 0;
  for (;;) {
    while (pos < input.length && isWhitespace(input[pos])) pos++;
    if (pos >= input.length) {
      items.push(["eos", ""]);
      return items;
    }
    if (isSpecialSymbol(input[pos])) {
      let buffer = "";
      let last: [Token, string] | undefined;
      while (pos < input.length && isSpecialSymbol(input[pos])) {
        buffer += input[pos];
        const token = LITERAL_TOKENS.get(buffer);
        if (token) {
          last = [token, buffer];
          pos++;
        } else if (last) {
          break;
        } else {
          pos++;
        }
      }
      items.push(last ?? ["error", `error expected: keyword found '${buffer}'`]);
    } else {
      let buffer = "";
      while (pos < input.length && !isSpecialSymbol(input[pos]) && !isWhitespace(input[pos])) buffer += input[pos++];
      const token = LITERAL_TOKENS.get(buffer);
      items.push([token ?? "id", buffer]);
    }
  }
}

/** Upstream `Parser` over the scanned items; `in`/`notin` read as identifiers in value position. */
class Parser {
  private position = 0;

  constructor(private readonly items: Array<[Token, string]>) {}

  lookahead(values: boolean): [Token, string] {
    const [tok, lit] = this.items[this.position];
    return [values && (tok === "in" || tok === "notin") ? "id" : tok, lit];
  }

  consume(values: boolean): [Token, string] {
    const item = this.lookahead(values);
    this.position++;
    return item;
  }

  parse(): Requirement[] {
    const requirements: Requirement[] = [];
    for (;;) {
      const [tok, lit] = this.lookahead(true);
      if (tok === "id" || tok === "!") {
        let r: Requirement;
        try {
          r = this.parseRequirement();
        } catch (err) {
          throw new Error(`unable to parse requirement: ${(err as Error).message}`);
        }
        requirements.push(r);
        const [t, l] = this.consume(true);
        if (t === "eos") return requirements;
        if (t === ",") {
          const [t2, l2] = this.lookahead(true);
          if (t2 !== "id" && t2 !== "!") throw new Error(`found '${l2}', expected: identifier after ','`);
        } else {
          throw new Error(`found '${l}', expected: ',' or 'end of string'`);
        }
      } else if (tok === "eos") {
        return requirements;
      } else {
        throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): Requirement {
    const [key, inferred] = this.parseKeyAndInferOperator();
    if (inferred === "exists" || inferred === "!") return newRequirement(key, inferred, []);
    const operator = this.parseOperator();
    const values = operator === "in" || operator === "notin" ? this.parseValues() : this.parseExactValue();
    // sets.String.List(): sorted, without duplicates.
    return newRequirement(key, operator, [...values].sort());
  }

  private parseKeyAndInferOperator(): [string, SelectorOperator | undefined] {
    let operator: SelectorOperator | undefined;
    let [tok, literal] = this.consume(true);
    if (tok === "!") {
      operator = "!";
      [tok, literal] = this.consume(true);
    }
    if (tok !== "id") throw new Error(`found '${literal}', expected: identifier`);
    const keyErrs = isQualifiedName(literal);
    // The parser validates the key without a field path: field.Path(nil).String() is "<nil>".
    if (keyErrs.length) throw new Error(invalidValue("<nil>", goQuote(literal), keyErrs.join("; ")));
    const [next] = this.lookahead(true);
    if ((next === "eos" || next === ",") && operator !== "!") operator = "exists";
    return [literal, operator];
  }

  private parseOperator(): SelectorOperator {
    const [tok, lit] = this.consume(false);
    switch (tok) {
      case "in":
        return "in";
      case "=":
        return "=";
      case "==":
        return "==";
      case ">":
        return "gt";
      case "<":
        return "lt";
      case "notin":
        return "notin";
      case "!=":
        return "!=";
      default:
        throw new Error(`found '${lit}', expected: ${BINARY_OPERATORS}`);
    }
  }

  private parseValues(): Set<string> {
    let [tok, lit] = this.consume(true);
    if (tok !== "(") throw new Error(`found '${lit}' expected: '('`);
    [tok, lit] = this.lookahead(true);
    if (tok === "id" || tok === ",") {
      const values = this.parseIdentifiersList();
      // Upstream reports the literal seen before the list, not the one that is not ')'.
      if (this.consume(true)[0] !== ")") throw new Error(`found '${lit}', expected: ')'`);
      return values;
    }
    if (tok === ")") {
      this.consume(true);
      return new Set([""]);
    }
    throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): Set<string> {
    const values = new Set<string>();
    for (;;) {
      const [tok, lit] = this.consume(true);
      if (tok === "id") {
        values.add(lit);
        const [tok2, lit2] = this.lookahead(true);
        if (tok2 === ",") continue;
        if (tok2 === ")") return values;
        throw new Error(`found '${lit2}', expected: ',' or ')'`);
      }
      if (tok === ",") {
        if (values.size === 0) values.add(""); // "(," holds an empty value
        const [tok2] = this.lookahead(true);
        if (tok2 === ")") {
          values.add(""); // ",)" too
          return values;
        }
        if (tok2 === ",") values.add(""); // and ",,"
        continue;
      }
      throw new Error(`found '${lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const [ahead] = this.lookahead(true);
    if (ahead === "eos" || ahead === ",") return new Set([""]);
    const [tok, lit] = this.consume(true);
    if (tok === "id") return new Set([lit]);
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

/** `NewRequirement`: validated, or an Error carrying the aggregated field errors. */
function newRequirement(key: string, operator: SelectorOperator, values: string[] | null): Requirement {
  const errs = validateRequirement(key, operator, values);
  if (errs.length) throw new Error(aggregate(errs));
  return { key, operator, values: values ?? [] };
}

/**
 * Parses the label selector syntax (`labels.Parse`): `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
 * `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by `,` (AND). The empty string selects
 * everything. Throws a 400 BadRequest ApiError with upstream's message, e.g.
 * `unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt`.
 */
export function parseSelector(text: string): Selector {
  let requirements: Requirement[];
  try {
    requirements = new Parser(lex(text)).parse();
  } catch (err) {
    throw selectorError((err as Error).message);
  }
  return compile(requirements);
}

/** A selector matching exactly the given labels (`labels.SelectorFromSet`); empty selects everything. Not validated. */
export function selectorFromSet(set: Labels | undefined | null): Selector {
  if (!set) return EVERYTHING;
  return compile(Object.entries(set).map(([key, value]) => ({ key, operator: "=" as const, values: [value] })));
}

const EXPRESSION_OPERATORS: ReadonlyMap<string, SelectorOperator> = new Map<string, SelectorOperator>([
  ["In", "in"],
  ["NotIn", "notin"],
  ["Exists", "exists"],
  ["DoesNotExist", "!"],
]);

/**
 * Compiles a `LabelSelector` object as `metav1.LabelSelectorAsSelector` does: null or
 * undefined matches nothing, an empty selector matches everything, matchLabels become `key=value`
 * and matchExpressions In/NotIn/Exists/DoesNotExist. Throws a 400 BadRequest ApiError for an
 * unknown operator (`"Foo" is not a valid label selector operator`) or an invalid key or value.
 */
export function labelSelectorAsSelector(selector: LabelSelector | null | undefined): Selector {
  if (selector === null || selector === undefined) return NOTHING;
  const matchLabels = selector.matchLabels ?? {};
  const matchExpressions = selector.matchExpressions ?? [];
  const labelKeys = Object.keys(matchLabels);
  if (labelKeys.length + matchExpressions.length === 0) return EVERYTHING;
  const requirements: Requirement[] = [];
  try {
    for (const key of labelKeys) requirements.push(newRequirement(key, "=", [matchLabels[key]]));
    for (const expr of matchExpressions) {
      const operator = EXPRESSION_OPERATORS.get(expr.operator);
      if (!operator) throw new Error(`${goQuote(String(expr.operator))} is not a valid label selector operator`);
      // append([]string(nil), expr.Values...) is nil when there are no values.
      const values = expr.values && expr.values.length > 0 ? [...expr.values] : null;
      requirements.push(newRequirement(expr.key, operator, values));
    }
  } catch (err) {
    throw selectorError((err as Error).message);
  }
  return compile(requirements);
}

/**
 * Canonical string of a selector (upstream `String()`): requirements sorted by key, `in`/`notin`
 * values sorted. A LabelSelector object is compiled first; null and empty selectors give "".
 */
export function selectorToString(selector: Selector | LabelSelector | null | undefined): string {
  if (selector === null || selector === undefined) return "";
  if (isCompiled(selector)) return selector.toString();
  return labelSelectorAsSelector(selector).toString();
}

function isCompiled(value: Selector | LabelSelector): value is Selector {
  return typeof (value as Selector).matches === "function";
}

/** True when `labels` match the selector (a string, a LabelSelector object or a compiled selector). */
export function matchesLabels(selector: string | Selector | LabelSelector | null | undefined, labels: Labels | undefined | null): boolean {
  if (typeof selector === "string") return parseSelector(selector).matches(labels);
  if (selector === null || selector === undefined) return false;
  return (isCompiled(selector) ? selector : labelSelectorAsSelector(selector)).matches(labels);
}

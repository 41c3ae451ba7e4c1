/**
 * YAML parsing for the manifest loader, configured to read what kubectl reads.
 *
 * kubectl decodes manifests with sigs.k8s.io/yaml, which parses with go-yaml v2: YAML 1.1
 * scalars, so unquoted `on`/`off`/`yes`/`no`/`y`/`n` are booleans, `0755` is octal (493),
 * `1_000` is 1000 and `0x1F` is hex (go-yaml v2 `resolve.go` hands plain numbers, with `_`
 * removed, to Go's `strconv.ParseInt(s, 0, 64)`). It departs from the YAML 1.1 type
 * repository in two ways that the `yaml` package's 1.1 schema does not: no base-60 numbers
 * (`22:22` stays a string; "purposefully not supported", go-yaml README), and timestamps
 * decoded into an untyped value stay strings ("for backward compatibility", go-yaml v2
 * `decode.go`). Go's ParseInt also reads `0o17`, `0X1F` and `0B101`. The schema below is the
 * `yaml` package's 1.1 schema adjusted for those points. `<<` merge keys are on, as in go-yaml.
 *
 * The lexer and CST parser are driven by hand so that the nesting depth and the document count
 * are checked while parsing, before the composer runs: the composer and `toJS` recurse, and
 * 200,000 nested `- ` (a 400 KB file) make the composer run Node out of memory; unchecked, even
 * the CST of a 5 MiB file of nested brackets takes seconds and gigabytes.
 */
import { Composer, Lexer, LineCounter, Parser, type CST, type Document, type ScalarTag, type Tags } from "yaml";

/** Resource limits applied while parsing one file. */
export interface YamlLimits {
  /** Most YAML documents in one file. */
  readonly maxDocuments: number;
  /** Most alias expansions per document (the `yaml` package's `maxAliasCount`, billion-laughs protection). */
  readonly maxAliasCount: number;
  /** Deepest nesting of mappings and sequences. */
  readonly maxDepth: number;
}

/** A limit hit while parsing: where, and which one. */
export interface YamlLimitHit {
  /** Offset in the text where the limit was passed. */
  readonly offset: number;
  readonly limit: "maxDocuments" | "maxDepth";
}

/** The result of parsing one file. */
export interface ParsedStream {
  /** Every document up to the first limit hit, in order (including empty ones). */
  readonly docs: Document.Parsed[];
  /** Maps offsets to 1-based line and column. */
  readonly lineCounter: LineCounter;
  /** Set when a limit stopped the parse; documents after it were not read. */
  readonly limitHit?: YamlLimitHit;
}

const TIMESTAMP = "tag:yaml.org,2002:timestamp";

/** Integers Go's `strconv.ParseInt(s, 0, 64)` reads that the 1.1 schema does not: `0o17`, `0O17`, `0X1F`, `0B101`. */
const goPrefixedInt: ScalarTag = {
  identify: (value) => typeof value === "number" && Number.isInteger(value),
  default: true,
  tag: "tag:yaml.org,2002:int",
  test: /^[-+]?0(?:[oO][0-7_]+|X[0-9a-fA-F_]+|B[01_]+)$/,
  resolve(source) {
    const negative = source.startsWith("-");
    const body = source.replace(/^[-+]/, "").replace(/_/g, "");
    const radix = { o: 8, O: 8, X: 16, B: 2 }[body[1]] ?? 10;
    const value = parseInt(body.slice(2), radix);
    return negative ? -value : value;
  },
};

/** The 1.1 tags as go-yaml v2 resolves untyped values: no base-60 numbers, no timestamps, Go's prefixed integers. */
function goYamlV2Tags(tags: Tags): Tags {
  return [...tags.filter((t) => typeof t !== "object" || (t.tag !== TIMESTAMP && t.format !== "TIME")), goPrefixedInt];
}

const YAML_OPTIONS = {
  version: "1.1",
  merge: true,
  customTags: goYamlV2Tags,
  // Duplicate keys are found by the loader, which reports both places.
  uniqueKeys: false,
  // Problems are reported through the document's errors and warnings, never printed.
  logLevel: "error",
} as const;

const JSON_OPTIONS = { version: "1.2", schema: "json", uniqueKeys: false, logLevel: "error" } as const;

/** Offset of the collection at depth `max + 1` on the parser's stack, or undefined when the stack is not that deep. */
function tooDeep(stack: readonly CST.Token[], max: number): number | undefined {
  let depth = 0;
  for (const token of stack) {
    if (token.type === "block-map" || token.type === "block-seq" || token.type === "flow-collection") {
      depth++;
      if (depth > max) return token.offset;
    }
  }
  return undefined;
}

/**
 * Parses a file into YAML documents, with kubectl's YAML 1.1 reading (or as JSON when `json`),
 * stopping at the first document past `maxDocuments` and at the first collection nested deeper
 * than `maxDepth`. The depth is watched on the parser's own stack after every token, so a
 * hostile file is stopped as soon as it goes too deep, before it costs memory.
 */
export function parseStream(text: string, json: boolean, limits: YamlLimits): ParsedStream {
  const lineCounter = new LineCounter();
  const parser = new Parser(lineCounter.addNewLine);
  const composer = new Composer(json ? JSON_OPTIONS : YAML_OPTIONS);
  let limitHit: YamlLimitHit | undefined;
  let documents = 0;
  // Returns false to stop: the document is one too many.
  const admit = (token: CST.Token): boolean => {
    if (token.type !== "document") return true;
    documents++;
    if (documents <= limits.maxDocuments) return true;
    // At the document's content rather than its `---` line, like every other position.
    limitHit = { offset: token.value?.offset ?? token.offset, limit: "maxDocuments" };
    return false;
  };
  // Parser.parse() drives the lexer the same way; done by hand to check the depth between tokens.
  function* tokens(): Generator<CST.Token> {
    lineCounter.addNewLine(0);
    for (const lexeme of new Lexer().lex(text)) {
      for (const token of parser.next(lexeme)) {
        if (!admit(token)) return;
        yield token;
      }
      if (parser.stack.length > limits.maxDepth) {
        const deep = tooDeep(parser.stack, limits.maxDepth);
        if (deep !== undefined) {
          limitHit = { offset: deep, limit: "maxDepth" };
          return;
        }
      }
    }
    for (const token of parser.end()) {
      if (!admit(token)) return;
      yield token;
    }
  }
  const docs = Array.from(composer.compose(tokens())) as Document.Parsed[];
  return { docs, lineCounter, ...(limitHit ? { limitHit } : {}) };
}

import { describe, expect, it } from "vitest";
import {
  everything,
  isQualifiedName,
  isValidLabelValue,
  labelSelectorAsSelector,
  matchesLabels,
  nothing,
  parseSelector,
  selectorFromSet,
  selectorToString,
} from "../../src/api/labels.js";
import { ApiError } from "../../src/api/errors.js";

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

const KEY_REGEX_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

describe("parseSelector matching", () => {
  const web = { app: "web", tier: "frontend", env: "prod", replicas: "3" };
  const db = { app: "db", tier: "backend" };
  const bare = {};
  // [selector, matches web, matches db, matches bare]
  const cases: Array<[string, boolean, boolean, boolean]> = [
    ["", true, true, true],
    ["app=web", true, false, false],
    ["app==web", true, false, false],
    ["app!=web", false, true, true],
    ["app in (web,db)", true, true, false],
    ["app notin (web)", false, true, true],
    ["env", true, false, false],
    ["!env", false, true, true],
    ["app=web,tier=frontend", true, false, false],
    ["app=web,tier=backend", false, false, false],
    ["  app = web ,  tier in ( frontend , backend )  ", true, false, false],
    ["replicas>2", true, false, false],
    ["replicas<3", false, false, false],
    ["tier in (frontend,,backend),app", true, true, false],
    ["env notin ()", true, true, true],
    ["app in (in)", false, false, false],
    ["app=", false, false, false],
  ];

  it.each(cases)("%j", (text, w, d, b) => {
    const selector = parseSelector(text);
    expect([selector.matches(web), selector.matches(db), selector.matches(bare)]).toEqual([w, d, b]);
  });

  it("treats missing labels as an empty set", () => {
    expect(parseSelector("!app").matches(undefined)).toBe(true);
    expect(parseSelector("app").matches(null)).toBe(false);
  });

  it("does not see Object.prototype members as labels", () => {
    expect(parseSelector("constructor").matches({})).toBe(false);
    expect(parseSelector("!toString").matches({})).toBe(true);
  });
});

describe("selectorToString", () => {
  it("prints requirements sorted by key and set values sorted, as upstream String()", () => {
    expect(parseSelector("tier in (web,api), app = x, !gone, env").toString()).toBe("app=x,env,!gone,tier in (api,web)");
    expect(parseSelector("b!=1,a==2,c notin (z,y)").toString()).toBe("a==2,b!=1,c notin (y,z)");
    expect(selectorToString(parseSelector(""))).toBe("");
  });

  it("prints LabelSelector objects canonically", () => {
    expect(
      selectorToString({ matchLabels: { tier: "fe", app: "web" }, matchExpressions: [{ key: "env", operator: "In", values: ["prod", "dev"] }] }),
    ).toBe("app=web,env in (dev,prod),tier=fe");
    expect(selectorToString({ matchExpressions: [{ key: "canary", operator: "DoesNotExist" }, { key: "app", operator: "Exists" }] })).toBe("app,!canary");
    expect(selectorToString(null)).toBe("");
    expect(selectorToString({})).toBe("");
  });

  it("round-trips through parseSelector", () => {
    const text = "app=web,env in (dev,prod),!legacy,tier";
    expect(parseSelector(parseSelector(text).toString()).toString()).toBe(parseSelector(text).toString());
  });
});

describe("parse errors carry upstream's messages", () => {
  const cases: Array<[string, string]> = [
    ["app web", "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"],
    ["app=web,", "found '', expected: identifier after ','"],
    ["app=web tier", "found 'tier', expected: ',' or 'end of string'"],
    ["app in web", "unable to parse requirement: found 'web' expected: '('"],
    ["app in (web", "unable to parse requirement: found '', expected: ',' or ')'"],
    ["app in (web db)", "unable to parse requirement: found 'db', expected: ',' or ')'"],
    ["app in =", "unable to parse requirement: found '=' expected: '('"],
    ["app in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"],
    ["=web", "found '=', expected: !, identifier, or 'end of string'"],
    ["app=web=x", "found '=', expected: ',' or 'end of string'"],
    ["!app=web", "found '=', expected: ',' or 'end of string'"],
    ["app=(x)", "unable to parse requirement: found '(', expected: identifier"],
    ["-app=web", `unable to parse requirement: <nil>: Invalid value: "-app": name part ${KEY_REGEX_MSG}`],
    ["app=-web", `unable to parse requirement: values[0][app]: Invalid value: "-web": ${VALUE_REGEX_MSG}`],
    ["count>x", `unable to parse requirement: values[0]: Invalid value: "x": for 'Gt', 'Lt' operators, the value must be an integer`],
  ];

  it.each(cases)("%j", (text, message) => {
    const err = apiError(() => parseSelector(text));
    expect(err.code).toBe(400);
    expect(err.reason).toBe("BadRequest");
    expect(err.message).toBe(message);
  });
});

describe("labelSelectorAsSelector", () => {
  it("null matches nothing, empty matches everything", () => {
    expect(labelSelectorAsSelector(null).matches({ a: "b" })).toBe(false);
    expect(labelSelectorAsSelector(undefined).matchesNothing).toBe(true);
    expect(labelSelectorAsSelector({}).matches({})).toBe(true);
    expect(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }).empty()).toBe(true);
    expect(nothing().matches({})).toBe(false);
    expect(everything().matches(undefined)).toBe(true);
  });

  it("ANDs matchLabels and matchExpressions", () => {
    const selector = labelSelectorAsSelector({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "env", operator: "In", values: ["prod", "staging"] },
        { key: "track", operator: "NotIn", values: ["canary"] },
        { key: "tier", operator: "Exists" },
        { key: "legacy", operator: "DoesNotExist" },
      ],
    });
    expect(selector.matches({ app: "web", env: "prod", tier: "fe" })).toBe(true);
    expect(selector.matches({ app: "web", env: "prod", tier: "fe", track: "canary" })).toBe(false);
    expect(selector.matches({ app: "web", env: "dev", tier: "fe" })).toBe(false);
    expect(selector.matches({ app: "web", env: "prod" })).toBe(false);
    expect(selector.matches({ app: "web", env: "prod", tier: "fe", legacy: "" })).toBe(false);
    expect(matchesLabels({ matchLabels: { app: "web" } }, { app: "web" })).toBe(true);
    expect(matchesLabels("app=db", { app: "web" })).toBe(false);
  });

  it("rejects unknown operators and malformed requirements with upstream's messages", () => {
    expect(apiError(() => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "Equals", values: ["x"] }] })).message).toBe(
      '"Equals" is not a valid label selector operator',
    );
    expect(apiError(() => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "In" }] })).message).toBe(
      "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty",
    );
    expect(apiError(() => labelSelectorAsSelector({ matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] })).message).toBe(
      'values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist',
    );
    expect(apiError(() => labelSelectorAsSelector({ matchLabels: { "bad key": "x" } })).message).toBe(`key: Invalid value: "bad key": name part ${KEY_REGEX_MSG}`);
    expect(apiError(() => labelSelectorAsSelector({ matchExpressions: [{ key: "", operator: "In", values: [] }] })).message).toBe(
      `[key: Invalid value: "": name part must be non-empty; name part ${KEY_REGEX_MSG}, values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty]`,
    );
  });
});

describe("selectorFromSet", () => {
  it("selects exactly the set; an empty set selects everything", () => {
    const selector = selectorFromSet({ app: "web", tier: "fe" });
    expect(selector.toString()).toBe("app=web,tier=fe");
    expect(selector.matches({ app: "web", tier: "fe", extra: "1" })).toBe(true);
    expect(selector.matches({ app: "web" })).toBe(false);
    expect(selectorFromSet({}).matches({})).toBe(true);
  });
});

describe("key and value validation", () => {
  it("accepts qualified names with an optional DNS subdomain prefix", () => {
    for (const key of ["app", "app.kubernetes.io/name", "a", "A-b_c.d", "example.com/MyName", "x".repeat(63)]) expect(isQualifiedName(key), key).toEqual([]);
  });

  it("explains invalid keys as upstream IsQualifiedName does (Kubernetes 1.32 wording)", () => {
    expect(isQualifiedName("a/b/c")).toEqual([
      `a qualified name ${KEY_REGEX_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ]);
    expect(isQualifiedName("/app")).toEqual(["prefix part must be non-empty"]);
    expect(isQualifiedName("Example.com/app")).toEqual([
      "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    ]);
    expect(isQualifiedName("x".repeat(64))).toEqual(["name part must be no more than 63 characters"]);
    expect(isQualifiedName("example.com/")).toEqual(["name part must be non-empty", `name part ${KEY_REGEX_MSG}`]);
  });

  it("explains invalid values as upstream IsLabelValue does", () => {
    expect(isValidLabelValue("")).toEqual([]);
    expect(isValidLabelValue("v1.2_3-x")).toEqual([]);
    expect(isValidLabelValue("x".repeat(64))).toEqual(["must be no more than 63 characters"]);
    expect(isValidLabelValue("has space")).toEqual([VALUE_REGEX_MSG]);
  });
});

describe("compiled selectors are fast enough for controllers", () => {
  it("matches many label sets without reparsing", () => {
    const selector = parseSelector("app=web,tier in (fe,be),!legacy");
    const sets = Array.from({ length: 20000 }, (_, i) => ({ app: i % 2 ? "web" : "db", tier: i % 3 ? "fe" : "ops" }));
    let matched = 0;
    for (const labels of sets) if (selector.matches(labels)) matched++;
    // Odd i (web) and i not divisible by 3 (fe).
    expect(matched).toBe(sets.filter((_, i) => i % 2 === 1 && i % 3 !== 0).length);
  });
});

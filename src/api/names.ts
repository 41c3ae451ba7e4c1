/**
 * Name and label syntax rules, worded exactly like apimachinery's
 * `k8s.io/apimachinery/pkg/util/validation/validation.go` and `pkg/api/validation/generic.go`.
 *
 * Every `is*` function returns the list of problems (empty when valid), as upstream does, so
 * callers can turn each message into an `Invalid value` cause for the field at fault.
 */

const DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+";
const CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const PERCENT_FMT = "[0-9]+%";
const PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'";
const HTTP_HEADER_FMT = "[-A-Za-z0-9]+";
const HTTP_HEADER_ERR = "a valid HTTP header must consist of alphanumeric characters or '-'";

const dns1123LabelRe = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const dns1123SubdomainRe = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const dns1035LabelRe = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const qualifiedNameRe = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const labelValueRe = new RegExp(`^${LABEL_VALUE_FMT}$`);
const configMapKeyRe = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`);
const percentRe = new RegExp(`^${PERCENT_FMT}$`);
const httpHeaderRe = new RegExp(`^${HTTP_HEADER_FMT}$`);

/** Byte length of a string as Go's `len()` counts it (UTF-8 bytes). */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** `must be no more than N characters` (upstream `MaxLenError`). */
export function maxLenError(n: number): string {
  return `must be no more than ${n} characters`;
}

/** Upstream `RegexError`: the human rule, examples, and the regex used. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  // Go's RegexError appends "', " after every example, which gives its familiar ",  or " spacing.
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(" or ")}regex used for validation is '${fmt}')`;
}

/** `must be between LO and HI, inclusive` (upstream `InclusiveRangeError`). */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/** RFC 1123 label (container names, volume names, namespace names, hostnames). */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(maxLenError(63));
  if (!dns1123LabelRe.test(value)) {
    // A valid subdomain that is not a valid label can only be failing because of dots.
    if (dns1123SubdomainRe.test(value)) errs.push("must not contain dots");
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, "my-name", "123-abc"));
  }
  return errs;
}

/** RFC 1123 subdomain (most object names). */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 253) errs.push(maxLenError(253));
  if (!dns1123SubdomainRe.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, "example.com"));
  return errs;
}

/** RFC 1035 label (Service names: they become DNS names and environment variable prefixes). */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(maxLenError(63));
  if (!dns1035LabelRe.test(value)) errs.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, "my-name", "abc-123"));
  return errs;
}

/** A "qualified name": label keys, annotation keys, finalizers: `[prefix/]name`. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split("/");
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push("prefix part must be non-empty");
    else for (const m of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${m}`);
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ];
  }
  if (name.length === 0) errs.push("name part must be non-empty");
  else if (byteLength(name) > 63) errs.push(`name part ${maxLenError(63)}`);
  if (!qualifiedNameRe.test(name)) errs.push(`name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")}`);
  return errs;
}

/** A label value: empty, or up to 63 characters of `[A-Za-z0-9_.-]` starting and ending alphanumeric. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push(maxLenError(63));
  if (!labelValueRe.test(value)) errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, "MyValue", "my_value", "12345"));
  return errs;
}

/** A ConfigMap or Secret data key. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > 253) errs.push(maxLenError(253));
  if (!configMapKeyRe.test(value)) errs.push(regexError(CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"));
  if (value === ".") errs.push("must not be '.'");
  else if (value === "..") errs.push("must not be '..'");
  else if (value.startsWith("..")) errs.push("must not start with '..'");
  return errs;
}

/** A named port (IANA service name syntax, lower case only). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)");
  if (!/[a-z]/.test(port)) errs.push("must contain at least one letter (a-z)");
  if (port.includes("--")) errs.push("must not contain consecutive hyphens");
  if (port.length > 0 && (port.startsWith("-") || port.endsWith("-"))) errs.push("must not begin or end with a hyphen");
  return errs;
}

/** A port number: 1..65535. */
export function isValidPortNum(port: number): string[] {
  return port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** A percentage string like `25%`. */
export function isValidPercent(value: string): string[] {
  return percentRe.test(value) ? [] : [regexError(PERCENT_ERR, PERCENT_FMT, "1%", "93%")];
}

/** An HTTP header name. */
export function isHTTPHeaderName(value: string): string[] {
  return httpHeaderRe.test(value) ? [] : [regexError(HTTP_HEADER_ERR, HTTP_HEADER_FMT, "X-Header-Name")];
}

/**
 * Environment variable name under the RelaxedEnvironmentVariableValidation rules (beta and on by
 * default in Kubernetes 1.32): any printable ASCII except `=`.
 */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push("environment variable name must be non-empty");
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c > 0x7e || c < 0x20 || ch === "=") {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

/** A name that is used as a URL path segment (RBAC kinds): no `/`, no `%`, not `.` or `..`. */
export function isValidPathSegmentName(name: string): string[] {
  const errs: string[] = [];
  if (name === "." || name === "..") errs.push(`may not be '${name}'`);
  for (const bad of ["/", "%"]) if (name.includes(bad)) errs.push(`may not contain '${bad}'`);
  return errs;
}

/**
 * A name validator as upstream's `ValidateNameFunc`: `prefix` is true when the value is a
 * `generateName` prefix, whose trailing dash is allowed because random characters follow it.
 */
export type NameValidator = (name: string, prefix: boolean) => string[];

function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith("-") ? name.slice(0, -1) + "a" : name;
}

/** `NameIsDNSSubdomain`. */
export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
/** `NameIsDNSLabel`. */
export const nameIsDNSLabel: NameValidator = (name, prefix) => isDNS1123Label(prefix ? maskTrailingDash(name) : name);
/** `NameIsDNS1035Label`. */
export const nameIsDNS1035Label: NameValidator = (name, prefix) => isDNS1035Label(prefix ? maskTrailingDash(name) : name);
/** `path.IsValidPathSegmentName` (RBAC names). */
export const nameIsPathSegment: NameValidator = (name) => isValidPathSegmentName(name);

/**
 * The name rule each kind uses (`ValidateXName` in upstream `pkg/apis/<group>/validation`):
 * Namespace names are DNS-1123 labels, Service names DNS-1035 labels (they become DNS names and
 * environment variable prefixes), RBAC names path segments, everything else DNS-1123 subdomains.
 */
export function nameValidatorFor(group: string, kind: string): NameValidator {
  if (group === "" && kind === "Namespace") return nameIsDNSLabel;
  if (group === "" && kind === "Service") return nameIsDNS1035Label;
  if (group === "rbac.authorization.k8s.io") return nameIsPathSegment;
  return nameIsDNSSubdomain;
}

/**
 * Label and field selectors as the API server applies them to lists and watches, and the
 * selector string of the scale subresource.
 */
import { parseFieldSelector } from "../fields.js";
import type { KindInfo } from "../kinds.js";
import { labelSelectorAsSelector, parseSelector, selectorFromSet } from "../labels.js";
import type { KubeObject } from "../types.js";

/** A predicate over objects. */
export type ObjectMatcher = (obj: Readonly<KubeObject>) => boolean;

/** Compiles a label selector string (400 BadRequest when malformed). */
export function compileLabelSelector(text: string): ObjectMatcher {
  const selector = parseSelector(text);
  return (obj) => selector.matches(obj.metadata.labels);
}

/** Compiles a field selector string for a kind (400 BadRequest for an unsupported field). */
export function compileFieldSelector(info: KindInfo, text: string): ObjectMatcher {
  const selector = parseFieldSelector(info.kind, text, info.apiVersion);
  return (obj) => selector.matches(obj as KubeObject);
}

/**
 * `status.selector` of the Scale subresource: the workload's selector in string form
 * (`metav1.FormatLabelSelector`); ReplicationControllers have a plain map selector.
 */
export function scaleSelectorString(info: KindInfo, obj: Readonly<KubeObject>): string {
  const selector = obj.spec?.selector;
  if (!selector) return "";
  if (info.kind === "ReplicationController") return selectorFromSet(selector).toString();
  return labelSelectorAsSelector(selector).toString();
}

/**
 * Label and field selectors as the API server applies them to lists and watches, and the
 * selector string of the scale subresource.
 */
import { fieldGetter, parseFieldSelector } from "../fields.js";
import type { KindInfo } from "../kinds.js";
import { labelSelectorAsSelector, parseSelector, selectorFromSet } from "../labels.js";
import type { StoreTriggerIndex, StoreWatchTrigger } from "../store/store.js";
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

/** Pods by `spec.nodeName`, read as the field selector reads it (pods without a node have ""). */
let podNodeNameIndex: StoreTriggerIndex | undefined;

/**
 * The store trigger of a watch, when its field selector pins a value the store indexes: pods
 * with `spec.nodeName=<node>`, as the kube-apiserver's cacher indexes pod watchers with
 * `NodeNameTriggerFunc` (`pkg/registry/core/pod/storage/storage.go`), so each kubelet's watch is
 * only offered the events of its own node's pods instead of every pod event in the cluster.
 */
export function watchTrigger(info: KindInfo, fieldSelector: string | undefined): StoreWatchTrigger | undefined {
  if (!fieldSelector || info.group !== "" || info.kind !== "Pod") return undefined;
  const selector = parseFieldSelector(info.kind, fieldSelector, info.apiVersion);
  const pinned = selector.requirements.find((r) => r.field === "spec.nodeName" && r.operator === "=");
  if (!pinned) return undefined;
  podNodeNameIndex ??= { name: "spec.nodeName", of: fieldGetter(info.kind, "spec.nodeName", info.apiVersion)! as (obj: Readonly<KubeObject>) => string };
  return { index: podNodeNameIndex, value: pinned.value };
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

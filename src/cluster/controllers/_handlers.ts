/**
 * The event-handler plumbing the Deployment and ReplicaSet controllers share. Upstream writes it
 * once per controller (`resolveControllerRef`, `getDeploymentsForReplicaSet` in
 * `pkg/controller/deployment`, `resolveControllerRef`, `getPodReplicaSets` in
 * `pkg/controller/replicaset`): the same lookups over another kind. Here it is written once.
 *
 * - Handlers run inside the API server's commit path: they must never throw, and do nothing
 *   once their controller stopped.
 * - A child's event wakes its controller: the one its controllerRef names (when it is still that
 *   object), or, for an orphan, every controller whose selector matches its labels.
 * - Selectors are compiled once per spec object: handlers run on every pod event, and cached
 *   objects are frozen, so a spec object never changes under its compiled selector.
 */
import type { Informer, InformerHandlers } from "../../api/informer.js";
import type { Selector } from "../../api/labels.js";
import type { KubeObject } from "../../api/types.js";
import { errorMessage } from "./_controller-ref.js";

/**
 * Wraps informer handlers so that they do nothing once `stopped()` is true and never throw: an
 * error is logged (`event handler failed: ...`) instead. Handlers not given stay absent (an
 * informer replays its cache only to an `add` handler).
 */
export function guardedHandlers<T extends KubeObject>(handlers: InformerHandlers<T>, stopped: () => boolean, log: (message: string) => void): InformerHandlers<T> {
  const guard = (fn: () => void): void => {
    if (stopped()) return;
    try {
      fn();
    } catch (err) {
      log(`event handler failed: ${errorMessage(err)}`);
    }
  };
  const out: InformerHandlers<T> = {};
  const { add, update, delete: del } = handlers;
  if (add) out.add = (obj) => guard(() => add(obj));
  if (update) out.update = (old, cur) => guard(() => update(old, cur));
  if (del) out.delete = (obj) => guard(() => del(obj));
  return out;
}

const selectorCache = new WeakMap<object, Selector>();

/**
 * The selector `build` compiles for an object whose spec is `spec`, compiled once per spec object
 * (a missing or non-object spec is compiled every time). `build` throws for an invalid selector,
 * and so does this, every time it is asked.
 */
export function cachedSelector(spec: unknown, build: () => Selector): Selector {
  if (!spec || typeof spec !== "object") return build();
  let s = selectorCache.get(spec);
  if (!s) selectorCache.set(spec, (s = build()));
  return s;
}

/** The controllers of one kind in their informer, as their children's event handlers look them up. */
export class ControllerLookup {
  /**
   * @param informer the controllers' informer
   * @param kind the controllers' kind, as a controllerRef names it
   * @param selectorOf a controller's compiled selector (throws for an invalid one)
   */
  constructor(
    private readonly informer: Informer,
    private readonly kind: string,
    private readonly selectorOf: (controller: KubeObject) => Selector,
  ) {}

  /** `resolveControllerRef`: the controller a controllerRef names, if it is of this kind and still that object (same UID). */
  resolve(namespace: string | undefined, ref: { kind: string; name: string; uid: string }): KubeObject | undefined {
    if (ref.kind !== this.kind) return undefined;
    const controller = this.informer.get(namespace, ref.name);
    if (!controller || controller.metadata.uid !== ref.uid) return undefined;
    return controller;
  }

  /**
   * The controllers of the child's namespace whose selector matches its labels
   * (`GetDeploymentsForReplicaSet`, `getPodReplicaSets`). A child without labels matches none; a
   * nil, empty or invalid selector matches nothing here, not everything. More than one is a user
   * error the caller reports.
   */
  selecting(child: KubeObject): KubeObject[] {
    const labels = child.metadata.labels;
    if (!labels || Object.keys(labels).length === 0) return [];
    const out: KubeObject[] = [];
    for (const controller of this.informer.list(child.metadata.namespace ?? "")) {
      let selector: Selector;
      try {
        selector = this.selectorOf(controller);
      } catch {
        continue;
      }
      if (selector.empty() || selector.matchesNothing || !selector.matches(labels)) continue;
      out.push(controller);
    }
    return out;
  }
}

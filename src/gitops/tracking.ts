/**
 * Ownership tracking: every object the reconciler applies carries the annotation
 * `kubelings.dev/tracking-id: <repo-id>:<group>/<kind>:<namespace>/<name>`, modelled on Argo CD's
 * annotation tracking method (`argocd.argoproj.io/tracking-id: <app>:<group>/<kind>:<ns>/<name>`,
 * `argoproj/argo-cd:util/argo/resource_tracking.go` BuildAppInstanceValue/ParseAppInstanceValue).
 *
 * Prune deletes an object only when it carries this annotation for THIS repository AND the
 * identity inside the annotation is the object itself: a controller or a person that copies an
 * object (annotations included) into a new name must not get the copy pruned. Argo CD checks
 * the same (`isSelfReferencedObj` in `controller/state.go`) after users lost objects that way
 * (argo-cd #15472, gitops-anchors.md §4.8). Labels are not used: they are copied far more often
 * (pod templates, selectors) and limited to 63 characters.
 */
import { createHash } from "node:crypto";
import { basename, resolve } from "node:path";
import { splitApiVersion } from "../api/kinds.js";
import type { KubeObject } from "../api/types.js";

/** The tracking annotation's key. */
export const TRACKING_ANNOTATION = "kubelings.dev/tracking-id";

/** A parsed tracking id. */
export interface TrackingId {
  /** The repository that applied the object (see `repoId`). */
  readonly repoId: string;
  /** API group of the object ("" for the core group). */
  readonly group: string;
  /** Kind of the object. */
  readonly kind: string;
  /** Namespace of the object ("" for cluster-scoped objects). */
  readonly namespace: string;
  /** Name of the object. */
  readonly name: string;
}

/**
 * A stable id for a repository: `name` if given (sanitised), else the directory's base name and a
 * short hash of its absolute path (`cluster-repo-3f9a1c2b`), so two clones in different places
 * never prune each other's objects. The id contains no `:` (the tracking id's separator).
 * Moving the repository changes the id; objects applied from the old place are then no longer
 * pruned by it (the safe direction).
 */
export function repoId(repoDir: string, name?: string): string {
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  if (name !== undefined) {
    const n = clean(name);
    if (!n) throw new Error(`repoId: name ${JSON.stringify(name)} has no usable characters; use letters, digits, '.', '_' or '-'`);
    return n;
  }
  const abs = resolve(repoDir);
  const hash = createHash("sha256").update(abs).digest("hex").slice(0, 8);
  const base = clean(basename(abs)) || "repo";
  return `${base}-${hash}`;
}

/** The tracking id of an object applied from `repo`: `<repo>:<group>/<kind>:<namespace>/<name>`. */
export function trackingIdOf(obj: KubeObject, repo: string): string {
  if (repo.includes(":")) throw new Error(`tracking: repository id ${JSON.stringify(repo)} must not contain ':' (use repoId())`);
  const { group } = splitApiVersion(obj.apiVersion ?? "");
  const name = obj.metadata?.name;
  if (!name) throw new Error(`tracking: ${obj.kind ?? "object"} has no metadata.name; every object in git needs a name`);
  return `${repo}:${group}/${obj.kind}:${obj.metadata?.namespace ?? ""}/${name}`;
}

/** A copy of `obj` carrying the tracking annotation for `repo` (any older value replaced). */
export function addTracking(obj: KubeObject, repo: string): KubeObject {
  const id = trackingIdOf(obj, repo);
  return { ...obj, metadata: { ...obj.metadata, annotations: { ...(obj.metadata?.annotations ?? {}), [TRACKING_ANNOTATION]: id } } };
}

/**
 * Parses a tracking id string (`<repo>:<group>/<kind>:<namespace>/<name>`), or undefined when it is
 * not in that form (as Argo CD's ParseAppInstanceValue refuses a malformed value).
 */
export function parseTrackingId(value: string): TrackingId | undefined {
  const first = value.indexOf(":");
  if (first <= 0) return undefined;
  const second = value.indexOf(":", first + 1);
  if (second < 0) return undefined;
  const gk = value.slice(first + 1, second).split("/");
  const nn = value.slice(second + 1).split("/");
  if (gk.length !== 2 || nn.length !== 2 || !gk[1] || !nn[1]) return undefined;
  return { repoId: value.slice(0, first), group: gk[0], kind: gk[1], namespace: nn[0], name: nn[1] };
}

/** The object's tracking id, or undefined when it has none or it is malformed. */
export function parseTracking(obj: KubeObject | undefined): TrackingId | undefined {
  const value = obj?.metadata?.annotations?.[TRACKING_ANNOTATION];
  return typeof value === "string" ? parseTrackingId(value) : undefined;
}

/**
 * True when `obj` was applied from `repo` and is the object its annotation names (same group,
 * kind, name, and namespace, or a cluster-scoped object): only such objects may be pruned.
 */
export function isTrackedBy(obj: KubeObject, repo: string): boolean {
  const t = parseTracking(obj);
  if (!t || t.repoId !== repo) return false;
  const namespace = obj.metadata?.namespace ?? "";
  return (
    t.kind === obj.kind &&
    t.group === splitApiVersion(obj.apiVersion ?? "").group &&
    t.name === obj.metadata?.name &&
    (namespace === "" || t.namespace === namespace)
  );
}

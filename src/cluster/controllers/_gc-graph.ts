/**
 * The garbage collector's dependency graph (upstream `pkg/controller/garbagecollector/graph.go`
 * and `graph_builder.go`): one node per object uid, with the owner references the object carries
 * and the set of nodes that name it as an owner. Owners that were referenced but never observed
 * are "virtual" nodes until an informer event shows them or the API server confirms they are
 * absent.
 *
 * The builder turns informer events into graph changes and tells the collector which nodes to
 * look at (`attemptToDelete`) and which owners want their dependents orphaned
 * (`attemptToOrphan`). It never talks to the API server itself: verification is the collector's
 * job, as upstream.
 */
import type { KubeObject, OwnerReference } from "../../api/types.js";

/** Finalizer of foreground deletion (`metav1.FinalizerDeleteDependents`). */
export const FOREGROUND_FINALIZER = "foregroundDeletion";
/** Finalizer of orphan deletion (`metav1.FinalizerOrphanDependents`). */
export const ORPHAN_FINALIZER = "orphan";

/** Who an object is: the coordinates of an owner reference plus its namespace ("" when cluster-scoped or unknown). */
export interface Identity {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
}

/** `[apps/v1/ReplicaSet, namespace: default, name: web-1, uid: ...]`, upstream `objectReference.String()`. */
export function formatIdentity(id: Identity): string {
  return `[${id.apiVersion}/${id.kind}, namespace: ${id.namespace}, name: ${id.name}, uid: ${id.uid}]`;
}

/** True when both identities name the same coordinates and namespace. */
export function sameIdentity(a: Identity, b: Identity): boolean {
  return a.uid === b.uid && a.name === b.name && a.kind === b.kind && a.apiVersion === b.apiVersion && a.namespace === b.namespace;
}

/** The coordinate part of a reference: uid, name, kind, apiVersion (`ownerReferenceCoordinates`). */
export function refMatchesCoordinates(ref: OwnerReference, id: Pick<Identity, "uid" | "name" | "kind" | "apiVersion">): boolean {
  return ref.uid === id.uid && ref.name === id.name && ref.kind === id.kind && ref.apiVersion === id.apiVersion;
}

/** One object (or a referenced owner not yet seen) in the graph. */
export class GraphNode {
  /** Nodes whose ownerReferences name this node's uid. */
  readonly dependents = new Set<GraphNode>();

  constructor(
    public identity: Identity,
    /** The object's ownerReferences as last observed. */
    public owners: readonly OwnerReference[],
    /** True until an informer shows the object (it was only referenced as an owner so far). */
    public virtual: boolean,
    /** deletionTimestamp set and the `foregroundDeletion` finalizer present. */
    public deletingDependents = false,
    /** deletionTimestamp set: a one-way trip to final deletion. */
    public beingDeleted = false,
  ) {}

  /**
   * Dependents that hold this node's deletion back: those whose reference to it has
   * `blockOwnerDeletion: true` (upstream `node.blockingDependents`).
   */
  blockingDependents(): GraphNode[] {
    const out: GraphNode[] = [];
    for (const dep of this.dependents) {
      if (dep.owners.some((o) => o.uid === this.identity.uid && o.blockOwnerDeletion === true)) out.push(dep);
    }
    return out;
  }
}

/**
 * Owners the API server confirmed absent (upstream `ReferenceCache`, an LRU of 500 entries), so
 * that a hundred pods of one deleted ReplicaSet cost one lookup, not a hundred.
 */
export class AbsentOwnerCache {
  private readonly entries = new Map<string, true>();

  constructor(private readonly capacity = 500) {}

  /** Remembers an absent owner. */
  add(id: Identity): void {
    const key = cacheKey(id);
    this.entries.delete(key);
    this.entries.set(key, true);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** True when the owner was confirmed absent (and refreshes its place in the LRU). */
  has(id: Identity): boolean {
    const key = cacheKey(id);
    if (!this.entries.has(key)) return false;
    this.entries.delete(key);
    this.entries.set(key, true);
    return true;
  }
}

function cacheKey(id: Identity): string {
  return `${id.apiVersion}\u0000${id.kind}\u0000${id.namespace}\u0000${id.name}\u0000${id.uid}`;
}

/** An informer event (or a virtual delete the collector produced) as the builder sees it. */
export interface GraphEvent {
  readonly type: "add" | "update" | "delete";
  /** apiVersion and kind of the informer that saw it. */
  readonly apiVersion: string;
  readonly kind: string;
  readonly obj: Pick<KubeObject, "metadata">;
  /** The previous state, for updates. */
  readonly oldObj?: Pick<KubeObject, "metadata">;
  /** True for a delete the collector derived from the API server saying the object is gone. */
  readonly virtual?: boolean;
}

/** Where the builder sends its decisions. */
export interface GraphSink {
  /** Look at this node: it may be garbage, or its foreground deletion may be able to finish. */
  attemptToDelete(node: GraphNode): void;
  /** As `attemptToDelete`, after the queue's back-off (used for re-checking a replaced virtual node). */
  attemptToDeleteRateLimited(node: GraphNode): void;
  /** This owner is being deleted with the orphan policy: release its dependents. */
  attemptToOrphan(node: GraphNode): void;
  /** `dependent` names owner `ownerUid`, which lives in another namespace (`OwnerRefInvalidNamespace`). */
  reportInvalidNamespaceOwnerRef(dependent: GraphNode, ownerUid: string): void;
  /** A notable decision, for the log. */
  log(message: string): void;
}

/** Builds and maintains the dependency graph from events (upstream `GraphBuilder.processGraphChanges`). */
export class GraphBuilder {
  private readonly nodes = new Map<string, GraphNode>();
  /** Owners confirmed absent, shared with the collector. */
  readonly absentOwners = new AbsentOwnerCache();

  constructor(private readonly sink: GraphSink) {}

  /** The node for a uid. */
  node(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** Number of nodes (virtual ones included). */
  get size(): number {
    return this.nodes.size;
  }

  /** The collector verified through the API server that `id` does not exist: drop it from the graph. */
  virtualDelete(id: Identity): void {
    this.process({
      type: "delete",
      virtual: true,
      apiVersion: id.apiVersion,
      kind: id.kind,
      obj: { metadata: { name: id.name, namespace: id.namespace || undefined, uid: id.uid } },
    });
  }

  /** Applies one event to the graph. */
  process(event: GraphEvent): void {
    const meta = event.obj.metadata;
    const uid = meta.uid;
    if (!uid) return;
    const observed = identityFromEvent(event);
    let existing = this.nodes.get(uid);

    if (existing && !event.virtual && existing.virtual) {
      // First informer sight of a node that was only referenced so far.
      if (!sameIdentity(observed, existing.identity)) {
        // Dependents that referenced it by other coordinates may hold invalid references: re-check them.
        const [, nonMatching] = partitionDependents([...existing.dependents], observed);
        for (const dep of nonMatching) {
          if (observed.namespace !== "" && dep.identity.namespace !== observed.namespace) {
            this.sink.log(`${formatIdentity(dep.identity)} references an owner in another namespace: ${formatIdentity(observed)}`);
            this.sink.reportInvalidNamespaceOwnerRef(dep, observed.uid);
          }
          this.sink.attemptToDelete(dep);
        }
        existing.identity = observed;
      }
      existing.virtual = false;
    }

    if ((event.type === "add" || event.type === "update") && !existing) {
      const node = new GraphNode(observed, ownerRefsOf(event.obj), false, deletingDependents(event.obj), beingDeleted(event.obj));
      this.nodes.set(uid, node);
      this.addDependentToOwners(node, node.owners);
      this.processTransitions(event.oldObj, event.obj, node);
      return;
    }

    if ((event.type === "add" || event.type === "update") && existing) {
      if (!event.virtual && (existing.identity.apiVersion !== event.apiVersion || existing.identity.kind !== event.kind)) {
        existing.identity = { ...existing.identity, apiVersion: event.apiVersion, kind: event.kind };
      }
      const next = ownerRefsOf(event.obj);
      const { added, removed, changed } = referencesDiffs(existing.owners, next);
      if (added.length || removed.length || changed.length) {
        // An owner waiting for this dependent (foreground) may be unblocked now.
        this.addUnblockedOwnersToDeleteQueue(removed, changed);
        existing.owners = next;
        this.addDependentToOwners(existing, added);
        this.removeDependentFromOwners(existing, removed);
      }
      if (beingDeleted(event.obj)) existing.beingDeleted = true;
      this.processTransitions(event.oldObj, event.obj, existing);
      return;
    }

    // delete
    if (!existing) return;
    let removeExisting = true;
    if (event.virtual) {
      const deleted = observed;
      if (existing.virtual) {
        // We are not sure of a virtual node's coordinates: dependents may disagree on them.
        const [matching, nonMatching] = partitionDependents([...existing.dependents], deleted);
        if (nonMatching.length > 0) {
          removeExisting = false;
          if (matching.length > 0) {
            this.absentOwners.add(deleted);
            for (const dep of matching) this.sink.attemptToDelete(dep);
          }
          if (sameIdentity(existing.identity, deleted)) {
            const alternate = alternateOwnerIdentity(nonMatching, deleted);
            if (alternate) {
              existing.identity = alternate;
              this.sink.attemptToDeleteRateLimited(existing);
            }
          }
        }
      } else if (!sameIdentity(existing.identity, deleted)) {
        // An observed object disagrees with the coordinates verified absent: keep it, re-check those dependents.
        removeExisting = false;
        const [matching] = partitionDependents([...existing.dependents], deleted);
        if (matching.length > 0) {
          this.absentOwners.add(deleted);
          for (const dep of matching) this.sink.attemptToDelete(dep);
        }
      }
    }
    if (!removeExisting) return;
    this.nodes.delete(uid);
    this.removeDependentFromOwners(existing, existing.owners);
    if (existing.dependents.size > 0) this.absentOwners.add(observed);
    for (const dep of existing.dependents) this.sink.attemptToDelete(dep);
    for (const ref of existing.owners) {
      const owner = this.nodes.get(ref.uid);
      // An owner in foreground deletion may be able to finish now that this dependent is gone.
      if (owner?.deletingDependents) this.sink.attemptToDelete(owner);
    }
  }

  /**
   * Adds `node` to its owners' dependents, creating virtual owners for uids never seen (and
   * asking the collector to verify them), and flags references that cannot be right.
   */
  private addDependentToOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    let potentiallyInvalid = false;
    for (const ref of owners) {
      let owner = this.nodes.get(ref.uid);
      const known = owner !== undefined;
      if (!owner) {
        owner = new GraphNode(
          { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: node.identity.namespace },
          [],
          true,
        );
        this.nodes.set(ref.uid, owner);
      }
      owner.dependents.add(node);
      if (!known) {
        // The collector asks the API server whether this owner exists.
        this.sink.attemptToDelete(owner);
        continue;
      }
      if (potentiallyInvalid) continue;
      const ownerNamespaced = owner.identity.namespace !== "";
      if (ownerNamespaced && owner.identity.namespace !== node.identity.namespace) {
        if (!owner.virtual) {
          // A namespaced owner must live in its dependent's namespace.
          this.sink.log(`${formatIdentity(node.identity)} references an owner in another namespace: ${formatIdentity(owner.identity)}`);
          this.sink.reportInvalidNamespaceOwnerRef(node, ref.uid);
        }
        potentiallyInvalid = true;
      } else if (!refMatchesCoordinates(ref, owner.identity)) {
        potentiallyInvalid = true;
      } else if (!ownerNamespaced && owner.identity.namespace !== node.identity.namespace && owner.virtual) {
        // A cluster-scoped, virtual owner: it may be a namespaced kind wrongly referenced (kubernetes#98040).
        potentiallyInvalid = true;
      }
    }
    if (potentiallyInvalid) this.sink.attemptToDelete(node);
  }

  private removeDependentFromOwners(node: GraphNode, owners: readonly OwnerReference[]): void {
    for (const ref of owners) this.nodes.get(ref.uid)?.dependents.delete(node);
  }

  /** A blocking reference removed or made non-blocking may let a foreground deletion finish. */
  private addUnblockedOwnersToDeleteQueue(removed: OwnerReference[], changed: Array<[OwnerReference, OwnerReference]>): void {
    for (const ref of removed) {
      if (ref.blockOwnerDeletion !== true) continue;
      const owner = this.nodes.get(ref.uid);
      if (owner) this.sink.attemptToDelete(owner);
    }
    for (const [before, after] of changed) {
      if (before.blockOwnerDeletion === true && after.blockOwnerDeletion !== true) {
        const owner = this.nodes.get(after.uid);
        if (owner) this.sink.attemptToDelete(owner);
      }
    }
  }

  /** Deletion with the orphan or foreground finalizer just started: hand the node to the right worker. */
  private processTransitions(oldObj: Pick<KubeObject, "metadata"> | undefined, obj: Pick<KubeObject, "metadata">, node: GraphNode): void {
    if (deletionStartsWith(oldObj, obj, ORPHAN_FINALIZER)) {
      this.sink.attemptToOrphan(node);
      return;
    }
    if (deletionStartsWith(oldObj, obj, FOREGROUND_FINALIZER)) {
      node.deletingDependents = true;
      for (const dep of node.dependents) this.sink.attemptToDelete(dep);
      this.sink.attemptToDelete(node);
    }
  }
}

function identityFromEvent(event: GraphEvent): Identity {
  const m = event.obj.metadata;
  return { apiVersion: event.apiVersion, kind: event.kind, name: m.name ?? "", uid: m.uid ?? "", namespace: m.namespace ?? "" };
}

function ownerRefsOf(obj: Pick<KubeObject, "metadata">): readonly OwnerReference[] {
  return obj.metadata.ownerReferences ?? [];
}

function beingDeleted(obj: Pick<KubeObject, "metadata">): boolean {
  return typeof obj.metadata.deletionTimestamp === "string" && obj.metadata.deletionTimestamp !== "";
}

function hasFinalizer(obj: Pick<KubeObject, "metadata">, finalizer: string): boolean {
  return (obj.metadata.finalizers ?? []).includes(finalizer);
}

function deletingDependents(obj: Pick<KubeObject, "metadata">): boolean {
  return beingDeleted(obj) && hasFinalizer(obj, FOREGROUND_FINALIZER);
}

/** True when `obj` is being deleted with `finalizer` and `oldObj` was not (`deletionStartsWithFinalizer`). */
function deletionStartsWith(oldObj: Pick<KubeObject, "metadata"> | undefined, obj: Pick<KubeObject, "metadata">, finalizer: string): boolean {
  if (!beingDeleted(obj) || !hasFinalizer(obj, finalizer)) return false;
  if (!oldObj) return true;
  return !beingDeleted(oldObj) || !hasFinalizer(oldObj, finalizer);
}

/** Owner references added, removed and changed between two lists, matched by uid (`referencesDiffs`). */
export function referencesDiffs(
  before: readonly OwnerReference[],
  after: readonly OwnerReference[],
): { added: OwnerReference[]; removed: OwnerReference[]; changed: Array<[OwnerReference, OwnerReference]> } {
  const old = new Map(before.map((r) => [r.uid, r] as const));
  const added: OwnerReference[] = [];
  const changed: Array<[OwnerReference, OwnerReference]> = [];
  for (const ref of after) {
    const prev = old.get(ref.uid);
    if (!prev) added.push(ref);
    else {
      if (JSON.stringify(prev) !== JSON.stringify(ref)) changed.push([prev, ref]);
      old.delete(ref.uid);
    }
  }
  return { added, removed: [...old.values()], changed };
}

/**
 * Splits dependents into those whose reference to `owner.uid` matches the owner's coordinates and
 * namespace, and those that reference that uid some other way (`partitionDependents`). A
 * dependent can land in both.
 */
export function partitionDependents(dependents: GraphNode[], owner: Identity): [GraphNode[], GraphNode[]] {
  const matching: GraphNode[] = [];
  const nonMatching: GraphNode[] = [];
  const ownerNamespaced = owner.namespace !== "";
  for (const dep of dependents) {
    let match = false;
    let mismatch = false;
    if (ownerNamespaced && owner.namespace !== dep.identity.namespace) mismatch = true;
    else {
      for (const ref of dep.owners) {
        if (ref.uid !== owner.uid) continue;
        if (refMatchesCoordinates(ref, owner)) match = true;
        else mismatch = true;
      }
    }
    if (match) matching.push(dep);
    if (mismatch) nonMatching.push(dep);
  }
  return [matching, nonMatching];
}

/** Ordering of identities: kind, apiVersion, namespace, name, uid (`referenceLessThan`). */
function lessThan(a: Identity, b: Identity): boolean {
  if (a.kind !== b.kind) return a.kind < b.kind;
  if (a.apiVersion !== b.apiVersion) return a.apiVersion < b.apiVersion;
  if (a.namespace !== b.namespace) return a.namespace < b.namespace;
  if (a.name !== b.name) return a.name < b.name;
  return a.uid < b.uid;
}

/**
 * Another identity dependents use for an owner uid once `absent` was verified absent: the first
 * one following it in `lessThan` order, else the first overall (`getAlternateOwnerIdentity`).
 */
export function alternateOwnerIdentity(dependents: GraphNode[], absent: Identity): Identity | undefined {
  const absentClusterScoped = absent.namespace === "";
  const seen = new Set<string>([cacheKey(absent)]);
  let first: Identity | undefined;
  let firstFollowing: Identity | undefined;
  for (const dep of dependents) {
    for (const ref of dep.owners) {
      if (ref.uid !== absent.uid) continue;
      if (refMatchesCoordinates(ref, absent) && (absentClusterScoped || absent.namespace === dep.identity.namespace)) continue;
      let candidate: Identity = { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, uid: ref.uid, namespace: dep.identity.namespace };
      if (absentClusterScoped && candidate.apiVersion === absent.apiVersion && candidate.kind === absent.kind) {
        // That apiVersion/kind is known to be cluster-scoped.
        candidate = { ...candidate, namespace: "" };
      }
      const key = cacheKey(candidate);
      if (seen.has(key)) continue;
      seen.add(key);
      if (!first || lessThan(candidate, first)) first = candidate;
      if (lessThan(absent, candidate) && (!firstFollowing || lessThan(candidate, firstFollowing))) firstFollowing = candidate;
    }
  }
  return firstFollowing ?? first;
}

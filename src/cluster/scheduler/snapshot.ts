/**
 * The scheduler's view of the cluster (upstream scheduler cache + `Snapshot`): one NodeInfo per
 * node with the pods bound (or assumed) to it, kept up to date incrementally from watch events.
 *
 * Beyond what upstream keeps, the snapshot maintains two indexes so that one scheduling attempt
 * costs a pass over typed arrays rather than over every pod in the cluster:
 * - pod-count indexes: for a given pod predicate (a spread selector, an affinity term), the number
 *   of matching bound pods per node, updated on every pod add/remove (least-recently-used ones are
 *   dropped, and rebuilt on demand);
 * - topology tables: for a given label key (zone, hostname, ...), the interned value of each node.
 *
 * Nodes are listed in upstream `nodeTree` order: zones round-robin, so that a scheduler that stops
 * after finding enough feasible nodes still looks at every zone.
 *
 * It also holds what the default spreading and namespace selectors need (Services, ReplicaSets,
 * StatefulSets, ReplicationControllers, Namespaces) and the pods nominated to nodes by preemption.
 * The lead's controller feeds it from informers; nothing here talks to the API.
 */

import type { KubeObject } from "../../api/types.js";
import { andSelectors, compileLabelSelector, EVERYTHING, selectorFromSet, type Selector } from "./_selector.js";
import { NodeInfo } from "./nodeinfo.js";
import { PodInfo } from "./podinfo.js";

/** Well-known node label: the node's hostname (`v1.LabelHostname`). */
export const LABEL_HOSTNAME = "kubernetes.io/hostname";
/** Well-known node label: the zone (`v1.LabelTopologyZone`). */
export const LABEL_ZONE = "topology.kubernetes.io/zone";
/** Well-known node label: the region (`v1.LabelTopologyRegion`). */
export const LABEL_REGION = "topology.kubernetes.io/region";
const LABEL_ZONE_BETA = "failure-domain.beta.kubernetes.io/zone";
const LABEL_REGION_BETA = "failure-domain.beta.kubernetes.io/region";

/** Most pod-count indexes kept at once; older ones are dropped and rebuilt when needed again. */
const MAX_INDEXES = 64;

/** Interned values of one label key across nodes. */
export interface TopologyTable {
  /** slot -> value id, -1 when the node lacks the label. */
  readonly ids: Int32Array;
  /** value id -> label value. */
  readonly values: readonly string[];
  /** value -> value id. */
  readonly valueIds: ReadonlyMap<string, number>;
}

interface MutableTopologyTable {
  readonly key: string;
  ids: Int32Array;
  values: string[];
  valueIds: Map<string, number>;
  /** Live nodes that lack the key. */
  missing: number;
}

interface CountIndex {
  readonly key: string;
  readonly match: (p: PodInfo) => boolean;
  readonly includeTerminating: boolean;
  counts: Int32Array;
  /** topology key -> matching pods per domain on live nodes, indexed by value id + 1 (0: nodes lacking the key). */
  readonly byDomain: Map<string, Float64Array>;
  lastUsed: number;
}

/** `utilnode.GetZoneKey`: region and zone (GA labels, falling back to the beta ones), "" when neither is set. */
export function zoneKey(labels: Readonly<Record<string, string>>): string {
  const zone = labels[LABEL_ZONE] ?? labels[LABEL_ZONE_BETA] ?? "";
  const region = labels[LABEL_REGION] ?? labels[LABEL_REGION_BETA] ?? "";
  if (region === "" && zone === "") return "";
  return `${region}:\u0000:${zone}`;
}

/** The pod's controller owner reference (`metav1.GetControllerOf`). */
function controllerOf(pod: KubeObject): { apiVersion: string; kind: string; name: string } | undefined {
  for (const ref of pod.metadata?.ownerReferences ?? []) if (ref.controller === true) return ref;
  return undefined;
}

function podKeyOf(pod: KubeObject | string): string {
  if (typeof pod === "string") return pod;
  const meta = pod.metadata ?? {};
  return meta.uid ? String(meta.uid) : `${meta.namespace ?? "default"}/${meta.name ?? ""}`;
}

/** The scheduler cache. */
export class Snapshot {
  private readonly byName = new Map<string, NodeInfo>();
  private slots: (NodeInfo | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  private capacity = 64;
  private readonly zones = new Map<string, NodeInfo[]>();
  private readonly zoneOrder: string[] = [];
  private list: NodeInfo[] = [];
  private listDirty = false;
  private liveNodes = 0;
  private tainted = new Set<NodeInfo>();
  private cordoned = new Set<NodeInfo>();
  private readonly pods = new Map<string, PodInfo>();
  private readonly imageNodeCounts = new Map<string, number>();
  private readonly withAffinity = new Set<NodeInfo>();
  private readonly withRequiredAntiAffinity = new Set<NodeInfo>();
  private readonly namespaces = new Map<string, Readonly<Record<string, string>>>();
  private readonly services = new Map<string, Map<string, Record<string, string>>>();
  private readonly controllers = new Map<string, { kind: string; selector: Selector; set?: Record<string, string> }>();
  private readonly fallbackSelectors = new Map<string, Selector>();
  private readonly nominated = new Map<string, { info: PodInfo; node: string }>();
  private readonly nominatedByNode = new Map<string, PodInfo[]>();
  private readonly indexes = new Set<CountIndex>();
  private readonly indexesL = new Map<string, CountIndex>();
  private readonly indexesT = new Map<string, CountIndex>();
  private useClock = 0;
  private readonly tables = new Map<string, MutableTopologyTable>();

  // ---- nodes ---------------------------------------------------------------------------

  /** Number of nodes (ghost entries for deleted nodes excluded). */
  get numNodes(): number {
    return this.liveNodes;
  }

  /** Nodes with a NoSchedule or NoExecute taint. */
  get numTaintedNodes(): number {
    return this.tainted.size;
  }

  /** Cordoned nodes (`spec.unschedulable`). */
  get numUnschedulableNodes(): number {
    return this.cordoned.size;
  }

  /** Pods nominated to some node by preemption. */
  get numNominatedPods(): number {
    return this.nominated.size;
  }

  /** Highest slot in use + 1: the length to loop over per-slot arrays. */
  get slotCount(): number {
    return this.slots.length;
  }

  /** The NodeInfo in a slot, undefined when free; ghost entries have `node === null`. */
  slotNode(slot: number): NodeInfo | undefined {
    return this.slots[slot];
  }

  /** Nodes in nodeTree order (zones round-robin). The array is shared: do not change it. */
  nodeInfos(): readonly NodeInfo[] {
    if (this.listDirty) this.rebuildList();
    return this.list;
  }

  /** A node by name (undefined for unknown and deleted nodes). */
  get(name: string): NodeInfo | undefined {
    const ni = this.byName.get(name);
    return ni && ni.node ? ni : undefined;
  }

  /** Adds a node, or updates it when already known. Throws, naming the field, on a malformed allocatable quantity. */
  addNode(node: KubeObject): void {
    const name = node?.metadata?.name;
    if (!name) throw new Error("snapshot.addNode: node.metadata.name is required");
    let ni = this.byName.get(name);
    const wasLive = !!ni?.node;
    const oldZone = wasLive ? zoneKey(ni!.labels) : undefined;
    const oldImages = wasLive ? [...ni!.imageSizes.keys()] : [];
    if (!ni) {
      ni = new NodeInfo(name);
      ni.slot = this.allocSlot(ni);
      this.byName.set(name, ni);
    }
    ni.setNode(node);
    if (ni.taints.some((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")) this.tainted.add(ni);
    else this.tainted.delete(ni);
    if (ni.unschedulable) this.cordoned.add(ni);
    else this.cordoned.delete(ni);
    for (const img of oldImages) this.bumpImage(img, -1);
    for (const img of ni.imageSizes.keys()) this.bumpImage(img, 1);
    const newZone = zoneKey(ni.labels);
    if (!wasLive) {
      this.liveNodes++;
      this.treeAdd(ni, newZone);
    } else if (oldZone !== newZone) {
      this.treeRemove(ni, oldZone!);
      this.treeAdd(ni, newZone);
    }
    for (const table of this.tables.values()) {
      const slot = ni.slot;
      const before = wasLive ? table.ids[slot] : -2;
      this.setTableValue(table, slot, ni.labels[table.key]);
      const after = table.ids[slot];
      if (before === after) continue;
      if (before === -1) table.missing--;
      if (after === -1) table.missing++;
      this.moveDomain(table, slot, before, after);
    }
  }

  /** Moves a node's matching-pod counts between domain buckets (-2: not live, -1: label absent). */
  private moveDomain(table: MutableTopologyTable, slot: number, before: number, after: number): void {
    for (const idx of this.indexes.values()) {
      const agg = idx.byDomain.get(table.key);
      const c = idx.counts[slot];
      if (!agg || c === 0) continue;
      if (before >= -1) agg[before + 1] -= c;
      if (after >= -1) this.domainArray(idx, table)[after + 1] += c;
    }
  }

  private domainArray(idx: CountIndex, table: MutableTopologyTable): Float64Array {
    let agg = idx.byDomain.get(table.key)!;
    if (agg.length < table.values.length + 1) {
      const grown = new Float64Array(Math.max(table.values.length + 1, agg.length * 2));
      grown.set(agg);
      idx.byDomain.set(table.key, (agg = grown));
    }
    return agg;
  }

  /** Same as {@link addNode} for a known node: labels, taints, allocatable, images and cordon are re-read. */
  updateNode(node: KubeObject): void {
    this.addNode(node);
  }

  /**
   * Removes a node. Pods still bound to it stay accounted on a ghost entry (as the upstream cache
   * keeps them) until they are removed, and re-attach if the node comes back.
   */
  removeNode(node: KubeObject | string): void {
    const name = typeof node === "string" ? node : node?.metadata?.name;
    const ni = name ? this.byName.get(name) : undefined;
    if (!ni || !ni.node) return;
    for (const img of ni.imageSizes.keys()) this.bumpImage(img, -1);
    this.treeRemove(ni, zoneKey(ni.labels));
    this.tainted.delete(ni);
    this.cordoned.delete(ni);
    ni.node = null;
    this.liveNodes--;
    for (const table of this.tables.values()) {
      const before = table.ids[ni.slot];
      if (before === -1) table.missing--;
      this.moveDomain(table, ni.slot, before, -2);
      table.ids[ni.slot] = -1;
    }
    if (ni.pods.length === 0) this.dropNodeInfo(ni);
  }

  private dropNodeInfo(ni: NodeInfo): void {
    this.byName.delete(ni.name);
    this.slots[ni.slot] = undefined;
    this.freeSlots.push(ni.slot);
    for (const idx of this.indexes.values()) idx.counts[ni.slot] = 0;
    this.withAffinity.delete(ni);
    this.withRequiredAntiAffinity.delete(ni);
  }

  private allocSlot(ni: NodeInfo): number {
    let slot = this.freeSlots.pop();
    if (slot === undefined) {
      slot = this.slots.length;
      this.slots.push(ni);
      if (this.slots.length > this.capacity) this.grow();
    } else {
      this.slots[slot] = ni;
    }
    for (const table of this.tables.values()) table.ids[slot] = -1;
    for (const idx of this.indexes.values()) idx.counts[slot] = 0;
    return slot;
  }

  private grow(): void {
    const next = this.capacity * 2;
    for (const table of this.tables.values()) {
      const ids = new Int32Array(next).fill(-1);
      ids.set(table.ids);
      table.ids = ids;
    }
    for (const idx of this.indexes.values()) {
      const counts = new Int32Array(next);
      counts.set(idx.counts);
      idx.counts = counts;
    }
    this.capacity = next;
  }

  private treeAdd(ni: NodeInfo, zone: string): void {
    let nodes = this.zones.get(zone);
    if (!nodes) {
      nodes = [];
      this.zones.set(zone, nodes);
      this.zoneOrder.push(zone);
    }
    nodes.push(ni);
    this.listDirty = true;
  }

  private treeRemove(ni: NodeInfo, zone: string): void {
    const nodes = this.zones.get(zone);
    if (!nodes) return;
    const i = nodes.indexOf(ni);
    if (i >= 0) nodes.splice(i, 1);
    if (nodes.length === 0) {
      this.zones.delete(zone);
      this.zoneOrder.splice(this.zoneOrder.indexOf(zone), 1);
    }
    this.listDirty = true;
  }

  /** `nodeTree.list()`: one node from each zone in turn until every zone is exhausted. */
  private rebuildList(): void {
    const out: NodeInfo[] = [];
    const zones = this.zoneOrder.map((z) => this.zones.get(z)!);
    let longest = 0;
    for (const nodes of zones) longest = Math.max(longest, nodes.length);
    for (let i = 0; i < longest; i++) {
      for (const nodes of zones) if (i < nodes.length) out.push(nodes[i]);
    }
    this.list = out;
    this.listDirty = false;
  }

  private bumpImage(name: string, delta: number): void {
    const n = (this.imageNodeCounts.get(name) ?? 0) + delta;
    if (n > 0) this.imageNodeCounts.set(name, n);
    else this.imageNodeCounts.delete(name);
  }

  /** How many nodes report an image (`ImageStateSummary.NumNodes`). */
  imageNumNodes(name: string): number {
    return this.imageNodeCounts.get(name) ?? 0;
  }

  // ---- pods ----------------------------------------------------------------------------

  /**
   * Adds a pod bound to a node (`spec.nodeName` set), or replaces the version already known under
   * the same uid (an assumed pod is replaced by the bound one from the watch). Unbound pods are
   * ignored: they belong to the scheduling queue.
   */
  addPod(pod: KubeObject): void {
    const info = new PodInfo(pod);
    if (!info.nodeName) return;
    // A new version that every count index sees alike (a status update: same node, namespace,
    // labels and deletion state on a known node) needs no recount: the -1 and +1 would cancel.
    const prev = this.pods.get(info.key);
    const recount = !(prev && prev.nodeName === info.nodeName && prev.namespace === info.namespace && prev.terminating === info.terminating && this.byName.get(prev.nodeName)?.node && sameLabels(prev.labels, info.labels));
    this.removePodByKey(info.key, recount);
    let ni = this.byName.get(info.nodeName);
    if (!ni) {
      // A pod for a node we have not seen yet: keep it on a ghost entry until the node arrives.
      ni = new NodeInfo(info.nodeName);
      ni.slot = this.allocSlot(ni);
      this.byName.set(info.nodeName, ni);
    }
    this.pods.set(info.key, info);
    ni.addPod(info);
    if (info.hasAffinity) this.withAffinity.add(ni);
    if (info.hasRequiredAntiAffinity) this.withRequiredAntiAffinity.add(ni);
    if (recount) this.countPod(info, ni.slot, 1);
  }

  /** Replaces a pod (relabelled, deletion requested, ...). */
  updatePod(pod: KubeObject): void {
    this.addPod(pod);
  }

  /** Removes a pod by object or key. */
  removePod(pod: KubeObject | string): void {
    this.removePodByKey(podKeyOf(pod), true);
  }

  private removePodByKey(key: string, recount: boolean): void {
    const info = this.pods.get(key);
    if (!info) return;
    this.pods.delete(key);
    const ni = this.byName.get(info.nodeName);
    if (!ni) return;
    ni.removePod(key);
    if (recount) this.countPod(info, ni.slot, -1);
    if (ni.podsWithAffinity.length === 0) this.withAffinity.delete(ni);
    if (ni.podsWithRequiredAntiAffinity.length === 0) this.withRequiredAntiAffinity.delete(ni);
    if (!ni.node && ni.pods.length === 0) this.dropNodeInfo(ni);
  }

  /**
   * Accounts a pod on a node before the binding is confirmed (`cache.AssumePod`), so that the next
   * attempt sees its requests. Returns the assumed copy (with `spec.nodeName`). The watch's bound
   * pod replaces it; {@link forgetPod} undoes it when binding fails.
   */
  assumePod(pod: KubeObject, nodeName: string): KubeObject {
    const assumed: KubeObject = { ...pod, spec: { ...(pod.spec ?? {}), nodeName } };
    this.addPod(assumed);
    return assumed;
  }

  /** Undoes {@link assumePod} (`cache.ForgetPod`). */
  forgetPod(pod: KubeObject | string): void {
    this.removePod(pod);
  }

  /** The bound pod known under a key (uid, or namespace/name when it has none). */
  getPod(key: string): PodInfo | undefined {
    return this.pods.get(key);
  }

  /** Number of bound or assumed pods. */
  get numPods(): number {
    return this.pods.size;
  }

  /** Nodes hosting pods that declare pod (anti-)affinity (`HavePodsWithAffinityList`). */
  havePodsWithAffinity(): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const ni of this.withAffinity) if (ni.node) out.push(ni);
    return out;
  }

  /** Nodes hosting pods with required anti-affinity (`HavePodsWithRequiredAntiAffinityList`). */
  havePodsWithRequiredAntiAffinity(): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const ni of this.withRequiredAntiAffinity) if (ni.node) out.push(ni);
    return out;
  }

  // ---- nominated pods (preemption) -----------------------------------------------------

  /**
   * Records a pending pod nominated to a node (`status.nominatedNodeName`, set after it preempted
   * others): equal- or higher-priority pods nominated there are counted as if running when other
   * pods are filtered against that node (`addGENominatedPods`).
   */
  addNominatedPod(pod: KubeObject, nodeName: string = pod?.status?.nominatedNodeName): void {
    this.removeNominatedPod(pod);
    if (!nodeName) return;
    const info = new PodInfo(pod);
    this.nominated.set(info.key, { info, node: nodeName });
    let list = this.nominatedByNode.get(nodeName);
    if (!list) this.nominatedByNode.set(nodeName, (list = []));
    list.push(info);
  }

  /** Forgets a nomination (the pod was bound, deleted or its nomination cleared). */
  removeNominatedPod(pod: KubeObject | string): void {
    const key = podKeyOf(pod);
    const entry = this.nominated.get(key);
    if (!entry) return;
    this.nominated.delete(key);
    const list = this.nominatedByNode.get(entry.node);
    if (!list) return;
    const i = list.findIndex((p) => p.key === key);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.nominatedByNode.delete(entry.node);
  }

  /** Pods nominated to a node (`NominatedPodsForNode`). */
  nominatedPodsForNode(nodeName: string): readonly PodInfo[] {
    return this.nominatedByNode.get(nodeName) ?? [];
  }

  // ---- namespaces and workloads --------------------------------------------------------

  /** Records a Namespace's labels (for affinity terms with a namespaceSelector). */
  setNamespace(ns: KubeObject): void {
    if (ns?.metadata?.name) this.namespaces.set(ns.metadata.name, ns.metadata.labels ?? {});
  }

  /** Forgets a Namespace. */
  removeNamespace(ns: KubeObject | string): void {
    this.namespaces.delete(typeof ns === "string" ? ns : ns?.metadata?.name ?? "");
  }

  /** Labels of a namespace (undefined when unknown). */
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.namespaces.get(name);
  }

  /** Names of the known namespaces whose labels match a selector. */
  namespacesMatching(selector: Selector): string[] {
    const out: string[] = [];
    for (const [name, labels] of this.namespaces) if (selector.matches(labels)) out.push(name);
    return out;
  }

  /**
   * Records a Service, ReplicationController, ReplicaSet or StatefulSet, whose selectors make the
   * default spreading selector of the pods they match or own (`helper.DefaultSelector`).
   * Other kinds are ignored. Throws, naming the field, on an invalid selector.
   */
  setWorkload(obj: KubeObject): void {
    const ns = obj?.metadata?.namespace ?? "default";
    const name = obj?.metadata?.name ?? "";
    switch (obj?.kind) {
      case "Service": {
        this.fallbackSelectors.clear();
        let byName = this.services.get(ns);
        if (!byName) this.services.set(ns, (byName = new Map()));
        // Services with a nil selector match nothing, not everything (GetPodServices).
        if (obj.spec?.selector) byName.set(name, obj.spec.selector);
        else byName.delete(name);
        break;
      }
      case "ReplicationController": {
        const set: Record<string, string> = obj.spec?.selector ?? obj.spec?.template?.metadata?.labels ?? {};
        this.controllers.set(`ReplicationController/${ns}/${name}`, { kind: obj.kind, selector: selectorFromSet(set), set });
        this.fallbackSelectors.clear();
        break;
      }
      case "ReplicaSet":
      case "StatefulSet":
        this.controllers.set(`${obj.kind}/${ns}/${name}`, {
          kind: obj.kind,
          selector: compileLabelSelector(obj.spec?.selector, `${obj.kind} ${ns}/${name} spec.selector`),
        });
        break;
    }
  }

  /** Forgets a workload recorded with {@link setWorkload}. */
  removeWorkload(obj: KubeObject): void {
    this.fallbackSelectors.clear();
    const ns = obj?.metadata?.namespace ?? "default";
    const name = obj?.metadata?.name ?? "";
    if (obj?.kind === "Service") this.services.get(ns)?.delete(name);
    else this.controllers.delete(`${obj?.kind}/${ns}/${name}`);
  }

  /**
   * The selector system-default spreading uses for a pod (`helper.DefaultSelector`): the selectors
   * of the Services that select it, plus the selector of its controller when that is a
   * ReplicationController, ReplicaSet or StatefulSet. EVERYTHING (no requirements) means "no default
   * spreading".
   *
   * Deviation: when the controller is one of those kinds but the snapshot was not told about it,
   * the pod's own labels stand in for the controller's selector (its siblings carry the same
   * labels, pod-template-hash included), so controller-owned pods spread even before the
   * workload informers are wired.
   */
  defaultSpreadSelector(pod: PodInfo): Selector {
    const set: Record<string, string> = {};
    const services = this.services.get(pod.namespace);
    if (services) {
      for (const selector of services.values()) {
        if (selectorFromSet(selector).matches(pod.labels)) Object.assign(set, selector);
      }
    }
    const owner = controllerOf(pod.pod);
    const base = Object.keys(set).length > 0 ? selectorFromSet(set) : EVERYTHING;
    if (!owner) return base;
    const supported =
      (owner.apiVersion === "v1" && owner.kind === "ReplicationController") ||
      (owner.apiVersion === "apps/v1" && (owner.kind === "ReplicaSet" || owner.kind === "StatefulSet"));
    if (!supported) return base;
    const known = this.controllers.get(`${owner.kind}/${pod.namespace}/${owner.name}`);
    if (known?.set) return base.everything ? known.selector : selectorFromSet({ ...set, ...known.set });
    if (known) return base.everything ? known.selector : andSelectors([base, known.selector]);
    // Unknown owner: the pod's labels stand in for its selector (cached: siblings share them).
    let labelsKey = `${pod.namespace}|${base.key}`;
    for (const k in pod.labels) labelsKey += `|${k}=${pod.labels[k]}`;
    let fallback = this.fallbackSelectors.get(labelsKey);
    if (!fallback) {
      if (this.fallbackSelectors.size > 4096) this.fallbackSelectors.clear();
      fallback = andSelectors([base, selectorFromSet(pod.labels)]);
      this.fallbackSelectors.set(labelsKey, fallback);
    }
    return fallback;
  }

  // ---- indexes -------------------------------------------------------------------------

  /**
   * Per-slot counts of bound pods satisfying `match` (kept current on every pod add/remove).
   * `key` must identify the predicate exactly; terminating pods count only with `includeTerminating`.
   */
  podCounts(key: string, match: (p: PodInfo) => boolean, includeTerminating: boolean): Int32Array {
    return this.index(key, match, includeTerminating).counts;
  }

  /**
   * Matching pods per domain of `topologyKey` over live nodes, indexed by value id + 1 of
   * {@link topology}(topologyKey); element 0 counts the nodes that lack the key. Kept current
   * incrementally like {@link podCounts}.
   */
  podCountsByDomain(key: string, match: (p: PodInfo) => boolean, includeTerminating: boolean, topologyKey: string): Float64Array {
    const idx = this.index(key, match, includeTerminating);
    const table = this.topology(topologyKey) as MutableTopologyTable;
    if (!idx.byDomain.has(topologyKey)) {
      const agg = new Float64Array(table.values.length + 1);
      for (let s = 0; s < this.slots.length; s++) {
        const ni = this.slots[s];
        if (ni && ni.node && idx.counts[s] !== 0) agg[table.ids[s] + 1] += idx.counts[s];
      }
      idx.byDomain.set(topologyKey, agg);
    }
    return this.domainArray(idx, table);
  }

  private index(key: string, match: (p: PodInfo) => boolean, includeTerminating: boolean): CountIndex {
    const byKey = includeTerminating ? this.indexesT : this.indexesL;
    let idx = byKey.get(key);
    if (!idx) {
      if (this.indexes.size >= MAX_INDEXES) this.evictIndex();
      const counts = new Int32Array(this.capacity);
      for (const p of this.pods.values()) {
        if (!includeTerminating && p.terminating) continue;
        if (!match(p)) continue;
        const ni = this.byName.get(p.nodeName);
        if (ni) counts[ni.slot]++;
      }
      idx = { key, match, includeTerminating, counts, byDomain: new Map(), lastUsed: 0 };
      this.indexes.add(idx);
      byKey.set(key, idx);
    }
    idx.lastUsed = ++this.useClock;
    return idx;
  }

  private evictIndex(): void {
    let oldest: CountIndex | undefined;
    for (const idx of this.indexes) if (!oldest || idx.lastUsed < oldest.lastUsed) oldest = idx;
    if (!oldest) return;
    this.indexes.delete(oldest);
    (oldest.includeTerminating ? this.indexesT : this.indexesL).delete(oldest.key);
  }

  private countPod(p: PodInfo, slot: number, delta: 1 | -1): void {
    const live = !!this.slots[slot]?.node;
    for (const idx of this.indexes.values()) {
      if (!idx.includeTerminating && p.terminating) continue;
      if (!idx.match(p)) continue;
      idx.counts[slot] += delta;
      if (!live || idx.byDomain.size === 0) continue;
      for (const key of idx.byDomain.keys()) {
        const table = this.tables.get(key)!;
        this.domainArray(idx, table)[table.ids[slot] + 1] += delta;
      }
    }
  }

  /** Live nodes lacking a label key. */
  nodesMissing(key: string): number {
    return (this.topology(key) as MutableTopologyTable).missing;
  }

  /** The interned values of a node label key per slot (kept current on node changes). */
  topology(key: string): TopologyTable {
    let table = this.tables.get(key);
    if (!table) {
      table = { key, ids: new Int32Array(this.capacity).fill(-1), values: [], valueIds: new Map(), missing: 0 };
      for (let s = 0; s < this.slots.length; s++) {
        const ni = this.slots[s];
        if (ni && ni.node) {
          this.setTableValue(table, s, ni.labels[key]);
          if (table.ids[s] < 0) table.missing++;
        }
      }
      this.tables.set(key, table);
    }
    return table;
  }

  private setTableValue(table: MutableTopologyTable, slot: number, value: string | undefined): void {
    if (value === undefined) {
      table.ids[slot] = -1;
      return;
    }
    let id = table.valueIds.get(value);
    if (id === undefined) {
      id = table.values.length;
      table.values.push(value);
      table.valueIds.set(value, id);
    }
    table.ids[slot] = id;
  }
}

/** Same label map content (the count indexes match on labels). */
function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k] || !Object.prototype.hasOwnProperty.call(b, k)) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

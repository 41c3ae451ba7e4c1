/**
 * A pod as the scheduler needs it, parsed once: requests, host ports, tolerations, images and
 * inter-pod affinity terms (upstream `framework.PodInfo` plus the cached `PodResource`). The
 * snapshot keeps one per bound pod; the framework builds one per scheduling attempt.
 */

import type { KubeObject } from "../../api/types.js";
import { podResources, type Resources } from "./_resources.js";
import { compileLabelSelector, NOTHING, type Selector } from "./_selector.js";

/** A host port a container binds (`ContainerPort` with `hostPort > 0`), sanitised as `HostPortInfo` does. */
export interface HostPort {
  /** Host IP; "" is stored as 0.0.0.0 (all addresses). */
  readonly ip: string;
  /** TCP, UDP or SCTP; "" is stored as TCP. */
  readonly protocol: string;
  readonly port: number;
}

/** A pod toleration (`v1.Toleration`). */
export interface Toleration {
  readonly key?: string;
  readonly operator?: string;
  readonly value?: string;
  readonly effect?: string;
  readonly tolerationSeconds?: number;
}

/** A parsed pod (anti-)affinity term (`fwk.AffinityTerm` / `WeightedAffinityTerm`). */
export interface AffinityTerm {
  /** Namespaces the term applies to; the owning pod's namespace when the term names none and has no namespaceSelector. */
  readonly namespaces: ReadonlySet<string>;
  /** Selects further namespaces by their labels; `NOTHING` when absent. */
  readonly namespaceSelector: Selector;
  /** Selects the pods. */
  readonly selector: Selector;
  readonly topologyKey: string;
  /** Weight for preferred terms; 0 for required ones. */
  readonly weight: number;
  /** Canonical text of namespaces + selectors, equal for equal terms (cache key). */
  readonly key: string;
}

/** `AffinityTerm.Matches`: the pod's namespace is covered (by name or namespace labels) and its labels match. */
export function termMatches(term: AffinityTerm, pod: PodInfo, nsLabels: Readonly<Record<string, string>> | undefined): boolean {
  if (term.namespaces.has(pod.namespace) || term.namespaceSelector.matches(nsLabels)) {
    return term.selector.matches(pod.labels);
  }
  return false;
}

/** Builds the canonical cache key of a term from its parts. */
export function affinityTermKey(namespaces: ReadonlySet<string>, namespaceSelector: Selector, selector: Selector): string {
  return `ns=${[...namespaces].sort().join(",")}|nss=${namespaceSelector.key}|sel=${selector.key}`;
}

function parseTerm(ownerNamespace: string, raw: any, weight: number, field: string): AffinityTerm {
  const selector = compileLabelSelector(raw?.labelSelector, `${field}.labelSelector`);
  const namespaceSelector = raw?.namespaceSelector === undefined || raw?.namespaceSelector === null
    ? NOTHING
    : compileLabelSelector(raw.namespaceSelector, `${field}.namespaceSelector`);
  const listed: string[] = Array.isArray(raw?.namespaces) ? raw.namespaces : [];
  // getNamespacesFromPodAffinityTerm: no namespaces and no namespaceSelector means "my namespace".
  const namespaces = new Set(listed.length === 0 && namespaceSelector === NOTHING ? [ownerNamespace] : listed);
  const topologyKey = typeof raw?.topologyKey === "string" ? raw.topologyKey : "";
  return { namespaces, namespaceSelector, selector, topologyKey, weight, key: affinityTermKey(namespaces, namespaceSelector, selector) };
}

function parseTerms(ns: string, list: any, field: string, weighted: boolean): AffinityTerm[] {
  if (!Array.isArray(list)) return [];
  const out: AffinityTerm[] = [];
  for (let i = 0; i < list.length; i++) {
    if (weighted) {
      out.push(parseTerm(ns, list[i]?.podAffinityTerm, Number(list[i]?.weight ?? 0), `${field}[${i}].podAffinityTerm`));
    } else {
      out.push(parseTerm(ns, list[i], 0, `${field}[${i}]`));
    }
  }
  return out;
}

/**
 * The image name the node reports (`normalizedImageName` in ImageLocality): a name without a tag
 * gets `:latest`.
 */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(":") <= name.lastIndexOf("/") ? `${name}:latest` : name;
}

function collectHostPorts(spec: any): HostPort[] {
  const out: HostPort[] = [];
  const add = (containers: any[] | undefined, sidecarsOnly: boolean) => {
    for (const c of containers ?? []) {
      if (sidecarsOnly && c?.restartPolicy !== "Always") continue;
      for (const p of c?.ports ?? []) {
        const port = Number(p?.hostPort ?? 0);
        if (!(port > 0)) continue;
        out.push({ ip: p.hostIP ? String(p.hostIP) : "0.0.0.0", protocol: p.protocol ? String(p.protocol) : "TCP", port });
      }
    }
  };
  add(spec?.containers, false);
  // Restartable init containers (sidecars) keep their ports for the pod's lifetime.
  add(spec?.initContainers, true);
  return out;
}

const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** A parsed pod. Build with `new PodInfo(pod)`; throws, naming the field, when a request quantity is malformed. */
export class PodInfo {
  readonly pod: KubeObject;
  /** Cache key: the uid, or namespace/name when the pod has no uid yet. */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `spec.priority` (0 when unset, as `corev1helpers.PodPriority`). */
  readonly priority: number;
  /** True once deletion was requested (`metadata.deletionTimestamp`). */
  readonly terminating: boolean;
  /** `status.startTime` in epoch ms; +Infinity when the pod has not started (upstream uses "now"). */
  readonly startTime: number;
  /** `spec.nodeName`, "" when unbound. */
  readonly nodeName: string;
  /** Requests used by the NodeResourcesFit filter and NodeInfo.Requested. */
  readonly requests: Resources;
  /** cpu request with the 100m default per container that sets none (NodeInfo.NonZeroRequested). */
  readonly nonZeroMilliCPU: number;
  /** memory request with the 200Mi default per container that sets none. */
  readonly nonZeroMemory: number;
  readonly hostPorts: readonly HostPort[];
  readonly tolerations: readonly Toleration[];
  /** Normalized container images, init containers first (ImageLocality). */
  readonly images: readonly string[];
  /** True when the pod declares podAffinity or podAntiAffinity (NodeInfo.PodsWithAffinity). */
  readonly hasAffinity: boolean;
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly AffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly AffinityTerm[];
  /** Set when an affinity term could not be parsed; the pod is then unschedulable (upstream "parsing pod: ..."). */
  readonly parseError: string | undefined;

  constructor(pod: KubeObject) {
    const meta = pod?.metadata ?? {};
    const spec = pod?.spec ?? {};
    this.pod = pod;
    this.name = meta.name ?? "";
    this.namespace = meta.namespace ?? "default";
    this.key = meta.uid ? String(meta.uid) : `${this.namespace}/${this.name}`;
    this.labels = meta.labels ?? EMPTY_LABELS;
    this.priority = typeof spec.priority === "number" ? spec.priority : 0;
    this.terminating = meta.deletionTimestamp !== undefined && meta.deletionTimestamp !== null;
    const started = pod?.status?.startTime ? Date.parse(pod.status.startTime) : Number.NaN;
    this.startTime = Number.isNaN(started) ? Number.POSITIVE_INFINITY : started;
    this.nodeName = typeof spec.nodeName === "string" ? spec.nodeName : "";
    const resources = podResources(spec);
    this.requests = resources.requests;
    this.nonZeroMilliCPU = resources.nonZeroMilliCPU;
    this.nonZeroMemory = resources.nonZeroMemory;
    this.hostPorts = collectHostPorts(spec);
    this.tolerations = Array.isArray(spec.tolerations) ? spec.tolerations : [];
    const images: string[] = [];
    for (const c of spec.initContainers ?? []) if (typeof c?.image === "string") images.push(normalizedImageName(c.image));
    for (const c of spec.containers ?? []) if (typeof c?.image === "string") images.push(normalizedImageName(c.image));
    this.images = images;

    const affinity = spec.affinity;
    const pa = affinity?.podAffinity;
    const paa = affinity?.podAntiAffinity;
    this.hasAffinity = !!pa || !!paa;
    let reqA: AffinityTerm[] = [];
    let reqAA: AffinityTerm[] = [];
    let prefA: AffinityTerm[] = [];
    let prefAA: AffinityTerm[] = [];
    let parseError: string | undefined;
    if (this.hasAffinity) {
      try {
        const base = "spec.affinity";
        reqA = parseTerms(this.namespace, pa?.requiredDuringSchedulingIgnoredDuringExecution, `${base}.podAffinity.requiredDuringSchedulingIgnoredDuringExecution`, false);
        reqAA = parseTerms(this.namespace, paa?.requiredDuringSchedulingIgnoredDuringExecution, `${base}.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution`, false);
        prefA = parseTerms(this.namespace, pa?.preferredDuringSchedulingIgnoredDuringExecution, `${base}.podAffinity.preferredDuringSchedulingIgnoredDuringExecution`, true);
        prefAA = parseTerms(this.namespace, paa?.preferredDuringSchedulingIgnoredDuringExecution, `${base}.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution`, true);
      } catch (err) {
        parseError = (err as Error).message;
        reqA = reqAA = prefA = prefAA = [];
      }
    }
    this.requiredAffinityTerms = reqA;
    this.requiredAntiAffinityTerms = reqAA;
    this.preferredAffinityTerms = prefA;
    this.preferredAntiAffinityTerms = prefAA;
    this.parseError = parseError;
  }

  /** True when the pod has required anti-affinity terms (NodeInfo.PodsWithRequiredAntiAffinity). */
  get hasRequiredAntiAffinity(): boolean {
    return this.requiredAntiAffinityTerms.length > 0;
  }
}

/** `util.MoreImportantPod`: higher priority first, then the earlier start time. */
export function moreImportantPod(a: PodInfo, b: PodInfo): boolean {
  if (a.priority !== b.priority) return a.priority > b.priority;
  return a.startTime < b.startTime;
}

/**
 * The shape of a simulated node: what the machine is (name, role, capacity, addresses, zone)
 * before its kubelet registers it. The kubelet turns a `NodeSpec` into the `v1.Node` it creates
 * (`initialNode` in upstream `pkg/kubelet/kubelet_node_status.go`).
 *
 * Defaults follow a kubeadm/kind cluster on Kubernetes 1.32: nodes named like kind's
 * (`kubelings-control-plane`, `kubelings-worker`, `kubelings-worker2`...), InternalIPs on the
 * docker bridge `172.18.0.0/16` starting at `.2`, pod CIDRs `10.244.N.0/24` (kubeadm's default
 * cluster CIDR `10.244.0.0/16` cut in /24s, the control plane first), and the control-plane
 * role label and `NoSchedule` taint kubeadm puts on the control plane.
 */
import { parseQuantity } from "../../api/quantity.js";

/** Node role label of the control plane (kubeadm `node-role.kubernetes.io/control-plane: ""`). */
export const LABEL_CONTROL_PLANE = "node-role.kubernetes.io/control-plane";
/** Well-known node labels the kubelet sets (`k8s.io/api/core/v1/well_known_labels.go`). */
export const LABEL_HOSTNAME = "kubernetes.io/hostname";
export const LABEL_OS = "kubernetes.io/os";
export const LABEL_ARCH = "kubernetes.io/arch";
/** Deprecated beta labels the kubelet still sets and the node lifecycle controller reconciles. */
export const LABEL_OS_BETA = "beta.kubernetes.io/os";
export const LABEL_ARCH_BETA = "beta.kubernetes.io/arch";
export const LABEL_ZONE = "topology.kubernetes.io/zone";
export const LABEL_REGION = "topology.kubernetes.io/region";

/** Kubernetes version every simulated kubelet reports. */
export const KUBELET_VERSION = "v1.32.2";
/** Container runtime every simulated node reports (`containerd://1.7.x`, kind's node image). */
export const CONTAINER_RUNTIME_VERSION = "containerd://1.7.24";
/** Default cluster name (node names follow kind: `<cluster>-control-plane`, `<cluster>-worker2`). */
export const DEFAULT_CLUSTER_NAME = "kubelings";
/** Zones workers are spread over, round-robin. */
export const DEFAULT_ZONES: readonly string[] = ["zone-a", "zone-b", "zone-c"];
/** Region of every default node. */
export const DEFAULT_REGION = "kubelings";

/** Default capacity of a node: 4 CPU, 8Gi of memory, 110 pods (kubelet `maxPods` default). */
export const DEFAULT_CAPACITY: NodeCapacity = { cpu: "4", memory: "8Gi", pods: 110, ephemeralStorage: "100Gi" };

/** A node's role. */
export type NodeRole = "control-plane" | "worker";

/** What a node has to offer. */
export interface NodeCapacity {
  /** CPU cores (`4`, `3500m`). */
  readonly cpu: string;
  /** Memory (`8Gi`). */
  readonly memory: string;
  /** Pods the kubelet accepts (`maxPods`). */
  readonly pods: number;
  /** Root filesystem size (`100Gi`). */
  readonly ephemeralStorage: string;
}

/** A taint as written in `spec.taints`. */
export interface NodeTaint {
  readonly key: string;
  readonly value?: string;
  readonly effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** One simulated machine. */
export interface NodeSpec {
  /** Node name (and hostname). */
  readonly name: string;
  readonly role: NodeRole;
  readonly capacity: NodeCapacity;
  /** `spec.podCIDR`, a /24 the kubelet hands pod IPs out of. */
  readonly podCIDR: string;
  /** The node's InternalIP (`status.hostIP` of its pods). */
  readonly internalIP: string;
  /** Labels the kubelet registers with (`--node-labels` plus the well-known ones). */
  readonly labels: Readonly<Record<string, string>>;
  /** Taints the kubelet registers with (`--register-with-taints`). */
  readonly taints: readonly NodeTaint[];
}

/** Options of `nodeSpec`. */
export interface NodeSpecOptions {
  readonly role?: NodeRole;
  /** Index of the node in the cluster (0 for the first): picks the pod CIDR and InternalIP. */
  readonly index: number;
  readonly capacity?: Partial<NodeCapacity>;
  /** Zone label value (none when undefined). */
  readonly zone?: string;
  readonly region?: string;
  /** Extra labels. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Extra taints. */
  readonly taints?: readonly NodeTaint[];
}

/** Options of `defaultNodes`. */
export interface DefaultNodesOptions {
  /** Cluster name, the node name prefix (default `kubelings`). */
  readonly clusterName?: string;
  /** Capacity of every node (default 4 CPU / 8Gi / 110 pods). */
  readonly capacity?: Partial<NodeCapacity>;
  /** Zones workers are spread over (default zone-a, zone-b, zone-c). */
  readonly zones?: readonly string[];
}

/** Thrown for a node description that cannot be built; the message names the field and the fix. */
export class NodeSpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "NodeSpecError";
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function checkCapacity(c: NodeCapacity): void {
  for (const [field, value] of [
    ["capacity.cpu", c.cpu],
    ["capacity.memory", c.memory],
    ["capacity.ephemeralStorage", c.ephemeralStorage],
  ] as const) {
    let parsed: number;
    try {
      parsed = parseQuantity(value);
    } catch {
      throw new NodeSpecError(field, `"${value}" is not a quantity; write it like 4, 3500m, 8Gi or 100Gi`);
    }
    if (!(parsed > 0)) throw new NodeSpecError(field, `must be greater than 0, got "${value}"`);
  }
  if (!Number.isInteger(c.pods) || c.pods < 1 || c.pods > 253) {
    // A /24 pod CIDR holds 253 pod addresses (.2 to .254), so more pods could never get an IP.
    throw new NodeSpecError("capacity.pods", `must be a whole number from 1 to 253 (one /24 pod CIDR), got ${c.pods}`);
  }
}

/**
 * Builds one node. The index picks its addresses: pod CIDR `10.244.<index>.0/24`, InternalIP
 * `172.18.0.<index + 2>` (the docker bridge's gateway is `.1`).
 */
export function nodeSpec(name: string, options: NodeSpecOptions): NodeSpec {
  if (!DNS_LABEL.test(name) || name.length > 253) {
    throw new NodeSpecError("name", `"${name}" is not a valid node name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`);
  }
  const { index } = options;
  if (!Number.isInteger(index) || index < 0 || index > 252) throw new NodeSpecError("index", `must be a whole number from 0 to 252, got ${index}`);
  const role = options.role ?? "worker";
  const capacity: NodeCapacity = { ...DEFAULT_CAPACITY, ...(options.capacity ?? {}) };
  checkCapacity(capacity);
  const labels: Record<string, string> = {
    [LABEL_ARCH_BETA]: "amd64",
    [LABEL_OS_BETA]: "linux",
    [LABEL_ARCH]: "amd64",
    [LABEL_HOSTNAME]: name,
    [LABEL_OS]: "linux",
  };
  if (role === "control-plane") labels[LABEL_CONTROL_PLANE] = "";
  if (options.region) labels[LABEL_REGION] = options.region;
  if (options.zone) labels[LABEL_ZONE] = options.zone;
  Object.assign(labels, options.labels ?? {});
  const taints: NodeTaint[] = role === "control-plane" ? [{ key: LABEL_CONTROL_PLANE, effect: "NoSchedule" }] : [];
  taints.push(...(options.taints ?? []));
  return { name, role, capacity, podCIDR: `10.244.${index}.0/24`, internalIP: `172.18.0.${index + 2}`, labels, taints };
}

/**
 * The default cluster: one control plane (tainted `NoSchedule`) and `count` workers spread
 * round-robin over the zones. `defaultNodes()` gives 1 control plane + 3 workers.
 */
export function defaultNodes(count = 3, options: DefaultNodesOptions = {}): NodeSpec[] {
  if (!Number.isInteger(count) || count < 0 || count > 252) {
    throw new NodeSpecError("nodes", `the number of worker nodes must be a whole number from 0 to 252, got ${count}`);
  }
  const cluster = options.clusterName ?? DEFAULT_CLUSTER_NAME;
  const zones = options.zones ?? DEFAULT_ZONES;
  const nodes = [nodeSpec(`${cluster}-control-plane`, { role: "control-plane", index: 0, capacity: options.capacity, zone: zones[0], region: DEFAULT_REGION })];
  for (let i = 1; i <= count; i++) {
    // kind's names: the first worker has no number, then worker2, worker3...
    const name = `${cluster}-worker${i === 1 ? "" : i}`;
    nodes.push(nodeSpec(name, { role: "worker", index: i, capacity: options.capacity, zone: zones.length ? zones[(i - 1) % zones.length] : undefined, region: DEFAULT_REGION }));
  }
  return nodes;
}

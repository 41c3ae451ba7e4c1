/**
 * The Node object a kubelet registers and the status it keeps posting, built the way the
 * kubelet's node status setters build it (`pkg/kubelet/nodestatus/setters.go`, run in order by
 * `setNodeStatus`): addresses, machine info (capacity, allocatable, nodeInfo, boot ID), images,
 * daemon endpoints, then the MemoryPressure, DiskPressure, PIDPressure and Ready conditions (Ready
 * last, as upstream keeps it). Each setter records the kubelet's event on a transition
 * (`NodeHasSufficientMemory`, `NodeReady`, `Rebooted`...).
 */
import { rfc3339 } from "../../api/clock.js";
import { parseQuantity } from "../../api/quantity.js";
import type { KubeObject } from "../../api/types.js";
import type { NodeImageStore } from "../runtime/index.js";
import { CONTAINER_RUNTIME_VERSION, KUBELET_VERSION, type NodeSpec } from "./node-spec.js";

/** The kubelet's port (`daemonEndpoints.kubeletEndpoint.Port`). */
export const KUBELET_PORT = 10250;
/** `--eviction-hard` default `memory.available<100Mi`: held back from allocatable. */
const EVICTION_HARD_MEMORY = 100 * 1024 * 1024;
/** `--eviction-hard` default `nodefs.available<10%`. */
const EVICTION_HARD_NODEFS = 0.1;
/** Images listed in `status.images` (`--node-status-max-images`, default 50). */
const MAX_IMAGES = 50;
/** Annotation the kubelet sets when the attach/detach controller manages its volumes. */
export const CONTROLLER_MANAGED_ATTACH = "volumes.kubernetes.io/controller-managed-attach-detach";

/** Message of Ready=False while the runtime has not been checked yet (first PLEG relist pending). */
export const RUNTIME_NOT_READY_MESSAGE = "[container runtime status check may not have completed yet, PLEG is not healthy: pleg has yet to be successful]";

/** A node condition (`v1.NodeCondition`). */
export interface NodeCondition {
  type: string;
  status: "True" | "False" | "Unknown";
  lastHeartbeatTime: string;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

/** Machine facts that survive only until the next boot. */
export interface MachineInfo {
  readonly machineID: string;
  readonly systemUUID: string;
  readonly bootID: string;
}

/** What the setters read. */
export interface NodeStatusInput {
  readonly spec: NodeSpec;
  readonly machine: MachineInfo;
  readonly images: NodeImageStore;
  readonly now: number;
  /** The runtime answered its first status check (PLEG relisted): Ready can be True. */
  readonly runtimeReady: boolean;
  /** Records a node event (type, reason, message). */
  readonly event: (type: "Normal" | "Warning", reason: string, message: string) => void;
}

/** `Ki` as cAdvisor reports machine memory and filesystem sizes. */
function kibibytes(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/** `status.capacity` (`MachineInfo` setter: cAdvisor's numbers, the kubelet's maxPods, no hugepages). */
export function nodeCapacity(spec: NodeSpec): Record<string, string> {
  return {
    cpu: spec.capacity.cpu,
    "ephemeral-storage": kibibytes(parseQuantity(spec.capacity.ephemeralStorage)),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: kibibytes(parseQuantity(spec.capacity.memory)),
    pods: String(spec.capacity.pods),
  };
}

/**
 * `status.allocatable`: capacity minus the hard eviction thresholds (no system or kube
 * reservations by default). Memory keeps its binary suffix; the 10 % of the root filesystem is a
 * decimal amount, so ephemeral storage comes out in bytes, as on a real node.
 */
export function nodeAllocatable(spec: NodeSpec): Record<string, string> {
  const memory = parseQuantity(spec.capacity.memory);
  const storage = Math.floor(parseQuantity(spec.capacity.ephemeralStorage) / 1024) * 1024;
  return {
    cpu: spec.capacity.cpu,
    "ephemeral-storage": String(Math.floor(storage * (1 - EVICTION_HARD_NODEFS))),
    "hugepages-1Gi": "0",
    "hugepages-2Mi": "0",
    memory: kibibytes(Math.max(0, memory - EVICTION_HARD_MEMORY)),
    pods: String(spec.capacity.pods),
  };
}

/** The metadata and spec the kubelet registers with (`initialNode`). */
export function initialNode(spec: NodeSpec): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: spec.name,
      labels: { ...spec.labels },
      annotations: { [CONTROLLER_MANAGED_ATTACH]: "true" },
    },
    spec: {
      podCIDR: spec.podCIDR,
      podCIDRs: [spec.podCIDR],
      ...(spec.taints.length ? { taints: spec.taints.map((t) => ({ ...t })) } : {}),
    },
    status: {},
  };
}

function pressureCondition(
  conditions: NodeCondition[],
  type: string,
  ok: { reason: string; message: string; event: string },
  input: NodeStatusInput,
): void {
  const now = rfc3339(input.now);
  let c = conditions.find((x) => x.type === type);
  if (!c) {
    c = { type, status: "Unknown", lastHeartbeatTime: now, lastTransitionTime: now };
    conditions.push(c);
  }
  c.lastHeartbeatTime = now;
  // The simulated nodes never run short of memory, disk or PIDs on their own.
  if (c.status !== "False") {
    c.status = "False";
    c.reason = ok.reason;
    c.message = ok.message;
    c.lastTransitionTime = now;
    input.event("Normal", ok.event, `Node ${input.spec.name} status is now: ${ok.event}`);
  }
}

function readyCondition(conditions: NodeCondition[], input: NodeStatusInput): void {
  const now = rfc3339(input.now);
  const next: NodeCondition = input.runtimeReady
    ? { type: "Ready", status: "True", lastHeartbeatTime: now, lastTransitionTime: now, reason: "KubeletReady", message: "kubelet is posting ready status" }
    : { type: "Ready", status: "False", lastHeartbeatTime: now, lastTransitionTime: now, reason: "KubeletNotReady", message: RUNTIME_NOT_READY_MESSAGE };
  const i = conditions.findIndex((x) => x.type === "Ready");
  if (i < 0) {
    conditions.push(next);
    return;
  }
  const old = conditions[i];
  if (old.status === next.status) next.lastTransitionTime = old.lastTransitionTime;
  else {
    const reason = next.status === "True" ? "NodeReady" : "NodeNotReady";
    input.event("Normal", reason, `Node ${input.spec.name} status is now: ${reason}`);
  }
  // Ready stays the last condition (kubernetes#16961).
  conditions.splice(i, 1);
  conditions.push(next);
}

/**
 * Runs the kubelet's status setters over `node` (a copy the caller owns) and returns it. Events
 * for transitions are handed to `input.event`.
 */
export function setNodeStatus(node: KubeObject, input: NodeStatusInput): KubeObject {
  const { spec, machine } = input;
  const status: Record<string, any> = { ...(node.status ?? {}) };
  status.addresses = [
    { type: "InternalIP", address: spec.internalIP },
    { type: "Hostname", address: spec.name },
  ];
  status.capacity = nodeCapacity(spec);
  status.allocatable = nodeAllocatable(spec);
  const oldBoot = status.nodeInfo?.bootID;
  if (oldBoot && oldBoot !== machine.bootID) {
    input.event("Warning", "Rebooted", `Node ${spec.name} has been rebooted, boot id: ${machine.bootID}`);
  }
  status.nodeInfo = {
    architecture: "amd64",
    bootID: machine.bootID,
    containerRuntimeVersion: CONTAINER_RUNTIME_VERSION,
    kernelVersion: "6.8.0-49-generic",
    kubeletVersion: KUBELET_VERSION,
    machineID: machine.machineID,
    operatingSystem: "linux",
    osImage: "Debian GNU/Linux 12 (bookworm)",
    systemUUID: machine.systemUUID,
  };
  status.daemonEndpoints = { kubeletEndpoint: { Port: KUBELET_PORT } };
  // Images setter: largest first, at most --node-status-max-images.
  const images = input.images
    .list()
    .sort((a, b) => b.sizeBytes - a.sizeBytes || (a.name < b.name ? -1 : 1))
    .slice(0, MAX_IMAGES)
    .map((img) => {
      const id = input.images.imageRef(img.name);
      return { names: id && id !== img.name ? [id, img.name] : [img.name], sizeBytes: img.sizeBytes };
    });
  if (images.length) status.images = images;
  else delete status.images;
  const conditions: NodeCondition[] = ((status.conditions ?? []) as NodeCondition[]).map((c) => ({ ...c }));
  pressureCondition(conditions, "MemoryPressure", { reason: "KubeletHasSufficientMemory", message: "kubelet has sufficient memory available", event: "NodeHasSufficientMemory" }, input);
  pressureCondition(conditions, "DiskPressure", { reason: "KubeletHasNoDiskPressure", message: "kubelet has no disk pressure", event: "NodeHasNoDiskPressure" }, input);
  pressureCondition(conditions, "PIDPressure", { reason: "KubeletHasSufficientPID", message: "kubelet has sufficient PID available", event: "NodeHasSufficientPID" }, input);
  readyCondition(conditions, input);
  status.conditions = conditions;
  node.status = status;
  return node;
}

/**
 * `nodeStatusHasChanged`: a status differs when anything but the conditions' heartbeat times
 * changed. With the Lease as heartbeat, an unchanged status is posted only every
 * `nodeStatusReportFrequency`.
 */
export function nodeStatusHasChanged(oldStatus: unknown, newStatus: unknown): boolean {
  const strip = (s: any) => (s ? { ...s, conditions: ((s.conditions ?? []) as NodeCondition[]).map(({ lastHeartbeatTime: _h, ...rest }) => rest) } : s);
  return JSON.stringify(strip(oldStatus)) !== JSON.stringify(strip(newStatus));
}

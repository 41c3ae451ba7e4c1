/**
 * Builders for the Services tests. No scheduler or kubelet runs: nodes are plain Node objects,
 * pods are created already bound (`spec.nodeName`), and the test plays the kubelet by patching
 * pod status (IP, phase, Ready condition) itself.
 */
import { rfc3339 } from "../../src/api/clock.js";
import type { KubeObject } from "../../src/api/types.js";
import type { TestCluster } from "../cluster/_harness.js";

/** A Ready node with hostname and zone labels and an InternalIP. */
export function node(name: string, zone: string, ip: string): KubeObject {
  const resources = { cpu: "4", memory: "8Gi", pods: "110" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone } },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [
        { type: "InternalIP", address: ip },
        { type: "Hostname", address: name },
      ],
    },
  };
}

/** Three workers in three zones (10.0.0.11-13). */
export async function createNodes(c: TestCluster): Promise<void> {
  await c.api.create(node("worker-1", "zone-a", "10.0.0.11"));
  await c.api.create(node("worker-2", "zone-b", "10.0.0.12"));
  await c.api.create(node("worker-3", "zone-c", "10.0.0.13"));
}

/** Options of {@link pod}. */
export interface PodOptions {
  labels?: Record<string, string>;
  nodeName?: string;
  namespace?: string;
  /** Container ports, e.g. `[{ name: "http", containerPort: 8080 }]`. */
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  hostname?: string;
  subdomain?: string;
}

/** A pod bound to a node. */
export function pod(name: string, o: PodOptions = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: o.namespace ?? "default", labels: o.labels ?? { app: "web" } },
    spec: {
      nodeName: o.nodeName ?? "worker-1",
      ...(o.hostname ? { hostname: o.hostname } : {}),
      ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: "web", image: "nginx:1.27", ...(o.ports ? { ports: o.ports } : {}) }],
    },
  };
}

/** Plays the kubelet: the pod runs with this IP, ready or not. */
export async function setRunning(c: TestCluster, name: string, ip: string, ready: boolean, namespace = "default"): Promise<KubeObject> {
  const now = rfc3339(c.clock.now());
  return c.api.patch(
    { apiVersion: "v1", kind: "Pod", namespace, name },
    "application/strategic-merge-patch+json",
    {
      status: {
        phase: "Running",
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: "10.0.0.11",
        conditions: [
          { type: "Ready", status: ready ? "True" : "False", lastProbeTime: null, lastTransitionTime: now },
          { type: "ContainersReady", status: ready ? "True" : "False", lastProbeTime: null, lastTransitionTime: now },
        ],
      },
    },
    { subresource: "status" },
  );
}

/** Creates a pod and makes it run. */
export async function runningPod(c: TestCluster, name: string, ip: string, ready: boolean, o: PodOptions = {}): Promise<KubeObject> {
  await c.api.create(pod(name, o));
  return setRunning(c, name, ip, ready, o.namespace);
}

/** A Service selecting `app: web` on port 80 -> 8080 unless told otherwise. */
export function service(name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: "default", ...meta },
    spec: { selector: { app: "web" }, ports: [{ name: "http", port: 80, targetPort: 8080 }], ...spec },
  };
}

/** Reads an object, undefined when absent. */
export function peek(c: TestCluster, kind: string, name: string, namespace = "default", apiVersion = "v1"): KubeObject | undefined {
  return c.api.peek({ apiVersion, kind, namespace, name }) as KubeObject | undefined;
}

/** The EndpointSlices of a Service. */
export async function slicesOf(c: TestCluster, svc: string, namespace = "default"): Promise<KubeObject[]> {
  const list = await c.api.list({ apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", namespace }, { labelSelector: `kubernetes.io/service-name=${svc}` });
  return list.items;
}

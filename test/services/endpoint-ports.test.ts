/**
 * Both endpoint controllers resolve a Service's ports for a pod the same way (`endpointPorts`):
 * named target ports looked up in the pod, TCP by default, appProtocol kept; Endpoints drop an
 * empty port name (`omitempty`), EndpointSlices keep it as "".
 */
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { computeSubsets } from "../../src/cluster/services/endpoints.js";
import { endpointPorts, podToEndpoint } from "../../src/cluster/services/endpointslice.js";

const service: KubeObject = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: "default" },
  spec: {
    clusterIP: "10.96.0.10",
    selector: { app: "web" },
    ports: [
      { port: 80, targetPort: "http" },
      { name: "metrics", port: 9100, targetPort: 9100, protocol: "TCP", appProtocol: "http" },
      { name: "dns", port: 53, targetPort: "dns", protocol: "UDP" },
    ],
  },
};

const pod: KubeObject = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-a", namespace: "default", uid: "uid-a", labels: { app: "web" } },
  spec: { nodeName: "worker-1", containers: [{ name: "web", ports: [{ name: "http", containerPort: 8080 }] }] },
  status: { phase: "Running", podIP: "10.244.1.2", conditions: [{ type: "Ready", status: "True" }] },
};

describe("endpoint ports", () => {
  it("resolves named target ports in the pod and leaves out the ones it does not serve", () => {
    expect(endpointPorts(service, pod)).toEqual([
      { name: "", port: 8080, protocol: "TCP" },
      { name: "metrics", port: 9100, protocol: "TCP", appProtocol: "http" },
    ]);
  });

  it("gives Endpoints the same ports, without an empty name", () => {
    const subsets = computeSubsets(service, [pod]);
    expect(subsets).toEqual([
      {
        addresses: [{ ip: "10.244.1.2", nodeName: "worker-1", targetRef: { kind: "Pod", namespace: "default", name: "web-a", uid: "uid-a" } }],
        ports: [
          { port: 8080, protocol: "TCP" },
          { name: "metrics", port: 9100, protocol: "TCP", appProtocol: "http" },
        ],
      },
    ]);
    expect(Object.keys(subsets[0].ports![0])).toEqual(["port", "protocol"]);
  });

  it("points a slice endpoint at the same pod as an Endpoints address", () => {
    expect(podToEndpoint(pod, undefined, service, "IPv4").targetRef).toEqual(computeSubsets(service, [pod])[0].addresses![0].targetRef);
  });
});

import { describe, expect, it } from "vitest";
import { escapeFieldValue, parseFieldSelector, selectableFields } from "../../src/api/fields.js";
import { ApiError } from "../../src/api/errors.js";
import type { KubeObject } from "../../src/api/types.js";

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

const pod = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, namespace: "default" },
  spec: { containers: [{ name: "c", image: "nginx" }], nodeName: "node-1", restartPolicy: "Always", schedulerName: "default-scheduler" },
  status: { phase: "Running", podIPs: [{ ip: "10.0.0.5" }], podIP: "10.0.0.5" },
  ...extra,
});

describe("pods", () => {
  const running = pod("web-1");
  const pending = pod("web-2", { spec: { containers: [] }, status: { phase: "Pending" } });

  it("selects by metadata, spec and status fields", () => {
    const test = (text: string) => [running, pending].map((p) => parseFieldSelector("Pod", text).matches(p));
    expect(test("metadata.name=web-1")).toEqual([true, false]);
    expect(test("metadata.name==web-2")).toEqual([false, true]);
    expect(test("metadata.namespace!=kube-system")).toEqual([true, true]);
    expect(test("status.phase=Running")).toEqual([true, false]);
    expect(test("spec.nodeName=")).toEqual([false, true]);
    expect(test("spec.nodeName=node-1,status.phase=Running")).toEqual([true, false]);
    expect(test("spec.hostNetwork=false")).toEqual([true, true]);
    expect(test("status.podIP=10.0.0.5")).toEqual([true, false]);
    expect(test("spec.restartPolicy=Always")).toEqual([true, false]);
    expect(test("")).toEqual([true, true]);
  });

  it("maps the old spec.host to spec.nodeName", () => {
    const selector = parseFieldSelector("Pod", "spec.host=node-1");
    expect(selector.requirements).toEqual([{ field: "spec.nodeName", operator: "=", value: "node-1" }]);
    expect(selector.matches(running)).toBe(true);
  });

  it("rejects other pod fields with 'field label not supported'", () => {
    const err = apiError(() => parseFieldSelector("Pod", "spec.containers=x"));
    expect(err.code).toBe(400);
    expect(err.reason).toBe("BadRequest");
    expect(err.message).toBe("field label not supported: spec.containers");
  });

  it("computes selectable fields as ToSelectableFields does", () => {
    expect(selectableFields(running)).toEqual({
      "metadata.name": "web-1",
      "metadata.namespace": "default",
      "spec.nodeName": "node-1",
      "spec.restartPolicy": "Always",
      "spec.schedulerName": "default-scheduler",
      "spec.serviceAccountName": "",
      "spec.hostNetwork": "false",
      "status.phase": "Running",
      "status.podIP": "10.0.0.5",
      "status.nominatedNodeName": "",
    });
  });
});

describe("events", () => {
  const event: KubeObject = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "web-1.17a", namespace: "default" },
    involvedObject: { kind: "Pod", name: "web-1", namespace: "default", uid: "uid-web-1", apiVersion: "v1" },
    reason: "Scheduled",
    type: "Normal",
    source: { component: "default-scheduler" },
  };

  it("selects by involvedObject as kubectl describe does", () => {
    const selector = parseFieldSelector("Event", "involvedObject.name=web-1,involvedObject.namespace=default,involvedObject.uid=uid-web-1");
    expect(selector.matches(event)).toBe(true);
    expect(parseFieldSelector("Event", "involvedObject.kind=Deployment").matches(event)).toBe(false);
    expect(parseFieldSelector("Event", "reason=Scheduled,type=Normal,source=default-scheduler").matches(event)).toBe(true);
  });

  it("falls back to reportingComponent for source", () => {
    const newer = { ...event, source: {}, reportingComponent: "kubelet" };
    expect(parseFieldSelector("Event", "source=kubelet").matches(newer)).toBe(true);
    expect(parseFieldSelector("Event", "reportingComponent=kubelet").matches(newer)).toBe(true);
  });

  it("selects events.k8s.io/v1 Events by their own field names", () => {
    const v1: KubeObject = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name: "e", namespace: "default" },
      regarding: { kind: "Pod", name: "web-1" },
      reason: "Killing",
      reportingController: "kubelet",
      type: "Normal",
    };
    const selector = parseFieldSelector("Event", "regarding.name=web-1,reportingController=kubelet", "events.k8s.io/v1");
    expect(selector.matches(v1)).toBe(true);
    expect(parseFieldSelector("Event", "source=kubelet", "events.k8s.io/v1").matches(v1)).toBe(true);
    // The core spelling is not a field of events.k8s.io Events.
    expect(apiError(() => parseFieldSelector("Event", "involvedObject.name=web-1", "events.k8s.io/v1")).message).toBe(
      "field label not supported: involvedObject.name",
    );
  });
});

describe("per-kind fields", () => {
  it("secrets: type", () => {
    const tls: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "a" }, type: "kubernetes.io/tls" };
    expect(parseFieldSelector("Secret", "type=kubernetes.io/tls").matches(tls)).toBe(true);
    expect(parseFieldSelector("Secret", "type!=Opaque").matches(tls)).toBe(true);
  });

  it("nodes: spec.unschedulable and metadata.name only", () => {
    const cordoned: KubeObject = { apiVersion: "v1", kind: "Node", metadata: { name: "n1" }, spec: { unschedulable: true } };
    const ready: KubeObject = { apiVersion: "v1", kind: "Node", metadata: { name: "n2" }, spec: {} };
    const selector = parseFieldSelector("Node", "spec.unschedulable=true");
    expect([selector.matches(cordoned), selector.matches(ready)]).toEqual([true, false]);
    expect(parseFieldSelector("Node", "spec.unschedulable!=true").matches(ready)).toBe(true);
    expect(apiError(() => parseFieldSelector("Node", "metadata.namespace=default")).message).toBe("field label not supported: metadata.namespace");
  });

  it("namespaces: status.phase", () => {
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "dev" }, status: { phase: "Terminating" } };
    expect(parseFieldSelector("Namespace", "status.phase=Terminating").matches(ns)).toBe(true);
  });

  it("replication controllers: status.replicas, printed as Go prints an int", () => {
    const rc: KubeObject = { apiVersion: "v1", kind: "ReplicationController", metadata: { name: "r", namespace: "a" }, status: {} };
    expect(parseFieldSelector("ReplicationController", "status.replicas=0").matches(rc)).toBe(true);
  });

  it("services: spec.type and spec.clusterIP", () => {
    const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "s", namespace: "a" }, spec: { type: "ClusterIP", clusterIP: "None" } };
    expect(parseFieldSelector("Service", "spec.clusterIP=None,spec.type=ClusterIP").matches(svc)).toBe(true);
  });

  it("jobs: status.successful, with batch/v1's own rejection message", () => {
    const job: KubeObject = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j", namespace: "a" }, status: { succeeded: 1 } };
    expect(parseFieldSelector("Job", "status.successful=1").matches(job)).toBe(true);
    expect(apiError(() => parseFieldSelector("Job", "status.failed=0")).message).toBe('field label "status.failed" not supported for batchv1.Job');
  });

  it("replicasets and other kinds: metadata only, with the default conversion's message (kubernetes#135136)", () => {
    const rs: KubeObject = { apiVersion: "apps/v1", kind: "ReplicaSet", metadata: { name: "web-abc", namespace: "prod" }, status: { replicas: 0 } };
    expect(parseFieldSelector("ReplicaSet", "metadata.name=web-abc,metadata.namespace=prod").matches(rs)).toBe(true);
    expect(apiError(() => parseFieldSelector("ReplicaSet", "status.replicas=0")).message).toBe(
      '"status.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"',
    );
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" } };
    expect(parseFieldSelector("ConfigMap", "metadata.namespace=default").matches(cm)).toBe(true);
    expect(parseFieldSelector("Widget", "metadata.name=w", "example.com/v1").matches({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } })).toBe(true);
  });

  it("cluster-scoped kinds have no metadata.namespace: only an empty value matches", () => {
    const sc: KubeObject = { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "fast" } };
    expect(parseFieldSelector("StorageClass", "metadata.namespace=").matches(sc)).toBe(true);
    expect(parseFieldSelector("StorageClass", "metadata.namespace=default").matches(sc)).toBe(false);
  });
});

describe("syntax", () => {
  it("rejects terms without an operator", () => {
    const err = apiError(() => parseFieldSelector("Pod", "metadata.name"));
    expect(err.code).toBe(400);
    expect(err.message).toBe("invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  });

  it("reports a syntax error before an unsupported field, as upstream parses before converting", () => {
    expect(apiError(() => parseFieldSelector("Pod", "a=1,b")).message).toBe("invalid selector: 'a=1,b'; can't understand 'b'");
  });

  it("unescapes \\, \\= and \\\\ in values and refuses bare or unknown escapes", () => {
    const odd = pod("a,b=c\\d");
    const text = `metadata.name=${escapeFieldValue("a,b=c\\d")}`;
    expect(text).toBe("metadata.name=a\\,b\\=c\\\\d");
    expect(parseFieldSelector("Pod", text).matches(odd)).toBe(true);
    expect(apiError(() => parseFieldSelector("Pod", "metadata.name=a\\b")).message).toBe("invalid field selector: invalid escape sequence: \\b");
    expect(apiError(() => parseFieldSelector("Pod", "metadata.name=a=b")).message).toBe("invalid field selector: unescaped character in value: 61");
    expect(apiError(() => parseFieldSelector("Pod", "metadata.name=a\\")).message).toBe("invalid field selector: invalid escape sequence: \\");
  });

  it("prints the canonical form: terms sorted, == as =, values escaped", () => {
    expect(parseFieldSelector("Pod", "status.phase==Running,metadata.name!=a\\,b").toString()).toBe("metadata.name!=a\\,b,status.phase=Running");
  });
});

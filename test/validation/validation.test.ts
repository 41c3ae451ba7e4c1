/**
 * Validation on create: the Status the API server returns (422 Invalid with causes, 400 for
 * decoding), the field paths and the upstream wording.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api/errors.js";
import type { KubeObject, StatusCause } from "../../src/api/types.js";
import { admit, validate } from "../../src/api/validation.js";
import { applyDefaults } from "../../src/api/defaults.js";
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from "../../src/api/names.js";
import { cronScheduleError } from "../../src/api/_validation-cron.js";

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function deployment(spec: Record<string, any> = {}, name = "web"): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "default" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }] } },
      ...spec,
    },
  };
}

/** Admits and returns the thrown ApiError (fails the test if nothing is thrown). */
function refusal(obj: KubeObject, old?: KubeObject): ApiError {
  try {
    admit(obj, old);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected admit to refuse the object");
}

function causesOf(obj: KubeObject): StatusCause[] {
  return validate(applyDefaults(obj));
}

describe("names", () => {
  it("words DNS and label errors like apimachinery", () => {
    expect(isDNS1123Subdomain("Foo")).toEqual([SUBDOMAIN_MSG]);
    expect(isDNS1123Label("a.b")).toEqual(["must not contain dots"]);
    expect(isDNS1123Label("a".repeat(64))).toEqual(["must be no more than 63 characters"]);
    expect(isDNS1035Label("1abc")[0]).toMatch(/^a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character/);
    expect(isQualifiedName("example.com/")).toEqual([
      "name part must be non-empty",
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    expect(isQualifiedName("a/b/c")[0]).toMatch(/^a qualified name must consist of/);
    expect(isValidLabelValue("")).toEqual([]);
    expect(isValidLabelValue("-x")).toHaveLength(1);
  });
});

describe("admit: 422 Invalid", () => {
  it("returns the defaulted object when valid", () => {
    const out = admit(deployment());
    expect(out.spec.replicas).toBe(1);
    expect(out.spec.template.spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
  });

  it("refuses an invalid name with the exact Status", () => {
    const err = refusal(deployment({}, "Web"));
    expect(err.status).toEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: `Deployment.apps "Web" is invalid: metadata.name: Invalid value: "Web": ${SUBDOMAIN_MSG}`,
      reason: "Invalid",
      details: {
        name: "Web",
        group: "apps",
        kind: "Deployment",
        causes: [{ reason: "FieldValueInvalid", field: "metadata.name", message: `Invalid value: "Web": ${SUBDOMAIN_MSG}` }],
      },
      code: 422,
    });
  });

  it("requires a name unless generateName is given", () => {
    const obj = deployment();
    delete obj.metadata.name;
    expect(causesOf(obj)).toEqual([{ reason: "FieldValueRequired", field: "metadata.name", message: "Required value: name or generateName is required" }]);
    obj.metadata.generateName = "web-";
    expect(causesOf(obj)).toEqual([]);
  });

  it("names Services with DNS-1035 labels and Namespaces with DNS-1123 labels", () => {
    const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "1web", namespace: "default" }, spec: { ports: [{ port: 80 }] } };
    expect(causesOf(svc).map((c) => c.field)).toEqual(["metadata.name"]);
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "a.b" } };
    expect(causesOf(ns)).toEqual([{ reason: "FieldValueInvalid", field: "metadata.name", message: 'Invalid value: "a.b": must not contain dots' }]);
  });

  it("refuses namespaces on cluster-scoped kinds and requires them on namespaced kinds", () => {
    expect(causesOf({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a", namespace: "b" } })).toEqual([
      { reason: "FieldValueForbidden", field: "metadata.namespace", message: "Forbidden: not allowed on this type" },
    ]);
    expect(causesOf({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } })).toEqual([{ reason: "FieldValueRequired", field: "metadata.namespace", message: "Required value" }]);
    // The REST layer clears it before validation, so admit accepts it (rest.BeforeCreate).
    expect(admit({ apiVersion: "v1", kind: "Namespace", metadata: { name: "a", namespace: "b" } }).metadata.namespace).toBeUndefined();
  });

  it("checks label keys and values, and the 256 KiB annotation budget", () => {
    const obj = deployment();
    obj.metadata.labels = { "bad key!": "ok", good: "-bad-" };
    obj.metadata.annotations = { big: "x".repeat(256 * 1024) };
    const causes = causesOf(obj);
    expect(causes.map((c) => [c.field, c.reason])).toEqual([
      ["metadata.labels", "FieldValueInvalid"],
      ["metadata.labels", "FieldValueInvalid"],
      ["metadata.annotations", "FieldValueTooLong"],
    ]);
    expect(causes[2].message).toBe("Too long: must have at most 262144 bytes");
  });

  it("reports a selector that does not match the template labels", () => {
    const obj = deployment({ selector: { matchLabels: { app: "other" } } });
    const err = refusal(obj);
    expect(err.status.details?.causes).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "spec.template.metadata.labels",
        message: 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
      },
    ]);
    expect(err.message).toBe(
      'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    );
  });

  it("requires a selector and refuses an empty one", () => {
    const noSelector = deployment();
    delete noSelector.spec.selector;
    expect(causesOf(noSelector)).toEqual([{ reason: "FieldValueRequired", field: "spec.selector", message: "Required value" }]);
    expect(causesOf(deployment({ selector: {} })).map((c) => c.message)).toEqual(['Invalid value: {}: empty selector is invalid for deployment']);
  });

  it("validates containers: required list, names, image, duplicates, ports", () => {
    expect(causesOf(deployment({ template: { metadata: { labels: { app: "web" } }, spec: { containers: [] } } }))).toEqual([
      { reason: "FieldValueRequired", field: "spec.template.spec.containers", message: "Required value" },
    ]);
    const t = {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          { name: "Web", image: "", ports: [{ containerPort: 70000, name: "http" }, { containerPort: 81, name: "http", protocol: "ICMP" }] },
          { name: "Web", image: "x" },
        ],
      },
    };
    expect(causesOf(deployment({ template: t })).map((c) => `${c.field}: ${c.message}`)).toEqual([
      expect.stringMatching(/^spec\.template\.spec\.containers\[0\]\.name: Invalid value: "Web": a lowercase RFC 1123 label/),
      "spec.template.spec.containers[0].image: Required value",
      "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'spec.template.spec.containers[0].ports[1].name: Duplicate value: "http"',
      'spec.template.spec.containers[0].ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
      expect.stringMatching(/^spec\.template\.spec\.containers\[1\]\.name: Invalid value: "Web"/),
      'spec.template.spec.containers[1].name: Duplicate value: "Web"',
    ]);
  });

  it("only allows restartPolicy Always in Deployment templates and Never/OnFailure in Jobs", () => {
    const d = deployment();
    d.spec.template.spec.restartPolicy = "Never";
    expect(causesOf(d)).toEqual([
      { reason: "FieldValueNotSupported", field: "spec.template.spec.restartPolicy", message: 'Unsupported value: "Never": supported values: "Always"' },
    ]);
    const job: KubeObject = { apiVersion: "batch/v1", kind: "Job", metadata: { name: "pi", namespace: "default" }, spec: { template: { spec: { containers: [{ name: "pi", image: "perl" }] } } } };
    expect(causesOf(job)).toEqual([
      { reason: "FieldValueNotSupported", field: "spec.template.spec.restartPolicy", message: 'Unsupported value: "Always": supported values: "OnFailure", "Never"' },
    ]);
  });

  it("checks requests against limits and quantity signs", () => {
    const d = deployment();
    d.spec.template.spec.containers[0].resources = { requests: { cpu: "2", memory: "-1Mi" }, limits: { cpu: "500m" } };
    expect(causesOf(d).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.template.spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 500m',
      'spec.template.spec.containers[0].resources.requests[memory]: Invalid value: "-1Mi": must be greater than or equal to 0',
    ]);
  });

  it("requires successThreshold 1 for liveness probes and a handler for every probe", () => {
    const d = deployment();
    d.spec.template.spec.containers[0].livenessProbe = { tcpSocket: { port: 80 }, successThreshold: 2 };
    d.spec.template.spec.containers[0].readinessProbe = { periodSeconds: 5 };
    expect(causesOf(d).map((c) => `${c.field}: ${c.message}`)).toEqual([
      "spec.template.spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
      "spec.template.spec.containers[0].readinessProbe: Required value: must specify a handler type",
    ]);
  });

  it("validates replicas and the rolling update parameters", () => {
    expect(causesOf(deployment({ replicas: -1 }))).toEqual([
      { reason: "FieldValueInvalid", field: "spec.replicas", message: "Invalid value: -1: must be greater than or equal to 0" },
    ]);
    const both0 = causesOf(deployment({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }));
    expect(both0).toEqual([{ reason: "FieldValueInvalid", field: "spec.strategy.rollingUpdate.maxUnavailable", message: "Invalid value: 0: may not be 0 when `maxSurge` is 0" }]);
    const pct = causesOf(deployment({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "5x", maxUnavailable: "150%" } } }));
    expect(pct.map((c) => `${c.field}: ${c.message}`)).toEqual([
      "spec.strategy.rollingUpdate.maxSurge: Invalid value: 5x: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
      "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 150%: must not be greater than 100%",
    ]);
  });

  it("validates Services: ports, type, nodePort", () => {
    const svc = (spec: Record<string, any>): KubeObject => ({ apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec });
    expect(causesOf(svc({ selector: { app: "web" } }))).toEqual([{ reason: "FieldValueRequired", field: "spec.ports", message: "Required value" }]);
    expect(causesOf(svc({ clusterIP: "None", selector: { app: "web" } }))).toEqual([]);
    expect(causesOf(svc({ type: "ExternalName", externalName: "db.example.com" }))).toEqual([]);
    expect(causesOf(svc({ type: "Internal", ports: [{ port: 80 }] }))[0]).toEqual({
      reason: "FieldValueNotSupported",
      field: "spec.type",
      message: 'Unsupported value: "Internal": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    });
    expect(causesOf(svc({ ports: [{ port: 80, nodePort: 30080 }, { port: 80, targetPort: 70000 }] })).map((c) => `${c.field}: ${c.message}`)).toEqual([
      "spec.ports[0].name: Required value",
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
      "spec.ports[1].name: Required value",
      "spec.ports[1].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
      'spec.ports[1]: Duplicate value: {"protocol":"TCP","port":80}',
    ]);
  });

  it("validates Secret and ConfigMap keys", () => {
    const secret: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default" }, data: { "bad/key": "eA==" } } as KubeObject;
    expect(causesOf(secret)).toEqual([
      {
        reason: "FieldValueInvalid",
        field: "data[bad/key]",
        message:
          "Invalid value: \"bad/key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      },
    ]);
    const tls: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default" }, type: "kubernetes.io/tls", data: {} } as KubeObject;
    expect(causesOf(tls).map((c) => c.field)).toEqual(["data[tls.crt]", "data[tls.key]"]);
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, data: { "..x": "1" } } as KubeObject;
    expect(causesOf(cm).map((c) => c.message)).toEqual([expect.stringContaining("must not start with '..'")]);
  });

  it("requires Ingress pathType and a backend port", () => {
    const ing: KubeObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "i", namespace: "default" },
      spec: { rules: [{ host: "example.com", http: { paths: [{ path: "/", backend: { service: { name: "web" } } }] } }] },
    };
    expect(causesOf(ing)).toEqual([
      { reason: "FieldValueRequired", field: "spec.rules[0].http.paths[0].pathType", message: "Required value: pathType must be specified" },
      { reason: "FieldValueRequired", field: "spec.rules[0].http.paths[0].backend", message: "Required value: port name or number is required" },
    ]);
  });

  it("validates HPA bounds", () => {
    const hpa: KubeObject = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "h", namespace: "default" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 5, maxReplicas: 2 },
    };
    expect(causesOf(hpa)).toEqual([{ reason: "FieldValueInvalid", field: "spec.maxReplicas", message: "Invalid value: 2: must be greater than or equal to `minReplicas`" }]);
    hpa.spec.maxReplicas = 0;
    hpa.spec.minReplicas = 0;
    expect(causesOf(hpa).map((c) => `${c.field}: ${c.message}`)).toEqual([
      "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1",
      "spec.maxReplicas: Invalid value: 0: must be greater than 0",
    ]);
  });

  it("checks CronJob schedules with robfig/cron's wording", () => {
    expect(cronScheduleError("*/5 * * * *")).toBeUndefined();
    expect(cronScheduleError("@hourly")).toBeUndefined();
    expect(cronScheduleError("0 0 * JAN-MAR mon")).toBeUndefined();
    expect(cronScheduleError("* * *")).toBe("expected exactly 5 fields, found 3: [* * *]");
    expect(cronScheduleError("61 * * * *")).toBe("end of range (61) above maximum (59): 61");
    expect(cronScheduleError("@sometimes")).toBe("unrecognized descriptor: @sometimes");
    const cj: KubeObject = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c", namespace: "default" },
      spec: { schedule: "every minute", jobTemplate: { spec: { template: { spec: { restartPolicy: "OnFailure", containers: [{ name: "c", image: "busybox" }] } } } } },
    };
    expect(causesOf(cj)).toEqual([{ reason: "FieldValueInvalid", field: "spec.schedule", message: 'Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]' }]);
  });

  it("requires PVC access modes and a storage request", () => {
    const pvc: KubeObject = { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "p", namespace: "default" }, spec: {} };
    expect(causesOf(pvc)).toEqual([
      { reason: "FieldValueRequired", field: "spec.accessModes", message: "Required value: at least 1 access mode is required" },
      { reason: "FieldValueRequired", field: "spec.resources[storage]", message: "Required value" },
    ]);
  });

  it("generates the Job selector on create when the uid is set", () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "pi", namespace: "default", uid: "1234" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl" }] } } },
    };
    const out = admit(job);
    expect(out.spec.selector.matchLabels).toEqual({ "batch.kubernetes.io/controller-uid": "1234" });
    expect(out.spec.template.metadata.labels["job-name"]).toBe("pi");
  });
});

describe("decoding: types and unknown fields", () => {
  it("reports wrong JSON types as FieldValueTypeInvalid and refuses them with 400", () => {
    const obj = deployment({ replicas: "three" });
    expect(validate(obj)).toEqual([{ reason: "FieldValueTypeInvalid", field: "spec.replicas", message: 'Invalid value: "three": expected integer, got string' }]);
    const err = refusal(obj);
    expect(err.code).toBe(400);
    expect(err.reason).toBe("BadRequest");
    expect(err.message).toBe('Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field spec.replicas of type integer');
  });

  it("names nested fields with indexes, and reads quantities and int-or-strings", () => {
    const d = deployment();
    d.spec.template.spec.containers[0].ports[0].containerPort = "80";
    d.spec.template.spec.containers[0].resources = { limits: { cpu: "1x" } };
    d.spec.strategy = { rollingUpdate: { maxSurge: true } };
    expect(validate(d).map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.strategy.rollingUpdate.maxSurge: Invalid value: true: expected integer or string, got bool',
      'spec.template.spec.containers[0].ports[0].containerPort: Invalid value: "80": expected integer, got string',
      "spec.template.spec.containers[0].resources.limits[cpu]: Invalid value: \"1x\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    ]);
  });

  it("refuses bad base64 in Secret data at decoding", () => {
    const s = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default" }, data: { a: "not base64!" } } as KubeObject;
    expect(refusal(s).message).toBe('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 3');
  });

  it("refuses unknown fields under Strict, warns under Warn, drops under Ignore", () => {
    const obj = deployment({ replica: 3 });
    obj.spec.template.spec.containers[0].imagePullPolicyy = "Always";
    // In document order: `replica` was written after `template`.
    expect(validate(applyDefaults(obj))).toEqual([
      { reason: "FieldValueUnknown", field: "spec.template.spec.containers[0].imagePullPolicyy", message: 'unknown field "spec.template.spec.containers[0].imagePullPolicyy"' },
      { reason: "FieldValueUnknown", field: "spec.replica", message: 'unknown field "spec.replica"' },
    ]);
    const err = refusal(obj);
    expect(err.code).toBe(400);
    expect(err.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolicyy", unknown field "spec.replica"',
    );
    const warnings: string[] = [];
    const warned = admit(obj, undefined, { fieldValidation: "Warn", warnings });
    expect(warnings).toEqual(['unknown field "spec.template.spec.containers[0].imagePullPolicyy"', 'unknown field "spec.replica"']);
    expect(warned.spec.replica).toBeUndefined();
    expect(admit(obj, undefined, { fieldValidation: "Ignore" }).spec.template.spec.containers[0].imagePullPolicyy).toBeUndefined();
  });

  it("accepts free-form and map fields (labels, annotations, limits, ControllerRevision data)", () => {
    const cr = { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: "r", namespace: "default" }, revision: 1, data: { anything: { goes: 1 } } } as KubeObject;
    expect(validate(cr)).toEqual([]);
    const d = deployment();
    d.metadata.labels = { "example.com/team": "a" };
    d.spec.template.spec.containers[0].resources = { limits: { "example.com/gpu": 1 }, requests: { "example.com/gpu": 1 } };
    expect(validate(applyDefaults(d))).toEqual([]);
  });
});

describe("selector requirements (ValidateLabelSelectorRequirement / ValidateNodeSelectorRequirement)", () => {
  const pod = (affinity: unknown): KubeObject =>
    ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "c", image: "nginx" }], affinity } }) as KubeObject;

  it("allows Gt and Lt with a single value in node selector terms only", () => {
    const term = (op: string, values: string[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "cores", operator: op, values }] }] } } });
    expect(causesOf(pod(term("Gt", ["4"])))).toEqual([]);
    expect(causesOf(pod(term("Lt", ["4", "8"]))).map((c) => c.message)).toEqual(["Required value: must be specified single value when `operator` is 'Lt' or 'Gt'"]);
    const podAffinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: "kubernetes.io/hostname", labelSelector: { matchExpressions: [{ key: "app", operator: "Gt", values: ["1"] }] } }] } };
    const causes = causesOf(pod(podAffinity));
    expect(causes.map((c) => c.field)).toEqual(["spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].operator"]);
    expect(causes[0].message).toContain("not a valid selector operator");
  });
});

/**
 * Update validation: what may not change once an object exists (`Validate<Kind>Update`).
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api/errors.js";
import { clone, type KubeObject } from "../../src/api/types.js";
import { admit } from "../../src/api/validation.js";

function deployment(labels = { app: "web" }): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", uid: "u1", resourceVersion: "5" },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } },
    },
  };
}

function refusal(obj: KubeObject, old: KubeObject): ApiError {
  try {
    admit(obj, old);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected admit to refuse the update");
}

describe("admit on update", () => {
  it("allows ordinary spec changes", () => {
    const old = admit(deployment());
    const next = clone(old);
    next.spec.replicas = 5;
    next.spec.template.spec.containers[0].image = "nginx:1.28";
    expect(admit(next, old).spec.replicas).toBe(5);
  });

  it("refuses a changed Deployment selector with the famous message", () => {
    const old = admit(deployment());
    const next = admit(deployment({ app: "web2" }));
    const err = refusal(next, old);
    expect(err.code).toBe(422);
    expect(err.message).toBe(
      'Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web2"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    );
  });

  it("refuses renames and uid changes", () => {
    const old = admit(deployment());
    const next = clone(old);
    next.metadata.name = "web2";
    next.metadata.uid = "u2";
    expect(refusal(next, old).status.details?.causes?.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'metadata.name: Invalid value: "web2": field is immutable',
      'metadata.uid: Invalid value: "u2": field is immutable',
    ]);
  });

  it("refuses StatefulSet spec changes outside the mutable set", () => {
    const sts: KubeObject = {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name: "db", namespace: "default" },
      spec: {
        serviceName: "db",
        selector: { matchLabels: { app: "db" } },
        template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "db", image: "postgres:16" }] } },
        volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }],
      },
    };
    const old = admit(sts);
    const scaled = clone(old);
    scaled.spec.replicas = 3;
    expect(() => admit(scaled, old)).not.toThrow();
    const grown = clone(old);
    grown.spec.volumeClaimTemplates[0].spec.resources.requests.storage = "2Gi";
    expect(refusal(grown, old).status.details?.causes).toEqual([
      {
        reason: "FieldValueForbidden",
        field: "spec",
        message:
          "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      },
    ]);
  });

  it("allows only image, activeDeadlineSeconds and added tolerations on Pods", () => {
    const old = admit({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "default" }, spec: { containers: [{ name: "c", image: "nginx:1", ports: [{ containerPort: 80 }] }] } });
    const image = clone(old);
    image.spec.containers[0].image = "nginx:2";
    image.spec.tolerations.push({ key: "k", operator: "Exists" });
    expect(() => admit(image, old)).not.toThrow();
    const port = clone(old);
    port.spec.containers[0].ports[0].containerPort = 81;
    const cause = refusal(port, old).status.details!.causes![0];
    expect(cause.field).toBe("spec");
    expect(cause.message).toMatch(/^Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`,`spec\.initContainers\[\*\]\.image`,`spec\.activeDeadlineSeconds`,`spec\.tolerations` \(only additions to existing tolerations\),`spec\.terminationGracePeriodSeconds` \(allow it to be set to 1 if it was previously negative\)/);
    expect(cause.message).toContain("spec.containers[0].ports[0].containerPort: 80 -> 81");
  });

  it("keeps the Service clusterIP when an update leaves it out, refuses a different one", () => {
    const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } };
    const old = admit(svc);
    old.spec.clusterIP = "10.96.0.10";
    old.spec.clusterIPs = ["10.96.0.10"];
    expect(admit(svc, old).spec.clusterIP).toBe("10.96.0.10");
    const moved = clone(svc);
    moved.spec.clusterIP = "10.96.0.11";
    moved.spec.clusterIPs = ["10.96.0.11"];
    expect(refusal(moved, old).status.details?.causes).toEqual([
      { reason: "FieldValueInvalid", field: "spec.clusterIPs[0]", message: 'Invalid value: []string{"10.96.0.11"}: may not change once set' },
    ]);
  });

  it("refuses changes to the Job template and selector", () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "pi", namespace: "default", uid: "j1" },
      spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "pi", image: "perl:5" }] } } },
    };
    const old = admit(job);
    const next = clone(old);
    next.spec.template.spec.containers[0].image = "perl:6";
    const causes = refusal(next, old).status.details!.causes!;
    expect(causes.map((c) => c.field)).toEqual(["spec.template"]);
    expect(causes[0].message).toMatch(/field is immutable$/);
  });

  it("freezes immutable Secrets and ConfigMaps", () => {
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default" }, immutable: true, data: { a: "1" } } as KubeObject;
    const old = admit(cm);
    const next = clone(old);
    next.data.a = "2";
    expect(refusal(next, old).status.details?.causes).toEqual([
      { reason: "FieldValueForbidden", field: "data", message: "Forbidden: field is immutable when `immutable` is set" },
    ]);
    const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "default" }, type: "Opaque" } as KubeObject;
    const oldSecret = admit(secret);
    const retyped = clone(oldSecret);
    retyped.type = "kubernetes.io/basic-auth";
    retyped.data = { username: "eA==" };
    expect(refusal(retyped, oldSecret).status.details?.causes).toEqual([
      { reason: "FieldValueInvalid", field: "type", message: 'Invalid value: "kubernetes.io/basic-auth": field is immutable' },
    ]);
  });

  it("lets a PVC grow but not change anything else", () => {
    const pvc: KubeObject = {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: { name: "data", namespace: "default" },
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } },
    };
    const old = admit(pvc);
    old.status = { phase: "Bound", capacity: { storage: "1Gi" } };
    const grown = clone(old);
    grown.spec.resources.requests.storage = "2Gi";
    expect(() => admit(grown, old)).not.toThrow();
    const remoded = clone(old);
    remoded.spec.accessModes = ["ReadWriteMany"];
    expect(refusal(remoded, old).status.details?.causes?.[0].message).toMatch(/^Forbidden: spec is immutable after creation except resources\.requests/);
  });
});

import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/api/errors.js";
import { KINDS, kindFor, resolveResourceName, storageKey } from "../../src/api/kinds.js";

function refusal(apiVersion: string, kind: string): ApiError {
  try {
    kindFor(apiVersion, kind);
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error(`${apiVersion} ${kind} was accepted`);
}

describe("kind registry", () => {
  it("serves every kind of issue 2 with its resource, short names and scope", () => {
    const names = KINDS.map((k) => `${k.apiVersion} ${k.kind}`);
    for (const expected of [
      "v1 Namespace", "v1 Node", "v1 Pod", "v1 Service", "v1 Endpoints", "v1 ConfigMap", "v1 Secret", "v1 ServiceAccount",
      "v1 PersistentVolume", "v1 PersistentVolumeClaim", "v1 Event", "v1 ReplicationController", "apps/v1 Deployment",
      "apps/v1 ReplicaSet", "apps/v1 StatefulSet", "apps/v1 DaemonSet", "apps/v1 ControllerRevision", "batch/v1 Job",
      "batch/v1 CronJob", "autoscaling/v2 HorizontalPodAutoscaler", "autoscaling/v1 HorizontalPodAutoscaler",
      "discovery.k8s.io/v1 EndpointSlice", "networking.k8s.io/v1 Ingress", "networking.k8s.io/v1 IngressClass",
      "networking.k8s.io/v1 NetworkPolicy", "storage.k8s.io/v1 StorageClass", "rbac.authorization.k8s.io/v1 Role",
      "rbac.authorization.k8s.io/v1 ClusterRole", "rbac.authorization.k8s.io/v1 RoleBinding",
      "rbac.authorization.k8s.io/v1 ClusterRoleBinding", "policy/v1 PodDisruptionBudget", "coordination.k8s.io/v1 Lease",
      "events.k8s.io/v1 Event",
    ]) expect(names).toContain(expected);
    const deploy = kindFor("apps/v1", "Deployment");
    expect(deploy).toMatchObject({ group: "apps", version: "v1", resource: "deployments", shortNames: ["deploy"], namespaced: true });
    expect(kindFor("v1", "Node").namespaced).toBe(false);
    expect(kindFor("v1", "PersistentVolume").namespaced).toBe(false);
    expect(kindFor("storage.k8s.io/v1", "StorageClass").shortNames).toEqual(["sc"]);
  });

  it("refuses an unknown kind with kubectl's no-matches message", () => {
    const err = refusal("example.com/v1", "Widget");
    expect(err.status.code).toBe(404);
    expect(err.message).toBe('no matches for kind "Widget" in version "example.com/v1"');
  });

  it("names the removal release and the replacement for removed API versions", () => {
    const deploy = refusal("extensions/v1beta1", "Deployment");
    expect(deploy.message).toContain('no matches for kind "Deployment" in version "extensions/v1beta1"');
    expect(deploy.message).toContain("removed in Kubernetes v1.16");
    expect(deploy.message).toContain("apiVersion: apps/v1");
    expect(refusal("apps/v1beta2", "StatefulSet").message).toContain("v1.16");
    expect(refusal("policy/v1beta1", "PodSecurityPolicy").message).toContain("v1.25");
    expect(refusal("policy/v1beta1", "PodSecurityPolicy").message).toContain("Pod Security Admission");
    expect(refusal("autoscaling/v2beta2", "HorizontalPodAutoscaler").message).toContain("v1.26");
    expect(refusal("extensions/v1beta1", "Ingress").message).toContain("networking.k8s.io/v1");
  });

  it("points at the served version when a kind is asked for in the wrong group", () => {
    expect(refusal("v1", "Deployment").message).toContain("Deployment is served as apiVersion apps/v1");
    expect(refusal("apps/v1", "deployment").message).toContain('did you mean "Deployment"');
  });

  it("refuses an object without apiVersion or kind as a bad request", () => {
    const err = refusal("", "Pod");
    expect(err.status.code).toBe(400);
    expect(err.message).toContain("apiVersion is required");
  });

  it("resolves names as typed on a command line", () => {
    expect(resolveResourceName("deploy")?.kind).toBe("Deployment");
    expect(resolveResourceName("pods")?.kind).toBe("Pod");
    expect(resolveResourceName("svc")?.kind).toBe("Service");
    expect(resolveResourceName("hpa")?.apiVersion).toBe("autoscaling/v2");
    expect(resolveResourceName("deployments.apps")?.kind).toBe("Deployment");
  });

  it("keys objects as the kube-apiserver keys etcd", () => {
    expect(storageKey(kindFor("v1", "Pod"), "default", "web")).toBe("/registry/pods/default/web");
    expect(storageKey(kindFor("v1", "Node"), undefined, "worker-1")).toBe("/registry/nodes/worker-1");
    expect(storageKey(kindFor("autoscaling/v1", "HorizontalPodAutoscaler"), "a", "b")).toBe(
      storageKey(kindFor("autoscaling/v2", "HorizontalPodAutoscaler"), "a", "b"),
    );
  });
});

import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { KIND_ORDER, applyOrder, compareForApply, deletionOrder, kindRank } from "../../src/gitops/order.js";
import { TRACKING_ANNOTATION, addTracking, isTrackedBy, parseTracking, parseTrackingId, repoId, trackingIdOf } from "../../src/gitops/tracking.js";

const obj = (apiVersion: string, kind: string, name: string, namespace?: string): KubeObject => ({
  apiVersion,
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

const label = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ? o.metadata.namespace + "/" : ""}${o.metadata.name}`;

describe("apply order", () => {
  const repo: KubeObject[] = [
    obj("networking.k8s.io/v1", "Ingress", "web", "shop"),
    obj("autoscaling/v2", "HorizontalPodAutoscaler", "web", "shop"),
    obj("apps/v1", "Deployment", "web", "shop"),
    obj("v1", "Pod", "debug", "shop"),
    obj("apps/v1", "StatefulSet", "db", "shop"),
    obj("v1", "Service", "web", "shop"),
    obj("v1", "PersistentVolumeClaim", "data", "shop"),
    obj("v1", "PersistentVolume", "pv-1"),
    obj("storage.k8s.io/v1", "StorageClass", "fast"),
    obj("v1", "Secret", "db", "shop"),
    obj("v1", "ConfigMap", "web", "shop"),
    obj("rbac.authorization.k8s.io/v1", "RoleBinding", "web", "shop"),
    obj("rbac.authorization.k8s.io/v1", "ClusterRole", "reader"),
    obj("rbac.authorization.k8s.io/v1", "Role", "web", "shop"),
    obj("v1", "ServiceAccount", "web", "shop"),
    obj("networking.k8s.io/v1", "IngressClass", "nginx"),
    obj("example.com/v1", "Widget", "w", "shop"),
    obj("coordination.k8s.io/v1", "Lease", "l", "shop"),
    obj("v1", "Namespace", "shop"),
    obj("batch/v1", "CronJob", "nightly", "shop"),
    obj("batch/v1", "Job", "migrate", "shop"),
  ];

  it("puts namespaces first, then accounts, RBAC, config, storage, Services, workloads, autoscalers, ingress, then the rest", () => {
    expect(applyOrder(repo).map(label)).toEqual([
      "Namespace/shop",
      "ServiceAccount/shop/web",
      "Role/shop/web",
      "ClusterRole/reader",
      "RoleBinding/shop/web",
      "ConfigMap/shop/web",
      "Secret/shop/db",
      "StorageClass/fast",
      "PersistentVolume/pv-1",
      "PersistentVolumeClaim/shop/data",
      "Service/shop/web",
      "Deployment/shop/web",
      "StatefulSet/shop/db",
      "Job/shop/migrate",
      "CronJob/shop/nightly",
      "Pod/shop/debug",
      "HorizontalPodAutoscaler/shop/web",
      "IngressClass/nginx",
      "Ingress/shop/web",
      "Lease/shop/l",
      "Widget/shop/w",
    ]);
  });

  it("breaks ties by kind, then namespace, then name, whatever the order of the files", () => {
    const cms = [obj("v1", "ConfigMap", "b", "z"), obj("v1", "ConfigMap", "a", "z"), obj("v1", "ConfigMap", "c", "a")];
    expect(applyOrder(cms).map(label)).toEqual(["ConfigMap/a/c", "ConfigMap/z/a", "ConfigMap/z/b"]);
    expect(applyOrder([...cms].reverse()).map(label)).toEqual(applyOrder(cms).map(label));
    expect(compareForApply(obj("x/v1", "Apple", "a"), obj("x/v1", "Banana", "a"))).toBeLessThan(0);
  });

  it("deletes in the exact reverse order, and leaves its input alone", () => {
    const copy = [...repo];
    expect(deletionOrder(repo).map(label)).toEqual(applyOrder(repo).map(label).reverse());
    expect(repo).toEqual(copy);
    expect(deletionOrder(repo)[deletionOrder(repo).length - 1].kind).toBe("Namespace");
  });

  it("ranks every listed kind before unknown kinds", () => {
    expect(kindRank("Namespace")).toBe(0);
    expect(kindRank("Widget")).toBe(KIND_ORDER.length);
    expect(kindRank("HorizontalPodAutoscaler")).toBeGreaterThan(kindRank("StatefulSet"));
    expect(kindRank("Ingress")).toBeGreaterThan(kindRank("Service"));
  });
});

describe("tracking annotation (Argo CD annotation method)", () => {
  it("repoId is stable per absolute path, differs between clones, and never contains ':'", () => {
    const a = repoId("/home/learner/cluster-repo");
    expect(a).toMatch(/^cluster-repo-[0-9a-f]{8}$/);
    expect(repoId("/home/learner/cluster-repo/")).toBe(a);
    expect(repoId("/home/other/cluster-repo")).not.toBe(a);
    expect(repoId(".")).toBe(repoId(resolve(".")));
    expect(repoId("/x", "my repo:main")).toBe("my-repo-main");
    expect(() => repoId("/x", "::")).toThrow(/no usable characters/);
  });

  it("writes <repo>:<group>/<kind>:<namespace>/<name>, with an empty group for core kinds and an empty namespace for cluster-scoped ones", () => {
    expect(trackingIdOf(obj("apps/v1", "Deployment", "web", "shop"), "r1")).toBe("r1:apps/Deployment:shop/web");
    expect(trackingIdOf(obj("v1", "ConfigMap", "cfg", "shop"), "r1")).toBe("r1:/ConfigMap:shop/cfg");
    expect(trackingIdOf(obj("v1", "Namespace", "shop"), "r1")).toBe("r1:/Namespace:/shop");
    const tracked = addTracking({ ...obj("apps/v1", "Deployment", "web", "shop"), metadata: { name: "web", namespace: "shop", annotations: { keep: "me" } } }, "r1");
    expect(tracked.metadata.annotations).toEqual({ keep: "me", [TRACKING_ANNOTATION]: "r1:apps/Deployment:shop/web" });
    expect(parseTracking(tracked)).toEqual({ repoId: "r1", group: "apps", kind: "Deployment", namespace: "shop", name: "web" });
    expect(() => trackingIdOf(obj("v1", "ConfigMap", "", "shop"), "r1")).toThrow(/metadata\.name/);
  });

  it("parses only well-formed ids (as ParseAppInstanceValue)", () => {
    expect(parseTrackingId("r1:/Namespace:/shop")).toEqual({ repoId: "r1", group: "", kind: "Namespace", namespace: "", name: "shop" });
    for (const bad of ["", "r1", "r1:apps/Deployment", "r1:Deployment:shop/web", "r1:apps/Deployment:web", ":apps/Deployment:shop/web"]) {
      expect(parseTrackingId(bad)).toBeUndefined();
    }
  });

  it("prunes only objects tracked by this repository whose annotation names the object itself", () => {
    const web = addTracking(obj("apps/v1", "Deployment", "web", "shop"), "r1");
    expect(isTrackedBy(web, "r1")).toBe(true);
    expect(isTrackedBy(web, "r2")).toBe(false);
    // Created by hand: no annotation.
    expect(isTrackedBy(obj("apps/v1", "Deployment", "hand", "shop"), "r1")).toBe(false);
    // Copied with its annotations to another name, namespace or kind: not ours to prune (argo-cd isSelfReferencedObj).
    const copy = (patch: Partial<KubeObject["metadata"]>, kind = "Deployment", apiVersion = "apps/v1"): KubeObject => ({ ...web, apiVersion, kind, metadata: { ...web.metadata, ...patch } });
    expect(isTrackedBy(copy({ name: "web-copy" }), "r1")).toBe(false);
    expect(isTrackedBy(copy({ namespace: "other" }), "r1")).toBe(false);
    expect(isTrackedBy(copy({}, "StatefulSet"), "r1")).toBe(false);
    expect(isTrackedBy(copy({}, "Deployment", "extensions/v1beta1"), "r1")).toBe(false);
    // A malformed annotation is not ownership.
    expect(isTrackedBy(copy({ annotations: { [TRACKING_ANNOTATION]: "r1" } }), "r1")).toBe(false);
    // Cluster-scoped objects.
    expect(isTrackedBy(addTracking(obj("v1", "Namespace", "shop"), "r1"), "r1")).toBe(true);
  });
});

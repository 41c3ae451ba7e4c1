/**
 * Defaults pinned against upstream `SetDefaults_*` (pkg/apis/<group>/v1/defaults.go) and the
 * defaulting admission plugins.
 */
import { describe, expect, it } from "vitest";
import { applyDefaults, applyJobSelector, defaultPullPolicy } from "../../src/api/defaults.js";
import { deepFreeze, type KubeObject } from "../../src/api/types.js";

const podSpec = () => ({ containers: [{ name: "app", image: "nginx:1.27" }] });
const template = (labels: Record<string, string> = { app: "web" }) => ({ metadata: { labels }, spec: podSpec() });

function d(obj: Partial<KubeObject> & { apiVersion: string; kind: string }): any {
  return applyDefaults({ metadata: { name: "x", namespace: "default" }, ...obj } as KubeObject);
}

describe("applyDefaults", () => {
  it("never mutates its input (works on frozen store objects)", () => {
    const input = deepFreeze({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { template: template() } }) as KubeObject;
    const out = applyDefaults(input);
    expect(out).not.toBe(input);
    expect(input.spec.replicas).toBeUndefined();
    expect(out.spec.replicas).toBe(1);
  });

  it("defaults a Deployment like SetDefaults_Deployment", () => {
    const spec = d({ apiVersion: "apps/v1", kind: "Deployment", spec: { selector: { matchLabels: { app: "web" } }, template: template() } }).spec;
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: "25%", maxSurge: "25%" } });
    expect(spec.revisionHistoryLimit).toBe(10);
    expect(spec.progressDeadlineSeconds).toBe(600);
  });

  it("leaves a Recreate strategy without rollingUpdate", () => {
    const spec = d({ apiVersion: "apps/v1", kind: "Deployment", spec: { strategy: { type: "Recreate" }, template: template() } }).spec;
    expect(spec.strategy).toEqual({ type: "Recreate" });
  });

  it("defaults every pod template spec (SetDefaults_PodSpec, SetDefaults_Container, SetDefaults_Probe)", () => {
    const t = template();
    (t.spec.containers[0] as any).ports = [{ containerPort: 80 }];
    (t.spec.containers[0] as any).livenessProbe = { httpGet: { port: 80 } };
    (t.spec.containers[0] as any).env = [{ name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }];
    const spec = d({ apiVersion: "apps/v1", kind: "Deployment", spec: { template: t } }).spec.template.spec;
    expect(spec).toMatchObject({
      restartPolicy: "Always",
      terminationGracePeriodSeconds: 30,
      dnsPolicy: "ClusterFirst",
      schedulerName: "default-scheduler",
      securityContext: {},
    });
    // Pod-only defaults do not reach templates.
    expect(spec.enableServiceLinks).toBeUndefined();
    expect(spec.tolerations).toBeUndefined();
    const c = spec.containers[0];
    expect(c).toMatchObject({ terminationMessagePath: "/dev/termination-log", terminationMessagePolicy: "File", imagePullPolicy: "IfNotPresent" });
    expect(c.ports[0].protocol).toBe("TCP");
    expect(c.livenessProbe).toEqual({
      httpGet: { port: 80, path: "/", scheme: "HTTP" },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.env[0].valueFrom.fieldRef.apiVersion).toBe("v1");
  });

  it("picks the pull policy from the image tag like parsers.ParseImageName", () => {
    expect(defaultPullPolicy("nginx")).toBe("Always");
    expect(defaultPullPolicy("nginx:latest")).toBe("Always");
    expect(defaultPullPolicy("localhost:5000/nginx")).toBe("Always");
    expect(defaultPullPolicy("nginx:1.27")).toBe("IfNotPresent");
    expect(defaultPullPolicy("nginx@sha256:abcd")).toBe("IfNotPresent");
    expect(defaultPullPolicy("registry:5000/team/nginx:1.0")).toBe("IfNotPresent");
  });

  it("defaults volumes: secret/configMap mode 420, emptyDir {}, hostPath type '', no source becomes emptyDir", () => {
    const spec = d({
      apiVersion: "v1",
      kind: "Pod",
      spec: {
        ...podSpec(),
        volumes: [{ name: "s", secret: { secretName: "s" } }, { name: "c", configMap: { name: "c" } }, { name: "h", hostPath: { path: "/tmp" } }, { name: "e" }],
      },
    }).spec;
    expect(spec.volumes).toEqual([
      { name: "s", secret: { secretName: "s", defaultMode: 420 } },
      { name: "c", configMap: { name: "c", defaultMode: 420 } },
      { name: "h", hostPath: { path: "/tmp", type: "" } },
      { name: "e", emptyDir: {} },
    ]);
  });

  it("gives Pods the pod-only defaults and the admission plugin defaults", () => {
    const spec = d({
      apiVersion: "v1",
      kind: "Pod",
      spec: { containers: [{ name: "app", image: "nginx", resources: { limits: { cpu: "500m", memory: "128Mi" } } }] },
    }).spec;
    expect(spec.enableServiceLinks).toBe(true);
    expect(spec.containers[0].resources.requests).toEqual({ cpu: "500m", memory: "128Mi" });
    expect(spec.tolerations).toEqual([
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]);
    expect(spec.priority).toBe(0);
    expect(spec.preemptionPolicy).toBe("PreemptLowerPriority");
    expect(spec.serviceAccountName).toBe("default");
    expect(spec.serviceAccount).toBe("default");
  });

  it("does not add a default toleration the pod already has", () => {
    const spec = d({
      apiVersion: "v1",
      kind: "Pod",
      spec: { ...podSpec(), tolerations: [{ key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 }] },
    }).spec;
    expect(spec.tolerations).toEqual([
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 10 },
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    ]);
    const all = d({ apiVersion: "v1", kind: "Pod", spec: { ...podSpec(), tolerations: [{ operator: "Exists" }] } }).spec;
    expect(all.tolerations).toEqual([{ operator: "Exists" }]);
  });

  it("defaults ReplicaSet and ReplicationController (selector and labels from the template)", () => {
    expect(d({ apiVersion: "apps/v1", kind: "ReplicaSet", spec: { template: template() } }).spec.replicas).toBe(1);
    const rc = d({ apiVersion: "v1", kind: "ReplicationController", spec: { template: template({ app: "rc" }) } });
    expect(rc.spec.replicas).toBe(1);
    expect(rc.spec.selector).toEqual({ app: "rc" });
    expect(rc.metadata.labels).toEqual({ app: "rc" });
  });

  it("defaults a StatefulSet like SetDefaults_StatefulSet", () => {
    const spec = d({
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      spec: { template: template(), volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } }] },
    }).spec;
    expect(spec.podManagementPolicy).toBe("OrderedReady");
    expect(spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { partition: 0 } });
    expect(spec.replicas).toBe(1);
    expect(spec.revisionHistoryLimit).toBe(10);
    expect(spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(spec.volumeClaimTemplates[0].spec.volumeMode).toBe("Filesystem");
    expect(spec.volumeClaimTemplates[0].status).toEqual({ phase: "Pending" });
  });

  it("defaults a DaemonSet like SetDefaults_DaemonSet", () => {
    const spec = d({ apiVersion: "apps/v1", kind: "DaemonSet", spec: { template: template() } }).spec;
    expect(spec.updateStrategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    expect(spec.revisionHistoryLimit).toBe(10);
  });

  it("defaults a Job like SetDefaults_Job", () => {
    const t = template({ app: "batch" });
    t.spec = { ...t.spec, restartPolicy: "Never" } as any;
    const job = d({ apiVersion: "batch/v1", kind: "Job", spec: { template: t } });
    expect(job.spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: "NonIndexed", suspend: false, podReplacementPolicy: "TerminatingOrFailed" });
    expect(job.metadata.labels).toEqual({ app: "batch" });
    const workQueue = d({ apiVersion: "batch/v1", kind: "Job", spec: { parallelism: 3, template: t } }).spec;
    expect(workQueue.completions).toBeUndefined();
    expect(workQueue.parallelism).toBe(3);
  });

  it("generates the Job selector and labels from the uid (registry generateSelector)", () => {
    const job = applyJobSelector({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "pi", uid: "u-1" }, spec: { template: { spec: podSpec() } } });
    expect(job.spec.selector).toEqual({ matchLabels: { "batch.kubernetes.io/controller-uid": "u-1" } });
    expect(job.spec.template.metadata.labels).toEqual({
      "batch.kubernetes.io/controller-uid": "u-1",
      "controller-uid": "u-1",
      "batch.kubernetes.io/job-name": "pi",
      "job-name": "pi",
    });
    expect(job.metadata.labels).toEqual(job.spec.template.metadata.labels);
    const manual = applyJobSelector({ apiVersion: "batch/v1", kind: "Job", metadata: { name: "pi", uid: "u-1" }, spec: { manualSelector: true } });
    expect(manual.spec.selector).toBeUndefined();
  });

  it("defaults a CronJob like SetDefaults_CronJob", () => {
    const spec = d({ apiVersion: "batch/v1", kind: "CronJob", spec: { schedule: "* * * * *", jobTemplate: { spec: { template: template() } } } }).spec;
    expect(spec).toMatchObject({ concurrencyPolicy: "Allow", suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(spec.jobTemplate.spec.template.spec.dnsPolicy).toBe("ClusterFirst");
  });

  it("defaults a Service like SetDefaults_Service", () => {
    const spec = d({ apiVersion: "v1", kind: "Service", spec: { selector: { app: "web" }, ports: [{ port: 80 }] } }).spec;
    expect(spec).toMatchObject({
      type: "ClusterIP",
      sessionAffinity: "None",
      internalTrafficPolicy: "Cluster",
      ipFamilyPolicy: "SingleStack",
      ipFamilies: ["IPv4"],
    });
    expect(spec.ports).toEqual([{ port: 80, protocol: "TCP", targetPort: 80 }]);
    expect(spec.externalTrafficPolicy).toBeUndefined();
    const lb = d({ apiVersion: "v1", kind: "Service", spec: { type: "LoadBalancer", ports: [{ port: 80, targetPort: "http" }] } }).spec;
    expect(lb).toMatchObject({ externalTrafficPolicy: "Cluster", allocateLoadBalancerNodePorts: true });
    expect(lb.ports[0].targetPort).toBe("http");
    const affinity = d({ apiVersion: "v1", kind: "Service", spec: { sessionAffinity: "ClientIP", ports: [{ port: 80 }] } }).spec;
    expect(affinity.sessionAffinityConfig).toEqual({ clientIP: { timeoutSeconds: 10800 } });
  });

  it("folds Secret.stringData into base64 data and defaults the type", () => {
    const s = d({ apiVersion: "v1", kind: "Secret", data: { a: "eA==" }, stringData: { b: "hello", a: "y" } } as any);
    expect(s.type).toBe("Opaque");
    expect(s.data).toEqual({ a: "eQ==", b: "aGVsbG8=" });
    expect(s.stringData).toBeUndefined();
  });

  it("defaults a Namespace: finalizer, phase, name label", () => {
    const ns = applyDefaults({ apiVersion: "v1", kind: "Namespace", metadata: { name: "dev" } });
    expect(ns.spec).toEqual({ finalizers: ["kubernetes"] });
    expect(ns.status).toEqual({ phase: "Active" });
    expect(ns.metadata.labels).toEqual({ "kubernetes.io/metadata.name": "dev" });
  });

  it("defaults HPA v2 (minReplicas, cpu 80%, behavior only when given) and v1", () => {
    const ref = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };
    const v2 = d({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", spec: { scaleTargetRef: ref, maxReplicas: 5 } }).spec;
    expect(v2.minReplicas).toBe(1);
    expect(v2.metrics).toEqual([{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }]);
    expect(v2.behavior).toBeUndefined();
    const withBehavior = d({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      spec: { scaleTargetRef: ref, maxReplicas: 5, behavior: { scaleDown: { stabilizationWindowSeconds: 60 } } },
    }).spec.behavior;
    expect(withBehavior).toEqual({
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: "Max", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }] },
      scaleUp: {
        stabilizationWindowSeconds: 0,
        selectPolicy: "Max",
        policies: [
          { type: "Pods", value: 4, periodSeconds: 15 },
          { type: "Percent", value: 100, periodSeconds: 15 },
        ],
      },
    });
    const v1 = d({ apiVersion: "autoscaling/v1", kind: "HorizontalPodAutoscaler", spec: { scaleTargetRef: ref, maxReplicas: 5 } }).spec;
    expect(v1).toEqual({ scaleTargetRef: ref, maxReplicas: 5, minReplicas: 1 });
  });

  it("defaults storage kinds", () => {
    const pvc = d({ apiVersion: "v1", kind: "PersistentVolumeClaim", spec: { accessModes: ["ReadWriteOnce"] } });
    expect(pvc.spec.volumeMode).toBe("Filesystem");
    const pv = applyDefaults({ apiVersion: "v1", kind: "PersistentVolume", metadata: { name: "pv" }, spec: { hostPath: { path: "/d" } } });
    expect(pv.spec).toMatchObject({ persistentVolumeReclaimPolicy: "Retain", volumeMode: "Filesystem" });
    expect(pv.status).toEqual({ phase: "Pending" });
    const sc = applyDefaults({ apiVersion: "storage.k8s.io/v1", kind: "StorageClass", metadata: { name: "fast" }, provisioner: "x.io/p" } as KubeObject);
    expect(sc).toMatchObject({ reclaimPolicy: "Delete", volumeBindingMode: "Immediate" });
  });

  it("defaults NetworkPolicy policyTypes and port protocols", () => {
    const ingressOnly = d({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", spec: { podSelector: {}, ingress: [{ ports: [{ port: 80 }] }] } }).spec;
    expect(ingressOnly.policyTypes).toEqual(["Ingress"]);
    expect(ingressOnly.ingress[0].ports[0].protocol).toBe("TCP");
    const both = d({ apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", spec: { podSelector: {}, egress: [{}] } }).spec;
    expect(both.policyTypes).toEqual(["Ingress", "Egress"]);
  });

  it("treats null like an absent field, as Go's decoder does", () => {
    const spec = d({ apiVersion: "apps/v1", kind: "Deployment", spec: { replicas: null, template: template() } as any }).spec;
    expect(spec.replicas).toBe(1);
  });
});

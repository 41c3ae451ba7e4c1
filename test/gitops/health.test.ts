import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { HEALTH_ORDER, healthOf, isWorse, worstHealth, type HealthStatus } from "../../src/gitops/health.js";

const meta = (name: string, generation = 1, extra: Record<string, unknown> = {}) => ({
  name,
  namespace: "default",
  uid: "0b6f7c1e-3c2d-4a8e-9f00-5d1f2e3a4b5c",
  resourceVersion: "4242",
  generation,
  creationTimestamp: "2024-05-01T10:00:00Z",
  ...extra,
});

function deployment(spec: Record<string, unknown>, status: Record<string, unknown>, generation = 2): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta("web", generation, { annotations: { "deployment.kubernetes.io/revision": "2" } }),
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "nginx:1.27" }] } }, ...spec },
    status,
  };
}

const availableConditions = [
  { type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", lastUpdateTime: "2024-05-01T10:01:00Z", lastTransitionTime: "2024-05-01T10:01:00Z" },
  { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: 'ReplicaSet "web-5d9c7b8f4" has successfully progressed.', lastUpdateTime: "2024-05-01T10:01:00Z", lastTransitionTime: "2024-05-01T10:00:00Z" },
];

describe("Deployment health (health_deployment.go, kubectl rollout status)", () => {
  it("Healthy when every replica is updated and available", () => {
    const d = deployment({}, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, conditions: availableConditions });
    expect(healthOf(d)).toEqual({ status: "Healthy", message: "" });
  });

  it("paused → Suspended 'Deployment is paused'", () => {
    expect(healthOf(deployment({ paused: true }, { observedGeneration: 2, replicas: 3, updatedReplicas: 1 }))).toEqual({ status: "Suspended", message: "Deployment is paused" });
  });

  it("observedGeneration < generation → Progressing 'observed deployment generation less than desired generation'", () => {
    expect(healthOf(deployment({}, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3 }))).toEqual({
      status: "Progressing",
      message: "Waiting for rollout to finish: observed deployment generation less than desired generation",
    });
    // A brand-new Deployment without any status yet.
    expect(healthOf(deployment({}, {}, 1)).status).toBe("Progressing");
  });

  it("Progressing condition ProgressDeadlineExceeded → Degraded", () => {
    const d = deployment({ progressDeadlineSeconds: 600 }, {
      observedGeneration: 2,
      replicas: 4,
      updatedReplicas: 1,
      availableReplicas: 3,
      unavailableReplicas: 1,
      conditions: [
        availableConditions[0],
        { type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: 'ReplicaSet "web-7f8d9c6b5" has timed out progressing.' },
      ],
    });
    expect(healthOf(d)).toEqual({ status: "Degraded", message: 'Deployment "web" exceeded its progress deadline' });
  });

  it("updatedReplicas < replicas → Progressing 'N out of M new replicas have been updated...'", () => {
    const d = deployment({}, { observedGeneration: 2, replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: availableConditions });
    expect(healthOf(d)).toEqual({ status: "Progressing", message: "Waiting for rollout to finish: 1 out of 3 new replicas have been updated..." });
  });

  it("old replicas left → Progressing 'N old replicas are pending termination...'", () => {
    const d = deployment({}, { observedGeneration: 2, replicas: 4, updatedReplicas: 3, availableReplicas: 3 });
    expect(healthOf(d)).toEqual({ status: "Progressing", message: "Waiting for rollout to finish: 1 old replicas are pending termination..." });
  });

  it("availableReplicas < updatedReplicas → Progressing 'N of M updated replicas are available...'", () => {
    const d = deployment({}, { observedGeneration: 2, replicas: 3, updatedReplicas: 3, availableReplicas: 2 });
    expect(healthOf(d)).toEqual({ status: "Progressing", message: "Waiting for rollout to finish: 2 of 3 updated replicas are available..." });
  });
});

describe("StatefulSet health (health_statefulset.go)", () => {
  const sts = (spec: Record<string, unknown>, status: Record<string, unknown>): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: meta("db", 3),
    spec: { replicas: 3, serviceName: "db", selector: { matchLabels: { app: "db" } }, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 0 } }, ...spec },
    status,
  });

  it("observedGeneration 0 or behind → Progressing 'Waiting for statefulset spec update to be observed...'", () => {
    expect(healthOf(sts({}, { replicas: 0 }))).toEqual({ status: "Progressing", message: "Waiting for statefulset spec update to be observed..." });
    expect(healthOf(sts({}, { observedGeneration: 2 })).status).toBe("Progressing");
  });

  it("readyReplicas < replicas → Progressing 'Waiting for N pods to be ready...'", () => {
    expect(healthOf(sts({}, { observedGeneration: 3, replicas: 2, readyReplicas: 1, currentReplicas: 2, updatedReplicas: 2 }))).toEqual({
      status: "Progressing",
      message: "Waiting for 2 pods to be ready...",
    });
  });

  it("RollingUpdate with partition: updated < replicas - partition → Progressing, else Healthy 'partitioned roll out complete'", () => {
    const base = { observedGeneration: 3, replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 0, currentRevision: "db-6b8f", updateRevision: "db-7c9d" };
    expect(healthOf(sts({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } }, base))).toEqual({
      status: "Progressing",
      message: "Waiting for partitioned roll out to finish: 0 out of 2 new pods have been updated...",
    });
    expect(healthOf(sts({ updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition: 1 } } }, { ...base, updatedReplicas: 2 }))).toEqual({
      status: "Healthy",
      message: "partitioned roll out complete: 2 new pods have been updated...",
    });
  });

  it("OnDelete → Healthy 'statefulset has N ready pods'", () => {
    expect(healthOf(sts({ updateStrategy: { type: "OnDelete" } }, { observedGeneration: 3, replicas: 3, readyReplicas: 3 }))).toEqual({
      status: "Healthy",
      message: "statefulset has 3 ready pods",
    });
  });

  it("updateRevision != currentRevision (no rollingUpdate block) → Progressing, equal → Healthy", () => {
    const status = { observedGeneration: 3, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 1, currentRevision: "db-6b8f", updateRevision: "db-7c9d" };
    expect(healthOf(sts({ updateStrategy: { type: "RollingUpdate" } }, status))).toEqual({
      status: "Progressing",
      message: "waiting for statefulset rolling update to complete 1 pods at revision db-7c9d...",
    });
    expect(healthOf(sts({ updateStrategy: { type: "RollingUpdate" } }, { ...status, updatedReplicas: 3, currentRevision: "db-7c9d" }))).toEqual({
      status: "Healthy",
      message: "statefulset rolling update complete 3 pods at revision db-7c9d...",
    });
  });
});

describe("DaemonSet health (health_daemonset.go)", () => {
  const ds = (strategy: string, status: Record<string, unknown>, generation = 1): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: meta("node-agent", generation),
    spec: { selector: { matchLabels: { app: "agent" } }, updateStrategy: { type: strategy } },
    status,
  });

  it("generation ahead → Progressing; OnDelete → Healthy; updated or available short → Progressing; else Healthy", () => {
    expect(healthOf(ds("RollingUpdate", { observedGeneration: 1 }, 2))).toEqual({
      status: "Progressing",
      message: "Waiting for rollout to finish: observed daemon set generation less than desired generation",
    });
    expect(healthOf(ds("OnDelete", { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 1 }))).toEqual({
      status: "Healthy",
      message: "daemon set 1 out of 3 new pods have been updated",
    });
    expect(healthOf(ds("RollingUpdate", { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 3 }))).toEqual({
      status: "Progressing",
      message: 'Waiting for daemon set "node-agent" rollout to finish: 2 out of 3 new pods have been updated...',
    });
    expect(healthOf(ds("RollingUpdate", { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }))).toEqual({
      status: "Progressing",
      message: 'Waiting for daemon set "node-agent" rollout to finish: 2 of 3 updated pods are available...',
    });
    expect(healthOf(ds("RollingUpdate", { observedGeneration: 1, desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 })).status).toBe("Healthy");
  });
});

describe("ReplicaSet health (health_replicaset.go)", () => {
  const rs = (status: Record<string, unknown>, generation = 1): KubeObject => ({
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    metadata: meta("web-5d9c7b8f4", generation, { ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: "x", controller: true }] }),
    spec: { replicas: 3, selector: { matchLabels: { app: "web" } } },
    status,
  });

  it("ReplicaFailure=True → Degraded with the condition's message", () => {
    const status = {
      observedGeneration: 1,
      replicas: 1,
      availableReplicas: 1,
      conditions: [{ type: "ReplicaFailure", status: "True", reason: "FailedCreate", message: 'pods "web-5d9c7b8f4-x" is forbidden: exceeded quota: compute' }],
    };
    expect(healthOf(rs(status))).toEqual({ status: "Degraded", message: 'pods "web-5d9c7b8f4-x" is forbidden: exceeded quota: compute' });
  });

  it("availableReplicas < replicas → Progressing; all available → Healthy; ReplicationController the same", () => {
    expect(healthOf(rs({ observedGeneration: 1, replicas: 3, availableReplicas: 1 }))).toEqual({
      status: "Progressing",
      message: "Waiting for rollout to finish: 1 out of 3 new replicas are available...",
    });
    expect(healthOf(rs({ observedGeneration: 1, replicas: 3, readyReplicas: 3, availableReplicas: 3 })).status).toBe("Healthy");
    const rc: KubeObject = { apiVersion: "v1", kind: "ReplicationController", metadata: meta("legacy"), spec: { replicas: 2 }, status: { observedGeneration: 1, replicas: 2, availableReplicas: 1 } };
    expect(healthOf(rc).status).toBe("Progressing");
  });
});

describe("Pod health (health_pod.go)", () => {
  const pod = (restartPolicy: string | undefined, status: Record<string, unknown>): KubeObject => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: meta("web-5d9c7b8f4-abcde"),
    spec: { containers: [{ name: "web", image: "nginx:1.27" }], ...(restartPolicy ? { restartPolicy } : {}), nodeName: "node-1" },
    status,
  });
  const ready = (s: string) => [
    { type: "Initialized", status: "True" },
    { type: "Ready", status: s },
    { type: "ContainersReady", status: s },
    { type: "PodScheduled", status: "True" },
  ];

  it("restartPolicy Always + CrashLoopBackOff → Degraded with the waiting message", () => {
    const p = pod("Always", {
      phase: "Running",
      conditions: ready("False"),
      containerStatuses: [
        {
          name: "web",
          ready: false,
          restartCount: 4,
          state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 1m20s restarting failed container=web pod=web-5d9c7b8f4-abcde_default(0b6f)" } },
          lastState: { terminated: { exitCode: 1, reason: "Error", startedAt: "2024-05-01T10:02:00Z", finishedAt: "2024-05-01T10:02:03Z" } },
        },
      ],
    });
    expect(healthOf(p)).toEqual({ status: "Degraded", message: "back-off 1m20s restarting failed container=web pod=web-5d9c7b8f4-abcde_default(0b6f)" });
  });

  it("restartPolicy Always + ImagePullBackOff / ErrImagePull → Degraded", () => {
    for (const reason of ["ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError"]) {
      const p = pod(undefined, {
        phase: "Pending",
        containerStatuses: [{ name: "web", ready: false, restartCount: 0, state: { waiting: { reason, message: `${reason} for "nginx:nope"` } } }],
      });
      expect(healthOf(p)).toEqual({ status: "Degraded", message: `${reason} for "nginx:nope"` });
    }
  });

  it("restartPolicy Never + ImagePullBackOff stays Progressing (a hook pod may still recover)", () => {
    const p = pod("Never", { phase: "Pending", message: "", containerStatuses: [{ name: "web", state: { waiting: { reason: "ImagePullBackOff" } } }] });
    expect(healthOf(p).status).toBe("Progressing");
  });

  it("Running + Always + Ready → Healthy; not ready and never terminated → Progressing; not ready after a termination → Degraded", () => {
    expect(healthOf(pod("Always", { phase: "Running", conditions: ready("True"), containerStatuses: [{ name: "web", ready: true, state: { running: {} } }] })).status).toBe("Healthy");
    expect(healthOf(pod("Always", { phase: "Running", conditions: ready("False"), containerStatuses: [{ name: "web", ready: false, state: { running: {} } }] })).status).toBe("Progressing");
    expect(
      healthOf(pod("Always", { phase: "Running", conditions: ready("False"), containerStatuses: [{ name: "web", ready: false, state: { running: {} }, lastState: { terminated: { exitCode: 137, reason: "OOMKilled" } } }] }))
        .status,
    ).toBe("Degraded");
  });

  it("Running + OnFailure/Never → Progressing; Pending → Progressing with the pod message", () => {
    expect(healthOf(pod("OnFailure", { phase: "Running", conditions: ready("True") })).status).toBe("Progressing");
    expect(healthOf(pod("Always", { phase: "Pending", message: "0/3 nodes are available: 3 Insufficient cpu." }))).toEqual({
      status: "Progressing",
      message: "0/3 nodes are available: 3 Insufficient cpu.",
    });
  });

  it("Succeeded → Healthy; Failed → Degraded with the pod message, else the container's exit code or OOMKilled", () => {
    expect(healthOf(pod("Never", { phase: "Succeeded", containerStatuses: [{ name: "web", state: { terminated: { exitCode: 0, reason: "Completed" } } }] })).status).toBe("Healthy");
    expect(healthOf(pod("Never", { phase: "Failed", message: "Pod was active on the node longer than the specified deadline" }))).toEqual({
      status: "Degraded",
      message: "Pod was active on the node longer than the specified deadline",
    });
    expect(healthOf(pod("Never", { phase: "Failed", containerStatuses: [{ name: "web", state: { terminated: { exitCode: 2, reason: "Error" } } }] }))).toEqual({
      status: "Degraded",
      message: 'container "web" failed with exit code 2',
    });
    expect(healthOf(pod("Never", { phase: "Failed", containerStatuses: [{ name: "web", state: { terminated: { exitCode: 137, reason: "OOMKilled" } } }] }))).toEqual({ status: "Degraded", message: "OOMKilled" });
  });

  it("an unknown phase → Unknown", () => {
    expect(healthOf(pod("Always", { phase: "Unknown" })).status).toBe("Unknown");
  });
});

describe("Service, Ingress, PVC health (health_service.go, health_ingress.go, health_pvc.go)", () => {
  it("Service LoadBalancer without status.loadBalancer.ingress → Progressing; with an address → Healthy; ClusterIP → Healthy", () => {
    const svc = (type: string, ingress?: unknown[]): KubeObject => ({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("web"),
      spec: { type, clusterIP: "10.96.12.34", ports: [{ port: 80, protocol: "TCP", targetPort: 80, nodePort: 31080 }] },
      status: { loadBalancer: ingress ? { ingress } : {} },
    });
    expect(healthOf(svc("LoadBalancer")).status).toBe("Progressing");
    expect(healthOf(svc("LoadBalancer", [{ ip: "172.18.255.200", ipMode: "VIP" }])).status).toBe("Healthy");
    expect(healthOf(svc("ClusterIP")).status).toBe("Healthy");
  });

  it("Ingress with an empty load balancer status → Progressing, with an address → Healthy", () => {
    const ing = (ingress?: unknown[]): KubeObject => ({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: meta("web"),
      spec: { rules: [{ host: "web.local", http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } }] },
      status: { loadBalancer: ingress ? { ingress } : {} },
    });
    expect(healthOf(ing()).status).toBe("Progressing");
    expect(healthOf(ing([{ hostname: "lb.example.com" }])).status).toBe("Healthy");
  });

  it("PVC Pending → Progressing, Lost → Degraded, Bound → Healthy", () => {
    const pvc = (phase: string): KubeObject => ({
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: meta("data"),
      spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } }, storageClassName: "standard", volumeMode: "Filesystem" },
      status: { phase, ...(phase === "Bound" ? { accessModes: ["ReadWriteOnce"], capacity: { storage: "1Gi" } } : {}) },
    });
    expect(healthOf(pvc("Pending")).status).toBe("Progressing");
    expect(healthOf(pvc("Lost")).status).toBe("Degraded");
    expect(healthOf(pvc("Bound")).status).toBe("Healthy");
  });
});

describe("HPA health (health_hpa.go)", () => {
  const v2 = (conditions: unknown[]): KubeObject => ({
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: meta("web"),
    spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 1, maxReplicas: 10 },
    status: { currentReplicas: 3, desiredReplicas: 3, conditions },
  });

  it("AbleToScale=True → Healthy with its message", () => {
    const h = v2([
      { type: "AbleToScale", status: "True", reason: "ReadyForNewScale", message: "recommended size matches current size" },
      { type: "ScalingActive", status: "True", reason: "ValidMetricFound", message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)" },
      { type: "ScalingLimited", status: "False", reason: "DesiredWithinRange", message: "the desired count is within the acceptable range" },
    ]);
    expect(healthOf(h)).toEqual({ status: "Healthy", message: "recommended size matches current size" });
  });

  it("AbleToScale FailedGetScale / ScalingActive FailedGetResourceMetric → Degraded", () => {
    expect(healthOf(v2([{ type: "AbleToScale", status: "False", reason: "FailedGetScale", message: 'deployments/scale.apps "web" not found' }]))).toEqual({
      status: "Degraded",
      message: 'deployments/scale.apps "web" not found',
    });
    expect(
      healthOf(v2([{ type: "ScalingActive", status: "False", reason: "FailedGetResourceMetric", message: "the HPA was unable to compute the replica count: failed to get cpu utilization" }])).status,
    ).toBe("Degraded");
  });

  it("no conditions yet → Progressing 'Waiting to Autoscale'; autoscaling/v1 reads the conditions annotation", () => {
    expect(healthOf(v2([]))).toEqual({ status: "Progressing", message: "Waiting to Autoscale" });
    const v1: KubeObject = {
      apiVersion: "autoscaling/v1",
      kind: "HorizontalPodAutoscaler",
      metadata: meta("web", 1, {
        annotations: { "autoscaling.alpha.kubernetes.io/conditions": JSON.stringify([{ type: "AbleToScale", status: "True", reason: "SucceededGetScale", message: "the HPA controller was able to get the target's current scale" }]) },
      }),
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas: 10, targetCPUUtilizationPercentage: 50 },
      status: { currentReplicas: 2, desiredReplicas: 2 },
    };
    expect(healthOf(v1)).toEqual({ status: "Healthy", message: "the HPA controller was able to get the target's current scale" });
    const broken = { ...v1, metadata: { ...v1.metadata, annotations: { "autoscaling.alpha.kubernetes.io/conditions": "[{" } } };
    expect(healthOf(broken).status).toBe("Unknown");
  });
});

describe("Job and CronJob health (health_job.go, resource_customizations/batch/CronJob/health.lua)", () => {
  const job = (conditions: unknown[], extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: meta("migrate"),
    spec: { backoffLimit: 6, completions: 1, parallelism: 1, template: { spec: { restartPolicy: "Never", containers: [{ name: "m", image: "migrate:1" }] } } },
    status: { ...extra, conditions },
  });

  it("Complete → Healthy, Failed → Degraded with its message, running → Progressing", () => {
    expect(healthOf(job([{ type: "Complete", status: "True", lastTransitionTime: "2024-05-01T10:03:00Z" }], { succeeded: 1 })).status).toBe("Healthy");
    expect(healthOf(job([{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }], { failed: 7 }))).toEqual({
      status: "Degraded",
      message: "Job has reached the specified backoff limit",
    });
    expect(healthOf(job([], { active: 1 })).status).toBe("Progressing");
  });

  it("Suspended=True → Suspended, aggregated as Healthy; a resumed Job (Suspended=False) is Progressing", () => {
    const suspended = healthOf(job([{ type: "Suspended", status: "True", reason: "JobSuspended", message: "Job suspended" }]));
    expect(suspended).toEqual({ status: "Suspended", message: "Job suspended", aggregateAs: "Healthy" });
    expect(worstHealth([suspended]).status).toBe("Healthy");
    expect(healthOf(job([{ type: "Suspended", status: "False", reason: "JobResumed", message: "Job resumed" }], { active: 1 })).status).toBe("Progressing");
  });

  it("CronJob: suspend → Suspended; last run failed → Degraded; succeeded → Healthy; never scheduled → Healthy", () => {
    const cj = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: meta("nightly"),
      spec: { schedule: "0 3 * * *", jobTemplate: { spec: {} }, ...spec },
      ...(status ? { status } : {}),
    });
    expect(healthOf(cj({ suspend: true }, {}))).toEqual({ status: "Suspended", message: "CronJob is Suspended" });
    expect(healthOf(cj({}, { lastScheduleTime: "2024-05-02T03:00:00Z", lastSuccessfulTime: "2024-05-01T03:00:05Z" })).status).toBe("Degraded");
    expect(healthOf(cj({}, { lastScheduleTime: "2024-05-02T03:00:00Z", lastSuccessfulTime: "2024-05-02T03:00:05Z" })).status).toBe("Healthy");
    expect(healthOf(cj({}, { lastScheduleTime: "2024-05-02T03:00:00Z", lastSuccessfulTime: "2024-05-01T03:00:05Z", active: [{ name: "nightly-28571234" }] })).status).toBe("Healthy");
    expect(healthOf(cj({}, {}))).toEqual({ status: "Healthy", message: "CronJob has not been scheduled yet" });
    expect(healthOf(cj({})).status).toBe("Progressing");
  });
});

describe("generic rules (health.go)", () => {
  it("no live object → Missing; deletionTimestamp → Progressing 'Pending deletion'; kinds without a rule → Healthy", () => {
    expect(healthOf(undefined).status).toBe("Missing");
    const ns: KubeObject = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" }, status: { phase: "Active" } };
    expect(healthOf(ns).status).toBe("Healthy");
    expect(healthOf({ apiVersion: "v1", kind: "ConfigMap", metadata: meta("cfg"), data: {} }).status).toBe("Healthy");
    const terminating = { ...ns, metadata: { ...ns.metadata, deletionTimestamp: "2024-05-01T10:05:00Z" }, status: { phase: "Terminating" } };
    expect(healthOf(terminating)).toEqual({ status: "Progressing", message: "Pending deletion" });
  });

  it("orders health as upstream IsWorse: Healthy < Suspended < Progressing < Missing < Degraded < Unknown", () => {
    expect(HEALTH_ORDER).toEqual(["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"]);
    expect(isWorse("Progressing", "Missing")).toBe(true);
    expect(isWorse("Degraded", "Missing")).toBe(false);
    const list: HealthStatus[] = [
      { status: "Healthy", message: "" },
      { status: "Suspended", message: "Deployment is paused" },
      { status: "Missing", message: "gone" },
      { status: "Progressing", message: "rolling" },
    ];
    expect(worstHealth(list)).toEqual({ status: "Missing", message: "gone" });
    expect(worstHealth([...list, { status: "Degraded", message: "crash" }])).toEqual({ status: "Degraded", message: "crash" });
    expect(worstHealth([])).toEqual({ status: "Healthy", message: "" });
  });
});

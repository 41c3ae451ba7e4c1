import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import jsonpatch from "fast-json-patch";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { VirtualClock } from "../../src/api/clock.js";
import { ApiError } from "../../src/api/errors.js";
import { JSON_PATCH, MERGE_PATCH } from "../../src/api/patch/index.js";
import { canonicalQuantity, isQuantity } from "../../src/api/quantity.js";
import { ApiServer } from "../../src/api/server/api-server.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import { clone, deepFreeze, type KubeObject } from "../../src/api/types.js";
import {
  computeDiff,
  describeDrift,
  describeField,
  findImmutableChanges,
  formatOps,
  isImmutableChange,
  ownedByOthers,
  type Operation,
} from "../../src/gitops/diff.js";
import {
  LAST_APPLIED_ANNOTATION,
  decodeLastApplied,
  encodeLastApplied,
  normalizeObject,
  readLastApplied,
  withLastApplied,
} from "../../src/gitops/normalize.js";
import { TRACKING_ANNOTATION, addTracking } from "../../src/gitops/tracking.js";
import { CORPUS_DIR } from "../_corpus.js";
import { seeded } from "../api/_harness.js";

// ---------------------------------------------------------------------------------------------
// A stand-in for the API server's write path, enough to produce realistic live objects: server
// metadata, defaults (SetDefaults_* in pkg/apis/*/v1/defaults.go), canonical quantities,
// stringData folded into data, omitempty zero values dropped, and a status.
// ---------------------------------------------------------------------------------------------

const OMITEMPTY_BOOLS = new Set(["paused", "hostNetwork", "stdin", "tty", "readOnly", "publishNotReadyAddresses"]);

function defaultContainer(c: any): void {
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.imagePullPolicy ??= String(c.image).endsWith(":latest") || !String(c.image).includes(":") ? "Always" : "IfNotPresent";
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= "TCP";
}

function defaultPodSpec(spec: any): void {
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) defaultContainer(c);
  spec.restartPolicy ??= "Always";
  spec.dnsPolicy ??= "ClusterFirst";
  spec.schedulerName ??= "default-scheduler";
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
}

function goWireForm(value: any, key = ""): any {
  if (Array.isArray(value)) {
    const items = value.map((v) => goWireForm(v));
    return items;
  }
  if (value !== null && typeof value === "object") {
    const out: any = {};
    for (const [k, v] of Object.entries(value)) {
      if (v === null || v === undefined) continue;
      if (Array.isArray(v) && v.length === 0) continue;
      if (v === false && OMITEMPTY_BOOLS.has(k)) continue;
      if ((k === "labels" || k === "annotations" || k === "nodeSelector") && Object.keys(v as object).length === 0) continue;
      out[k] = goWireForm(v, k);
    }
    return out;
  }
  return value;
}

function canonicalizeQuantities(value: any, path: string[] = []): any {
  if (Array.isArray(value)) return value.map((v, i) => canonicalizeQuantities(v, [...path, String(i)]));
  if (value !== null && typeof value === "object") {
    const out: any = {};
    for (const [k, v] of Object.entries(value)) out[k] = canonicalizeQuantities(v, [...path, k]);
    return out;
  }
  const parent = path[path.length - 2];
  const grand = path[path.length - 3];
  if ((parent === "limits" || parent === "requests") && grand === "resources" && isQuantity(value)) return canonicalQuantity(value);
  return value;
}

let rv = 1000;
function serverize(input: KubeObject, extra: { rv?: string } = {}): KubeObject {
  let obj: any = clone(input);
  if (obj.kind === "Secret" && obj.stringData) {
    obj.data ??= {};
    for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString("base64");
    delete obj.stringData;
    obj.type ??= "Opaque";
  }
  obj.metadata.namespace ??= "default";
  obj.metadata.uid = "6f1c0c6e-1111-4c5e-9a55-1234567890ab";
  obj.metadata.resourceVersion = extra.rv ?? String(++rv);
  obj.metadata.generation = 1;
  obj.metadata.creationTimestamp = "2024-05-01T10:00:00Z";
  obj.metadata.managedFields = [{ manager: "kubelings", operation: "Update", apiVersion: obj.apiVersion }];
  const spec = obj.spec;
  switch (obj.kind) {
    case "Deployment":
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" } };
      defaultPodSpec(spec.template.spec);
      obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), "deployment.kubernetes.io/revision": "1" };
      obj.status = { observedGeneration: 1, replicas: spec.replicas, readyReplicas: spec.replicas, availableReplicas: spec.replicas, updatedReplicas: spec.replicas };
      break;
    case "ReplicationController":
    case "ReplicaSet":
    case "StatefulSet":
    case "DaemonSet":
    case "Job":
      if (spec?.template?.spec) defaultPodSpec(spec.template.spec);
      break;
    case "Pod":
      defaultPodSpec(spec);
      obj.status = { phase: "Running", podIP: "10.244.1.7" };
      break;
    case "Service":
      spec.type ??= "ClusterIP";
      spec.sessionAffinity ??= "None";
      spec.clusterIP ??= "10.96.12.34";
      spec.clusterIPs ??= [spec.clusterIP];
      for (const p of spec.ports ?? []) {
        p.protocol ??= "TCP";
        p.targetPort ??= p.port;
      }
      obj.status = { loadBalancer: {} };
      break;
    case "PersistentVolumeClaim":
      spec.volumeMode ??= "Filesystem";
      spec.storageClassName ??= "standard";
      obj.status = { phase: "Bound" };
      break;
  }
  obj = canonicalizeQuantities(obj);
  return goWireForm(obj);
}

function applyOps(live: KubeObject, ops: Operation[]): KubeObject {
  return jsonpatch.applyPatch(clone(live), ops, true, false).newDocument;
}

function deployment(overrides: { replicas?: number; image?: string; env?: any[]; labels?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", labels: overrides.labels ?? { app: "web" } },
    spec: {
      replicas: overrides.replicas ?? 3,
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "web",
              image: overrides.image ?? "nginx:1.27",
              ports: [{ containerPort: 80 }],
              env: overrides.env ?? [
                { name: "LOG_LEVEL", value: "info" },
                { name: "MODE", value: "prod" },
              ],
              resources: { requests: { cpu: "0.5", memory: "1Gi" }, limits: { cpu: 1, memory: "1024Mi" } },
            },
          ],
        },
      },
    },
  };
}

const ids = (ops: Operation[]) => ops.map((o) => `${o.op} ${o.path}`);

describe("computeDiff: no phantom diffs", () => {
  it("a second sync of the same commit produces zero operations (defaults, quantities, server metadata, status)", () => {
    const desired = addTracking(deployment(), "repo-1");
    const live = deepFreeze(serverize(desired));
    // The server really did change things: canonical quantities, defaults, status.
    expect(live.spec.template.spec.containers[0].resources.requests.cpu).toBe("500m");
    expect(live.spec.template.spec.containers[0].terminationMessagePath).toBe("/dev/termination-log");
    const result = computeDiff({ desired, lastApplied: desired, live });
    expect(result.ops).toEqual([]);
    expect(result.drift).toBe(false);
    expect(computeDiff({ desired, live }).ops).toEqual([]);
  });

  it("compares Secret stringData with the base64 data the API server stores", () => {
    const desired: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "default" }, stringData: { password: "s3cr3t", user: "admin" } };
    const live = serverize(desired);
    expect(live.stringData).toBeUndefined();
    expect(live.data.password).toBe("czNjcjN0");
    expect(computeDiff({ desired, lastApplied: desired, live }).ops).toEqual([]);
    // Written as data in git, or as base64 without padding: still the same bytes.
    const asData: KubeObject = { ...desired, stringData: undefined, data: { password: "czNjcjN0", user: "YWRtaW4" } };
    expect(computeDiff({ desired: asData, live }).ops).toEqual([]);
    // A different value is a difference, and the op writes base64 data.
    const changed: KubeObject = { ...desired, stringData: { password: "other", user: "admin" } };
    const ops = computeDiff({ desired: changed, lastApplied: desired, live }).ops;
    expect(ops.slice(1)).toEqual([{ op: "replace", path: "/data/password", value: Buffer.from("other").toString("base64") }]);
  });

  it("compares quantities canonically: 0.5 = 500m, 1Gi = 1024Mi, 1 = \"1\", 0.1 = 100m", () => {
    const base = deployment();
    const live = serverize(base);
    const spellings = [
      { requests: { cpu: "500m", memory: "1024Mi" }, limits: { cpu: "1", memory: "1Gi" } },
      { requests: { cpu: 0.5, memory: "1073741824" }, limits: { cpu: "1000m", memory: "1048576Ki" } },
    ];
    for (const resources of spellings) {
      const desired = clone(base);
      desired.spec.template.spec.containers[0].resources = resources;
      expect(computeDiff({ desired, live }).ops).toEqual([]);
    }
    const bigger = clone(base);
    bigger.spec.template.spec.containers[0].resources.limits.cpu = "1500m";
    expect(ids(computeDiff({ desired: bigger, live }).ops.slice(1))).toEqual(["replace /spec/template/spec/containers/0/resources/limits/cpu"]);
  });

  it("treats a port without protocol as TCP, in git and in the cluster", () => {
    const desired = deployment();
    const live = serverize(desired);
    expect(live.spec.template.spec.containers[0].ports[0].protocol).toBe("TCP");
    expect(computeDiff({ desired, live }).ops).toEqual([]);
    // git says TCP explicitly, the cluster (a server that does not default) does not show it.
    const explicit = clone(desired);
    explicit.spec.template.spec.containers[0].ports = [{ containerPort: 80, protocol: "TCP" }];
    const bare = clone(live);
    delete bare.spec.template.spec.containers[0].ports[0].protocol;
    expect(computeDiff({ desired: explicit, live: bare }).ops).toEqual([]);
    // A Service port too.
    const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { selector: { app: "web" }, ports: [{ port: 80 }] } };
    expect(computeDiff({ desired: svc, live: serverize(svc) }).ops).toEqual([]);
  });

  it("ignores defaulted fields inside containers (terminationMessagePath, imagePullPolicy, resources) and pod spec defaults", () => {
    const desired = deployment();
    const live = serverize(desired);
    const spec = live.spec.template.spec;
    expect(spec.containers[0].imagePullPolicy).toBe("IfNotPresent");
    expect(spec.dnsPolicy).toBe("ClusterFirst");
    expect(computeDiff({ desired, live }).ops).toEqual([]);
  });

  it("never compares server-set metadata or status, even when git carries a copy of them", () => {
    const desired: any = deployment();
    desired.metadata.uid = "copied-uid";
    desired.metadata.resourceVersion = "1";
    desired.metadata.generation = 7;
    desired.metadata.creationTimestamp = null;
    desired.metadata.managedFields = [{ manager: "kubectl" }];
    desired.metadata.annotations = { "kubectl.kubernetes.io/last-applied-configuration": "{}", "deployment.kubernetes.io/revision": "9" };
    desired.status = { replicas: 0 };
    const live = serverize(deployment());
    expect(computeDiff({ desired, live }).ops).toEqual([]);
  });

  it("treats empty maps, empty lists, nulls and omitempty zero values as absent, but not pointer zeros", () => {
    const desired: any = deployment();
    desired.metadata.annotations = {};
    desired.spec.paused = false;
    desired.spec.template.spec.nodeSelector = {};
    desired.spec.template.spec.tolerations = [];
    desired.spec.template.spec.hostNetwork = false;
    desired.spec.template.spec.containers[0].args = null;
    const live = serverize(deployment());
    expect(computeDiff({ desired, live }).ops).toEqual([]);
    // replicas: 0 is kept by the server and means something: a live object without it differs.
    const zero = deployment({ replicas: 0 });
    const liveNoReplicas = clone(live);
    delete liveNoReplicas.spec.replicas;
    expect(ids(computeDiff({ desired: zero, live: liveNoReplicas }).ops.slice(1))).toEqual(["add /spec/replicas"]);
    // A label with an empty value is a label: the server keeps it.
    const emptyLabel = deployment({ labels: { app: "web", canary: "" } });
    expect(computeDiff({ desired: emptyLabel, live }).ops.slice(1)).toEqual([{ op: "add", path: "/metadata/labels/canary", value: "" }]);
  });

  it("keeps tolerations an admission plugin added to a bare Pod (a set), as it keeps others' finalizers", () => {
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "debug", namespace: "default" },
      spec: { containers: [{ name: "sh", image: "busybox:1.36" }], tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }] },
    };
    const live = serverize(pod);
    // DefaultTolerationSeconds admission adds these two to every pod.
    live.spec.tolerations.push(
      { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
      { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 },
    );
    expect(computeDiff({ desired: pod, lastApplied: pod, live }).ops).toEqual([]);
  });

  it('keeps an IntOrString "80" and 80 different, as Kubernetes does', () => {
    const svc: KubeObject = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "default" }, spec: { ports: [{ port: 80, targetPort: 8080 }] } };
    const live = serverize(svc);
    const named = clone(svc);
    named.spec.ports[0].targetPort = "8080";
    expect(computeDiff({ desired: named, live }).ops.slice(1)).toEqual([{ op: "replace", path: "/spec/ports/0/targetPort", value: "8080" }]);
  });

  it("produces zero operations for every manifest of the corpus after a server round trip", () => {
    let checked = 0;
    for (const { file, obj } of corpusObjects()) {
      const desired = addTracking({ ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? "default" } }, "corpus");
      const live = serverize(desired);
      const { ops } = computeDiff({ desired, lastApplied: desired, live });
      expect({ file, kind: obj.kind, ops }).toEqual({ file, kind: obj.kind, ops: [] });
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
  });
});

/** Every object of the shared corpus of real manifests, with the file it came from. */
function corpusObjects(): Array<{ file: string; obj: KubeObject }> {
  const root = CORPUS_DIR;
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ya?ml|json)$/.test(name)) files.push(p);
    }
  };
  walk(root);
  const out: Array<{ file: string; obj: KubeObject }> = [];
  for (const file of files) {
    const text = readFileSync(file, "utf8");
    if (text.includes("{{")) continue; // templates, not manifests
    let docs: unknown[];
    try {
      docs = parseAllDocuments(text).map((d) => d.toJS());
    } catch {
      continue;
    }
    for (const doc of docs) {
      const obj = doc as KubeObject;
      if (!obj || typeof obj !== "object" || typeof obj.kind !== "string" || !obj.metadata?.name || obj.kind === "List") continue;
      out.push({ file: file.slice(root.length + 1), obj });
    }
  }
  return out;
}

describe("computeDiff: changes, removals and drift", () => {
  it("starts the patch with a test of the live resourceVersion, and escapes / in annotation keys as ~1", () => {
    const desired = addTracking(deployment(), "repo-1");
    const live = serverize(deployment(), { rv: "4711" });
    const { ops } = computeDiff({ desired, live });
    expect(ops[0]).toEqual({ op: "test", path: "/metadata/resourceVersion", value: "4711" });
    expect(ops[1]).toEqual({ op: "add", path: "/metadata/annotations/kubelings.dev~1tracking-id", value: desired.metadata.annotations![TRACKING_ANNOTATION] });
    expect(applyOps(live, ops).metadata.annotations![TRACKING_ANNOTATION]).toBe("repo-1:apps/Deployment:default/web");
  });

  it("removes a field dropped from git, and leaves fields other controllers added", () => {
    const before = deployment({ labels: { app: "web", tier: "frontend" } });
    const live = serverize(before);
    live.metadata.labels!["team"] = "added-by-hand";
    const after = deployment({ labels: { app: "web" }, env: [{ name: "LOG_LEVEL", value: "info" }] });
    const { ops, drift } = computeDiff({ desired: after, lastApplied: before, live });
    expect(ids(ops.slice(1)).sort()).toEqual(["remove /metadata/labels/tier", "remove /spec/template/spec/containers/0/env/1"]);
    expect(drift).toBe(false);
    const patched = applyOps(live, ops);
    expect(patched.metadata.labels).toEqual({ app: "web", team: "added-by-hand" });
    expect(patched.spec.template.spec.containers[0].env).toEqual([{ name: "LOG_LEVEL", value: "info" }]);
    expect(formatOps(ops, live)).toContain("- /spec/template/spec/containers/0/env/1");
  });

  it("removes only the labels git set when git drops the whole labels map", () => {
    const before = deployment({ labels: { app: "web", tier: "fe" } });
    const live = serverize(before);
    live.metadata.labels!["owner"] = "someone-else";
    const after = deployment();
    delete after.metadata.labels;
    const patched = applyOps(live, computeDiff({ desired: after, lastApplied: before, live }).ops);
    expect(patched.metadata.labels).toEqual({ owner: "someone-else" });
  });

  it("detects a kubectl scale as drift and returns the op that undoes it", () => {
    const desired = deployment({ replicas: 3 });
    const live = serverize(desired);
    live.spec.replicas = 5; // kubectl scale deploy web --replicas=5
    const result = computeDiff({ desired, lastApplied: desired, live });
    expect(result.ops).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: live.metadata.resourceVersion },
      { op: "replace", path: "/spec/replicas", value: 3 },
    ]);
    expect(result.drift).toBe(true);
    expect(describeDrift(result)).toEqual(["replicas was changed from 3 to 5 outside git"]);
    expect(formatOps(result.ops, live)).toEqual(["~ /spec/replicas: 5 → 3"]);
    expect(computeDiff({ desired, lastApplied: desired, live: applyOps(live, result.ops) }).ops).toEqual([]);
  });

  it("tells a commit apart from drift: a new replica count in git is not drift", () => {
    const before = deployment({ replicas: 3 });
    const live = serverize(before);
    const result = computeDiff({ desired: deployment({ replicas: 4 }), lastApplied: before, live });
    expect(result.drift).toBe(false);
    expect(result.changes).toEqual([{ op: "replace", path: "/spec/replicas", field: "spec.replicas", from: 3, to: 4, cause: "git" }]);
  });

  it("reports a kubectl set image and a deleted env var as drift, naming the container", () => {
    const desired = deployment();
    const live = serverize(desired);
    live.spec.template.spec.containers[0].image = "nginx:1.25";
    live.spec.template.spec.containers[0].env.splice(0, 1);
    const result = computeDiff({ desired, lastApplied: desired, live });
    expect(describeDrift(result).sort()).toEqual([
      'environment variable LOG_LEVEL of container web was removed outside git (git sets {"name":"LOG_LEVEL","value":"info"})',
      'image of container web was changed from "nginx:1.27" to "nginx:1.25" outside git',
    ]);
    const patched = applyOps(live, result.ops);
    expect(patched.spec.template.spec.containers[0].env.map((e: any) => e.name)).toEqual(["LOG_LEVEL", "MODE"]);
  });

  it("leaves /spec/replicas alone while an HPA (autoscaling/v2 or v1) targets the Deployment", () => {
    const desired = deployment({ replicas: 3 });
    const live = serverize(desired);
    live.spec.replicas = 7; // the HPA scaled it
    for (const apiVersion of ["autoscaling/v2", "autoscaling/v1"]) {
      const hpa: KubeObject = {
        apiVersion,
        kind: "HorizontalPodAutoscaler",
        metadata: { name: "web", namespace: "default" },
        spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, minReplicas: 2, maxReplicas: 10 },
      };
      const ignorePaths = ownedByOthers(desired, [desired, hpa]);
      expect(ignorePaths).toEqual(["/spec/replicas"]);
      expect(computeDiff({ desired, lastApplied: desired, live, ignorePaths }).ops).toEqual([]);
    }
    const elsewhere: KubeObject = {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "web", namespace: "other" },
      spec: { scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "web" }, maxReplicas: 10 },
    };
    expect(ownedByOthers(desired, [elsewhere])).toEqual([]);
    expect(ownedByOthers({ ...desired, kind: "ConfigMap", apiVersion: "v1" }, [elsewhere])).toEqual([]);
    expect(() => computeDiff({ desired, live, ignorePaths: ["spec.replicas"] })).toThrow(/JSON pointers such as \/spec\/replicas/);
  });

  it("inserts a new container in git's order and keeps a sidecar another controller injected", () => {
    const before = deployment();
    const live = serverize(before);
    live.spec.template.spec.containers.push({ name: "istio-proxy", image: "proxy:1", terminationMessagePath: "/dev/termination-log" });
    const after = clone(before);
    after.spec.template.spec.containers.unshift({ name: "init-log", image: "busybox:1.36" });
    const { ops } = computeDiff({ desired: after, lastApplied: before, live });
    expect(ops.slice(1)).toEqual([{ op: "add", path: "/spec/template/spec/containers/0", value: { name: "init-log", image: "busybox:1.36" } }]);
    const names = applyOps(live, ops).spec.template.spec.containers.map((c: any) => c.name);
    expect(names).toEqual(["init-log", "web", "istio-proxy"]);
  });

  it("reorders keyed items by replacing the list, keeping each item's defaulted fields", () => {
    const before: any = deployment();
    before.spec.template.spec.containers.push({ name: "log", image: "fluentbit:3" });
    const live = serverize(before);
    const after = clone(before);
    after.spec.template.spec.containers.reverse();
    const { ops } = computeDiff({ desired: after, lastApplied: before, live });
    expect(ids(ops.slice(1))).toEqual(["replace /spec/template/spec/containers"]);
    const patched = applyOps(live, ops);
    expect(patched.spec.template.spec.containers.map((c: any) => [c.name, c.terminationMessagePath])).toEqual([
      ["log", "/dev/termination-log"],
      ["web", "/dev/termination-log"],
    ]);
    expect(computeDiff({ desired: after, lastApplied: after, live: patched }).ops).toEqual([]);
  });

  it("replaces a list without merge key when its length changes, and patches items in place otherwise", () => {
    const before: any = deployment();
    before.spec.template.spec.containers[0].args = ["--port", "80"];
    const live = serverize(before);
    const same: any = clone(before);
    same.spec.template.spec.containers[0].args = ["--port", "8080"];
    expect(computeDiff({ desired: same, lastApplied: before, live }).ops.slice(1)).toEqual([
      { op: "replace", path: "/spec/template/spec/containers/0/args/1", value: "8080" },
    ]);
    const longer: any = clone(before);
    longer.spec.template.spec.containers[0].args = ["--port", "80", "--verbose"];
    expect(computeDiff({ desired: longer, lastApplied: before, live }).ops.slice(1)).toEqual([
      { op: "replace", path: "/spec/template/spec/containers/0/args", value: ["--port", "80", "--verbose"] },
    ]);
  });

  it("keeps finalizers others added (a set), removing only those git dropped", () => {
    const before: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "default", finalizers: ["example.com/a", "example.com/b"] }, data: { k: "v" } };
    const live = serverize(before);
    live.metadata.finalizers = ["example.com/a", "kubernetes.io/protect", "example.com/b"];
    const after = clone(before);
    after.metadata.finalizers = ["example.com/a"];
    const patched = applyOps(live, computeDiff({ desired: after, lastApplied: before, live }).ops);
    expect(patched.metadata.finalizers).toEqual(["example.com/a", "kubernetes.io/protect"]);
  });

  it("refuses a live object that is missing, and a desired object without kind, with a clear message", () => {
    expect(() => computeDiff({ desired: deployment(), live: undefined as unknown as KubeObject })).toThrow(/created, not patched/);
    expect(() => computeDiff({ desired: {} as KubeObject, live: serverize(deployment()) })).toThrow(/apiVersion, kind and metadata/);
  });
});

describe("formatOps and describeField", () => {
  it("renders add, replace with the old value, and remove in the kubelings diff form", () => {
    const live = serverize(deployment());
    const ops: Operation[] = [
      { op: "test", path: "/metadata/resourceVersion", value: live.metadata.resourceVersion },
      { op: "replace", path: "/spec/replicas", value: 5 },
      { op: "add", path: "/metadata/labels/tier", value: "web" },
      { op: "remove", path: "/spec/template/spec/containers/0/env/1" },
    ];
    expect(formatOps(ops, live)).toEqual(["~ /spec/replicas: 3 → 5", '+ /metadata/labels/tier: "web"', "- /spec/template/spec/containers/0/env/1"]);
    expect(formatOps(ops)).toEqual(["~ /spec/replicas: 5", '+ /metadata/labels/tier: "web"', "- /spec/template/spec/containers/0/env/1"]);
  });

  it("names fields the way a learner reads them", () => {
    expect(describeField("spec.replicas")).toBe("replicas");
    expect(describeField("metadata.labels.tier")).toBe("label tier");
    expect(describeField("metadata.annotations.example.com/owner")).toBe("annotation example.com/owner");
    expect(describeField("data.password")).toBe("data key password");
    expect(describeField("spec.template.spec.containers[web].image")).toBe("image of container web");
    expect(describeField("spec.template.spec.containers[web].env[MODE].value")).toBe("value of environment variable MODE of container web");
    expect(describeField("spec.ports[80/TCP].targetPort")).toBe("targetPort of port 80/TCP");
    expect(describeField("spec.template.spec.containers[web].args[1]")).toBe("args[1] of container web");
  });
});

describe("immutable fields", () => {
  it("recognises a Deployment selector change and names the way out", () => {
    const hit = isImmutableChange("Deployment", "/spec/selector/matchLabels/app", { name: "web" });
    expect(hit?.field).toBe("spec.selector");
    expect(hit?.message).toBe(
      "spec.selector of Deployment web cannot change: delete the Deployment (kubectl delete deploy web --cascade=orphan keeps its pods) or rename it in git so it is created anew",
    );
  });

  it("recognises Service clusterIP, StatefulSet volumeClaimTemplates, Job template, PVC spec and Pod spec changes", () => {
    expect(isImmutableChange("Service", "/spec/clusterIP", { name: "web", op: "replace" })?.field).toBe("spec.clusterIP");
    expect(isImmutableChange("Service", "/spec/clusterIP", { name: "web", op: "remove" })).toBeUndefined();
    expect(isImmutableChange("Service", "/spec/ports/0/port", { name: "web" })).toBeUndefined();
    expect(isImmutableChange("StatefulSet", "/spec/volumeClaimTemplates/0/spec/resources/requests/storage", { name: "db" })?.message).toMatch(
      /^spec\.volumeClaimTemplates of StatefulSet db cannot change: .*kubectl delete sts db --cascade=orphan/,
    );
    expect(isImmutableChange("StatefulSet", "/spec/replicas", { name: "db" })).toBeUndefined();
    expect(isImmutableChange("StatefulSet", "/spec/template/spec/containers/0/image", { name: "db" })).toBeUndefined();
    expect(isImmutableChange("Job", "/spec/template/spec/containers/0/image", { name: "migrate" })?.field).toBe("spec.template");
    expect(isImmutableChange("Job", "/spec/parallelism", { name: "migrate" })).toBeUndefined();
    expect(isImmutableChange("PersistentVolumeClaim", "/spec/resources/requests/storage", { name: "data" })).toBeUndefined();
    expect(isImmutableChange("PersistentVolumeClaim", "/spec/storageClassName", { name: "data" })?.field).toBe("spec.storageClassName");
    expect(isImmutableChange("Pod", "/spec/containers/0/image", { name: "p" })).toBeUndefined();
    expect(isImmutableChange("Pod", "/spec/containers/0/env/0/value", { name: "p" })?.field).toBe("spec.containers");
    expect(isImmutableChange("Deployment", "/spec/replicas", { name: "web" })).toBeUndefined();
  });

  it("finds the immutable changes in a computed patch, and the data of an immutable ConfigMap", () => {
    const before = deployment();
    const live = serverize(before);
    const after = clone(before);
    after.spec.selector.matchLabels.app = "web2";
    after.spec.template.metadata.labels.app = "web2";
    const hits = findImmutableChanges(live, computeDiff({ desired: after, lastApplied: before, live }).ops);
    expect(hits.map((h) => h.field)).toEqual(["spec.selector"]);
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" }, immutable: true, data: { a: "1" } };
    expect(isImmutableChange("ConfigMap", "/data/a", { live: cm })?.message).toMatch(/^data of ConfigMap cfg cannot change: the ConfigMap is marked immutable: true/);
  });
});

describe("last-applied record", () => {
  it("round-trips through the annotation and ignores spelling-only changes", () => {
    const a = deployment();
    const b = clone(a);
    b.spec.template.spec.containers[0].resources.requests.cpu = "500m";
    expect(encodeLastApplied(a)).toBe(encodeLastApplied(b));
    const stored = withLastApplied(a);
    expect(decodeLastApplied(stored.metadata.annotations![LAST_APPLIED_ANNOTATION])).toEqual(JSON.parse(encodeLastApplied(a)));
    expect(readLastApplied(stored)).toEqual(normalizeObject(a));
    expect(readLastApplied({ ...stored, metadata: { annotations: { [LAST_APPLIED_ANNOTATION]: "{oops" } } })).toBeUndefined();
    expect(() => decodeLastApplied("{oops")).toThrow(/kubelings.dev\/last-applied is not valid JSON/);
  });

  it("drives the three-way diff from the annotation: a removal is sent together with the new record", () => {
    const v1 = withLastApplied(addTracking(deployment({ labels: { app: "web", tier: "fe" } }), "r"));
    const live = serverize(v1);
    expect(computeDiff({ desired: v1, lastApplied: readLastApplied(live), live }).ops).toEqual([]);
    const v2 = withLastApplied(addTracking(deployment(), "r"));
    const result = computeDiff({ desired: v2, lastApplied: readLastApplied(live), live });
    expect(ids(result.ops.slice(1)).sort()).toEqual(["remove /metadata/labels/tier", "replace /metadata/annotations/kubelings.dev~1last-applied"]);
    expect(result.drift).toBe(false);
    const patched = applyOps(live, result.ops);
    expect(computeDiff({ desired: v2, lastApplied: readLastApplied(patched), live: patched }).ops).toEqual([]);
  });
});

describe("against the in-process API server", () => {
  async function startApi(): Promise<ApiServer> {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const api = new ApiServer({ store: new MemoryStore(), clock: new VirtualClock(), random });
    await api.start();
    return api;
  }
  const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web" };

  it("creates, finds nothing to do on the second sync, undoes a kubectl scale, and removes what git dropped", async () => {
    const api = await startApi();
    const v1 = withLastApplied(addTracking(deployment({ labels: { app: "web", tier: "fe" } }), "repo"));
    await api.create(v1);
    const secret = withLastApplied(addTracking({ apiVersion: "v1", kind: "Secret", metadata: { name: "db", namespace: "default" }, stringData: { password: "pw" } }, "repo"));
    await api.create(secret);
    const liveSecret = await api.get({ apiVersion: "v1", kind: "Secret", namespace: "default", name: "db" });
    expect(computeDiff({ desired: secret, lastApplied: readLastApplied(liveSecret), live: liveSecret }).ops).toEqual([]);

    let live = await api.get(ref);
    expect(computeDiff({ desired: v1, lastApplied: readLastApplied(live), live }).ops).toEqual([]);

    // kubectl scale deploy web --replicas=5
    await api.patch(ref, MERGE_PATCH, { spec: { replicas: 5 } });
    live = await api.get(ref);
    const undo = computeDiff({ desired: v1, lastApplied: readLastApplied(live), live });
    expect(describeDrift(undo)).toEqual(["replicas was changed from 3 to 5 outside git"]);
    live = await api.patch(ref, JSON_PATCH, undo.ops);
    expect(live.spec.replicas).toBe(3);
    expect(computeDiff({ desired: v1, lastApplied: readLastApplied(live), live }).ops).toEqual([]);

    // A new commit drops the tier label and an env var.
    const v2 = withLastApplied(addTracking(deployment({ env: [{ name: "LOG_LEVEL", value: "info" }] }), "repo"));
    const change = computeDiff({ desired: v2, lastApplied: readLastApplied(live), live });
    expect(change.drift).toBe(false);
    live = await api.patch(ref, JSON_PATCH, change.ops);
    expect(live.metadata.labels).toEqual({ app: "web" });
    expect(live.spec.template.spec.containers[0].env).toEqual([{ name: "LOG_LEVEL", value: "info" }]);
    expect(computeDiff({ desired: v2, lastApplied: readLastApplied(live), live }).ops).toEqual([]);
  });

  it("finds nothing to do after creating each accepted corpus manifest (issue 4: idempotence over the corpus)", async () => {
    const api = await startApi();
    let accepted = 0;
    let n = 0;
    for (const { file, obj } of corpusObjects()) {
      const namespace = `corpus-${n++}`;
      await api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
      const namespaced = !["Namespace", "PersistentVolume", "StorageClass", "ClusterRole", "ClusterRoleBinding", "IngressClass", "Node"].includes(obj.kind);
      const desired = withLastApplied(addTracking({ ...obj, metadata: { ...obj.metadata, ...(namespaced ? { namespace } : {}) } }, "corpus"));
      try {
        await api.create(desired);
      } catch (err) {
        if (err instanceof ApiError) continue; // refused by validation, or a removed API version
        throw err;
      }
      const live = await api.get({ apiVersion: desired.apiVersion, kind: desired.kind, namespace: desired.metadata.namespace, name: desired.metadata.name! });
      const { ops } = computeDiff({ desired, lastApplied: readLastApplied(live), live });
      expect({ file, kind: obj.kind, ops }).toEqual({ file, kind: obj.kind, ops: [] });
      accepted++;
    }
    expect(accepted).toBeGreaterThan(200);
  });

  it("refuses a patch computed from a stale read: the resourceVersion test fails and nothing changes", async () => {
    const api = await startApi();
    const desired = withLastApplied(deployment());
    await api.create(desired);
    const stale = await api.get(ref);
    await api.patch(ref, MERGE_PATCH, { spec: { replicas: 5 } });
    await api.patch(ref, MERGE_PATCH, { metadata: { labels: { extra: "x" } } });
    const { ops } = computeDiff({ desired: deployment({ replicas: 4 }), lastApplied: desired, live: stale });
    const err = await api.patch(ref, JSON_PATCH, ops).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    // As the kube-apiserver: 422 with the failed test named (the sync loop re-reads and retries).
    expect((err as ApiError).code).toBe(422);
    expect((err as ApiError).status.details?.causes?.[0]?.message).toBe("testing value /metadata/resourceVersion failed: test failed");
    expect((await api.get(ref)).spec.replicas).toBe(5);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: for many generated (desired, lastApplied, live) triples, applying the patch to live
// gives an object whose diff against desired is empty, and nothing outside git is lost.
// ---------------------------------------------------------------------------------------------

function generate(random: () => number): KubeObject {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const chance = (p: number) => random() < p;
  const containerCount = 1 + Math.floor(random() * 3);
  const containers = [];
  for (let i = 0; i < containerCount; i++) {
    const c: any = { name: `c${i}`, image: pick(["nginx:1.27", "nginx:1.25", "redis:7", "busybox"]) };
    if (chance(0.7)) c.ports = [{ containerPort: 8000 + i, ...(chance(0.3) ? { protocol: pick(["TCP", "UDP"]) } : {}) }];
    if (chance(0.3) && c.ports) c.ports.push({ containerPort: 9000 + i, name: `metrics-${i}` });
    if (chance(0.7)) {
      const names = ["A", "B", "C", "D"].filter(() => chance(0.6));
      if (names.length) c.env = names.map((n) => ({ name: n, value: pick(["1", "x", "yes"]) }));
    }
    if (chance(0.6)) c.resources = { requests: { cpu: pick(["0.5", "500m", "250m", 1, "2"]), memory: pick(["1Gi", "1024Mi", "512Mi", "128M"]) } };
    if (chance(0.3)) c.args = pick([["--a"], ["--a", "--b"], ["run", "--port", String(8000 + i)]]);
    if (chance(0.3)) c.volumeMounts = [{ name: "data", mountPath: `/data/${i}` }];
    containers.push(c);
  }
  const labels: Record<string, string> = { app: "gen" };
  if (chance(0.5)) labels.tier = pick(["fe", "be"]);
  if (chance(0.3)) labels["example.com/team"] = pick(["a", "b"]);
  const annotations: Record<string, string> = {};
  if (chance(0.4)) annotations["example.com/owner"] = pick(["x", "y"]);
  const spec: any = { selector: { matchLabels: { app: "gen" } }, template: { metadata: { labels: { app: "gen" } }, spec: { containers } } };
  if (chance(0.8)) spec.replicas = Math.floor(random() * 5);
  if (chance(0.3)) spec.strategy = { type: pick(["Recreate", "RollingUpdate"]) };
  if (chance(0.3)) spec.template.spec.volumes = [{ name: "data", emptyDir: {} }];
  if (chance(0.3)) spec.template.spec.tolerations = [{ key: "dedicated", operator: "Equal", value: pick(["x", "y"]), effect: "NoSchedule" }];
  if (chance(0.2)) spec.template.spec.nodeSelector = { disk: pick(["ssd", "hdd"]) };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "gen", namespace: "default", labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec,
  };
}

/** Changes made in the cluster behind git's back, and by other controllers. */
function perturb(live: any, random: () => number): void {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const chance = (p: number) => random() < p;
  const containers = live.spec.template.spec.containers;
  if (chance(0.3)) live.spec.replicas = Math.floor(random() * 9);
  if (chance(0.3)) pick(containers as any[]).image = "hacked:1";
  if (chance(0.2)) live.metadata.labels = { ...(live.metadata.labels ?? {}), "added-by": "hand" };
  if (chance(0.2) && live.metadata.labels) delete live.metadata.labels[pick(Object.keys(live.metadata.labels))];
  if (chance(0.2)) containers.push({ name: "sidecar", image: "proxy:1", terminationMessagePath: "/dev/termination-log" });
  if (chance(0.2)) {
    const c = pick(containers as any[]);
    if (c.env?.length) c.env.splice(Math.floor(random() * c.env.length), 1);
  }
  if (chance(0.2)) {
    const c = pick(containers as any[]);
    c.env = [...(c.env ?? []), { name: "INJECTED", value: "1" }];
  }
  if (chance(0.2)) {
    const c = pick(containers as any[]);
    c.resources = { ...(c.resources ?? {}), limits: { cpu: "3" } };
  }
  if (chance(0.15)) live.spec.template.spec.containers = [...containers].reverse();
  if (chance(0.15)) delete live.spec.template.spec.tolerations;
  if (chance(0.15)) live.spec.template.spec.containers[0].args = ["--changed"];
  if (chance(0.1)) live.spec.paused = true;
  if (chance(0.1)) live.metadata.annotations = { ...(live.metadata.annotations ?? {}), "example.com/owner": "z" };
}

/**
 * What git asks for, checked on the patched object independently of the diff's own machinery:
 * every field git sets has git's value, and what git dropped since the record is gone.
 */
function checkSemantics(desired: KubeObject, lastApplied: KubeObject | undefined, patched: KubeObject): void {
  const q = (x: unknown) => (x === undefined ? undefined : canonicalQuantity(x as string));
  for (const [k, v] of Object.entries(desired.metadata.labels ?? {})) expect(patched.metadata.labels?.[k]).toBe(v);
  for (const k of Object.keys(lastApplied?.metadata.labels ?? {})) if (!(k in (desired.metadata.labels ?? {}))) expect(patched.metadata.labels?.[k]).toBeUndefined();
  if (desired.spec.replicas !== undefined) expect(patched.spec.replicas).toBe(desired.spec.replicas);
  if (desired.spec.strategy) expect(patched.spec.strategy.type).toBe(desired.spec.strategy.type);
  const live = patched.spec.template.spec.containers as any[];
  const gitNames = desired.spec.template.spec.containers.map((c: any) => c.name);
  expect(live.filter((c) => gitNames.includes(c.name)).map((c) => c.name)).toEqual(gitNames);
  for (const c of lastApplied?.spec.template.spec.containers ?? []) if (!gitNames.includes(c.name)) expect(live.some((x) => x.name === c.name)).toBe(false);
  for (const dc of desired.spec.template.spec.containers as any[]) {
    const pc = live.find((c) => c.name === dc.name);
    expect(pc.image).toBe(dc.image);
    if (dc.args) expect(pc.args).toEqual(dc.args);
    for (const e of dc.env ?? []) expect(pc.env.find((x: any) => x.name === e.name)?.value).toBe(e.value);
    const lc = lastApplied?.spec.template.spec.containers.find((c: any) => c.name === dc.name);
    for (const e of lc?.env ?? []) if (!(dc.env ?? []).some((x: any) => x.name === e.name)) expect((pc.env ?? []).some((x: any) => x.name === e.name)).toBe(false);
    for (const p of dc.ports ?? []) expect(pc.ports.some((x: any) => x.containerPort === p.containerPort && (x.protocol ?? "TCP") === (p.protocol ?? "TCP"))).toBe(true);
    if (dc.resources) {
      expect(q(pc.resources.requests.cpu)).toBe(q(dc.resources.requests.cpu));
      expect(parseFloat(String(q(pc.resources.requests.memory)))).not.toBeNaN();
    }
  }
  if (desired.spec.template.spec.tolerations) expect(patched.spec.template.spec.tolerations).toEqual(desired.spec.template.spec.tolerations);
}

describe("property: the patch converges", () => {
  it("applying the ops to live yields an object that diffs to zero against desired (600 generated cases)", () => {
    const random = seeded(20240501);
    let withOps = 0;
    let withDrift = 0;
    for (let n = 0; n < 600; n++) {
      const desired = addTracking(generate(random), "prop");
      const mode = random();
      // No record (first sync / adoption), the same commit, or an older commit.
      const lastApplied = mode < 0.2 ? undefined : mode < 0.5 ? desired : addTracking(generate(random), "prop");
      const live: any = serverize(lastApplied ?? generate(random));
      perturb(live, random);
      const frozen = deepFreeze(clone(live));
      const result = computeDiff({ desired, lastApplied, live: frozen });
      const context = { n, desired, lastApplied, live, ops: result.ops };
      if (result.ops.length > 0) {
        withOps++;
        expect(result.ops[0], JSON.stringify(context)).toEqual({ op: "test", path: "/metadata/resourceVersion", value: live.metadata.resourceVersion });
        expect(result.changes.length).toBe(result.ops.length - 1);
      }
      if (result.drift) withDrift++;
      const patched = applyOps(frozen, result.ops);
      expect(computeDiff({ desired, lastApplied, live: patched }).ops, JSON.stringify(context)).toEqual([]);
      expect(computeDiff({ desired, lastApplied: desired, live: patched }).ops, JSON.stringify(context)).toEqual([]);
      checkSemantics(desired, lastApplied, patched);
      // What neither git nor the record ever set survives (an injected sidecar, a hand-added label).
      const sidecar = live.spec.template.spec.containers.find((c: any) => c.name === "sidecar");
      if (sidecar) expect(patched.spec.template.spec.containers.some((c: any) => c.name === "sidecar")).toBe(true);
      if (live.metadata.labels?.["added-by"] && !lastApplied?.metadata.labels?.["added-by"]) expect(patched.metadata.labels?.["added-by"]).toBe("hand");
      // Server-owned fields are never touched.
      expect(patched.status).toEqual(live.status);
      expect(patched.metadata.uid).toBe(live.metadata.uid);
      expect(patched.metadata.annotations?.["deployment.kubernetes.io/revision"]).toBe("1");
    }
    // The generator really exercises both paths.
    expect(withOps).toBeGreaterThan(300);
    expect(withDrift).toBeGreaterThan(50);
  });
});

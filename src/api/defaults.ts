/**
 * Defaulting as the kube-apiserver applies it when it decodes an object: the `SetDefaults_*`
 * functions of kubernetes/kubernetes `pkg/apis/<group>/<version>/defaults.go`, the v1 → internal
 * conversion step that folds `Secret.stringData` into `data`, and the defaulting admission
 * plugins a Pod passes through on create (DefaultTolerationSeconds, Priority, ServiceAccount's
 * `serviceAccountName: default`).
 *
 * What the API server's REST storage assigns (uid, clusterIP, nodePort allocation, the Job
 * selector that needs the uid) is not here: see `applyJobSelector`, which the API server calls
 * after it has set `metadata.uid`.
 */
import { splitApiVersion } from "./kinds.js";
import { clone, type KubeObject } from "./types.js";
import { isObj } from "./_validation-field.js";

type Obj = Record<string, any>;

/** Removes `null` values (Go's decoder turns them into unset fields) so defaults can fill them. */
function stripNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const v of value) stripNulls(v);
  } else if (isObj(value)) {
    for (const k of Object.keys(value)) {
      if (value[k] === null) delete value[k];
      else stripNulls(value[k]);
    }
  }
}

/** Returns `o[key]` as an object, creating it when absent. */
function ensureObj(o: Obj, key: string): Obj {
  if (!isObj(o[key])) o[key] = {};
  return o[key];
}

function setIfUnset(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined) o[key] = value;
}

function setIfEmpty(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === "") o[key] = value;
}

function eachObj(list: unknown, fn: (o: Obj, i: number) => void): void {
  if (Array.isArray(list)) list.forEach((o, i) => isObj(o) && fn(o, i));
}

/** `SetDefaults_Probe` and the HTTPGetAction defaults of its handler. */
function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  // Zero means unset for these int32 fields upstream.
  if (!p.timeoutSeconds) p.timeoutSeconds = 1;
  if (!p.periodSeconds) p.periodSeconds = 10;
  if (!p.successThreshold) p.successThreshold = 1;
  if (!p.failureThreshold) p.failureThreshold = 3;
  defaultHandler(p);
}

/** `SetDefaults_HTTPGetAction`: path `/`, scheme HTTP. */
function defaultHandler(h: unknown): void {
  if (!isObj(h) || !isObj(h.httpGet)) return;
  setIfEmpty(h.httpGet, "path", "/");
  setIfEmpty(h.httpGet, "scheme", "HTTP");
}

/**
 * The pull policy upstream picks when none is given (`SetDefaults_Container`, using
 * `parsers.ParseImageName`): `Always` for `:latest` or an image with neither tag nor digest,
 * `IfNotPresent` otherwise.
 */
export function defaultPullPolicy(image: string): "Always" | "IfNotPresent" {
  if (!image) return "IfNotPresent";
  const at = image.indexOf("@");
  const hasDigest = at >= 0;
  const named = hasDigest ? image.slice(0, at) : image;
  const lastSegment = named.slice(named.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  const tag = colon >= 0 ? lastSegment.slice(colon + 1) : "";
  if (tag === "latest") return "Always";
  if (!tag && !hasDigest) return "Always";
  return "IfNotPresent";
}

/** `SetDefaults_Container` and what hangs below a container (ports, probes, env, lifecycle). */
function defaultContainer(c: Obj): void {
  setIfEmpty(c, "terminationMessagePath", "/dev/termination-log");
  setIfEmpty(c, "terminationMessagePolicy", "File");
  if (!c.imagePullPolicy) c.imagePullPolicy = defaultPullPolicy(typeof c.image === "string" ? c.image : "");
  eachObj(c.ports, (p) => setIfEmpty(p, "protocol", "TCP"));
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  if (isObj(c.lifecycle)) {
    defaultHandler(c.lifecycle.postStart);
    defaultHandler(c.lifecycle.preStop);
  }
  eachObj(c.env, (e) => {
    if (isObj(e.valueFrom) && isObj(e.valueFrom.fieldRef)) setIfEmpty(e.valueFrom.fieldRef, "apiVersion", "v1");
  });
}

const VOLUME_SOURCES = [
  "hostPath", "emptyDir", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret", "nfs", "iscsi", "glusterfs",
  "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap",
  "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO", "storageos", "csi",
  "ephemeral", "image",
];

/** `SetDefaults_Volume` and the per-source defaults (`defaultMode: 420` is 0644). */
function defaultVolume(v: Obj): void {
  // A volume with no source at all becomes an emptyDir (SetDefaults_Volume).
  if (!VOLUME_SOURCES.some((s) => v[s] !== undefined)) v.emptyDir = {};
  if (isObj(v.hostPath)) setIfUnset(v.hostPath, "type", "");
  if (isObj(v.secret)) setIfUnset(v.secret, "defaultMode", 420);
  if (isObj(v.configMap)) setIfUnset(v.configMap, "defaultMode", 420);
  if (isObj(v.downwardAPI)) {
    setIfUnset(v.downwardAPI, "defaultMode", 420);
    eachObj(v.downwardAPI.items, (item) => isObj(item.fieldRef) && setIfEmpty(item.fieldRef, "apiVersion", "v1"));
  }
  if (isObj(v.projected)) {
    setIfUnset(v.projected, "defaultMode", 420);
    eachObj(v.projected.sources, (s) => {
      if (isObj(s.serviceAccountToken)) setIfUnset(s.serviceAccountToken, "expirationSeconds", 3600);
      if (isObj(s.downwardAPI)) eachObj(s.downwardAPI.items, (item) => isObj(item.fieldRef) && setIfEmpty(item.fieldRef, "apiVersion", "v1"));
    });
  }
  if (isObj(v.iscsi)) setIfEmpty(v.iscsi, "iscsiInterface", "default");
  if (isObj(v.rbd)) {
    setIfEmpty(v.rbd, "pool", "rbd");
    setIfEmpty(v.rbd, "user", "admin");
    setIfEmpty(v.rbd, "keyring", "/etc/ceph/keyring");
  }
  if (isObj(v.azureDisk)) {
    setIfUnset(v.azureDisk, "cachingMode", "ReadWrite");
    setIfUnset(v.azureDisk, "kind", "Shared");
    setIfUnset(v.azureDisk, "fsType", "ext4");
    setIfUnset(v.azureDisk, "readOnly", false);
  }
  if (isObj(v.scaleIO)) {
    setIfEmpty(v.scaleIO, "storageMode", "ThinProvisioned");
    setIfEmpty(v.scaleIO, "fsType", "xfs");
  }
  if (isObj(v.ephemeral) && isObj(v.ephemeral.volumeClaimTemplate) && isObj(v.ephemeral.volumeClaimTemplate.spec)) {
    setIfUnset(v.ephemeral.volumeClaimTemplate.spec, "volumeMode", "Filesystem");
  }
}

/** `SetDefaults_PodSpec`: what every pod spec gets, in Pods and in every pod template. */
function defaultPodSpec(spec: Obj): void {
  setIfEmpty(spec, "dnsPolicy", "ClusterFirst");
  setIfEmpty(spec, "restartPolicy", "Always");
  if (!isObj(spec.securityContext)) spec.securityContext = {};
  setIfUnset(spec, "terminationGracePeriodSeconds", 30);
  setIfEmpty(spec, "schedulerName", "default-scheduler");
  eachObj(spec.containers, defaultContainer);
  eachObj(spec.initContainers, defaultContainer);
  eachObj(spec.ephemeralContainers, defaultContainer);
  eachObj(spec.volumes, defaultVolume);
  // v1 conversion keeps the deprecated `serviceAccount` in step with `serviceAccountName`.
  if (typeof spec.serviceAccountName === "string" && spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  else if (typeof spec.serviceAccount === "string" && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
}

/** Well-known system priority classes (`pkg/apis/scheduling` `SystemPriorityClasses`). */
const SYSTEM_PRIORITIES: Record<string, number> = { "system-node-critical": 2000001000, "system-cluster-critical": 2000000000 };

const NOT_READY_TAINT = "node.kubernetes.io/not-ready";
const UNREACHABLE_TAINT = "node.kubernetes.io/unreachable";

/** True when one of `tolerations` already tolerates a NoExecute taint with this key (upstream's check). */
function toleratesNoExecute(tolerations: Obj[], key: string): boolean {
  return tolerations.some((t) => (t.key === key || !t.key) && (t.effect === "NoExecute" || !t.effect));
}

/**
 * Defaults only real Pods get (`SetDefaults_Pod` plus the defaulting admission plugins):
 * enableServiceLinks, requests copied from limits, hostNetwork host ports, the 300 s
 * not-ready/unreachable tolerations, priority and preemptionPolicy, serviceAccountName.
 */
function defaultPodOnly(spec: Obj): void {
  setIfUnset(spec, "enableServiceLinks", true);
  const copyLimits = (c: Obj): void => {
    if (!isObj(c.resources) || !isObj(c.resources.limits)) return;
    const requests = ensureObj(c.resources, "requests");
    for (const [k, v] of Object.entries(c.resources.limits)) if (requests[k] === undefined) requests[k] = v;
  };
  eachObj(spec.containers, copyLimits);
  eachObj(spec.initContainers, copyLimits);
  if (spec.hostNetwork === true) {
    const hostPorts = (c: Obj): void => eachObj(c.ports, (p) => { if (!p.hostPort) p.hostPort = p.containerPort; });
    eachObj(spec.containers, hostPorts);
    eachObj(spec.initContainers, hostPorts);
  }
  // DefaultTolerationSeconds admission plugin (plugin/pkg/admission/defaulttolerationseconds).
  const tolerations: Obj[] = Array.isArray(spec.tolerations) ? spec.tolerations.filter(isObj) : [];
  const added: Obj[] = [];
  if (!toleratesNoExecute(tolerations, NOT_READY_TAINT)) added.push({ key: NOT_READY_TAINT, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  if (!toleratesNoExecute(tolerations, UNREACHABLE_TAINT)) added.push({ key: UNREACHABLE_TAINT, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 });
  if (added.length > 0) spec.tolerations = [...(Array.isArray(spec.tolerations) ? spec.tolerations : []), ...added];
  // Priority admission plugin: no class and no global default class gives priority 0.
  if (spec.priority === undefined) {
    const cls = typeof spec.priorityClassName === "string" ? spec.priorityClassName : "";
    if (!cls) spec.priority = 0;
    else if (cls in SYSTEM_PRIORITIES) spec.priority = SYSTEM_PRIORITIES[cls];
  }
  setIfUnset(spec, "preemptionPolicy", "PreemptLowerPriority");
  // ServiceAccount admission plugin: pods run as the namespace's `default` account unless told otherwise.
  if (!spec.serviceAccountName) {
    spec.serviceAccountName = "default";
    spec.serviceAccount = "default";
  }
}

function defaultTemplate(template: unknown): void {
  if (isObj(template) && isObj(template.spec)) defaultPodSpec(template.spec);
}

/** `SetDefaults_PersistentVolumeClaim` (also applied to StatefulSet volumeClaimTemplates). */
function defaultPvc(pvc: Obj): void {
  const spec = ensureObj(pvc, "spec");
  setIfUnset(spec, "volumeMode", "Filesystem");
  const status = ensureObj(pvc, "status");
  setIfEmpty(status, "phase", "Pending");
}

function defaultDeployment(o: Obj): void {
  const spec = ensureObj(o, "spec");
  setIfUnset(spec, "replicas", 1);
  const strategy = ensureObj(spec, "strategy");
  setIfEmpty(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = ensureObj(strategy, "rollingUpdate");
    setIfUnset(ru, "maxUnavailable", "25%");
    setIfUnset(ru, "maxSurge", "25%");
  }
  setIfUnset(spec, "revisionHistoryLimit", 10);
  setIfUnset(spec, "progressDeadlineSeconds", 600);
  defaultTemplate(spec.template);
}

function defaultStatefulSet(o: Obj): void {
  const spec = ensureObj(o, "spec");
  setIfEmpty(spec, "podManagementPolicy", "OrderedReady");
  const strategy = ensureObj(spec, "updateStrategy");
  if (!strategy.type) {
    strategy.type = "RollingUpdate";
    ensureObj(strategy, "rollingUpdate");
  }
  // Partition is defaulted only when rollingUpdate is present (as upstream).
  if (strategy.type === "RollingUpdate" && isObj(strategy.rollingUpdate)) setIfUnset(strategy.rollingUpdate, "partition", 0);
  const retention = ensureObj(spec, "persistentVolumeClaimRetentionPolicy");
  setIfEmpty(retention, "whenDeleted", "Retain");
  setIfEmpty(retention, "whenScaled", "Retain");
  setIfUnset(spec, "replicas", 1);
  setIfUnset(spec, "revisionHistoryLimit", 10);
  eachObj(spec.volumeClaimTemplates, defaultPvc);
  defaultTemplate(spec.template);
}

function defaultDaemonSet(o: Obj): void {
  const spec = ensureObj(o, "spec");
  const strategy = ensureObj(spec, "updateStrategy");
  setIfEmpty(strategy, "type", "RollingUpdate");
  if (strategy.type === "RollingUpdate") {
    const ru = ensureObj(strategy, "rollingUpdate");
    setIfUnset(ru, "maxUnavailable", 1);
    setIfUnset(ru, "maxSurge", 0);
  }
  setIfUnset(spec, "revisionHistoryLimit", 10);
  defaultTemplate(spec.template);
}

function defaultReplicationController(o: Obj): void {
  const spec = ensureObj(o, "spec");
  // SetDefaults_ReplicationController: the selector and the RC's own labels come from the template.
  if (isObj(spec.template)) {
    const labels = isObj(spec.template.metadata) && isObj(spec.template.metadata.labels) ? spec.template.metadata.labels : undefined;
    if (labels && (!isObj(spec.selector) || Object.keys(spec.selector).length === 0)) spec.selector = { ...labels };
    const meta = ensureObj(o, "metadata");
    if (labels && (!isObj(meta.labels) || Object.keys(meta.labels).length === 0)) meta.labels = { ...labels };
  }
  setIfUnset(spec, "replicas", 1);
  defaultTemplate(spec.template);
}

function defaultJob(o: Obj): void {
  const spec = ensureObj(o, "spec");
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setIfUnset(spec, "parallelism", 1);
  if (spec.backoffLimit === undefined) spec.backoffLimit = spec.backoffLimitPerIndex !== undefined ? 2147483647 : 6;
  const templateLabels = isObj(spec.template) && isObj(spec.template.metadata) && isObj(spec.template.metadata.labels) ? spec.template.metadata.labels : undefined;
  const meta = ensureObj(o, "metadata");
  if (templateLabels && (!isObj(meta.labels) || Object.keys(meta.labels).length === 0)) meta.labels = { ...templateLabels };
  setIfUnset(spec, "completionMode", "NonIndexed");
  setIfUnset(spec, "suspend", false);
  if (isObj(spec.podFailurePolicy)) {
    eachObj(spec.podFailurePolicy.rules, (r) => eachObj(r.onPodConditions, (c) => setIfEmpty(c, "status", "True")));
  }
  // JobPodReplacementPolicy (beta, on by default since 1.29).
  setIfUnset(spec, "podReplacementPolicy", isObj(spec.podFailurePolicy) ? "Failed" : "TerminatingOrFailed");
  defaultTemplate(spec.template);
}

function defaultCronJob(o: Obj): void {
  const spec = ensureObj(o, "spec");
  setIfEmpty(spec, "concurrencyPolicy", "Allow");
  setIfUnset(spec, "suspend", false);
  setIfUnset(spec, "successfulJobsHistoryLimit", 3);
  setIfUnset(spec, "failedJobsHistoryLimit", 1);
  if (isObj(spec.jobTemplate) && isObj(spec.jobTemplate.spec)) defaultTemplate(spec.jobTemplate.spec.template);
}

function defaultService(o: Obj): void {
  const spec = ensureObj(o, "spec");
  setIfEmpty(spec, "sessionAffinity", "None");
  if (spec.sessionAffinity === "ClientIP") {
    const cfg = ensureObj(spec, "sessionAffinityConfig");
    const clientIP = ensureObj(cfg, "clientIP");
    setIfUnset(clientIP, "timeoutSeconds", 10800);
  }
  setIfEmpty(spec, "type", "ClusterIP");
  eachObj(spec.ports, (p) => {
    setIfEmpty(p, "protocol", "TCP");
    // An int-or-string targetPort of int 0 or "" means unset: it follows the port.
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === "") p.targetPort = p.port;
  });
  if (spec.type === "NodePort" || spec.type === "LoadBalancer") setIfEmpty(spec, "externalTrafficPolicy", "Cluster");
  if (spec.type === "NodePort" || spec.type === "LoadBalancer" || spec.type === "ClusterIP") setIfUnset(spec, "internalTrafficPolicy", "Cluster");
  if (spec.type === "LoadBalancer") setIfUnset(spec, "allocateLoadBalancerNodePorts", true);
  // IP families are filled by the Service REST storage on a single-stack IPv4 cluster.
  if (spec.type !== "ExternalName") {
    const headlessWithoutSelector = spec.clusterIP === "None" && (!isObj(spec.selector) || Object.keys(spec.selector).length === 0);
    setIfUnset(spec, "ipFamilyPolicy", headlessWithoutSelector ? "RequireDualStack" : "SingleStack");
    if (!Array.isArray(spec.ipFamilies) || spec.ipFamilies.length === 0) spec.ipFamilies = ["IPv4"];
  }
}

function defaultSecret(o: Obj): void {
  setIfEmpty(o, "type", "Opaque");
  // The v1 → internal conversion writes stringData over data (stringData wins) and drops it.
  if (isObj(o.stringData)) {
    const data = ensureObj(o, "data");
    for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(typeof v === "string" ? v : String(v), "utf8").toString("base64");
  }
  delete o.stringData;
}

function defaultNamespace(o: Obj): void {
  const meta = ensureObj(o, "metadata");
  // SetDefaults_Namespace: the immutable name label (NamespaceDefaultLabelName, GA in 1.22).
  if (typeof meta.name === "string" && meta.name) {
    const labels = ensureObj(meta, "labels");
    labels["kubernetes.io/metadata.name"] = meta.name;
  }
  const spec = ensureObj(o, "spec");
  // The namespace strategy always sets the `kubernetes` finalizer on create.
  const finalizers: string[] = Array.isArray(spec.finalizers) ? spec.finalizers : [];
  if (!finalizers.includes("kubernetes")) spec.finalizers = [...finalizers, "kubernetes"];
  const status = ensureObj(o, "status");
  setIfEmpty(status, "phase", "Active");
}

function defaultHpaV2(o: Obj): void {
  const spec = ensureObj(o, "spec");
  setIfUnset(spec, "minReplicas", 1);
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    // autoscaling.DefaultCPUUtilization
    spec.metrics = [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } }];
  }
  if (isObj(spec.behavior)) {
    // SetDefaults_HorizontalPodAutoscalerBehavior: only when behavior is given, fill what is missing.
    const up = ensureObj(spec.behavior, "scaleUp");
    setIfUnset(up, "stabilizationWindowSeconds", 0);
    setIfUnset(up, "selectPolicy", "Max");
    setIfUnset(up, "policies", [
      { type: "Pods", value: 4, periodSeconds: 15 },
      { type: "Percent", value: 100, periodSeconds: 15 },
    ]);
    const down = ensureObj(spec.behavior, "scaleDown");
    setIfUnset(down, "selectPolicy", "Max");
    setIfUnset(down, "policies", [{ type: "Percent", value: 100, periodSeconds: 15 }]);
  }
}

function defaultNetworkPolicy(o: Obj): void {
  const spec = ensureObj(o, "spec");
  const ports = (rules: unknown): void => eachObj(rules, (r) => eachObj(r.ports, (p) => setIfUnset(p, "protocol", "TCP")));
  ports(spec.ingress);
  ports(spec.egress);
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    spec.policyTypes = ["Ingress"];
    if (Array.isArray(spec.egress) && spec.egress.length > 0) spec.policyTypes.push("Egress");
  }
}

function defaultPv(o: Obj): void {
  const spec = ensureObj(o, "spec");
  setIfEmpty(spec, "persistentVolumeReclaimPolicy", "Retain");
  setIfUnset(spec, "volumeMode", "Filesystem");
  if (isObj(spec.hostPath)) setIfUnset(spec.hostPath, "type", "");
  const status = ensureObj(o, "status");
  setIfEmpty(status, "phase", "Pending");
}

function defaultRbacBinding(o: Obj): void {
  if (isObj(o.roleRef)) setIfEmpty(o.roleRef, "apiGroup", "rbac.authorization.k8s.io");
  eachObj(o.subjects, (s) => {
    if (s.apiGroup === undefined || s.apiGroup === "") {
      if (s.kind === "User" || s.kind === "Group") s.apiGroup = "rbac.authorization.k8s.io";
      else if (s.kind === "ServiceAccount") s.apiGroup = "";
    }
  });
}

/**
 * Returns a defaulted deep copy of `obj` (the input is never changed). Unknown kinds are returned
 * copied but otherwise untouched.
 */
export function applyDefaults(obj: KubeObject): KubeObject {
  return applyDefaultsInPlace(clone(obj));
}

/**
 * `applyDefaults` on an object the caller owns and hands over (admission's private copy): it is
 * defaulted in place, without another copy, and returned.
 */
export function applyDefaultsInPlace(obj: KubeObject): KubeObject {
  const o = obj as Obj;
  stripNulls(o);
  const { group } = splitApiVersion(typeof o.apiVersion === "string" ? o.apiVersion : "");
  const kind = o.kind;
  if (!isObj(o.metadata)) o.metadata = {};
  switch (`${group}/${kind}`) {
    case "/Pod": {
      const spec = ensureObj(o, "spec");
      defaultPodSpec(spec);
      defaultPodOnly(spec);
      break;
    }
    case "/ReplicationController":
      defaultReplicationController(o);
      break;
    case "/Service":
      defaultService(o);
      break;
    case "/Secret":
      defaultSecret(o);
      break;
    case "/Namespace":
      defaultNamespace(o);
      break;
    case "/PersistentVolume":
      defaultPv(o);
      break;
    case "/PersistentVolumeClaim":
      defaultPvc(o);
      break;
    case "/Endpoints":
      eachObj(o.subsets, (s) => eachObj(s.ports, (p) => setIfEmpty(p, "protocol", "TCP")));
      break;
    case "/Node":
      if (isObj(o.status) && isObj(o.status.capacity) && !isObj(o.status.allocatable)) o.status.allocatable = { ...o.status.capacity };
      break;
    case "apps/Deployment":
      defaultDeployment(o);
      break;
    case "apps/ReplicaSet":
      setIfUnset(ensureObj(o, "spec"), "replicas", 1);
      defaultTemplate(o.spec.template);
      break;
    case "apps/StatefulSet":
      defaultStatefulSet(o);
      break;
    case "apps/DaemonSet":
      defaultDaemonSet(o);
      break;
    case "batch/Job":
      defaultJob(o);
      break;
    case "batch/CronJob":
      defaultCronJob(o);
      break;
    case "autoscaling/HorizontalPodAutoscaler":
      if (splitApiVersion(o.apiVersion).version === "v2") defaultHpaV2(o);
      else setIfUnset(ensureObj(o, "spec"), "minReplicas", 1);
      break;
    case "networking.k8s.io/NetworkPolicy":
      defaultNetworkPolicy(o);
      break;
    case "networking.k8s.io/IngressClass":
      if (isObj(o.spec) && isObj(o.spec.parameters)) setIfUnset(o.spec.parameters, "scope", "Cluster");
      break;
    case "storage.k8s.io/StorageClass":
      setIfEmpty(o, "reclaimPolicy", "Delete");
      setIfEmpty(o, "volumeBindingMode", "Immediate");
      break;
    case "discovery.k8s.io/EndpointSlice":
      eachObj(o.ports, (p) => {
        setIfUnset(p, "name", "");
        setIfUnset(p, "protocol", "TCP");
      });
      break;
    case "rbac.authorization.k8s.io/RoleBinding":
    case "rbac.authorization.k8s.io/ClusterRoleBinding":
      defaultRbacBinding(o);
      break;
    default:
      break;
  }
  return o as KubeObject;
}

/** Label keys the Job registry puts on a Job's pod template (`batch/v1` constants). */
export const JOB_LABELS = {
  controllerUid: "batch.kubernetes.io/controller-uid",
  legacyControllerUid: "controller-uid",
  jobName: "batch.kubernetes.io/job-name",
  legacyJobName: "job-name",
} as const;

/**
 * The Job registry's `generateSelector` (run on create, after the uid is set): unless
 * `spec.manualSelector` is true, labels the pod template with the job name and uid (both the
 * `batch.kubernetes.io/` keys and the legacy ones, without overwriting labels the user set) and
 * selects on `batch.kubernetes.io/controller-uid`. A Job without labels of its own then shows the
 * template's labels, as Job defaulting does when the object is read back. Returns a copy.
 */
export function applyJobSelector(job: KubeObject): KubeObject {
  const o = clone(job) as Obj;
  const spec = ensureObj(o, "spec");
  if (spec.manualSelector === true) return o as KubeObject;
  const meta = ensureObj(o, "metadata");
  const name = typeof meta.name === "string" ? meta.name : "";
  const uid = typeof meta.uid === "string" ? meta.uid : "";
  const template = ensureObj(spec, "template");
  const tmeta = ensureObj(template, "metadata");
  const labels = ensureObj(tmeta, "labels");
  for (const k of [JOB_LABELS.legacyJobName, JOB_LABELS.jobName]) setIfUnset(labels, k, name);
  for (const k of [JOB_LABELS.legacyControllerUid, JOB_LABELS.controllerUid]) setIfUnset(labels, k, uid);
  const selector = ensureObj(spec, "selector");
  const matchLabels = ensureObj(selector, "matchLabels");
  setIfUnset(matchLabels, JOB_LABELS.controllerUid, uid);
  if (!isObj(meta.labels) || Object.keys(meta.labels).length === 0) meta.labels = { ...labels };
  return o as KubeObject;
}

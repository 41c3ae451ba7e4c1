/**
 * Pod spec validation: containers, ports, env, volumes, probes, resources, tolerations,
 * affinity, as kubernetes/kubernetes `pkg/apis/core/validation/validation.go` (`ValidatePodSpec`,
 * `ValidatePodTemplateSpec` and what they call) checks them, with the same paths and wording.
 */
import type { StatusCause } from "./types.js";
import { canonicalQuantity, isQuantity, parseQuantity } from "./quantity.js";
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isHTTPHeaderName,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from "./names.js";
import { validateAnnotations, validateLabelName, validateLabelSelector, validateLabels, validateSelectorRequirement } from "./_validation-meta.js";
import {
  FieldPath,
  arr,
  duplicate,
  forbidden,
  invalid,
  invalidEach,
  isObj,
  nonNegative,
  notFound,
  notSupported,
  obj,
  required,
  str,
} from "./_validation-field.js";

const FILE_MODE_ERR = "must be a number between 0 and 0777 (octal), both inclusive";

/** `ValidateDNS1123Label`. */
function dnsLabel(value: string, path: FieldPath): StatusCause[] {
  return invalidEach(path, value, isDNS1123Label(value));
}

function fileMode(mode: unknown, path: FieldPath): StatusCause[] {
  return typeof mode === "number" && (mode > 0o777 || mode < 0) ? [invalid(path, mode, FILE_MODE_ERR)] : [];
}

/** `validatePathNoBacksteps`. */
function noBacksteps(p: string, path: FieldPath): StatusCause[] {
  return p.split("/").includes("..") ? [invalid(path, p, "must not contain '..'")] : [];
}

/** `validateLocalDescendingPath`. */
function localDescendingPath(p: string, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  if (p.startsWith("/")) out.push(invalid(path, p, "must be a relative path"));
  out.push(...noBacksteps(p, path));
  return out;
}

/** `ValidateLocalNonReservedPath`. */
function localNonReservedPath(p: string, path: FieldPath): StatusCause[] {
  const out = localDescendingPath(p, path);
  if (p.startsWith("..") && !p.startsWith("../")) out.push(invalid(path, p, "must not start with '..'"));
  return out;
}

function keyToPath(kp: Record<string, any>, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  if (!str(kp.key)) out.push(required(path.child("key")));
  if (!str(kp.path)) out.push(required(path.child("path")));
  out.push(...localNonReservedPath(str(kp.path), path.child("path")));
  out.push(...fileMode(kp.mode, path.child("mode")));
  return out;
}

const HOST_PATH_TYPES = ["", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket"];

/** Required string fields of the volume sources not checked one by one below (upstream checks each). */
const REQUIRED_SOURCE_FIELDS: Record<string, string[]> = {
  gcePersistentDisk: ["pdName"],
  awsElasticBlockStore: ["volumeID"],
  gitRepo: ["repository"],
  iscsi: ["targetPortal", "iqn"],
  glusterfs: ["endpoints", "path"],
  rbd: ["monitors", "image"],
  cinder: ["volumeID"],
  cephfs: ["monitors"],
  flexVolume: ["driver"],
  azureFile: ["secretName", "shareName"],
  vsphereVolume: ["volumePath"],
  quobyte: ["registry", "volume"],
  azureDisk: ["diskName", "diskURI"],
  photonPersistentDisk: ["pdID"],
  portworxVolume: ["volumeID"],
  scaleIO: ["gateway", "system", "volumeName"],
  storageos: ["volumeName"],
  csi: ["driver"],
  local: ["path"],
};

const POD_VOLUME_SOURCES = [
  "emptyDir", "hostPath", "gitRepo", "gcePersistentDisk", "awsElasticBlockStore", "secret", "nfs", "iscsi", "glusterfs",
  "flocker", "persistentVolumeClaim", "rbd", "cinder", "cephfs", "quobyte", "downwardAPI", "fc", "flexVolume", "configMap",
  "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk", "storageos", "projected", "scaleIO",
  "csi", "ephemeral", "image",
];

/** Fields of a PersistentVolume that hold its source, in upstream's order. */
export const PV_VOLUME_SOURCES = [
  "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "glusterfs", "flocker", "nfs", "rbd", "quobyte", "cephfs", "iscsi",
  "cinder", "fc", "flexVolume", "azureFile", "vsphereVolume", "photonPersistentDisk", "portworxVolume", "azureDisk", "scaleIO",
  "local", "storageos", "csi",
];

/** One volume source (pod volume or PV source): the per-type checks of `validateVolumeSource`. */
export function validateSourceFields(kind: string, src: Record<string, any>, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  switch (kind) {
    case "emptyDir":
      if (src.sizeLimit !== undefined && isQuantity(src.sizeLimit) && parseQuantity(src.sizeLimit) < 0) {
        out.push(forbidden(path.child("sizeLimit"), "SizeLimit field must be a valid resource quantity"));
      }
      break;
    case "hostPath":
    case "local":
      if (!str(src.path)) out.push(required(path.child("path")));
      else {
        out.push(...noBacksteps(str(src.path), path.child("path")));
        if (kind === "hostPath" && src.type !== undefined && !HOST_PATH_TYPES.includes(str(src.type))) {
          out.push(notSupported(path.child("type"), src.type, HOST_PATH_TYPES));
        }
      }
      break;
    case "secret":
      if (!str(src.secretName)) out.push(required(path.child("secretName")));
      out.push(...fileMode(src.defaultMode, path.child("defaultMode")));
      arr(src.items).forEach((kp, i) => out.push(...keyToPath(obj(kp), path.child("items").index(i))));
      break;
    case "configMap":
      if (!str(src.name)) out.push(required(path.child("name")));
      out.push(...fileMode(src.defaultMode, path.child("defaultMode")));
      arr(src.items).forEach((kp, i) => out.push(...keyToPath(obj(kp), path.child("items").index(i))));
      break;
    case "persistentVolumeClaim":
      if (!str(src.claimName)) out.push(required(path.child("claimName")));
      break;
    case "nfs":
      if (!str(src.server)) out.push(required(path.child("server")));
      if (!str(src.path)) out.push(required(path.child("path")));
      if (!str(src.path).startsWith("/")) out.push(invalid(path.child("path"), str(src.path), "must be an absolute path"));
      break;
    case "downwardAPI":
      out.push(...fileMode(src.defaultMode, path.child("defaultMode")));
      for (const item of arr(src.items)) {
        const f = obj(item);
        if (!str(f.path)) out.push(required(path.child("path")));
        out.push(...localNonReservedPath(str(f.path), path.child("path")));
        if (!isObj(f.fieldRef) && !isObj(f.resourceFieldRef)) out.push(required(path, "one of fieldRef and resourceFieldRef is required"));
        out.push(...fileMode(f.mode, path.child("mode")));
      }
      break;
    case "projected":
      out.push(...fileMode(src.defaultMode, path.child("defaultMode")));
      arr(src.sources).forEach((s, i) => {
        const source = obj(s);
        const sp = path.child("sources").index(i);
        const kinds = ["secret", "configMap", "downwardAPI", "serviceAccountToken", "clusterTrustBundle"].filter((k) => source[k] !== undefined);
        if (kinds.length > 1) out.push(forbidden(sp, "may not specify more than 1 volume type per source"));
        if (isObj(source.serviceAccountToken)) {
          const t = source.serviceAccountToken;
          if (typeof t.expirationSeconds === "number" && t.expirationSeconds < 600) {
            out.push(invalid(sp.child("serviceAccountToken").child("expirationSeconds"), t.expirationSeconds, "may not specify a duration less than 10 minutes"));
          }
          if (!str(t.path)) out.push(required(path.child("path")));
        }
        for (const k of ["secret", "configMap"]) {
          if (!isObj(source[k])) continue;
          arr(source[k].items).forEach((kp, j) => out.push(...keyToPath(obj(kp), sp.child(k).child("items").index(j))));
        }
      });
      break;
    case "ephemeral":
      if (!isObj(src.volumeClaimTemplate)) out.push(required(path.child("volumeClaimTemplate")));
      else out.push(...validatePvcSpec(src.volumeClaimTemplate.spec, path.child("volumeClaimTemplate").child("spec")));
      break;
    case "fc":
      if (arr(src.targetWWNs).length === 0 && arr(src.wwids).length === 0) {
        out.push(required(path.child("targetWWNs"), "must specify either targetWWNs or wwids, but not both"));
      }
      break;
    case "flocker":
      if (!str(src.datasetName) && !str(src.datasetUUID)) out.push(required(path, "one of datasetName and datasetUUID is required"));
      break;
    default:
      for (const f of REQUIRED_SOURCE_FIELDS[kind] ?? []) {
        const v = src[f];
        if (v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) out.push(required(path.child(f)));
      }
  }
  return out;
}

/** `ValidateVolumes`: returns the causes and the names of the valid volumes (for mount checks). */
function validateVolumes(volumes: unknown, path: FieldPath): { causes: StatusCause[]; names: Map<string, Record<string, any>> } {
  const out: StatusCause[] = [];
  const names = new Map<string, Record<string, any>>();
  arr(volumes).forEach((v, i) => {
    const vol = obj(v);
    const p = path.index(i);
    const el: StatusCause[] = [];
    let count = 0;
    for (const kind of POD_VOLUME_SOURCES) {
      if (vol[kind] === undefined) continue;
      if (count > 0) {
        el.push(forbidden(p.child(kind), "may not specify more than 1 volume type"));
        continue;
      }
      count++;
      el.push(...validateSourceFields(kind, obj(vol[kind]), p.child(kind)));
    }
    if (count === 0) el.push(required(p, "must specify a volume type"));
    const name = str(vol.name);
    if (!name) el.push(required(p.child("name")));
    else el.push(...dnsLabel(name, p.child("name")));
    if (names.has(name)) el.push(duplicate(p.child("name"), name));
    if (el.length === 0) names.set(name, vol);
    else out.push(...el);
  });
  return { causes: out, names };
}

const PROTOCOLS = ["SCTP", "TCP", "UDP"];

function validateContainerPorts(ports: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  const names = new Set<string>();
  arr(ports).forEach((pt, i) => {
    const port = obj(pt);
    const p = path.index(i);
    const name = str(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) out.push(...invalidEach(p.child("name"), name, msgs));
      else if (names.has(name)) out.push(duplicate(p.child("name"), name));
      else names.add(name);
    }
    const cp = typeof port.containerPort === "number" ? port.containerPort : 0;
    if (cp === 0) out.push(required(p.child("containerPort")));
    else out.push(...invalidEach(p.child("containerPort"), cp, isValidPortNum(cp)));
    if (typeof port.hostPort === "number" && port.hostPort !== 0) out.push(...invalidEach(p.child("hostPort"), port.hostPort, isValidPortNum(port.hostPort)));
    const proto = str(port.protocol);
    if (!proto) out.push(required(p.child("protocol")));
    else if (!PROTOCOLS.includes(proto)) out.push(notSupported(p.child("protocol"), proto, PROTOCOLS));
  });
  return out;
}

const ENV_FIELD_PATHS = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"];
const RESOURCE_FIELD_PATHS = ["limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu", "requests.ephemeral-storage", "requests.memory"];

function validateKeySelector(sel: Record<string, any>, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  out.push(...invalidEach(path.child("name"), str(sel.name), nameIsDNSSubdomain(str(sel.name), false)));
  if (!str(sel.key)) out.push(required(path.child("key")));
  else out.push(...invalidEach(path.child("key"), str(sel.key), isConfigMapKey(str(sel.key))));
  return out;
}

function validateEnv(env: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  arr(env).forEach((e, i) => {
    const ev = obj(e);
    const p = path.index(i);
    const name = str(ev.name);
    if (!name) out.push(required(p.child("name")));
    else out.push(...invalidEach(p.child("name"), name, isRelaxedEnvVarName(name)));
    if (!isObj(ev.valueFrom)) return;
    const vf = ev.valueFrom;
    const vp = p.child("valueFrom");
    let sources = 0;
    if (isObj(vf.fieldRef)) {
      sources++;
      const fp = vp.child("fieldRef");
      if (!str(vf.fieldRef.apiVersion)) out.push(required(fp.child("apiVersion")));
      else if (!str(vf.fieldRef.fieldPath)) out.push(required(fp.child("fieldPath")));
      else {
        const fieldPath = str(vf.fieldRef.fieldPath);
        const sub = /^(metadata\.(?:labels|annotations))\['(.+)'\]$/.exec(fieldPath);
        if (sub) out.push(...invalidEach(fp, sub[2], isQualifiedName(sub[1] === "metadata.annotations" ? sub[2].toLowerCase() : sub[2])));
        else if (!ENV_FIELD_PATHS.includes(fieldPath)) out.push(notSupported(fp.child("fieldPath"), fieldPath, ENV_FIELD_PATHS));
      }
    }
    if (isObj(vf.resourceFieldRef)) {
      sources++;
      const res = str(vf.resourceFieldRef.resource);
      const rp = vp.child("resourceFieldRef");
      if (!res) out.push(required(rp.child("resource")));
      else if (!RESOURCE_FIELD_PATHS.includes(res) && !/^(requests|limits)\.hugepages-/.test(res)) out.push(notSupported(rp.child("resource"), res, RESOURCE_FIELD_PATHS));
    }
    if (isObj(vf.configMapKeyRef)) {
      sources++;
      out.push(...validateKeySelector(vf.configMapKeyRef, vp.child("configMapKeyRef")));
    }
    if (isObj(vf.secretKeyRef)) {
      sources++;
      out.push(...validateKeySelector(vf.secretKeyRef, vp.child("secretKeyRef")));
    }
    if (sources === 0) out.push(invalid(vp, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"));
    else if (str(ev.value)) out.push(invalid(vp, "", "may not be specified when `value` is not empty"));
    else if (sources > 1) out.push(invalid(vp, "", "may not have more than one field specified at a time"));
  });
  return out;
}

function validateEnvFrom(envFrom: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  arr(envFrom).forEach((e, i) => {
    const ev = obj(e);
    const p = path.index(i);
    if (str(ev.prefix)) out.push(...invalidEach(p.child("prefix"), str(ev.prefix), isRelaxedEnvVarName(str(ev.prefix))));
    let sources = 0;
    for (const k of ["configMapRef", "secretRef"]) {
      if (!isObj(ev[k])) continue;
      sources++;
      const name = str(ev[k].name);
      if (!name) out.push(required(p.child(k).child("name")));
      else out.push(...invalidEach(p.child(k).child("name"), name, nameIsDNSSubdomain(name, true)));
    }
    if (sources === 0) out.push(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"));
    else if (sources > 1) out.push(invalid(path, "", "may not have more than one field specified at a time"));
  });
  return out;
}

function validateVolumeMounts(mounts: unknown, volumes: Map<string, Record<string, any>>, container: Record<string, any>, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  const mountPoints = new Set<string>();
  arr(mounts).forEach((m, i) => {
    const mnt = obj(m);
    const p = path.index(i);
    const name = str(mnt.name);
    const mountPath = str(mnt.mountPath);
    if (!name) out.push(required(p.child("name")));
    if (!volumes.has(name)) out.push(notFound(p.child("name"), name));
    if (!mountPath) out.push(required(p.child("mountPath")));
    if (mountPoints.has(mountPath)) out.push(invalid(p.child("mountPath"), mountPath, "must be unique"));
    mountPoints.add(mountPath);
    if (str(mnt.subPath)) out.push(...localDescendingPath(str(mnt.subPath), path.child("subPath")));
    if (str(mnt.subPathExpr)) {
      if (str(mnt.subPath)) out.push(invalid(p.child("subPathExpr"), str(mnt.subPathExpr), "subPathExpr and subPath are mutually exclusive"));
      out.push(...localDescendingPath(str(mnt.subPathExpr), path.child("subPathExpr")));
    }
    if (mnt.mountPropagation !== undefined) {
      const mp = str(mnt.mountPropagation);
      const valid = ["Bidirectional", "HostToContainer", "None"];
      if (!valid.includes(mp)) out.push(notSupported(path.child("mountPropagation"), mp, valid));
      const privileged = isObj(container.securityContext) && container.securityContext.privileged === true;
      if (mp === "Bidirectional" && !privileged) out.push(forbidden(path.child("mountPropagation"), "Bidirectional mount propagation is available only to privileged containers"));
    }
  });
  return out;
}

/** Resource names a container may request without a `/` (`IsStandardContainerResourceName`). */
function isStandardContainerResource(name: string): boolean {
  return name === "cpu" || name === "memory" || name === "ephemeral-storage" || name.startsWith("hugepages-");
}

/** `IsNativeResource`: unprefixed or in the kubernetes.io domain. */
function isNativeResource(name: string): boolean {
  return !name.includes("/") || name.includes("kubernetes.io/");
}

/** `IsOvercommitAllowed`: requests may be below limits only for native, non-hugepage resources. */
function isOvercommitAllowed(name: string): boolean {
  return isNativeResource(name) && !name.startsWith("hugepages-");
}

/** `IsIntegerResourceName`: extended resources and object counts must be whole numbers. */
function isIntegerResource(name: string): boolean {
  return !isNativeResource(name) && !name.startsWith("requests.");
}

function validateResourceName(name: string, path: FieldPath): StatusCause[] {
  const out = invalidEach(path, name, isQualifiedName(name));
  if (out.length > 0) return out;
  if (!name.includes("/")) {
    if (!isStandardContainerResource(name)) out.push(invalid(path, name, "must be a standard resource for containers"));
  } else if (!isNativeResource(name)) {
    if (name.startsWith("requests.")) out.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return out;
}

function quantityErrors(name: string, q: unknown, path: FieldPath): StatusCause[] {
  if (!isQuantity(q)) return [];
  const v = parseQuantity(q as string | number);
  const out: StatusCause[] = [];
  if (v < 0) out.push(invalid(path, canonicalQuantity(q as string | number), "must be greater than or equal to 0"));
  if (isIntegerResource(name) && Math.abs(v - Math.round(v)) > 1e-9) out.push(invalid(path, canonicalQuantity(q as string | number), "must be an integer"));
  return out;
}

/** `ValidateContainerResourceRequirements`: names, quantities, requests <= limits. */
export function validateResources(resources: unknown, path: FieldPath): StatusCause[] {
  const res = obj(resources);
  const out: StatusCause[] = [];
  const limits = obj(res.limits);
  const requests = obj(res.requests);
  const limPath = path.child("limits");
  const reqPath = path.child("requests");
  for (const [name, q] of Object.entries(limits)) {
    out.push(...validateResourceName(name, limPath.key(name)));
    out.push(...quantityErrors(name, q, limPath.key(name)));
  }
  for (const [name, q] of Object.entries(requests)) {
    out.push(...validateResourceName(name, reqPath.key(name)));
    out.push(...quantityErrors(name, q, reqPath.key(name)));
    if (!isQuantity(q)) continue;
    const req = parseQuantity(q as string | number);
    const lim = limits[name];
    if (lim !== undefined && isQuantity(lim)) {
      const limit = parseQuantity(lim);
      const reqText = canonicalQuantity(q as string | number);
      if (Math.abs(req - limit) > 1e-12 * Math.max(1, Math.abs(limit)) && !isOvercommitAllowed(name)) {
        out.push(invalid(reqPath, reqText, `must be equal to ${name} limit of ${canonicalQuantity(lim)}`));
      } else if (req > limit + 1e-12 * Math.max(1, Math.abs(limit))) {
        out.push(invalid(reqPath, reqText, `must be less than or equal to ${name} limit of ${canonicalQuantity(lim)}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      out.push(required(limPath, "Limit must be set for non overcommitable resources"));
    }
  }
  return out;
}

function validatePortNumOrName(port: unknown, path: FieldPath): StatusCause[] {
  if (typeof port === "string") return invalidEach(path, port, isValidPortName(port));
  const n = typeof port === "number" ? port : 0;
  return invalidEach(path, n, isValidPortNum(n));
}

function validateHandler(h: Record<string, any>, path: FieldPath, allowSleep: boolean, gracePeriod: number | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  let count = 0;
  const kinds = allowSleep ? ["exec", "httpGet", "tcpSocket", "grpc", "sleep"] : ["exec", "httpGet", "tcpSocket", "grpc"];
  for (const kind of kinds) {
    if (!isObj(h[kind])) continue;
    const p = path.child(kind);
    if (count > 0) {
      out.push(forbidden(p, "may not specify more than 1 handler type"));
      continue;
    }
    count++;
    const a = h[kind];
    if (kind === "exec" && arr(a.command).length === 0) out.push(required(p.child("command")));
    if (kind === "httpGet") {
      if (!str(a.path)) out.push(required(p.child("path")));
      out.push(...validatePortNumOrName(a.port, p.child("port")));
      const scheme = str(a.scheme);
      if (!["HTTP", "HTTPS"].includes(scheme)) out.push(notSupported(p.child("scheme"), scheme, ["HTTP", "HTTPS"]));
      for (const hd of arr(a.httpHeaders)) out.push(...invalidEach(p.child("httpHeaders"), str(obj(hd).name), isHTTPHeaderName(str(obj(hd).name))));
    }
    if (kind === "tcpSocket") out.push(...validatePortNumOrName(a.port, p.child("port")));
    if (kind === "grpc") out.push(...validatePortNumOrName(typeof a.port === "number" ? a.port : 0, p.child("port")));
    if (kind === "sleep" && gracePeriod !== undefined) {
      const s = typeof a.seconds === "number" ? a.seconds : 0;
      if (s < 0 || s > gracePeriod) out.push(invalid(p, s, `must be non-negative and less than terminationGracePeriodSeconds (${gracePeriod})`));
    }
  }
  if (count === 0) out.push(required(path, "must specify a handler type"));
  return out;
}

function validateProbe(probe: unknown, path: FieldPath, kind: "liveness" | "readiness" | "startup", gracePeriod: number | undefined): StatusCause[] {
  if (!isObj(probe)) return [];
  const out = validateHandler(probe, path, false, gracePeriod);
  for (const f of ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"]) {
    out.push(...nonNegative(probe[f], path.child(f)));
  }
  if (typeof probe.terminationGracePeriodSeconds === "number" && probe.terminationGracePeriodSeconds <= 0) {
    out.push(invalid(path.child("terminationGracePeriodSeconds"), probe.terminationGracePeriodSeconds, "must be greater than 0"));
  }
  if (kind === "readiness" && probe.terminationGracePeriodSeconds !== undefined) {
    out.push(invalid(path.child("terminationGracePeriodSeconds"), probe.terminationGracePeriodSeconds, "must not be set for readinessProbes"));
  }
  if (kind !== "readiness" && probe.successThreshold !== 1) out.push(invalid(path.child("successThreshold"), probe.successThreshold ?? 0, "must be 1"));
  return out;
}

function validateLifecycle(lc: unknown, path: FieldPath, gracePeriod: number | undefined): StatusCause[] {
  if (!isObj(lc)) return [];
  const out: StatusCause[] = [];
  if (isObj(lc.postStart)) out.push(...validateHandler(lc.postStart, path.child("postStart"), true, gracePeriod));
  if (isObj(lc.preStop)) out.push(...validateHandler(lc.preStop, path.child("preStop"), true, gracePeriod));
  return out;
}

const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
const TERMINATION_MESSAGE_POLICIES = ["File", "FallbackToLogsOnError"];

/** `validateContainerCommon`. */
function validateContainerCommon(c: Record<string, any>, volumes: Map<string, Record<string, any>>, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  const name = str(c.name);
  if (!name) out.push(required(path.child("name")));
  else out.push(...dnsLabel(name, path.child("name")));
  if (!str(c.image)) out.push(required(path.child("image")));
  const tmp = str(c.terminationMessagePolicy);
  if (!tmp) out.push(required(path.child("terminationMessagePolicy")));
  else if (!TERMINATION_MESSAGE_POLICIES.includes(tmp)) out.push(notSupported(path.child("terminationMessagePolicy"), tmp, TERMINATION_MESSAGE_POLICIES));
  out.push(...validateContainerPorts(c.ports, path.child("ports")));
  out.push(...validateEnv(c.env, path.child("env")));
  out.push(...validateEnvFrom(c.envFrom, path.child("envFrom")));
  out.push(...validateVolumeMounts(c.volumeMounts, volumes, c, path.child("volumeMounts")));
  const pull = str(c.imagePullPolicy);
  if (!pull) out.push(required(path.child("imagePullPolicy")));
  else if (!PULL_POLICIES.includes(pull)) out.push(notSupported(path.child("imagePullPolicy"), pull, PULL_POLICIES));
  out.push(...validateResources(c.resources, path.child("resources")));
  return out;
}

/** `checkHostPortConflicts`. */
function hostPortConflicts(containers: Record<string, any>[], path: FieldPath, seen = new Set<string>()): StatusCause[] {
  const out: StatusCause[] = [];
  containers.forEach((c, ci) => {
    arr(c.ports).forEach((pt, pi) => {
      const port = obj(pt);
      if (!port.hostPort) return;
      const key = `${str(port.protocol)}/${str(port.hostIP)}/${port.hostPort}`;
      if (seen.has(key)) out.push(duplicate(path.index(ci).child("ports").index(pi).child("hostPort"), key));
      else seen.add(key);
    });
  });
  return out;
}

function validateTolerations(tolerations: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  arr(tolerations).forEach((t, i) => {
    const tol = obj(t);
    const p = path.index(i);
    const key = str(tol.key);
    const op = str(tol.operator);
    const effect = str(tol.effect);
    if (key) out.push(...validateLabelName(key, p.child("key")));
    if (!key && op !== "Exists") {
      out.push(invalid(p.child("operator"), op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (tol.tolerationSeconds !== undefined && effect !== "NoExecute") {
      out.push(invalid(p.child("effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === "Equal" || op === "") {
      const errs = isValidLabelValue(str(tol.value));
      if (errs.length > 0) out.push(invalid(p.child("operator"), str(tol.value), errs.join(";")));
    } else if (op === "Exists") {
      if (str(tol.value)) out.push(invalid(p.child("operator"), tol, "value must be empty when `operator` is 'Exists'"));
    } else {
      out.push(notSupported(p.child("operator"), op, ["Equal", "Exists"]));
    }
    if (effect && !["NoSchedule", "PreferNoSchedule", "NoExecute"].includes(effect)) {
      out.push(notSupported(p.child("effect"), effect, ["NoExecute", "NoSchedule", "PreferNoSchedule"]));
    }
  });
  return out;
}

function validateNodeSelectorTerm(term: Record<string, any>, path: FieldPath, checkValues: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  arr(term.matchExpressions).forEach((r, j) => {
    out.push(...validateSelectorRequirement(obj(r), path.child("matchExpressions").index(j), { numeric: true, checkValues }));
  });
  return out;
}

function validatePodAffinityTerm(term: Record<string, any>, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  out.push(...validateLabelSelector(term.labelSelector, path.child("labelSelector")));
  out.push(...validateLabelSelector(term.namespaceSelector, path.child("namespaceSelector")));
  for (const ns of arr(term.namespaces)) out.push(...invalidEach(path.child("namespace"), str(ns), isDNS1123Label(str(ns))));
  if (!str(term.topologyKey)) out.push(required(path.child("topologyKey"), "can not be empty"));
  return out.concat(validateLabelName(str(term.topologyKey), path.child("topologyKey")));
}

function validateAffinity(affinity: unknown, path: FieldPath): StatusCause[] {
  if (!isObj(affinity)) return [];
  const out: StatusCause[] = [];
  if (isObj(affinity.nodeAffinity)) {
    const na = affinity.nodeAffinity;
    const np = path.child("nodeAffinity");
    if (isObj(na.requiredDuringSchedulingIgnoredDuringExecution)) {
      const rp = np.child("requiredDuringSchedulingIgnoredDuringExecution");
      const terms = arr(na.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms);
      if (terms.length === 0) out.push(required(rp.child("nodeSelectorTerms"), "must have at least one node selector term"));
      terms.forEach((t, i) => out.push(...validateNodeSelectorTerm(obj(t), rp.child("nodeSelectorTerms").index(i), true)));
    }
    arr(na.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const term = obj(t);
      const p = np.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
      const w = typeof term.weight === "number" ? term.weight : 0;
      if (w <= 0 || w > 100) out.push(invalid(p.child("weight"), w, "must be in the range 1-100"));
      out.push(...validateNodeSelectorTerm(obj(term.preference), p.child("preference"), false));
    });
  }
  for (const k of ["podAffinity", "podAntiAffinity"]) {
    if (!isObj(affinity[k])) continue;
    const pa = affinity[k];
    const pp = path.child(k);
    arr(pa.requiredDuringSchedulingIgnoredDuringExecution).forEach((t, i) =>
      out.push(...validatePodAffinityTerm(obj(t), pp.child("requiredDuringSchedulingIgnoredDuringExecution").index(i))),
    );
    arr(pa.preferredDuringSchedulingIgnoredDuringExecution).forEach((t, i) => {
      const wt = obj(t);
      const p = pp.child("preferredDuringSchedulingIgnoredDuringExecution").index(i);
      const w = typeof wt.weight === "number" ? wt.weight : 0;
      if (w <= 0 || w > 100) out.push(invalid(p.child("weight"), w, "must be in the range 1-100"));
      out.push(...validatePodAffinityTerm(obj(wt.podAffinityTerm), p.child("podAffinityTerm")));
    });
  }
  return out;
}

function validateTopologySpread(constraints: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  arr(constraints).forEach((c, i) => {
    const tsc = obj(c);
    const p = path.index(i);
    const skew = typeof tsc.maxSkew === "number" ? tsc.maxSkew : 0;
    if (skew <= 0) out.push(invalid(p.child("maxSkew"), skew, "must be greater than zero"));
    const key = str(tsc.topologyKey);
    if (!key) out.push(required(p.child("topologyKey"), "can not be empty"));
    else out.push(...validateLabelName(key, p.child("topologyKey")));
    const wu = str(tsc.whenUnsatisfiable);
    const valid = ["DoNotSchedule", "ScheduleAnyway"];
    if (!valid.includes(wu)) out.push(notSupported(p.child("whenUnsatisfiable"), wu, valid));
    const pair = `${key}/${wu}`;
    if (seen.has(pair)) out.push(duplicate(p, `{${key}, ${wu}}`));
    seen.add(pair);
    out.push(...validateLabelSelector(tsc.labelSelector, p.child("labelSelector")));
  });
  return out;
}

const RESTART_POLICIES = ["Always", "OnFailure", "Never"];
const DNS_POLICIES = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"];

/** `ValidatePodSpec`. */
export function validatePodSpec(spec: unknown, path: FieldPath): StatusCause[] {
  const s = obj(spec);
  const out: StatusCause[] = [];
  const grace = typeof s.terminationGracePeriodSeconds === "number" ? s.terminationGracePeriodSeconds : undefined;
  if (s.terminationGracePeriodSeconds === undefined) out.push(required(path.child("terminationGracePeriodSeconds")));
  const vols = validateVolumes(s.volumes, path.child("volumes"));
  out.push(...vols.causes);

  const containers = arr(s.containers).map(obj);
  const cPath = path.child("containers");
  if (containers.length === 0) out.push(required(cPath));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = cPath.index(i);
    out.push(...validateContainerCommon(c, vols.names, p));
    const name = str(c.name);
    if (names.has(name)) out.push(duplicate(p.child("name"), name));
    else names.add(name);
    out.push(...validateLifecycle(c.lifecycle, p.child("lifecycle"), grace));
    out.push(...validateProbe(c.livenessProbe, p.child("livenessProbe"), "liveness", grace));
    out.push(...validateProbe(c.readinessProbe, p.child("readinessProbe"), "readiness", grace));
    out.push(...validateProbe(c.startupProbe, p.child("startupProbe"), "startup", grace));
    if (c.restartPolicy !== undefined) out.push(forbidden(p.child("restartPolicy"), "may not be set for non-init containers"));
  });
  out.push(...hostPortConflicts(containers, cPath));

  const iPath = path.child("initContainers");
  arr(s.initContainers).map(obj).forEach((c, i) => {
    const p = iPath.index(i);
    out.push(...validateContainerCommon(c, vols.names, p));
    const restartAlways = c.restartPolicy === "Always";
    if (c.restartPolicy !== undefined && !restartAlways) out.push(notSupported(p.child("restartPolicy"), c.restartPolicy, ["Always"]));
    const name = str(c.name);
    if (names.has(name)) out.push(duplicate(p.child("name"), name));
    else if (name) names.add(name);
    out.push(...hostPortConflicts([c], iPath));
    if (restartAlways) {
      out.push(...validateLifecycle(c.lifecycle, p.child("lifecycle"), grace));
      out.push(...validateProbe(c.livenessProbe, p.child("livenessProbe"), "liveness", grace));
      out.push(...validateProbe(c.readinessProbe, p.child("readinessProbe"), "readiness", grace));
      out.push(...validateProbe(c.startupProbe, p.child("startupProbe"), "startup", grace));
    } else {
      for (const f of ["lifecycle", "livenessProbe", "readinessProbe", "startupProbe"]) {
        if (c[f] !== undefined) out.push(forbidden(p.child(f), "may not be set for init containers without restartPolicy=Always"));
      }
    }
  });

  const rp = str(s.restartPolicy);
  if (!rp) out.push(required(path.child("restartPolicy")));
  else if (!RESTART_POLICIES.includes(rp)) out.push(notSupported(path.child("restartPolicy"), rp, RESTART_POLICIES));
  const dp = str(s.dnsPolicy);
  if (!dp) out.push(required(path.child("dnsPolicy")));
  else if (!DNS_POLICIES.includes(dp)) out.push(notSupported(path.child("dnsPolicy"), dp, DNS_POLICIES));
  if (dp === "None") {
    if (!isObj(s.dnsConfig)) out.push(required(path.child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"));
    else if (arr(s.dnsConfig.nameservers).length === 0) out.push(required(path.child("dnsConfig").child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"));
  }
  out.push(...validateLabels(s.nodeSelector, path.child("nodeSelector")));
  out.push(...validateAffinity(s.affinity, path.child("affinity")));
  out.push(...validateTopologySpread(s.topologySpreadConstraints, path.child("topologySpreadConstraints")));
  for (const [field, fn] of [
    ["serviceAccountName", isDNS1123Subdomain],
    ["nodeName", isDNS1123Subdomain],
    ["priorityClassName", isDNS1123Subdomain],
  ] as const) {
    const v = str(s[field]);
    if (v) out.push(...invalidEach(path.child(field), v, fn(v)));
  }
  if (typeof s.activeDeadlineSeconds === "number" && (s.activeDeadlineSeconds < 1 || s.activeDeadlineSeconds > 2147483647)) {
    out.push(invalid(path.child("activeDeadlineSeconds"), s.activeDeadlineSeconds, inclusiveRangeError(1, 2147483647)));
  }
  if (str(s.hostname)) out.push(...dnsLabel(str(s.hostname), path.child("hostname")));
  if (str(s.subdomain)) out.push(...dnsLabel(str(s.subdomain), path.child("subdomain")));
  out.push(...validateTolerations(s.tolerations, path.child("tolerations")));
  if (s.preemptionPolicy !== undefined) {
    const pp = str(s.preemptionPolicy);
    if (!["PreemptLowerPriority", "Never"].includes(pp)) out.push(notSupported(path.child("preemptionPolicy"), pp, ["PreemptLowerPriority", "Never"]));
  }
  return out;
}

/** `ValidatePodTemplateSpec`: labels (at `<path>.labels`, as upstream), annotations, spec. */
export function validatePodTemplateSpec(template: unknown, path: FieldPath): StatusCause[] {
  const t = obj(template);
  const meta = obj(t.metadata);
  const out: StatusCause[] = [];
  out.push(...validateLabels(meta.labels, path.child("labels")));
  out.push(...validateAnnotations(meta.annotations, path.child("annotations")));
  out.push(...validatePodSpec(t.spec, path.child("spec")));
  if (arr(obj(t.spec).ephemeralContainers).length > 0) {
    out.push(forbidden(path.child("spec").child("ephemeralContainers"), "ephemeral containers not allowed in pod template"));
  }
  return out;
}

const ACCESS_MODES = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"];
const VOLUME_MODES = ["Block", "Filesystem"];

/** Access mode checks shared by PVs and PVCs. */
export function validateAccessModes(modes: unknown, path: FieldPath, requiredDetail: string): StatusCause[] {
  const list = arr(modes).map(str);
  const out: StatusCause[] = [];
  if (list.length === 0) out.push(required(path, requiredDetail));
  let rwop = false;
  let other = false;
  for (const m of list) {
    if (!ACCESS_MODES.includes(m)) out.push(notSupported(path, m, ACCESS_MODES));
    if (m === "ReadWriteOncePod") rwop = true;
    else if (ACCESS_MODES.includes(m)) other = true;
  }
  if (rwop && other) out.push(forbidden(path, "may not use ReadWriteOncePod with other access modes"));
  return out;
}

/** `ValidatePersistentVolumeClaimSpec`. */
export function validatePvcSpec(spec: unknown, path: FieldPath): StatusCause[] {
  const s = obj(spec);
  const out = validateAccessModes(s.accessModes, path.child("accessModes"), "at least 1 access mode is required");
  if (isObj(s.selector)) out.push(...validateLabelSelector(s.selector, path.child("selector")));
  const storagePath = path.child("resources").key("storage");
  const storage = obj(obj(s.resources).requests).storage;
  if (storage === undefined) out.push(required(storagePath));
  else if (isQuantity(storage) && parseQuantity(storage) <= 0) out.push(invalid(storagePath, canonicalQuantity(storage), "must be greater than zero"));
  const sc = str(s.storageClassName);
  if (sc) out.push(...invalidEach(path.child("storageClassName"), sc, isDNS1123Subdomain(sc)));
  if (s.volumeMode !== undefined && !VOLUME_MODES.includes(str(s.volumeMode))) out.push(notSupported(path.child("volumeMode"), s.volumeMode, VOLUME_MODES));
  return out;
}

/** Supported volume modes (for PVs). */
export { VOLUME_MODES };

/**
 * Per-kind create validation (`Validate<Kind>` in kubernetes/kubernetes
 * `pkg/apis/{core,apps,batch,autoscaling,networking,storage,rbac,policy}/validation`), run on the
 * defaulted object after the metadata checks. Paths and wording follow upstream.
 */
import { isIP } from "node:net";
import type { StatusCause } from "./types.js";
import { canonicalQuantity, isQuantity, parseQuantity } from "./quantity.js";
import {
  byteLength,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidPathSegmentName,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
} from "./names.js";
import { selectorIsEmpty, selectorMatches, validateAnnotations, validateLabelSelector, validateLabels } from "./_validation-meta.js";
import {
  PV_VOLUME_SOURCES,
  VOLUME_MODES,
  validateAccessModes,
  validatePodSpec,
  validatePodTemplateSpec,
  validatePvcSpec,
  validateSourceFields,
} from "./_validation-pod.js";
import { cronScheduleError, scheduleHasTimeZone } from "./_validation-cron.js";
import {
  FieldPath,
  GoValue,
  arr,
  duplicate,
  forbidden,
  goStringMap,
  invalid,
  invalidEach,
  isObj,
  nonNegative,
  notSupported,
  obj,
  required,
  str,
  tooLong,
} from "./_validation-field.js";

type Obj = Record<string, any>;
const spec = FieldPath.root("spec");

function templateLabels(template: unknown): Obj {
  return obj(obj(obj(template).metadata).labels);
}

/** `MaxSecretSize`: 1 MiB for a Secret's or ConfigMap's data. */
export const MAX_SECRET_SIZE = 1024 * 1024;

// ---------------------------------------------------------------- apps

/** `ValidatePodTemplateSpecForReplicaSet` (and its RC/StatefulSet/DaemonSet siblings). */
function validateReplicatedTemplate(template: unknown, selector: unknown, path: FieldPath, kindName: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (!isObj(template)) return [required(path)];
  const labels = templateLabels(template);
  if (!selectorIsEmpty(selector) && !selectorMatches(selector, labels)) {
    out.push(invalid(path.child("metadata", "labels"), goStringMap(labels), "`selector` does not match template `labels`"));
  }
  out.push(...validatePodTemplateSpec(template, path));
  const rp = str(obj(template.spec).restartPolicy);
  if (rp && rp !== "Always") out.push(notSupported(path.child("spec", "restartPolicy"), rp, ["Always"]));
  if (obj(template.spec).activeDeadlineSeconds !== undefined) {
    out.push(forbidden(path.child("spec", "activeDeadlineSeconds"), `activeDeadlineSeconds in ${kindName} is not Supported`));
  }
  return out;
}

function validateSelectorRequired(s: Obj, kindWord: string): StatusCause[] {
  if (!isObj(s.selector)) return [required(spec.child("selector"))];
  const out = validateLabelSelector(s.selector, spec.child("selector"));
  if (selectorIsEmpty(s.selector)) out.push(invalid(spec.child("selector"), new GoValue(JSON.stringify(s.selector)), `empty selector is invalid for ${kindWord}`));
  return out;
}

/** IntOrString as upstream prints it (Stringer: no quotes). */
function intOrStr(v: unknown): GoValue {
  return new GoValue(String(v));
}

function percentValue(v: unknown): number | undefined {
  return typeof v === "string" && /^[0-9]+%$/.test(v) ? Number(v.slice(0, -1)) : undefined;
}

function intOrPercentValue(v: unknown): number {
  if (typeof v === "number") return v;
  return percentValue(v) ?? 0;
}

/** `ValidatePositiveIntOrPercent`. */
function positiveIntOrPercent(v: unknown, path: FieldPath): StatusCause[] {
  if (typeof v === "string") return invalidEach(path, intOrStr(v), isValidPercent(v));
  if (typeof v === "number") return nonNegative(v, path);
  return [];
}

function notMoreThan100(v: unknown, path: FieldPath): StatusCause[] {
  const p = percentValue(v);
  return p !== undefined && p > 100 ? [invalid(path, intOrStr(v), "must not be greater than 100%")] : [];
}

function validateDeployment(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  out.push(...nonNegative(s.replicas, spec.child("replicas")));
  out.push(...validateSelectorRequired(s, "deployment"));
  out.push(...validateReplicatedTemplate(s.template, s.selector, spec.child("template"), "ReplicaSet"));
  const st = obj(s.strategy);
  const sp = spec.child("strategy");
  const type = str(st.type);
  if (type === "Recreate") {
    if (st.rollingUpdate !== undefined) out.push(forbidden(sp.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"));
  } else if (type === "RollingUpdate") {
    const ru = obj(st.rollingUpdate);
    const rp = sp.child("rollingUpdate");
    out.push(...positiveIntOrPercent(ru.maxUnavailable, rp.child("maxUnavailable")));
    out.push(...positiveIntOrPercent(ru.maxSurge, rp.child("maxSurge")));
    if (intOrPercentValue(ru.maxUnavailable) === 0 && intOrPercentValue(ru.maxSurge) === 0) {
      out.push(invalid(rp.child("maxUnavailable"), intOrStr(ru.maxUnavailable ?? 0), "may not be 0 when `maxSurge` is 0"));
    }
    out.push(...notMoreThan100(ru.maxUnavailable, rp.child("maxUnavailable")));
  } else {
    out.push(notSupported(sp, type, ["Recreate", "RollingUpdate"]));
  }
  out.push(...nonNegative(s.minReadySeconds, spec.child("minReadySeconds")));
  out.push(...nonNegative(s.revisionHistoryLimit, spec.child("revisionHistoryLimit")));
  if (typeof s.progressDeadlineSeconds === "number") {
    if (s.progressDeadlineSeconds <= 0) out.push(invalid(spec.child("progressDeadlineSeconds"), s.progressDeadlineSeconds, "must be greater than 0"));
    if (s.progressDeadlineSeconds <= (s.minReadySeconds ?? 0)) {
      out.push(invalid(spec.child("progressDeadlineSeconds"), s.progressDeadlineSeconds, "must be greater than minReadySeconds"));
    }
  }
  return out;
}

function validateReplicaSet(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  out.push(...nonNegative(s.replicas, spec.child("replicas")));
  out.push(...nonNegative(s.minReadySeconds, spec.child("minReadySeconds")));
  // Upstream's ReplicaSet check reuses the Deployment wording.
  out.push(...validateSelectorRequired(s, "deployment"));
  out.push(...validateReplicatedTemplate(s.template, s.selector, spec.child("template"), "ReplicaSet"));
  return out;
}

/**
 * `ValidatePodTemplateSpecForStatefulSet`: upstream checks only the template's labels and
 * annotations here, not its pod spec, because container mounts may name volumeClaimTemplates
 * that are not pod volumes yet (upstream leaves this for later); a bad pod spec surfaces when the controller
 * creates the pods.
 */
function validateStatefulSetTemplate(template: unknown, selector: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  if (!isObj(template)) return [required(path)];
  const labels = templateLabels(template);
  if (!selectorIsEmpty(selector) && !selectorMatches(selector, labels)) {
    out.push(invalid(path.child("metadata", "labels"), goStringMap(labels), "`selector` does not match template `labels`"));
  }
  const meta = obj(template.metadata);
  out.push(...validateLabels(meta.labels, path.child("labels")));
  out.push(...validateAnnotations(meta.annotations, path.child("annotations")));
  const rp = str(obj(template.spec).restartPolicy);
  if (rp !== "Always") out.push(notSupported(path.child("spec", "restartPolicy"), rp, ["Always"]));
  if (obj(template.spec).activeDeadlineSeconds !== undefined) {
    out.push(forbidden(path.child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in StatefulSet is not Supported"));
  }
  return out;
}

function validateStatefulSet(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  const pmp = str(s.podManagementPolicy);
  if (!pmp) out.push(required(spec.child("podManagementPolicy")));
  else if (!["OrderedReady", "Parallel"].includes(pmp)) out.push(invalid(spec.child("podManagementPolicy"), pmp, "must be 'OrderedReady' or 'Parallel'"));
  const us = obj(s.updateStrategy);
  const usp = spec.child("updateStrategy");
  switch (str(us.type)) {
    case "OnDelete":
      if (us.rollingUpdate !== undefined) out.push(invalid(usp.child("rollingUpdate"), new GoValue(JSON.stringify(us.rollingUpdate)), "only allowed for updateStrategy 'RollingUpdate'"));
      break;
    case "RollingUpdate":
      if (isObj(us.rollingUpdate)) {
        out.push(...nonNegative(us.rollingUpdate.partition, usp.child("rollingUpdate").child("partition")));
      }
      break;
    case "":
      out.push(required(usp, ""));
      break;
    default:
      out.push(invalid(usp, str(us.type), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const ret = obj(s.persistentVolumeClaimRetentionPolicy);
  const retPath = spec.child("persistentVolumeClaimRetentionPolicy");
  for (const f of ["whenDeleted", "whenScaled"]) {
    const v = str(ret[f]);
    if (v && !["Retain", "Delete"].includes(v)) out.push(notSupported(retPath.child(f), v, ["Retain", "Delete"]));
  }
  out.push(...nonNegative(s.replicas, spec.child("replicas")));
  out.push(...nonNegative(s.minReadySeconds, spec.child("minReadySeconds")));
  if (isObj(s.ordinals)) out.push(...nonNegative(s.ordinals.start, spec.child("ordinals").child("start")));
  out.push(...validateSelectorRequired(s, "statefulset"));
  out.push(...validateStatefulSetTemplate(s.template, s.selector, spec.child("template")));
  const svc = str(s.serviceName);
  if (svc) out.push(...invalidEach(spec.child("serviceName"), svc, isDNS1123Label(svc)));
  arr(s.volumeClaimTemplates).forEach((t, i) => {
    const p = spec.child("volumeClaimTemplates").index(i);
    const tm = obj(obj(t).metadata);
    if (!str(tm.name)) out.push(required(p.child("metadata", "name")));
    out.push(...validatePvcSpec(obj(t).spec, p.child("spec")));
  });
  return out;
}

function validateDaemonSet(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  out.push(...validateSelectorRequired(s, "daemonset"));
  out.push(...validateReplicatedTemplate(s.template, s.selector, spec.child("template"), "DaemonSet"));
  out.push(...nonNegative(s.minReadySeconds, spec.child("minReadySeconds")));
  out.push(...nonNegative(s.revisionHistoryLimit, spec.child("revisionHistoryLimit")));
  const us = obj(s.updateStrategy);
  const usp = spec.child("updateStrategy");
  const type = str(us.type);
  if (type === "RollingUpdate") {
    const ru = obj(us.rollingUpdate);
    const rp = usp.child("rollingUpdate");
    out.push(...positiveIntOrPercent(ru.maxUnavailable, rp.child("maxUnavailable")));
    out.push(...positiveIntOrPercent(ru.maxSurge, rp.child("maxSurge")));
    out.push(...notMoreThan100(ru.maxUnavailable, rp.child("maxUnavailable")));
    out.push(...notMoreThan100(ru.maxSurge, rp.child("maxSurge")));
    const hasUnavailable = intOrPercentValue(ru.maxUnavailable) !== 0;
    const hasSurge = intOrPercentValue(ru.maxSurge) !== 0;
    if (hasUnavailable && hasSurge) out.push(invalid(rp.child("maxSurge"), intOrStr(ru.maxSurge), "may not be set when maxUnavailable is non-zero"));
    if (!hasUnavailable && !hasSurge) out.push(required(rp.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"));
  } else if (type !== "OnDelete") {
    out.push(notSupported(usp.child("type"), type, ["OnDelete", "RollingUpdate"]));
  }
  return out;
}

function validateReplicationController(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  out.push(...nonNegative(s.minReadySeconds, spec.child("minReadySeconds")));
  if (Object.keys(obj(s.selector)).length === 0) out.push(required(spec.child("selector")));
  else out.push(...validateLabels(s.selector, spec.child("selector")));
  out.push(...nonNegative(s.replicas, spec.child("replicas")));
  const t = s.template;
  const tp = spec.child("template");
  if (!isObj(t)) {
    out.push(required(tp));
    return out;
  }
  const labels = templateLabels(t);
  const sel = obj(s.selector);
  if (Object.keys(sel).length > 0 && !Object.entries(sel).every(([k, v]) => labels[k] === v)) {
    out.push(invalid(tp.child("metadata", "labels"), goStringMap(labels), "`selector` does not match template `labels`"));
  }
  out.push(...validatePodTemplateSpec(t, tp));
  const rp = str(obj(t.spec).restartPolicy);
  if (rp && rp !== "Always") out.push(notSupported(tp.child("spec", "restartPolicy"), rp, ["Always"]));
  if (obj(t.spec).activeDeadlineSeconds !== undefined) out.push(invalid(tp.child("spec", "activeDeadlineSeconds"), obj(t.spec).activeDeadlineSeconds, "must not be specified"));
  return out;
}

// ---------------------------------------------------------------- batch

function validateJobSpec(s: Obj, path: FieldPath, opts: { inTemplate: boolean }): StatusCause[] {
  const out: StatusCause[] = [];
  out.push(...nonNegative(s.parallelism, path.child("parallelism")));
  out.push(...nonNegative(s.completions, path.child("completions")));
  out.push(...nonNegative(s.activeDeadlineSeconds, path.child("activeDeadlineSeconds")));
  out.push(...nonNegative(s.backoffLimit, path.child("backoffLimit")));
  out.push(...nonNegative(s.ttlSecondsAfterFinished, path.child("ttlSecondsAfterFinished")));
  if (s.completionMode !== undefined) {
    const cm = str(s.completionMode);
    if (!["NonIndexed", "Indexed"].includes(cm)) out.push(notSupported(path.child("completionMode"), cm, ["NonIndexed", "Indexed"]));
    if (cm === "Indexed" && s.completions === undefined) out.push(required(path.child("completions"), "when completion mode is Indexed"));
  }
  if (!opts.inTemplate) {
    // The registry generates the selector on create unless manualSelector is true (applyJobSelector).
    if (isObj(s.selector)) {
      out.push(...validateLabelSelector(s.selector, path.child("selector")));
      const labels = templateLabels(s.template);
      if (!selectorMatches(s.selector, labels)) {
        out.push(invalid(path.child("template", "metadata", "labels"), goStringMap(labels), "`selector` does not match template `labels`"));
      }
    } else if (s.manualSelector === true) {
      out.push(required(path.child("selector")));
    }
  }
  const tp = path.child("template");
  out.push(...validatePodTemplateSpec(s.template, tp));
  const rp = str(obj(obj(s.template).spec).restartPolicy);
  if (rp !== "OnFailure" && rp !== "Never") out.push(notSupported(tp.child("spec", "restartPolicy"), rp, ["OnFailure", "Never"]));
  return out;
}

function validateJob(o: Obj): StatusCause[] {
  return validateJobSpec(obj(o.spec), spec, { inTemplate: false });
}

function validateCronJob(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  const name = str(obj(o.metadata).name);
  // The CronJob name plus an 11-character suffix must stay a valid label (job names become pod labels).
  if (byteLength(name) > 52) out.push(invalid(FieldPath.root("metadata", "name"), name, "must be no more than 52 characters"));
  const schedule = str(s.schedule);
  if (!schedule) out.push(required(spec.child("schedule")));
  else {
    const err = cronScheduleError(schedule);
    if (err) out.push(invalid(spec.child("schedule"), schedule, err));
    if (scheduleHasTimeZone(schedule)) out.push(invalid(spec.child("schedule"), schedule, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"));
  }
  out.push(...nonNegative(s.startingDeadlineSeconds, spec.child("startingDeadlineSeconds")));
  const cp = str(s.concurrencyPolicy);
  if (!cp) out.push(required(spec.child("concurrencyPolicy")));
  else if (!["Allow", "Forbid", "Replace"].includes(cp)) out.push(notSupported(spec.child("concurrencyPolicy"), cp, ["Allow", "Forbid", "Replace"]));
  const jt = obj(s.jobTemplate);
  const jtp = spec.child("jobTemplate");
  const js = obj(jt.spec);
  out.push(...validateJobSpec(js, jtp.child("spec"), { inTemplate: true }));
  if (js.selector !== undefined) out.push(invalid(jtp.child("spec", "selector"), new GoValue(JSON.stringify(js.selector)), "`selector` will be auto-generated"));
  if (js.manualSelector === true) out.push(notSupported(jtp.child("spec", "manualSelector"), true, ["nil", "false"]));
  out.push(...nonNegative(s.successfulJobsHistoryLimit, spec.child("successfulJobsHistoryLimit")));
  out.push(...nonNegative(s.failedJobsHistoryLimit, spec.child("failedJobsHistoryLimit")));
  return out;
}

// ---------------------------------------------------------------- autoscaling

function validateScaleTargetRef(ref: unknown, path: FieldPath): StatusCause[] {
  const r = obj(ref);
  const out: StatusCause[] = [];
  for (const f of ["kind", "name"]) {
    const v = str(r[f]);
    if (!v) out.push(required(path.child(f)));
    else out.push(...invalidEach(path.child(f), v, isValidPathSegmentName(v)));
  }
  return out;
}

const METRIC_TYPES = ["ContainerResource", "External", "Object", "Pods", "Resource"];
const METRIC_FIELD: Record<string, string> = { ContainerResource: "containerResource", External: "external", Object: "object", Pods: "pods", Resource: "resource" };

function validateMetricTarget(t: unknown, path: FieldPath): StatusCause[] {
  const target = obj(t);
  const out: StatusCause[] = [];
  const type = str(target.type);
  if (!type) out.push(required(path.child("type"), "must specify a metric target type"));
  else if (!["Utilization", "Value", "AverageValue"].includes(type)) out.push(notSupported(path.child("type"), type, ["AverageValue", "Utilization", "Value"]));
  if (type === "Utilization" && target.averageUtilization === undefined) out.push(required(path.child("averageUtilization"), "must set either a target raw value or a target utilization"));
  if (typeof target.averageUtilization === "number" && target.averageUtilization < 1) out.push(invalid(path.child("averageUtilization"), target.averageUtilization, "must be greater than 0"));
  for (const f of ["value", "averageValue"]) {
    const q = target[f];
    if (q !== undefined && isQuantity(q) && parseQuantity(q) <= 0) out.push(invalid(path.child(f), canonicalQuantity(q), "must be positive"));
  }
  return out;
}

/** What autoscaling/v1 and v2 validate alike: replica bounds and the scale target. */
function validateHpaCommon(s: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  if (typeof s.minReplicas === "number" && s.minReplicas < 1) out.push(invalid(spec.child("minReplicas"), s.minReplicas, "must be greater than or equal to 1"));
  const max = typeof s.maxReplicas === "number" ? s.maxReplicas : 0;
  if (max < 1) out.push(invalid(spec.child("maxReplicas"), max, "must be greater than 0"));
  if (typeof s.minReplicas === "number" && max < s.minReplicas) out.push(invalid(spec.child("maxReplicas"), max, "must be greater than or equal to `minReplicas`"));
  out.push(...validateScaleTargetRef(s.scaleTargetRef, spec.child("scaleTargetRef")));
  return out;
}

function validateHpaV2(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out = validateHpaCommon(s);
  arr(s.metrics).forEach((m, i) => {
    const metric = obj(m);
    const p = spec.child("metrics").index(i);
    const type = str(metric.type);
    if (!type) {
      out.push(required(p.child("type"), "must specify a metric source type"));
      return;
    }
    if (!METRIC_TYPES.includes(type)) {
      out.push(notSupported(p.child("type"), type, METRIC_TYPES));
      return;
    }
    const present = METRIC_TYPES.filter((t) => metric[METRIC_FIELD[t]] !== undefined);
    if (present.length !== 1 || !isObj(metric[METRIC_FIELD[type]])) {
      out.push(invalid(p, new GoValue(JSON.stringify(metric)), "must populate information for the given metric source"));
      return;
    }
    const src = metric[METRIC_FIELD[type]];
    const sp = p.child(METRIC_FIELD[type]);
    if (type === "Resource" || type === "ContainerResource") {
      if (!str(src.name)) out.push(required(sp.child("name"), "must specify a resource name"));
      if (type === "ContainerResource" && !str(src.container)) out.push(required(sp.child("container"), "must specify a container"));
    } else if (!str(obj(src.metric).name)) {
      out.push(required(sp.child("metric", "name"), "must specify a metric name"));
    }
    out.push(...validateMetricTarget(src.target, sp.child("target")));
  });
  if (isObj(s.behavior)) {
    for (const dir of ["scaleUp", "scaleDown"]) {
      const rules = obj(s.behavior[dir]);
      const rp = spec.child("behavior", dir);
      const w = rules.stabilizationWindowSeconds;
      if (typeof w === "number" && (w < 0 || w > 3600)) out.push(invalid(rp.child("stabilizationWindowSeconds"), w, w < 0 ? "must be greater than or equal to zero" : "must be less than or equal to 3600"));
      const sel = rules.selectPolicy;
      if (sel !== undefined && !["Max", "Min", "Disabled"].includes(str(sel))) out.push(notSupported(rp.child("selectPolicy"), sel, ["Disabled", "Max", "Min"]));
      arr(rules.policies).forEach((pol, i) => {
        const policy = obj(pol);
        const pp = rp.child("policies").index(i);
        if (!["Pods", "Percent"].includes(str(policy.type))) out.push(notSupported(pp.child("type"), str(policy.type), ["Percent", "Pods"]));
        if (!(typeof policy.value === "number" && policy.value > 0)) out.push(invalid(pp.child("value"), policy.value ?? 0, "must be greater than zero"));
        const period = typeof policy.periodSeconds === "number" ? policy.periodSeconds : 0;
        if (period <= 0) out.push(invalid(pp.child("periodSeconds"), period, "must be greater than zero"));
        else if (period > 1800) out.push(invalid(pp.child("periodSeconds"), period, "must not be greater than 1800 seconds"));
      });
    }
  }
  return out;
}

function validateHpaV1(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out = validateHpaCommon(s);
  if (typeof s.targetCPUUtilizationPercentage === "number" && s.targetCPUUtilizationPercentage < 1) {
    out.push(invalid(spec.child("targetCPUUtilizationPercentage"), s.targetCPUUtilizationPercentage, "must be greater than 0"));
  }
  return out;
}

// ---------------------------------------------------------------- core: Service

const SERVICE_TYPES = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

function validPortNumOrName(v: unknown, path: FieldPath): StatusCause[] {
  if (typeof v === "string") return invalidEach(path, v, isValidPortName(v));
  return invalidEach(path, typeof v === "number" ? v : 0, isValidPortNum(typeof v === "number" ? v : 0));
}

function validateService(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  const type = str(s.type);
  const headless = s.clusterIP === "None";
  const ports = arr(s.ports).map(obj);
  if (!SERVICE_TYPES.includes(type)) out.push(notSupported(spec.child("type"), type, SERVICE_TYPES));
  if (type === "ExternalName") {
    const en = str(s.externalName);
    if (!en) out.push(required(spec.child("externalName")));
    else {
      const name = en.endsWith(".") ? en.slice(0, -1) : en;
      const errs = isDNS1123Subdomain(name);
      if (errs.length > 0) out.push(invalid(spec.child("externalName"), name, errs.join(",")));
      else if (name.split(".").length < 2) out.push(invalid(spec.child("externalName"), name, "should be a domain with at least two segments separated by dots"));
    }
    if (str(s.clusterIP) && s.clusterIP !== "None") out.push(forbidden(spec.child("clusterIPs"), "may not be set for ExternalName services"));
  } else if (ports.length === 0 && !headless) {
    out.push(required(spec.child("ports")));
  }
  const portsPath = spec.child("ports");
  const names = new Set<string>();
  const requireName = ports.length > 1;
  const seen = new Set<string>();
  const nodePorts = new Set<string>();
  ports.forEach((port, i) => {
    const p = portsPath.index(i);
    const name = str(port.name);
    if (requireName && !name) out.push(required(p.child("name")));
    else if (name) {
      out.push(...invalidEach(p.child("name"), name, isDNS1123Label(name)));
      if (names.has(name)) out.push(duplicate(p.child("name"), name));
      names.add(name);
    }
    const portNum = typeof port.port === "number" ? port.port : 0;
    out.push(...invalidEach(p.child("port"), portNum, isValidPortNum(portNum)));
    const proto = str(port.protocol);
    if (!proto) out.push(required(p.child("protocol")));
    else if (!["SCTP", "TCP", "UDP"].includes(proto)) out.push(notSupported(p.child("protocol"), proto, ["SCTP", "TCP", "UDP"]));
    out.push(...validPortNumOrName(port.targetPort, p.child("targetPort")));
    const key = `${proto}/${portNum}`;
    if (seen.has(key)) out.push(duplicate(p, new GoValue(`{"protocol":${JSON.stringify(proto)},"port":${portNum}}`)));
    seen.add(key);
    if (typeof port.nodePort === "number" && port.nodePort !== 0) {
      if (type === "ClusterIP") out.push(forbidden(p.child("nodePort"), "may not be used when `type` is 'ClusterIP'"));
      const nk = `${proto}/${port.nodePort}`;
      if (nodePorts.has(nk)) out.push(duplicate(p.child("nodePort"), port.nodePort));
      nodePorts.add(nk);
    }
  });
  if (headless && (type === "NodePort" || type === "LoadBalancer")) {
    out.push(invalid(spec.child("clusterIPs").index(0), "None", `may not be set to 'None' for ${type} services`));
  }
  const cip = str(s.clusterIP);
  if (cip && cip !== "None" && isIP(cip) === 0) out.push(invalid(spec.child("clusterIPs").index(0), cip, "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  arr(s.externalIPs).forEach((ip, i) => {
    if (isIP(str(ip)) === 0) out.push(invalid(spec.child("externalIPs").index(i), str(ip), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  });
  const sa = str(s.sessionAffinity);
  if (!sa) out.push(required(spec.child("sessionAffinity")));
  else if (!["ClientIP", "None"].includes(sa)) out.push(notSupported(spec.child("sessionAffinity"), sa, ["ClientIP", "None"]));
  if (sa === "ClientIP") {
    const t = obj(obj(s.sessionAffinityConfig).clientIP).timeoutSeconds;
    if (typeof t === "number" && (t <= 0 || t > 86400)) {
      out.push(invalid(spec.child("sessionAffinityConfig", "clientIP", "timeoutSeconds"), t, "must be greater than 0 and less than 86400"));
    }
  } else if (s.sessionAffinityConfig !== undefined) {
    out.push(forbidden(spec.child("sessionAffinityConfig"), `must not be set when session affinity is ${sa}`));
  }
  out.push(...validateLabels(s.selector, spec.child("selector")));
  const etp = s.externalTrafficPolicy;
  if (etp !== undefined && etp !== "") {
    if (type !== "NodePort" && type !== "LoadBalancer") {
      out.push(invalid(spec.child("externalTrafficPolicy"), etp, "may only be set when `type` is 'NodePort' or 'LoadBalancer'"));
    } else if (!["Cluster", "Local"].includes(str(etp))) out.push(notSupported(spec.child("externalTrafficPolicy"), etp, ["Cluster", "Local"]));
  }
  if (s.internalTrafficPolicy !== undefined && !["Cluster", "Local"].includes(str(s.internalTrafficPolicy))) {
    out.push(notSupported(spec.child("internalTrafficPolicy"), s.internalTrafficPolicy, ["Cluster", "Local"]));
  }
  if (s.ipFamilyPolicy !== undefined && !["SingleStack", "PreferDualStack", "RequireDualStack"].includes(str(s.ipFamilyPolicy))) {
    out.push(notSupported(spec.child("ipFamilyPolicy"), s.ipFamilyPolicy, ["PreferDualStack", "RequireDualStack", "SingleStack"]));
  }
  arr(s.ipFamilies).forEach((f, i) => {
    if (!["IPv4", "IPv6"].includes(str(f))) out.push(notSupported(spec.child("ipFamilies").index(i), f, ["IPv4", "IPv6"]));
  });
  arr(s.loadBalancerSourceRanges).forEach((r, i) => {
    const cidr = str(r).trim();
    const [ip, bits] = cidr.split("/");
    if (!bits || isIP(ip) === 0 || !/^\d+$/.test(bits)) {
      out.push(invalid(spec.child("loadBalancerSourceRanges").index(i), str(r), "must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 "));
    }
  });
  return out;
}

// ---------------------------------------------------------------- core: the rest

function validateConfigMap(o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(obj(o.data))) {
    out.push(...invalidEach(FieldPath.root("data").key(k), k, isConfigMapKey(k)));
    total += byteLength(str(v));
  }
  for (const [k, v] of Object.entries(obj(o.binaryData))) {
    out.push(...invalidEach(FieldPath.root("binaryData").key(k), k, isConfigMapKey(k)));
    if (k in obj(o.data)) out.push(invalid(FieldPath.root("data"), k, "duplicate of key present in binaryData"));
    total += Math.floor((str(v).length * 3) / 4);
  }
  if (total > MAX_SECRET_SIZE) out.push(tooLong(FieldPath.root(""), MAX_SECRET_SIZE));
  return out;
}

function decodedLength(b64: string): number {
  return Buffer.from(b64, "base64").length;
}

function validateSecret(o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const dataPath = FieldPath.root("data");
  const data = obj(o.data);
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    out.push(...invalidEach(dataPath.key(k), k, isConfigMapKey(k)));
    total += decodedLength(str(v));
  }
  if (total > MAX_SECRET_SIZE) out.push(tooLong(dataPath, MAX_SECRET_SIZE));
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(data, k);
  switch (str(o.type)) {
    case "kubernetes.io/service-account-token":
      if (!str(obj(obj(o.metadata).annotations)["kubernetes.io/service-account.name"])) {
        out.push(required(FieldPath.root("metadata", "annotations").key("kubernetes.io/service-account.name")));
      }
      break;
    case "kubernetes.io/dockercfg":
    case "kubernetes.io/dockerconfigjson": {
      const key = o.type === "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
      if (!has(key)) out.push(required(dataPath.key(key)));
      else {
        try {
          const parsed = JSON.parse(Buffer.from(str(data[key]), "base64").toString("utf8"));
          if (!isObj(parsed)) throw new Error("json: cannot unmarshal into Go value of type map[string]interface {}");
        } catch (err) {
          out.push(invalid(dataPath.key(key), "<secret contents redacted>", (err as Error).message));
        }
      }
      break;
    }
    case "kubernetes.io/basic-auth":
      if (!has("username") && !has("password")) {
        out.push(required(dataPath.key("username")));
        out.push(required(dataPath.key("password")));
      }
      break;
    case "kubernetes.io/ssh-auth":
      if (!str(data["ssh-privatekey"])) out.push(required(dataPath.key("ssh-privatekey")));
      break;
    case "kubernetes.io/tls":
      if (!has("tls.crt")) out.push(required(dataPath.key("tls.crt")));
      if (!has("tls.key")) out.push(required(dataPath.key("tls.key")));
      break;
    default:
      break;
  }
  return out;
}

function validatePvc(o: Obj): StatusCause[] {
  return validatePvcSpec(o.spec, spec);
}

function validatePv(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out = validateAccessModes(s.accessModes, spec.child("accessModes"), "");
  const cap = obj(s.capacity);
  if (Object.keys(cap).length === 0) out.push(required(spec.child("capacity")));
  if (cap.storage === undefined || Object.keys(cap).length > 1) out.push(notSupported(spec.child("capacity"), new GoValue(JSON.stringify(cap)), ["storage"]));
  for (const [k, q] of Object.entries(cap)) {
    if (isQuantity(q) && parseQuantity(q) <= 0) out.push(invalid(spec.child("capacity").key(k), canonicalQuantity(q), "must be greater than zero"));
  }
  const rp = str(s.persistentVolumeReclaimPolicy);
  if (rp && !["Delete", "Recycle", "Retain"].includes(rp)) out.push(notSupported(spec.child("persistentVolumeReclaimPolicy"), rp, ["Delete", "Recycle", "Retain"]));
  let count = 0;
  for (const kind of PV_VOLUME_SOURCES) {
    if (s[kind] === undefined) continue;
    if (count > 0 && kind !== "flexVolume") {
      out.push(forbidden(spec.child(kind), "may not specify more than 1 volume type"));
      continue;
    }
    count++;
    out.push(...validateSourceFields(kind, obj(s[kind]), spec.child(kind)));
  }
  if (count === 0) out.push(required(spec, "must specify a volume type"));
  if (isObj(s.local) && !isObj(obj(s.nodeAffinity).required)) out.push(required(spec.child("nodeAffinity"), "Local volume requires node affinity"));
  const sc = str(s.storageClassName);
  if (sc) out.push(...invalidEach(spec.child("storageClassName"), sc, isDNS1123Subdomain(sc)));
  if (s.volumeMode !== undefined && !VOLUME_MODES.includes(str(s.volumeMode))) out.push(notSupported(spec.child("volumeMode"), s.volumeMode, VOLUME_MODES));
  return out;
}

function validateNamespace(o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  arr(obj(o.spec).finalizers).forEach((f) => {
    const name = str(f);
    const msgs = isQualifiedName(name);
    out.push(...invalidEach(spec.child("finalizers"), name, msgs));
    if (msgs.length === 0 && !name.includes("/") && name !== "kubernetes") {
      out.push(invalid(spec.child("finalizers"), name, "name is neither a standard finalizer name nor is it fully qualified"));
    }
  });
  return out;
}

// ---------------------------------------------------------------- networking

const PATH_TYPES = ["Exact", "ImplementationSpecific", "Prefix"];

function validateIngressBackend(b: unknown, path: FieldPath): StatusCause[] {
  const backend = obj(b);
  const out: StatusCause[] = [];
  const hasResource = isObj(backend.resource);
  const hasService = isObj(backend.service);
  if (hasResource && hasService) return [invalid(path, "", "cannot set both resource and service backends")];
  if (hasResource) {
    const r = backend.resource;
    if (!str(r.kind)) out.push(required(path.child("resource", "kind")));
    if (!str(r.name)) out.push(required(path.child("resource", "name")));
    return out;
  }
  if (!hasService) return [invalid(path, "", "resource or service backend is required")];
  const svc = backend.service;
  const name = str(svc.name);
  if (!name) out.push(required(path.child("service", "name")));
  else out.push(...invalidEach(path.child("service", "name"), name, isDNS1035Label(name)));
  const port = obj(svc.port);
  const hasName = !!str(port.name);
  const hasNumber = typeof port.number === "number" && port.number !== 0;
  if (hasName && hasNumber) out.push(invalid(path, "", "cannot set both port name & port number"));
  else if (hasName) out.push(...invalidEach(path.child("service", "port", "name"), str(port.name), isValidPortName(str(port.name))));
  else if (hasNumber) out.push(...invalidEach(path.child("service", "port", "number"), port.number, isValidPortNum(port.number)));
  else out.push(required(path, "port name or number is required"));
  return out;
}

const INVALID_PATH_SEQUENCES = ["//", "/./", "/../", "%2f", "%2F"];
const INVALID_PATH_SUFFIXES = ["/..", "/."];

function validateIngressHost(host: string, path: FieldPath): StatusCause[] {
  if (isIP(host) !== 0) return [invalid(path, host, "must be a DNS name, not an IP address")];
  if (host.includes("*")) {
    const wildcard = /^\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
    return wildcard.test(host) && host.length <= 253
      ? []
      : [
          invalid(
            path,
            host,
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
          ),
        ];
  }
  return invalidEach(path, host, isDNS1123Subdomain(host));
}

function validateIngress(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  const rules = arr(s.rules).map(obj);
  if (rules.length === 0 && !isObj(s.defaultBackend)) out.push(invalid(spec, new GoValue("[]networking.IngressRule(nil)"), "either `defaultBackend` or `rules` must be specified"));
  if (isObj(s.defaultBackend)) out.push(...validateIngressBackend(s.defaultBackend, spec.child("defaultBackend")));
  rules.forEach((r, i) => {
    const rp = spec.child("rules").index(i);
    if (str(r.host)) out.push(...validateIngressHost(str(r.host), rp.child("host")));
    if (!isObj(r.http)) return;
    const hp = rp.child("http");
    const paths = arr(r.http.paths).map(obj);
    if (paths.length === 0) out.push(required(hp.child("paths")));
    paths.forEach((p, j) => {
      const pp = hp.child("paths").index(j);
      const pathType = p.pathType;
      const path = str(p.path);
      if (pathType === undefined || pathType === "") out.push(required(pp.child("pathType"), "pathType must be specified"));
      else if (!PATH_TYPES.includes(str(pathType))) out.push(notSupported(pp.child("pathType"), pathType, PATH_TYPES));
      else if (pathType === "Exact" || pathType === "Prefix") {
        if (!path.startsWith("/")) out.push(invalid(pp.child("path"), path, "must be an absolute path"));
        for (const seq of INVALID_PATH_SEQUENCES) if (path.includes(seq)) out.push(invalid(pp.child("path"), path, `must not contain '${seq}'`));
        for (const suf of INVALID_PATH_SUFFIXES) if (path.endsWith(suf)) out.push(invalid(pp.child("path"), path, `cannot end with '${suf}'`));
      } else if (path && !path.startsWith("/")) {
        out.push(invalid(pp.child("path"), path, "must be an absolute path"));
      }
      out.push(...validateIngressBackend(p.backend, pp.child("backend")));
    });
  });
  const cls = str(s.ingressClassName);
  if (cls) out.push(...invalidEach(spec.child("ingressClassName"), cls, isDNS1123Subdomain(cls)));
  arr(s.tls).forEach((t, i) => {
    const tp = spec.child("tls").index(i);
    arr(obj(t).hosts).forEach((h, j) => out.push(...validateIngressHost(str(h), tp.child("hosts").index(j))));
    const secret = str(obj(t).secretName);
    if (secret) out.push(...invalidEach(tp.child("secretName"), secret, isDNS1123Subdomain(secret)));
  });
  return out;
}

function validCidr(cidr: string): boolean {
  const [ip, bits, extra] = cidr.split("/");
  if (extra !== undefined || bits === undefined || !/^\d+$/.test(bits)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(bits) <= (family === 4 ? 32 : 128);
}

function validateNetworkPolicyPeers(peers: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  arr(peers).forEach((pr, i) => {
    const peer = obj(pr);
    const p = path.index(i);
    let n = 0;
    if (isObj(peer.podSelector)) {
      n++;
      out.push(...validateLabelSelector(peer.podSelector, p.child("podSelector")));
    }
    if (isObj(peer.namespaceSelector)) {
      n++;
      out.push(...validateLabelSelector(peer.namespaceSelector, p.child("namespaceSelector")));
    }
    if (isObj(peer.ipBlock)) {
      n++;
      const cidr = str(peer.ipBlock.cidr);
      if (!cidr) out.push(required(p.child("ipBlock", "cidr")));
      else if (!validCidr(cidr)) out.push(invalid(p.child("ipBlock", "cidr"), cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
      arr(peer.ipBlock.except).forEach((e, j) => {
        if (!validCidr(str(e))) out.push(invalid(p.child("ipBlock", "except").index(j), str(e), "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
      });
    }
    if (n === 0) out.push(required(p, "must specify a peer"));
    else if (isObj(peer.ipBlock) && n > 1) out.push(forbidden(p, "may not specify both ipBlock and another peer"));
  });
  return out;
}

function validateNetworkPolicyPorts(ports: unknown, path: FieldPath): StatusCause[] {
  const out: StatusCause[] = [];
  arr(ports).forEach((pt, i) => {
    const port = obj(pt);
    const p = path.index(i);
    if (port.protocol !== undefined && !["SCTP", "TCP", "UDP"].includes(str(port.protocol))) out.push(notSupported(p.child("protocol"), port.protocol, ["SCTP", "TCP", "UDP"]));
    if (port.port !== undefined) out.push(...validPortNumOrName(port.port, p.child("port")));
    if (port.endPort !== undefined) {
      if (typeof port.port !== "number") out.push(required(p.child("port"), "must be specified when endPort is specified"));
      else if (port.endPort < port.port) out.push(invalid(p.child("endPort"), port.endPort, "must be greater than or equal to `port`"));
    }
  });
  return out;
}

function validateNetworkPolicy(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out = validateLabelSelector(s.podSelector, spec.child("podSelector"));
  arr(s.ingress).forEach((r, i) => {
    const rp = spec.child("ingress").index(i);
    out.push(...validateNetworkPolicyPorts(obj(r).ports, rp.child("ports")));
    out.push(...validateNetworkPolicyPeers(obj(r).from, rp.child("from")));
  });
  arr(s.egress).forEach((r, i) => {
    const rp = spec.child("egress").index(i);
    out.push(...validateNetworkPolicyPorts(obj(r).ports, rp.child("ports")));
    out.push(...validateNetworkPolicyPeers(obj(r).to, rp.child("to")));
  });
  const types = arr(s.policyTypes).map(str);
  types.forEach((t, i) => {
    if (!["Ingress", "Egress"].includes(t)) out.push(notSupported(spec.child("policyTypes").index(i), t, ["Ingress", "Egress"]));
  });
  if (types.length > 2) out.push(invalid(spec.child("policyTypes"), new GoValue(JSON.stringify(types)), "may not specify more than two policyTypes"));
  return out;
}

function validateIngressClass(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  const ctl = str(s.controller);
  if (!ctl) out.push(required(spec.child("controller")));
  else if (byteLength(ctl) > 250) out.push(tooLong(spec.child("controller"), 250));
  return out;
}

// ---------------------------------------------------------------- storage, rbac, policy, coordination

function validateStorageClass(o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const prov = str(o.provisioner);
  if (!prov) out.push(required(FieldPath.root("provisioner"), prov));
  else out.push(...invalidEach(FieldPath.root("provisioner"), prov, isQualifiedName(prov.toLowerCase())));
  for (const k of Object.keys(obj(o.parameters))) if (k.length < 1) out.push(invalid(FieldPath.root("parameters"), k, "field can not be empty."));
  const rp = str(o.reclaimPolicy);
  if (rp && !["Delete", "Retain"].includes(rp)) out.push(notSupported(FieldPath.root("reclaimPolicy"), rp, ["Delete", "Retain"]));
  const vbm = str(o.volumeBindingMode);
  if (!vbm) out.push(required(FieldPath.root("volumeBindingMode")));
  else if (!["Immediate", "WaitForFirstConsumer"].includes(vbm)) out.push(notSupported(FieldPath.root("volumeBindingMode"), vbm, ["Immediate", "WaitForFirstConsumer"]));
  return out;
}

function validatePolicyRules(rules: unknown, path: FieldPath, isNamespaced: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  arr(rules).forEach((r, i) => {
    const rule = obj(r);
    const p = path.index(i);
    if (arr(rule.verbs).length === 0) out.push(required(p.child("verbs"), "verbs must contain at least one value"));
    const hasNonResource = arr(rule.nonResourceURLs).length > 0;
    if (hasNonResource) {
      if (isNamespaced) out.push(invalid(p.child("nonResourceURLs"), new GoValue(JSON.stringify(rule.nonResourceURLs)), "namespaced rules cannot apply to non-resource URLs"));
      if (arr(rule.apiGroups).length > 0 || arr(rule.resources).length > 0 || arr(rule.resourceNames).length > 0) {
        out.push(invalid(p.child("nonResourceURLs"), new GoValue(JSON.stringify(rule.nonResourceURLs)), "rules cannot apply to both regular resources and non-resource URLs"));
      }
      return;
    }
    if (arr(rule.apiGroups).length === 0) out.push(required(p.child("apiGroups"), "resource rules must supply at least one api group"));
    if (arr(rule.resources).length === 0) out.push(required(p.child("resources"), "resource rules must supply at least one resource"));
  });
  return out;
}

function validateRoleRef(ref: unknown, path: FieldPath, allowRole: boolean): StatusCause[] {
  const r = obj(ref);
  const out: StatusCause[] = [];
  if (str(r.apiGroup) !== "rbac.authorization.k8s.io") out.push(notSupported(path.child("apiGroup"), str(r.apiGroup), ["rbac.authorization.k8s.io"]));
  const kinds = allowRole ? ["ClusterRole", "Role"] : ["ClusterRole"];
  if (!kinds.includes(str(r.kind))) out.push(notSupported(path.child("kind"), str(r.kind), kinds));
  const name = str(r.name);
  if (!name) out.push(required(path.child("name")));
  else out.push(...invalidEach(path.child("name"), name, isValidPathSegmentName(name)));
  return out;
}

function validateSubjects(subjects: unknown, path: FieldPath, isNamespaced: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  arr(subjects).forEach((s, i) => {
    const subj = obj(s);
    const p = path.index(i);
    const name = str(subj.name);
    if (!name) out.push(required(p.child("name")));
    switch (str(subj.kind)) {
      case "ServiceAccount":
        if (name) out.push(...invalidEach(p.child("name"), name, isDNS1123Subdomain(name)));
        if (str(subj.apiGroup)) out.push(notSupported(p.child("apiGroup"), str(subj.apiGroup), [""]));
        if (!isNamespaced && !str(subj.namespace)) out.push(required(p.child("namespace")));
        break;
      case "User":
      case "Group":
        if (str(subj.apiGroup) !== "rbac.authorization.k8s.io") out.push(notSupported(p.child("apiGroup"), str(subj.apiGroup), ["rbac.authorization.k8s.io"]));
        break;
      default:
        out.push(notSupported(p.child("kind"), str(subj.kind), ["ServiceAccount", "User", "Group"]));
    }
  });
  return out;
}

function validatePdb(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  if (s.minAvailable !== undefined && s.maxUnavailable !== undefined) out.push(invalid(spec, new GoValue(JSON.stringify(s)), "minAvailable and maxUnavailable cannot be both set"));
  for (const f of ["minAvailable", "maxUnavailable"]) {
    if (s[f] === undefined) continue;
    out.push(...positiveIntOrPercent(s[f], spec.child(f)));
    out.push(...notMoreThan100(s[f], spec.child(f)));
  }
  out.push(...validateLabelSelector(s.selector, spec.child("selector")));
  const policy = s.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !["AlwaysAllow", "IfHealthyBudget"].includes(str(policy))) {
    out.push(notSupported(spec.child("unhealthyPodEvictionPolicy"), policy, ["AlwaysAllow", "IfHealthyBudget"]));
  }
  return out;
}

function validateLease(o: Obj): StatusCause[] {
  const s = obj(o.spec);
  const out: StatusCause[] = [];
  if (typeof s.leaseDurationSeconds === "number" && s.leaseDurationSeconds <= 0) out.push(invalid(spec.child("leaseDurationSeconds"), s.leaseDurationSeconds, "must be greater than 0"));
  out.push(...nonNegative(s.leaseTransitions, spec.child("leaseTransitions")));
  return out;
}

function validateEndpointSlice(o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const at = str(o.addressType);
  if (!["IPv4", "IPv6", "FQDN"].includes(at)) out.push(notSupported(FieldPath.root("addressType"), at, ["FQDN", "IPv4", "IPv6"]));
  arr(o.endpoints).forEach((e, i) => {
    const addrs = arr(obj(e).addresses).map(str);
    const p = FieldPath.root("endpoints").index(i).child("addresses");
    if (addrs.length === 0) out.push(required(p, "must contain at least 1 address"));
    addrs.forEach((a, j) => {
      if ((at === "IPv4" && isIP(a) !== 4) || (at === "IPv6" && isIP(a) !== 6)) out.push(invalid(p.index(j), a, `must be a valid ${at} address`));
    });
  });
  return out;
}

/** Per-kind validators keyed by `group/Kind` (HPA by `autoscaling/vN/Kind`). */
const VALIDATORS: Record<string, (o: Obj) => StatusCause[]> = {
  "/Service": validateService,
  "/ConfigMap": validateConfigMap,
  "/Secret": validateSecret,
  "/PersistentVolumeClaim": validatePvc,
  "/PersistentVolume": validatePv,
  "/Namespace": validateNamespace,
  "/ReplicationController": validateReplicationController,
  "/Pod": (o) => validatePodTemplateSpecAsPod(o),
  "apps/Deployment": validateDeployment,
  "apps/ReplicaSet": validateReplicaSet,
  "apps/StatefulSet": validateStatefulSet,
  "apps/DaemonSet": validateDaemonSet,
  "batch/Job": validateJob,
  "batch/CronJob": validateCronJob,
  "autoscaling/v2/HorizontalPodAutoscaler": validateHpaV2,
  "autoscaling/v1/HorizontalPodAutoscaler": validateHpaV1,
  "networking.k8s.io/Ingress": validateIngress,
  "networking.k8s.io/IngressClass": validateIngressClass,
  "networking.k8s.io/NetworkPolicy": validateNetworkPolicy,
  "storage.k8s.io/StorageClass": validateStorageClass,
  "rbac.authorization.k8s.io/Role": (o) => validatePolicyRules(o.rules, FieldPath.root("rules"), true),
  "rbac.authorization.k8s.io/ClusterRole": (o) => validatePolicyRules(o.rules, FieldPath.root("rules"), false),
  "rbac.authorization.k8s.io/RoleBinding": (o) => [
    ...validateRoleRef(o.roleRef, FieldPath.root("roleRef"), true),
    ...validateSubjects(o.subjects, FieldPath.root("subjects"), true),
  ],
  "rbac.authorization.k8s.io/ClusterRoleBinding": (o) => [
    ...validateRoleRef(o.roleRef, FieldPath.root("roleRef"), false),
    ...validateSubjects(o.subjects, FieldPath.root("subjects"), false),
  ],
  "policy/PodDisruptionBudget": validatePdb,
  "coordination.k8s.io/Lease": validateLease,
  "discovery.k8s.io/EndpointSlice": validateEndpointSlice,
};

/** A Pod: `ValidatePodSpec` on `spec`. */
function validatePodTemplateSpecAsPod(o: Obj): StatusCause[] {
  return validatePodSpec(o.spec, spec);
}

/** Runs the kind's validator (none for kinds with no hand-written rules beyond metadata). */
export function validateKind(group: string, version: string, kind: string, o: Obj): StatusCause[] {
  const fn = VALIDATORS[`${group}/${version}/${kind}`] ?? VALIDATORS[`${group}/${kind}`];
  return fn ? fn(o) : [];
}

/**
 * Version conversion for kinds served in more than one version. HorizontalPodAutoscaler is
 * served as autoscaling/v2 and autoscaling/v1 from one storage (stored as v2, as upstream);
 * the v1 view maps `targetCPUUtilizationPercentage` to and from the v2 cpu Utilization metric
 * (`pkg/apis/autoscaling/v1/conversion.go`). Metrics v1 cannot express are kept in the
 * `autoscaling.alpha.kubernetes.io/metrics` annotation upstream; here they are preserved in the
 * same annotation so a v1 round trip loses nothing.
 */
import type { KubeObject } from "../types.js";
import { clone } from "../types.js";

const METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics";
const CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions";
const CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics";

function isCpuUtilization(m: any): boolean {
  return m?.type === "Resource" && m.resource?.name === "cpu" && m.resource?.target?.type === "Utilization";
}

/** Converts an object read from storage to the version the client asked for. */
export function toVersion(obj: Readonly<KubeObject>, apiVersion: string): Readonly<KubeObject> {
  if (obj.apiVersion === apiVersion) return obj;
  if (obj.kind === "HorizontalPodAutoscaler" && apiVersion === "autoscaling/v1") return hpaV2ToV1(obj);
  if (obj.kind === "HorizontalPodAutoscaler" && apiVersion === "autoscaling/v2") return hpaV1ToV2(obj);
  return obj;
}

/** Converts an object a client sent to its storage version. */
export function toStorageVersion(obj: KubeObject): KubeObject {
  if (obj.kind === "HorizontalPodAutoscaler" && obj.apiVersion === "autoscaling/v1") return hpaV1ToV2(obj) as KubeObject;
  return obj;
}

function hpaV1ToV2(obj: Readonly<KubeObject>): KubeObject {
  const out = clone(obj) as KubeObject;
  out.apiVersion = "autoscaling/v2";
  const spec = out.spec ?? {};
  const annotations = { ...(out.metadata.annotations ?? {}) };
  let metrics: any[] = [];
  if (annotations[METRICS_ANNOTATION]) {
    try {
      metrics = JSON.parse(annotations[METRICS_ANNOTATION]);
    } catch {
      metrics = [];
    }
    delete annotations[METRICS_ANNOTATION];
  }
  if (typeof spec.targetCPUUtilizationPercentage === "number") {
    metrics = [
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: spec.targetCPUUtilizationPercentage } } },
      ...metrics.filter((m) => !isCpuUtilization(m)),
    ];
  }
  delete spec.targetCPUUtilizationPercentage;
  if (metrics.length > 0) spec.metrics = metrics;
  out.spec = spec;
  const status = out.status;
  if (status && typeof status === "object") {
    const current: any[] = [];
    if (typeof status.currentCPUUtilizationPercentage === "number") {
      current.push({ type: "Resource", resource: { name: "cpu", current: { averageUtilization: status.currentCPUUtilizationPercentage } } });
    }
    delete status.currentCPUUtilizationPercentage;
    if (annotations[CONDITIONS_ANNOTATION]) {
      try {
        status.conditions = JSON.parse(annotations[CONDITIONS_ANNOTATION]);
      } catch {
        /* an unreadable annotation is dropped, as upstream ignores it */
      }
      delete annotations[CONDITIONS_ANNOTATION];
    }
    delete annotations[CURRENT_METRICS_ANNOTATION];
    if (current.length > 0) status.currentMetrics = current;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  else delete out.metadata.annotations;
  return out;
}

function hpaV2ToV1(obj: Readonly<KubeObject>): KubeObject {
  const out = clone(obj) as KubeObject;
  out.apiVersion = "autoscaling/v1";
  const spec = out.spec ?? {};
  const metrics: any[] = spec.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => !isCpuUtilization(m));
  delete spec.metrics;
  delete spec.behavior;
  if (cpu) spec.targetCPUUtilizationPercentage = cpu.resource.target.averageUtilization;
  const annotations = { ...(out.metadata.annotations ?? {}) };
  if (others.length > 0) annotations[METRICS_ANNOTATION] = JSON.stringify(others);
  const status = out.status;
  if (status && typeof status === "object") {
    const currentCpu = (status.currentMetrics ?? []).find((m: any) => m?.type === "Resource" && m.resource?.name === "cpu");
    if (typeof currentCpu?.resource?.current?.averageUtilization === "number") {
      status.currentCPUUtilizationPercentage = currentCpu.resource.current.averageUtilization;
    }
    if (status.conditions) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions);
    delete status.currentMetrics;
    delete status.conditions;
  }
  if (Object.keys(annotations).length > 0) out.metadata.annotations = annotations;
  return out;
}

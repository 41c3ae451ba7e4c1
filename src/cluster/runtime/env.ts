/**
 * A container's environment as the kubelet builds it before creating the container
 * (`makeEnvironmentVariables` in `pkg/kubelet/kubelet_pods.go`): Service variables first, then
 * `envFrom` sources in order (with their prefix), then `env` entries in order, each `value`
 * expanded against the variables defined before it (`$(VAR)`), each `valueFrom` read from a
 * ConfigMap, a Secret, a pod field or a resource. A missing, non-optional ConfigMap, Secret or
 * key fails the container with CreateContainerConfigError and the kubelet's message:
 * `configmap "x" not found`, `secret "y" not found`,
 * `couldn't find key k in ConfigMap default/x`, `couldn't find key k in Secret default/y`.
 */
import type { KubeObject } from "../../api/types.js";
import { parseQuantity } from "../../api/quantity.js";
import { expandKubeVars } from "./workload.js";

/** Where ConfigMaps and Secrets are read from (the kubelet's cache of the API). */
export interface ConfigLookup {
  /** A ConfigMap in the pod's namespace, or undefined when it does not exist. */
  configMap(namespace: string, name: string): { data?: Record<string, string>; binaryData?: Record<string, string> } | undefined;
  /** A Secret in the pod's namespace (`data` values base64), or undefined when it does not exist. */
  secret(namespace: string, name: string): { data?: Record<string, string>; stringData?: Record<string, string> } | undefined;
}

/** Inputs of `resolveContainerEnv`. */
export interface EnvContext {
  readonly pod: KubeObject;
  readonly container: Record<string, any>;
  readonly lookup: ConfigLookup;
  readonly podIP?: string;
  readonly hostIP?: string;
  /** Service variables (`WEB_SERVICE_HOST`...; `KUBERNETES_SERVICE_HOST`), added first when `enableServiceLinks` allows. */
  readonly serviceEnv?: Readonly<Record<string, string>>;
  /** Node allocatable, used by `resourceFieldRef` when the container sets no limit. */
  readonly nodeAllocatable?: { readonly cpu?: string | number; readonly memory?: string | number; readonly "ephemeral-storage"?: string | number };
}

/** The environment, or the CreateContainerConfigError message. */
export type EnvResult = { readonly ok: true; readonly env: Record<string, string> } | { readonly ok: false; readonly message: string };

const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");

function secretValues(s: { data?: Record<string, string>; stringData?: Record<string, string> }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.data ?? {})) out[k] = decode(v);
  for (const [k, v] of Object.entries(s.stringData ?? {})) out[k] = v;
  return out;
}

function configMapValues(cm: { data?: Record<string, string>; binaryData?: Record<string, string> }): Record<string, string> {
  return { ...(cm.data ?? {}) };
}

/** `podFieldSelectorRuntimeValue` plus the fields the API server resolves on its own (`metadata.*`). */
function fieldValue(path: string, ctx: EnvContext): string {
  const { pod } = ctx;
  const m = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (m) return (pod.metadata[m[1] as "labels" | "annotations"] as Record<string, string> | undefined)?.[m[2]] ?? "";
  switch (path) {
    case "metadata.name":
      return pod.metadata.name ?? "";
    case "metadata.namespace":
      return pod.metadata.namespace ?? "";
    case "metadata.uid":
      return pod.metadata.uid ?? "";
    case "metadata.labels":
      return Object.entries(pod.metadata.labels ?? {}).map(([k, v]) => `${k}="${v}"`).join("\n");
    case "metadata.annotations":
      return Object.entries(pod.metadata.annotations ?? {}).map(([k, v]) => `${k}="${v}"`).join("\n");
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.hostIP":
    case "status.hostIPs":
      return ctx.hostIP ?? "";
    case "status.podIP":
    case "status.podIPs":
      return ctx.podIP ?? "";
    default:
      return "";
  }
}

/** `resourceFieldRef`: the container's limit or request, divided by the divisor, rounded up. */
function resourceValue(ref: { resource: string; divisor?: string | number }, ctx: EnvContext): string {
  const [kind, name] = ref.resource.split(".");
  const resources = ctx.container.resources ?? {};
  let raw: string | number | undefined = kind === "limits" ? resources.limits?.[name] : resources.requests?.[name];
  if (raw === undefined && kind === "requests") raw = resources.limits?.[name];
  if (raw === undefined) raw = ctx.nodeAllocatable?.[name as "cpu" | "memory" | "ephemeral-storage"];
  if (raw === undefined) return kind === "requests" && name === "cpu" ? "0" : "0";
  const divisor = ref.divisor !== undefined ? parseQuantity(ref.divisor) : 1;
  return String(Math.ceil(parseQuantity(raw) / (divisor || 1) - 1e-9));
}

/**
 * Builds the container's environment. Returns the CreateContainerConfigError message when a
 * required ConfigMap, Secret or key is missing.
 */
export function resolveContainerEnv(ctx: EnvContext): EnvResult {
  const ns = ctx.pod.metadata.namespace ?? "default";
  const env: Record<string, string> = {};
  const serviceEnv = ctx.pod.spec?.enableServiceLinks === false ? {} : { ...(ctx.serviceEnv ?? {}) };
  for (const [k, v] of Object.entries(serviceEnv)) env[k] = v;
  for (const from of (ctx.container.envFrom ?? []) as Record<string, any>[]) {
    const prefix: string = from.prefix ?? "";
    if (from.configMapRef) {
      const cm = ctx.lookup.configMap(ns, from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        return { ok: false, message: `configmap "${from.configMapRef.name}" not found` };
      }
      for (const [k, v] of Object.entries(configMapValues(cm))) env[prefix + k] = v;
    } else if (from.secretRef) {
      const s = ctx.lookup.secret(ns, from.secretRef.name);
      if (!s) {
        if (from.secretRef.optional) continue;
        return { ok: false, message: `secret "${from.secretRef.name}" not found` };
      }
      for (const [k, v] of Object.entries(secretValues(s))) env[prefix + k] = v;
    }
  }
  for (const e of (ctx.container.env ?? []) as Record<string, any>[]) {
    if (e.valueFrom === undefined) {
      env[e.name] = expandKubeVars(e.value ?? "", env);
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) env[e.name] = fieldValue(vf.fieldRef.fieldPath, ctx);
    else if (vf.resourceFieldRef) env[e.name] = resourceValue(vf.resourceFieldRef, ctx);
    else if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const cm = ctx.lookup.configMap(ns, ref.name);
      if (!cm) {
        if (ref.optional) continue;
        return { ok: false, message: `configmap "${ref.name}" not found` };
      }
      const values = configMapValues(cm);
      if (!(ref.key in values)) {
        if (ref.optional) continue;
        return { ok: false, message: `couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}` };
      }
      env[e.name] = values[ref.key];
    } else if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const s = ctx.lookup.secret(ns, ref.name);
      if (!s) {
        if (ref.optional) continue;
        return { ok: false, message: `secret "${ref.name}" not found` };
      }
      const values = secretValues(s);
      if (!(ref.key in values)) {
        if (ref.optional) continue;
        return { ok: false, message: `couldn't find key ${ref.key} in Secret ${ns}/${ref.name}` };
      }
      env[e.name] = values[ref.key];
    }
  }
  return { ok: true, env };
}

/**
 * The first volume the kubelet cannot mount because its ConfigMap or Secret is missing, as the
 * FailedMount event says it: `MountVolume.SetUp failed for volume "config" : configmap "app" not found`.
 * Undefined when every ConfigMap and Secret volume can be set up.
 */
export function missingVolumeSource(pod: KubeObject, lookup: ConfigLookup): string | undefined {
  const ns = pod.metadata.namespace ?? "default";
  for (const v of (pod.spec?.volumes ?? []) as Record<string, any>[]) {
    if (v.configMap && !v.configMap.optional && !lookup.configMap(ns, v.configMap.name)) {
      return `MountVolume.SetUp failed for volume "${v.name}" : configmap "${v.configMap.name}" not found`;
    }
    if (v.secret && !v.secret.optional && !lookup.secret(ns, v.secret.secretName)) {
      return `MountVolume.SetUp failed for volume "${v.name}" : secret "${v.secret.secretName}" not found`;
    }
    for (const src of (v.projected?.sources ?? []) as Record<string, any>[]) {
      if (src.configMap && !src.configMap.optional && !lookup.configMap(ns, src.configMap.name)) {
        return `MountVolume.SetUp failed for volume "${v.name}" : configmap "${src.configMap.name}" not found`;
      }
      if (src.secret && !src.secret.optional && !lookup.secret(ns, src.secret.name)) {
        return `MountVolume.SetUp failed for volume "${v.name}" : secret "${src.secret.name}" not found`;
      }
    }
  }
  return undefined;
}

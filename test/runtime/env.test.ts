import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../src/api/types.js";
import { missingVolumeSource, resolveContainerEnv, type ConfigLookup } from "../../src/cluster/runtime/env.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const lookup: ConfigLookup = {
  configMap: (_ns, name) => (name === "app" ? { data: { mode: "prod", "log-level": "debug" } } : undefined),
  secret: (_ns, name) => (name === "db" ? { data: { password: b64("s3cret") } } : undefined),
};
const pod = (container: Record<string, unknown>, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "web-abc", namespace: "shop", uid: "u1", labels: { app: "web" } },
  spec: { nodeName: "worker-1", serviceAccountName: "default", containers: [container], ...spec },
});
const resolve = (container: Record<string, unknown>, spec?: Record<string, unknown>) => resolveContainerEnv({ pod: pod(container, spec), container, lookup, podIP: "10.244.1.7", hostIP: "172.18.0.3", serviceEnv: { KUBERNETES_SERVICE_HOST: "10.96.0.1" } });

describe("container environment (makeEnvironmentVariables)", () => {
  it("reads values, ConfigMap and Secret keys, fields and resources, in order with $(VAR) expansion", () => {
    const r = resolve({
      name: "web",
      resources: { limits: { cpu: "500m", memory: "256Mi" } },
      envFrom: [{ configMapRef: { name: "app" }, prefix: "APP_" }],
      env: [
        { name: "MODE", valueFrom: { configMapKeyRef: { name: "app", key: "mode" } } },
        { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db", key: "password" } } },
        { name: "URL", value: "postgres://app:$(DB_PASSWORD)@db" },
        { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "NS", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
        { name: "IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
        { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
        { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: "CPU", valueFrom: { resourceFieldRef: { resource: "limits.cpu" } } },
        { name: "MEM_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
      ],
    });
    expect(r).toEqual({
      ok: true,
      env: {
        KUBERNETES_SERVICE_HOST: "10.96.0.1",
        APP_mode: "prod",
        "APP_log-level": "debug",
        MODE: "prod",
        DB_PASSWORD: "s3cret",
        URL: "postgres://app:s3cret@db",
        POD: "web-abc",
        NS: "shop",
        IP: "10.244.1.7",
        NODE: "worker-1",
        APP: "web",
        CPU: "1",
        MEM_MI: "256",
      },
    });
  });

  it.each([
    [{ env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "missing", key: "k" } } }] }, 'configmap "missing" not found'],
    [{ env: [{ name: "A", valueFrom: { configMapKeyRef: { name: "app", key: "nope" } } }] }, "couldn't find key nope in ConfigMap shop/app"],
    [{ env: [{ name: "A", valueFrom: { secretKeyRef: { name: "missing", key: "k" } } }] }, 'secret "missing" not found'],
    [{ env: [{ name: "A", valueFrom: { secretKeyRef: { name: "db", key: "user" } } }] }, "couldn't find key user in Secret shop/db"],
    [{ envFrom: [{ configMapRef: { name: "missing" } }] }, 'configmap "missing" not found'],
    [{ envFrom: [{ secretRef: { name: "missing" } }] }, 'secret "missing" not found'],
  ])("a missing source is CreateContainerConfigError: %j", (extra, message) => {
    expect(resolve({ name: "web", ...extra })).toEqual({ ok: false, message });
  });

  it("optional sources and keys may be missing", () => {
    const r = resolve({
      name: "web",
      envFrom: [{ configMapRef: { name: "missing", optional: true } }],
      env: [{ name: "A", valueFrom: { secretKeyRef: { name: "db", key: "user", optional: true } } }],
    });
    expect(r).toEqual({ ok: true, env: { KUBERNETES_SERVICE_HOST: "10.96.0.1" } });
  });

  it("enableServiceLinks: false leaves the Service variables out", () => {
    expect(resolve({ name: "web" }, { enableServiceLinks: false })).toEqual({ ok: true, env: {} });
  });
});

describe("volumes", () => {
  it("names the first ConfigMap or Secret volume that cannot be mounted", () => {
    const p = pod({ name: "web" }, { volumes: [{ name: "cfg", configMap: { name: "app" } }, { name: "tls", secret: { secretName: "tls" } }] });
    expect(missingVolumeSource(p, lookup)).toBe('MountVolume.SetUp failed for volume "tls" : secret "tls" not found');
    const ok = pod({ name: "web" }, { volumes: [{ name: "tls", secret: { secretName: "tls", optional: true } }] });
    expect(missingVolumeSource(ok, lookup)).toBeUndefined();
  });
});

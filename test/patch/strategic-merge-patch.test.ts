import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { applyStrategicMergePatch, patchTableFor } from "../../src/api/patch/index.js";
import { ApiError } from "../../src/api/errors.js";
import { KINDS } from "../../src/api/kinds.js";
import { deepFreeze, type KubeObject } from "../../src/api/types.js";
import { CORPUS_DIR } from "../_corpus.js";

function apiError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected an ApiError, nothing was thrown");
}

/** The guestbook frontend Deployment from the kubernetes/examples corpus. */
function guestbook(): KubeObject {
  return parse(readFileSync(`${CORPUS_DIR}/web/guestbook/frontend-deployment.yaml`, "utf8"));
}

function podSpec(containers: object[], extra: object = {}) {
  return { containers, ...extra };
}

function deployment(spec: object, extraMeta: object = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "default", ...extraMeta },
    spec: { replicas: 2, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec } },
  };
}

const smp = (doc: KubeObject, patch: unknown) => applyStrategicMergePatch(doc, patch, doc.apiVersion, doc.kind);
const templatePatch = (spec: object) => ({ spec: { template: { spec } } });

describe("lists with a merge key", () => {
  const doc = () =>
    deployment(
      podSpec([
        { name: "web", image: "nginx:1.25", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], ports: [{ containerPort: 80, name: "http" }] },
        { name: "log", image: "fluentd:1" },
      ]),
    );

  it("merges containers by name: only the named container changes", () => {
    const out = smp(doc(), templatePatch({ containers: [{ name: "web", image: "nginx:1.26" }] }));
    expect(out.spec.template.spec.containers).toEqual([
      { name: "web", image: "nginx:1.26", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], ports: [{ containerPort: 80, name: "http" }] },
      { name: "log", image: "fluentd:1" },
    ]);
  });

  it("merges env by name and ports by containerPort", () => {
    const out = smp(
      doc(),
      templatePatch({ containers: [{ name: "web", env: [{ name: "B", value: "two" }], ports: [{ containerPort: 80, protocol: "TCP" }, { containerPort: 443 }] }] }),
    );
    const web = out.spec.template.spec.containers[0];
    expect(web.env).toEqual([{ name: "A", value: "1" }, { name: "B", value: "two" }]);
    expect(web.ports).toEqual([{ containerPort: 80, name: "http", protocol: "TCP" }, { containerPort: 443 }]);
  });

  it("puts an item new to the list before the live items when the patch gives no order, as mergeSortedSlice does", () => {
    const out = smp(doc(), templatePatch({ containers: [{ name: "sidecar", image: "envoy" }] }));
    expect(out.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["sidecar", "web", "log"]);
  });

  it("orders the merged list by $setElementOrder (what kubectl apply sends)", () => {
    const out = smp(
      doc(),
      templatePatch({
        "$setElementOrder/containers": [{ name: "web" }, { name: "sidecar" }, { name: "log" }],
        containers: [{ name: "sidecar", image: "envoy" }],
      }),
    );
    expect(out.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["web", "sidecar", "log"]);
    expect(out.spec.template.spec).not.toHaveProperty("$setElementOrder/containers");
  });

  it("reorders without changing content when only $setElementOrder is sent", () => {
    const out = smp(doc(), templatePatch({ "$setElementOrder/containers": [{ name: "log" }, { name: "web" }] }));
    expect(out.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(["log", "web"]);
    expect(out.spec.template.spec.containers[1].image).toBe("nginx:1.25");
  });

  it("merges volumes by name and volumeMounts by mountPath", () => {
    const live = deployment(
      podSpec([{ name: "web", image: "nginx", volumeMounts: [{ name: "data", mountPath: "/data" }, { name: "cfg", mountPath: "/etc/cfg" }] }], {
        volumes: [{ name: "data", emptyDir: {} }, { name: "cfg", configMap: { name: "web-config" } }],
      }),
    );
    const out = smp(
      live,
      templatePatch({
        volumes: [{ name: "cfg", configMap: { name: "web-config-v2" } }],
        containers: [{ name: "web", volumeMounts: [{ mountPath: "/data", readOnly: true, name: "data" }] }],
      }),
    );
    expect(out.spec.template.spec.volumes).toEqual([{ name: "data", emptyDir: {} }, { name: "cfg", configMap: { name: "web-config-v2" } }]);
    expect(out.spec.template.spec.containers[0].volumeMounts).toEqual([
      { name: "data", mountPath: "/data", readOnly: true },
      { name: "cfg", mountPath: "/etc/cfg" },
    ]);
  });

  it("merges Service ports by port", () => {
    const svc: KubeObject = {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { ports: [{ name: "http", port: 80, targetPort: 8080 }, { name: "https", port: 443, targetPort: 8443 }] },
    };
    const out = smp(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } });
    expect(out.spec.ports).toEqual([{ name: "http", port: 80, targetPort: 9090 }, { name: "https", port: 443, targetPort: 8443 }]);
  });

  it("merges ownerReferences by uid and status conditions by type", () => {
    const pod: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p", ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: true }] },
      spec: { containers: [{ name: "c", image: "x" }] },
      status: { conditions: [{ type: "Ready", status: "False" }, { type: "PodScheduled", status: "True" }] },
    };
    const out = smp(pod, {
      metadata: { ownerReferences: [{ uid: "u1", controller: false }] },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    });
    expect(out.metadata.ownerReferences).toEqual([{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "u1", controller: false }]);
    expect(out.status.conditions).toEqual([{ type: "Ready", status: "True" }, { type: "PodScheduled", status: "True" }]);
  });
});

describe("lists without a merge key are replaced", () => {
  it("replaces tolerations, args, envFrom and imagePullSecrets-free lists whole", () => {
    const live = deployment(
      podSpec([{ name: "web", image: "nginx", args: ["-a", "-b"], envFrom: [{ configMapRef: { name: "one" } }] }], {
        tolerations: [{ key: "a", operator: "Exists" }, { key: "b", operator: "Exists" }],
      }),
    );
    const out = smp(
      live,
      templatePatch({
        tolerations: [{ key: "c", operator: "Exists" }],
        containers: [{ name: "web", args: ["-c"], envFrom: [{ secretRef: { name: "two" } }] }],
      }),
    );
    expect(out.spec.template.spec.tolerations).toEqual([{ key: "c", operator: "Exists" }]);
    expect(out.spec.template.spec.containers[0].args).toEqual(["-c"]);
    expect(out.spec.template.spec.containers[0].envFrom).toEqual([{ secretRef: { name: "two" } }]);
  });
});

describe("primitive lists with the merge strategy (finalizers)", () => {
  const withFinalizers = () => deployment(podSpec([{ name: "web", image: "nginx" }]), { finalizers: ["a.example.com/x", "b.example.com/y"] });

  it("merges finalizers as a set", () => {
    const out = smp(withFinalizers(), { metadata: { finalizers: ["b.example.com/y", "c.example.com/z"] } });
    expect(out.metadata.finalizers).toEqual(["a.example.com/x", "b.example.com/y", "c.example.com/z"]);
  });

  it("removes values listed in $deleteFromPrimitiveList/finalizers", () => {
    const out = smp(withFinalizers(), { metadata: { "$deleteFromPrimitiveList/finalizers": ["a.example.com/x"] } });
    expect(out.metadata.finalizers).toEqual(["b.example.com/y"]);
    expect(out.metadata).not.toHaveProperty("$deleteFromPrimitiveList/finalizers");
  });

  it("orders a primitive list by $setElementOrder", () => {
    const out = smp(withFinalizers(), {
      metadata: { "$setElementOrder/finalizers": ["c.example.com/z", "b.example.com/y", "a.example.com/x"], finalizers: ["c.example.com/z"] },
    });
    expect(out.metadata.finalizers).toEqual(["c.example.com/z", "b.example.com/y", "a.example.com/x"]);
  });
});

describe("directives", () => {
  const live = () =>
    deployment(
      podSpec(
        [
          { name: "web", image: "nginx", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }] },
          { name: "log", image: "fluentd" },
        ],
        { nodeSelector: { disk: "hdd", zone: "a" } },
      ),
    );

  it("$patch: delete in a list item removes the item with that key", () => {
    const out = smp(live(), templatePatch({ containers: [{ name: "log", $patch: "delete" }, { name: "web", env: [{ name: "A", $patch: "delete" }] }] }));
    expect(out.spec.template.spec.containers).toEqual([{ name: "web", image: "nginx", env: [{ name: "B", value: "2" }] }]);
  });

  it("$patch: replace in a list makes the patch the whole list", () => {
    const out = smp(live(), templatePatch({ containers: [{ $patch: "replace" }, { name: "only", image: "busybox" }] }));
    expect(out.spec.template.spec.containers).toEqual([{ name: "only", image: "busybox" }]);
  });

  it("$patch: replace in a map replaces the map instead of merging it", () => {
    const out = smp(live(), templatePatch({ nodeSelector: { $patch: "replace", disk: "ssd" } }));
    expect(out.spec.template.spec.nodeSelector).toEqual({ disk: "ssd" });
  });

  it("$patch: delete in a map empties it", () => {
    const out = smp(live(), templatePatch({ nodeSelector: { $patch: "delete" } }));
    expect(out.spec.template.spec.nodeSelector).toEqual({});
  });

  it("$retainKeys clears the fields it does not list (Deployment strategy RollingUpdate to Recreate)", () => {
    const doc = live();
    doc.spec.strategy = { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
    const out = smp(doc, { spec: { strategy: { $retainKeys: ["type"], type: "Recreate" } } });
    expect(out.spec.strategy).toEqual({ type: "Recreate" });
  });

  it("$retainKeys in a volume switches its source (volumes are merge,retainKeys)", () => {
    const doc = deployment(podSpec([{ name: "web", image: "nginx" }], { volumes: [{ name: "data", emptyDir: {} }] }));
    const out = smp(doc, templatePatch({ volumes: [{ name: "data", $retainKeys: ["configMap", "name"], configMap: { name: "cfg" } }] }));
    expect(out.spec.template.spec.volumes).toEqual([{ name: "data", configMap: { name: "cfg" } }]);
  });

  it("refuses a patch that sets a field $retainKeys does not list: 400 BadRequest", () => {
    const err = apiError(() => smp(live(), { spec: { strategy: { $retainKeys: ["type"], type: "Recreate", rollingUpdate: {} } } }));
    expect(err.code).toBe(400);
    expect(err.message).toBe("invalid patch format of retainKeys");
  });

  it("null deletes a field, including a label and a whole map", () => {
    const out = smp(live(), { spec: { template: { metadata: { labels: { app: null } }, spec: { nodeSelector: null } } } });
    expect(out.spec.template.metadata.labels).toEqual({});
    expect(out.spec.template.spec).not.toHaveProperty("nodeSelector");
  });

  it("keeps no null or $directive in a field that did not exist before", () => {
    const out = smp(live(), { spec: { template: { spec: { affinity: { nodeAffinity: null, podAntiAffinity: { $patch: "replace", x: 1 } } } } } });
    expect(out.spec.template.spec.affinity).toEqual({ podAntiAffinity: { x: 1 } });
    const created = smp(live(), templatePatch({ initContainers: [{ name: "init", image: "busybox", env: null }, { name: "gone", $patch: "delete" }] }));
    expect(created.spec.template.spec.initContainers).toEqual([{ name: "init", image: "busybox" }]);
  });
});

describe("pod templates at every depth", () => {
  const spec = () =>
    podSpec([
      { name: "app", image: "app:1", env: [{ name: "MODE", value: "a" }] },
      { name: "sidecar", image: "proxy:1" },
    ]);
  const cases: Array<[string, string, (spec: object) => object, (o: KubeObject) => any]> = [
    ["v1", "Pod", (s) => ({ spec: s }), (o) => o.spec],
    ["v1", "ReplicationController", (s) => ({ spec: { template: { spec: s } } }), (o) => o.spec.template.spec],
    ["apps/v1", "Deployment", (s) => ({ spec: { template: { spec: s } } }), (o) => o.spec.template.spec],
    ["apps/v1", "ReplicaSet", (s) => ({ spec: { template: { spec: s } } }), (o) => o.spec.template.spec],
    ["apps/v1", "StatefulSet", (s) => ({ spec: { template: { spec: s } } }), (o) => o.spec.template.spec],
    ["apps/v1", "DaemonSet", (s) => ({ spec: { template: { spec: s } } }), (o) => o.spec.template.spec],
    ["batch/v1", "Job", (s) => ({ spec: { template: { spec: s } } }), (o) => o.spec.template.spec],
    ["batch/v1", "CronJob", (s) => ({ spec: { jobTemplate: { spec: { template: { spec: s } } } } }), (o) => o.spec.jobTemplate.spec.template.spec],
  ];

  it.each(cases)("%s %s merges containers and env by name", (apiVersion, kind, wrap, pick) => {
    const doc = { apiVersion, kind, metadata: { name: "x" }, ...wrap(spec()) } as KubeObject;
    const patch = wrap({ containers: [{ name: "app", image: "app:2", env: [{ name: "DEBUG", value: "1" }] }] });
    const out = pick(applyStrategicMergePatch(doc, patch, apiVersion, kind));
    expect(out.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`)).toEqual(["app=app:2", "sidecar=proxy:1"]);
    expect(out.containers[0].env).toEqual([{ name: "DEBUG", value: "1" }, { name: "MODE", value: "a" }]);
  });

  it("merges the template metadata of a CronJob's job template", () => {
    const cron: KubeObject = {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "c" },
      spec: { jobTemplate: { metadata: { labels: { a: "1" } }, spec: { template: { metadata: { labels: { b: "2" } }, spec: spec() } } } },
    };
    const out = smp(cron, { spec: { jobTemplate: { metadata: { labels: { c: "3" } }, spec: { template: { metadata: { labels: { b: null } } } } } } });
    expect(out.spec.jobTemplate.metadata.labels).toEqual({ a: "1", c: "3" });
    expect(out.spec.jobTemplate.spec.template.metadata.labels).toEqual({});
  });
});

describe("patches kubectl sends", () => {
  it("kubectl set image / apply: a container image change with $setElementOrder", () => {
    const doc = deepFreeze(guestbook());
    const out = smp(doc, {
      spec: {
        template: { spec: { "$setElementOrder/containers": [{ name: "php-redis" }], containers: [{ image: "gcr.io/google-samples/gb-frontend:v6", name: "php-redis" }] } },
      },
    });
    const container = out.spec.template.spec.containers[0];
    expect(container.image).toBe("gcr.io/google-samples/gb-frontend:v6");
    expect(container.env).toEqual([{ name: "GET_HOSTS_FROM", value: "dns" }]);
    expect(container.resources).toEqual({ requests: { cpu: "100m", memory: "100Mi" } });
    expect(doc.spec.template.spec.containers[0].image).toBe("gcr.io/google-samples/gb-frontend:v5");
  });

  it("kubectl rollout restart: a template annotation", () => {
    const out = smp(guestbook(), { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z" } } } } });
    expect(out.spec.template.metadata).toEqual({
      labels: { app: "guestbook", tier: "frontend" },
      annotations: { "kubectl.kubernetes.io/restartedAt": "2025-01-01T00:00:00Z" },
    });
  });

  it("kubectl edit: a two-way patch of replicas", () => {
    expect(smp(guestbook(), { spec: { replicas: 4 } }).spec.replicas).toBe(4);
  });
});

describe("what a patch cannot do and how it fails", () => {
  const doc = () => deployment(podSpec([{ name: "web", image: "nginx" }]));

  it("never changes the input and shares nothing with it", () => {
    const frozen = deepFreeze(doc());
    const before = structuredClone(frozen);
    const out = smp(frozen, templatePatch({ containers: [{ name: "web", image: "nginx:2" }] }));
    out.metadata.name = "changed";
    expect(frozen).toEqual(before);
  });

  it("treats a __proto__ member as data, never touching prototypes", () => {
    const patch = JSON.parse('{"metadata": {"annotations": {"__proto__": "x"}}, "__proto__": {"polluted": "yes"}}');
    const out = smp(doc(), patch);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out.metadata.annotations, "__proto__")?.value).toBe("x");
  });

  it("cannot change apiVersion or kind: the patched map decodes into the endpoint's kind", () => {
    const out = smp(doc(), { apiVersion: "v1", kind: "Pod", metadata: null });
    expect(out.apiVersion).toBe("apps/v1");
    expect(out.kind).toBe("Deployment");
    expect(out.metadata).toEqual({});
  });

  it("answers 500 with upstream's message for a list item without its merge key", () => {
    const err = apiError(() => smp(doc(), templatePatch({ containers: [{ image: "nginx:2" }] })));
    expect(err.code).toBe(500);
    expect(err.reason).toBe("");
    expect(err.message).toBe("map: map[image:nginx:2] does not contain declared merge key: name");
  });

  it("answers 500 for an unknown $patch directive and for $patch: merge in a list", () => {
    expect(apiError(() => smp(doc(), { spec: { strategy: { $patch: "frob", type: "x" } } })).message).toBe("unknown patch type: frob in map: map[$patch:frob type:x]");
    expect(apiError(() => smp(doc(), templatePatch({ containers: [{ name: "web", $patch: "merge" }] }))).message).toBe(
      "merging lists cannot yet be specified in the patch",
    );
  });

  it("answers 422 for a list of lists in a merging list", () => {
    const live = deployment(podSpec([{ name: "web", image: "nginx" }]), { finalizers: [] });
    const err = apiError(() => smp(live, { metadata: { finalizers: [["a"]] } }));
    expect(err.code).toBe(422);
    expect(err.message).toBe("the server rejected our request due to an error in our request");
    expect(err.status.details?.causes?.[0]?.message).toBe("lists of lists are not supported");
  });

  it("answers 400 for a malformed $setElementOrder or $deleteFromPrimitiveList key", () => {
    expect(apiError(() => smp(doc(), { metadata: { $setElementOrderfinalizers: [] } })).message).toBe("invalid patch format of setElementOrder list");
    expect(apiError(() => smp(doc(), { metadata: { $deleteFromPrimitiveListfinalizers: ["a"] } })).message).toBe("invalid patch format of primitive list");
  });

  it("answers 400 for a body that is not an object, and treats null as no change", () => {
    const err = apiError(() => smp(doc(), ["spec"]));
    expect(err.code).toBe(400);
    expect(err.message).toBe("json: cannot unmarshal array into Go value of type map[string]interface {}");
    expect(smp(doc(), null)).toEqual(doc());
  });

  it("refuses kinds it has no schema for (custom resources) with 415", () => {
    const crd = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } };
    const err = apiError(() => applyStrategicMergePatch(crd, { spec: {} }, "example.com/v1", "Widget"));
    expect(err.code).toBe(415);
    expect(err.reason).toBe("UnsupportedMediaType");
    expect(err.message).toBe(
      "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
    );
  });
});

describe("patch-keys table", () => {
  it("has a table for every built-in kind and none for unknown kinds", () => {
    for (const info of KINDS) {
      const table = patchTableFor(info.apiVersion, info.kind);
      expect(table, `${info.apiVersion} ${info.kind}`).toBeDefined();
      expect(table!.get("metadata.ownerReferences")).toEqual({ strategy: "merge", mergeKey: "uid" });
    }
    expect(patchTableFor("example.com/v1", "Widget")).toBeUndefined();
  });

  it("mounts the PodSpec table at every pod template depth", () => {
    expect(patchTableFor("v1", "Pod")!.get("spec.containers[].env")).toEqual({ strategy: "merge", mergeKey: "name" });
    expect(patchTableFor("apps/v1", "Deployment")!.get("spec.template.spec.initContainers[].ports")).toEqual({ strategy: "merge", mergeKey: "containerPort" });
    expect(patchTableFor("batch/v1", "CronJob")!.get("spec.jobTemplate.spec.template.spec.volumes")).toEqual({
      strategy: "merge",
      mergeKey: "name",
      retainKeys: true,
    });
    // Tolerations are atomic upstream (listType=atomic, no patchStrategy).
    expect(patchTableFor("v1", "Pod")!.get("spec.tolerations")).toBeUndefined();
  });
});

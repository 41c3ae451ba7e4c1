/**
 * Every manifest of the kubernetes/examples corpus is created with dry-run on the API server
 * (kind registry, defaulting, validation, admission: nothing persisted), as
 * `kubectl apply -f` against a Kubernetes 1.32 API server would. Each refusal below was checked
 * by hand against upstream behaviour (see the comments); a change in any count means a
 * validation rule changed and must be justified.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { isCollection, isPair, parseAllDocuments, visit } from "yaml";
import { ApiError } from "../../src/api/errors.js";
import { kindFor } from "../../src/api/kinds.js";
import type { ApiServer } from "../../src/api/server/api-server.js";
import { startApi } from "../api/_harness.js";
import { CORPUS_DIR } from "../_corpus.js";

const ROOT = CORPUS_DIR + "/";

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ya?ml|json)$/.test(entry)) out.push(p);
  }
  return out;
}

type Outcome = "accepted" | "refused-unknown-kind" | "refused-invalid" | "refused-bad-request" | "refused-yaml-error";

class YamlError extends Error {}

/**
 * Parses like kubectl (sigs.k8s.io/yaml on go-yaml v2): YAML 1.1 scalars, duplicate keys are an
 * error ("already set in map"), and so is a mapping or sequence used as a key (an unquoted Go
 * template such as `{{ cell }}`), which cannot become JSON.
 */
function parseManifests(text: string): any[] {
  const objects: any[] = [];
  for (const doc of parseAllDocuments(text, { version: "1.1" })) {
    if (doc.errors.length > 0) throw new YamlError(doc.errors[0].message);
    visit(doc, {
      Pair(_, pair) {
        if (isPair(pair) && isCollection(pair.key)) throw new YamlError(`yaml: invalid map key: ${String(pair.key)}`);
      },
    });
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    if (value.kind === "List" && Array.isArray(value.items)) objects.push(...value.items);
    else objects.push(value);
  }
  return objects;
}

async function classify(api: ApiServer, file: string): Promise<{ outcome: Outcome; detail: string }> {
  let objects: any[];
  try {
    objects = parseManifests(readFileSync(file, "utf8"));
  } catch (err) {
    if (err instanceof YamlError || (err as Error).name?.startsWith("YAML")) return { outcome: "refused-yaml-error", detail: (err as Error).message };
    throw err;
  }
  let outcome: Outcome = "accepted";
  const details: string[] = [];
  for (const o of objects) {
    try {
      const info = kindFor(o.apiVersion, o.kind);
      if (info.namespaced && !o.metadata?.namespace) o.metadata = { ...(o.metadata ?? {}), namespace: "default" };
      // The manifests' namespaces exist, as they would after applying the example's namespace file first.
      const ns = info.namespaced ? o.metadata.namespace : undefined;
      if (typeof ns === "string" && !api.peek({ apiVersion: "v1", kind: "Namespace", name: ns })) {
        await api.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      }
      const revision = api.revision;
      await api.create(o, { dryRun: true });
      if (api.revision !== revision) throw new Error(`dry-run create of ${file} wrote to the store`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const o2: Outcome = err.code === 422 ? "refused-invalid" : err.code === 400 ? "refused-bad-request" : "refused-unknown-kind";
      if (outcome === "accepted") outcome = o2;
      details.push(err.message);
    }
  }
  return { outcome, detail: details.join("\n") };
}

describe("kubernetes/examples corpus", () => {
  const files = walk(ROOT).sort();
  const results = new Map<string, { outcome: Outcome; detail: string }>();
  beforeAll(async () => {
    const { api } = await startApi();
    for (const f of files) results.set(relative(ROOT, f), await classify(api, f));
  });
  const byOutcome = (o: Outcome): string[] => [...results].filter(([, r]) => r.outcome === o).map(([f]) => f);

  it("classifies every file, throwing nothing but ApiErrors and YAML errors", () => {
    expect(files.length).toBe(241);
    expect({
      accepted: byOutcome("accepted").length,
      unknownKind: byOutcome("refused-unknown-kind").length,
      invalid: byOutcome("refused-invalid").length,
      badRequest: byOutcome("refused-bad-request").length,
      yaml: byOutcome("refused-yaml-error").length,
    }).toEqual({ accepted: 211, unknownKind: 11, invalid: 4, badRequest: 5, yaml: 10 });
  });

  it("refuses removed and never-served API versions", () => {
    expect(byOutcome("refused-unknown-kind")).toEqual([
      "_archived/cloud-controller-manager/persistent-volume-label-initializer-config.yaml", // admissionregistration v1alpha1, gone since 1.14
      "_archived/cockroachdb/cockroachdb-statefulset.yaml", // policy/v1beta1 PodDisruptionBudget (removed 1.25)
      "_archived/newrelic-infrastructure/newrelic-infra-daemonset.yaml", // extensions/v1beta1 DaemonSet (removed 1.16)
      "_archived/podsecuritypolicy/rbac/policies.yaml", // PodSecurityPolicy (removed 1.25)
      "_archived/volumes/azure_disk/claim/blob-based-disk/account-specified-hdd/storageclass-account-hdd.yaml", // storage.k8s.io/v1beta1 (removed 1.22)
      "_archived/volumes/azure_disk/claim/blob-based-disk/dedicated-hdd/storageclass-dedicated-hdd.yaml",
      "_archived/volumes/azure_disk/claim/blob-based-disk/shared-hdd/storageclass-shared-hdd.yaml",
      "_archived/volumes/azure_disk/claim/blob-based-disk/shared-ssd/storageclass-shared-ssd.yaml",
      "_archived/volumes/azure_disk/claim/managed-disk/managed-hdd/storageclass-managed-hdd.yaml",
      "_archived/volumes/azure_disk/claim/managed-disk/managed-ssd/storageclass-managed-ssd.yaml",
      "_archived/volumes/flexvolume/deploy/ds.yaml", // extensions/v1beta1 DaemonSet
    ]);
  });

  it("refuses manifests that real validation refuses, with the field at fault", () => {
    expect(Object.fromEntries(byOutcome("refused-invalid").map((f) => [f, results.get(f)!.detail]))).toEqual({
      // A Go template placeholder left in the name and labels.
      "_archived/storage/vitess/vttablet-pod-template.yaml": expect.stringContaining('metadata.name: Invalid value: "vttablet-{{uid}}"'),
      // No template labels, so the RC selector cannot be defaulted from them.
      "_archived/sysdig-cloud/sysdig-rc.yaml": 'ReplicationController "sysdig-agent" is invalid: spec.selector: Required value',
      // Protocols are case-sensitive.
      "_archived/volumes/aws_ebs/aws-ebs-web.yaml": expect.stringContaining('spec.containers[0].ports[0].protocol: Unsupported value: "tcp"'),
      "_archived/volumes/cinder/cinder-web.yaml": expect.stringContaining('spec.containers[0].ports[0].protocol: Unsupported value: "tcp"'),
    });
  });

  it("refuses wrong types and unknown fields at decoding (400, strict field validation)", () => {
    expect(Object.fromEntries(byOutcome("refused-bad-request").map((f) => [f, results.get(f)!.detail]))).toEqual({
      "_archived/volumes/fibre_channel/fc.yaml": expect.stringContaining("cannot unmarshal string into Go struct field spec.volumes[0].fc.lun"),
      "_archived/volumes/rbd/rbd.yaml": expect.stringContaining('strict decoding error: unknown field "spec.volumes[0].rbd.imageformat", unknown field "spec.volumes[0].rbd.imagefeatures"'),
      "_archived/volumes/scaleio/pod.yaml": expect.stringContaining('unknown field "spec.volumes[0].scaleIO.protectionDoamin"'),
      "_archived/volumes/storageos/storageos-pod.yaml": expect.stringContaining('unknown field "spec.volumes[0].storageos.pool"'),
      "_archived/volumes/storageos/storageos-pv.yaml": expect.stringContaining('unknown field "spec.storageos.secretName"'),
    });
  });

  it("refuses YAML kubectl cannot read: duplicate keys and unquoted template placeholders", () => {
    expect(byOutcome("refused-yaml-error")).toEqual([
      "_archived/newrelic-infrastructure/newrelic-config-template.yaml",
      "_archived/newrelic/newrelic-config-template.yaml",
      "_archived/openshift-origin/etcd-controller.yaml",
      "_archived/openshift-origin/etcd-discovery-controller.yaml",
      "_archived/openshift-origin/openshift-controller.yaml",
      "_archived/persistent-volume-provisioning/quobyte/quobyte-admin-secret.yaml",
      "_archived/storage/vitess/etcd-controller-template.yaml",
      "_archived/storage/vitess/etcd-service-template.yaml",
      "_archived/storage/vitess/vtgate-controller-template.yaml",
      "_archived/volumes/scaleio/sc-pvc.yaml",
    ]);
  });
});

import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_LOAD_LIMITS, formatLoadError, loadManifests, locate, type LoadResult, type ManifestFile } from "../../src/gitops/load.js";
import { readHead } from "../../src/gitops/source.js";
import { TestRepo } from "./_git.js";
import { CORPUS_DIR } from "../_corpus.js";

const CORPUS = CORPUS_DIR;

function corpusFile(relative: string): ManifestFile {
  return { path: relative, content: fs.readFileSync(path.join(CORPUS, relative), "utf8") };
}

function load(files: Record<string, string>, options?: Parameters<typeof loadManifests>[1]): LoadResult {
  return loadManifests(
    Object.entries(files).map(([p, content]) => ({ path: p, content })),
    options,
  );
}

/** Errors formatted `file:line:col message`, the way the learner sees them. */
function errorsOf(result: LoadResult): string[] {
  return result.errors.map(formatLoadError);
}

/** The data of a single ConfigMap whose `data` block is `body`. */
function configMapData(body: string): Record<string, unknown> {
  const result = load({ "cm.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n${body}` });
  expect(errorsOf(result)).toEqual([]);
  return result.objects[0].object.data;
}

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports:
        - containerPort: 80
`;

describe("positions", () => {
  it("gives each object of a multi-document file its line, column and document index", () => {
    const result = loadManifests([corpusFile("web/guestbook/all-in-one/guestbook-all-in-one.yaml")]);
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects.map((o) => [o.object.kind, o.object.metadata.name, o.source.line, o.source.column, o.source.documentIndex])).toEqual([
      ["Service", "redis-master", 1, 1, 0],
      ["Deployment", "redis-master", 18, 1, 1],
      ["Service", "redis-replica", 46, 1, 2],
      ["Deployment", "redis-replica", 62, 1, 3],
      ["Service", "frontend", 98, 1, 4],
      ["Deployment", "frontend", 117, 1, 5],
    ]);
    expect(result.objects[0].source.file).toBe("web/guestbook/all-in-one/guestbook-all-in-one.yaml");
  });

  it("skips empty documents and comment-only documents, and counts them in documentIndex", () => {
    const result = load({
      "multi.yaml": "---\n# just a comment\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n~\n---\n  # indented comment, then the object\n  apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n---\n",
    });
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects.map((o) => [o.object.metadata.name, o.source.line, o.source.column, o.source.documentIndex])).toEqual([
      ["a", 5, 1, 2],
      ["b", 12, 3, 4],
    ]);
  });

  it("counts lines the same with CRLF line endings", () => {
    const result = load({ "crlf.yaml": "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: a\r\n---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: b\r\n" });
    expect(result.objects.map((o) => o.source.line)).toEqual([1, 6]);
    expect(locate(result.objects[1].source, "metadata.name")).toEqual({ line: 9, column: 3 });
  });

  it("locates any field path, falling back to the nearest existing ancestor", () => {
    const result = load({ "pad.yaml": "# a comment first\n---\n" + DEPLOYMENT });
    const { source } = result.objects[0];
    expect(source).toMatchObject({ line: 3, column: 1 });
    expect(locate(source, "spec.replicas")).toEqual({ line: 8, column: 3 });
    expect(locate(source, "spec.template.spec.containers[0].image")).toEqual({ line: 13, column: 9 });
    expect(locate(source, "spec.template.spec.containers[0]")).toEqual({ line: 12, column: 9 });
    expect(locate(source, "spec.template.spec.containers[0].ports[0].containerPort")).toEqual({ line: 15, column: 11 });
    // A JSON pointer, as in the RFC 6902 operations of the diff.
    expect(locate(source, "/spec/template/spec/containers/0/image")).toEqual({ line: 13, column: 9 });
    // Missing fields: the nearest ancestor that exists.
    expect(locate(source, "spec.selector.matchLabels")).toEqual({ line: 7, column: 1 });
    expect(locate(source, "spec.template.spec.containers[3].image")).toEqual({ line: 11, column: 7 });
    expect(locate(source, "")).toEqual({ line: 3, column: 1 });
    // A source copied away from its object still points at the object's start.
    expect(locate({ ...source }, "spec.replicas")).toEqual({ line: 3, column: 1 });
  });

  it("locates map keys given in brackets, with dots inside", () => {
    const result = load({
      "labels.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    app.kubernetes.io/name: web\n",
    });
    expect(locate(result.objects[0].source, "metadata.labels[app.kubernetes.io/name]")).toEqual({ line: 6, column: 5 });
  });

  it("reads JSON files as JSON, with positions", () => {
    const result = load({
      "cm.json": '{\n  "apiVersion": "v1",\n  "kind": "ConfigMap",\n  "metadata": {\n    "name": "from-json"\n  },\n  "data": {"mode": "0755", "on": "yes"}\n}\n',
    });
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects[0].object).toEqual({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "from-json", namespace: "default" }, data: { mode: "0755", on: "yes" } });
    expect(locate(result.objects[0].source, "metadata.name")).toEqual({ line: 5, column: 5 });
    expect(errorsOf(load({ "bad.json": '{\n  "apiVersion": "v1",\n  "kind": ConfigMap\n}\n' }))).toEqual(['bad.json:3:11 invalid JSON: Unresolved plain scalar "ConfigMap"']);
  });
});

describe("List kinds", () => {
  it("unpacks kind: List, each item keeping its own position, nested lists flattened", () => {
    const result = load({
      "list.yaml": `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: one}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: Service
    metadata:
      name: two
`,
    });
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects.map((o) => [o.object.kind, o.object.metadata.name, o.source])).toEqual([
      ["ConfigMap", "one", { file: "list.yaml", line: 4, column: 3, documentIndex: 0, item: "items[0]" }],
      ["Service", "two", { file: "list.yaml", line: 10, column: 5, documentIndex: 0, item: "items[1].items[0]" }],
    ]);
    expect(locate(result.objects[1].source, "metadata.name")).toEqual({ line: 13, column: 7 });
  });

  it("gives items of a <Kind>List without apiVersion and kind the list's, as apimachinery does", () => {
    const result = load({
      "deployments.yaml": `apiVersion: apps/v1
kind: DeploymentList
items:
- metadata: {name: a}
  spec: {replicas: 1}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: b}
`,
    });
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects.map((o) => [o.object.apiVersion, o.object.kind, o.object.metadata.name])).toEqual([
      ["apps/v1", "Deployment", "a"],
      ["v1", "ConfigMap", "b"],
    ]);
  });

  it("refuses items that are not objects, and items that are not a list", () => {
    const result = load({
      "bad-list.yaml": "apiVersion: v1\nkind: List\nitems:\n- 3\n- {apiVersion: v1, kind: ConfigMap}\n---\napiVersion: v1\nkind: List\nitems: {a: b}\n",
    });
    expect(errorsOf(result)).toEqual([
      "bad-list.yaml:4:3 items[0] must be an object (a mapping), got a number (3)",
      "bad-list.yaml:5:3 metadata.name not set: every object needs a name (metadata: {name: ...})",
      "bad-list.yaml:9:1 items of a List must be a list of objects, got a mapping",
    ]);
  });

  it("reads an empty List as no objects", () => {
    expect(load({ "empty.yaml": "apiVersion: v1\nkind: List\nitems: []\n" })).toEqual({ objects: [], errors: [], warnings: [] });
  });
});

describe("YAML 1.1 as kubectl reads it (go-yaml v2)", () => {
  it("reads unquoted on/off/yes/no/y/n/true in any accepted case as booleans, quoted ones as strings", () => {
    expect(configMapData("  a: on\n  b: Off\n  c: yes\n  d: NO\n  e: y\n  f: n\n  g: True\n  h: 'on'\n  i: \"yes\"\n  j: oN\n")).toEqual({
      a: true,
      b: false,
      c: true,
      d: false,
      e: true,
      f: false,
      g: true,
      h: "on",
      i: "yes",
      j: "oN",
    });
  });

  it("reads a bare `on:` key as the key \"true\", as sigs.k8s.io/yaml does", () => {
    expect(configMapData("  on: push\n  no: 1\n")).toEqual({ true: "push", false: 1 });
  });

  it("reads 0755 as octal 493, 0o17 as 15, 1_000 as 1000, 0x1F and 0X1f as 31, 0b101 as 5", () => {
    expect(configMapData("  a: 0755\n  b: 0o17\n  c: 1_000\n  d: 0x1F\n  e: 0X1f\n  f: 0b101\n  g: '0755'\n  h: -0x10\n  i: 09\n")).toEqual({
      a: 493,
      b: 15,
      c: 1000,
      d: 31,
      e: 31,
      f: 5,
      g: "0755",
      h: -16,
      i: 9,
    });
  });

  it("keeps 22:22 and dates as strings (go-yaml has no base-60 numbers and keeps untyped timestamps as strings)", () => {
    expect(configMapData("  a: 22:22\n  b: 1:30:00\n  c: 2001-12-14\n  d: 2001-12-14T21:59:43.10Z\n")).toEqual({
      a: "22:22",
      b: "1:30:00",
      c: "2001-12-14",
      d: "2001-12-14T21:59:43.10Z",
    });
  });

  it("reads null, floats and exponents like go-yaml", () => {
    expect(configMapData("  a: ~\n  b: null\n  c:\n  d: 0.5\n  e: 1e3\n  f: .5\n")).toEqual({ a: null, b: null, c: null, d: 0.5, e: 1000, f: 0.5 });
  });

  it("expands << merge keys and gives each alias its own copy", () => {
    const result = load({
      "merge.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\n  labels: &common {app: web, tier: front}\n  annotations:\n    <<: *common\n    extra: 'x'\n",
    });
    expect(errorsOf(result)).toEqual([]);
    const meta = result.objects[0].object.metadata;
    expect(meta.annotations).toEqual({ app: "web", tier: "front", extra: "x" });
    meta.labels!.app = "changed";
    expect(meta.annotations!.app).toBe("web");
  });

  it("refuses values JSON cannot carry: .inf, .nan and !!binary", () => {
    expect(errorsOf(load({ "inf.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: .inf\n" }))).toEqual([
      "inf.yaml:5:3 data.a: Infinity (.inf or .nan) cannot be written as JSON, so the API cannot accept it",
    ]);
    expect(errorsOf(load({ "bin.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: x}\ndata:\n  a: !!binary aGVsbG8=\n" }))).toEqual([
      "bin.yaml:5:3 data.a: binary data (!!binary) cannot be written as JSON, so the API cannot accept it",
    ]);
  });

  it("refuses a key set twice in one mapping, naming the first line", () => {
    expect(errorsOf(loadManifests([corpusFile("_archived/volumes/scaleio/sc-pvc.yaml")]))).toEqual([
      '_archived/volumes/scaleio/sc-pvc.yaml:12:3 mapping key "storageClassName" already defined at line 6: a key can appear once per mapping, keep one of them',
    ]);
    // `on` and `true` are the same JSON key.
    expect(errorsOf(load({ "on.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  on: a\n  true: b\n" }))).toEqual([
      'on.yaml:6:3 mapping key "true" already defined at line 5: a key can appear once per mapping, keep one of them',
    ]);
  });
});

describe("limits", () => {
  it("refuses a file larger than maxFileBytes, naming the limit", () => {
    expect(errorsOf(load({ "big.yaml": "a: b\n".repeat(40) }, { maxFileBytes: 100 }))).toEqual([
      "big.yaml:1:1 the file is 0.0 MiB, more than the limit of 0.0 MiB (maxFileBytes 100) per file: split it into several files",
    ]);
    const huge = "#".repeat(DEFAULT_LOAD_LIMITS.maxFileBytes + 1);
    expect(errorsOf(load({ "huge.yaml": huge }))).toEqual([
      `huge.yaml:1:1 the file is 5.0 MiB, more than the limit of 5 MiB (maxFileBytes ${5 * 1024 * 1024}) per file: split it into several files`,
    ]);
  });

  it("refuses more than maxDocuments documents in one file, at the first one too many", () => {
    const doc = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${i}}\n---\n`;
    const result = load({ "many.yaml": [0, 1, 2, 3, 4].map(doc).join("") }, { maxDocuments: 3 });
    expect(result.objects.map((o) => o.object.metadata.name)).toEqual(["c0", "c1", "c2"]);
    expect(errorsOf(result)).toEqual([
      "many.yaml:13:1 more than 3 YAML documents in one file (the limit, maxDocuments, is 3): split it into several files; the rest of the file was not read",
    ]);
    expect(DEFAULT_LOAD_LIMITS.maxDocuments).toBe(1000);
  });

  it("refuses an alias bomb (billion laughs) with the maxAliasCount limit", () => {
    const bomb = [
      "apiVersion: v1",
      "kind: ConfigMap",
      "metadata: {name: lol}",
      "data:",
      "  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
      "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
      "  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
      "  g: [*f, *f, *f, *f, *f, *f, *f, *f, *f]",
      "",
    ].join("\n");
    expect(errorsOf(load({ "lol.yaml": bomb }))).toEqual([
      'lol.yaml:6:10 aliases expand to too much data (the limit, maxAliasCount, is 100): this protects against "billion laughs" alias bombs; write the values out instead',
    ]);
  });

  it("refuses nesting deeper than maxDepth, flow or block, before the composer can exhaust stack or memory", () => {
    const flow = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: ${"[".repeat(101)}${"]".repeat(101)}\n`;
    expect(errorsOf(load({ "flow.yaml": flow }))).toEqual([
      "flow.yaml:4:106 mappings and lists nested more than 100 levels deep (the limit, maxDepth, is 100): no Kubernetes object needs this; the rest of the file was not read",
    ]);
    const block = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x:\n    ${"- ".repeat(20)}leaf\n`;
    expect(errorsOf(load({ "block.yaml": block }, { maxDepth: 10 }))[0]).toMatch(/^block\.yaml:6:\d+ mappings and lists nested more than 10 levels deep \(the limit, maxDepth, is 10\)/);
    // 200,000 nested block sequences (400 KB) crash Node out of memory in the yaml composer when unchecked.
    const hostile = `a:\n  ${"- ".repeat(200_000)}x\n`;
    expect(errorsOf(load({ "hostile.yaml": hostile }))).toEqual([
      "hostile.yaml:2:201 mappings and lists nested more than 100 levels deep (the limit, maxDepth, is 100): no Kubernetes object needs this; the rest of the file was not read",
    ]);
  });
});

describe("duplicates", () => {
  it("names both places when two files define the same object", () => {
    const copy = "# a copy of apps/web.yaml\n" + "#\n".repeat(12) + DEPLOYMENT;
    const result = load({ "apps/web.yaml": DEPLOYMENT, "web-copy.yaml": copy });
    expect(errorsOf(result)).toEqual(["web-copy.yaml:14:1 apps/web.yaml:1:1 and web-copy.yaml:14:1 both define Deployment default/web: keep one of them"]);
    expect(result.objects).toHaveLength(1);
  });

  it("finds duplicates within one file and across API versions of one group, after namespace defaulting", () => {
    const hpa = (v: string, ns: string) => `apiVersion: autoscaling/${v}\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n${ns}`;
    const result = load({ "hpa.yaml": `${hpa("v2", "")}---\n${hpa("v1", "  namespace: default\n")}` });
    expect(errorsOf(result)).toEqual(["hpa.yaml:6:1 hpa.yaml:1:1 and hpa.yaml:6:1 both define HorizontalPodAutoscaler default/web: keep one of them"]);
  });

  it("does not confuse objects in other namespaces, other groups or other kinds", () => {
    const result = load({
      "a.yaml": "apiVersion: v1\nkind: Event\nmetadata: {name: e}\n---\napiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: e}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: e}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: e, namespace: other}\n",
    });
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects).toHaveLength(4);
  });

  it("names cluster-scoped duplicates without a namespace", () => {
    const ns = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n";
    expect(errorsOf(load({ "a.yaml": ns, "b.yaml": ns }))).toEqual(["b.yaml:1:1 a.yaml:1:1 and b.yaml:1:1 both define Namespace shop: keep one of them"]);
  });
});

describe("namespaces", () => {
  it("puts namespaced objects without a namespace in default (or the namespace asked for)", () => {
    const files = { "web.yaml": DEPLOYMENT, "ns.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\n" };
    expect(load(files).objects.map((o) => o.object.metadata.namespace)).toEqual(["default", "shop"]);
    expect(load(files, { defaultNamespace: "learner" }).objects.map((o) => o.object.metadata.namespace)).toEqual(["learner", "shop"]);
    // A removed API version of a known kind is still namespaced (apps/v1beta1 Deployment).
    expect(load({ "old.yaml": DEPLOYMENT.replace("apps/v1", "apps/v1beta1") }).objects[0].object.metadata.namespace).toBe("default");
  });

  it("gives cluster-scoped objects no namespace, and drops one written on them with a warning, as the API server does", () => {
    const result = load({
      "cluster.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: reader\n  namespace: shop\n",
    });
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects.map((o) => o.object.metadata)).toEqual([{ name: "shop" }, { name: "reader" }]);
    expect(result.warnings.map(formatLoadError)).toEqual([
      'cluster.yaml:9:3 metadata.namespace "shop" is ignored: ClusterRole is cluster-scoped (the API server clears it too)',
    ]);
  });

  it("keeps unknown kinds as written, for the API's dry-run to judge", () => {
    const result = load({ "crd.yaml": "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n" });
    expect(errorsOf(result)).toEqual([]);
    expect(result.objects[0].object).toEqual({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" }, spec: { size: 3 } });
  });
});

describe("errors", () => {
  it("reports missing apiVersion and kind, documents that are not mappings, and names", () => {
    const result = load({
      "bad.yaml": [
        "just a string",
        "---\n- a\n- b",
        "---\napiVersion: v1\nmetadata: {name: x}",
        "---\nkind: Pod\nmetadata: {name: x}",
        "---\nreplicas: 3",
        "---\napiVersion: v1\nkind: Pod",
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  generateName: web-",
        "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: 0755",
        "---\napiVersion: 1\nkind: Pod\nmetadata: {name: x}",
        "",
      ].join("\n"),
    });
    expect(errorsOf(result)).toEqual([
      'bad.yaml:1:1 the document is a string ("just a string"): a Kubernetes object is a mapping with apiVersion, kind and metadata',
      "bad.yaml:3:1 the document is a list: put several objects in separate documents (separated by ---), or in a `kind: List` with `items`",
      "bad.yaml:6:1 kind not set: every object needs apiVersion and kind (for example apiVersion: apps/v1 and kind: Deployment)",
      "bad.yaml:9:1 apiVersion not set: every object needs apiVersion and kind (for example apiVersion: apps/v1 and kind: Deployment)",
      "bad.yaml:12:1 apiVersion and kind not set: every object needs apiVersion and kind (for example apiVersion: apps/v1 and kind: Deployment); if this file is not a Kubernetes manifest, list it in .kubelingsignore",
      "bad.yaml:14:1 metadata.name not set: every object needs a name (metadata: {name: ...})",
      "bad.yaml:20:3 metadata.generateName cannot be used in a GitOps repository (kubectl apply refuses it too): set metadata.name",
      "bad.yaml:25:3 metadata.name must be a string, got a number (493): quote it",
      "bad.yaml:27:1 apiVersion must be a string, got a number (1)",
    ]);
    expect(result.objects).toEqual([]);
  });

  it("reports YAML syntax errors at the library's position, one per document", () => {
    expect(errorsOf(load({ "indent.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s\n data: x\n" }))).toEqual([
      "indent.yaml:5:1 invalid YAML: All mapping items must start at the same column",
    ]);
    expect(errorsOf(load({ "tabs.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: s\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n" }))).toEqual([
      "tabs.yaml:4:1 invalid YAML: Tabs are not allowed as indentation (indent YAML with spaces, never tabs)",
    ]);
    expect(errorsOf(load({ "quote.yaml": 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "s\n' }))).toEqual(['quote.yaml:5:1 invalid YAML: Missing closing "quote']);
  });

  it("gives a clean error for Go templates from the corpus", () => {
    const result = loadManifests([corpusFile("_archived/storage/vitess/etcd-service-template.yaml")]);
    expect(result.objects).toEqual([]);
    expect(errorsOf(result)).toEqual([
      '_archived/storage/vitess/etcd-service-template.yaml:7:11 "{{cell}}" is not plain YAML: it reads as a mapping whose key is a mapping (1 more such key in this document); this looks like a template ({{ ... }} placeholders): kubelings applies plain manifests, so render the template first (for example with `helm template`) and commit the result, or list the file in .kubelingsignore',
    ]);
    const helm = load({ "chart.yaml": "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n{{- end }}\n" });
    expect(helm.errors).toHaveLength(1);
    expect(formatLoadError(helm.errors[0])).toMatch(/^chart\.yaml:1:\d+ invalid YAML: .*this looks like a template/);
  });

  it("reads bytes as UTF-8 and refuses a binary file", () => {
    const bytes = new TextEncoder().encode("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: é}\n");
    expect(loadManifests([{ path: "utf8.yaml", content: bytes }]).objects[0].object.metadata.name).toBe("é");
    expect(errorsOf(loadManifests([{ path: "bin.yaml", content: new Uint8Array([0xff, 0xfe, 0x00, 0x80]) }]))).toEqual([
      "bin.yaml:1:1 the file is not UTF-8 text: manifests must be UTF-8 YAML or JSON (is it a binary file? list it in .kubelingsignore)",
    ]);
  });

  it("sums up a flood of errors in one file after the first hundred", () => {
    const result = load({ "flood.yaml": "---\nfoo: bar\n".repeat(150) });
    expect(result.errors).toHaveLength(101);
    expect(formatLoadError(result.errors[100])).toBe("flood.yaml:202:1 and 50 more errors in this file");
  });

  it("formats errors as file:line:col message", () => {
    expect(formatLoadError({ file: "apps/web.yaml", line: 12, column: 7, message: 'spec.replicas: expected integer, got "three"' })).toBe(
      'apps/web.yaml:12:7 spec.replicas: expected integer, got "three"',
    );
  });
});

describe("from a git commit", () => {
  it("loads what readHead returns, every error listed with file, line and column", async () => {
    const repo = TestRepo.init();
    try {
      repo.commitFiles("apps", {
        "apps/web.yaml": DEPLOYMENT,
        "apps/web-svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n",
        "namespaces.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n",
        "broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n data: {}\n",
        "copy/web.yaml": "# copied\n" + DEPLOYMENT,
      });
      const head = await readHead(repo.dir);
      const result = loadManifests(head.files);
      expect(result.objects.map((o) => `${o.source.file}:${o.source.line}:${o.source.column} ${o.object.kind}`)).toEqual([
        "apps/web-svc.yaml:1:1 Service",
        "apps/web.yaml:1:1 Deployment",
        "namespaces.yaml:1:1 Namespace",
      ]);
      expect(errorsOf(result)).toEqual([
        "broken.yaml:5:1 invalid YAML: All mapping items must start at the same column",
        "copy/web.yaml:2:1 apps/web.yaml:1:1 and copy/web.yaml:2:1 both define Deployment default/web: keep one of them",
      ]);
    } finally {
      repo.remove();
    }
  });
});

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/api/clock.js";
import {
  NodeImageStore,
  alreadyPresentMessage,
  backOffPullMessage,
  imageWithDefaultTag,
  parseImage,
  pullDurationMs,
  pullOutcome,
  pulledMessage,
  tagExists,
  imageProfile,
} from "../../src/cluster/runtime/images.js";
import { CORPUS_DIR } from "../_corpus.js";

const CORPUS = CORPUS_DIR;

function corpusImages(): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ya?ml|json)$/.test(name)) {
        for (const m of readFileSync(p, "utf8").matchAll(/^\s*-?\s*"?image"?\s*:\s*"?([^"\s,]+)"?/gm)) if (!m[1].includes("{{")) found.add(m[1]);
      }
    }
  };
  walk(CORPUS);
  return [...found].sort();
}

describe("image references (distribution/reference, as the kubelet parses them)", () => {
  it.each([
    ["nginx", "docker.io/library/nginx:latest", "nginx"],
    ["nginx:1.27", "docker.io/library/nginx:1.27", "nginx"],
    ["library/redis:7.2", "docker.io/library/redis:7.2", "redis"],
    ["docker.io/library/busybox", "docker.io/library/busybox:latest", "busybox"],
    ["index.docker.io/library/alpine:3.20", "docker.io/library/alpine:3.20", "alpine"],
    ["kubernetes/pause", "docker.io/kubernetes/pause:latest", "docker.io/kubernetes/pause"],
    ["registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10", "registry.k8s.io/pause"],
    ["localhost:5000/team/app:v1", "localhost:5000/team/app:v1", "localhost:5000/team/app"],
    ["gcr.io/google-samples/gb-frontend:v5", "gcr.io/google-samples/gb-frontend:v5", "gcr.io/google-samples/gb-frontend"],
  ])("%s is %s", (image, fullName, key) => {
    const p = parseImage(image);
    expect(p.ok).toBe(true);
    if (p.ok) {
      expect(p.ref.fullName).toBe(fullName);
      expect(p.ref.key).toBe(key);
    }
  });

  it("keeps a digest and adds no tag to it", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    const p = parseImage(`nginx@${digest}`);
    expect(p.ok && p.ref.fullName).toBe(`docker.io/library/nginx@${digest}`);
    expect(imageWithDefaultTag(`nginx@${digest}`)).toBe(`nginx@${digest}`);
    expect(imageWithDefaultTag("nginx")).toBe("nginx:latest");
    expect(imageWithDefaultTag("nginx:1.27")).toBe("nginx:1.27");
  });

  it.each([
    ["Nginx:latest", 'invalid reference format: repository name (library/Nginx) must be lowercase'],
    ["<YOUR-CONTAINER>", "invalid reference format: repository name (library/<YOUR-CONTAINER>) must be lowercase"],
    ["nginx:", "invalid reference format"],
    ["ngi nx", "invalid reference format"],
    ["nginx@sha256:abc", "invalid reference format"],
    ["a".repeat(64), `invalid repository name (${"a".repeat(64)}), cannot specify 64-byte hexadecimal strings`],
  ])("%s is an InvalidImageName with the kubelet's message", (image, err) => {
    const p = parseImage(image);
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.message).toBe(`Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${err}`);
  });
});

describe("pull outcomes", () => {
  it.each(["nginx", "nginx:1.27.3", "busybox:1.36", "redis:7.2", "postgres:16-alpine", "mysql:8.0", "mongo", "httpd:2.4", "alpine:3.20", "ubuntu:22.04", "debian:bookworm-slim", "registry.k8s.io/e2e-test-images/agnhost:2.53", "quay.io/prometheus/prometheus:v2.54.1", "k8s.gcr.io/echoserver:1.4", "ghcr.io/acme/app:1.0", "docker.io/library/nginx:1.25"])(
    "%s pulls",
    (image) => {
      const o = pullOutcome(image);
      expect(o.ok).toBe(true);
    },
  );

  it("every image of the kubernetes/examples corpus pulls, except the placeholders", () => {
    const images = corpusImages();
    expect(images.length).toBeGreaterThan(40);
    const failed = images.filter((i) => !pullOutcome(i).ok);
    expect(failed).toEqual(["<YOUR-CONTAINER>", "<image_url>"]);
    for (const i of failed) expect(pullOutcome(i)).toMatchObject({ ok: false, reason: "InvalidImageName" });
  });

  it.each([
    ["ngnix", "nginx"],
    ["nignx", "nginx"],
    ["busyboxx", "busybox"],
    ["redsi", "redis"],
    ["postgress", "postgres"],
    ["ngnix:1.25", "nginx"],
    ["docker.io/library/ngnix", "nginx"],
  ])("%s (a typo of %s) fails with pull access denied", (image, meant) => {
    const o = pullOutcome(image);
    expect(o.ok).toBe(false);
    if (o.ok) return;
    const full = parseImage(image).ok ? (parseImage(image) as { ref: { fullName: string } }).ref.fullName : "";
    expect(o.reason).toBe("ErrImagePull");
    expect(o.didYouMean).toBe(meant);
    expect(o.message).toBe(
      `failed to pull and unpack image "${full}": failed to resolve reference "${full}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
    );
  });

  it("does not take real official images or user repositories for typos", () => {
    for (const image of ["mono", "rust", "node", "nats", "foo", "bitnami/ngnix", "myorg/redsi"]) expect(pullOutcome(image).ok).toBe(true);
  });

  it("a tag beyond the newest release is not found (gRPC NotFound is kept in the message)", () => {
    const o = pullOutcome("nginx:1.999");
    expect(o).toMatchObject({
      ok: false,
      reason: "ErrImagePull",
      message:
        'rpc error: code = NotFound desc = failed to pull and unpack image "docker.io/library/nginx:1.999": failed to resolve reference "docker.io/library/nginx:1.999": docker.io/library/nginx:1.999: not found',
    });
    expect(pullOutcome("nginx:2").ok).toBe(false);
    expect(pullOutcome("nginx:1.27-alpinee").ok).toBe(false);
    expect(pullOutcome("elasticsearch").ok).toBe(false); // no latest tag on Docker Hub
    expect(pullOutcome("elasticsearch:8.17.0").ok).toBe(true);
  });

  it("knows the tags that exist", () => {
    const nginx = imageProfile("nginx")!;
    for (const t of ["latest", "stable", "alpine", "1.27", "1.27.3", "1.27-alpine", "1.25.4-alpine-slim", "1.7.9", "mainline-bookworm"]) expect(tagExists(nginx, t)).toBe(true);
    for (const t of ["1.30", "3", "1.27-alpne"]) expect(tagExists(nginx, t)).toBe(false);
  });

  it("pull time follows the image size", () => {
    expect(pullDurationMs(0)).toBe(500);
    expect(pullDurationMs(25_000_000)).toBe(1500);
    const nginx = pullOutcome("nginx:1.27");
    expect(nginx.ok && nginx.pullMs).toBe(pullDurationMs(72_099_409));
    expect(pullOutcome("some/unknown:1").pullMs).toBe(pullOutcome("some/unknown:1").pullMs);
  });
});

describe("kubelet image messages", () => {
  it("match the image manager's wording", () => {
    expect(pulledMessage("nginx", 1234, 3456, 72099409)).toBe('Successfully pulled image "nginx" in 1.234s (3.456s including waiting). Image size: 72099409 bytes.');
    expect(alreadyPresentMessage("nginx:1.25")).toBe('Container image "nginx:1.25" already present on machine');
    expect(backOffPullMessage("ngnix")).toBe('Back-off pulling image "ngnix"');
  });
});

describe("a node's image store", () => {
  it("serializes pulls: the second waits for the first and reports the wait", async () => {
    const clock = new VirtualClock();
    const store = new NodeImageStore({ clock });
    const results: { image: string; at: number; pullMs: number; totalMs: number }[] = [];
    const t0 = clock.now();
    for (const image of ["nginx:1.27", "redis:7.2"]) void store.pull(image).then((r) => r.ok && results.push({ image, at: clock.now() - t0, pullMs: r.pullMs, totalMs: r.totalMs }));
    await clock.advance(60_000);
    const nginx = pullDurationMs(72_099_409);
    const redis = pullDurationMs(45_094_217);
    expect(results).toEqual([
      { image: "nginx:1.27", at: nginx, pullMs: nginx, totalMs: nginx },
      { image: "redis:7.2", at: nginx + redis, pullMs: redis, totalMs: nginx + redis },
    ]);
    expect(store.imageRef("redis:7.2")).toMatch(/^docker\.io\/library\/redis@sha256:[0-9a-f]{64}$/);
    expect(store.imageRef("docker.io/library/nginx:1.27")).toBe(store.imageRef("nginx:1.27"));
  });

  it("re-pulling a present image only checks the manifest", async () => {
    const clock = new VirtualClock();
    const store = new NodeImageStore({ clock, preloaded: ["nginx:latest"] });
    const p = store.pull("nginx");
    await clock.advance(1000);
    expect(await p).toMatchObject({ ok: true, pullMs: 300, totalMs: 300 });
  });
});

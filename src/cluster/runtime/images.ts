/**
 * Container images: reference parsing, the image catalog, pull outcomes, and a node's image
 * store with the kubelet's serialized pulls.
 *
 * - Parsing follows `github.com/distribution/reference` (`ParseNormalizedNamed`): the
 *   reference grammar, Docker Hub normalisation (`nginx` -> `docker.io/library/nginx`) and its
 *   error texts, wrapped the way the kubelet wraps them (`pkg/util/parsers.ParseImageName`,
 *   `images/image_manager.go applyDefaultImageTag`).
 * - The catalog lists well-known images with their compressed size, the tags that exist and
 *   what the image runs by default (its ENTRYPOINT/CMD and how that program behaves). The
 *   workload contract (`workload.ts`) reads the runtime half.
 * - `pullOutcome` decides what a registry would answer: corpus and well-known images pull; a
 *   one- or two-letter typo of a Docker Hub official image is "pull access denied"; a version
 *   tag beyond the newest release is "not found"; an unparsable reference is InvalidImageName.
 *   Failure texts are containerd's, as the kubelet (1.28+) shows them: the gRPC `Unknown` code
 *   prefix is stripped (`cri-client remote_image.go pullImageV1`), `NotFound` keeps it.
 * - `NodeImageStore` is what is present on one node, and the puller: pulls are serialized per
 *   node (`serializeImagePulls: true` is the kubelet default), so a pull waits for the previous
 *   one and the Pulled event reports both times ("in 1.2s (3.4s including waiting)").
 */
import type { Clock } from "../../api/clock.js";
import { formatGoDuration } from "./backoff.js";
import { _pick, _sha256Hex } from "./_hash.js";

// ---------------------------------------------------------------------------------------------
// Reference grammar (distribution/reference regexp.go)

const ALNUM = "[a-z0-9]+";
const SEPARATOR = "(?:[._]|__|[-]+)";
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_NAME = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*`;
const IPV6 = "\\[(?:[a-fA-F0-9:]+)\\]";
const DOMAIN_AND_PORT = `(?:${DOMAIN_NAME}|${IPV6})(?::[0-9]+)?`;
const REMOTE_NAME = `${PATH_COMPONENT}(?:/${PATH_COMPONENT})*`;
const NAME = `(?:${DOMAIN_AND_PORT}/)?${REMOTE_NAME}`;
const TAG = "[\\w][\\w.-]{0,127}";
const DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const REFERENCE_RE = new RegExp(`^(${NAME})(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const ANCHORED_NAME_RE = new RegExp(`^(?:(${DOMAIN_AND_PORT})/)?(${REMOTE_NAME})$`);
const ANCHORED_IDENTIFIER_RE = /^[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;
const DEFAULT_DOMAIN = "docker.io";
const LEGACY_DEFAULT_DOMAIN = "index.docker.io";
const OFFICIAL_REPO_PREFIX = "library/";

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** The image as written in the pod spec. */
  readonly original: string;
  /** Registry domain (`docker.io`, `registry.k8s.io`, `localhost:5000`). */
  readonly domain: string;
  /** Repository path in the registry (`library/nginx`, `pause`). */
  readonly path: string;
  /** Tag; `latest` when the reference has neither tag nor digest (`applyDefaultImageTag`). */
  readonly tag?: string;
  /** Digest (`sha256:...`) when given. */
  readonly digest?: string;
  /** `domain/path`, as containerd names the repository (`docker.io/library/nginx`). */
  readonly repository: string;
  /** Fully qualified reference as containerd reports it in `status.containerStatuses[].image` (`docker.io/library/nginx:latest`). */
  readonly fullName: string;
  /** The catalog key: the official name on Docker Hub (`nginx`), else the repository (`registry.k8s.io/pause`). */
  readonly key: string;
  /** True for a Docker Hub official image (`docker.io/library/*`). */
  readonly official: boolean;
}

/** Result of parsing a reference: the reference, or the kubelet's InvalidImageName message. */
export type ParsedImage = { readonly ok: true; readonly ref: ImageReference } | { readonly ok: false; readonly message: string };

function splitDockerDomain(name: string): [string, string] {
  const i = name.indexOf("/");
  let domain: string;
  let remainder: string;
  const first = i >= 0 ? name.slice(0, i) : "";
  if (i === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(i + 1);
  }
  if (domain === LEGACY_DEFAULT_DOMAIN) domain = DEFAULT_DOMAIN;
  if (domain === DEFAULT_DOMAIN && !remainder.includes("/")) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return [domain, remainder];
}

/** `reference.Parse`: the error text of distribution/reference, or the parts. */
function parseReference(s: string): { name: string; tag?: string; digest?: string } | string {
  const m = REFERENCE_RE.exec(s);
  if (!m) {
    if (s === "") return "repository name must have at least one component";
    if (REFERENCE_RE.test(s.toLowerCase())) return "repository name must be lowercase";
    return "invalid reference format";
  }
  if (m[1].length > NAME_TOTAL_LENGTH_MAX) return `repository name must not be more than ${NAME_TOTAL_LENGTH_MAX} characters`;
  const digest = m[3];
  if (digest !== undefined) {
    // go-digest: only registered algorithms, with their exact encoded length.
    const [alg, hex] = digest.split(":");
    const lengths: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
    if (!(alg in lengths)) return "unsupported digest algorithm";
    if (!/^[a-f0-9]+$/.test(hex)) return "invalid checksum digest format";
    if (hex.length !== lengths[alg]) return "invalid checksum digest length";
  }
  return { name: m[1], tag: m[2], digest };
}

/**
 * `reference.ParseNormalizedNamed` followed by the kubelet's wrapping: on failure, the exact
 * message the kubelet reports with reason InvalidImageName, e.g.
 * `Failed to apply default image tag "Nginx:latest": couldn't parse image name "Nginx:latest": invalid reference format: repository name (library/Nginx) must be lowercase`.
 */
export function parseImage(image: string): ParsedImage {
  const fail = (err: string): ParsedImage => ({
    ok: false,
    message: `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${err}`,
  });
  if (ANCHORED_IDENTIFIER_RE.test(image)) return fail(`invalid repository name (${image}), cannot specify 64-byte hexadecimal strings`);
  const [domain, remainder] = splitDockerDomain(image);
  const tagSep = remainder.indexOf(":");
  const remote = tagSep > -1 ? remainder.slice(0, tagSep) : remainder;
  if (remote.toLowerCase() !== remote) return fail(`invalid reference format: repository name (${remote}) must be lowercase`);
  const parsed = parseReference(`${domain}/${remainder}`);
  if (typeof parsed === "string") return fail(parsed);
  const nm = ANCHORED_NAME_RE.exec(parsed.name);
  const refDomain = nm?.[1] ?? domain;
  const path = nm?.[2] ?? parsed.name;
  const tag = parsed.tag ?? (parsed.digest ? undefined : "latest");
  const repository = `${refDomain}/${path}`;
  const official = refDomain === DEFAULT_DOMAIN && path.startsWith(OFFICIAL_REPO_PREFIX) && path.split("/").length === 2;
  const fullName = `${repository}${tag ? `:${tag}` : ""}${parsed.digest ? `@${parsed.digest}` : ""}`;
  return {
    ok: true,
    ref: {
      original: image,
      domain: refDomain,
      path,
      tag,
      digest: parsed.digest,
      repository,
      fullName,
      key: official ? path.slice(OFFICIAL_REPO_PREFIX.length) : repository,
      official,
    },
  };
}

/** The image with `:latest` appended when it has neither tag nor digest, as the kubelet pulls it (`applyDefaultImageTag`). */
export function imageWithDefaultTag(image: string): string {
  const parsed = parseImage(image);
  if (!parsed.ok) return image;
  const { tag, digest } = parsed.ref;
  if (!digest && tag && !image.endsWith(`:${tag}`)) return `${image}:${tag}`;
  return image;
}

// ---------------------------------------------------------------------------------------------
// Catalog

/** Log style of an image's default program (see `logs.ts`). */
export type LogProfile = "nginx" | "httpd" | "redis" | "postgres" | "mysql" | "mariadb" | "mongo" | "hello" | "pause" | "generic" | "silent";

/** How an image's default program behaves once started. */
export interface ImageRuntime {
  /**
   * - `server`: listens on `ports` and runs until stopped;
   * - `shell`: an interactive shell (`sh`, `bash`): exits 0 at once without a terminal on stdin;
   * - `repl`: a language REPL (`python3`, `node`, `perl`): same as a shell;
   * - `pause`: sleeps until stopped, prints nothing;
   * - `hello`: prints its greeting and exits 0.
   */
  readonly kind: "server" | "shell" | "repl" | "pause" | "hello";
  /** Ports the server listens on. */
  readonly ports?: readonly number[];
  /** HTTP paths that answer 200; any other path answers 404. Undefined: every path answers 200. */
  readonly httpPaths?: readonly string[];
  /** Resident memory once started, in bytes. */
  readonly memoryBytes: number;
  /** What SIGTERM (or the image's STOPSIGNAL) does: exit with `code` after `afterMs`, or nothing (killed at the end of the grace period). */
  readonly sigterm: { readonly code: number; readonly afterMs: number } | "ignore";
  /** Log style. */
  readonly logs: LogProfile;
  /** Environment the entrypoint insists on: when `satisfied(env)` is false the container prints `message` on stderr and exits 1. */
  readonly requiredEnv?: { readonly satisfied: (env: Record<string, string>) => boolean; readonly message: readonly string[] };
  /** Program names (argv[0] basenames) that run this server whatever the image. */
  readonly binaries?: readonly string[];
}

/** A well-known image. */
export interface ImageProfile {
  /** Catalog key: official name on Docker Hub (`nginx`) or full repository (`registry.k8s.io/pause`). */
  readonly name: string;
  /** Other repositories with the same content (`k8s.gcr.io/pause`). */
  readonly aliases?: readonly string[];
  /** Compressed size, as the Pulled event reports it ("Image size: N bytes."). */
  readonly sizeBytes: number;
  /** Version of the `latest` tag (shown in logs). */
  readonly latestVersion: string;
  /** Lowest and highest `[major, minor]` released: version tags outside are "not found". */
  readonly versions?: readonly [readonly [number, number], readonly [number, number]];
  /** Tags that are not versions and exist (`stable`, `alpine`, `jammy`). */
  readonly namedTags?: readonly string[];
  /** True when the repository has no `latest` tag (elasticsearch). */
  readonly noLatest?: boolean;
  /** ENTRYPOINT of the image. */
  readonly entrypoint?: readonly string[];
  /** CMD of the image. */
  readonly cmd: readonly string[];
  /** Behaviour of the default program. */
  readonly runs: ImageRuntime;
}

const MiB = 1024 * 1024;

/** Variant words that may follow a version tag (`1.27-alpine`, `16-bookworm`, `3.12-slim`). */
const VARIANT_WORDS = new Set([
  "alpine", "slim", "perl", "otel", "bookworm", "bullseye", "buster", "stretch", "trixie", "jammy", "focal", "noble", "bionic",
  "xenial", "management", "glibc", "musl", "uclibc", "apache", "fpm", "cli", "jdk", "jre", "temurin", "oracle", "debian",
  "windowsservercore", "nanoserver", "ltsc", "unprivileged", "mainline", "stable", "fips", "ubi", "rc", "beta", "alpha",
]);

function shellImage(name: string, sizeBytes: number, latestVersion: string, versions: ImageProfile["versions"], cmd: string[], namedTags: string[] = []): ImageProfile {
  return { name, sizeBytes, latestVersion, versions, namedTags, cmd, runs: { kind: "shell", memoryBytes: 1 * MiB, sigterm: "ignore", logs: "silent" } };
}

function replImage(name: string, sizeBytes: number, latestVersion: string, versions: ImageProfile["versions"], cmd: string[], entrypoint?: string[]): ImageProfile {
  return { name, sizeBytes, latestVersion, versions, entrypoint, cmd, runs: { kind: "repl", memoryBytes: 20 * MiB, sigterm: "ignore", logs: "silent" } };
}

const nonEmpty = (env: Record<string, string>, name: string) => (env[name] ?? "") !== "";

/**
 * Well-known images. Sizes are the compressed linux/amd64 sizes of the `latest` tags around
 * Kubernetes 1.32 (December 2024), rounded; versions are the ranges of release tags.
 */
export const IMAGE_CATALOG: readonly ImageProfile[] = [
  {
    name: "nginx",
    sizeBytes: 72_099_409,
    latestVersion: "1.27.3",
    versions: [[0, 7], [1, 29]],
    namedTags: ["stable", "mainline", "alpine", "alpine-slim", "perl", "alpine-perl", "bookworm", "otel", "stable-alpine", "mainline-alpine", "stable-perl", "mainline-perl"],
    entrypoint: ["/docker-entrypoint.sh"],
    cmd: ["nginx", "-g", "daemon off;"],
    // nginx's image sets STOPSIGNAL SIGQUIT: a graceful shutdown that exits 0.
    runs: { kind: "server", ports: [80], httpPaths: ["/", "/index.html", "/50x.html"], memoryBytes: 8 * MiB, sigterm: { code: 0, afterMs: 100 }, logs: "nginx", binaries: ["nginx"] },
  },
  {
    name: "httpd",
    sizeBytes: 58_213_778,
    latestVersion: "2.4.62",
    versions: [[2, 2], [2, 4]],
    namedTags: ["alpine", "bookworm"],
    cmd: ["httpd-foreground"],
    // STOPSIGNAL SIGWINCH: graceful stop, exit 0.
    runs: { kind: "server", ports: [80], httpPaths: ["/", "/index.html"], memoryBytes: 10 * MiB, sigterm: { code: 0, afterMs: 100 }, logs: "httpd", binaries: ["httpd-foreground", "httpd"] },
  },
  {
    name: "redis",
    sizeBytes: 45_094_217,
    latestVersion: "7.4.1",
    versions: [[2, 6], [8, 2]],
    namedTags: ["alpine", "bookworm"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["redis-server"],
    runs: { kind: "server", ports: [6379], memoryBytes: 8 * MiB, sigterm: { code: 0, afterMs: 50 }, logs: "redis", binaries: ["redis-server"] },
  },
  {
    name: "postgres",
    sizeBytes: 158_378_405,
    latestVersion: "17.2",
    versions: [[8, 4], [18, 30]],
    namedTags: ["alpine", "bookworm", "bullseye"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["postgres"],
    runs: {
      kind: "server",
      ports: [5432],
      memoryBytes: 30 * MiB,
      sigterm: { code: 0, afterMs: 300 },
      logs: "postgres",
      binaries: ["postgres"],
      // docker-entrypoint.sh: `if [ -z "$POSTGRES_PASSWORD" ] && [ 'trust' != "$POSTGRES_HOST_AUTH_METHOD" ]`
      requiredEnv: {
        satisfied: (env) => nonEmpty(env, "POSTGRES_PASSWORD") || env.POSTGRES_HOST_AUTH_METHOD === "trust",
        message: [
          "Error: Database is uninitialized and superuser password is not specified.",
          "       You must specify POSTGRES_PASSWORD to a non-empty value for the",
          '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".',
          "",
          '       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all',
          "       connections without a password. This is *not* recommended.",
          "",
          '       See PostgreSQL documentation about "trust":',
          "       https://www.postgresql.org/docs/current/auth-trust.html",
        ],
      },
    },
  },
  {
    name: "mysql",
    sizeBytes: 170_532_114,
    latestVersion: "9.1.0",
    versions: [[5, 5], [9, 4]],
    namedTags: ["lts", "innovation", "oracle", "debian"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["mysqld"],
    runs: {
      kind: "server",
      ports: [3306, 33060],
      memoryBytes: 360 * MiB,
      sigterm: { code: 0, afterMs: 1000 },
      logs: "mysql",
      binaries: ["mysqld"],
      requiredEnv: {
        satisfied: (env) => ["MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD"].some((n) => nonEmpty(env, n)),
        message: [
          "[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified",
          "    You need to specify one of the following as an environment variable:",
          "    - MYSQL_ROOT_PASSWORD",
          "    - MYSQL_ALLOW_EMPTY_PASSWORD",
          "    - MYSQL_RANDOM_ROOT_PASSWORD",
        ],
      },
    },
  },
  {
    name: "mariadb",
    sizeBytes: 118_412_903,
    latestVersion: "11.6.2",
    versions: [[5, 5], [11, 8]],
    namedTags: ["lts", "jammy", "noble"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["mariadbd"],
    runs: {
      kind: "server",
      ports: [3306],
      memoryBytes: 100 * MiB,
      sigterm: { code: 0, afterMs: 800 },
      logs: "mariadb",
      binaries: ["mariadbd"],
      requiredEnv: {
        satisfied: (env) =>
          ["MARIADB_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD_HASH", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "MARIADB_RANDOM_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD", "MYSQL_RANDOM_ROOT_PASSWORD"].some((n) => nonEmpty(env, n)),
        message: [
          "[ERROR] [Entrypoint]: Database is uninitialized and password option is not specified",
          "\tYou need to specify one of MARIADB_ROOT_PASSWORD, MARIADB_ROOT_PASSWORD_HASH, MARIADB_ALLOW_EMPTY_ROOT_PASSWORD and MARIADB_RANDOM_ROOT_PASSWORD",
        ],
      },
    },
  },
  {
    name: "mongo",
    sizeBytes: 281_455_092,
    latestVersion: "8.0.4",
    versions: [[3, 0], [8, 2]],
    namedTags: ["jammy", "noble", "windowsservercore", "nanoserver"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["mongod"],
    runs: { kind: "server", ports: [27017], memoryBytes: 80 * MiB, sigterm: { code: 0, afterMs: 500 }, logs: "mongo", binaries: ["mongod"] },
  },
  {
    name: "memcached",
    sizeBytes: 30_112_348,
    latestVersion: "1.6.34",
    versions: [[1, 4], [1, 6]],
    namedTags: ["alpine", "bookworm"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["memcached"],
    runs: { kind: "server", ports: [11211], memoryBytes: 2 * MiB, sigterm: { code: 0, afterMs: 50 }, logs: "generic", binaries: ["memcached"] },
  },
  {
    name: "rabbitmq",
    sizeBytes: 110_483_201,
    latestVersion: "4.0.5",
    versions: [[3, 5], [4, 1]],
    namedTags: ["management", "management-alpine", "alpine"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["rabbitmq-server"],
    runs: { kind: "server", ports: [5672, 15672], memoryBytes: 120 * MiB, sigterm: { code: 0, afterMs: 2000 }, logs: "generic", binaries: ["rabbitmq-server"] },
  },
  {
    name: "elasticsearch",
    sizeBytes: 645_227_310,
    latestVersion: "8.17.0",
    versions: [[1, 0], [9, 1]],
    noLatest: true,
    entrypoint: ["/bin/tini", "--", "/usr/local/bin/docker-entrypoint.sh"],
    cmd: ["eswrapper"],
    runs: { kind: "server", ports: [9200, 9300], memoryBytes: 1024 * MiB, sigterm: { code: 143, afterMs: 2000 }, logs: "generic", binaries: ["eswrapper", "elasticsearch"] },
  },
  {
    name: "wordpress",
    sizeBytes: 250_117_530,
    latestVersion: "6.7.1",
    versions: [[4, 0], [6, 8]],
    namedTags: ["apache", "fpm", "fpm-alpine", "cli"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["apache2-foreground"],
    runs: { kind: "server", ports: [80], memoryBytes: 40 * MiB, sigterm: { code: 0, afterMs: 200 }, logs: "httpd", binaries: ["apache2-foreground"] },
  },
  {
    name: "tomcat",
    sizeBytes: 190_208_114,
    latestVersion: "11.0.2",
    versions: [[6, 0], [11, 0]],
    namedTags: ["jdk21", "jre21", "jdk17", "jre17"],
    cmd: ["catalina.sh", "run"],
    runs: { kind: "server", ports: [8080], memoryBytes: 120 * MiB, sigterm: { code: 143, afterMs: 1500 }, logs: "generic", binaries: ["catalina.sh"] },
  },
  {
    name: "traefik",
    sizeBytes: 50_220_814,
    latestVersion: "3.2.3",
    versions: [[1, 0], [3, 5]],
    entrypoint: ["/entrypoint.sh"],
    cmd: ["traefik"],
    runs: { kind: "server", ports: [80, 8080], memoryBytes: 30 * MiB, sigterm: { code: 0, afterMs: 100 }, logs: "generic", binaries: ["traefik"] },
  },
  {
    name: "caddy",
    sizeBytes: 18_104_377,
    latestVersion: "2.9.1",
    versions: [[2, 0], [2, 10]],
    namedTags: ["alpine", "builder"],
    cmd: ["caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"],
    runs: { kind: "server", ports: [80], memoryBytes: 12 * MiB, sigterm: { code: 0, afterMs: 100 }, logs: "generic", binaries: ["caddy"] },
  },
  {
    name: "registry",
    sizeBytes: 9_982_213,
    latestVersion: "2.8.3",
    versions: [[2, 0], [3, 0]],
    entrypoint: ["/entrypoint.sh"],
    cmd: ["/etc/docker/registry/config.yml"],
    runs: { kind: "server", ports: [5000], memoryBytes: 10 * MiB, sigterm: { code: 0, afterMs: 100 }, logs: "generic", binaries: ["registry"] },
  },
  {
    name: "ghost",
    sizeBytes: 190_331_245,
    latestVersion: "5.105.0",
    versions: [[0, 0], [5, 130]],
    namedTags: ["alpine"],
    entrypoint: ["docker-entrypoint.sh"],
    cmd: ["node", "current/index.js"],
    runs: { kind: "server", ports: [2368], memoryBytes: 110 * MiB, sigterm: { code: 0, afterMs: 300 }, logs: "generic" },
  },
  shellImage("busybox", 2_166_802, "1.37.0", [[1, 21], [1, 37]], ["sh"], ["glibc", "musl", "uclibc", "stable", "unstable"]),
  shellImage("alpine", 3_623_807, "3.21.0", [[2, 6], [3, 22]], ["/bin/sh"], ["edge"]),
  shellImage("ubuntu", 29_754_290, "24.04", [[10, 4], [25, 10]], ["/bin/bash"], ["rolling", "devel", "noble", "jammy", "focal", "bionic", "xenial", "trusty", "oracular", "plucky"]),
  shellImage("debian", 48_495_275, "12.8", [[6, 0], [13, 20]], ["bash"], ["bookworm", "bookworm-slim", "bullseye", "bullseye-slim", "buster", "buster-slim", "trixie", "trixie-slim", "sid", "stable", "stable-slim", "oldstable", "testing", "unstable"]),
  shellImage("centos", 75_432_105, "7", [[5, 0], [8, 0]], ["/bin/bash"], ["centos7", "centos8", "centos6"]),
  shellImage("fedora", 61_200_417, "41", [[20, 0], [43, 0]], ["/bin/bash"], ["rawhide"]),
  shellImage("amazonlinux", 61_018_331, "2023", [[1, 0], [2023, 9]], ["/bin/bash"], []),
  shellImage("golang", 282_114_906, "1.23.4", [[1, 2], [1, 25]], ["bash"], ["alpine", "bookworm"]),
  replImage("python", 392_420_815, "3.13.1", [[2, 7], [3, 14]], ["python3"]),
  replImage("node", 398_730_112, "23.5.0", [[0, 10], [24, 12]], ["node"], ["docker-entrypoint.sh"]),
  replImage("perl", 345_290_410, "5.40.0", [[5, 8], [5, 42]], ["perl"]),
  replImage("ruby", 370_203_901, "3.3.6", [[1, 9], [3, 4]], ["irb"]),
  replImage("php", 180_002_917, "8.4.2", [[5, 3], [8, 4]], ["php", "-a"], ["docker-php-entrypoint"]),
  replImage("openjdk", 330_104_282, "22", [[6, 0], [26, 0]], ["jshell"]),
  {
    name: "hello-world",
    sizeBytes: 13_256,
    latestVersion: "latest",
    namedTags: ["linux", "nanoserver"],
    cmd: ["/hello"],
    runs: { kind: "hello", memoryBytes: 0.2 * MiB, sigterm: "ignore", logs: "hello" },
  },
  {
    name: "registry.k8s.io/pause",
    aliases: ["k8s.gcr.io/pause", "gcr.io/google_containers/pause", "gcr.io/google-containers/pause", "docker.io/kubernetes/pause"],
    sizeBytes: 320_368,
    latestVersion: "3.10",
    versions: [[0, 8], [3, 10]],
    namedTags: ["go"],
    cmd: ["/pause"],
    // pause.c handles SIGTERM: "Shutting down, got signal: Terminated", exit 0.
    runs: { kind: "pause", memoryBytes: 0.3 * MiB, sigterm: { code: 0, afterMs: 0 }, logs: "pause", binaries: ["/pause", "pause"] },
  },
];

/**
 * Other Docker Hub official images, with no special behaviour (they run as generic servers),
 * listed so that their names are never mistaken for a typo of a catalog name ("mono" is not
 * a typo of "mongo", "rust" not of "ruby").
 */
export const OTHER_OFFICIAL_IMAGES: readonly string[] = [
  "mono", "rust", "bash", "swift", "julia", "erlang", "elixir", "haskell", "gcc", "clojure", "groovy", "gradle", "maven", "kong",
  "nats", "neo4j", "odoo", "plone", "solr", "sonarqube", "spark", "storm", "tomee", "varnish", "zookeeper", "cassandra", "couchdb",
  "couchbase", "influxdb", "telegraf", "chronograf", "kapacitor", "kibana", "logstash", "eclipse-mosquitto", "percona", "arangodb",
  "orientdb", "rethinkdb", "drupal", "joomla", "nextcloud", "redmine", "matomo", "phpmyadmin", "adminer", "jetty", "haproxy",
  "docker", "buildpack-deps", "photon", "oraclelinux", "archlinux", "clearlinux", "almalinux", "rockylinux", "amazoncorretto",
  "eclipse-temurin", "ibmjava", "sapmachine", "pypy", "dart", "r-base", "hylang", "bonita", "convertigo", "emqx", "friendica",
  "geonetwork", "irssi", "memcached", "postfixadmin", "rakudo-star", "silverpeas", "teamspeak", "unit", "vault", "xwiki", "yourls",
  "znc", "api-firewall", "backdrop", "caddy", "flink", "ghost", "golang", "hitch", "httpd", "jobber", "kibana", "lightstreamer",
  "liquibase", "mageia", "mediawiki", "monica", "mysql", "nginx", "node", "open-liberty", "openjdk", "perl", "php", "postgres",
  "python", "rabbitmq", "redis", "registry", "ruby", "satosa", "spiped", "tomcat", "traefik", "ubuntu", "websphere-liberty",
  "wordpress", "alpine", "busybox", "debian", "centos", "fedora", "amazonlinux", "mongo", "mariadb", "elasticsearch", "hello-world",
];

const CATALOG_BY_KEY: ReadonlyMap<string, ImageProfile> = (() => {
  const map = new Map<string, ImageProfile>();
  for (const p of IMAGE_CATALOG) {
    map.set(p.name, p);
    for (const alias of p.aliases ?? []) {
      const parsed = parseImage(alias);
      map.set(parsed.ok ? parsed.ref.key : alias, p);
    }
  }
  return map;
})();

const OFFICIAL_NAMES: ReadonlySet<string> = new Set([...IMAGE_CATALOG.filter((p) => !p.name.includes("/")).map((p) => p.name), ...OTHER_OFFICIAL_IMAGES]);

/** The catalog profile of an image (by any of its spellings), or undefined for images the catalog does not know. */
export function imageProfile(image: string | ImageReference): ImageProfile | undefined {
  const ref = typeof image === "string" ? (parseImage(image) as { ok: boolean; ref?: ImageReference }).ref : image;
  if (!ref) return undefined;
  return CATALOG_BY_KEY.get(ref.key);
}

/** Optimal string alignment distance (Levenshtein plus adjacent transposition: `ngnix` is 1 from `nginx`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The catalog image a Docker Hub official name is a typo of, or undefined. A name is a typo when
 * it is not itself an official image and is within edit distance 2 of a catalog name (1 for
 * names of four letters, none for shorter ones, where everything is near everything).
 */
export function typoOf(ref: ImageReference): string | undefined {
  if (!ref.official) return undefined;
  const name = ref.key;
  if (OFFICIAL_NAMES.has(name) || name.length < 4) return undefined;
  let best: { name: string; d: number } | undefined;
  for (const p of IMAGE_CATALOG) {
    if (p.name.includes("/")) continue;
    const limit = Math.min(name.length, p.name.length) <= 4 ? 1 : 2;
    const d = editDistance(name, p.name);
    if (d <= limit && (!best || d < best.d)) best = { name: p.name, d };
  }
  return best?.name;
}

/** True when `tag` exists for a catalog image (version within the released range, known variant words). */
export function tagExists(profile: ImageProfile, tag: string): boolean {
  if (tag === "latest") return !profile.noLatest;
  if (profile.namedTags?.includes(tag)) return true;
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-_](.+))?$/.exec(tag);
  if (!m) {
    // A named tag with variant words only ("alpine", "bookworm-slim").
    return tag.split("-").every((w) => VARIANT_WORDS.has(w.replace(/[\d.]+$/, "")));
  }
  if (profile.versions) {
    const [[minMajor, minMinor], [maxMajor, maxMinor]] = profile.versions;
    const major = Number(m[1]);
    const minor = m[2] === undefined ? undefined : Number(m[2]);
    if (major > maxMajor || major < minMajor) return false;
    if (minor !== undefined && ((major === maxMajor && minor > maxMinor) || (major === minMajor && minor < minMinor))) return false;
  }
  if (m[4] !== undefined) return m[4].split("-").every((w) => VARIANT_WORDS.has(w.replace(/[\d.]+$/, "")) || /^\d[\d.]*$/.test(w));
  return true;
}

// ---------------------------------------------------------------------------------------------
// Pull outcomes

/** Fixed cost of a pull (resolving the reference, fetching the manifest). */
const PULL_LATENCY_MS = 500;
/** Simulated registry throughput: 25 MB/s. */
const PULL_BYTES_PER_MS = 25_000;

/** Deterministic time to pull `sizeBytes` from a registry. */
export function pullDurationMs(sizeBytes: number): number {
  return PULL_LATENCY_MS + Math.round(sizeBytes / PULL_BYTES_PER_MS);
}

/** Size the Pulled event reports for an image (catalog size, or a deterministic 10–250 MB for unknown images). */
export function imageSizeBytes(ref: ImageReference): number {
  return imageProfile(ref)?.sizeBytes ?? _pick(`size:${ref.repository}`, 10_000_000, 250_000_000);
}

/** `imageID` of a pulled image as containerd reports it: `docker.io/library/nginx@sha256:<64 hex>`. */
export function imageIdOf(ref: ImageReference): string {
  return `${ref.repository}@${ref.digest ?? `sha256:${_sha256Hex(`image:${ref.repository}:${ref.tag ?? ""}`)}`}`;
}

/** What a registry answers for an image. */
export type PullOutcome =
  | {
      readonly ok: true;
      readonly ref: ImageReference;
      /** `imageID` of the pulled image. */
      readonly imageRef: string;
      readonly sizeBytes: number;
      /** Time the pull takes (without waiting for other pulls). */
      readonly pullMs: number;
    }
  | {
      readonly ok: false;
      /** Waiting reason the kubelet reports: `ErrImagePull` (registry refused) or `InvalidImageName` (unparsable reference). */
      readonly reason: "ErrImagePull" | "InvalidImageName";
      /** The error text: containerd's for ErrImagePull, the kubelet's parse error for InvalidImageName. */
      readonly message: string;
      /** Time until the registry answers (0 for InvalidImageName: nothing is contacted). */
      readonly pullMs: number;
      /** For a typo: the image that was probably meant. */
      readonly didYouMean?: string;
    };

/**
 * What pulling `image` from its registry gives (pure; presence on a node is `NodeImageStore`'s
 * concern). Messages are containerd 1.7/2.0 texts as the 1.32 kubelet shows them.
 */
export function pullOutcome(image: string): PullOutcome {
  const parsed = parseImage(image);
  if (!parsed.ok) return { ok: false, reason: "InvalidImageName", message: parsed.message, pullMs: 0 };
  const ref = parsed.ref;
  const failMs = 300 + _pick(`fail:${ref.fullName}`, 0, 600);
  const typo = typoOf(ref);
  if (typo) {
    // 401 insufficient_scope from Docker Hub; containerd maps it to gRPC Unknown, which the
    // kubelet strips (`pullImageV1`).
    return {
      ok: false,
      reason: "ErrImagePull",
      message: `failed to pull and unpack image "${ref.fullName}": failed to resolve reference "${ref.fullName}": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed`,
      pullMs: failMs,
      didYouMean: typo,
    };
  }
  const profile = imageProfile(ref);
  if (profile && ref.tag && !ref.digest && !tagExists(profile, ref.tag)) {
    // 404 from the registry: containerd returns gRPC NotFound, which the kubelet keeps.
    return {
      ok: false,
      reason: "ErrImagePull",
      message: `rpc error: code = NotFound desc = failed to pull and unpack image "${ref.fullName}": failed to resolve reference "${ref.fullName}": ${ref.fullName}: not found`,
      pullMs: failMs,
    };
  }
  const sizeBytes = imageSizeBytes(ref);
  return { ok: true, ref, imageRef: imageIdOf(ref), sizeBytes, pullMs: pullDurationMs(sizeBytes) };
}

// ---------------------------------------------------------------------------------------------
// Kubelet image event messages (`pkg/kubelet/images/image_manager.go`)

/** Event reasons of the image manager (`pkg/kubelet/events/event.go`). */
export const IMAGE_EVENT = {
  pulling: "Pulling",
  pulled: "Pulled",
  failed: "Failed",
  inspectFailed: "InspectFailed",
  neverPull: "ErrImageNeverPull",
  backOff: "BackOff",
} as const;

/** `Pulling image "nginx"`. */
export function pullingMessage(image: string): string {
  return `Pulling image "${image}"`;
}

/** `Successfully pulled image "nginx" in 1.2s (3.4s including waiting). Image size: 72099409 bytes.` */
export function pulledMessage(image: string, pullMs: number, totalMs: number, sizeBytes: number): string {
  return `Successfully pulled image "${image}" in ${formatGoDuration(pullMs)} (${formatGoDuration(totalMs)} including waiting). Image size: ${sizeBytes} bytes.`;
}

/** `Container image "nginx:1.25" already present on machine`. */
export function alreadyPresentMessage(image: string): string {
  return `Container image "${image}" already present on machine`;
}

/** `Container image "x" is not present with pull policy of Never` (reason ErrImageNeverPull). */
export function neverPullMessage(image: string): string {
  return `Container image "${image}" is not present with pull policy of Never`;
}

/** `Back-off pulling image "ngnix"` (event reason BackOff, waiting reason ImagePullBackOff). */
export function backOffPullMessage(image: string): string {
  return `Back-off pulling image "${image}"`;
}

/** `Failed to pull image "ngnix": <error>` (event reason Failed). */
export function failedPullMessage(image: string, error: string): string {
  return `Failed to pull image "${image}": ${error}`;
}

// ---------------------------------------------------------------------------------------------
// A node's images

/** Result of a pull on a node. */
export type NodePullResult =
  | { readonly ok: true; readonly imageRef: string; readonly sizeBytes: number; readonly pullMs: number; readonly totalMs: number }
  | { readonly ok: false; readonly message: string; readonly pullMs: number; readonly totalMs: number };

/** Options of a node's image store. */
export interface NodeImageStoreOptions {
  readonly clock: Clock;
  /** Pull one image at a time (kubelet `serializeImagePulls`, default true). */
  readonly serializePulls?: boolean;
  /** Images present from the start (e.g. the pause image). */
  readonly preloaded?: readonly string[];
}

/** Pulling an image whose layers are all present only checks the manifest. */
const PRESENT_PULL_MS = 300;

/**
 * The images present on one node and its image puller. Pulls run one at a time by default, in
 * request order, as the kubelet's serial puller does; results arrive on the node's clock.
 */
export class NodeImageStore {
  private readonly clock: Clock;
  private readonly serialize: boolean;
  private readonly present = new Map<string, { imageRef: string; sizeBytes: number }>();
  private busyUntil = 0;

  constructor(options: NodeImageStoreOptions) {
    this.clock = options.clock;
    this.serialize = options.serializePulls ?? true;
    for (const image of options.preloaded ?? []) {
      const outcome = pullOutcome(image);
      if (outcome.ok) this.present.set(outcome.ref.fullName, { imageRef: outcome.imageRef, sizeBytes: outcome.sizeBytes });
    }
  }

  /** The `imageID` when the image is present on the node (`GetImageRef`), else undefined. */
  imageRef(image: string): string | undefined {
    const parsed = parseImage(image);
    return parsed.ok ? this.present.get(parsed.ref.fullName)?.imageRef : undefined;
  }

  /** Fully qualified names of the images present, sorted (for the node's `status.images`). */
  list(): { name: string; sizeBytes: number }[] {
    return [...this.present.entries()].map(([name, v]) => ({ name, sizeBytes: v.sizeBytes })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Removes an image (image garbage collection, or a test). */
  remove(image: string): void {
    const parsed = parseImage(image);
    if (parsed.ok) this.present.delete(parsed.ref.fullName);
  }

  /**
   * Pulls `image`; resolves on the clock when the pull (and any pull ahead of it) is done. A
   * present image only has its manifest checked (a short pull that changes nothing).
   */
  pull(image: string): Promise<NodePullResult> {
    const now = this.clock.now();
    const outcome = pullOutcome(image);
    let pullMs = outcome.pullMs;
    if (outcome.ok && this.present.has(outcome.ref.fullName)) pullMs = Math.min(pullMs, PRESENT_PULL_MS);
    const start = this.serialize ? Math.max(now, this.busyUntil) : now;
    const end = start + pullMs;
    if (this.serialize) this.busyUntil = end;
    const totalMs = end - now;
    return new Promise((resolve) => {
      this.clock.setTimeout(() => {
        if (outcome.ok) {
          this.present.set(outcome.ref.fullName, { imageRef: outcome.imageRef, sizeBytes: outcome.sizeBytes });
          resolve({ ok: true, imageRef: outcome.imageRef, sizeBytes: outcome.sizeBytes, pullMs, totalMs });
        } else {
          resolve({ ok: false, message: outcome.message, pullMs, totalMs });
        }
      }, totalMs);
    });
  }
}

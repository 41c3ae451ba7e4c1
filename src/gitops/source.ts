/**
 * The git source of the reconciler: reads the desired state from the learner's repository.
 *
 * Desired state is the tree of the tracked branch's head commit, never the working tree
 * (DESIGN.md, "The reconciler"). Everything here is read-only: the repository belongs to the
 * learner and to the real `git` CLI, which may be writing to it at the same moment, so nothing
 * in this module writes a file under `.git` (isomorphic-git's working-tree walker is used with
 * `refresh: false` so it never rewrites `.git/index` behind git's back).
 *
 * Objects are read with isomorphic-git, which understands what the real `git` CLI writes:
 * loose objects, pack files (after `git gc` or `git repack`), packed refs, and commits made by
 * `git revert`, `git commit --amend` and `git reset --hard` (a rewritten history is simply a
 * new head: the reconciler does not care how the branch got there).
 */
import * as nodeFs from "node:fs";
import * as path from "node:path";
import git, { Errors, STAGE, TREE, WORKDIR, type ReadTreeResult, type TreeEntry, type WalkerEntry } from "isomorphic-git";

/** The file system interface isomorphic-git needs (the promises API of `node:fs` is enough). */
export type GitFs = typeof nodeFs;

/** Stable codes of `SourceError`, for callers that branch on the kind of failure. */
export type SourceErrorCode = "NoRepository" | "NotAGitRepository" | "EmptyRepository" | "BranchNotFound" | "Corrupt";

/**
 * A failure to read the learner's repository. The message names the directory and says what to
 * do; `code` is stable (like isomorphic-git's error codes) and `data` carries the details.
 */
export class SourceError extends Error {
  /** What went wrong, for programs. */
  readonly code: SourceErrorCode;
  /** The repository directory, as given by the caller. */
  readonly dir: string;
  /** Structured details (branch, ref, object id, underlying error message...). */
  readonly data: Record<string, string | string[] | undefined>;

  constructor(code: SourceErrorCode, dir: string, message: string, data: Record<string, string | string[] | undefined> = {}) {
    super(message);
    this.name = "SourceError";
    this.code = code;
    this.dir = dir;
    this.data = data;
  }

  /** A plain object for `-o json` output and logs (no stack). */
  toJSON(): { code: SourceErrorCode; dir: string; message: string; data: Record<string, string | string[] | undefined> } {
    return { code: this.code, dir: this.dir, message: this.message, data: this.data };
  }
}

/** A person in a commit (author or committer), as git records them. */
export interface GitPerson {
  name: string;
  email: string;
  /** Seconds since the Unix epoch (git's own resolution). */
  timestamp: number;
  /** Minutes west of UTC, as isomorphic-git reports it (e.g. -120 for UTC+2). */
  timezoneOffset: number;
}

/** The head commit the desired state comes from. */
export interface HeadCommit {
  /** Full 40-hex commit id. */
  oid: string;
  /** Full commit message without the trailing newline git stores. */
  message: string;
  /** First line of the message. */
  subject: string;
  author: GitPerson;
  committer: GitPerson;
  /** Parent commit ids (none for the first commit, two or more for a merge). */
  parents: string[];
  /** Root tree id: equal trees mean equal desired state, whatever the commit. */
  tree: string;
  /**
   * For a commit made by `git revert`: the id of the reverted commit, read from the
   * "This reverts commit <id>." line git writes into the message.
   */
  reverts?: string;
}

/** One manifest file of the head commit. */
export interface SourceFile {
  /** Path from the repository root, `/`-separated (e.g. `apps/web.yaml`). */
  path: string;
  /** Blob id: equal ids mean equal content. */
  oid: string;
  /** The file's content, decoded as UTF-8. */
  content: string;
}

/** A file of the head commit that looks like a manifest but is not read, and why. */
export interface SkippedFile {
  path: string;
  reason: "symlink" | "submodule";
}

/** What `readHead` returns: the tracked branch, its head commit and the manifest files of its tree. */
export interface HeadSnapshot {
  /** Short branch name (`main`), or null when HEAD is detached and no branch was asked for. */
  branch: string | null;
  commit: HeadCommit;
  /** Manifest files (`*.yaml`, `*.yml`, `*.json`), sorted by path. */
  files: SourceFile[];
  /** Symbolic links and submodules with a manifest-like name, which are not read. */
  skipped: SkippedFile[];
}

/** Options of `readHead`. */
export interface ReadHeadOptions {
  /** Branch to read (`main` or `refs/heads/main`). Default: the branch HEAD points at. */
  branch?: string;
  /**
   * Read this commit (a full id) instead of the branch head: `kubelings sim --replay` applies
   * each commit of the branch in turn. The branch still names where it came from.
   */
  commit?: string;
  /** File system (default `node:fs`). */
  fs?: GitFs;
  /** Object cache shared between reads (default: one process-wide cache). */
  cache?: SourceCache;
}

/** How a manifest file differs between the head commit, the index and the working tree. */
export type UncommittedChangeKind = "modified" | "added" | "deleted" | "untracked";

/** A manifest file whose working-tree or staged content is not what the head commit has. */
export interface UncommittedChange {
  /** Path from the repository root. */
  path: string;
  /**
   * `modified`: the content differs from the commit; `added`: staged with `git add` but not in
   * the commit; `untracked`: new and never added; `deleted`: in the commit but deleted from the
   * working tree or removed from the index.
   */
  change: UncommittedChangeKind;
  /** True when the change is staged (`git add`), false when only the working tree has it. */
  staged: boolean;
}

/** The file names the loader reads, as Argo CD's directory source and `kubectl apply -f DIR` do (case-sensitive extensions). */
const MANIFEST_FILE = /\.(?:ya?ml|json)$/;

/** Name of the ignore file honoured at the repository root. */
export const IGNORE_FILE = ".kubelingsignore";

/** The id git gives the empty tree; isomorphic-git knows it without reading it. */
const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

const OID = /^[0-9a-f]{40}$/;

/** How many git object reads run at once: enough to overlap I/O, few enough to stay far from the open-file limit. */
const READ_CONCURRENCY = 32;

// ---------------------------------------------------------------------------------------------
// Cache

interface CachedTree {
  entries: TreeEntry[];
}

/**
 * Content-addressed cache of git objects for `readHead`: blob contents and tree listings by id.
 * A git object id names its content, so an entry never goes stale, and an unchanged file or
 * folder is not read again when the next commit is synced. Bounded by an approximate byte size
 * (least recently used entries are dropped first). Also keeps isomorphic-git's per-repository
 * pack-file cache, renewed when the set of pack files changes (after `git gc`).
 */
export class SourceCache {
  private readonly blobs = new Map<string, string>();
  private readonly trees = new Map<string, CachedTree>();
  private bytes = 0;
  private readonly packCaches = new Map<string, { packs: string; cache: object }>();

  /** @param maxBytes approximate upper bound of cached content, in bytes (default 64 MiB). */
  constructor(readonly maxBytes = 64 * 1024 * 1024) {}

  /** A cached blob's content, refreshed as recently used. */
  blob(oid: string): string | undefined {
    const content = this.blobs.get(oid);
    if (content !== undefined) {
      this.blobs.delete(oid);
      this.blobs.set(oid, content);
    }
    return content;
  }

  /** Remembers a blob's content. */
  setBlob(oid: string, content: string): void {
    if (this.blobs.has(oid)) return;
    this.blobs.set(oid, content);
    this.bytes += content.length + 80;
    this.evict();
  }

  /** A cached tree listing. */
  tree(oid: string): TreeEntry[] | undefined {
    const entry = this.trees.get(oid);
    if (entry) {
      this.trees.delete(oid);
      this.trees.set(oid, entry);
    }
    return entry?.entries;
  }

  /** Remembers a tree listing. */
  setTree(oid: string, entries: TreeEntry[]): void {
    if (this.trees.has(oid)) return;
    this.trees.set(oid, { entries });
    this.bytes += 80 + entries.reduce((n, e) => n + e.path.length + 100, 0);
    this.evict();
  }

  /** Number of cached blobs and trees (for tests and diagnostics). */
  get size(): { blobs: number; trees: number; bytes: number } {
    return { blobs: this.blobs.size, trees: this.trees.size, bytes: this.bytes };
  }

  /**
   * isomorphic-git's cache object for one repository. It holds pack indexes and pack data in
   * memory; a new object is handed out whenever the list of pack files changes, so packs that
   * `git gc` deleted are not kept alive forever by a long-running reconciler.
   */
  async gitCache(fs: GitFs, gitdir: string): Promise<object> {
    let packs = "";
    try {
      packs = (await fs.promises.readdir(path.join(gitdir, "objects", "pack"))).sort().join(",");
    } catch {
      // No pack directory yet: a young repository with loose objects only.
    }
    const known = this.packCaches.get(gitdir);
    if (known && known.packs === packs) return known.cache;
    const fresh = { packs, cache: {} };
    this.packCaches.set(gitdir, fresh);
    return fresh.cache;
  }

  private evict(): void {
    // Evict blobs first (they are the bulk), then trees, oldest first.
    for (const map of [this.blobs, this.trees] as Map<string, string | CachedTree>[]) {
      for (const [oid, value] of map) {
        if (this.bytes <= this.maxBytes) return;
        map.delete(oid);
        this.bytes -= typeof value === "string" ? value.length + 80 : 80 + value.entries.reduce((n, e) => n + e.path.length + 100, 0);
      }
    }
  }
}

const sharedCache = new SourceCache();

// ---------------------------------------------------------------------------------------------
// Ignore file

/** One compiled line of an ignore file. */
interface IgnoreRule {
  regex: RegExp;
  negate: boolean;
  dirOnly: boolean;
}

/**
 * Matcher for `.kubelingsignore`, in gitignore syntax (gitignore(5)). Implements the common
 * subset, because no ignore library is installed and isomorphic-git only exposes its matcher
 * for paths in the working tree: blank lines; `#` comments (`\#` for a literal `#`); trailing
 * spaces trimmed unless escaped; `!` negation (`\!` for a literal `!`); `*` and `?` (never
 * matching `/`); `[abc]`, `[a-z]`, `[!a-z]` classes; a double asterisk as a whole leading
 * segment (any folders before), a whole trailing segment (everything inside) or a whole middle
 * segment (zero or more folders), any other run of asterisks being a plain `*`; a trailing `/`
 * to match folders only; a `/` at the start or in the middle to anchor the pattern at the
 * repository root (otherwise it matches at any depth). The last matching line wins, and, as in
 * git, a file inside an excluded folder cannot be re-included by a later `!` line. Not
 * supported: ignore files in subfolders, and `core.excludesFile`-style global rules.
 */
export class IgnoreMatcher {
  private readonly rules: IgnoreRule[];

  /** Compiles the text of an ignore file. */
  constructor(text: string) {
    this.rules = [];
    for (const raw of text.split(/\r?\n/)) {
      const rule = compileIgnoreLine(raw);
      if (rule) this.rules.push(rule);
    }
  }

  /** True when the file has no rules (nothing is ignored). */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /**
   * True when `filepath` (relative, `/`-separated) is ignored: itself, or because one of the
   * folders above it is.
   */
  ignores(filepath: string, isDir = false): boolean {
    if (this.rules.length === 0) return false;
    const parts = filepath.split("/");
    for (let i = 1; i < parts.length; i++) {
      if (this.matches(parts.slice(0, i).join("/"), true)) return true;
    }
    return this.matches(filepath, isDir);
  }

  /** The decision of the last rule matching this exact path (parents not considered). */
  matches(filepath: string, isDir: boolean): boolean {
    let ignored = false;
    for (const rule of this.rules) {
      if (rule.dirOnly && !isDir) continue;
      if (rule.regex.test(filepath)) ignored = !rule.negate;
    }
    return ignored;
  }
}

function compileIgnoreLine(raw: string): IgnoreRule | undefined {
  let line = raw;
  // Trailing spaces are ignored unless escaped with a backslash.
  while (line.endsWith(" ") && !line.endsWith("\\ ")) line = line.slice(0, -1);
  if (line === "" || line.startsWith("#")) return undefined;
  let negate = false;
  if (line.startsWith("!")) {
    negate = true;
    line = line.slice(1);
  } else if (line.startsWith("\\!") || line.startsWith("\\#")) {
    line = line.slice(1);
  }
  let dirOnly = false;
  if (line.endsWith("/") && !line.endsWith("\\/")) {
    dirOnly = true;
    line = line.replace(/\/+$/, "");
  }
  if (line === "") return undefined;
  // A slash at the start or in the middle anchors the pattern at the root (gitignore(5)).
  const anchored = line.includes("/");
  if (line.startsWith("/")) line = line.slice(1);
  const body = globToRegex(line);
  const regex = new RegExp(anchored ? `^${body}$` : `^(?:.*/)?${body}$`);
  return { regex, negate, dirOnly };
}

function escapeRegex(c: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(c) ? `\\${c}` : c;
}

function globToRegex(glob: string): string {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      let j = i;
      while (glob[j] === "*") j++;
      const run = j - i;
      const atSegmentStart = i === 0 || glob[i - 1] === "/";
      const atSegmentEnd = j === glob.length || glob[j] === "/";
      if (run >= 2 && atSegmentStart && atSegmentEnd) {
        if (j === glob.length) {
          // Trailing "/**" (or a lone "**"): everything inside.
          re += ".*";
        } else {
          // Leading "**/" or middle "/**/": zero or more folders.
          re += "(?:.*/)?";
          j++; // the slash is part of the match above
        }
      } else {
        // Other runs of asterisks are ordinary asterisks.
        re += "[^/]*";
      }
      i = j - 1;
    } else if (c === "?") {
      re += "[^/]";
    } else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close < 0) {
        re += "\\[";
        continue;
      }
      let body = glob.slice(i + 1, close);
      let negated = false;
      if (body.startsWith("!") || body.startsWith("^")) {
        negated = true;
        body = body.slice(1);
      }
      const escaped = body.replace(/\\/g, "\\\\").replace(/\]/g, "\\]");
      re += negated ? `[^/${escaped}]` : `[${escaped}]`;
      i = close;
    } else if (c === "\\" && i + 1 < glob.length) {
      re += escapeRegex(glob[++i]);
    } else {
      re += escapeRegex(c);
    }
  }
  return re;
}

// ---------------------------------------------------------------------------------------------
// Repository and refs

interface Repo {
  dir: string;
  gitdir: string;
  fs: GitFs;
}

/** Checks that `dir` is a git working tree and returns where its git directory is. */
async function openRepo(dir: string, fs: GitFs): Promise<Repo> {
  let stat: nodeFs.Stats;
  try {
    stat = await fs.promises.stat(dir);
  } catch {
    throw new SourceError(
      "NoRepository",
      dir,
      `${dir} does not exist: create the learner repository with \`kubelings init ${dir}\`, or pass --repo with the folder of an existing one`,
    );
  }
  if (!stat.isDirectory()) {
    throw new SourceError("NoRepository", dir, `${dir} is a file, not a folder: pass --repo with the folder of a git repository`);
  }
  const gitdir = path.join(dir, ".git");
  try {
    await fs.promises.stat(gitdir);
  } catch {
    throw new SourceError(
      "NotAGitRepository",
      dir,
      `${dir} is not a git repository (it has no .git folder): run \`kubelings init ${dir}\` to create one from the template, or \`git init\` in it`,
    );
  }
  return { dir, gitdir, fs };
}

function corrupt(repo: Repo, detail: string, data: Record<string, string | undefined> = {}): SourceError {
  return new SourceError(
    "Corrupt",
    repo.dir,
    `the git repository in ${repo.dir} is damaged: ${detail}. Run \`git fsck\` in ${repo.dir} to see what is broken`,
    data,
  );
}

function isNotFound(err: unknown): boolean {
  return err instanceof Errors.NotFoundError;
}

/** What the underlying isomorphic-git error says, without its "please report this bug" boilerplate. */
function causeOf(err: unknown): string {
  if (err instanceof Errors.InternalError) return String((err.data as { message?: string })?.message ?? err.message);
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * The raw content of a ref (`ref: refs/heads/main`, or a commit id), from its loose file or from
 * `packed-refs`, without following it; undefined when the ref does not exist.
 */
async function readRefRaw(repo: Repo, ref: string): Promise<string | undefined> {
  try {
    // depth 1 stops after reading the ref itself: we want to see what it holds, even garbage.
    return (await git.resolveRef({ fs: repo.fs, dir: repo.dir, ref, depth: 1 })).trim();
  } catch (err) {
    if (!isNotFound(err)) throw corrupt(repo, `cannot read ${ref}: ${causeOf(err)}`, { ref });
    // A loose ref file that exists but is empty (a crash while git wrote it) is damage, not absence.
    try {
      const st = await repo.fs.promises.stat(path.join(repo.gitdir, ref));
      if (st.isFile()) throw corrupt(repo, `${ref} is empty`, { ref });
    } catch (e) {
      if (e instanceof SourceError) throw e;
    }
    return undefined;
  }
}

async function listBranches(repo: Repo): Promise<string[]> {
  try {
    return (await git.listBranches({ fs: repo.fs, dir: repo.dir })).sort();
  } catch {
    return [];
  }
}

function shortBranch(ref: string): string {
  return ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
}

/** Follows a ref to a commit id, checking that every step holds what git would write. */
async function followRef(repo: Repo, ref: string, raw: string): Promise<string> {
  let current = ref;
  let value = raw;
  for (let hops = 0; hops < 5; hops++) {
    if (OID.test(value)) return value;
    if (!value.startsWith("ref: ")) {
      const shown = value.length > 60 ? `${value.slice(0, 60)}...` : value;
      throw corrupt(repo, `${current} holds ${JSON.stringify(shown)}, which is neither a commit id nor a ref`, { ref: current });
    }
    const next = value.slice("ref: ".length).trim();
    const nextValue = await readRefRaw(repo, next);
    if (nextValue === undefined) throw corrupt(repo, `${current} points at ${next}, which does not exist`, { ref: current });
    current = next;
    value = nextValue;
  }
  throw corrupt(repo, `${ref} is a chain of more than 5 symbolic refs`, { ref });
}

interface Target {
  /** Short branch name, or null for a detached HEAD. */
  branch: string | null;
  oid: string;
}

/** Resolves the tracked branch (asked for, or the one HEAD points at) to its head commit id. */
async function resolveTarget(repo: Repo, branch: string | undefined): Promise<Target> {
  if (branch !== undefined) {
    const ref = branch.startsWith("refs/") ? branch : `refs/heads/${branch}`;
    const raw = await readRefRaw(repo, ref);
    if (raw === undefined) {
      const branches = await listBranches(repo);
      if (branches.length === 0) throw emptyRepository(repo, shortBranch(ref));
      throw new SourceError(
        "BranchNotFound",
        repo.dir,
        `${repo.dir} has no branch "${shortBranch(ref)}" (its branches: ${branches.join(", ")}): track one of those, or create it with \`git switch -c ${shortBranch(ref)}\` and commit`,
        { branch: shortBranch(ref), branches },
      );
    }
    return { branch: shortBranch(ref), oid: await followRef(repo, ref, raw) };
  }
  const head = await readRefRaw(repo, "HEAD");
  if (head === undefined) throw corrupt(repo, ".git/HEAD is missing", { ref: "HEAD" });
  if (OID.test(head)) return { branch: null, oid: head };
  if (!head.startsWith("ref: ")) throw corrupt(repo, `.git/HEAD holds ${JSON.stringify(head.slice(0, 60))}, which is neither a commit id nor a ref`, { ref: "HEAD" });
  const ref = head.slice("ref: ".length).trim();
  // git refuses a HEAD that is not a symbolic ref to a branch ("HEAD is not a symbolic ref").
  if (!/^refs\/heads\/[^/]/.test(ref)) throw corrupt(repo, `.git/HEAD points at ${JSON.stringify(ref)}, which is not a branch`, { ref: "HEAD" });
  const raw = await readRefRaw(repo, ref);
  // HEAD on a branch that does not exist yet: `git init` without a commit (an "unborn" branch).
  if (raw === undefined) throw emptyRepository(repo, shortBranch(ref));
  return { branch: shortBranch(ref), oid: await followRef(repo, ref, raw) };
}

function emptyRepository(repo: Repo, branch: string): SourceError {
  return new SourceError(
    "EmptyRepository",
    repo.dir,
    `${repo.dir} has no commits yet on branch "${branch}": commit your manifests with \`git add . && git commit -m "first commit"\` (only committed files are applied)`,
    { branch },
  );
}

/**
 * Runs a read, and runs it once more if it failed in a way a concurrent `git gc` can cause for
 * an instant (a ref moving from its loose file into packed-refs, a loose object moving into a
 * pack). git itself retries such reads; a second failure is real and reported.
 */
async function withRetry<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof SourceError && (err.code === "BranchNotFound" || err.code === "EmptyRepository" || err.code === "Corrupt")) {
      return read();
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Objects

/** Runs at most `limit` async tasks at once. */
function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: Array<() => void> = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

interface ReadContext {
  repo: Repo;
  cache: SourceCache;
  gitCache: object;
  limit: <T>(task: () => Promise<T>) => Promise<T>;
}

function objectError(ctx: ReadContext, what: string, oid: string, err: unknown): SourceError {
  if (isNotFound(err)) return corrupt(ctx.repo, `${what} ${oid} is missing from .git/objects`, { oid });
  return corrupt(ctx.repo, `${what} ${oid} cannot be read (${causeOf(err)})`, { oid });
}

async function readTreeEntries(ctx: ReadContext, oid: string): Promise<TreeEntry[]> {
  const cached = ctx.cache.tree(oid);
  if (cached) return cached;
  let result: ReadTreeResult;
  try {
    result = await ctx.limit(() => git.readTree({ fs: ctx.repo.fs, dir: ctx.repo.dir, oid, cache: ctx.gitCache }));
  } catch (err) {
    throw objectError(ctx, "tree", oid, err);
  }
  ctx.cache.setTree(oid, result.tree);
  return result.tree;
}

const utf8 = new TextDecoder("utf-8");

async function readBlobText(ctx: ReadContext, oid: string): Promise<string> {
  const cached = ctx.cache.blob(oid);
  if (cached !== undefined) return cached;
  let blob: Uint8Array;
  try {
    blob = (await ctx.limit(() => git.readBlob({ fs: ctx.repo.fs, dir: ctx.repo.dir, oid, cache: ctx.gitCache }))).blob;
  } catch (err) {
    throw objectError(ctx, "file", oid, err);
  }
  const text = utf8.decode(blob);
  ctx.cache.setBlob(oid, text);
  return text;
}

function person(p: { name: string; email: string; timestamp: number; timezoneOffset: number }): GitPerson {
  // `+ 0` turns isomorphic-git's -0 (a UTC commit) into 0.
  return { name: p.name, email: p.email, timestamp: p.timestamp, timezoneOffset: p.timezoneOffset + 0 };
}

async function readHeadCommit(ctx: ReadContext, oid: string): Promise<HeadCommit> {
  let commit;
  try {
    commit = (await git.readCommit({ fs: ctx.repo.fs, dir: ctx.repo.dir, oid, cache: ctx.gitCache })).commit;
  } catch (err) {
    if (err instanceof Errors.ObjectTypeError) throw corrupt(ctx.repo, `the branch points at ${oid}, which is not a commit`, { oid });
    throw objectError(ctx, "commit", oid, err);
  }
  const message = commit.message.replace(/\n+$/, "");
  // `git revert` writes "This reverts commit <full id>." into the message body.
  const reverts = /This reverts commit ([0-9a-f]{40})/.exec(message)?.[1];
  return {
    oid,
    message,
    subject: message.split("\n", 1)[0],
    author: person(commit.author),
    committer: person(commit.committer),
    parents: [...commit.parent],
    tree: commit.tree,
    ...(reverts ? { reverts } : {}),
  };
}

function isHidden(name: string): boolean {
  return name.startsWith(".");
}

async function ignoreRulesOf(ctx: ReadContext, rootEntries: TreeEntry[]): Promise<IgnoreMatcher> {
  const entry = rootEntries.find((e) => e.path === IGNORE_FILE && e.type === "blob" && e.mode !== "120000");
  return new IgnoreMatcher(entry ? await readBlobText(ctx, entry.oid) : "");
}

/** Lists the manifest files under a tree, pruning hidden and ignored folders before reading them. */
async function collectFiles(
  ctx: ReadContext,
  entries: TreeEntry[],
  prefix: string,
  ignore: IgnoreMatcher,
  out: Array<{ path: string; oid: string }>,
  skipped: SkippedFile[],
): Promise<void> {
  await Promise.all(
    entries.map(async (entry) => {
      if (isHidden(entry.path)) return;
      const filepath = prefix ? `${prefix}/${entry.path}` : entry.path;
      if (entry.type === "tree") {
        // Pruning here is also git's rule: nothing inside an excluded folder can be re-included.
        if (ignore.matches(filepath, true)) return;
        await collectFiles(ctx, await readTreeEntries(ctx, entry.oid), filepath, ignore, out, skipped);
        return;
      }
      if (!MANIFEST_FILE.test(entry.path) || ignore.matches(filepath, false)) return;
      if (entry.type === "commit") skipped.push({ path: filepath, reason: "submodule" });
      // A symlink's blob is the link target, not a manifest; following it could leave the repository.
      else if (entry.mode === "120000") skipped.push({ path: filepath, reason: "symlink" });
      else out.push({ path: filepath, oid: entry.oid });
    }),
  );
}

function byPath<T extends { path: string }>(a: T, b: T): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// Public API

/**
 * Reads the desired state: the tracked branch's head commit and the manifest files of its tree
 * (`*.yaml`, `*.yml`, `*.json`; hidden files and folders skipped; `.kubelingsignore` at the root
 * honoured, see `IgnoreMatcher`). The branch is `options.branch`, or the branch HEAD points at
 * (a detached HEAD is read as is, with `branch: null`). Trees and blobs are read in parallel
 * and cached by id, so a commit that changes one file reads one blob.
 *
 * Throws a `SourceError` (never a raw isomorphic-git error): `NoRepository`,
 * `NotAGitRepository`, `EmptyRepository`, `BranchNotFound` or `Corrupt`.
 */
export async function readHead(repoDir: string, options: ReadHeadOptions = {}): Promise<HeadSnapshot> {
  const fs = options.fs ?? nodeFs;
  const cache = options.cache ?? sharedCache;
  const repo = await openRepo(repoDir, fs);
  return withRetry(async () => {
    const target = options.commit ? { branch: options.branch ?? null, oid: options.commit } : await resolveTarget(repo, options.branch);
    const ctx: ReadContext = { repo, cache, gitCache: await cache.gitCache(fs, repo.gitdir), limit: limiter(READ_CONCURRENCY) };
    const commit = await readHeadCommit(ctx, target.oid);
    const root = await readTreeEntries(ctx, commit.tree);
    const ignore = await ignoreRulesOf(ctx, root);
    const found: Array<{ path: string; oid: string }> = [];
    const skipped: SkippedFile[] = [];
    await collectFiles(ctx, root, "", ignore, found, skipped);
    found.sort(byPath);
    skipped.sort(byPath);
    const files = await Promise.all(found.map(async (f) => ({ path: f.path, oid: f.oid, content: await readBlobText(ctx, f.oid) })));
    return { branch: target.branch, commit, files, skipped };
  });
}

/**
 * The current head commit id of the tracked branch (`branch`, or the branch HEAD points at):
 * a cheap read of one or two ref files, for the watcher to decide whether a sync is needed.
 * Throws the same `SourceError`s as `readHead`.
 */
export async function headOid(repoDir: string, branch?: string, options: { fs?: GitFs } = {}): Promise<string> {
  const repo = await openRepo(repoDir, options.fs ?? nodeFs);
  return withRetry(async () => (await resolveTarget(repo, branch)).oid);
}

/**
 * Manifest files whose working-tree or staged content is not what commit `headCommitOid` has,
 * including untracked and deleted ones, for the hint "web.yaml has changes that are not
 * committed" (uncommitted edits are never applied). Pass null for a repository without commits.
 * Only manifest files count (plus `.kubelingsignore` itself), hidden folders are skipped, so are
 * paths that both the committed and the working-tree `.kubelingsignore` exclude, and untracked
 * files ignored by `.gitignore` are left out, as `git status` does. Read
 * only: the index is never rewritten. Sorted by path.
 */
export async function uncommittedChanges(
  repoDir: string,
  headCommitOid: string | null,
  options: { fs?: GitFs; cache?: SourceCache } = {},
): Promise<UncommittedChange[]> {
  const fs = options.fs ?? nodeFs;
  const cache = options.cache ?? sharedCache;
  const repo = await openRepo(repoDir, fs);
  const ctx: ReadContext = { repo, cache, gitCache: await cache.gitCache(fs, repo.gitdir), limit: limiter(READ_CONCURRENCY) };
  let treeOid = EMPTY_TREE;
  if (headCommitOid !== null) {
    if (!OID.test(headCommitOid)) throw new TypeError(`uncommittedChanges: headCommitOid must be a 40-hex commit id, got ${JSON.stringify(headCommitOid)}`);
    treeOid = (await readHeadCommit(ctx, headCommitOid)).tree;
  }
  // A file is left out only when both the committed and the working-tree ignore file exclude it:
  // a change matters if it is applied now or would be once the working tree is committed.
  const committedIgnore = await ignoreRulesOf(ctx, treeOid === EMPTY_TREE ? [] : await readTreeEntries(ctx, treeOid));
  let workingIgnore: IgnoreMatcher;
  try {
    workingIgnore = new IgnoreMatcher(await fs.promises.readFile(path.join(repoDir, IGNORE_FILE), "utf8"));
  } catch {
    workingIgnore = new IgnoreMatcher("");
  }
  const ignored = (filepath: string, isDir: boolean) => committedIgnore.matches(filepath, isDir) && workingIgnore.matches(filepath, isDir);
  const changes: UncommittedChange[] = [];
  try {
    await git.walk({
      fs,
      dir: repoDir,
      cache: ctx.gitCache,
      // refresh: false, so the walk never rewrites .git/index while the learner's git may be using it.
      trees: [TREE({ ref: treeOid }), WORKDIR({ refresh: false }), STAGE()],
      map: async (filepath: string, [head, workdir, stage]: Array<WalkerEntry | null>) => {
        if (filepath === ".") return undefined;
        const name = filepath.slice(filepath.lastIndexOf("/") + 1);
        const isIgnoreFile = filepath === IGNORE_FILE;
        if (isHidden(name) && !isIgnoreFile) return null;
        const [headType, workdirType, stageType] = await Promise.all([head?.type(), workdir?.type(), stage?.type()]);
        const isDir = headType === "tree" || workdirType === "tree" || stageType === "tree";
        // Cheap name checks first: .gitignore is only consulted for untracked folders and manifests.
        if (!isDir && !isIgnoreFile && !MANIFEST_FILE.test(name)) return undefined;
        if (!isIgnoreFile && ignored(filepath, isDir)) return null;
        if (!head && !stage && workdir && (await git.isIgnored({ fs, dir: repoDir, filepath }))) return null;
        if (isDir) return undefined;
        const headOid = headType === "blob" ? await head!.oid() : undefined;
        const stageOid = stageType === "blob" ? await stage!.oid() : undefined;
        const workOid = workdirType === "blob" ? await workdir!.oid() : undefined;
        const change = classify(headOid, stageOid, workOid);
        if (change) changes.push({ path: filepath, ...change });
        return undefined;
      },
    });
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw corrupt(repo, `cannot compare the working tree with commit ${headCommitOid ?? "(none)"}: ${causeOf(err)}`);
  }
  return changes.sort(byPath);
}

/** Classifies one file from its ids in the commit, the index and the working tree (like `git status`). */
function classify(
  headOid: string | undefined,
  stageOid: string | undefined,
  workOid: string | undefined,
): { change: UncommittedChangeKind; staged: boolean } | undefined {
  const staged = stageOid !== headOid;
  if (headOid === undefined) {
    if (stageOid === undefined) return workOid === undefined ? undefined : { change: "untracked", staged: false };
    return { change: "added", staged: true };
  }
  if (workOid === undefined || stageOid === undefined) return { change: "deleted", staged: stageOid === undefined };
  if (workOid !== headOid || staged) return { change: "modified", staged };
  return undefined;
}

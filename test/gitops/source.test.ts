import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { IgnoreMatcher, SourceCache, SourceError, headOid, readHead, uncommittedChanges, type GitFs } from "../../src/gitops/source.js";
import { FIRST_COMMIT_TIME, TestRepo } from "./_git.js";

const repos: TestRepo[] = [];
function newRepo(): TestRepo {
  const repo = TestRepo.init();
  repos.push(repo);
  return repo;
}
afterAll(() => {
  for (const repo of repos) repo.remove();
});

const WEB = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
const SVC = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n";

/** Paths and contents of a snapshot, for compact assertions. */
function contents(snapshot: { files: Array<{ path: string; content: string }> }): Record<string, string> {
  return Object.fromEntries(snapshot.files.map((f) => [f.path, f.content]));
}

/** Catches the SourceError a promise rejects with. */
async function sourceError(promise: Promise<unknown>): Promise<SourceError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    return err as SourceError;
  }
  throw new Error("expected a SourceError, got success");
}

describe("readHead", () => {
  it("returns the head commit and only the manifest files of its tree, sorted by path", async () => {
    const repo = newRepo();
    const oid = repo.commitFiles("Add web\n\nFirst deployment of the web app.", {
      "web.yaml": WEB,
      "apps/svc.yml": SVC,
      "apps/config.json": '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}',
      "README.md": "# not a manifest",
      "scripts/run.sh": "echo hi",
      "notes.YAML": "extensions are case-sensitive, as in kubectl and Argo CD",
    });
    const head = await readHead(repo.dir, { cache: new SourceCache() });
    expect(head.branch).toBe("main");
    expect(head.commit.oid).toBe(oid);
    expect(head.commit.subject).toBe("Add web");
    expect(head.commit.message).toBe("Add web\n\nFirst deployment of the web app.");
    expect(head.commit.author).toEqual({ name: "Ada Learner", email: "ada@example.com", timestamp: FIRST_COMMIT_TIME, timezoneOffset: 0 });
    expect(head.commit.parents).toEqual([]);
    expect(head.commit.tree).toBe(repo.git("rev-parse", "HEAD^{tree}"));
    expect(head.files.map((f) => f.path)).toEqual(["apps/config.json", "apps/svc.yml", "web.yaml"]);
    expect(contents(head)["web.yaml"]).toBe(WEB);
    expect(head.files[2].oid).toBe(repo.git("rev-parse", "HEAD:web.yaml"));
    expect(head.skipped).toEqual([]);
  });

  it("reads the committed tree, not the working tree", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "web.yaml": WEB });
    repo.write("web.yaml", WEB + "  labels: {edited: 'true'}\n").write("new.yaml", SVC);
    const head = await readHead(repo.dir);
    expect(contents(head)).toEqual({ "web.yaml": WEB });
  });

  it("follows git commit --amend: the amended commit replaces the old head", async () => {
    const repo = newRepo();
    const first = repo.commitFiles("one", { "web.yaml": WEB });
    repo.write("web.yaml", WEB.replace("web", "web2"));
    repo.git("add", "-A");
    repo.git("commit", "-q", "--amend", "-m", "one, amended");
    const head = await readHead(repo.dir);
    expect(head.commit.oid).not.toBe(first);
    expect(head.commit.subject).toBe("one, amended");
    expect(head.commit.parents).toEqual([]);
    expect(contents(head)["web.yaml"]).toContain("name: web2");
  });

  it("follows git revert: the revert commit restores the content and names the reverted commit", async () => {
    const repo = newRepo();
    const good = repo.commitFiles("good", { "web.yaml": WEB });
    const bad = repo.commitFiles("bad", { "web.yaml": WEB.replace("web", "broken"), "extra.yaml": SVC });
    repo.git("revert", "--no-edit", "HEAD");
    const head = await readHead(repo.dir);
    expect(head.commit.subject).toBe('Revert "bad"');
    expect(head.commit.reverts).toBe(bad);
    expect(head.commit.parents).toEqual([bad]);
    expect(contents(head)).toEqual({ "web.yaml": WEB });
    expect(head.commit.tree).toBe(repo.git("rev-parse", `${good}^{tree}`));
  });

  it("follows git reset --hard: the older commit is simply the new head", async () => {
    const repo = newRepo();
    const first = repo.commitFiles("one", { "web.yaml": WEB });
    repo.commitFiles("two", { "svc.yaml": SVC });
    repo.git("reset", "-q", "--hard", "HEAD~1");
    const head = await readHead(repo.dir);
    expect(head.commit.oid).toBe(first);
    expect(Object.keys(contents(head))).toEqual(["web.yaml"]);
  });

  it("reads packed objects and packed refs after git gc, and loose objects written after it", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "web.yaml": WEB, "apps/svc.yaml": SVC });
    repo.commitFiles("two", { "web.yaml": WEB + "  labels: {app: web}\n" });
    repo.git("gc", "-q");
    // The real git moved everything into a pack and the branch into packed-refs.
    expect(fs.existsSync(path.join(repo.dir, ".git/refs/heads/main"))).toBe(false);
    expect(fs.readFileSync(path.join(repo.dir, ".git/packed-refs"), "utf8")).toContain("refs/heads/main");
    expect(fs.readdirSync(path.join(repo.dir, ".git/objects/pack")).some((f) => f.endsWith(".pack"))).toBe(true);
    const packed = await readHead(repo.dir, { cache: new SourceCache() });
    expect(packed.commit.oid).toBe(repo.head());
    expect(contents(packed)).toEqual({ "apps/svc.yaml": SVC, "web.yaml": WEB + "  labels: {app: web}\n" });
    expect(await headOid(repo.dir)).toBe(repo.head());

    // A commit after gc: loose objects and a loose ref on top of the pack.
    repo.commitFiles("three", { "db.yaml": SVC.replace("web", "db") });
    const mixed = await readHead(repo.dir, { cache: new SourceCache() });
    expect(mixed.commit.parents).toEqual([packed.commit.oid]);
    expect(Object.keys(contents(mixed))).toEqual(["apps/svc.yaml", "db.yaml", "web.yaml"]);
  });

  it("reads the branch it is asked for, by short or full name, and a detached HEAD", async () => {
    const repo = newRepo();
    const main = repo.commitFiles("main", { "web.yaml": WEB });
    repo.git("switch", "-q", "-c", "prod");
    const prod = repo.commitFiles("prod", { "prod.yaml": SVC });
    repo.git("switch", "-q", "main");
    expect((await readHead(repo.dir)).commit.oid).toBe(main);
    const byName = await readHead(repo.dir, { branch: "prod" });
    expect(byName.branch).toBe("prod");
    expect(byName.commit.oid).toBe(prod);
    expect(Object.keys(contents(byName))).toEqual(["prod.yaml", "web.yaml"]);
    expect((await readHead(repo.dir, { branch: "refs/heads/prod" })).commit.oid).toBe(prod);
    expect(await headOid(repo.dir, "prod")).toBe(prod);
    repo.git("checkout", "-q", "--detach", prod);
    const detached = await readHead(repo.dir);
    expect(detached.branch).toBeNull();
    expect(detached.commit.oid).toBe(prod);
  });

  it("skips hidden files and folders", async () => {
    const repo = newRepo();
    repo.commitFiles("hidden", {
      "web.yaml": WEB,
      ".github/workflows/ci.yaml": "on: push",
      ".hidden.yaml": SVC,
      "apps/.drafts/draft.yaml": SVC,
      "apps/svc.yaml": SVC,
    });
    expect((await readHead(repo.dir)).files.map((f) => f.path)).toEqual(["apps/svc.yaml", "web.yaml"]);
  });

  it("honours .kubelingsignore at the root", async () => {
    const repo = newRepo();
    repo.commitFiles("ignore", {
      ".kubelingsignore": [
        "# drafts are not applied",
        "drafts/",
        "*.tmp.yaml",
        "/only-root.yaml",
        "apps/**/test/",
        "*.json",
        "!keep.json",
        "!drafts/rescued.yaml",
        "",
      ].join("\n"),
      "web.yaml": WEB,
      "drafts/a.yaml": SVC,
      "drafts/rescued.yaml": SVC,
      "web.tmp.yaml": SVC,
      "apps/web.tmp.yaml": SVC,
      "only-root.yaml": SVC,
      "apps/only-root.yaml": SVC,
      "apps/team/test/t.yaml": SVC,
      "apps/test/t.yaml": SVC,
      "apps/tested.yaml": SVC,
      "config.json": "{}",
      "apps/keep.json": "{}",
    });
    expect((await readHead(repo.dir)).files.map((f) => f.path)).toEqual(["apps/keep.json", "apps/only-root.yaml", "apps/tested.yaml", "web.yaml"]);
  });

  it("does not read symbolic links, and says so", async () => {
    const repo = newRepo();
    repo.write("web.yaml", WEB);
    fs.symlinkSync("web.yaml", path.join(repo.dir, "link.yaml"));
    repo.commit("link");
    const head = await readHead(repo.dir);
    expect(head.files.map((f) => f.path)).toEqual(["web.yaml"]);
    expect(head.skipped).toEqual([{ path: "link.yaml", reason: "symlink" }]);
  });

  it("does not read an unchanged file again: blobs are cached by id", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "a.yaml": WEB, "b.yaml": SVC, "apps/c.yaml": SVC.replace("web", "c") });
    const reads: string[] = [];
    const counting = {
      ...fs,
      promises: {
        ...fs.promises,
        readFile: (async (file: fs.PathLike | fs.promises.FileHandle, options?: unknown) => {
          reads.push(String(file));
          return fs.promises.readFile(file as fs.PathLike, options as never);
        }) as typeof fs.promises.readFile,
      },
    } as GitFs;
    const cache = new SourceCache();
    const first = await readHead(repo.dir, { fs: counting, cache });
    const blobOids = new Map(first.files.map((f) => [f.path, f.oid]));
    const objectReads = (oid: string) => reads.filter((r) => r.endsWith(path.join(oid.slice(0, 2), oid.slice(2)))).length;
    expect(objectReads(blobOids.get("a.yaml")!)).toBe(1);

    reads.length = 0;
    repo.commitFiles("two", { "b.yaml": SVC + "  labels: {x: y}\n" });
    const second = await readHead(repo.dir, { fs: counting, cache });
    expect(contents(second)["b.yaml"]).toContain("x: y");
    expect(objectReads(blobOids.get("a.yaml")!)).toBe(0);
    expect(objectReads(blobOids.get("apps/c.yaml")!)).toBe(0);
    // The unchanged apps/ tree is not read again either.
    expect(objectReads(repo.git("rev-parse", "HEAD:apps"))).toBe(0);
    expect(objectReads(second.files.find((f) => f.path === "b.yaml")!.oid)).toBe(1);
  });
});

describe("SourceCache", () => {
  it("stays under its byte bound, dropping the least recently used entries first", () => {
    const cache = new SourceCache(1000);
    cache.setBlob("a".repeat(40), "x".repeat(300));
    cache.setBlob("b".repeat(40), "x".repeat(300));
    expect(cache.blob("a".repeat(40))).toBeDefined(); // a is now the most recently used
    cache.setBlob("c".repeat(40), "x".repeat(300));
    expect(cache.size.bytes).toBeLessThanOrEqual(1000);
    expect(cache.blob("b".repeat(40))).toBeUndefined();
    expect(cache.blob("a".repeat(40))).toBe("x".repeat(300));
    expect(cache.blob("c".repeat(40))).toBe("x".repeat(300));
  });
});

describe("IgnoreMatcher", () => {
  const cases: Array<[pattern: string, path: string, isDir: boolean, ignored: boolean]> = [
    ["*.yaml", "a.yaml", false, true],
    ["*.yaml", "deep/er/a.yaml", false, true],
    ["*.yaml", "a.yml", false, false],
    ["a?.yaml", "ab.yaml", false, true],
    ["a?.yaml", "a/.yaml", false, false],
    ["/web.yaml", "web.yaml", false, true],
    ["/web.yaml", "apps/web.yaml", false, false],
    ["apps/web.yaml", "apps/web.yaml", false, true],
    ["apps/web.yaml", "x/apps/web.yaml", false, false],
    ["build/", "build", true, true],
    ["build/", "build", false, false],
    ["build/", "src/build/x.yaml", false, true],
    ["**/test", "a/b/test", true, true],
    ["**/test", "test", true, true],
    ["a/**/b", "a/b", false, true],
    ["a/**/b", "a/x/y/b", false, true],
    ["a/**", "a/x/y.yaml", false, true],
    ["a/**", "a", true, false],
    ["a**b.yaml", "axxb.yaml", false, true],
    ["a**b.yaml", "a/b.yaml", false, false],
    ["[abc].yaml", "b.yaml", false, true],
    ["[!abc].yaml", "b.yaml", false, false],
    ["[!abc].yaml", "d.yaml", false, true],
    ["\\#hash.yaml", "#hash.yaml", false, true],
    ["# comment.yaml", "# comment.yaml", false, false],
    ["\\!bang.yaml", "!bang.yaml", false, true],
    ["trailing.yaml   ", "trailing.yaml", false, true],
  ];
  it.each(cases)("%j on %j (dir %s) ignored=%s", (pattern, file, isDir, ignored) => {
    expect(new IgnoreMatcher(pattern).ignores(file, isDir)).toBe(ignored);
  });

  it("lets the last matching line win, and cannot re-include a file inside an excluded folder", () => {
    const m = new IgnoreMatcher("*.yaml\n!keep.yaml\nout/\n!out/keep.yaml\n");
    expect(m.ignores("x.yaml")).toBe(true);
    expect(m.ignores("keep.yaml")).toBe(false);
    expect(m.ignores("out/keep.yaml")).toBe(true);
    expect(new IgnoreMatcher("\n# only comments\n\n").empty).toBe(true);
  });
});

describe("uncommittedChanges", () => {
  it("lists modified, staged, untracked and deleted manifests, and nothing else", async () => {
    const repo = newRepo();
    const oid = repo.commitFiles("one", {
      "web.yaml": WEB,
      "svc.yaml": SVC,
      "db.yaml": SVC.replace("web", "db"),
      "same.yaml": SVC.replace("web", "same"),
      "README.md": "readme",
      ".gitignore": "local/\n",
    });
    repo.write("web.yaml", WEB + "  labels: {edited: 'yes'}\n");
    repo.write("svc.yaml", SVC + "  labels: {staged: 'yes'}\n");
    repo.git("add", "svc.yaml");
    repo.write("new.yaml", SVC.replace("web", "new"));
    repo.write("apps/added.yml", SVC.replace("web", "added"));
    repo.git("add", "apps/added.yml");
    repo.delete("db.yaml");
    repo.write("README.md", "changed, but not a manifest");
    repo.write("local/private.yaml", "ignored by .gitignore");
    repo.write(".hidden/x.yaml", "hidden");
    const indexBefore = fs.readFileSync(path.join(repo.dir, ".git/index"));

    const changes = await uncommittedChanges(repo.dir, oid);
    expect(changes).toEqual([
      { path: "apps/added.yml", change: "added", staged: true },
      { path: "db.yaml", change: "deleted", staged: false },
      { path: "new.yaml", change: "untracked", staged: false },
      { path: "svc.yaml", change: "modified", staged: true },
      { path: "web.yaml", change: "modified", staged: false },
    ]);
    // Read only: the learner's index is never rewritten behind git's back.
    expect(fs.readFileSync(path.join(repo.dir, ".git/index")).equals(indexBefore)).toBe(true);
  });

  it("is empty for a clean working tree, and honours .kubelingsignore (committed or edited)", async () => {
    const repo = newRepo();
    const oid = repo.commitFiles("one", { "web.yaml": WEB, ".kubelingsignore": "drafts/\n" });
    expect(await uncommittedChanges(repo.dir, oid)).toEqual([]);
    repo.write("drafts/wip.yaml", SVC);
    expect(await uncommittedChanges(repo.dir, oid)).toEqual([]);
    repo.write(".kubelingsignore", "");
    expect((await uncommittedChanges(repo.dir, oid)).map((c) => c.path)).toEqual([".kubelingsignore", "drafts/wip.yaml"]);
  });

  it("reports every manifest as untracked in a repository without commits", async () => {
    const repo = newRepo();
    repo.write("web.yaml", WEB);
    expect(await uncommittedChanges(repo.dir, null)).toEqual([{ path: "web.yaml", change: "untracked", staged: false }]);
  });
});

describe("SourceError", () => {
  it("NoRepository: the folder does not exist", async () => {
    const missing = path.join(newRepo().dir, "nope");
    const err = await sourceError(readHead(missing));
    expect(err.code).toBe("NoRepository");
    expect(err.message).toContain(missing);
    expect(err.message).toContain("kubelings init");
    expect((await sourceError(headOid(missing))).code).toBe("NoRepository");
  });

  it("NotAGitRepository: a folder without .git", async () => {
    const plain = TestRepo.plainFolder();
    repos.push(plain);
    const err = await sourceError(readHead(plain.dir));
    expect(err.code).toBe("NotAGitRepository");
    expect(err.message).toContain(plain.dir);
    expect(err.message).toMatch(/kubelings init|git init/);
  });

  it("EmptyRepository: git init without a commit", async () => {
    const repo = newRepo();
    repo.write("web.yaml", WEB);
    const err = await sourceError(readHead(repo.dir));
    expect(err.code).toBe("EmptyRepository");
    expect(err.message).toContain(repo.dir);
    expect(err.message).toContain("git commit");
    expect((await sourceError(headOid(repo.dir))).code).toBe("EmptyRepository");
    expect((await sourceError(readHead(repo.dir, { branch: "main" }))).code).toBe("EmptyRepository");
  });

  it("BranchNotFound: names the branches that exist", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "web.yaml": WEB });
    const err = await sourceError(readHead(repo.dir, { branch: "prod" }));
    expect(err.code).toBe("BranchNotFound");
    expect(err.message).toContain('no branch "prod"');
    expect(err.message).toContain("main");
    expect(err.toJSON()).toMatchObject({ code: "BranchNotFound", dir: repo.dir, data: { branch: "prod", branches: ["main"] } });
  });

  it("Corrupt: a truncated loose object", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "web.yaml": WEB });
    const blob = repo.git("rev-parse", "HEAD:web.yaml");
    const file = repo.looseObjectPath(blob);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 10));
    const err = await sourceError(readHead(repo.dir, { cache: new SourceCache() }));
    expect(err.code).toBe("Corrupt");
    expect(err.message).toContain(repo.dir);
    expect(err.message).toContain(blob);
    expect(err.message).toContain("git fsck");
    expect(err.message).not.toMatch(/isomorphic-git|report this error|\n\s+at /);
  });

  it("Corrupt: an object file overwritten with garbage, and a missing object", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "apps/web.yaml": WEB });
    const tree = repo.git("rev-parse", "HEAD:apps");
    const file = repo.looseObjectPath(tree);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, "garbage, not zlib");
    const garbled = await sourceError(readHead(repo.dir, { cache: new SourceCache() }));
    expect(garbled.code).toBe("Corrupt");
    expect(garbled.message).toContain(`tree ${tree} cannot be read`);
    fs.rmSync(file);
    const missing = await sourceError(readHead(repo.dir, { cache: new SourceCache() }));
    expect(missing.code).toBe("Corrupt");
    expect(missing.message).toContain(`tree ${tree} is missing`);
  });

  it("Corrupt: garbage in a branch ref, an empty ref, and a broken HEAD", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "web.yaml": WEB });
    const ref = path.join(repo.dir, ".git/refs/heads/main");
    fs.writeFileSync(ref, "not a commit id\n");
    const garbage = await sourceError(readHead(repo.dir));
    expect(garbage.code).toBe("Corrupt");
    expect(garbage.message).toContain('refs/heads/main holds "not a commit id"');
    expect((await sourceError(headOid(repo.dir))).code).toBe("Corrupt");
    fs.writeFileSync(ref, "");
    expect((await sourceError(readHead(repo.dir))).message).toContain("refs/heads/main is empty");
    fs.writeFileSync(path.join(repo.dir, ".git/HEAD"), "\x00\x01junk");
    expect((await sourceError(readHead(repo.dir))).code).toBe("Corrupt");
    fs.writeFileSync(path.join(repo.dir, ".git/HEAD"), "ref: refs/heads/\n");
    expect((await sourceError(readHead(repo.dir))).message).toContain('.git/HEAD points at "refs/heads/", which is not a branch');
  });

  it("Corrupt: a branch pointing at a commit id that is not in the repository", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "web.yaml": WEB });
    fs.writeFileSync(path.join(repo.dir, ".git/refs/heads/main"), "0123456789abcdef0123456789abcdef01234567\n");
    const err = await sourceError(readHead(repo.dir));
    expect(err.code).toBe("Corrupt");
    expect(err.message).toContain("commit 0123456789abcdef0123456789abcdef01234567 is missing");
  });
});

describe("headOid", () => {
  it("is the id git rev-parse reports, and moves with each commit", async () => {
    const repo = newRepo();
    repo.commitFiles("one", { "web.yaml": WEB });
    expect(await headOid(repo.dir)).toBe(repo.head());
    const next = repo.commitFiles("two", { "svc.yaml": SVC });
    expect(await headOid(repo.dir)).toBe(next);
  });
});

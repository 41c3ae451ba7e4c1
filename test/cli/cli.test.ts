/**
 * End-to-end tests of the `kubelings` program itself, run as a child process (through tsx, so
 * the sources under test are the ones in the tree) against real git repositories.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";

const ROOT = path.resolve(new URL("../..", import.meta.url).pathname);
const MAIN = path.join(ROOT, "src/cli/main.ts");
/** tsx's loader by absolute path: the child runs in a temporary folder without node_modules. */
const TSX = pathToFileURL(path.join(ROOT, "node_modules/tsx/dist/loader.mjs")).href;
const tmpDirs: string[] = [];
const children: ChildProcess[] = [];

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubelings-cli-"));
  tmpDirs.push(dir);
  return dir;
}

function kubelings(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, ["--import", TSX, MAIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function git(cwd: string, ...args: string[]): string {
  return spawnSync("git", args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "Ada", GIT_AUTHOR_EMAIL: "ada@example.com", GIT_COMMITTER_NAME: "Ada", GIT_COMMITTER_EMAIL: "ada@example.com" },
  }).stdout.trim();
}

/** Waits until `read()` contains `text` (polling every 50 ms, up to `ms`). */
async function waitFor(read: () => string, text: string | RegExp, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const current = read();
    if (typeof text === "string" ? current.includes(text) : text.test(current)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(text)} in:\n${current}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe("kubelings program", () => {
  it("prints help and exits 0, refuses an unknown command with exit 2", () => {
    const dir = tmp();
    const help = kubelings(["--help"], dir);
    expect(help.code).toBe(0);
    for (const cmd of ["init", "serve", "sim", "sync", "diff", "status", "history", "api-resources"]) expect(help.stdout).toContain(cmd);
    const bare = kubelings([], dir);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toContain("Start here: kubelings serve");
    const bad = kubelings(["frobnicate"], dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown command 'frobnicate'");
  });

  it("init creates a repository from the template and refuses to overwrite one", () => {
    const dir = tmp();
    const r = kubelings(["init", "repo"], dir);
    expect(r.code).toBe(0);
    expect(git(path.join(dir, "repo"), "log", "--format=%s")).toBe("Start my cluster from the kubelings template");
    expect(fs.existsSync(path.join(dir, "repo/hello/deployment.yaml"))).toBe(true);
    const again = kubelings(["init", "repo"], dir);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists and is not empty");
  });

  it("sim replays a rollout and its git revert exactly, the same way every time", () => {
    const dir = tmp();
    kubelings(["init", "repo"], dir);
    const repo = path.join(dir, "repo");
    const file = path.join(repo, "hello/deployment.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("nginx:1.27", "nginx:1.28"));
    git(repo, "commit", "-qam", "Roll out nginx 1.28");
    git(repo, "revert", "--no-edit", "HEAD");
    const first = kubelings(["sim", "--repo", "repo", "--replay", "--step", "3m", "-o", "json"], dir);
    const second = kubelings(["sim", "--repo", "repo", "--replay", "--step", "3m", "-o", "json"], dir);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const list = JSON.parse(first.stdout);
    expect(list).toMatchObject({ apiVersion: "v1", kind: "List" });
    const replicaSets = list.items.filter((o: any) => o.kind === "ReplicaSet");
    expect(replicaSets).toHaveLength(2);
    const back = replicaSets.find((rs: any) => rs.spec.template.spec.containers[0].image === "nginx:1.27");
    expect(back.metadata.annotations["deployment.kubernetes.io/revision"]).toBe("3");
    expect(back.metadata.annotations["deployment.kubernetes.io/revision-history"]).toBe("1");
    expect(back.status.readyReplicas).toBe(2);
    const pods = list.items.filter((o: any) => o.kind === "Pod");
    expect(pods.map((p: any) => p.spec.containers[0].image)).toEqual(["nginx:1.27", "nginx:1.27"]);
  });

  it("sim refuses a bad option with exit 2", () => {
    const dir = tmp();
    kubelings(["init", "repo"], dir);
    const r = kubelings(["sim", "--repo", "repo", "--for", "soon"], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('invalid duration "soon"');
  });

  it("serve syncs each new commit, answers status through its control socket, refuses a second writer, and stops cleanly", async () => {
    const dir = tmp();
    let log = "";
    const serve = spawn(process.execPath, ["--import", TSX, MAIN, "serve", "--repo", "repo", "--speed", "20"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
    children.push(serve);
    serve.stdout.on("data", (d) => (log += d));
    serve.stderr.on("data", (d) => (log += d));
    await waitFor(() => log, "watching");
    expect(log).toContain("created the repository");
    expect(log).toMatch(/synced [0-9a-f]{7} "Start my cluster from the kubelings template"/);

    const repo = path.join(dir, "repo");
    const file = path.join(repo, "hello/deployment.yaml");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("replicas: 2", "replicas: 3"));
    git(repo, "commit", "-qam", "Three hellos");
    const head = git(repo, "rev-parse", "--short=7", "HEAD");
    await waitFor(() => log, `synced ${head} "Three hellos"`);

    const status = kubelings(["status", "--repo", "repo", "-o", "json"], dir);
    expect(status.code).toBe(0);
    const report = JSON.parse(status.stdout);
    expect(report.sync).toBe("Synced");
    expect(report.lastSynced.oid.startsWith(head)).toBe(true);

    const second = kubelings(["serve", "--repo", "repo"], dir);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain("is in use by another kubelings process");

    const exited = new Promise<number | null>((resolve) => serve.on("exit", (code) => resolve(code)));
    serve.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(log).toContain("SIGTERM received: stopping");

    // Without a server the commands open the state themselves: history survived the restart.
    const history = kubelings(["history", "--repo", "repo", "-o", "json"], dir);
    expect(history.code).toBe(0);
    const entries = JSON.parse(history.stdout);
    expect(entries.map((e: any) => `${e.trigger} ${e.result} ${e.subject}`)).toEqual([
      "start Synced Start my cluster from the kubelings template",
      "commit Synced Three hellos",
    ]);
    const diff = kubelings(["diff", "--repo", "repo"], dir);
    expect(diff.code).toBe(0);
  });
});

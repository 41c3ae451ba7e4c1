/**
 * Test helper: real git repositories made with the real `git` CLI in temporary folders, with
 * fixed identities and dates so commit ids are the same on every run.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** Seconds since the epoch of the first commit a TestRepo makes (2024-01-01T00:00:00Z); each later commit is one minute later. */
export const FIRST_COMMIT_TIME = 1704067200;

/** A git repository in a temporary folder, driven by the real `git` CLI. */
export class TestRepo {
  /** Number of git commands that wrote a commit, to give each the next fixed date. */
  private tick = 0;

  private constructor(readonly dir: string) {}

  /** `git init -b main` in a new temporary folder, with a local user name and email. */
  static init(options: { branch?: string } = {}): TestRepo {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubelings-git-"));
    const repo = new TestRepo(dir);
    repo.git("init", "-q", "-b", options.branch ?? "main");
    repo.git("config", "user.name", "Ada Learner");
    repo.git("config", "user.email", "ada@example.com");
    return repo;
  }

  /** A temporary folder that is not a git repository (for error tests); removed by `remove()` like a repo. */
  static plainFolder(): TestRepo {
    return new TestRepo(fs.mkdtempSync(path.join(os.tmpdir(), "kubelings-nogit-")));
  }

  /** Runs git in the repository and returns its standard output, trimmed. Dates are fixed for determinism. */
  git(...args: string[]): string {
    const when = `${FIRST_COMMIT_TIME + this.tick * 60} +0000`;
    if (["commit", "revert", "merge", "cherry-pick"].includes(args[0])) this.tick++;
    return execFileSync("git", args, {
      cwd: this.dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH,
        HOME: this.dir,
        // Ignore the machine's git configuration (signing, hooks, default branch...).
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_AUTHOR_DATE: when,
        GIT_COMMITTER_DATE: when,
        LC_ALL: "C",
      },
    }).trim();
  }

  /** Writes a file (creating folders) relative to the repository root. */
  write(file: string, content: string): this {
    const full = path.join(this.dir, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
    return this;
  }

  /** Deletes a file relative to the repository root. */
  delete(file: string): this {
    fs.rmSync(path.join(this.dir, file));
    return this;
  }

  /** `git add -A && git commit -m message`; returns the new commit id. */
  commit(message: string): string {
    this.git("add", "-A");
    this.git("commit", "-q", "--allow-empty", "-m", message);
    return this.head();
  }

  /** Writes the files then commits them; returns the new commit id. */
  commitFiles(message: string, files: Record<string, string>): string {
    for (const [file, content] of Object.entries(files)) this.write(file, content);
    return this.commit(message);
  }

  /** `git rev-parse HEAD`. */
  head(): string {
    return this.git("rev-parse", "HEAD");
  }

  /** Path of the loose object file of `oid`. */
  looseObjectPath(oid: string): string {
    return path.join(this.dir, ".git", "objects", oid.slice(0, 2), oid.slice(2));
  }

  /** Removes the repository folder. */
  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

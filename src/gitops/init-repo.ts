/**
 * Creates a learner repository from the `cluster-repo/` template: copies the files, runs
 * `git init` (branch `main`) and makes the first commit, with isomorphic-git so that no git
 * binary is needed for set-up (learners still use the real `git` for their own commits).
 */
import fs from "node:fs";
import path from "node:path";
import git from "isomorphic-git";
import type { Clock } from "../api/clock.js";

/** Why a repository could not be created. */
export class InitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InitError";
  }
}

/** Options of `initRepository`. */
export interface InitOptions {
  /** Folder holding the template files (the project's `cluster-repo/`). */
  readonly template: string;
  readonly clock: Clock;
  /** Commit author (default kubelings <kubelings@localhost>). */
  readonly author?: { name: string; email: string };
}

function copyTree(from: string, to: string, files: string[], rel = ""): void {
  for (const entry of fs.readdirSync(path.join(from, rel), { withFileTypes: true })) {
    const relPath = path.join(rel, entry.name);
    if (entry.isDirectory()) {
      fs.mkdirSync(path.join(to, relPath), { recursive: true });
      copyTree(from, to, files, relPath);
    } else if (entry.isFile()) {
      fs.copyFileSync(path.join(from, relPath), path.join(to, relPath));
      files.push(relPath.split(path.sep).join("/"));
    }
  }
}

/**
 * Creates `dir` as a git repository holding the template, committed on `main`. Refuses a folder
 * that already exists and is not empty, so nothing of the learner's is ever overwritten.
 * Returns the first commit's id.
 */
export async function initRepository(dir: string, options: InitOptions): Promise<string> {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new InitError(`${target} exists and is not a folder: choose another place for the repository`);
    if (fs.readdirSync(target).length > 0) {
      throw new InitError(`${target} already exists and is not empty: kubelings init only creates new repositories (use --repo ${target} to work with it as it is)`);
    }
  }
  if (!fs.existsSync(options.template)) throw new InitError(`the template folder ${options.template} is missing: reinstall kubelings`);
  fs.mkdirSync(target, { recursive: true });
  const files: string[] = [];
  copyTree(options.template, target, files);
  files.sort();
  await git.init({ fs, dir: target, defaultBranch: "main" });
  for (const filepath of files) await git.add({ fs, dir: target, filepath });
  const author = { ...(options.author ?? { name: "kubelings", email: "kubelings@localhost" }), timestamp: Math.floor(options.clock.now() / 1000), timezoneOffset: 0 };
  return git.commit({ fs, dir: target, message: "Start my cluster from the kubelings template\n", author, committer: author });
}

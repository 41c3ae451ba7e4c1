/**
 * Secrets are never printed: not in sync results, diffs, drift reports, status, the history
 * file, or validation errors (the README's security promise; Argo CD masks them the same way).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { VirtualClock } from "../../src/api/clock.js";
import { ApiServer } from "../../src/api/server/api-server.js";
import { MemoryStore } from "../../src/api/store/memory-store.js";
import { runDiff } from "../../src/cli/commands/diff.js";
import { FileHistory } from "../../src/gitops/history.js";
import { Reconciler } from "../../src/gitops/reconciler.js";
import { computeStatus } from "../../src/gitops/status.js";
import { seeded } from "../api/_harness.js";
import { TestRepo } from "./_git.js";

const cleanup: Array<() => void> = [];
afterAll(() => {
  for (const fn of cleanup.reverse()) fn();
});

const SECRET_TEXT = /hunter2|s3cr3t-new|aHVudGVyMg|czNjcjN0LW5ldw|plain-password/;

function secret(password: string): string {
  return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: ${password}\n`;
}

describe("secret values are never printed", () => {
  it("masks them in sync results, diffs, drift reports, status, the history file and errors", async () => {
    const repo = TestRepo.init();
    cleanup.push(() => repo.remove());
    const state = fs.mkdtempSync(path.join(os.tmpdir(), "kubelings-secrets-"));
    cleanup.push(() => fs.rmSync(state, { recursive: true, force: true }));
    const clock = new VirtualClock();
    const api = new ApiServer({ store: new MemoryStore(), clock, random: seeded() });
    await api.start();
    const history = FileHistory.open(state);
    const reconciler = new Reconciler({ client: api, clock, repoDir: repo.dir, history, repoName: "learner" });

    repo.commitFiles("Add the database password", { "secret.yaml": secret("hunter2") });
    const first = await reconciler.sync();
    expect(first.result).toBe("Synced");
    expect(Buffer.from((await api.get({ apiVersion: "v1", kind: "Secret", namespace: "default", name: "db" })).data.password, "base64").toString()).toBe("hunter2");

    repo.commitFiles("Rotate it", { "secret.yaml": secret("s3cr3t-new") });
    const preview = await reconciler.sync({ dryRun: true });
    expect(preview.operations).toHaveLength(1);
    expect(JSON.stringify(preview)).not.toMatch(SECRET_TEXT);
    expect(JSON.stringify(preview.operations[0].ops)).toContain("++++++++");

    const out: string[] = [];
    const io = { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(s) }, connect: async () => ({ client: api, close: async () => undefined }), clock };
    expect(await runDiff({ repo: repo.dir, state, repoName: "learner" }, io)).toBe(1);
    expect(await runDiff({ repo: repo.dir, state, repoName: "learner", output: "json" }, io)).toBe(1);
    expect(out.join("")).toContain("/data/password");
    expect(out.join("")).not.toMatch(SECRET_TEXT);

    const applied = await reconciler.sync();
    expect(JSON.stringify(applied)).not.toMatch(SECRET_TEXT);

    // Drift: someone edits the Secret behind git's back.
    await api.patch({ apiVersion: "v1", kind: "Secret", namespace: "default", name: "db" }, "application/merge-patch+json", {
      data: { password: Buffer.from("plain-password").toString("base64") },
    });
    const drift = await reconciler.checkDrift();
    expect(drift).toHaveLength(1);
    expect(JSON.stringify(drift)).not.toMatch(SECRET_TEXT);
    const status = await computeStatus({ client: api, repoDir: repo.dir, repoName: "learner" });
    expect(JSON.stringify(status)).not.toMatch(SECRET_TEXT);

    // A plain-text password put under data by mistake is refused without echoing it.
    repo.commitFiles("Oops", { "secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: plain-password\n" });
    const refused = await reconciler.sync();
    expect(refused.result).toBe("Refused");
    expect(refused.errors[0].text).toContain("write plain text under stringData instead");
    expect(JSON.stringify(refused)).not.toMatch(SECRET_TEXT);

    expect(fs.readFileSync(path.join(state, "sync-history.jsonl"), "utf8")).not.toMatch(SECRET_TEXT);
  });
});

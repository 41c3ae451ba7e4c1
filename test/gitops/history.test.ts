/**
 * The sync history: numbered entries, durable across reopening, bounded, and never broken by a
 * torn last line (a crash in the middle of a write).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FileHistory, HISTORY_FILE, MemoryHistory, type HistoryEntryInput } from "../../src/gitops/history.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function stateDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kubelings-history-"));
  dirs.push(dir);
  return dir;
}

function entry(n: number, extra: Partial<HistoryEntryInput> = {}): HistoryEntryInput {
  return {
    time: new Date(Date.UTC(2024, 0, 1, 0, n)).toISOString(),
    durationMs: 12,
    trigger: "commit",
    repo: "learner",
    commit: n.toString(16).padStart(40, "0"),
    subject: `commit ${n}`,
    author: { name: "Ada Learner", email: "ada@example.com", time: "2024-01-01T00:00:00Z" },
    result: "Synced",
    operations: [{ apiVersion: "apps/v1", kind: "Deployment", namespace: "default", name: "web", action: "patch", ops: [{ op: "replace", path: "/spec/replicas", value: n }] }],
    errors: [],
    ...extra,
  };
}

describe("MemoryHistory", () => {
  it("numbers entries, returns copies, and keeps the newest up to its limit", async () => {
    const h = new MemoryHistory(3);
    for (let i = 1; i <= 5; i++) expect((await h.append(entry(i))).id).toBe(i);
    const list = await h.list();
    expect(list.map((e) => e.id)).toEqual([3, 4, 5]);
    (list[0] as { subject: string }).subject = "changed";
    expect((await h.list())[0].subject).toBe("commit 3");
    expect(() => new MemoryHistory(0)).toThrow(/positive integer/);
  });
});

describe("FileHistory", () => {
  it("keeps every entry across reopening, as one JSON line each, and continues the numbering", async () => {
    const dir = stateDir();
    const h1 = FileHistory.open(dir);
    await h1.append(entry(1));
    await h1.append(entry(2, { result: "Refused", operations: [], errors: [{ file: "web.yaml", line: 3, column: 1, message: "bad", text: "web.yaml:3:1 bad" }] }));
    const lines = fs.readFileSync(path.join(dir, HISTORY_FILE), "utf8").split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe("");
    expect(JSON.parse(lines[1])).toMatchObject({ id: 2, result: "Refused", errors: [{ text: "web.yaml:3:1 bad" }] });

    const h2 = FileHistory.open(dir);
    expect((await h2.list()).map((e) => [e.id, e.result])).toEqual([
      [1, "Synced"],
      [2, "Refused"],
    ]);
    expect((await h2.append(entry(3))).id).toBe(3);
    expect(FileHistory.read(dir).map((e) => e.id)).toEqual([1, 2, 3]);
  });

  it("reads a missing file as an empty history", () => {
    expect(FileHistory.read(stateDir())).toEqual([]);
  });

  it("ignores a torn last line with a warning, then cuts it off on the next append", async () => {
    const dir = stateDir();
    const h = FileHistory.open(dir);
    await h.append(entry(1));
    await h.append(entry(2));
    const file = path.join(dir, HISTORY_FILE);
    // A crash in the middle of writing entry 3.
    fs.appendFileSync(file, JSON.stringify({ id: 3, ...entry(3) }).slice(0, 57));

    const warnings: string[] = [];
    const reopened = FileHistory.open(dir, { warn: (m) => warnings.push(m) });
    expect((await reopened.list()).map((e) => e.id)).toEqual([1, 2]);
    expect(warnings).toEqual([`${file}: ignored an incomplete last entry (kubelings stopped in the middle of writing it)`]);

    await reopened.append(entry(3));
    expect(warnings[1]).toContain("removed an incomplete last entry");
    const again: string[] = [];
    expect(FileHistory.read(dir, { warn: (m) => again.push(m) }).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(again).toEqual([]);
  });

  it("skips a line that is not an entry, with its line number, and keeps the rest", () => {
    const dir = stateDir();
    const file = path.join(dir, HISTORY_FILE);
    fs.writeFileSync(file, [JSON.stringify({ id: 1, ...entry(1) }), "{not json", JSON.stringify({ hello: "world" }), JSON.stringify({ id: 2, ...entry(2) }), ""].join("\n"));
    const warnings: string[] = [];
    expect(FileHistory.read(dir, { warn: (m) => warnings.push(m) }).map((e) => e.id)).toEqual([1, 2]);
    expect(warnings).toEqual([`${file}:2: ignored a line that is not a sync history entry`, `${file}:3: ignored a line that is not a sync history entry`]);
  });

  it("stays bounded: keeps the newest entries and rewrites the file once it holds twice the limit", async () => {
    const dir = stateDir();
    const h = FileHistory.open(dir, { limit: 5 });
    for (let i = 1; i <= 12; i++) await h.append(entry(i));
    expect((await h.list()).map((e) => e.id)).toEqual([8, 9, 10, 11, 12]);
    const lines = fs.readFileSync(path.join(dir, HISTORY_FILE), "utf8").trimEnd().split("\n");
    expect(lines.length).toBeLessThan(10);
    expect(FileHistory.read(dir, { limit: 5 }).map((e) => e.id)).toEqual([8, 9, 10, 11, 12]);
    const reopened = FileHistory.open(dir, { limit: 5 });
    expect((await reopened.append(entry(13))).id).toBe(13);
    expect(fs.existsSync(path.join(dir, `${HISTORY_FILE}.tmp`))).toBe(false);
  });

  it("keeps the default limit of 1,000 entries", async () => {
    const dir = stateDir();
    const h = FileHistory.open(dir);
    for (let i = 1; i <= 1005; i++) await h.append(entry(i, { operations: [] }));
    const list = await h.list();
    expect(list).toHaveLength(1000);
    expect(list[0].id).toBe(6);
    expect(FileHistory.read(dir)).toHaveLength(1000);
  });
});

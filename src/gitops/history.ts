/**
 * Sync history: one entry per sync attempt (commit, message, author, time, operations applied,
 * result, errors), kept across restarts, as Argo CD keeps `status.history` and Flux its
 * `.status.history` (gitops-anchors.md, "History & rollback"). There is no rollback verb:
 * `git revert` is the rollback, and an entry whose commit reverts another names it
 * (`reverts`), so the list reads "rollback of 3f2a9c1".
 *
 * The durable form is a JSON-lines file in the state directory, one entry per line, appended
 * and fsynced before `append` resolves, so an acknowledged entry survives a crash or power loss.
 * A crash in the middle of a write can leave a torn last line: it is skipped with a warning and
 * cut off by the next append, never fatal. The file is bounded: once it holds twice the limit,
 * it is rewritten atomically (temporary file, fsync, rename) with the newest `limit` entries.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Operation } from "fast-json-patch";

/** The outcome of one sync attempt. */
export type SyncResultCode =
  /** Every change of the commit was applied. */
  | "Synced"
  /** The commit was refused before anything was applied (invalid manifests, immutable changes, an accidental wipe). */
  | "Refused"
  /** The repository could not be read, or applying failed part-way (the API server refused a change). */
  | "Failed"
  /** The cluster already matched the commit: nothing was applied. */
  | "NoChange";

/** What started a sync attempt. */
export type SyncTrigger =
  /** `kubelings sync`, or a direct `Reconciler.sync()` call. */
  | "manual"
  /** The first sync when the reconciler starts. */
  | "start"
  /** A new commit on the tracked branch. */
  | "commit"
  /** The periodic resync. */
  | "resync"
  /** A change made behind git's back, reverted by self-heal. */
  | "self-heal";

/** What was done to one object. */
export type ObjectAction = "create" | "patch" | "delete";

/** The operations applied to one object in a sync. */
export interface ObjectOperations {
  readonly apiVersion: string;
  readonly kind: string;
  /** Absent for cluster-scoped objects. */
  readonly namespace?: string;
  readonly name: string;
  readonly action: ObjectAction;
  /**
   * The JSON Patch sent (`patch`): the resourceVersion `test` first, then the changes. The
   * reconciler's own last-applied bookkeeping annotation is left out of the record (it repeats
   * the whole object). Empty for `create` and `delete`.
   */
  readonly ops: Operation[];
  /** Where the object is defined in the repository (absent for pruned objects). */
  readonly source?: { readonly file: string; readonly line: number; readonly column: number };
  /** Why a patch was needed: `git` (a new commit) or `drift` (changed behind git's back). */
  readonly cause?: "git" | "drift";
}

/** One error of a sync attempt, positioned in the repository where it can be. */
export interface SyncError {
  /** File in the repository, when the error is about one object or file. */
  readonly file?: string;
  /** 1-based line in `file`. */
  readonly line?: number;
  /** 1-based column in `file`. */
  readonly column?: number;
  /** The object, as `Kind namespace/name`, when the error is about one object. */
  readonly object?: string;
  /** The field at fault (`spec.replicas`), when known. */
  readonly field?: string;
  /** What is wrong and, where there is one, the way out. */
  readonly message: string;
  /** The whole error in one line: `apps/web.yaml:12:7 spec.replicas: Invalid value: ...`. */
  readonly text: string;
}

/** The author of a commit. */
export interface HistoryAuthor {
  readonly name: string;
  readonly email: string;
  /** When the commit was authored (RFC 3339). */
  readonly time: string;
}

/** One sync attempt, as stored. */
export interface HistoryEntry {
  /** Sequence number, 1 for the first entry ever recorded in this state directory. */
  readonly id: number;
  /** When the attempt finished, on the reconciler's clock (RFC 3339 with milliseconds). */
  readonly time: string;
  /** How long the attempt took, in milliseconds of the reconciler's clock. */
  readonly durationMs: number;
  readonly trigger: SyncTrigger;
  /** The repository id in the tracking annotations (`tracking.ts` repoId). */
  readonly repo: string;
  /** Commit id synced, or null when the repository could not be read. */
  readonly commit: string | null;
  /** First line of the commit message ("" without a commit). */
  readonly subject: string;
  readonly author?: HistoryAuthor;
  /** For a `git revert` commit: the commit it reverts. The history shows the entry as a rollback. */
  readonly reverts?: string;
  readonly result: SyncResultCode;
  /** Operations applied, per object, in the order they were applied. */
  readonly operations: ObjectOperations[];
  /** Errors (the reason a commit was refused or a sync failed). */
  readonly errors: SyncError[];
  /** Notes that did not stop the sync (a namespace kept, an object taken over from another repository). */
  readonly warnings?: string[];
}

/** An entry before the history numbers it. */
export type HistoryEntryInput = Omit<HistoryEntry, "id">;

/** Where sync attempts are recorded. `FileHistory` is the durable one, `MemoryHistory` the one for tests and `sim`. */
export interface SyncHistory {
  /** Records an entry; resolves with the numbered entry once it is durable. */
  append(entry: HistoryEntryInput): Promise<HistoryEntry>;
  /** The recorded entries, oldest first (at most the history's limit). */
  list(): Promise<HistoryEntry[]>;
}

/** Entries kept by default: the newest 1,000. */
export const DEFAULT_HISTORY_LIMIT = 1000;

/** File name of the history in the state directory. */
export const HISTORY_FILE = "sync-history.jsonl";

/** A history held in memory (nothing survives the process): tests, `kubelings sim`. */
export class MemoryHistory implements SyncHistory {
  private readonly entries: HistoryEntry[] = [];
  private nextId = 1;

  /** @param limit entries kept (the oldest are dropped). */
  constructor(private readonly limit = DEFAULT_HISTORY_LIMIT) {
    checkLimit(limit);
  }

  async append(entry: HistoryEntryInput): Promise<HistoryEntry> {
    const numbered: HistoryEntry = { id: this.nextId++, ...structuredClone(entry) };
    this.entries.push(numbered);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    return structuredClone(numbered);
  }

  async list(): Promise<HistoryEntry[]> {
    return structuredClone(this.entries);
  }
}

/** Options of `FileHistory.open`. */
export interface FileHistoryOptions {
  /** Entries kept (default 1,000). */
  readonly limit?: number;
  /** Receives a sentence for each line that cannot be read (a torn last line after a crash). */
  readonly warn?: (message: string) => void;
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`history limit must be a positive integer, got ${limit}`);
}

/** What reading the file found. */
interface FileScan {
  entries: HistoryEntry[];
  /** Complete lines in the file (entries and unreadable ones). */
  lines: number;
  /** Byte length of the file up to the end of its last complete line. */
  validBytes: number;
  /** Byte length of the file. */
  size: number;
  lastId: number;
}

function isEntry(value: unknown): value is HistoryEntry {
  const v = value as Partial<HistoryEntry> | null;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.id === "number" &&
    typeof v.time === "string" &&
    typeof v.result === "string" &&
    Array.isArray(v.operations) &&
    Array.isArray(v.errors)
  );
}

/**
 * The durable history: `sync-history.jsonl` in the state directory. Open it with
 * `FileHistory.open(stateDir)`. One writer at a time (the process holding the state
 * directory); any number of readers (`kubelings history` while `kubelings serve` runs).
 */
export class FileHistory implements SyncHistory {
  private entries: HistoryEntry[];
  private lines: number;
  private lastId: number;
  /** Bytes up to the end of the last complete line: what a torn tail is cut back to. */
  private validBytes: number;
  private size: number;
  private readonly warn: (message: string) => void;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** Path of the history file. */
    readonly file: string,
    private readonly limit: number,
    scan: FileScan,
    warn: (message: string) => void,
  ) {
    this.entries = scan.entries;
    this.lines = scan.lines;
    this.lastId = scan.lastId;
    this.validBytes = scan.validBytes;
    this.size = scan.size;
    this.warn = warn;
  }

  /**
   * Opens (creating the state directory if needed) the history of state directory `stateDir`
   * and reads it. Unreadable lines are skipped with a warning, never fatal.
   */
  static open(stateDir: string, options: FileHistoryOptions = {}): FileHistory {
    const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
    checkLimit(limit);
    const warn = options.warn ?? (() => undefined);
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    const file = path.join(stateDir, HISTORY_FILE);
    return new FileHistory(file, limit, scanFile(file, limit, warn), warn);
  }

  /** Reads the entries of the history in `stateDir` without opening it for writing (a missing file is an empty history). */
  static read(stateDir: string, options: FileHistoryOptions = {}): HistoryEntry[] {
    const limit = options.limit ?? DEFAULT_HISTORY_LIMIT;
    checkLimit(limit);
    return scanFile(path.join(stateDir, HISTORY_FILE), limit, options.warn ?? (() => undefined)).entries;
  }

  append(entry: HistoryEntryInput): Promise<HistoryEntry> {
    // Appends are serialised: each line is written and fsynced whole before the next starts.
    const next = this.queue.then(() => this.write(entry));
    this.queue = next.catch(() => undefined);
    return next;
  }

  async list(): Promise<HistoryEntry[]> {
    return structuredClone(this.entries);
  }

  private write(entry: HistoryEntryInput): HistoryEntry {
    const numbered: HistoryEntry = { id: this.lastId + 1, ...structuredClone(entry) };
    const line = Buffer.from(JSON.stringify(numbered) + "\n", "utf8");
    const fd = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600);
    try {
      // Cut off a torn tail first (a crash mid-write), so the new line starts on a line of its own.
      if (this.size !== this.validBytes) {
        fs.ftruncateSync(fd, this.validBytes);
        this.warn(`${this.file}: removed an incomplete last entry (written when kubelings stopped in the middle of a write)`);
      }
      let offset = 0;
      while (offset < line.length) offset += fs.writeSync(fd, line, offset, line.length - offset, this.validBytes + offset);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    this.validBytes += line.length;
    this.size = this.validBytes;
    this.lines++;
    this.lastId = numbered.id;
    this.entries.push(numbered);
    if (this.entries.length > this.limit) this.entries.splice(0, this.entries.length - this.limit);
    if (this.lines >= 2 * this.limit) this.compact();
    return structuredClone(numbered);
  }

  /** Rewrites the file with the newest `limit` entries: temporary file, fsync, rename, fsync of the folder. */
  private compact(): void {
    const text = this.entries.map((e) => JSON.stringify(e) + "\n").join("");
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, "w", 0o600);
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    syncDir(path.dirname(this.file));
    this.lines = this.entries.length;
    this.validBytes = Buffer.byteLength(text);
    this.size = this.validBytes;
  }
}

/** fsyncs a folder so a rename in it is durable (a no-op where folders cannot be opened). */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function scanFile(file: string, limit: number, warn: (message: string) => void): FileScan {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], lines: 0, validBytes: 0, size: 0, lastId: 0 };
    throw new Error(`cannot read the sync history ${file}: ${(err as Error).message}. Check the permissions of the state directory.`);
  }
  const entries: HistoryEntry[] = [];
  let lines = 0;
  let lastId = 0;
  let start = 0;
  let lineNo = 0;
  while (start < data.length) {
    const end = data.indexOf(0x0a, start);
    if (end < 0) {
      // No newline: the write of this line never finished (every complete line ends with one).
      warn(`${file}: ignored an incomplete last entry (kubelings stopped in the middle of writing it)`);
      break;
    }
    lineNo++;
    lines++;
    const text = data.subarray(start, end).toString("utf8").trim();
    start = end + 1;
    if (text === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    if (!isEntry(value)) {
      warn(`${file}:${lineNo}: ignored a line that is not a sync history entry`);
      continue;
    }
    entries.push(value);
    lastId = Math.max(lastId, value.id);
    if (entries.length > 2 * limit) entries.splice(0, entries.length - limit);
  }
  if (entries.length > limit) entries.splice(0, entries.length - limit);
  return { entries, lines, validBytes: start, size: data.length, lastId };
}

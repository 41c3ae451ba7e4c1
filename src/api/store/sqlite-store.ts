/**
 * The durable store: the shared etcd-like engine (`_versioned-store.ts`) over SQLite
 * (better-sqlite3) in a state directory.
 *
 * Durability: WAL journal with `synchronous=FULL`, so a commit is fsynced before its writes are
 * acknowledged and survives kill -9 and power loss; group commit amortises that fsync over every
 * write issued in the same turn of the event loop. Exclusivity: `locking_mode=EXCLUSIVE` plus a
 * write transaction at open keeps an OS file lock for the life of the connection; the kernel
 * drops it when the process dies, so a crashed server never leaves a stale lock behind. A pid
 * file beside the database only feeds the error message.
 *
 * Memory: values are read from SQLite on demand (the API server keeps its own watch cache), so the
 * process holds only SQLite's page cache, whatever the number of objects.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { deepFreeze } from "../types.js";
import type { KubeObject } from "../types.js";
import { atRevision, storedValue, VersionedStore } from "./_versioned-store.js";
import type { BackendState, BackendValue, StoreBackend, StoreOptions } from "./_versioned-store.js";
import { StoreError } from "./store.js";
import type { StoredValue, StoreEvent } from "./store.js";

/** File name of the database inside the state directory. */
export const STORE_FILE = "store.db";
/** File name of the pid file naming the process that holds the state directory. */
export const PID_FILE = "store.pid";
/** Value of `meta.format`: identifies a kubelings store and its schema version. */
const FORMAT = "kubelings-store/1";
/** SQLite page cache per connection (negative = KiB): small and bounded, whatever the data size. */
const CACHE_KIB = 8_192;
/**
 * Page size of a new database. Objects are 1-4 KB of JSON: with 4 KiB pages most rows of 2 KB+
 * take a page each and waste the rest; 8 KiB pages hold several (measured: a third less disk
 * and about 20% faster writes for 2 KB Pods).
 */
const PAGE_SIZE = 8_192;
/**
 * WAL pages between automatic checkpoints (32 MiB at 8 KiB pages). The default 1,000 pages is
 * smaller than one large group commit, which would checkpoint (and fsync the main file) on
 * nearly every commit.
 */
const WAL_CHECKPOINT_PAGES = 4_096;

const EVENT_TYPES = ["ADDED", "MODIFIED", "DELETED"] as const;
const TYPE_CODE = { ADDED: 0, MODIFIED: 1, DELETED: 2 } as const;

interface ValueRow {
  create_rev: number;
  mod_rev: number;
  value: string;
}
interface RangeRow extends ValueRow {
  key: string;
}
interface LogRow {
  rev: number;
  key: string;
  type: 0 | 1 | 2;
  value: string | null;
  prev: string | null;
}

type Db = Database.Database;
type Stmt = Database.Statement<unknown[], unknown>;

const SCHEMA = `
CREATE TABLE meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
-- Latest value of every key (etcd's key index plus the value at its mod revision).
CREATE TABLE kv (key TEXT PRIMARY KEY, create_rev INTEGER NOT NULL, mod_rev INTEGER NOT NULL, value TEXT NOT NULL);
-- Change log for watch replay, keyed by revision. value: new value (ADDED, MODIFIED);
-- prev: the value replaced (MODIFIED, DELETED). A DELETED event's object is prev at rev.
CREATE TABLE log (rev INTEGER PRIMARY KEY, key TEXT NOT NULL, type INTEGER NOT NULL, value TEXT, prev TEXT);
INSERT INTO meta (name, value) VALUES ('format', '${FORMAT}'), ('revision', 0), ('compacted', 0);
`;

class SqliteBackend implements StoreBackend {
  readonly storesJson = true;
  private readonly hasStmt: Stmt;
  private readonly getStmt: Stmt;
  private readonly rangeStmt: Stmt;
  private readonly historyStmt: Stmt;
  private readonly putStmt: Stmt;
  private readonly removeStmt: Stmt;
  private readonly logStmt: Stmt;
  private readonly metaStmt: Stmt;
  private readonly purgeStmt: Stmt;
  private readonly beginStmt: Stmt;
  private readonly commitStmt: Stmt;
  private readonly rollbackStmt: Stmt;
  private readonly savepointStmt: Stmt;
  private readonly releaseStmt: Stmt;
  private readonly rollbackToStmt: Stmt;

  constructor(
    private readonly db: Db,
    private readonly file: string,
    private readonly pidFile: string,
  ) {
    this.hasStmt = db.prepare("SELECT 1 FROM kv WHERE key = ?").pluck();
    this.getStmt = db.prepare("SELECT create_rev, mod_rev, value FROM kv WHERE key = ?");
    // Keys with a prefix are contiguous in SQLite's byte order and start at the prefix itself;
    // the scan stops at the first key without the prefix (see range()).
    this.rangeStmt = db.prepare("SELECT key, create_rev, mod_rev, value FROM kv WHERE key >= ? ORDER BY key");
    // substr/length count characters on both sides, so this is an exact prefix test.
    this.historyStmt = db.prepare(
      "SELECT rev, key, type, value, prev FROM log WHERE rev > @after AND rev <= @through AND substr(key, 1, length(@prefix)) = @prefix ORDER BY rev LIMIT @limit",
    );
    this.putStmt = db.prepare(
      "INSERT INTO kv (key, create_rev, mod_rev, value) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET mod_rev = excluded.mod_rev, value = excluded.value",
    );
    this.removeStmt = db.prepare("DELETE FROM kv WHERE key = ?");
    this.logStmt = db.prepare("INSERT INTO log (rev, key, type, value, prev) VALUES (?, ?, ?, ?, ?)");
    this.metaStmt = db.prepare("UPDATE meta SET value = ? WHERE name = ?");
    this.purgeStmt = db.prepare("DELETE FROM log WHERE rev <= ?");
    this.beginStmt = db.prepare("BEGIN");
    this.commitStmt = db.prepare("COMMIT");
    this.rollbackStmt = db.prepare("ROLLBACK");
    this.savepointStmt = db.prepare("SAVEPOINT txn");
    this.releaseStmt = db.prepare("RELEASE txn");
    this.rollbackToStmt = db.prepare("ROLLBACK TO txn");
  }

  has(key: string): boolean {
    return this.hasStmt.get(key) !== undefined;
  }

  get(key: string): BackendValue | undefined {
    const row = this.getStmt.get(key) as ValueRow | undefined;
    if (!row) return undefined;
    return { createRevision: row.create_rev, modRevision: row.mod_rev, object: parse(row.value), json: row.value };
  }

  range(prefix: string): StoredValue[] {
    const items: StoredValue[] = [];
    for (const row of this.rangeStmt.iterate(prefix) as IterableIterator<RangeRow>) {
      if (!row.key.startsWith(prefix)) break;
      items.push(storedValue(row.key, parse(row.value), row.create_rev, row.mod_rev));
    }
    return items;
  }

  readonly readHistory = (prefix: string, afterRevision: number, throughRevision: number, limit: number): StoreEvent[] => {
    const rows = this.historyStmt.all({ after: afterRevision, through: throughRevision, prefix, limit }) as LogRow[];
    return rows.map((row) => {
      const type = EVENT_TYPES[row.type];
      if (type === "ADDED") return Object.freeze({ type, key: row.key, object: parse(row.value!), revision: row.rev });
      const previous = parse(row.prev!);
      const object = type === "MODIFIED" ? parse(row.value!) : atRevision(previous, row.rev);
      return Object.freeze({ type, key: row.key, object, revision: row.rev, previous });
    });
  };

  begin(): void {
    this.beginStmt.run();
  }

  commit(): void {
    this.commitStmt.run();
  }

  rollback(): void {
    if (this.db.inTransaction) this.rollbackStmt.run();
  }

  savepoint(): void {
    this.savepointStmt.run();
  }

  releaseSavepoint(): void {
    this.releaseStmt.run();
  }

  rollbackToSavepoint(): void {
    // ROLLBACK TO keeps the savepoint open; RELEASE pops it.
    this.rollbackToStmt.run();
    this.releaseStmt.run();
  }

  put(key: string, createRevision: number, modRevision: number, _object: Readonly<KubeObject>, json: string | undefined): void {
    this.putStmt.run(key, createRevision, modRevision, json);
  }

  remove(key: string): void {
    this.removeStmt.run(key);
  }

  appendLog(event: StoreEvent, json: string | undefined, previous: BackendValue | undefined): void {
    this.logStmt.run(event.revision, event.key, TYPE_CODE[event.type], event.type === "DELETED" ? null : json, previous?.json ?? null);
  }

  saveRevisions(revision: number, compactedRevision: number): void {
    this.metaStmt.run(revision, "revision");
    this.metaStmt.run(compactedRevision, "compacted");
  }

  purgeHistory(throughRevision: number): void {
    this.purgeStmt.run(throughRevision);
  }

  close(): void {
    this.db.close();
    releasePidFile(this.pidFile);
  }

  translateError(err: unknown): unknown {
    return damaged(err, this.file) ?? err;
  }
}

/** The durable store, in a state directory. Open it with `openSqliteStore`. */
export class SqliteStore extends VersionedStore {
  /** @internal Use `openSqliteStore`. */
  constructor(
    /** The state directory. */
    readonly dir: string,
    /** The database file inside it. */
    readonly file: string,
    backend: StoreBackend,
    state: BackendState,
    options: StoreOptions,
  ) {
    super(backend, state, options);
  }
}

/**
 * Opens (creating if needed) the store in state directory `dir`: creates `dir` with mode 0700
 * and the database file `store.db` in it, takes the directory's lock and recovers the committed
 * state (every acknowledged write, the revision counter, the compacted revision).
 *
 * Throws `StoreError` `Locked` when another process (or another open store in this process)
 * holds the directory, and `Corrupt` when the database cannot be read; both messages say what to do.
 */
export function openSqliteStore(dir: string, options: StoreOptions = {}): SqliteStore {
  if (typeof dir !== "string" || dir.length === 0) throw new TypeError("openSqliteStore: dir must be a non-empty path (the --state directory)");
  const stateDir = path.resolve(dir);
  try {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new StoreError("Corrupt", `cannot create state directory ${stateDir}: ${(err as Error).message}. Check its permissions or use a different --state directory.`);
  }
  const file = path.join(stateDir, STORE_FILE);
  const pidFile = path.join(stateDir, PID_FILE);
  let db: Db;
  try {
    // timeout 0: a held lock must be reported at once, not retried for seconds.
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw damaged(err, file) ?? new StoreError("Corrupt", `cannot open ${file}: ${(err as Error).message}. Check the permissions of ${stateDir}.`);
  }
  try {
    lock(db);
  } catch (err) {
    db.close();
    const code = (err as { code?: string }).code;
    if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") {
      const holder = readPid(pidFile);
      throw new StoreError(
        "Locked",
        `state directory ${stateDir} is in use by another kubelings process (${holder === undefined ? "pid unknown" : `pid ${holder}`}). ` +
          `Stop it (the running kubelings serve) or use a different --state directory.`,
      );
    }
    throw damaged(err, file) ?? err;
  }
  try {
    fs.writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
    const state = loadState(db, file);
    return new SqliteStore(stateDir, file, new SqliteBackend(db, file, pidFile), state, options);
  } catch (err) {
    db.close();
    releasePidFile(pidFile);
    throw damaged(err, file) ?? err;
  }
}

/** Takes the directory's lock: exclusive locking mode, WAL, and a write transaction to acquire the write lock now. */
function lock(db: Db): void {
  // Set before the first access, so WAL keeps its index in process memory (no -shm file that
  // another process could use) and the lock, once taken, is held until the connection closes.
  db.pragma("locking_mode = EXCLUSIVE");
  // Only takes effect on a new, empty database; an existing one keeps its page size.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  const mode = db.pragma("journal_mode = WAL", { simple: true });
  if (mode !== "wal") throw new Error(`could not switch the database to WAL mode (got ${String(mode)})`);
  // FULL: fsync the WAL on every commit; NORMAL would lose the last commits on power loss.
  db.pragma("synchronous = FULL");
  db.pragma(`cache_size = -${CACHE_KIB}`);
  db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  db.exec("BEGIN IMMEDIATE; COMMIT");
}

/** Checks the file's integrity and schema, creating the schema in a new database, and reads the counters. */
function loadState(db: Db, file: string): BackendState {
  const check = db.pragma("quick_check(1)", { simple: true });
  if (check !== "ok") throw corrupt(file, `integrity check failed: ${String(check)}`);
  const tables = new Set((db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[]));
  if (tables.size === 0) {
    db.exec(`BEGIN; ${SCHEMA} COMMIT;`);
  } else if (!tables.has("meta") || !tables.has("kv") || !tables.has("log")) {
    throw corrupt(file, "it is a SQLite database but not a kubelings store");
  }
  const meta = new Map(db.prepare("SELECT name, value FROM meta").raw().all() as Array<[string, unknown]>);
  if (meta.get("format") !== FORMAT) {
    throw corrupt(file, `unknown store format ${JSON.stringify(meta.get("format"))} (this kubelings reads ${FORMAT})`);
  }
  const revision = meta.get("revision");
  const compactedRevision = meta.get("compacted");
  if (!Number.isSafeInteger(revision) || !Number.isSafeInteger(compactedRevision)) throw corrupt(file, "its revision counters are missing");
  const oldest = db.prepare("SELECT min(rev) FROM log").pluck().get() as number | null;
  const purgedRevision = oldest === null ? (compactedRevision as number) : Math.min(oldest - 1, compactedRevision as number);
  return { revision: revision as number, compactedRevision: compactedRevision as number, purgedRevision };
}

function parse(json: string): Readonly<KubeObject> {
  return deepFreeze(JSON.parse(json) as KubeObject);
}

function corrupt(file: string, why: string): StoreError {
  return new StoreError(
    "Corrupt",
    `cannot read the kubelings store ${file}: ${why}. Move it aside (mv ${file} ${file}.broken) to start with an empty cluster, ` +
      `or point --state at another directory.`,
  );
}

/** A `Corrupt` StoreError when `err` is SQLite reporting a damaged or foreign file, else undefined. */
function damaged(err: unknown, file: string): StoreError | undefined {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown })?.code;
  if (code === "SQLITE_NOTADB") return corrupt(file, "it is not a SQLite database");
  if (typeof code === "string" && code.startsWith("SQLITE_CORRUPT")) return corrupt(file, `the database is damaged (${(err as Error).message})`);
  return undefined;
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, "utf8").trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the pid file if it still names this process (a later holder may have replaced it). */
function releasePidFile(pidFile: string): void {
  if (readPid(pidFile) !== process.pid) return;
  try {
    fs.unlinkSync(pidFile);
  } catch {
    // Already gone: nothing to release.
  }
}

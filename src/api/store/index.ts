/**
 * The store part's public surface: the Store interface and its two implementations, the durable
 * SQLite store (`kubelings serve`) and the in-memory store (tests, `kubelings sim`).
 */
export { StoreError } from "./store.js";
export type {
  RangeResult,
  Store,
  StoreErrorCode,
  StoreEvent,
  StoredValue,
  StoreWatch,
  StoreWatchOptions,
  TxnOp,
} from "./store.js";
export { DEFAULT_HISTORY_LIMIT } from "./_versioned-store.js";
export type { StoreOptions } from "./_versioned-store.js";
export { MemoryStore } from "./memory-store.js";
export { openSqliteStore, SqliteStore, STORE_FILE, PID_FILE } from "./sqlite-store.js";

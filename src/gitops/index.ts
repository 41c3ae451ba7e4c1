/**
 * The GitOps part's public surface: the reconciler engine and what it is made of (git source,
 * manifest loading, diff, apply order, ownership tracking, health, history, status, watcher).
 * Internal helpers (`_live.ts`, `_yaml.ts`) and normalisation details stay private.
 */
export { Reconciler, RECONCILER_COMPONENT, visibleOps } from "./reconciler.js";
export type { CommitInfo, DesiredObject, DriftReport, ReconcilerLog, ReconcilerOptions, SyncOptions, SyncResult } from "./reconciler.js";
export { Watcher } from "./watcher.js";
export type { WatcherOptions } from "./watcher.js";
export { DEFAULT_HISTORY_LIMIT, FileHistory, HISTORY_FILE, MemoryHistory } from "./history.js";
export type {
  FileHistoryOptions,
  HistoryAuthor,
  HistoryEntry,
  HistoryEntryInput,
  ObjectAction,
  ObjectOperations,
  SyncError,
  SyncHistory,
  SyncResultCode,
  SyncTrigger,
} from "./history.js";
export { computeStatus } from "./status.js";
export type { ObjectStatus, RepoStatus, StatusCommit, StatusOptions, SyncStatusCode } from "./status.js";
export { IGNORE_FILE, SourceCache, SourceError, headOid, readHead, uncommittedChanges } from "./source.js";
export type { HeadCommit, HeadSnapshot, ReadHeadOptions, SourceErrorCode, UncommittedChange } from "./source.js";
export { DEFAULT_LOAD_LIMITS, formatLoadError, loadManifests, locate } from "./load.js";
export type { LoadError, LoadOptions, LoadResult, LoadedObject, ManifestFile, ObjectSource, Position } from "./load.js";
export { computeDiff, describeChange, describeDrift, describeField, findImmutableChanges, formatOps, isImmutableChange, ownedByOthers } from "./diff.js";
export type { Change, ChangeCause, DiffInput, DiffResult, ImmutableChange, Operation } from "./diff.js";
export { LAST_APPLIED_ANNOTATION, readLastApplied, withLastApplied } from "./normalize.js";
export { TRACKING_ANNOTATION, addTracking, isTrackedBy, parseTracking, repoId } from "./tracking.js";
export type { TrackingId } from "./tracking.js";
export { KIND_ORDER, applyOrder, compareForApply, deletionOrder } from "./order.js";
export { HEALTH_ORDER, healthOf, isWorse, worstHealth } from "./health.js";
export type { HealthStatus, HealthStatusCode } from "./health.js";

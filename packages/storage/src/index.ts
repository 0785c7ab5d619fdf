/**
 * Durable storage backends behind the kernel's `SessionStore` interface: memory, file (write-ahead
 * log with group commit) and Postgres.
 *
 * @module @macp/storage
 */
export { MemoryStore } from "./memory-store.js";
export { FileStore } from "./file-store.js";
export { LogIndex } from "./log-index.js";
export type { EntryLocation } from "./log-index.js";
export { SessionTable } from "./session-table.js";
export type { FileStoreOptions } from "./file-store.js";
export { PostgresStore } from "./postgres-store.js";
export type { PostgresStoreOptions } from "./postgres-store.js";
export { createStore, DEFAULT_DATA_DIR } from "./create-store.js";
export type { StoreConfig } from "./create-store.js";
export { storeConfigFromEnv } from "./store-config-from-env.js";
export type { SyncMode } from "./wal-writer.js";
export { defaultSync } from "./durable-io.js";
export type { SyncFunction, SyncTarget } from "./durable-io.js";
export type { StorageLogger } from "./storage-logger.js";
export type { CompactionReport } from "./file-store.js";
export { retireFinishedSessions, archiveLine } from "./history-retention.js";
export type { RetentionOptions, RetentionReport } from "./history-retention.js";

/**
 * Durable storage backends behind the kernel's `SessionStore` interface: memory, file (write-ahead
 * log with group commit), Postgres, and NATS JetStream (shared by runtime replicas).
 *
 * @module @macp/storage
 */
export { MemoryStore } from "./memory/memory-store.js";
export { FileStore } from "./file/file-store.js";
export { LogIndex } from "./file/log-index.js";
export type { EntryLocation } from "./file/log-index.js";
export { SessionTable } from "./file/session-table.js";
export type { FileStoreOptions } from "./file/file-store.js";
export { PostgresStore } from "./postgres/postgres-store.js";
export type { PostgresStoreOptions } from "./postgres/postgres-store.js";
export { JetStreamStore } from "./jetstream/jetstream-store.js";
export type { JetStreamStoreOptions, JetStreamConnectOptions, FollowedAppend } from "./jetstream/jetstream-store.js";
export { KvLeases } from "./jetstream/kv-lease.js";
export { jetStreamNames, DEFAULT_JETSTREAM_PREFIX } from "./jetstream/jetstream-names.js";
export type { JetStreamNames } from "./jetstream/jetstream-names.js";
export { createStore, DEFAULT_DATA_DIR } from "./create-store.js";
export type { StoreConfig } from "./create-store.js";
export { storeConfigFromEnv } from "./store-config-from-env.js";
export type { SyncMode } from "./file/wal-writer.js";
export { defaultSync } from "./file/durable-io.js";
export type { SyncFunction, SyncTarget } from "./file/durable-io.js";
export type { StorageLogger } from "./storage-logger.js";
export type { CompactionReport } from "./file/file-store.js";
export { retireFinishedSessions, archiveLine } from "./history-retention.js";
export type { RetentionOptions, RetentionReport } from "./history-retention.js";

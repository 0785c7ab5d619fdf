import type { SessionStore } from "@macp/core";
import type { MacpError } from "@macp/protocol";
import { FileStore } from "./file/file-store.js";
import { MemoryStore } from "./memory/memory-store.js";
import { PostgresStore } from "./postgres/postgres-store.js";
import { JetStreamStore } from "./jetstream/jetstream-store.js";
import { storageFailed } from "./storage-error.js";
import type { SyncFunction } from "./file/durable-io.js";
import type { StorageLogger } from "./storage-logger.js";
import type { SyncMode } from "./file/wal-writer.js";

/** Which backend to open and where its data lives. */
export interface StoreConfig {
  readonly backend: "memory" | "file" | "postgres" | "jetstream";
  /** File backend root (default `.macp-data`). */
  readonly dataDir?: string;
  /** File backend durability grouping (default `group`). */
  readonly syncMode?: SyncMode;
  /** File backend: replaces fdatasync/fsync, e.g. to time each sync ({@link defaultSync} does the work). */
  readonly sync?: SyncFunction;
  /** Postgres URL; required for the postgres backend. */
  readonly databaseUrl?: string;
  /** Postgres schema (default `macp`). */
  readonly databaseSchema?: string;
  /** NATS server URL(s), comma-separated; required for the jetstream backend. */
  readonly natsUrl?: string;
  /** JetStream backend: copies kept of the log and buckets, 1, 3 or 5 (default 1). */
  readonly jetstreamReplicas?: number;
  /** JetStream backend: prefix of the stream, subjects and buckets (default `macp_runtime`). */
  readonly jetstreamPrefix?: string;
  /** Receives repair warnings and connection errors; defaults to the console. */
  readonly logger?: StorageLogger;
  /** File backend: refuse to open on damage before the log's tail (`MACP_STRICT_RECOVERY=1`). */
  readonly strictRecovery?: boolean;
  /** File backend: age at which a log segment is sealed at its next write even if not full (default 1 hour). */
  readonly segmentMaxAgeMs?: number;
  /**
   * Called once when a durable backend stops accepting writes until a restart: its writer lock
   * was lost or taken over (the Postgres schema lock, the file `LOCK`), or its log can no longer
   * be trusted. Every write fails from then on; the caller should stop serving.
   */
  readonly onFatal?: (error: MacpError) => void;
}

/** Default file backend root, as in the reference runtime. */
export const DEFAULT_DATA_DIR = ".macp-data";

/** Opens the configured backend, ready for use (file log recovered, Postgres schema migrated). */
export async function createStore(config: StoreConfig): Promise<SessionStore> {
  switch (config.backend) {
    case "memory":
      return new MemoryStore();
    case "file":
      return FileStore.open({
        dir: config.dataDir ?? DEFAULT_DATA_DIR,
        ...(config.syncMode === undefined ? {} : { syncMode: config.syncMode }),
        ...(config.sync === undefined ? {} : { sync: config.sync }),
        ...(config.logger === undefined ? {} : { logger: config.logger }),
        ...(config.strictRecovery === undefined ? {} : { strictRecovery: config.strictRecovery }),
        ...(config.segmentMaxAgeMs === undefined ? {} : { segmentMaxAgeMs: config.segmentMaxAgeMs }),
        ...(config.onFatal === undefined ? {} : { onFatal: config.onFatal }),
      });
    case "postgres":
      if (config.databaseUrl === undefined || config.databaseUrl === "") {
        throw storageFailed("the postgres backend needs a database URL (MACP_DATABASE_URL)");
      }
      return PostgresStore.open({
        connectionString: config.databaseUrl,
        ...(config.databaseSchema === undefined ? {} : { schema: config.databaseSchema }),
        ...(config.logger === undefined ? {} : { logger: config.logger }),
        ...(config.onFatal === undefined ? {} : { onFatal: config.onFatal }),
      });
    case "jetstream":
      if (config.natsUrl === undefined || config.natsUrl === "") {
        throw storageFailed("the jetstream backend needs a NATS URL (MACP_NATS_URL)");
      }
      return JetStreamStore.connect({
        url: config.natsUrl,
        ...(config.jetstreamReplicas === undefined ? {} : { replicas: config.jetstreamReplicas }),
        ...(config.jetstreamPrefix === undefined ? {} : { prefix: config.jetstreamPrefix }),
      });
    default:
      throw storageFailed(`unknown storage backend: ${String((config as { backend: unknown }).backend)}`);
  }
}

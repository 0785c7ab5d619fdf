/** Kind of a session log record. Only `incoming` records are accepted history. */
export type LogEntryKind = "incoming" | "internal" | "checkpoint";

/**
 * One record of a session's append-only log. Accepted envelopes carry their 1-based acceptance
 * sequence (`seq`), which never changes, survives restarts and is what passive subscribers'
 * `after_sequence` refers to. Internal records (cancel, suspend, resume, TTL expiry) and
 * checkpoints carry the sequence of the last accepted envelope before them.
 */
export interface LogEntry {
  readonly kind: LogEntryKind;
  readonly seq: number;
  readonly sessionId: string;
  readonly mode: string;
  readonly messageType: string;
  readonly messageId: string;
  readonly sender: string;
  readonly macpVersion: string;
  /** The envelope's `timestamp_unix_ms` as sent (any int64); the runtime's clock for internal records. */
  readonly timestampUnixMs: bigint;
  /** Runtime clock when the record was committed; replay uses it instead of any clock. */
  readonly receivedAtUnixMs: number;
  readonly payload: Uint8Array;
}

/**
 * What an append means for the session's lifecycle, for stores shared by several runtime
 * replicas: they keep it beside the records so every replica can report the transition without
 * re-judging the session.
 */
export interface AppendNote {
  /** The lifecycle event this append commits (`CREATED`, `RESOLVED`, `EXPIRED`, …), if any. */
  readonly lifecycle?: string;
}

/** Which persisted registry a document belongs to. */
export type RegistryKind = "policies" | "modes";

/**
 * Durable storage the kernel writes through. Every method that returns a promise resolves only
 * once the data is durable for that backend; the kernel acknowledges nothing before that.
 */
export interface SessionStore {
  /**
   * Appends records to a session's log (creating it on first use). A store shared by several
   * writers rejects with `StaleAppendError`, storing nothing, when another writer appended to
   * the session since this store last loaded (`loadLog`) or appended to it.
   */
  append(sessionId: string, entries: readonly LogEntry[], note?: AppendNote): Promise<void>;
  /**
   * Shared stores only: whether no other writer appended to the session since this store last
   * loaded or appended to it (the kernel checks before answering from a cached state).
   */
  isCurrent?(sessionId: string): Promise<boolean>;
  /** The full log of a session, in append order (empty when unknown). */
  loadLog(sessionId: string): Promise<LogEntry[]>;
  /** Log records after the given acceptance sequence, for passive subscribers. */
  loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]>;
  /** Ids of every stored session. */
  listSessions(): Promise<string[]>;
  /**
   * Ids of the stored sessions that may still be open or suspended: every session except those
   * whose latest snapshot is marked finished (`finishedAtUnixMs`) and covers its whole log. A
   * restart rebuilds only these; finished sessions are loaded on demand.
   */
  listUnfinishedSessions(): Promise<string[]>;
  /**
   * Up to `limit` finished sessions (their finished snapshot covers the whole log) that finished
   * before `finishedBeforeUnixMs`: the history retention removes.
   */
  listFinishedBefore(finishedBeforeUnixMs: number, limit: number): Promise<string[]>;
  /**
   * Removes sessions for good: log records, snapshots and index entries, durably once this
   * resolves. A removed id is unknown afterwards (empty log, no snapshot, not listed), as if it
   * had never been used. Unknown ids are ignored.
   */
  removeSessions(sessionIds: readonly string[]): Promise<void>;
  /** Space used and sessions stored, for metrics. */
  usage(): Promise<StorageUsage>;
  /** Writes a snapshot (opaque JSON text) describing state up to `logLength` records. */
  writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void>;
  /** The latest snapshot of a session, if any. */
  loadSnapshot(sessionId: string): Promise<StoredSnapshot | undefined>;
  /** Persists a registry document (registered policies or extension modes). */
  saveRegistry(kind: RegistryKind, document: string): Promise<void>;
  /** The last saved registry document, if any. */
  loadRegistry(kind: RegistryKind): Promise<string | undefined>;
  /** Flushes and releases resources. */
  close(): Promise<void>;
}

/** A serialized session state and the number of log records it covers. */
export interface StoredSnapshot {
  readonly logLength: number;
  readonly state: string;
  /**
   * When the session finished (resolved, expired or cancelled), for a snapshot of a finished
   * session; absent while it is open or suspended. Lets a store tell finished sessions apart
   * without reading their state.
   */
  readonly finishedAtUnixMs?: number;
}

/** What a store holds, for metrics and `macp gc`. */
export interface StorageUsage {
  /** Bytes of log records (file: WAL segments; Postgres: the log table with its indexes). */
  readonly logBytes: number;
  /** Bytes of snapshots on disk. */
  readonly snapshotBytes: number;
  /** Bytes of indexes (file: the in-memory index; Postgres: the session table and its indexes). */
  readonly indexBytes: number;
  /** Stored sessions whose finished snapshot covers their whole log. */
  readonly finishedSessions: number;
  /** Every other stored session with a log (open, suspended, or finished without a final snapshot yet). */
  readonly unfinishedSessions: number;
  /** When compaction last reclaimed space (file backend), if it has since the store opened. */
  readonly lastCompactionUnixMs?: number;
}

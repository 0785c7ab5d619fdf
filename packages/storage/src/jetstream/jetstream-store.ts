import { StaleAppendError } from "@macp/core";
import type { AppendNote, LogEntry, RegistryKind, SessionStore, StorageUsage, StoredSnapshot } from "@macp/core";
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamClient, JetStreamManager, PubAck } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { KV } from "@nats-io/kv";
import { connect, headers as natsHeaders, nuid } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { FRAME_HEADER_BYTES } from "../file/frame.js";
import { KeyedQueue } from "../keyed-queue.js";
import { decodeAppendBody, encodeAppendFrame } from "../file/record-codec.js";
import { storageFailed, withStorageErrors } from "../storage-error.js";
import { validateEntries, validateSnapshot } from "../validate-input.js";
import { DEFAULT_JETSTREAM_PREFIX, jetStreamNames } from "./jetstream-names.js";
import { KvLeases } from "./kv-lease.js";
import type { JetStreamNames } from "./jetstream-names.js";

/** Settings of the JetStream backend. */
export interface JetStreamStoreOptions {
  /** An open NATS connection; the store uses it and leaves it open at close. */
  readonly connection: NatsConnection;
  /** Prefix of the stream, subjects and buckets (default `macp_runtime`). */
  readonly prefix?: string;
  /** Copies JetStream keeps of the log and buckets: 1, 3 or 5 (default 1). Applies when they are created. */
  readonly replicas?: number;
  /**
   * How long one append may keep retrying a publish whose acknowledgement did not arrive (a
   * JetStream leader change, a lost connection) before it fails (default 20 s). Retries carry
   * the same message id, so an append that did land is recognised, never stored twice.
   */
  readonly appendRetryMs?: number;
}

/** Settings of a JetStream backend that opens (and at close closes) its own connection. */
export interface JetStreamConnectOptions extends Omit<JetStreamStoreOptions, "connection"> {
  /** Server URL(s), comma-separated (`nats://127.0.0.1:4222`). */
  readonly url: string;
  /** Connection name shown by the server. */
  readonly name?: string;
}

/** An append read back from the shared log by {@link JetStreamStore.follow}. */
export interface FollowedAppend {
  readonly sessionId: string;
  readonly entries: readonly LogEntry[];
  /** The session's log length after these entries. */
  readonly logLength: number;
  /** The lifecycle event its writer noted (`AppendNote.lifecycle`), if any. */
  readonly lifecycle: string | undefined;
  /**
   * Moves this store's view of the session to this append, so its next append there expects it
   * as the last. Call only once the caller's state of the session includes it.
   */
  readonly adopt: () => void;
}

/** Where a session's log ends: its last message's stream sequence and the entries up to it. */
interface Head {
  readonly seq: number;
  readonly length: number;
}

const LENGTH_HEADER = "Macp-Log-Length";
const LIFECYCLE_HEADER = "Macp-Lifecycle";
const NONE: Head = { seq: 0, length: 0 };
const NS = 1_000_000;
/** How long JetStream remembers message ids for deduplicating a retried append. */
const DUPLICATE_WINDOW_MS = 120_000;
/** Requests run at once when a listing reads one record per session. */
const SCAN_CONCURRENCY = 64;
const READ_TIMEOUT_MS = 30_000;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Session logs on a NATS JetStream stream, so several runtime replicas can share them: each
 * session's log is one subject, each append call one message (all-or-nothing) carrying the
 * session's log length after it. Every append is published with the session's expected last
 * subject sequence (`Nats-Expected-Last-Subject-Sequence`): when another writer appended since
 * this store last read or wrote the session, nothing is stored and the append rejects with
 * {@link StaleAppendError}. An append resolves only once JetStream acknowledged it (stored on a
 * majority of the stream's replicas). Snapshots and registries live in KV buckets.
 */
export class JetStreamStore implements SessionStore {
  private readonly heads = new Map<string, Head>();
  private readonly queue = new KeyedQueue();
  private readonly writerId = nuid.next();
  private appendCount = 0;
  private closed = false;
  private closeConnection: (() => Promise<void>) | undefined;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly names: JetStreamNames,
    private readonly snapshots: KV,
    private readonly registries: KV,
    /** Leases for work one replica does at a time. */
    readonly leases: KvLeases,
    private readonly appendRetryMs: number,
  ) {}

  /** Declares the stream and buckets (idempotently) and returns a store over them. */
  static async open(options: JetStreamStoreOptions): Promise<JetStreamStore> {
    const names = jetStreamNames(options.prefix ?? DEFAULT_JETSTREAM_PREFIX);
    const replicas = options.replicas ?? 1;
    if (![1, 3, 5].includes(replicas)) throw storageFailed(`JetStream replicas must be 1, 3 or 5, not ${replicas}`);
    return withStorageErrors("cannot open the JetStream store", async () => {
      const nc = options.connection;
      const jsm = await jetstreamManager(nc);
      const config = {
        name: names.logStream,
        subjects: [names.logSubjects],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        num_replicas: replicas,
        duplicate_window: DUPLICATE_WINDOW_MS * NS,
      };
      const existing = await jsm.streams.info(names.logStream).catch(notFoundAsUndefined);
      if (existing === undefined) await jsm.streams.add(config);
      const kvm = new Kvm(nc);
      const snapshots = await kvm.create(names.snapshotBucket, { history: 1, replicas });
      const registries = await kvm.create(names.registryBucket, { history: 1, replicas });
      const leases = new KvLeases(await kvm.create(names.leaseBucket, { history: 1, replicas }));
      return new JetStreamStore(jetstream(nc), jsm, names, snapshots, registries, leases, options.appendRetryMs ?? 20_000);
    });
  }

  /**
   * Connects to NATS (reconnecting for ever once connected: appends retry through a server
   * restart or a cluster leader change) and opens a store that closes the connection at close.
   */
  static async connect(options: JetStreamConnectOptions): Promise<JetStreamStore> {
    const nc = await withStorageErrors(`cannot connect to NATS at ${options.url}`, () =>
      connect({
        servers: options.url.split(",").map((url) => url.trim()),
        name: options.name ?? "macp-runtime",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      }),
    );
    try {
      const store = await JetStreamStore.open({ ...options, connection: nc });
      store.closeConnection = () => nc.close();
      return store;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /** Names of the stream and buckets this store uses (to watch or delete them). */
  get storageNames(): JetStreamNames {
    return this.names;
  }

  async append(sessionId: string, entries: readonly LogEntry[], note?: AppendNote): Promise<void> {
    this.assertOpen();
    validateEntries(sessionId, entries);
    if (entries.length === 0) return;
    const body = encodeAppendFrame(sessionId, entries).subarray(FRAME_HEADER_BYTES);
    await this.queue.run(`log:${sessionId}`, async () => {
      const head = this.heads.get(sessionId) ?? (await withStorageErrors("cannot read the session log head", () => this.readHead(sessionId)));
      const length = head.length + entries.length;
      const header = natsHeaders();
      header.set(LENGTH_HEADER, String(length));
      if (note?.lifecycle !== undefined) header.set(LIFECYCLE_HEADER, note.lifecycle);
      const msgID = `${this.writerId}-${++this.appendCount}`;
      // Until acknowledged the head is unknown: the append may have landed.
      this.heads.delete(sessionId);
      const ack = await this.publish(sessionId, body, { msgID, expect: { lastSubjectSequence: head.seq }, headers: header });
      this.heads.set(sessionId, { seq: ack.seq, length });
    });
  }

  /**
   * Whether this store's view of the session (its last read or write) is still the end of the
   * log, i.e. no other writer appended since. A caller holding state built from that view
   * checks it before answering anything that a newer state could answer differently.
   */
  async isCurrent(sessionId: string): Promise<boolean> {
    this.assertOpen();
    const known = this.heads.get(sessionId);
    if (known === undefined) return false;
    const head = await withStorageErrors("cannot read the session log head", () => this.readHead(sessionId));
    return head.seq === known.seq;
  }

  async loadLog(sessionId: string): Promise<LogEntry[]> {
    this.assertOpen();
    return withStorageErrors(`cannot read the log of session "${sessionId}"`, async () => {
      const { entries, head } = await this.readLog(sessionId);
      this.heads.set(sessionId, head);
      return entries;
    });
  }

  async loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]> {
    this.assertOpen();
    return withStorageErrors(`cannot read the log of session "${sessionId}"`, async () => {
      const { entries } = await this.readLog(sessionId);
      return entries.filter((entry) => entry.kind === "incoming" && entry.seq > afterSeq);
    });
  }

  async listSessions(): Promise<string[]> {
    this.assertOpen();
    return withStorageErrors("cannot list sessions", async () => {
      const ids = new Set(Object.keys(await this.subjectCounts()).map((subject) => this.names.sessionOfSubject(subject)));
      for (const key of await this.snapshotKeys()) ids.add(this.names.sessionOfKey(key));
      return [...ids];
    });
  }

  async listUnfinishedSessions(): Promise<string[]> {
    this.assertOpen();
    return withStorageErrors("cannot list unfinished sessions", async () => {
      const ids = await this.listSessions();
      const finished = await this.finishedAt(ids);
      return ids.filter((id) => !finished.has(id));
    });
  }

  async listFinishedBefore(finishedBeforeUnixMs: number, limit: number): Promise<string[]> {
    this.assertOpen();
    return withStorageErrors("cannot list finished sessions", async () => {
      const ids = (await this.snapshotKeys()).map((key) => this.names.sessionOfKey(key));
      const finished = await this.finishedAt(ids);
      return [...finished].filter(([, at]) => at < finishedBeforeUnixMs).slice(0, limit).map(([id]) => id);
    });
  }

  async removeSessions(sessionIds: readonly string[]): Promise<void> {
    this.assertOpen();
    await withStorageErrors("cannot remove sessions", () =>
      inChunks(sessionIds, (sessionId) =>
        this.queue.run(`log:${sessionId}`, async () => {
          this.heads.delete(sessionId);
          await this.jsm.streams.purge(this.names.logStream, { filter: this.names.logSubject(sessionId) });
          await this.queue.run(`snapshot:${sessionId}`, () => this.snapshots.purge(this.names.snapshotKey(sessionId)));
        }),
      ),
    );
  }

  async usage(): Promise<StorageUsage> {
    this.assertOpen();
    return withStorageErrors("cannot measure storage", async () => {
      const log = await this.jsm.streams.info(this.names.logStream);
      const snapshots = await this.snapshots.status();
      const ids = await this.listSessions();
      const finished = await this.finishedAt(ids);
      return {
        logBytes: log.state.bytes,
        snapshotBytes: snapshots.size,
        indexBytes: 0,
        finishedSessions: finished.size,
        unfinishedSessions: ids.length - finished.size,
      };
    });
  }

  async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    this.assertOpen();
    validateSnapshot(snapshot);
    const document = JSON.stringify(snapshot);
    await this.queue.run(`snapshot:${sessionId}`, () =>
      withStorageErrors(`cannot write the snapshot of session "${sessionId}"`, async () => {
        await this.snapshots.put(this.names.snapshotKey(sessionId), encoder.encode(document));
      }),
    );
  }

  async loadSnapshot(sessionId: string): Promise<StoredSnapshot | undefined> {
    this.assertOpen();
    return withStorageErrors(`cannot read the snapshot of session "${sessionId}"`, () => this.readSnapshot(this.names.snapshotKey(sessionId)));
  }

  async saveRegistry(kind: RegistryKind, document: string): Promise<void> {
    this.assertOpen();
    await this.queue.run(`registry:${kind}`, () =>
      withStorageErrors(`cannot save the ${kind} registry`, async () => {
        await this.registries.put(kind, encoder.encode(document));
      }),
    );
  }

  async loadRegistry(kind: RegistryKind): Promise<string | undefined> {
    this.assertOpen();
    return withStorageErrors(`cannot load the ${kind} registry`, async () => {
      const entry = await this.registries.get(kind);
      return entry && entry.operation === "PUT" ? decoder.decode(entry.value) : undefined;
    });
  }

  /**
   * Calls `listener` whenever a registry document is saved, by this store or any other on the
   * same prefix (not for the documents already there when it starts). Returns a stop function.
   */
  watchRegistries(listener: (kind: RegistryKind) => void): () => void {
    this.assertOpen();
    let stop: (() => void) | undefined;
    let stopped = false;
    void this.registries
      .watch({ include: "updates" })
      .then(async (updates) => {
        stop = () => updates.stop();
        if (stopped) updates.stop();
        for await (const update of updates) {
          if (update.key === "policies" || update.key === "modes") listener(update.key);
        }
      })
      .catch(() => undefined);
    return () => {
      stopped = true;
      stop?.();
    };
  }

  /**
   * Hands `listener` every append stored from now on, by any store on this prefix, in log order,
   * one at a time (the next waits until the listener's promise settles). Follows through
   * reconnects and leader changes without gaps (an ordered consumer). Resolves once following,
   * with a stop function: everything stored after that is delivered.
   */
  async follow(listener: (append: FollowedAppend) => Promise<void>, onError: (error: unknown) => void): Promise<() => Promise<void>> {
    this.assertOpen();
    const consumer = await withStorageErrors("cannot follow the session log", () =>
      this.js.consumers.get(this.names.logStream, { filter_subjects: this.names.logSubjects, deliver_policy: DeliverPolicy.New }),
    );
    const messages = await withStorageErrors("cannot follow the session log", () => consumer.consume({ max_messages: 1_000 }));
    const running = (async () => {
      for await (const message of messages) {
        try {
          const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
          const { sessionId, entries } = decodeAppendBody(data, 0, data.byteLength);
          const head = headOf(message.seq, message.headers?.get(LENGTH_HEADER));
          const lifecycle = message.headers?.get(LIFECYCLE_HEADER);
          await listener({
            sessionId,
            entries,
            logLength: head.length,
            lifecycle: lifecycle === undefined || lifecycle === "" ? undefined : lifecycle,
            adopt: () => this.heads.set(sessionId, head),
          });
        } catch (error) {
          onError(error);
        }
      }
    })().catch(onError);
    return async () => {
      await messages.close().catch(() => undefined);
      await running;
    };
  }

  /** Waits for appends and writes in flight; closes the connection only when it opened it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.idle();
    await this.closeConnection?.();
  }

  private async publish(sessionId: string, body: Uint8Array, options: Parameters<JetStreamClient["publish"]>[2]): Promise<PubAck> {
    const deadline = Date.now() + this.appendRetryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.js.publish(this.names.logSubject(sessionId), body, options);
      } catch (error) {
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) {
          throw new StaleAppendError(sessionId);
        }
        // A JetStream refusal other than a stale view will not change on retry; a missing
        // acknowledgement might, and the retry's message id makes it safe.
        if (error instanceof JetStreamApiError || Date.now() >= deadline) {
          throw storageFailed(`cannot append to session "${sessionId}"`, error);
        }
        await sleep(Math.min(50 * 2 ** attempt, 1_000));
      }
    }
  }

  /** The session's last log message, read through the stream leader (never a lagging replica). */
  private async readHead(sessionId: string): Promise<Head> {
    const last = await this.jsm.streams.getMessage(this.names.logStream, { last_by_subj: this.names.logSubject(sessionId) }).catch(notFoundAsNull);
    return last === null ? NONE : headOf(last.seq, last.header?.get(LENGTH_HEADER));
  }

  /**
   * Every entry up to the head read first: the ordered consumer may be served by a replica that
   * lags, so reading continues until it delivered that head.
   */
  private async readLog(sessionId: string): Promise<{ entries: LogEntry[]; head: Head }> {
    const head = await this.readHead(sessionId);
    if (head.seq === 0) return { entries: [], head };
    const consumer = await this.js.consumers.get(this.names.logStream, {
      filter_subjects: this.names.logSubject(sessionId),
      deliver_policy: DeliverPolicy.All,
    });
    const entries: LogEntry[] = [];
    const deadline = Date.now() + READ_TIMEOUT_MS;
    try {
      for (let last = 0; last < head.seq; ) {
        if (Date.now() > deadline) throw storageFailed(`reading the log of session "${sessionId}" timed out`);
        const messages = await consumer.fetch({ max_messages: 1_000, expires: 2_000 });
        for await (const message of messages) {
          const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
          entries.push(...decodeAppendBody(data, 0, data.byteLength).entries);
          last = message.seq;
          if (last >= head.seq) break;
        }
      }
    } finally {
      await consumer.delete().catch(() => false);
    }
    return { entries, head };
  }

  /** Message counts of every session subject. */
  private async subjectCounts(): Promise<Record<string, number>> {
    const info = await this.jsm.streams.info(this.names.logStream, { subjects_filter: this.names.logSubjects });
    return info.state.subjects ?? {};
  }

  private async snapshotKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of await this.snapshots.keys()) keys.push(key);
    return keys;
  }

  private async readSnapshot(key: string): Promise<StoredSnapshot | undefined> {
    const entry = await this.snapshots.get(key);
    if (!entry || entry.operation !== "PUT") return undefined;
    return JSON.parse(decoder.decode(entry.value)) as StoredSnapshot;
  }

  /** Of `ids`, those whose finished snapshot covers their whole log, with their finish times. */
  private async finishedAt(ids: readonly string[]): Promise<Map<string, number>> {
    const finished = new Map<string, number>();
    await inChunks(ids, async (id) => {
      const snapshot = await this.readSnapshot(this.names.snapshotKey(id));
      if (snapshot?.finishedAtUnixMs === undefined) return;
      const head = await this.readHead(id);
      if (head.length === snapshot.logLength) finished.set(id, snapshot.finishedAtUnixMs);
    });
    return finished;
  }

  private assertOpen(): void {
    if (this.closed) throw storageFailed("JetStream store is closed");
  }
}

function headOf(seq: number, length: string | undefined): Head {
  const parsed = Number(length);
  if (!Number.isSafeInteger(parsed) || parsed < 1) throw storageFailed(`log message ${seq} has no valid ${LENGTH_HEADER} header`);
  return { seq, length: parsed };
}

function notFoundAsNull(error: unknown): null {
  if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.NoMessageFound) return null;
  throw error;
}

function notFoundAsUndefined(error: unknown): undefined {
  if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
  throw error;
}

async function inChunks<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += SCAN_CONCURRENCY) {
    await Promise.all(items.slice(start, start + SCAN_CONCURRENCY).map(task));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

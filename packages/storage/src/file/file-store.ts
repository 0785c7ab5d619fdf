import { mkdir, readFile, readdir, rm, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { LogEntry, RegistryKind, SessionStore, StorageUsage, StoredSnapshot } from "@macp/core";
import type { MacpError } from "@macp/protocol";
import { removeStrayTempFiles, writeFileAtomically } from "./atomic-file.js";
import { CoalescedSync } from "./coalesced-sync.js";
import { defaultSync, syncDirectory, type SyncFunction } from "./durable-io.js";
import {
  CHECKPOINT_FILE,
  INDEX_DIR,
  REGISTRY_DIR,
  SNAPSHOT_LOG_DIR,
  SNAPSHOT_LOG_SUFFIX,
  WAL_DIR,
  WAL_SUFFIX,
  registryFileName,
  segmentFileName,
} from "./file-layout.js";
import { sealCheckpoint } from "./checkpoint-codec.js";
import { CheckpointMismatch, encodeCheckpoint, readCheckpoint, type SegmentMark } from "./index-checkpoint.js";
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, findNextFrame, frameSizeAt, sealFrame } from "./frame.js";
import { FrameReader } from "./frame-reader.js";
import { KeyedQueue } from "../keyed-queue.js";
import {
  decodeAppendBody,
  decodeRegistryBody,
  encodeAppendFrame,
  encodeRegistryFrame,
  encodeResetFrame,
  kindCode,
  scanAppendBody,
} from "./record-codec.js";
import { recoverLog, recoverLogAfter, type LogScanOptions, type RecoveredLog } from "./recover-log.js";
import { lockDataDir, type DataDirLock } from "./data-dir-lock.js";
import { importLegacySnapshots } from "./legacy-snapshots.js";
import { SegmentFiles } from "./segment-files.js";
import { SessionTable } from "./session-table.js";
import { SnapshotLog, type RecoveredSnapshots, type SnapshotLogOptions } from "./snapshot-log.js";
import { LogIndex, type EntryLocation } from "./log-index.js";
import { storageFailed, withStorageErrors } from "../storage-error.js";
import { consoleLogger, type StorageLogger } from "../storage-logger.js";
import { validateEntries, validateSnapshot } from "../validate-input.js";
import { WalWriter, type SyncMode } from "./wal-writer.js";

/** Settings of the file backend. */
export interface FileStoreOptions {
  /** Root directory; created if missing. */
  readonly dir: string;
  /** Receives repair warnings and the open summary; defaults to the console. */
  readonly logger?: StorageLogger;
  /** `group` (default): concurrent appends share one fdatasync. `per-append`: one fdatasync each. */
  readonly syncMode?: SyncMode;
  /** Replaces fdatasync/fsync; for tests that count or fail syncs. */
  readonly sync?: SyncFunction;
  /** Size at which a log or snapshot-log segment is closed and the next one started (default 64 MiB). */
  readonly segmentBytes?: number;
  /**
   * Age at which a segment is closed at its next write even if not full (default 1 hour), so
   * that at a low rate the records retention removed become reclaimable by compaction within
   * about this long rather than once 64 MiB were written.
   */
  readonly segmentMaxAgeMs?: number;
  /**
   * Refuse to open when a record before the log's tail is damaged (default: skip it with a
   * warning and keep every later record). A torn tail is always cut back, strict or not. Strict
   * recovery scans (and checks the CRC of) every record, ignoring the index checkpoint; otherwise
   * records the checkpoint covers are checked when read.
   */
  readonly strictRecovery?: boolean;
  /**
   * Called once when the store stops accepting writes until a restart: its `LOCK` file was
   * removed or replaced, or the log or its index can no longer be trusted. The owner of the
   * store should stop serving.
   */
  readonly onFatal?: (error: MacpError) => void;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_SEGMENT_MAX_AGE_MS = 3_600_000;
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
const MAX_OPEN_SEGMENTS = 16;
const CACHE_BLOCKS = 64;
/** Registries are whole-file records; their frames need no salt. */
const FILE_SALT = 0;

/**
 * The default backend. Appends of every session go to one shared write-ahead log, split into
 * segments, so a group of concurrent appends costs a single fdatasync and the number of open
 * descriptors stays bounded however many sessions exist. An in-memory index (built by scanning
 * the log at open) locates each session's records. Snapshots are records of a second, compacted
 * log (never a file per session); the two registries are files replaced atomically.
 */
export class FileStore implements SessionStore {
  private readonly writes = new KeyedQueue();
  private readonly registryDirSync: CoalescedSync;
  private readonly files: SegmentFiles;
  private readonly reader: FrameReader;
  /** Appends issued but not yet indexed, per session: compaction leaves those sessions for later. */
  private readonly inFlight = new Map<string, number>();
  private compaction: Promise<void> = Promise.resolve();
  private compactionWanted = false;
  private compacting = false;
  private lastCompaction: CompactionReport | undefined;
  private closed = false;
  private readonly indexDirSync: CoalescedSync;
  private checkpointing: Promise<void> = Promise.resolve();
  private checkpointRunning = false;
  private checkpointWanted = false;
  /** Size of the last checkpoint written or loaded, and segment bytes sealed since. */
  private checkpointBytes = 0;
  private sealedSinceCheckpoint = 0;
  /** Where both logs ended at the last checkpoint: a close with nothing new rewrites nothing. */
  private checkpointedAt: string | undefined;

  private constructor(
    private readonly dir: string,
    private readonly sync: SyncFunction,
    private readonly index: LogIndex,
    private readonly salts: Map<number, number>,
    private readonly wal: WalWriter,
    private readonly snapshots: SnapshotLog,
    private readonly lock: DataDirLock,
    private readonly logger: StorageLogger,
    private readonly segmentBytes: number,
  ) {
    this.registryDirSync = new CoalescedSync(() => syncDirectory(this.registryDir, sync));
    this.indexDirSync = new CoalescedSync(() => syncDirectory(join(dir, INDEX_DIR), sync));
    this.files = new SegmentFiles((segment) => segmentPath(dir, segment), MAX_OPEN_SEGMENTS);
    this.reader = new FrameReader(this.files, (segment) => wal.durableEnd(segment), CACHE_BLOCKS);
  }

  /**
   * Opens (or creates) a store: removes temp files left by a crash, loads the index checkpoint
   * and scans only the log and snapshot-log records written after it (all of them when there is
   * no usable checkpoint), cutting a torn or corrupt tail back to the last good record with a
   * warning, and imports the per-session snapshot files of earlier versions.
   */
  static async open(options: FileStoreOptions): Promise<FileStore> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!(segmentBytes > 0 && segmentBytes <= MAX_SEGMENT_BYTES)) {
      throw storageFailed(`segmentBytes must be in (0, ${MAX_SEGMENT_BYTES}]`);
    }
    const segmentMaxAgeMs = options.segmentMaxAgeMs ?? DEFAULT_SEGMENT_MAX_AGE_MS;
    if (!(segmentMaxAgeMs > 0)) throw storageFailed("segmentMaxAgeMs must be positive");
    const dir = resolve(options.dir);
    const sync = options.sync ?? defaultSync;
    const logger = options.logger ?? consoleLogger;
    let lock: DataDirLock | undefined;
    let snapshots: SnapshotLog | undefined;
    try {
      const started = performance.now();
      // A directory created now is durable only once its parent's entry is synced too.
      const created = await mkdir(dir, { recursive: true });
      if (created !== undefined) await syncDirectory(dirname(created), sync);
      for (const sub of [WAL_DIR, SNAPSHOT_LOG_DIR, REGISTRY_DIR, INDEX_DIR]) await mkdir(join(dir, sub), { recursive: true });
      lock = await lockDataDir(dir);
      const held = lock;
      await syncDirectory(dir, sync);
      let strays = 0;
      for (const sub of [REGISTRY_DIR, INDEX_DIR]) strays += await removeStrayTempFiles(join(dir, sub));
      if (strays > 0) logger.warn(`removed ${strays} temp file(s) left by interrupted writes in ${dir}`);
      const pathOf = (segment: number): string => segmentPath(dir, segment);
      const logScan: LogScanOptions = { walDir: join(dir, WAL_DIR), pathOf, sync, logger, failOnMidLogDamage: options.strictRecovery ?? false };
      // Filled in once they exist: the writers' callbacks are set up before.
      const rolled: { store?: FileStore; wal?: WalWriter } = {};
      const snapshotOptions: SnapshotLogOptions = {
        dir: join(dir, SNAPSHOT_LOG_DIR),
        sync,
        segmentBytes,
        segmentMaxAgeMs,
        logger,
        verifyLock: () => held.verify(),
        // A snapshot writer that must stop (lost lock, unrecoverable I/O) stops the store.
        onFatal: (error) => void rolled.wal?.halt(error),
        onSealed: () => rolled.store?.sealed(),
      };
      const recovered = await recoverIndexes(join(dir, INDEX_DIR, CHECKPOINT_FILE), logScan, snapshotOptions, logger);
      const { sessions, log } = recovered;
      const wal = await WalWriter.open(
        {
          walDir: join(dir, WAL_DIR),
          pathOf,
          sync,
          syncMode: options.syncMode ?? "group",
          segmentBytes,
          segmentMaxAgeMs,
          logger,
          onSegment: (segment, salt) => {
            log.salts.set(segment, salt);
            // A newly sealed segment may already be mostly removed sessions.
            rolled.store?.scheduleCompaction();
            rolled.store?.sealed();
          },
          verifyLock: () => held.verify(),
          onFatal: (error) => {
            logger.warn(error.message);
            options.onFatal?.(error);
          },
        },
        log.last,
      );
      rolled.wal = wal;
      snapshots = await SnapshotLog.open(snapshotOptions, sessions, recovered.snapshots);
      await importLegacySnapshots(dir, snapshots, sync, logger);
      const elapsed = Math.round(performance.now() - started);
      const scanned = log.scannedBytes + recovered.snapshots.scannedBytes;
      logger.info(
        `opened file store ${dir}: ${sessions.size} sessions (${snapshots.size} with a snapshot), ${log.segments} segments, ${recovered.source}; scanned ${log.scannedEntries} log entries, ${scanned} bytes (${elapsed} ms)`,
      );
      const store = new FileStore(dir, sync, log.index, log.salts, wal, snapshots, held, logger, segmentBytes);
      rolled.store = store;
      store.checkpointBytes = recovered.checkpointBytes;
      if (recovered.checkpointBytes > 0 && scanned === 0) store.checkpointedAt = store.position();
      // A long scan (no checkpoint yet, or a long tail) should not have to be repeated after a crash.
      if (scanned >= segmentBytes) store.requestCheckpoint();
      store.scheduleCompaction();
      return store;
    } catch (error) {
      await snapshots?.close().catch(() => undefined);
      await lock?.release();
      throw storageFailed(`cannot open file store at ${dir}`, error);
    }
  }

  async append(sessionId: string, entries: readonly LogEntry[]): Promise<void> {
    this.assertOpen();
    validateEntries(sessionId, entries);
    if (entries.length === 0) return;
    const frame = encodeAppendFrame(sessionId, entries);
    this.inFlight.set(sessionId, (this.inFlight.get(sessionId) ?? 0) + 1);
    try {
      await this.wal.write(frame, (segment, offset) => {
        entries.forEach((entry, ordinal) =>
          this.index.add(sessionId, segment, offset, frame.length, ordinal, kindCode(entry.kind), entry.seq),
        );
      });
    } finally {
      const left = (this.inFlight.get(sessionId) ?? 1) - 1;
      if (left === 0) this.inFlight.delete(sessionId);
      else this.inFlight.set(sessionId, left);
    }
  }

  async loadLog(sessionId: string): Promise<LogEntry[]> {
    this.assertOpen();
    return this.readEntries(sessionId, this.index.all(sessionId));
  }

  async loadLogAfter(sessionId: string, afterSeq: number): Promise<LogEntry[]> {
    this.assertOpen();
    return this.readEntries(sessionId, this.index.incomingAfter(sessionId, afterSeq));
  }

  async listSessions(): Promise<string[]> {
    this.assertOpen();
    const sessions = this.index.sessions;
    const ids: string[] = [];
    for (let session = 0; session < sessions.size; session++) {
      // Removed sessions keep their number until a restart; they have neither log nor snapshot.
      if (this.index.countOf(session) > 0 || this.snapshots.hasNumbered(session)) ids.push(sessions.idOf(session));
    }
    return ids;
  }

  async listFinishedBefore(finishedBeforeUnixMs: number, limit: number): Promise<string[]> {
    this.assertOpen();
    const sessions = this.index.sessions;
    const ids: string[] = [];
    for (let session = 0; session < sessions.size && ids.length < limit; session++) {
      const count = this.index.countOf(session);
      const secs = count === 0 ? undefined : this.snapshots.finishedAtSecs(session, count);
      // Kept to whole seconds: the session finished within [secs, secs + 1) s.
      if (secs !== undefined && (secs + 1) * 1000 <= finishedBeforeUnixMs) ids.push(sessions.idOf(session));
    }
    return ids;
  }

  /**
   * Removes sessions: a retired record in the snapshot log, then a reset record with no entries
   * in the log, both durable before this resolves; the index forgets them at once. The disk
   * space comes back when compaction deletes (or copies the live rest out of) the segments
   * holding their records.
   */
  async removeSessions(sessionIds: readonly string[]): Promise<void> {
    this.assertOpen();
    await withStorageErrors("sessions not removed", () => Promise.all(sessionIds.map((id) => this.snapshots.retire(id))));
    // Snapshots go first: a crash in between leaves a log without its finished snapshot, which the
    // next start rebuilds (and retention finds again), never a snapshot without its log.
    await Promise.all(
      sessionIds.map(async (sessionId) => {
        const session = this.index.sessions.find(sessionId);
        if (session < 0 || this.index.countOf(session) === 0) return;
        const frame = encodeResetFrame(sessionId, []);
        await this.wal.write(frame, (segment) => {
          this.index.clear(sessionId);
          this.index.addGarbage(segment, frame.length);
        });
      }),
    );
    this.scheduleCompaction();
  }

  /** Waits for compaction scheduled so far and the index checkpoint it leads to (tests and the CLI's gc use it). */
  async compacted(): Promise<CompactionReport | undefined> {
    await this.compaction;
    await this.checkpointing;
    return this.lastCompaction;
  }

  async usage(): Promise<StorageUsage> {
    this.assertOpen();
    const sessions = this.index.sessions;
    let finished = 0;
    let unfinished = 0;
    for (let session = 0; session < sessions.size; session++) {
      const count = this.index.countOf(session);
      if (count === 0) continue;
      if (this.snapshots.finishedAtSecs(session, count) === undefined) unfinished++;
      else finished++;
    }
    return {
      logBytes: await directoryBytes(join(this.dir, WAL_DIR)),
      snapshotBytes: await directoryBytes(join(this.dir, SNAPSHOT_LOG_DIR)),
      indexBytes: this.index.byteLength + sessions.byteLength + this.snapshots.indexBytes,
      finishedSessions: finished,
      unfinishedSessions: unfinished,
      ...(this.lastCompaction === undefined ? {} : { lastCompactionUnixMs: this.lastCompaction.atUnixMs }),
    };
  }

  async listUnfinishedSessions(): Promise<string[]> {
    this.assertOpen();
    const sessions = this.index.sessions;
    const unfinished: string[] = [];
    for (let session = 0; session < sessions.size; session++) {
      const count = this.index.countOf(session);
      if (count > 0 && this.snapshots.finishedAtSecs(session, count) === undefined) unfinished.push(sessions.idOf(session));
    }
    return unfinished;
  }

  async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    this.assertOpen();
    validateSnapshot(snapshot);
    await withStorageErrors(`snapshot of session ${sessionId} not written`, () => this.snapshots.write(sessionId, snapshot));
  }

  async loadSnapshot(sessionId: string): Promise<StoredSnapshot | undefined> {
    this.assertOpen();
    return this.snapshots.load(sessionId);
  }

  async saveRegistry(kind: RegistryKind, document: string): Promise<void> {
    this.assertOpen();
    const frame = encodeRegistryFrame(kind, document);
    sealFrame(frame, FILE_SALT);
    await this.writes.run(`registry:${kind}`, () =>
      withStorageErrors(`registry ${kind} not saved`, async () => {
        await this.verifyLock();
        await writeFileAtomically(this.registryDir, registryFileName(kind), frame, this.sync, this.registryDirSync);
      }),
    );
  }

  async loadRegistry(kind: RegistryKind): Promise<string | undefined> {
    this.assertOpen();
    const body = await this.readWholeFileRecord(join(this.registryDir, registryFileName(kind)));
    return body === undefined ? undefined : decodeRegistryBody(body, kind);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.compaction;
    await this.checkpointing;
    await this.wal.close();
    await this.snapshots.close();
    await this.writes.idle();
    // The next open then scans nothing; a halted writer's index is not worth keeping.
    if (!this.wal.halted && this.checkpointedAt !== this.position()) {
      await this.writeCheckpoint().catch((error: unknown) => this.logger.warn(`index checkpoint not written at close: ${describe(error)}`));
    }
    await this.files.close();
    await this.lock.release();
  }

  /** A segment of either log was sealed: checkpoint once the tail a restart would scan outgrows the last checkpoint. */
  private sealed(): void {
    this.sealedSinceCheckpoint += this.segmentBytes;
    if (this.sealedSinceCheckpoint >= Math.max(this.segmentBytes, this.checkpointBytes)) this.requestCheckpoint();
  }

  /** Writes a checkpoint soon (once; a request while one is written makes it go round again). */
  private requestCheckpoint(): void {
    if (this.closed) return;
    this.checkpointWanted = true;
    if (this.checkpointRunning) return;
    this.checkpointRunning = true;
    this.checkpointing = (async () => {
      await Promise.resolve();
      while (this.checkpointWanted && !this.closed) {
        this.checkpointWanted = false;
        await this.writeCheckpoint().catch((error: unknown) => this.logger.warn(`index checkpoint not written: ${describe(error)}`));
      }
      this.checkpointRunning = false;
    })();
  }

  /**
   * Persists the index of both logs up to their current durable ends, replacing the previous
   * checkpoint atomically. The image is copied in one synchronous step, so it matches exactly
   * the records durable at that instant; anything later is found by the next open's tail scan.
   */
  private async writeCheckpoint(): Promise<void> {
    if (this.wal.halted) return;
    const snapshotDir = join(this.dir, SNAPSHOT_LOG_DIR);
    let logSizes: Map<number, number>;
    let snapshotSizes: Map<number, number>;
    for (;;) {
      // Sealed segments never change: their sizes hold unless a roll sealed another meanwhile.
      const logActive = this.wal.activeSegment;
      const snapshotFiles = this.snapshots.segmentFiles;
      logSizes = await fileSizes([...this.salts.keys()].filter((segment) => segment !== logActive), (segment) => segmentPath(this.dir, segment));
      snapshotSizes = await fileSizes(
        snapshotFiles.segments.filter((segment) => segment !== snapshotFiles.active),
        (segment) => join(snapshotDir, segmentFileName(segment, SNAPSHOT_LOG_SUFFIX)),
      );
      if (this.wal.activeSegment === logActive && this.snapshots.segmentFiles.active === snapshotFiles.active) break;
    }
    await this.verifyLock();
    const position = this.position();
    const snapshots = this.snapshots.checkpointState(snapshotSizes);
    const logSegments: SegmentMark[] = [...this.salts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([segment, salt]) => ({
        segment,
        salt,
        size: segment === this.wal.activeSegment ? this.wal.durableEnd(segment) : (logSizes.get(segment) ?? -1),
      }));
    const image = encodeCheckpoint({
      sessions: this.index.sessions,
      log: this.index,
      logSegments,
      snapshots: snapshots.index,
      snapshotSegments: snapshots.marks,
    });
    this.sealedSinceCheckpoint = 0;
    await sealCheckpoint(image);
    await writeFileAtomically(join(this.dir, INDEX_DIR), CHECKPOINT_FILE, image, this.sync, this.indexDirSync);
    this.checkpointBytes = image.length;
    this.checkpointedAt = position;
  }

  /** Where both logs end and which segments they have: equal positions mean equal indexes. */
  private position(): string {
    const files = this.snapshots.segmentFiles;
    return [this.wal.activeSegment, this.wal.durableEnd(this.wal.activeSegment), [...this.salts.keys()].join(","), files.active, this.snapshots.durableEnd, files.segments.join(",")].join(";");
  }

  /** Registries too are written only while the directory is still ours (snapshots: by their writer). */
  private async verifyLock(): Promise<void> {
    try {
      await this.lock.verify();
    } catch (error) {
      throw this.wal.halt(storageFailed("write refused", error));
    }
  }

  private async readEntries(sessionId: string, locations: readonly EntryLocation[]): Promise<LogEntry[]> {
    const frames = distinctFrames(locations);
    const bytes = await withStorageErrors(`log of session ${sessionId} unreadable`, () => this.reader.read(frames));
    const decoded = new Map<number, LogEntry[]>();
    frames.forEach((frame, i) => {
      const frameBytes = bytes[i] ?? Buffer.alloc(0);
      const salt = this.salts.get(frame.segment) ?? 0;
      if (frameSizeAt(frameBytes, 0, frameBytes.length, salt) !== frame.size) {
        throw storageFailed(`log record of session ${sessionId} at ${segmentPath(this.dir, frame.segment)}:${frame.offset} is corrupt`);
      }
      decoded.set(frameKey(frame), decodeAppendBody(frameBytes, FRAME_HEADER_BYTES, frameBytes.length).entries);
    });
    return locations.map((location) => {
      const entry = decoded.get(frameKey(location))?.[location.ordinal];
      if (entry === undefined || entry.sessionId !== sessionId) {
        throw storageFailed(`log index of session ${sessionId} does not match its records`);
      }
      return entry;
    });
  }

  /** The body of a file holding exactly one sealed frame, or undefined if the file is absent. */
  private async readWholeFileRecord(path: string): Promise<Buffer | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw storageFailed(`cannot read ${path}`, error);
    }
    if (frameSizeAt(bytes, 0, bytes.length, FILE_SALT) !== bytes.length) {
      throw storageFailed(`${path} is corrupt`);
    }
    return bytes.subarray(FRAME_HEADER_BYTES);
  }

  private assertOpen(): void {
    if (this.closed) throw storageFailed("file store is closed");
  }

  /** Runs compaction soon (once; a request while it runs makes it go round again). */
  private scheduleCompaction(): void {
    if (this.closed) return;
    this.compactionWanted = true;
    if (this.compacting) return;
    this.compacting = true;
    this.compaction = (async () => {
      // Started on a microtask: scheduling happens inside the writer's callbacks.
      await Promise.resolve();
      while (this.compactionWanted && !this.closed) {
        this.compactionWanted = false;
        await this.compactSparseSegments();
      }
      this.compacting = false;
    })();
  }

  /**
   * Reclaims sealed log segments in which at most half of the bytes are still some session's
   * current log: the sessions still live there are copied forward as reset records (their whole
   * log, so order is kept), then the segment is deleted. A crash before the deletion leaves
   * both copies, and the later reset record wins; nothing live is lost, nothing removed returns.
   */
  private async compactSparseSegments(): Promise<void> {
    const started = Date.now();
    let deleted = 0;
    let copied = 0;
    let reclaimed = 0;
    for (const segment of this.index.segments) {
      if (this.closed || segment === this.wal.activeSegment) continue;
      const { live, total } = this.index.segmentUsage(segment);
      if (live * 2 > total) continue;
      try {
        const outcome = await this.compactSegment(segment);
        if (outcome === undefined) {
          // A session there is being appended to: try again on the next round.
          this.compactionWanted = true;
          continue;
        }
        deleted++;
        copied += outcome.copied;
        reclaimed += outcome.bytes;
      } catch (error) {
        this.logger.warn(`log segment ${segmentPath(this.dir, segment)} not compacted: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (deleted > 0) {
      // The checkpoint still lists the deleted segments; a new one keeps the next open from
      // having to reconcile them (or, after several rounds, from falling back to a full scan).
      this.requestCheckpoint();
      this.lastCompaction = { atUnixMs: Date.now(), segmentsDeleted: deleted, sessionsCopied: copied, bytesReclaimed: reclaimed };
      this.logger.info(
        `compacted the log: ${deleted} segment(s) deleted, ${copied} live session(s) copied forward, ${reclaimed} bytes reclaimed (${Date.now() - started} ms)`,
      );
    }
  }

  /** Copies what is live out of one sealed segment and deletes it; undefined when it must wait. */
  private async compactSegment(segment: number): Promise<{ copied: number; bytes: number } | undefined> {
    const path = segmentPath(this.dir, segment);
    const bytes = await readFile(path);
    const salt = this.salts.get(segment) ?? 0;
    const oldest = Math.min(...this.salts.keys()) === segment;
    // Every session with a record here, and whether one of them is a reset record.
    const mentioned = new Map<string, boolean>();
    for (let offset = SEGMENT_HEADER_BYTES; offset < bytes.length; ) {
      const size = frameSizeAt(bytes, offset, bytes.length, salt);
      if (size === 0) {
        offset = findNextFrame(bytes, offset + 1, bytes.length, salt);
        if (offset < 0) break;
        continue;
      }
      const { sessionId, reset } = scanAppendBody(bytes, offset + FRAME_HEADER_BYTES, offset + size);
      mentioned.set(sessionId, (mentioned.get(sessionId) ?? false) || reset);
      offset += size;
    }
    let copied = 0;
    for (const [sessionId, hasReset] of mentioned) {
      if (this.closed || this.inFlight.has(sessionId)) return undefined;
      const session = this.index.sessions.find(sessionId);
      const count = session < 0 ? 0 : this.index.countOf(session);
      // A reset record here may be all that hides older records of its session in older
      // segments: it must survive this segment unless none is older.
      const keepsReset = hasReset && !oldest;
      if (count > 0 && (keepsReset || this.index.usesSegment(sessionId, segment))) {
        if (!(await this.copyForward(sessionId, session))) return undefined;
        copied++;
      } else if (count === 0 && keepsReset) {
        const frame = encodeResetFrame(sessionId, []);
        await this.wal.write(frame, (target) => this.index.addGarbage(target, frame.length));
      }
    }
    if (this.closed || this.index.segmentUsage(segment).live !== 0) return undefined;
    this.files.forget(segment);
    await rm(path);
    await syncDirectory(join(this.dir, WAL_DIR), this.sync);
    this.index.dropSegment(segment);
    this.salts.delete(segment);
    return { copied, bytes: bytes.length };
  }

  /** Appends a session's whole log as one reset record; false when an append got in the way. */
  private async copyForward(sessionId: string, session: number): Promise<boolean> {
    const entries = await this.loadLog(sessionId);
    // No await between this check and queueing the reset: no append of the session can slip in.
    if (this.inFlight.has(sessionId) || this.index.countOf(session) !== entries.length) return false;
    const frame = encodeResetFrame(sessionId, entries);
    await this.wal.write(frame, (segment, offset) => {
      this.index.clear(sessionId);
      entries.forEach((entry, ordinal) => this.index.add(sessionId, segment, offset, frame.length, ordinal, kindCode(entry.kind), entry.seq));
    });
    return true;
  }

  private get registryDir(): string {
    return join(this.dir, REGISTRY_DIR);
  }

}

/** What the last compaction of the log did. */
export interface CompactionReport {
  readonly atUnixMs: number;
  readonly segmentsDeleted: number;
  readonly sessionsCopied: number;
  readonly bytesReclaimed: number;
}

/** Index state of both logs at open: from the checkpoint and the records after it, or from a full scan. */
interface RecoveredIndexes {
  readonly sessions: SessionTable;
  readonly log: RecoveredLog;
  readonly snapshots: RecoveredSnapshots;
  readonly checkpointBytes: number;
  /** How the index was built, for the open summary. */
  readonly source: string;
}

async function recoverIndexes(
  checkpointPath: string,
  logScan: LogScanOptions,
  snapshotOptions: SnapshotLogOptions,
  logger: StorageLogger,
): Promise<RecoveredIndexes> {
  // Strict recovery wants every record's CRC checked at open, which only a full scan does.
  const checkpoint = logScan.failOnMidLogDamage ? undefined : await readCheckpoint(checkpointPath);
  let fallback = logScan.failOnMidLogDamage ? "strict recovery, full scan" : "no index checkpoint";
  if (checkpoint !== undefined && "damaged" in checkpoint) {
    logger.warn(`index checkpoint ${checkpointPath} unusable (${checkpoint.damaged}); scanning the whole log`);
    fallback = "index checkpoint damaged, full scan";
  } else if (checkpoint !== undefined) {
    const { state } = checkpoint;
    try {
      const log = await recoverLogAfter(state.log, state.logSegments, logScan);
      const snapshots = await SnapshotLog.recoverAfter(snapshotOptions, state.sessions, state.snapshots, state.snapshotSegments);
      const source = `index checkpoint of ${checkpoint.bytes} bytes`;
      return { ...withoutRemovedSessions(state.sessions, log, snapshots), checkpointBytes: checkpoint.bytes, source };
    } catch (error) {
      if (!(error instanceof CheckpointMismatch)) throw error;
      logger.warn(`index checkpoint ${checkpointPath} does not match the log (${error.message}); scanning the whole log`);
      fallback = "index checkpoint stale, full scan";
    }
  }
  const sessions = new SessionTable();
  const log = await recoverLog(sessions, logScan);
  const snapshots = await SnapshotLog.recover(snapshotOptions, sessions);
  return { sessions, log, snapshots, checkpointBytes: 0, source: fallback };
}

/**
 * Removed sessions keep their number (and id bytes) in the session table while the store is
 * open, and a checkpoint carries them on: once they are more than half of the table, it is
 * rebuilt with only the sessions that still have a log entry or a snapshot record, so the table
 * follows what retention keeps, not every session ever seen. Costs about a microsecond or two per
 * kept session, once per halving.
 */
function withoutRemovedSessions(
  sessions: SessionTable,
  log: RecoveredLog,
  snapshots: RecoveredSnapshots,
): { sessions: SessionTable; log: RecoveredLog; snapshots: RecoveredSnapshots } {
  const numbers = new Int32Array(sessions.size).fill(-1);
  const kept: number[] = [];
  for (let session = 0; session < sessions.size; session++) {
    if (log.index.countOf(session) > 0 || snapshots.index.locate(session) !== undefined) kept.push(session);
  }
  if (kept.length * 2 >= sessions.size) return { sessions, log, snapshots };
  const fresh = new SessionTable();
  for (const session of kept) numbers[session] = fresh.intern(sessions.idOf(session));
  return {
    sessions: fresh,
    log: { ...log, index: log.index.renumbered(fresh, numbers) },
    snapshots: { ...snapshots, index: snapshots.index.renumbered(numbers) },
  };
}

/** File sizes of `segments` (-1 for one that is gone). */
async function fileSizes(segments: readonly number[], pathOf: (segment: number) => string): Promise<Map<number, number>> {
  const sizes = new Map<number, number>();
  for (const segment of segments) sizes.set(segment, await stat(pathOf(segment)).then((info) => info.size, () => -1));
  return sizes;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function directoryBytes(path: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(path)) {
    total += await stat(join(path, name)).then((info) => info.size, () => 0);
  }
  return total;
}

function segmentPath(dir: string, segment: number): string {
  return join(dir, WAL_DIR, segmentFileName(segment, WAL_SUFFIX));
}

function frameKey(location: { segment: number; offset: number }): number {
  return location.segment * 2 ** 32 + location.offset;
}

/** The frames holding `locations`, each once, in log order. */
function distinctFrames(locations: readonly EntryLocation[]): EntryLocation[] {
  const frames: EntryLocation[] = [];
  let previous: EntryLocation | undefined;
  for (const location of locations) {
    if (previous === undefined || previous.segment !== location.segment || previous.offset !== location.offset) {
      frames.push(location);
      previous = location;
    }
  }
  return frames;
}

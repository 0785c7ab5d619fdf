import { mkdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import type { LogEntry, RegistryKind, SessionStore, StoredSnapshot } from "@macp/core";
import type { MacpError } from "@macp/protocol";
import { removeStrayTempFiles, writeFileAtomically } from "./atomic-file.js";
import { CoalescedSync } from "./coalesced-sync.js";
import { defaultSync, syncDirectory, type SyncFunction } from "./durable-io.js";
import { REGISTRY_DIR, SNAPSHOT_LOG_DIR, WAL_DIR, WAL_SUFFIX, registryFileName, segmentFileName } from "./file-layout.js";
import { FRAME_HEADER_BYTES, frameSizeAt, sealFrame } from "./frame.js";
import { FrameReader } from "./frame-reader.js";
import { KeyedQueue } from "./keyed-queue.js";
import { decodeAppendBody, decodeRegistryBody, encodeAppendFrame, encodeRegistryFrame, kindCode } from "./record-codec.js";
import { recoverLog } from "./recover-log.js";
import { lockDataDir, type DataDirLock } from "./data-dir-lock.js";
import { importLegacySnapshots } from "./legacy-snapshots.js";
import { SegmentFiles } from "./segment-files.js";
import { SessionTable } from "./session-table.js";
import { SnapshotLog } from "./snapshot-log.js";
import { LogIndex, type EntryLocation } from "./log-index.js";
import { storageFailed, withStorageErrors } from "./storage-error.js";
import { consoleLogger, type StorageLogger } from "./storage-logger.js";
import { validateEntries, validateSnapshot } from "./validate-input.js";
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
   * Refuse to open when a record before the log's tail is damaged (default: skip it with a
   * warning and keep every later record). A torn tail is always cut back, strict or not.
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
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly sync: SyncFunction,
    private readonly index: LogIndex,
    private readonly salts: Map<number, number>,
    private readonly wal: WalWriter,
    private readonly snapshots: SnapshotLog,
    private readonly lock: DataDirLock,
  ) {
    this.registryDirSync = new CoalescedSync(() => syncDirectory(this.registryDir, sync));
    this.files = new SegmentFiles((segment) => segmentPath(dir, segment), MAX_OPEN_SEGMENTS);
    this.reader = new FrameReader(this.files, (segment) => wal.durableEnd(segment), CACHE_BLOCKS);
  }

  /**
   * Opens (or creates) a store: removes temp files left by a crash, scans the log and the
   * snapshot log to rebuild their indexes, cutting a torn or corrupt tail back to the last good
   * record with a warning, and imports the per-session snapshot files of earlier versions.
   */
  static async open(options: FileStoreOptions): Promise<FileStore> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!(segmentBytes > 0 && segmentBytes <= MAX_SEGMENT_BYTES)) {
      throw storageFailed(`segmentBytes must be in (0, ${MAX_SEGMENT_BYTES}]`);
    }
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
      for (const sub of [WAL_DIR, SNAPSHOT_LOG_DIR, REGISTRY_DIR]) await mkdir(join(dir, sub), { recursive: true });
      lock = await lockDataDir(dir);
      const held = lock;
      await syncDirectory(dir, sync);
      const strays = await removeStrayTempFiles(join(dir, REGISTRY_DIR));
      if (strays > 0) logger.warn(`removed ${strays} temp file(s) left by interrupted writes in ${dir}`);
      const pathOf = (segment: number): string => segmentPath(dir, segment);
      const sessions = new SessionTable();
      const log = await recoverLog(sessions, join(dir, WAL_DIR), pathOf, sync, logger, options.strictRecovery ?? false);
      const wal = await WalWriter.open(
        {
          walDir: join(dir, WAL_DIR),
          pathOf,
          sync,
          syncMode: options.syncMode ?? "group",
          segmentBytes,
          logger,
          onSegment: (segment, salt) => log.salts.set(segment, salt),
          verifyLock: () => held.verify(),
          onFatal: (error) => {
            logger.warn(error.message);
            options.onFatal?.(error);
          },
        },
        log.last,
      );
      snapshots = await SnapshotLog.open(
        {
          dir: join(dir, SNAPSHOT_LOG_DIR),
          sync,
          segmentBytes,
          logger,
          verifyLock: () => held.verify(),
          // A snapshot writer that must stop (lost lock, unrecoverable I/O) stops the store.
          onFatal: (error) => void wal.halt(error),
        },
        sessions,
      );
      await importLegacySnapshots(dir, snapshots, sync, logger);
      const elapsed = Math.round(performance.now() - started);
      logger.info(
        `opened file store ${dir}: ${sessions.size} sessions (${snapshots.size} with a snapshot), ${log.entries} log entries, ${log.segments} segments (${elapsed} ms)`,
      );
      return new FileStore(dir, sync, log.index, log.salts, wal, snapshots, held);
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
    await this.wal.write(frame, (segment, offset) => {
      entries.forEach((entry, ordinal) =>
        this.index.add(sessionId, segment, offset, frame.length, ordinal, kindCode(entry.kind), entry.seq),
      );
    });
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
    return [...this.index.sessions.ids()];
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
    await this.wal.close();
    await this.snapshots.close();
    await this.writes.idle();
    await this.files.close();
    await this.lock.release();
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

  private get registryDir(): string {
    return join(this.dir, REGISTRY_DIR);
  }

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

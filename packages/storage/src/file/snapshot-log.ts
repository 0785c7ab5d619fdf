import { readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { StoredSnapshot } from "@macp/core";
import type { MacpError } from "@macp/protocol";
import { syncDirectory, type SyncFunction } from "./durable-io.js";
import { SNAPSHOT_LOG_SUFFIX, segmentFileName } from "./file-layout.js";
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, findNextFrame, frameSizeAt } from "./frame.js";
import { FrameReader } from "./frame-reader.js";
import { KeyedQueue } from "../keyed-queue.js";
import { decodeSnapshotBody, encodeRetiredFrame, encodeSnapshotFrame, scanSnapshotHead, type SnapshotSummary } from "./record-codec.js";
import { listSegments, scanSegment } from "./segment-scan.js";
import { CheckpointMismatch, planTail, type SegmentMark } from "./index-checkpoint.js";
import { SegmentFiles } from "./segment-files.js";
import type { SessionTable } from "./session-table.js";
import { SnapshotIndex, type SnapshotHead, type SnapshotLocation } from "./snapshot-index.js";
import { storageFailed, withStorageErrors } from "../storage-error.js";
import type { StorageLogger } from "../storage-logger.js";
import { WalWriter, type ActiveSegment } from "./wal-writer.js";

/** Settings of the snapshot log. */
export interface SnapshotLogOptions {
  /** Directory of the snapshot log's segments (created by the caller). */
  readonly dir: string;
  readonly sync: SyncFunction;
  readonly segmentBytes: number;
  /** Seal the active segment at its first write past this age (as the log does). */
  readonly segmentMaxAgeMs?: number;
  /** Called after a segment was sealed and the next one started. */
  readonly onSealed?: () => void;
  readonly logger: StorageLogger;
  /** Runs before each group of snapshot records is written; rejects once the data directory is no longer ours. */
  readonly verifyLock: () => Promise<void>;
  /** Called once if the snapshot writer halts (every later snapshot write fails until restart). */
  readonly onFatal: (error: MacpError) => void;
}

const MAX_OPEN_SEGMENTS = 4;
const CACHE_BLOCKS = 16;

/** The snapshot log as found at open. */
export interface RecoveredSnapshots {
  readonly index: SnapshotIndex;
  readonly salts: Map<number, number>;
  readonly last: ActiveSegment | undefined;
  readonly scannedBytes: number;
}

interface ScannedFrame {
  readonly head: SnapshotSummary;
  readonly offset: number;
  readonly size: number;
}

/**
 * Every session's snapshots as records in a few segment files rather than one file per session
 * (a file per session exhausts inodes long before disk space). A snapshot is appended with
 * group commit, like log appends, and resolves once fdatasync'ed; the index points at each
 * session's latest record, and at open the last record of a session in log order wins. A torn
 * or corrupt record is cut off or skipped at open, so the session falls back to its previous
 * snapshot or to a full replay of its log, as a torn temp file did before.
 *
 * Space is reclaimed by compaction: once at most half of a sealed segment's bytes are latest
 * snapshots, those are appended again (each under its session's write queue, so a newer
 * snapshot is never overtaken by a copy of an older one), and after the copies are durable the
 * segment is deleted. A crash in between leaves two identical copies; the later one wins.
 */
export class SnapshotLog {
  private readonly writes = new KeyedQueue();
  private readonly files: SegmentFiles;
  private readonly reader: FrameReader;
  private readonly pending = new Set<number>();
  private compaction: Promise<void> = Promise.resolve();
  private compacting = false;
  private closed = false;

  private constructor(
    private readonly options: SnapshotLogOptions,
    private readonly sessions: SessionTable,
    private readonly index: SnapshotIndex,
    private readonly salts: Map<number, number>,
    private readonly writer: WalWriter,
  ) {
    this.files = new SegmentFiles((segment) => this.pathOf(segment), MAX_OPEN_SEGMENTS);
    this.reader = new FrameReader(this.files, (segment) => writer.durableEnd(segment), CACHE_BLOCKS);
  }

  /** Scans the segments in `options.dir` (repairing a torn tail) and indexes every record, numbering sessions in `sessions`. */
  static async recover(options: SnapshotLogOptions, sessions: SessionTable): Promise<RecoveredSnapshots> {
    const segments = await listSegments(options.dir, SNAPSHOT_LOG_SUFFIX);
    const scans = segments.map((segment) => ({ segment, from: SEGMENT_HEADER_BYTES }));
    return scanSnapshots(options, sessions, new SnapshotIndex(), new Map(), scans);
  }

  /**
   * Continues a snapshot index loaded from a checkpoint: scans only what follows it, and drops
   * what compaction deleted since. Throws {@link CheckpointMismatch} when the segments on disk
   * cannot be the checkpoint's continuation.
   */
  static async recoverAfter(
    options: SnapshotLogOptions,
    sessions: SessionTable,
    index: SnapshotIndex,
    marks: readonly SegmentMark[],
  ): Promise<RecoveredSnapshots> {
    const plan = await planTail(options.dir, SNAPSHOT_LOG_SUFFIX, (segment) => pathIn(options.dir, segment), marks);
    const missing = new Set(plan.missing);
    const salts = new Map(marks.filter((mark) => !missing.has(mark.segment)).map((mark) => [mark.segment, mark.salt]));
    const recovered = await scanSnapshots(options, sessions, index, salts, plan.scans);
    for (const segment of index.segmentNumbers) {
      if (recovered.salts.has(segment)) continue;
      if (index.liveBytes(segment) !== 0) {
        for (const session of index.sessionsIn(segment, sessions.size)) {
          // Compaction drops retired records from the oldest segment; any other latest record
          // would have been copied forward before its segment was deleted.
          if (!index.isRetired(session)) throw new CheckpointMismatch(`deleted snapshot segment ${segment} still holds a latest snapshot`);
          index.remove(session);
        }
      }
      index.drop(segment);
    }
    return recovered;
  }

  /** Opens the writer over recovered segments. */
  static async open(options: SnapshotLogOptions, sessions: SessionTable, recovered: RecoveredSnapshots): Promise<SnapshotLog> {
    const { index, salts, last } = recovered;
    const pathOf = (segment: number): string => pathIn(options.dir, segment);
    // The writer reports new segments from its first roll on, once the log below exists.
    const opened: { log?: SnapshotLog } = {};
    const writer = await WalWriter.open(
      {
        walDir: options.dir,
        pathOf,
        sync: options.sync,
        syncMode: "group",
        segmentBytes: options.segmentBytes,
        ...(options.segmentMaxAgeMs === undefined ? {} : { segmentMaxAgeMs: options.segmentMaxAgeMs }),
        logger: options.logger,
        verifyLock: options.verifyLock,
        onFatal: options.onFatal,
        onSegment: (segment, salt) => {
          salts.set(segment, salt);
          opened.log?.sealed(segment);
          if (opened.log !== undefined) options.onSealed?.();
        },
      },
      last,
    );
    const log = new SnapshotLog(options, sessions, index, salts, writer);
    opened.log = log;
    log.sealed(writer.activeSegment);
    return log;
  }

  /** The index and where each segment ends, for an index checkpoint; synchronous, so consistent with the log. */
  checkpointState(sealedSizes: ReadonlyMap<number, number>): { index: SnapshotIndex; marks: SegmentMark[] } {
    const marks = [...this.salts.entries()]
      .sort(([a], [b]) => a - b)
      .map(([segment, salt]) => ({
        segment,
        salt,
        size: segment === this.writer.activeSegment ? this.writer.durableEnd(segment) : (sealedSizes.get(segment) ?? -1),
      }));
    return { index: this.index, marks };
  }

  /** Segment numbers and the active one (sealed segments' sizes are read by the checkpoint writer). */
  get segmentFiles(): { segments: number[]; active: number } {
    return { segments: [...this.salts.keys()], active: this.writer.activeSegment };
  }

  /** Where the active segment's durable records end. */
  get durableEnd(): number {
    return this.writer.durableEnd(this.writer.activeSegment);
  }

  /** Number of sessions with a snapshot. */
  get size(): number {
    return this.index.size;
  }

  /** Bytes of the snapshot index in memory. */
  get indexBytes(): number {
    return this.index.byteLength;
  }

  /** Whether `sessionId` has a snapshot. */
  has(sessionId: string): boolean {
    const session = this.sessions.find(sessionId);
    return session >= 0 && this.hasNumbered(session);
  }

  /** Whether the session numbered `session` has a snapshot. */
  hasNumbered(session: number): boolean {
    return this.index.locate(session) !== undefined && !this.index.isRetired(session);
  }

  /**
   * Removes the snapshots of `sessionId`: appends a retired record (durable when this resolves),
   * which compaction carries forward until no older segment could hold a snapshot of the session.
   */
  retire(sessionId: string): Promise<void> {
    const frame = encodeRetiredFrame(sessionId);
    const head = { logLength: 0, finishedAtUnixMs: undefined, retired: true };
    return this.writes.run(sessionId, async () => {
      const session = this.sessions.find(sessionId);
      if (session < 0 || !this.hasNumbered(session)) return;
      await this.writer.write(frame, (segment, offset) => this.placed(session, segment, offset, frame.length, head));
    });
  }

  /**
   * When `sessionId` finished (whole seconds since the epoch), if its latest snapshot is of a
   * finished session and covers `logLength` records.
   */
  finishedAtSecs(session: number, logLength: number): number | undefined {
    return this.index.finishedAtSecs(session, logLength);
  }

  /** Appends a snapshot of `sessionId`; resolves once it is durable. Writes of one session apply in call order. */
  write(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    const frame = encodeSnapshotFrame(sessionId, snapshot);
    const head = { logLength: snapshot.logLength, finishedAtUnixMs: snapshot.finishedAtUnixMs, retired: false };
    return this.writes.run(sessionId, () =>
      this.writer.write(frame, (segment, offset) => this.placed(this.sessions.intern(sessionId), segment, offset, frame.length, head)),
    );
  }

  /** The latest snapshot of `sessionId`, after any write of it still in progress. */
  load(sessionId: string): Promise<StoredSnapshot | undefined> {
    return this.writes.run(sessionId, async () => {
      const session = this.sessions.find(sessionId);
      const location = session < 0 || this.index.isRetired(session) ? undefined : this.index.locate(session);
      if (location === undefined) return undefined;
      const [bytes = Buffer.alloc(0)] = await withStorageErrors(`snapshot of session ${sessionId} unreadable`, () =>
        this.reader.read([location]),
      );
      if (frameSizeAt(bytes, 0, bytes.length, this.salts.get(location.segment) ?? 0) !== location.size) {
        // A snapshot only caches what the session's log already holds, and an open from the index
        // checkpoint does not re-read covered segments: a record damaged at rest is found here.
        // Forgetting it lets the session replay its log instead of failing recovery or every read.
        this.options.logger.warn(
          `snapshot record of session ${sessionId} at ${this.pathOf(location.segment)}:${location.offset} is corrupt; dropped, the session replays its log`,
        );
        this.index.remove(session);
        return undefined;
      }
      const stored = decodeSnapshotBody(bytes.subarray(FRAME_HEADER_BYTES));
      if (stored.sessionId !== sessionId) throw storageFailed(`snapshot index of session ${sessionId} does not match its records`);
      return stored.snapshot;
    });
  }

  /** Stops compaction, waits for writes in progress and releases the segments. */
  async close(): Promise<void> {
    this.closed = true;
    await this.compaction;
    await this.writes.idle();
    await this.writer.close();
    await this.files.close();
  }

  private placed(session: number, segment: number, offset: number, size: number, head: SnapshotHead): void {
    const previous = this.index.place(session, segment, offset, size, head);
    if (previous !== undefined && previous !== this.writer.activeSegment && this.index.isSparse(previous)) this.schedule(previous);
  }

  /** Queues every segment but the `active` one that is mostly garbage (checked at open and whenever a segment is sealed). */
  private sealed(active: number): void {
    for (const segment of this.salts.keys()) {
      if (segment !== active && this.index.isSparse(segment)) this.schedule(segment);
    }
  }

  private schedule(segment: number): void {
    if (this.closed) return;
    this.pending.add(segment);
    if (this.compacting) return;
    this.compacting = true;
    this.compaction = this.compactPending();
  }

  private async compactPending(): Promise<void> {
    // Started on a microtask: scheduling happens inside the writer's durability callback.
    await Promise.resolve();
    for (const segment of this.pending) {
      if (this.closed) break;
      this.pending.delete(segment);
      if (!this.salts.has(segment) || segment === this.writer.activeSegment) continue;
      try {
        await this.compact(segment);
      } catch (error) {
        this.options.logger.warn(`snapshot segment ${this.pathOf(segment)} not compacted: ${describe(error)}`);
      }
    }
    this.pending.clear();
    this.compacting = false;
  }

  /** Copies the latest snapshots out of a sealed segment, then deletes it. */
  private async compact(segment: number): Promise<void> {
    const path = this.pathOf(segment);
    const bytes = await readFile(path);
    const salt = this.salts.get(segment) ?? 0;
    // Only the oldest segment's retired records can go: no older snapshot is left to contradict.
    const oldest = Math.min(...this.salts.keys()) === segment;
    const copies: Promise<void>[] = [];
    for (let offset = SEGMENT_HEADER_BYTES; offset < bytes.length; ) {
      const size = frameSizeAt(bytes, offset, bytes.length, salt);
      if (size === 0) {
        offset = findNextFrame(bytes, offset + 1, bytes.length, salt);
        if (offset < 0) break;
        continue;
      }
      const head = readHead(bytes, offset, size);
      const sessionId = head?.sessionId;
      const session = sessionId === undefined ? -1 : this.sessions.find(sessionId);
      const at = offset;
      if (head !== undefined && sessionId !== undefined && isAt(this.index.locate(session), segment, at)) {
        copies.push(
          this.writes.run(sessionId, async () => {
            // Re-checked in the session's queue: a newer snapshot may have replaced it meanwhile.
            if (this.closed || !isAt(this.index.locate(session), segment, at)) return;
            if (head.retired && oldest) {
              this.index.remove(session);
              return;
            }
            const copy = Buffer.from(bytes.subarray(at, at + size));
            await this.writer.write(copy, (target, targetOffset) => this.placed(session, target, targetOffset, size, head));
          }),
        );
      }
      offset += size;
    }
    await Promise.all(copies);
    if (this.closed || this.index.liveBytes(segment) !== 0) return;
    this.files.forget(segment);
    await rm(path);
    await syncDirectory(this.options.dir, this.options.sync);
    this.index.drop(segment);
    this.salts.delete(segment);
  }

  private pathOf(segment: number): string {
    return pathIn(this.options.dir, segment);
  }
}

function pathIn(dir: string, segment: number): string {
  return join(dir, segmentFileName(segment, SNAPSHOT_LOG_SUFFIX));
}

/** Indexes the records of `scans` in order; an unreadable segment is moved aside (snapshots only spare replay work). */
async function scanSnapshots(
  options: SnapshotLogOptions,
  sessions: SessionTable,
  index: SnapshotIndex,
  salts: Map<number, number>,
  scans: readonly { segment: number; from: number }[],
): Promise<RecoveredSnapshots> {
  let last: ActiveSegment | undefined;
  let scannedBytes = 0;
  for (const [i, { segment, from }] of scans.entries()) {
    const frames: ScannedFrame[] = [];
    const path = pathIn(options.dir, segment);
    try {
      const context = { sync: options.sync, logger: options.logger, isLast: i === scans.length - 1, failOnMidLogDamage: false };
      const scanned = await scanSegment(
        path,
        context,
        (bytes, offset, size) => {
          const head = readHead(bytes, offset, size);
          if (head !== undefined) frames.push({ head, offset, size });
        },
        from,
      );
      salts.set(segment, scanned.salt);
      last = { segment, ...scanned };
      scannedBytes += Math.max(0, scanned.size - from);
    } catch (error) {
      options.logger.warn(`snapshot segment ${path} unreadable (${describe(error)}); moved aside, its sessions replay their logs`);
      await rename(path, `${path}.damaged`);
      salts.delete(segment);
      continue;
    }
    for (const frame of frames) index.place(sessions.intern(frame.head.sessionId), segment, frame.offset, frame.size, frame.head);
  }
  return { index, salts, last, scannedBytes };
}

/** The session, log length and finish time of a snapshot frame, or undefined for a record that is not a snapshot. */
function readHead(bytes: Buffer, offset: number, size: number): SnapshotSummary | undefined {
  try {
    return scanSnapshotHead(bytes, offset + FRAME_HEADER_BYTES, offset + size);
  } catch {
    return undefined;
  }
}

function isAt(location: SnapshotLocation | undefined, segment: number, offset: number): boolean {
  return location !== undefined && location.segment === segment && location.offset === offset;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

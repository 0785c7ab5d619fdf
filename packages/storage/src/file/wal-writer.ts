import { randomBytes } from "node:crypto";
import { open, rm, type FileHandle } from "node:fs/promises";
import type { MacpError } from "@macp/protocol";
import { syncDirectory, writeFully, type SyncFunction } from "./durable-io.js";
import { SEGMENT_HEADER_BYTES, encodeSegmentHeader, sealFrame } from "./frame.js";
import { storageFailed } from "../storage-error.js";
import type { StorageLogger } from "../storage-logger.js";

/** How appends wait for durability. */
export type SyncMode = "group" | "per-append";

/** Settings of the log writer. */
export interface WalWriterOptions {
  readonly walDir: string;
  readonly pathOf: (segment: number) => string;
  readonly sync: SyncFunction;
  readonly syncMode: SyncMode;
  /** A segment is closed and a new one started once it reaches this size. */
  readonly segmentBytes: number;
  /**
   * ... or once it is this old (ms since it became the write target) at its next write, so that
   * at a low rate too its records become compactable instead of waiting for it to fill.
   */
  readonly segmentMaxAgeMs?: number;
  readonly logger: StorageLogger;
  /** Called when a new segment becomes the write target, before any frame is written to it. */
  readonly onSegment: (segment: number, salt: number) => void;
  /**
   * Runs before each group is written and rejects when this process may no longer write the
   * log (its data directory lock is gone); the group is then refused and the writer halts.
   */
  readonly verifyLock: () => Promise<void>;
  /** Called once when the writer halts: every later write fails until the process restarts. */
  readonly onFatal: (error: MacpError) => void;
}

/** The segment appends continue in. */
export interface ActiveSegment {
  readonly segment: number;
  readonly salt: number;
  readonly size: number;
}

interface PendingWrite {
  readonly frame: Buffer;
  readonly onDurable: (segment: number, offset: number) => void;
  readonly resolve: () => void;
  readonly reject: (error: MacpError) => void;
}

/** A group stops growing at this many bytes so one huge burst does not delay everyone behind it. */
const MAX_GROUP_BYTES = 8 * 1024 * 1024;
/** Offsets are kept as 32-bit numbers; past this the writer stops rather than wrap. */
const MAX_SEGMENT_END = 3 * 1024 * 1024 * 1024;

/**
 * Appends frames to the active log segment with group commit: frames queued while a write+sync
 * is under way are written together by the next one and share its single `fdatasync`, and each
 * caller is resolved only after the sync that covers its frame. With one shared log for all
 * sessions that is one sync per group regardless of how many sessions the group touches.
 */
export class WalWriter {
  private queue: PendingWrite[] = [];
  private draining = false;
  private idle: Promise<void> = Promise.resolve();
  private failure: MacpError | undefined;
  private closed = false;
  private activeSince = performance.now();

  private constructor(
    private readonly options: WalWriterOptions,
    private handle: FileHandle,
    private active: ActiveSegment,
  ) {}

  /** Continues the last segment, or starts segment 1 in an empty log. */
  static async open(options: WalWriterOptions, last: ActiveSegment | undefined): Promise<WalWriter> {
    if (last === undefined) {
      const created = await createSegment(options, 1);
      return new WalWriter(options, created.handle, created.active);
    }
    const handle = await open(options.pathOf(last.segment), "r+");
    return new WalWriter(options, handle, last);
  }

  /** Whether the writer halted: its index can no longer be trusted to match the log. */
  get halted(): boolean {
    return this.failure !== undefined;
  }

  /** The segment appends currently go to. */
  get activeSegment(): number {
    return this.active.segment;
  }

  /** Bytes of `segment` known durable; older segments are durable throughout. */
  durableEnd(segment: number): number {
    return segment === this.active.segment ? this.active.size : Number.MAX_SAFE_INTEGER;
  }

  /**
   * Appends an unsealed frame. `onDurable` runs (in write order) once the frame is durable and
   * before the promise resolves, so the caller can index it without reordering.
   */
  write(frame: Buffer, onDurable: (segment: number, offset: number) => void): Promise<void> {
    if (this.closed) return Promise.reject(storageFailed("file store is closed"));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ frame, onDurable, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        // Started on a microtask so appends issued in the same tick form one group.
        this.idle = Promise.resolve().then(() => this.drain());
      }
    });
  }

  /** Waits for queued frames to be durable, then releases the segment. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle;
    await this.handle.close();
  }

  /**
   * Refuses every later write with `error` and reports it once. Used when the log on disk or the
   * index over it can no longer be trusted, or another process may own the directory.
   */
  halt(error: MacpError): MacpError {
    if (this.failure !== undefined) return this.failure;
    this.failure = error;
    try {
      this.options.onFatal(error);
    } catch (thrown) {
      this.options.logger.warn(`the storage failure handler threw: ${String(thrown)}`);
    }
    return error;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const group = this.takeGroup();
      try {
        await this.commit(group);
      } catch (error) {
        // Nothing may escape the drain loop: the callers would wait forever, and the rejection
        // would go unhandled. Callers already settled keep their outcome.
        const failure = this.halt(storageFailed("log writer failed; restart required", error));
        for (const write of group) write.reject(failure);
      }
    }
    this.draining = false;
  }

  private takeGroup(): PendingWrite[] {
    if (this.options.syncMode === "per-append") return this.queue.splice(0, 1);
    let bytes = 0;
    let count = 0;
    while (count < this.queue.length && (count === 0 || bytes < MAX_GROUP_BYTES)) {
      bytes += this.queue[count]?.frame.length ?? 0;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async commit(group: PendingWrite[]): Promise<void> {
    if (this.failure !== undefined) {
      for (const write of group) write.reject(this.failure);
      return;
    }
    try {
      await this.options.verifyLock();
    } catch (error) {
      const failure = this.halt(storageFailed("durable append refused", error));
      for (const write of group) write.reject(failure);
      return;
    }
    const { segment, salt, size: start } = this.active;
    const offsets: number[] = [];
    let end = start;
    for (const write of group) {
      sealFrame(write.frame, salt);
      offsets.push(end);
      end += write.frame.length;
    }
    const path = this.options.pathOf(segment);
    try {
      const [single] = group;
      const data = group.length === 1 && single !== undefined ? single.frame : Buffer.concat(group.map((w) => w.frame), end - start);
      await writeFully(this.handle, data, start);
      await this.options.sync({ handle: this.handle, path, kind: "wal", appends: group.length });
    } catch (error) {
      const failure = storageFailed("durable append failed", error);
      await this.undo(start, path);
      for (const write of group) write.reject(failure);
      return;
    }
    this.active = { segment, salt, size: end };
    for (const [i, write] of group.entries()) {
      try {
        write.onDurable(segment, offsets[i] ?? 0);
      } catch (error) {
        // The record is durable but the index does not know it: a reload would miss it and a
        // later append could reuse its sequence number. Only a restart (which rebuilds the
        // index from the log) is safe, so this and every later write fail.
        const failure = this.halt(storageFailed("log index update failed after a durable append; restart required", error));
        for (const unindexed of group.slice(i)) unindexed.reject(failure);
        return;
      }
      // Settles on a later microtask, after the whole group is indexed, as before.
      write.resolve();
    }
    const maxAge = this.options.segmentMaxAgeMs;
    if (end >= this.options.segmentBytes || (maxAge !== undefined && performance.now() - this.activeSince >= maxAge)) await this.roll();
  }

  /**
   * Cuts the segment back to where the failed group started: none of its callers was
   * acknowledged, so none of its records may reappear after a restart. If even that fails the
   * file's state is unknown and the writer refuses further appends.
   */
  private async undo(start: number, path: string): Promise<void> {
    try {
      await this.handle.truncate(start);
      await this.options.sync({ handle: this.handle, path, kind: "wal" });
    } catch (error) {
      this.halt(storageFailed(`log segment ${path} could not be restored after a failed append; restart required`, error));
    }
  }

  private async roll(): Promise<void> {
    try {
      const created = await createSegment(this.options, this.active.segment + 1);
      const previous = this.handle;
      this.handle = created.handle;
      this.active = created.active;
      this.activeSince = performance.now();
      await previous.close();
    } catch (error) {
      // The current segment stays usable; rolling is retried after the next group.
      this.options.logger.warn(`could not start a new log segment: ${String(error)}`);
      if (this.active.size > MAX_SEGMENT_END) {
        this.halt(storageFailed("log segment reached its size limit and no new segment could be created", error));
      }
    }
  }
}

/**
 * Creates segment `segment` with a fresh salt. The header and the directory entry are durable
 * before any frame is written, so after a crash only the last segment can lack a header.
 */
async function createSegment(
  options: WalWriterOptions,
  segment: number,
): Promise<{ handle: FileHandle; active: ActiveSegment }> {
  const path = options.pathOf(segment);
  const salt = randomBytes(4).readUInt32LE(0);
  const handle = await open(path, "wx+");
  try {
    await writeFully(handle, encodeSegmentHeader(salt), 0);
    await options.sync({ handle, path, kind: "file" });
    await syncDirectory(options.walDir, options.sync);
  } catch (error) {
    await handle.close();
    await rm(path, { force: true });
    throw error;
  }
  options.onSegment(segment, salt);
  return { handle, active: { segment, salt, size: SEGMENT_HEADER_BYTES } };
}

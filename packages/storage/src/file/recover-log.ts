import { WAL_SUFFIX } from "./file-layout.js";
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from "./frame.js";
import { CheckpointMismatch, planTail, type SegmentMark } from "./index-checkpoint.js";
import { scanAppendBody } from "./record-codec.js";
import { listSegments, scanSegment } from "./segment-scan.js";
import { LogIndex } from "./log-index.js";
import type { SessionTable } from "./session-table.js";
import type { SyncFunction } from "./durable-io.js";
import type { StorageLogger } from "../storage-logger.js";
import type { ActiveSegment } from "./wal-writer.js";

/** The log as found at open: per-session indexes, segment salts, and where appends continue. */
export interface RecoveredLog {
  readonly index: LogIndex;
  readonly salts: Map<number, number>;
  readonly last: ActiveSegment | undefined;
  readonly segments: number;
  /** Entries and bytes read by this open's scan (all of the log, or what follows a checkpoint). */
  readonly scannedEntries: number;
  readonly scannedBytes: number;
}

/** How to read and repair the log. */
export interface LogScanOptions {
  readonly walDir: string;
  readonly pathOf: (segment: number) => string;
  readonly sync: SyncFunction;
  readonly logger: StorageLogger;
  readonly failOnMidLogDamage: boolean;
}

/** Scans every segment in order (repairing a damaged tail) and indexes every record, numbering sessions in `sessions`. */
export async function recoverLog(sessions: SessionTable, options: LogScanOptions): Promise<RecoveredLog> {
  const segments = await listSegments(options.walDir, WAL_SUFFIX);
  const scans = segments.map((segment) => ({ segment, from: SEGMENT_HEADER_BYTES }));
  return scanLog(new LogIndex(sessions), new Map(), scans, options);
}

/**
 * Continues a log index loaded from a checkpoint: checks the segments it covers, scans only
 * what follows, and forgets segments compaction deleted since. Throws {@link CheckpointMismatch}
 * when the log on disk cannot be the checkpoint's continuation.
 */
export async function recoverLogAfter(index: LogIndex, marks: readonly SegmentMark[], options: LogScanOptions): Promise<RecoveredLog> {
  const plan = await planTail(options.walDir, WAL_SUFFIX, options.pathOf, marks);
  const missing = new Set(plan.missing);
  const salts = new Map(marks.filter((mark) => !missing.has(mark.segment)).map((mark) => [mark.segment, mark.salt]));
  const recovered = await scanLog(index, salts, plan.scans, options);
  for (const segment of plan.missing) {
    // Compaction deletes a segment only once no session's log uses it, and writes what cleared
    // them first: after the tail, nothing may point there any more.
    if (index.segmentUsage(segment).live !== 0) throw new CheckpointMismatch(`deleted segment ${segment} still holds live records`);
    index.dropSegment(segment);
  }
  for (const segment of index.segments) {
    if (!recovered.salts.has(segment)) throw new CheckpointMismatch(`indexed segment ${segment} is neither on disk nor in the checkpoint`);
  }
  return { ...recovered, segments: recovered.salts.size };
}

async function scanLog(index: LogIndex, salts: Map<number, number>, scans: readonly { segment: number; from: number }[], options: LogScanOptions): Promise<RecoveredLog> {
  let last: ActiveSegment | undefined;
  let scannedEntries = 0;
  let scannedBytes = 0;
  for (const [i, { segment, from }] of scans.entries()) {
    const context = { sync: options.sync, logger: options.logger, isLast: i === scans.length - 1, failOnMidLogDamage: options.failOnMidLogDamage };
    const scanned = await scanSegment(
      options.pathOf(segment),
      context,
      (bytes, offset, size) => {
        const { sessionId, reset, kindCodes, seqs } = scanAppendBody(bytes, offset + FRAME_HEADER_BYTES, offset + size);
        if (reset) index.clear(sessionId);
        if (kindCodes.length === 0) index.addGarbage(segment, size);
        for (const [ordinal, code] of kindCodes.entries()) {
          index.add(sessionId, segment, offset, size, ordinal, code, seqs[ordinal] ?? 0);
        }
        scannedEntries += kindCodes.length;
      },
      from,
    );
    scannedBytes += Math.max(0, scanned.size - from);
    salts.set(segment, scanned.salt);
    last = { segment, ...scanned };
  }
  return { index, salts, last, segments: salts.size, scannedEntries, scannedBytes };
}

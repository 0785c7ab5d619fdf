import { WAL_SUFFIX } from "./file-layout.js";
import { FRAME_HEADER_BYTES } from "./frame.js";
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
  readonly entries: number;
}

/** Scans every segment in order (repairing a damaged tail) and indexes every record, numbering sessions in `sessions`. */
export async function recoverLog(
  sessions: SessionTable,
  walDir: string,
  pathOf: (segment: number) => string,
  sync: SyncFunction,
  logger: StorageLogger,
  failOnMidLogDamage = false,
): Promise<RecoveredLog> {
  const segments = await listSegments(walDir, WAL_SUFFIX);
  const index = new LogIndex(sessions);
  const salts = new Map<number, number>();
  let last: ActiveSegment | undefined;
  let entries = 0;
  for (const [i, segment] of segments.entries()) {
    const context = { sync, logger, isLast: i === segments.length - 1, failOnMidLogDamage };
    const scanned = await scanSegment(pathOf(segment), context, (bytes, offset, size) => {
      const { sessionId, reset, kindCodes, seqs } = scanAppendBody(bytes, offset + FRAME_HEADER_BYTES, offset + size);
      if (reset) index.clear(sessionId);
      if (kindCodes.length === 0) index.addGarbage(segment, size);
      for (const [ordinal, code] of kindCodes.entries()) {
        index.add(sessionId, segment, offset, size, ordinal, code, seqs[ordinal] ?? 0);
      }
      entries += kindCodes.length;
    });
    salts.set(segment, scanned.salt);
    last = { segment, ...scanned };
  }
  return { index, salts, last, segments: segments.length, entries };
}

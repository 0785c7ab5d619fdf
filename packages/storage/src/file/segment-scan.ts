import { open, readFile, readdir } from "node:fs/promises";
import { readFully } from "./durable-io.js";
import { parseSegmentFileName } from "./file-layout.js";
import { randomBytes } from "node:crypto";
import { writeFully, type SyncFunction } from "./durable-io.js";
import {
  SEGMENT_HEADER_BYTES,
  encodeSegmentHeader,
  findNextFrame,
  frameSizeAt,
  readSegmentHeader,
} from "./frame.js";
import type { StorageLogger } from "../storage-logger.js";
import { storageFailed } from "../storage-error.js";

/** A segment after its scan: its salt and its (possibly repaired) length. */
export interface ScannedSegment {
  readonly salt: number;
  readonly size: number;
}

/** Numbers of the segments in `dir` named with `suffix`, ascending. */
export async function listSegments(dir: string, suffix: string): Promise<number[]> {
  return (await readdir(dir))
    .map((name) => parseSegmentFileName(name, suffix))
    .filter((segment): segment is number => segment !== undefined)
    .sort((a, b) => a - b);
}

/** Context a scan needs to repair and report. */
export interface ScanContext {
  readonly sync: SyncFunction;
  readonly logger: StorageLogger;
  /** Only the last segment may have a torn header: older ones were synced before the next was created. */
  readonly isLast: boolean;
  /**
   * Refuse to open on damage before the tail instead of skipping it. Such damage can only be bit
   * rot or tampering, and the records it destroyed were acknowledged.
   */
  readonly failOnMidLogDamage: boolean;
}

/**
 * Reads one segment and hands every valid frame (`bytes[offset, offset + size)`) to `onFrame`. A damaged region followed by a
 * valid frame (bit rot in the middle) is skipped with a warning, keeping every later record; a
 * damaged region running to the end of the file (a write torn by a crash, or a corrupt last
 * record) is cut off, so the next append starts right after the last good record. `from` (a
 * frame boundary covered by an index checkpoint) skips the records before it: only the header
 * and the bytes from there on are read.
 */
export async function scanSegment(
  path: string,
  context: ScanContext,
  onFrame: (bytes: Buffer, offset: number, size: number) => void,
  from = SEGMENT_HEADER_BYTES,
): Promise<ScannedSegment> {
  const bytes = from <= SEGMENT_HEADER_BYTES ? await readFile(path) : await readHeaderAndTail(path, from);
  const salt = readSegmentHeader(bytes);
  if (salt === undefined) {
    if (context.isLast && bytes.length <= SEGMENT_HEADER_BYTES) return rewriteHeader(path, context);
    throw storageFailed(`log segment ${path} has no valid header; refusing to guess its content`);
  }
  let offset = Math.max(from, SEGMENT_HEADER_BYTES);
  while (offset < bytes.length) {
    const size = frameSizeAt(bytes, offset, bytes.length, salt);
    if (size > 0) {
      onFrame(bytes, offset, size);
      offset += size;
      continue;
    }
    const next = findNextFrame(bytes, offset + 1, bytes.length, salt);
    if (next < 0) {
      context.logger.warn(
        `log segment ${path}: torn or corrupt tail at byte ${offset} (${bytes.length - offset} bytes) cut off`,
      );
      await truncate(path, offset, context.sync);
      return { salt, size: offset };
    }
    const damage = `log segment ${path}: damaged bytes ${offset}..${next} before the end of the log (acknowledged records there are lost)`;
    if (context.failOnMidLogDamage) throw storageFailed(`${damage}; refusing to open (strict recovery)`);
    context.logger.warn(`${damage}; skipped, later records kept`);
    offset = next;
  }
  return { salt, size: bytes.length };
}

/** A buffer the size of the file holding its header and its bytes from `from` on (the rest unread). */
async function readHeaderAndTail(path: string, from: number): Promise<Buffer> {
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size < from) throw storageFailed(`log segment ${path} is shorter (${size} bytes) than its indexed part (${from})`);
    const bytes = Buffer.allocUnsafe(size);
    (await readFully(handle, SEGMENT_HEADER_BYTES, 0)).copy(bytes, 0);
    (await readFully(handle, size - from, from)).copy(bytes, from);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** A crash while creating the segment left it without a complete header and so without records. */
async function rewriteHeader(path: string, context: ScanContext): Promise<ScannedSegment> {
  context.logger.warn(`log segment ${path}: incomplete header from an interrupted creation rewritten`);
  const salt = randomBytes(4).readUInt32LE(0);
  const handle = await open(path, "r+");
  try {
    await handle.truncate(0);
    await writeFully(handle, encodeSegmentHeader(salt), 0);
    await context.sync({ handle, path, kind: "file" });
  } finally {
    await handle.close();
  }
  return { salt, size: SEGMENT_HEADER_BYTES };
}

async function truncate(path: string, size: number, sync: SyncFunction): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.truncate(size);
    await sync({ handle, path, kind: "wal" });
  } finally {
    await handle.close();
  }
}

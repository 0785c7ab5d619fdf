import { open, readFile } from "node:fs/promises";
import { CheckpointReader, CheckpointWriter } from "./checkpoint-codec.js";
import { SEGMENT_HEADER_BYTES, readSegmentHeader } from "./frame.js";
import { LogIndex } from "./log-index.js";
import { listSegments } from "./segment-scan.js";
import { SessionTable } from "./session-table.js";
import { SnapshotIndex } from "./snapshot-index.js";

/**
 * A segment as a checkpoint saw it: a sealed one whole (`size` is its file size), the active
 * one up to the end the index covered.
 */
export interface SegmentMark {
  readonly segment: number;
  readonly salt: number;
  readonly size: number;
}

/** Everything the file store's open scan builds, as of one point in both logs. */
export interface IndexState {
  readonly sessions: SessionTable;
  readonly log: LogIndex;
  /** Segments of the log, ascending; the last is where the checkpoint stops. */
  readonly logSegments: readonly SegmentMark[];
  readonly snapshots: SnapshotIndex;
  readonly snapshotSegments: readonly SegmentMark[];
}

/** A segment to scan for records after a checkpoint, from byte `from` on. */
export interface SegmentScan {
  readonly segment: number;
  readonly from: number;
}

/** What is left to scan of one log after a checkpoint. */
export interface TailPlan {
  readonly scans: readonly SegmentScan[];
  /** Segments the checkpoint knew that are gone (deleted by compaction since). */
  readonly missing: readonly number[];
}

/** The log on disk is not the one the checkpoint describes; the store falls back to a full scan. */
export class CheckpointMismatch extends Error {}

/** Copies the state into a checkpoint file image. Synchronous, so the image is consistent. */
export function encodeCheckpoint(state: IndexState): Buffer {
  const out = new CheckpointWriter();
  state.sessions.writeTo(out);
  state.log.writeTo(out);
  writeMarks(out, state.logSegments);
  state.snapshots.writeTo(out);
  writeMarks(out, state.snapshotSegments);
  return out.finish();
}

/** The state in a checkpoint file, or undefined when there is none or it is damaged. */
export async function readCheckpoint(path: string): Promise<{ state: IndexState; bytes: number } | { damaged: string } | undefined> {
  let file: Buffer;
  try {
    file = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    return { damaged: describe(error) };
  }
  const input = CheckpointReader.of(file);
  if (input === undefined) return { damaged: "bad header or checksum" };
  try {
    const sessions = SessionTable.readFrom(input);
    const log = LogIndex.readFrom(input, sessions);
    const logSegments = readMarks(input);
    const snapshots = SnapshotIndex.readFrom(input);
    const snapshotSegments = readMarks(input);
    if (!input.done || logSegments.length === 0 || snapshotSegments.length === 0) return { damaged: "unexpected layout" };
    return { state: { sessions, log, logSegments, snapshots, snapshotSegments }, bytes: file.length };
  } catch (error) {
    return { damaged: describe(error) };
  }
}

/**
 * Checks a log's segments against the checkpoint's marks and says what to scan: every segment
 * up to the checkpoint's last must be the same file (same salt, and a sealed one the same
 * size); the last is scanned from the checkpoint's end on, later ones whole.
 */
export async function planTail(dir: string, suffix: string, pathOf: (segment: number) => string, marks: readonly SegmentMark[]): Promise<TailPlan> {
  const last = marks[marks.length - 1];
  if (last === undefined) throw new CheckpointMismatch("no segments");
  const known = new Map(marks.map((mark) => [mark.segment, mark]));
  const onDisk = await listSegments(dir, suffix);
  const scans: SegmentScan[] = [];
  for (const segment of onDisk) {
    if (segment > last.segment) {
      scans.push({ segment, from: SEGMENT_HEADER_BYTES });
      continue;
    }
    const mark = known.get(segment);
    if (mark === undefined || mark.size < 0) throw new CheckpointMismatch(`segment ${segment} is not in the checkpoint`);
    const { salt, size } = await headerOf(pathOf(segment));
    if (salt !== mark.salt) throw new CheckpointMismatch(`segment ${segment} is another file than the checkpoint's`);
    if (segment === last.segment) {
      if (size < mark.size) throw new CheckpointMismatch(`segment ${segment} is shorter than the checkpoint's end`);
      scans.push({ segment, from: mark.size });
    } else if (size !== mark.size) {
      throw new CheckpointMismatch(`sealed segment ${segment} changed size`);
    }
  }
  if (scans.length === 0) throw new CheckpointMismatch(`segment ${last.segment}, where the checkpoint stops, is gone and nothing follows it`);
  const present = new Set(onDisk);
  return { scans, missing: marks.map((mark) => mark.segment).filter((segment) => !present.has(segment)) };
}

async function headerOf(path: string): Promise<{ salt: number | undefined; size: number }> {
  const handle = await open(path, "r");
  try {
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    await handle.read(header, 0, SEGMENT_HEADER_BYTES, 0);
    return { salt: readSegmentHeader(header), size: (await handle.stat()).size };
  } finally {
    await handle.close();
  }
}

function writeMarks(out: CheckpointWriter, marks: readonly SegmentMark[]): void {
  out.number(marks.length);
  for (const mark of marks) {
    out.number(mark.segment);
    out.number(mark.salt);
    out.number(mark.size);
  }
}

function readMarks(input: CheckpointReader): SegmentMark[] {
  const marks: SegmentMark[] = [];
  const count = input.number();
  for (let i = 0; i < count; i++) marks.push({ segment: input.number(), salt: input.number(), size: input.number() });
  return marks;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

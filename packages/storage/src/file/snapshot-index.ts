import { BlockColumns } from "./block-columns.js";
import type { CheckpointReader, CheckpointWriter } from "./checkpoint-codec.js";

/** Where a session's latest snapshot record is. */
export interface SnapshotLocation {
  readonly segment: number;
  readonly offset: number;
  readonly size: number;
}

interface SegmentBytes {
  /** Bytes of the records that are some session's latest snapshot. */
  live: number;
  /** Bytes of every record indexed in the segment, latest or replaced. */
  total: number;
}

/** What the index keeps of a snapshot besides where it is. */
export interface SnapshotHead {
  readonly logLength: number;
  readonly finishedAtUnixMs: number | undefined;
  /** A retired record: the session's snapshots were removed. */
  readonly retired: boolean;
}

const SEGMENT = 0;
const OFFSET = 1;
const SIZE = 2;
const LOG_LENGTH = 3;
/** Finish time in whole seconds + 1 (0: not finished), so it fits one word until 2106. */
const FINISHED = 4;
/** In the FINISHED column: the latest record is a retired record, not a snapshot. */
const RETIRED = 0xffffffff;

/**
 * The latest snapshot record of each session (five words per session number: where it is, the
 * log length it covers and when its session finished, in blocks
 * allocated only where some session has a snapshot) and, per snapshot-log segment, how many of
 * its bytes are still someone's latest snapshot: a segment mostly made of replaced records is
 * worth compacting.
 */
export class SnapshotIndex {
  private locations = new BlockColumns(5);
  private readonly segments = new Map<number, SegmentBytes>();
  private snapshotted = 0;

  /** Adds the index to an index checkpoint. */
  writeTo(out: CheckpointWriter): void {
    this.locations.writeTo(out);
    out.number(this.snapshotted);
    out.number(this.segments.size);
    for (const [segment, bytes] of this.segments) {
      out.number(segment);
      out.number(bytes.live);
      out.number(bytes.total);
    }
  }

  /** An index as written by {@link writeTo}. */
  static readFrom(input: CheckpointReader): SnapshotIndex {
    const index = new SnapshotIndex();
    index.locations = BlockColumns.readFrom(input, 5);
    index.snapshotted = input.number();
    const segments = input.number();
    for (let i = 0; i < segments; i++) {
      const segment = input.number();
      index.segments.set(segment, { live: input.number(), total: input.number() });
    }
    return index;
  }

  /** This index renumbered as {@link LogIndex.renumbered} does; sessions numbered -1 must have no record. */
  renumbered(numbers: Int32Array): SnapshotIndex {
    const index = new SnapshotIndex();
    index.snapshotted = this.snapshotted;
    for (const [segment, bytes] of this.segments) index.segments.set(segment, bytes);
    numbers.forEach((to, from) => {
      if (to < 0) return;
      for (let column = SEGMENT; column <= FINISHED; column++) index.locations.set(to, column, this.locations.get(from, column));
    });
    return index;
  }

  /** Segments with indexed records. */
  get segmentNumbers(): number[] {
    return [...this.segments.keys()];
  }

  /** Sessions numbered below `count` whose latest record is in `segment`. */
  sessionsIn(segment: number, count: number): number[] {
    const found: number[] = [];
    for (let session = 0; session < count; session++) if (this.locations.get(session, SEGMENT) === segment) found.push(session);
    return found;
  }

  /** Number of sessions with a snapshot. */
  get size(): number {
    return this.snapshotted;
  }

  /** Bytes of the per-session location columns. */
  get byteLength(): number {
    return this.locations.byteLength;
  }

  locate(session: number): SnapshotLocation | undefined {
    const segment = this.locations.get(session, SEGMENT);
    if (segment === 0) return undefined;
    return { segment, offset: this.locations.get(session, OFFSET), size: this.locations.get(session, SIZE) };
  }

  /**
   * Makes the record at `segment:offset` the latest snapshot of `session`; the record it
   * replaces becomes garbage. Returns the segment that record was in, if any.
   */
  place(session: number, segment: number, offset: number, size: number, head: SnapshotHead): number | undefined {
    const previous = this.locate(session);
    if (previous === undefined) this.snapshotted++;
    else this.bytesOf(previous.segment).live -= previous.size;
    this.locations.set(session, SEGMENT, segment);
    this.locations.set(session, OFFSET, offset);
    this.locations.set(session, SIZE, size);
    this.locations.set(session, LOG_LENGTH, head.logLength);
    this.locations.set(
      session,
      FINISHED,
      head.retired ? RETIRED : head.finishedAtUnixMs === undefined ? 0 : Math.floor(head.finishedAtUnixMs / 1000) + 1,
    );
    const bytes = this.bytesOf(segment);
    bytes.live += size;
    bytes.total += size;
    return previous?.segment;
  }

  /**
   * When the session finished, in whole seconds since the epoch, if its latest snapshot is of a
   * finished session covering exactly `logLength` records (a finished session appends nothing
   * more, so a longer log means the snapshot is older than the log's end).
   */
  finishedAtSecs(session: number, logLength: number): number | undefined {
    const finished = this.locations.get(session, FINISHED);
    if (finished === 0 || finished === RETIRED || this.locations.get(session, SEGMENT) === 0) return undefined;
    return this.locations.get(session, LOG_LENGTH) === logLength ? finished - 1 : undefined;
  }

  /** Whether the latest record of `session` is a retired record (its snapshots were removed). */
  isRetired(session: number): boolean {
    return this.locations.get(session, SEGMENT) !== 0 && this.locations.get(session, FINISHED) === RETIRED;
  }

  /** Forgets the latest record of `session` (a retired record nothing older can contradict any more). */
  remove(session: number): void {
    const location = this.locate(session);
    if (location === undefined) return;
    this.bytesOf(location.segment).live -= location.size;
    this.locations.set(session, SEGMENT, 0);
    this.locations.set(session, FINISHED, 0);
    this.snapshotted--;
  }

  /** Whether at most half of the indexed bytes of `segment` are still latest snapshots. */
  isSparse(segment: number): boolean {
    const bytes = this.segments.get(segment);
    return bytes !== undefined && bytes.live * 2 <= bytes.total;
  }

  /** Bytes of latest snapshots still in `segment`. */
  liveBytes(segment: number): number {
    return this.segments.get(segment)?.live ?? 0;
  }

  /** Forgets a segment that no longer holds any latest snapshot. */
  drop(segment: number): void {
    this.segments.delete(segment);
  }

  private bytesOf(segment: number): SegmentBytes {
    let bytes = this.segments.get(segment);
    if (bytes === undefined) {
      bytes = { live: 0, total: 0 };
      this.segments.set(segment, bytes);
    }
    return bytes;
  }
}

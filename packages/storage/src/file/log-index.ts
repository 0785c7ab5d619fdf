import { BlockColumns } from "./block-columns.js";
import type { CheckpointReader, CheckpointWriter } from "./checkpoint-codec.js";
import { INCOMING_CODE } from "./record-codec.js";
import { SessionTable } from "./session-table.js";

/** Where one log entry lives: its append record (frame) and its position within that record. */
export interface EntryLocation {
  readonly segment: number;
  readonly offset: number;
  readonly size: number;
  readonly ordinal: number;
}

/** Words per entry: segment, offset, size, seq, ordinal*4+kind, next entry + 1 (0: last). */
const STRIDE = 6;
const CHUNK_ENTRIES = 16_384;
const NONE = 0;
const HEAD = 0;
const TAIL = 1;
const COUNT = 2;
/** Entry ids are stored +1 in 32-bit words, 0 meaning none. */
const MAX_ENTRIES = 2 ** 32 - 2;

/**
 * Locations of every session's log entries, with each entry's kind and seq so `loadLogAfter`
 * can select entries without reading the log. Built for 100M+ sessions: ids live in a compact
 * {@link SessionTable}, entries of all sessions share one arena of 32-bit words (24 bytes an
 * entry) and each session is a linked list through it whose first and last entry are two words
 * in per-session columns. Every field fits 32 bits: segments stay below 4 GiB and seq is
 * validated to 32 bits on append.
 */
export class LogIndex {
  /** Per session number: first and last entry id + 1 (0: no entry), number of entries. */
  private ends = new BlockColumns(3);
  private readonly chunks: Uint32Array[] = [];
  /** Per log segment: bytes of frames some session's current log uses, and of every frame. */
  private readonly segmentBytes = new Map<number, { live: number; total: number }>();
  private entries = 0;
  private logged = 0;
  /** Entries of cleared sessions, linked through their next word, reused before new ones (id + 1). */
  private free = NONE;

  constructor(readonly sessions: SessionTable = new SessionTable()) {}

  /** Adds the index (without its session table) to an index checkpoint. */
  writeTo(out: CheckpointWriter): void {
    this.ends.writeTo(out);
    out.number(this.entries);
    out.number(this.logged);
    out.number(this.free);
    out.number(this.chunks.length);
    for (const chunk of this.chunks) out.array(chunk);
    out.number(this.segmentBytes.size);
    for (const [segment, bytes] of this.segmentBytes) {
      out.number(segment);
      out.number(bytes.live);
      out.number(bytes.total);
    }
  }

  /** An index as written by {@link writeTo}, over `sessions` (read from the same checkpoint). */
  static readFrom(input: CheckpointReader, sessions: SessionTable): LogIndex {
    const index = new LogIndex(sessions);
    index.ends = BlockColumns.readFrom(input, 3);
    index.entries = input.number();
    index.logged = input.number();
    index.free = input.number();
    const chunks = input.number();
    for (let i = 0; i < chunks; i++) {
      const chunk = input.words();
      if (chunk.length !== CHUNK_ENTRIES * STRIDE) throw new RangeError("checkpoint entry chunk has the wrong size");
      index.chunks.push(chunk);
    }
    if (Math.ceil(index.entries / CHUNK_ENTRIES) !== chunks) throw new RangeError("checkpoint entry count does not match its chunks");
    const segments = input.number();
    for (let i = 0; i < segments; i++) {
      const segment = input.number();
      index.segmentBytes.set(segment, { live: input.number(), total: input.number() });
    }
    return index;
  }

  /**
   * This index over another session table: `numbers[old]` is the new number of session `old`
   * (-1: it has no entry and is dropped). Entries are shared with this index, which must not be
   * used afterwards.
   */
  renumbered(sessions: SessionTable, numbers: Int32Array): LogIndex {
    const index = new LogIndex(sessions);
    index.chunks.push(...this.chunks);
    index.entries = this.entries;
    index.logged = this.logged;
    index.free = this.free;
    for (const [segment, bytes] of this.segmentBytes) index.segmentBytes.set(segment, bytes);
    numbers.forEach((to, from) => {
      if (to < 0) return;
      for (let column = HEAD; column <= COUNT; column++) index.ends.set(to, column, this.ends.get(from, column));
    });
    return index;
  }

  /** Number of sessions with at least one entry. */
  get size(): number {
    return this.logged;
  }

  /** Bytes of the entry arena and the per-session columns (the session table not included). */
  get byteLength(): number {
    return this.chunks.length * CHUNK_ENTRIES * STRIDE * 4 + this.ends.byteLength;
  }

  /** Appends the location of a session's next log entry (its kind code and seq kept for selection). */
  add(sessionId: string, segment: number, offset: number, size: number, ordinal: number, kindCode: number, seq: number): void {
    const session = this.sessions.intern(sessionId);
    const id = this.allocate();
    if (ordinal === 0) {
      const bytes = this.bytesOf(segment);
      bytes.live += size;
      bytes.total += size;
    }
    const chunk = this.chunkOf(id);
    const at = (id % CHUNK_ENTRIES) * STRIDE;
    chunk[at] = segment;
    chunk[at + 1] = offset;
    chunk[at + 2] = size;
    chunk[at + 3] = seq;
    chunk[at + 4] = ordinal * 4 + kindCode;
    chunk[at + 5] = NONE;

    const tail = this.ends.get(session, TAIL);
    if (tail === NONE) {
      this.ends.set(session, HEAD, id + 1);
      this.logged++;
    } else {
      this.setNext(tail - 1, id + 1);
    }
    this.ends.set(session, TAIL, id + 1);
    this.ends.set(session, COUNT, this.ends.get(session, COUNT) + 1);
  }

  /** Counts a frame no session's log uses (a reset with no entries) towards its segment's size. */
  addGarbage(segment: number, size: number): void {
    this.bytesOf(segment).total += size;
  }

  /**
   * Forgets every entry of a session (removed, or about to be replaced by a reset record): its
   * frames stop counting as live, and its entries are reused by later appends.
   */
  clear(sessionId: string): void {
    const session = this.sessions.find(sessionId);
    const head = session < 0 ? NONE : this.ends.get(session, HEAD);
    if (head === NONE) return;
    let next = head;
    let last = NONE;
    while (next !== NONE) {
      const id = next - 1;
      const chunk = this.chunkOf(id);
      const at = (id % CHUNK_ENTRIES) * STRIDE;
      if ((chunk[at + 4] ?? 0) < 4) this.bytesOf(chunk[at] ?? 0).live -= chunk[at + 2] ?? 0;
      last = id;
      next = chunk[at + 5] ?? NONE;
    }
    this.setNext(last, this.free);
    this.free = head;
    this.ends.set(session, HEAD, NONE);
    this.ends.set(session, TAIL, NONE);
    this.ends.set(session, COUNT, 0);
    this.logged--;
  }

  /** Whether any current entry of the session lives in `segment`. */
  usesSegment(sessionId: string, segment: number): boolean {
    const session = this.sessions.find(sessionId);
    let next = session < 0 ? NONE : this.ends.get(session, HEAD);
    while (next !== NONE) {
      const id = next - 1;
      const chunk = this.chunkOf(id);
      const at = (id % CHUNK_ENTRIES) * STRIDE;
      if (chunk[at] === segment) return true;
      next = chunk[at + 5] ?? NONE;
    }
    return false;
  }

  /** Bytes of `segment` still used by some session's log, and of all its indexed frames. */
  segmentUsage(segment: number): { live: number; total: number } {
    const bytes = this.segmentBytes.get(segment);
    return { live: bytes?.live ?? 0, total: bytes?.total ?? 0 };
  }

  /** Segments with indexed frames, ascending. */
  get segments(): number[] {
    return [...this.segmentBytes.keys()].sort((a, b) => a - b);
  }

  /** Forgets a deleted segment. */
  dropSegment(segment: number): void {
    this.segmentBytes.delete(segment);
  }

  /** Number of log entries of the session numbered `session`. */
  countOf(session: number): number {
    return this.ends.get(session, COUNT);
  }

  /** Every entry of a session, in append order. */
  all(sessionId: string): EntryLocation[] {
    return this.select(sessionId, () => true);
  }

  /**
   * Incoming entries with seq above `afterSeq`. A pass over the session's index entries (no
   * I/O): seqs are not guaranteed monotonic across a reused session id, so no binary search.
   */
  incomingAfter(sessionId: string, afterSeq: number): EntryLocation[] {
    return this.select(sessionId, (seq, kindCode) => kindCode === INCOMING_CODE && seq > afterSeq);
  }

  private select(sessionId: string, keep: (seq: number, kindCode: number) => boolean): EntryLocation[] {
    const session = this.sessions.find(sessionId);
    const selected: EntryLocation[] = [];
    let next = session < 0 ? NONE : this.ends.get(session, HEAD);
    while (next !== NONE) {
      const id = next - 1;
      const chunk = this.chunkOf(id);
      const at = (id % CHUNK_ENTRIES) * STRIDE;
      const packed = chunk[at + 4] ?? 0;
      if (keep(chunk[at + 3] ?? 0, packed % 4)) {
        selected.push({ segment: chunk[at] ?? 0, offset: chunk[at + 1] ?? 0, size: chunk[at + 2] ?? 0, ordinal: Math.floor(packed / 4) });
      }
      next = chunk[at + 5] ?? NONE;
    }
    return selected;
  }

  private allocate(): number {
    if (this.free !== NONE) {
      const id = this.free - 1;
      this.free = this.chunkOf(id)[(id % CHUNK_ENTRIES) * STRIDE + 5] ?? NONE;
      return id;
    }
    if (this.entries >= MAX_ENTRIES) throw new RangeError(`log index is full (${MAX_ENTRIES} entries)`);
    const id = this.entries++;
    if (id % CHUNK_ENTRIES === 0) this.chunks.push(new Uint32Array(CHUNK_ENTRIES * STRIDE));
    return id;
  }

  private bytesOf(segment: number): { live: number; total: number } {
    let bytes = this.segmentBytes.get(segment);
    if (bytes === undefined) {
      bytes = { live: 0, total: 0 };
      this.segmentBytes.set(segment, bytes);
    }
    return bytes;
  }

  private setNext(id: number, next: number): void {
    this.chunkOf(id)[(id % CHUNK_ENTRIES) * STRIDE + 5] = next;
  }

  private chunkOf(id: number): Uint32Array {
    const chunk = this.chunks[Math.floor(id / CHUNK_ENTRIES)];
    if (chunk === undefined) throw new RangeError(`log index has no entry ${id}`);
    return chunk;
  }
}

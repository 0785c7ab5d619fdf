import { INCOMING_CODE } from "./record-codec.js";

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

/**
 * Locations of every session's log entries, with each entry's kind and seq so `loadLogAfter`
 * can select entries without reading the log. Built to stay small with 100k+ sessions: entries
 * of all sessions share one arena of 32-bit words (24 bytes an entry) and each session is a
 * linked list through it, so a session costs its map slot and two words rather than an object
 * and an array of its own. Every field fits 32 bits: segments stay below 4 GiB and seq is
 * validated to 32 bits on append.
 */
export class LogIndex {
  private readonly numbers = new Map<string, number>();
  /** Per session number: first and last entry id + 1. */
  private heads: Uint32Array = new Uint32Array(1024);
  private tails: Uint32Array = new Uint32Array(1024);
  private readonly chunks: Uint32Array[] = [];
  private entries = 0;

  /** Number of sessions with at least one entry. */
  get size(): number {
    return this.numbers.size;
  }

  /** Ids of sessions with at least one entry, in order of their first entry. */
  sessionIds(): IterableIterator<string> {
    return this.numbers.keys();
  }

  add(sessionId: string, segment: number, offset: number, size: number, ordinal: number, kindCode: number, seq: number): void {
    const id = this.entries++;
    if (id % CHUNK_ENTRIES === 0) this.chunks.push(new Uint32Array(CHUNK_ENTRIES * STRIDE));
    const chunk = this.chunkOf(id);
    const at = (id % CHUNK_ENTRIES) * STRIDE;
    chunk[at] = segment;
    chunk[at + 1] = offset;
    chunk[at + 2] = size;
    chunk[at + 3] = seq;
    chunk[at + 4] = ordinal * 4 + kindCode;
    chunk[at + 5] = NONE;

    let session = this.numbers.get(sessionId);
    if (session === undefined) {
      session = this.numbers.size;
      this.numbers.set(sessionId, session);
      this.ensureSessionCapacity(session);
    }
    const tail = this.tails[session] ?? NONE;
    if (tail === NONE) this.heads[session] = id + 1;
    else this.setNext(tail - 1, id + 1);
    this.tails[session] = id + 1;
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
    const session = this.numbers.get(sessionId);
    const selected: EntryLocation[] = [];
    let next = session === undefined ? NONE : (this.heads[session] ?? NONE);
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

  private setNext(id: number, next: number): void {
    this.chunkOf(id)[(id % CHUNK_ENTRIES) * STRIDE + 5] = next;
  }

  private chunkOf(id: number): Uint32Array {
    const chunk = this.chunks[Math.floor(id / CHUNK_ENTRIES)];
    if (chunk === undefined) throw new RangeError(`log index has no entry ${id}`);
    return chunk;
  }

  private ensureSessionCapacity(session: number): void {
    if (session < this.heads.length) return;
    this.heads = doubled(this.heads);
    this.tails = doubled(this.tails);
  }
}

function doubled(words: Uint32Array): Uint32Array {
  const grown = new Uint32Array(words.length * 2);
  grown.set(words);
  return grown;
}

import { INCOMING_CODE } from "./record-codec.js";

/** Where one log entry lives: its append record (frame) and its position within that record. */
export interface EntryLocation {
  readonly segment: number;
  readonly offset: number;
  readonly size: number;
  readonly ordinal: number;
}

const STRIDE = 5;
const INITIAL_ENTRIES = 4;

/**
 * Locations of one session's log entries in append order, with each entry's kind and seq so
 * `loadLogAfter` can select entries without reading the log. Kept as 32-bit words (segment,
 * offset, size, seq, ordinal*4+kind: 20 bytes an entry) because 100k sessions' indexes must
 * stay small; every field fits since segments stay below 4 GiB and seq is validated to 32 bits.
 */
export class SessionIndex {
  private slots = new Uint32Array(INITIAL_ENTRIES * STRIDE);
  private used = 0;

  get length(): number {
    return this.used / STRIDE;
  }

  add(segment: number, offset: number, size: number, ordinal: number, kindCode: number, seq: number): void {
    if (this.used === this.slots.length) {
      const grown = new Uint32Array(this.slots.length * 2);
      grown.set(this.slots);
      this.slots = grown;
    }
    const slots = this.slots;
    const at = this.used;
    slots[at] = segment;
    slots[at + 1] = offset;
    slots[at + 2] = size;
    slots[at + 3] = seq;
    slots[at + 4] = ordinal * 4 + kindCode;
    this.used += STRIDE;
  }

  /** Every entry. */
  all(): EntryLocation[] {
    return this.select(() => true);
  }

  /**
   * Incoming entries with seq above `afterSeq`. A linear pass over the index (no I/O): seqs are
   * not guaranteed monotonic across a reused session id, so a binary search would be wrong.
   */
  incomingAfter(afterSeq: number): EntryLocation[] {
    return this.select((seq, kindCode) => kindCode === INCOMING_CODE && seq > afterSeq);
  }

  private select(keep: (seq: number, kindCode: number) => boolean): EntryLocation[] {
    const selected: EntryLocation[] = [];
    const slots = this.slots;
    for (let i = 0; i < this.used; i += STRIDE) {
      const packed = slots[i + 4] ?? 0;
      if (!keep(slots[i + 3] ?? 0, packed % 4)) continue;
      selected.push({
        segment: slots[i] ?? 0,
        offset: slots[i + 1] ?? 0,
        size: slots[i + 2] ?? 0,
        ordinal: Math.floor(packed / 4),
      });
    }
    return selected;
  }
}

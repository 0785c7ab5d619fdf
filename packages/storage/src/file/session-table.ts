import { randomBytes } from "node:crypto";
import { BLOCK_BITS, BLOCK_SIZE } from "./block-columns.js";
import type { CheckpointReader, CheckpointWriter } from "./checkpoint-codec.js";

/** Hashes the first `length` bytes of `bytes` to an unsigned 32-bit number. */
export type IdHash = (bytes: Uint8Array, length: number) => number;

/** Settings of a session table; tests replace the hash to force collisions. */
export interface SessionTableOptions {
  readonly hash?: IdHash;
  /** Seed of the default hash (random by default; a table loaded from a checkpoint keeps its own). */
  readonly seed?: number;
}

/** The most sessions one table numbers: numbers are stored +1 in 32-bit slots, 0 meaning empty. */
export const MAX_SESSIONS = 2 ** 32 - 2;

/** The top bits of a hash choose the shard, the low bits the slot inside it. */
const SHARD_BITS = 8;
const SHARDS = 1 << SHARD_BITS;
const INITIAL_SHARD_SLOTS = 16;
const MAX_SHARD_SLOTS = 2 ** (32 - SHARD_BITS);
const EMPTY = 0;
const MAX_BLOCK_BYTES = 2 ** 32 - 1;

/** Canonical (lowercase) UUIDs, the usual session id, are stored as their 16 bytes. */
const UUID_LENGTH = 36;
const DASH = 45;
const TAG_UTF8 = 0;
const TAG_UUID = 1;

interface IdBlock {
  /** End offset in `bytes` of each session's encoded id (it starts where the previous one ends). */
  readonly ends: Uint32Array;
  bytes: Uint8Array;
  used: number;
}

/**
 * Exact map from session id to a dense session number (0, 1, 2, … in order of first use), built
 * to hold 100M+ sessions: a JS `Map` stops at 2^24 entries and costs ~80 bytes an entry besides
 * the id string. Ids are kept encoded in an arena (a canonical UUID as 17 bytes, anything else as
 * a tag byte plus UTF-8) and found through 256 open-addressing shards with linear probing, whose
 * slots hold a session's 32-bit hash next to its number, so a probe past other sessions reads
 * only the slot array. A hash match is always confirmed by comparing the stored bytes, so two ids
 * are never confused however their hashes collide. Sharding keeps each rehash
 * small: growing one shard moves 1/256 of the sessions, not all of them, inside the WAL's
 * durability callback. The hash is seeded per process, so ids chosen to collide in one process
 * do not collide in the next.
 */
export class SessionTable {
  /** Per shard, slot pairs: [hash, session number + 1 (0: empty)]. */
  private readonly shards: Uint32Array[] = Array.from({ length: SHARDS }, () => new Uint32Array(INITIAL_SHARD_SLOTS * 2));
  private readonly shardCounts = new Uint32Array(SHARDS);
  private readonly blocks: IdBlock[] = [];
  private scratch = Buffer.allocUnsafe(256);
  private count = 0;
  private readonly hash: IdHash;
  private readonly seed: number;

  constructor(options: SessionTableOptions = {}) {
    this.seed = options.seed ?? randomBytes(4).readUInt32LE(0);
    this.hash = options.hash ?? seededMurmur3(this.seed);
  }

  /**
   * Adds the table to an index checkpoint. The hash seed goes with it: slots are placed by hash,
   * and rehashing every id at load would cost what the checkpoint saves. The seed stays as
   * private as the data directory it is written to.
   */
  writeTo(out: CheckpointWriter): void {
    out.number(this.seed);
    out.number(this.count);
    out.array(this.shardCounts);
    for (const shard of this.shards) out.array(shard);
    out.number(this.blocks.length);
    for (const block of this.blocks) {
      out.array(block.ends);
      out.array(block.bytes.subarray(0, block.used));
    }
  }

  /** A table as written by {@link writeTo}. */
  static readFrom(input: CheckpointReader, options: Omit<SessionTableOptions, "seed"> = {}): SessionTable {
    const table = new SessionTable({ ...options, seed: input.number() });
    table.count = input.number();
    table.shardCounts.set(input.words());
    for (let shard = 0; shard < SHARDS; shard++) {
      const slots = input.words();
      if (slots.length < INITIAL_SHARD_SLOTS * 2 || (slots.length & (slots.length - 1)) !== 0) throw new RangeError("checkpoint shard has the wrong size");
      table.shards[shard] = slots;
    }
    const blocks = input.number();
    for (let i = 0; i < blocks; i++) {
      const ends = input.words();
      const bytes = input.bytes();
      if (ends.length !== BLOCK_SIZE) throw new RangeError("checkpoint id block has the wrong size");
      table.blocks.push({ ends, bytes, used: bytes.length });
    }
    if (Math.ceil(table.count / BLOCK_SIZE) !== blocks) throw new RangeError("checkpoint session count does not match its id blocks");
    return table;
  }

  /** Number of sessions. */
  get size(): number {
    return this.count;
  }

  /** The number of `sessionId`, or -1 when the table does not hold it. */
  find(sessionId: string): number {
    const length = this.encode(sessionId);
    const hash = this.hash(this.scratch, length) >>> 0;
    const shard = this.shards[hash >>> (32 - SHARD_BITS)] ?? missing("shard");
    const mask = shard.length / 2 - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const stored = shard[2 * slot + 1] ?? EMPTY;
      if (stored === EMPTY) return -1;
      if (shard[2 * slot] === hash && this.matches(stored - 1, length)) return stored - 1;
    }
  }

  /** The number of `sessionId`, numbering it first if it is new. */
  intern(sessionId: string): number {
    const length = this.encode(sessionId);
    const hash = this.hash(this.scratch, length) >>> 0;
    const shardIndex = hash >>> (32 - SHARD_BITS);
    let shard = this.shards[shardIndex] ?? missing("shard");
    let mask = shard.length / 2 - 1;
    let slot = hash & mask;
    for (; ; slot = (slot + 1) & mask) {
      const stored = shard[2 * slot + 1] ?? EMPTY;
      if (stored === EMPTY) break;
      if (shard[2 * slot] === hash && this.matches(stored - 1, length)) return stored - 1;
    }
    if (this.count >= MAX_SESSIONS) throw new RangeError(`session table is full (${MAX_SESSIONS} sessions)`);
    const shardCount = (this.shardCounts[shardIndex] ?? 0) + 1;
    if (shardCount * 4 > (mask + 1) * 3) {
      shard = this.grow(shardIndex);
      mask = shard.length / 2 - 1;
      for (slot = hash & mask; shard[2 * slot + 1] !== EMPTY; slot = (slot + 1) & mask);
    }
    const session = this.count++;
    this.store(session, length);
    shard[2 * slot] = hash;
    shard[2 * slot + 1] = session + 1;
    this.shardCounts[shardIndex] = shardCount;
    return session;
  }

  /** The id of session number `session`. */
  idOf(session: number): string {
    const block = this.blocks[session >>> BLOCK_BITS];
    if (block === undefined || session >= this.count) throw new RangeError(`no session number ${session}`);
    const i = session & (BLOCK_SIZE - 1);
    const start = i === 0 ? 0 : (block.ends[i - 1] ?? 0);
    const end = block.ends[i] ?? 0;
    const bytes = Buffer.from(block.bytes.buffer, block.bytes.byteOffset + start, end - start);
    return bytes[0] === TAG_UUID ? formatUuid(bytes.toString("hex", 1)) : bytes.toString("utf8", 1);
  }

  /** Every id, in order of number. */
  *ids(): IterableIterator<string> {
    for (let session = 0; session < this.count; session++) yield this.idOf(session);
  }

  /** Bytes held by the table's typed arrays (slots, id offsets and id bytes). */
  get byteLength(): number {
    let bytes = this.shardCounts.byteLength;
    for (const shard of this.shards) bytes += shard.byteLength;
    for (const block of this.blocks) bytes += block.ends.byteLength + block.bytes.byteLength;
    return bytes;
  }

  /** Whether session `session`'s stored id equals the encoded id in the scratch buffer. */
  private matches(session: number, length: number): boolean {
    const block = this.blocks[session >>> BLOCK_BITS];
    if (block === undefined) return false;
    const i = session & (BLOCK_SIZE - 1);
    const start = i === 0 ? 0 : (block.ends[i - 1] ?? 0);
    if ((block.ends[i] ?? 0) - start !== length) return false;
    const bytes = block.bytes;
    const scratch = this.scratch;
    for (let k = 0; k < length; k++) if (bytes[start + k] !== scratch[k]) return false;
    return true;
  }

  /** Doubles a shard and re-slots its sessions by the hashes their slots hold. */
  private grow(shardIndex: number): Uint32Array {
    const old = this.shards[shardIndex] ?? missing("shard");
    if (old.length / 2 >= MAX_SHARD_SLOTS) throw new RangeError("session table shard is full");
    const grown = new Uint32Array(old.length * 2);
    const mask = grown.length / 2 - 1;
    for (let from = 0; from < old.length; from += 2) {
      const stored = old[from + 1] ?? EMPTY;
      if (stored === EMPTY) continue;
      const hash = old[from] ?? 0;
      let slot = hash & mask;
      while (grown[2 * slot + 1] !== EMPTY) slot = (slot + 1) & mask;
      grown[2 * slot] = hash;
      grown[2 * slot + 1] = stored;
    }
    this.shards[shardIndex] = grown;
    return grown;
  }

  /** Appends the encoded id in the scratch buffer to the arena as session `session`. */
  private store(session: number, length: number): void {
    const i = session & (BLOCK_SIZE - 1);
    if (i === 0) {
      const previous = this.blocks[this.blocks.length - 1];
      // A full block will never grow again: give back its spare capacity.
      if (previous !== undefined) previous.bytes = previous.bytes.slice(0, previous.used);
      this.blocks.push({
        ends: new Uint32Array(BLOCK_SIZE),
        bytes: new Uint8Array(BLOCK_SIZE * 8),
        used: 0,
      });
    }
    const block = this.blocks[this.blocks.length - 1] ?? missing("id block");
    // Offsets are 32-bit: only ids averaging over 64 KiB could reach this.
    if (block.used + length > MAX_BLOCK_BYTES) throw new RangeError("session table id block is full");
    if (block.used + length > block.bytes.length) {
      const grown = new Uint8Array(Math.max(block.bytes.length * 2, block.used + length));
      grown.set(block.bytes.subarray(0, block.used));
      block.bytes = grown;
    }
    const bytes = block.bytes;
    for (let k = 0; k < length; k++) bytes[block.used + k] = this.scratch[k] ?? 0;
    block.used += length;
    block.ends[i] = block.used;
  }

  /** Encodes `sessionId` into the scratch buffer; returns its length. */
  private encode(sessionId: string): number {
    if (sessionId.length === UUID_LENGTH && this.encodeUuid(sessionId)) return 1 + 16;
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (this.scratch.length < 1 + sessionId.length * 3) this.scratch = Buffer.allocUnsafe(1 + sessionId.length * 3);
    this.scratch[0] = TAG_UTF8;
    return 1 + this.scratch.write(sessionId, 1, "utf8");
  }

  /** Writes a canonical (lowercase) UUID as its tag and 16 bytes; false (scratch garbage) for anything else. */
  private encodeUuid(id: string): boolean {
    const scratch = this.scratch;
    let at = 1;
    for (let c = 0; c < UUID_LENGTH; ) {
      if (c === 8 || c === 13 || c === 18 || c === 23) {
        if (id.charCodeAt(c) !== DASH) return false;
        c++;
        continue;
      }
      const high = hexDigit(id.charCodeAt(c));
      const low = hexDigit(id.charCodeAt(c + 1));
      if ((high | low) < 0) return false;
      scratch[at++] = (high << 4) | low;
      c += 2;
    }
    scratch[0] = TAG_UUID;
    return true;
  }
}

/** The value of a lowercase hex digit, or -1. */
function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return -1;
}

function missing(what: string): never {
  throw new RangeError(`session table ${what} missing`);
}

function formatUuid(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** MurmurHash3 (x86, 32-bit) with a seed: fast, well mixed, and seeded against chosen collisions. */
export function seededMurmur3(seed: number): IdHash {
  return (bytes, length) => {
    let h = seed >>> 0;
    const whole = length & ~3;
    for (let i = 0; i < whole; i += 4) {
      let k = (bytes[i] ?? 0) | ((bytes[i + 1] ?? 0) << 8) | ((bytes[i + 2] ?? 0) << 16) | ((bytes[i + 3] ?? 0) << 24);
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    const rest = length & 3;
    if (rest > 0) {
      let k = bytes[whole] ?? 0;
      if (rest > 1) k |= (bytes[whole + 1] ?? 0) << 8;
      if (rest > 2) k |= (bytes[whole + 2] ?? 0) << 16;
      k = Math.imul(k, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      h ^= Math.imul(k, 0x1b873593);
    }
    h ^= length;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  };
}

import { readFully } from "./durable-io.js";
import type { SegmentFiles } from "./segment-files.js";

/** A frame to read: its segment, byte offset and size. */
export interface FrameLocation {
  readonly segment: number;
  readonly offset: number;
  readonly size: number;
}

const BLOCK_BYTES = 64 * 1024;
/** Blocks are addressed as segment * BLOCKS_PER_SEGMENT + block (segments stay below 4 GiB). */
const BLOCKS_PER_SEGMENT = 2 ** 16;

interface Block {
  readonly bytes: Buffer;
}

/**
 * Reads frames through a small LRU cache of 64 KiB blocks. Loading one session's log touches
 * frames scattered through the shared log; sessions loaded one after another (recovery walks
 * them in log order) hit the same blocks, so a few MiB of cache turns one random read per entry
 * into roughly one sequential pass. Only bytes below a segment's durable end are cached, and
 * those never change, so the cache needs no invalidation.
 */
export class FrameReader {
  private readonly blocks = new Map<number, Block>();
  private readonly inFlight = new Map<number, Promise<Block>>();

  constructor(
    private readonly files: SegmentFiles,
    private readonly durableEnd: (segment: number) => number,
    private readonly maxBlocks: number,
  ) {}

  /** The bytes of each frame, in request order. */
  async read(frames: readonly FrameLocation[]): Promise<Buffer[]> {
    const needed = new Map<number, number>();
    const large = new Map<FrameLocation, Buffer>();
    const pending: Promise<unknown>[] = [];
    for (const frame of frames) {
      if (frame.size > BLOCK_BYTES) {
        const read = this.files.with(frame.segment, (handle) => readFully(handle, frame.size, frame.offset));
        pending.push(read.then((bytes) => large.set(frame, bytes)));
        continue;
      }
      for (const key of blockKeys(frame)) {
        needed.set(key, Math.max(needed.get(key) ?? 0, blockEndNeeded(key, frame)));
      }
    }
    // Held here, not looked up again: the cache may evict them before the frames are assembled.
    const held = new Map<number, Block>();
    for (const [key, needEnd] of needed) {
      const cached = this.cached(key, needEnd);
      if (cached !== undefined) held.set(key, cached);
      else pending.push(this.load(key, needEnd).then((block) => held.set(key, block)));
    }
    if (pending.length > 0) await Promise.all(pending);
    return frames.map((frame) => large.get(frame) ?? assemble(frame, held));
  }

  /** A cached block holding at least `needEnd` bytes, marked most recently used. */
  private cached(key: number, needEnd: number): Block | undefined {
    const block = this.blocks.get(key);
    if (block === undefined || block.bytes.length < needEnd) return undefined;
    this.blocks.delete(key);
    this.blocks.set(key, block);
    return block;
  }

  /** Reads a block, sharing a read already in flight when it covers `needEnd`. */
  private async load(key: number, needEnd: number): Promise<Block> {
    const pending = this.inFlight.get(key);
    if (pending !== undefined) {
      const block = await pending;
      if (block.bytes.length >= needEnd) return block;
    }
    const fetch = this.fetch(key);
    this.inFlight.set(key, fetch);
    try {
      return await fetch;
    } finally {
      if (this.inFlight.get(key) === fetch) this.inFlight.delete(key);
    }
  }

  private async fetch(key: number): Promise<Block> {
    const segment = Math.floor(key / BLOCKS_PER_SEGMENT);
    const start = (key % BLOCKS_PER_SEGMENT) * BLOCK_BYTES;
    // Taken before reading: bytes past it may belong to a write still in progress.
    const durableEnd = this.durableEnd(segment);
    const bytes = await this.files.with(segment, (handle) => readFully(handle, BLOCK_BYTES, start));
    const durable = Math.max(0, Math.min(bytes.length, durableEnd - start));
    const block = { bytes: bytes.subarray(0, durable) };
    this.blocks.delete(key);
    this.blocks.set(key, block);
    if (this.blocks.size > this.maxBlocks) {
      const oldest = this.blocks.keys().next();
      if (oldest.done !== true) this.blocks.delete(oldest.value);
    }
    return block;
  }
}

function blockKeys(frame: FrameLocation): number[] {
  const first = Math.floor(frame.offset / BLOCK_BYTES);
  const last = Math.floor((frame.offset + frame.size - 1) / BLOCK_BYTES);
  const base = frame.segment * BLOCKS_PER_SEGMENT;
  return first === last ? [base + first] : [base + first, base + last];
}

/** How many bytes of block `key` the frame needs (frames span at most two blocks). */
function blockEndNeeded(key: number, frame: FrameLocation): number {
  const start = (key % BLOCKS_PER_SEGMENT) * BLOCK_BYTES;
  return Math.min(BLOCK_BYTES, frame.offset + frame.size - start);
}

function assemble(frame: FrameLocation, held: ReadonlyMap<number, Block>): Buffer {
  const parts = blockKeys(frame).map((key) => {
    const bytes = held.get(key)?.bytes ?? Buffer.alloc(0);
    const start = (key % BLOCKS_PER_SEGMENT) * BLOCK_BYTES;
    return bytes.subarray(Math.max(0, frame.offset - start), frame.offset + frame.size - start);
  });
  const [only] = parts;
  return parts.length === 1 && only !== undefined ? only : Buffer.concat(parts);
}

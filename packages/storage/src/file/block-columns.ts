import type { CheckpointReader, CheckpointWriter } from "./checkpoint-codec.js";

/** Session numbers per block of per-session storage (the id arena and every column store). */
export const BLOCK_BITS = 16;
export const BLOCK_SIZE = 1 << BLOCK_BITS;

/**
 * `width` 32-bit words per session number, in blocks of {@link BLOCK_SIZE} numbers allocated on
 * first write. Growing never copies (no doubling spike at 100M sessions), and a block nobody
 * wrote to (e.g. sessions without snapshots) costs nothing; unwritten words read as 0.
 */
export class BlockColumns {
  private readonly blocks: (Uint32Array | undefined)[] = [];

  constructor(private readonly width: number) {}

  get(session: number, column: number): number {
    const block = this.blocks[session >>> BLOCK_BITS];
    return block === undefined ? 0 : (block[(session & (BLOCK_SIZE - 1)) * this.width + column] ?? 0);
  }

  set(session: number, column: number, value: number): void {
    const index = session >>> BLOCK_BITS;
    let block = this.blocks[index];
    if (block === undefined) {
      block = new Uint32Array(BLOCK_SIZE * this.width);
      this.blocks[index] = block;
    }
    block[(session & (BLOCK_SIZE - 1)) * this.width + column] = value;
  }

  /** Adds the columns to an index checkpoint. */
  writeTo(out: CheckpointWriter): void {
    out.number(this.blocks.length);
    for (const block of this.blocks) out.array(block ?? new Uint32Array(0));
  }

  /** Columns of `width` words as written by {@link writeTo}. */
  static readFrom(input: CheckpointReader, width: number): BlockColumns {
    const columns = new BlockColumns(width);
    const count = input.number();
    for (let i = 0; i < count; i++) {
      const block = input.words();
      if (block.length !== 0 && block.length !== BLOCK_SIZE * width) throw new RangeError("checkpoint column block has the wrong size");
      columns.blocks.push(block.length === 0 ? undefined : block);
    }
    return columns;
  }

  /** Bytes held by the allocated blocks. */
  get byteLength(): number {
    let bytes = 0;
    for (const block of this.blocks) bytes += block?.byteLength ?? 0;
    return bytes;
  }
}

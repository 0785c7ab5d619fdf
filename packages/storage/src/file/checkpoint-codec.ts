import { crc32 } from "node:zlib";

/*
 * Layout of an index checkpoint file:
 *
 *   "MACPIDX1" | u32 version | u32 crc32(body) | f64 bodyLength | body
 *
 * The body is a flat sequence of 8-byte-aligned items: numbers as f64, arrays as an f64 byte
 * length followed by the bytes, padded to 8. Aligned arrays load as views of the file's buffer,
 * so opening a checkpoint of a 100M-entry index is one read, one CRC pass and no copying.
 */
const MAGIC = Buffer.from("MACPIDX1", "latin1");
const VERSION = 1;
const HEADER_BYTES = 24;
/** The CRC of a large checkpoint is computed in slices, yielding in between, so appends keep flowing. */
const CRC_SLICE_BYTES = 8 * 1024 * 1024;

type Item = number | Uint8Array | Uint32Array;

/**
 * Collects numbers and typed arrays and copies them into one buffer in {@link finish}. The copy
 * is what makes a checkpoint consistent: add and finish in one synchronous run, and the index may
 * change right after without affecting the bytes.
 */
export class CheckpointWriter {
  private readonly items: Item[] = [];
  private bytes = 0;

  number(value: number): void {
    this.items.push(value);
    this.bytes += 8;
  }

  array(value: Uint8Array | Uint32Array): void {
    this.items.push(value);
    this.bytes += 8 + align8(value.byteLength);
  }

  /** The header and body; the CRC is filled in by {@link sealCheckpoint}. */
  finish(): Buffer {
    const out = Buffer.allocUnsafeSlow(HEADER_BYTES + this.bytes);
    MAGIC.copy(out, 0);
    out.writeUInt32LE(VERSION, 8);
    out.writeUInt32LE(0, 12);
    out.writeDoubleLE(this.bytes, 16);
    let at = HEADER_BYTES;
    for (const item of this.items) {
      if (typeof item === "number") {
        out.writeDoubleLE(item, at);
        at += 8;
        continue;
      }
      out.writeDoubleLE(item.byteLength, at);
      at += 8;
      out.set(new Uint8Array(item.buffer, item.byteOffset, item.byteLength), at);
      const padded = align8(item.byteLength);
      out.fill(0, at + item.byteLength, at + padded);
      at += padded;
    }
    return out;
  }
}

/** Computes the body's CRC into the header, a slice per event-loop turn. */
export async function sealCheckpoint(file: Buffer): Promise<void> {
  let crc = 0;
  for (let at = HEADER_BYTES; at < file.length; at += CRC_SLICE_BYTES) {
    crc = crc32(file.subarray(at, Math.min(file.length, at + CRC_SLICE_BYTES)), crc);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  file.writeUInt32LE(crc, 12);
}

/** Reads the items of a checkpoint back in the order they were written. */
export class CheckpointReader {
  private at = HEADER_BYTES;

  private constructor(private readonly file: Buffer) {}

  /** A reader over `file`, or undefined when it is not a whole, intact checkpoint of this version. */
  static of(file: Buffer): CheckpointReader | undefined {
    if (file.length < HEADER_BYTES || !file.subarray(0, 8).equals(MAGIC)) return undefined;
    if (file.readUInt32LE(8) !== VERSION) return undefined;
    if (file.readDoubleLE(16) !== file.length - HEADER_BYTES) return undefined;
    if (crc32(file.subarray(HEADER_BYTES)) !== file.readUInt32LE(12)) return undefined;
    // Views need aligned offsets; a buffer from a pool may not start at one.
    return new CheckpointReader(file.byteOffset % 8 === 0 ? file : Buffer.from(file));
  }

  number(): number {
    const value = this.file.readDoubleLE(this.at);
    this.at += 8;
    return value;
  }

  bytes(): Uint8Array {
    const length = this.number();
    const view = new Uint8Array(this.file.buffer, this.file.byteOffset + this.at, length);
    this.at += align8(length);
    return view;
  }

  words(): Uint32Array {
    const length = this.number();
    const view = new Uint32Array(this.file.buffer, this.file.byteOffset + this.at, length / 4);
    this.at += align8(length);
    return view;
  }

  /** Whether every item was read (a reader that disagrees with the writer's layout fails here). */
  get done(): boolean {
    return this.at === this.file.length;
  }
}

function align8(bytes: number): number {
  return Math.ceil(bytes / 8) * 8;
}

import { crc32 } from "node:zlib";

/**
 * Framing of every record the file backend writes:
 *
 *   u32 bodyLength | u32 headerCheck | u32 bodyCrc | body
 *
 * `headerCheck` lets recovery test a candidate frame start in O(1) (so searching a damaged
 * region for the next good frame stays linear) and `bodyCrc` (CRC-32) covers the body. Both are
 * keyed with the segment's random salt: a client payload that embeds bytes shaped like a frame
 * cannot pass for one, because its author does not know the salt.
 */
export const FRAME_HEADER_BYTES = 12;

/** Bodies above this are refused on write and treated as damage on read. */
export const MAX_BODY_BYTES = 256 * 1024 * 1024;

/** The smallest body any record type encodes to; shorter lengths are damage. */
const MIN_BODY_BYTES = 3;

/** A frame with room for a body of `bodyBytes`; the header is filled by `sealFrame`. */
export function allocateFrame(bodyBytes: number): Buffer {
  return Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyBytes);
}

/** Fills the header of a frame whose body is already written. */
export function sealFrame(frame: Buffer, salt: number): void {
  const bodyLength = frame.length - FRAME_HEADER_BYTES;
  frame.writeUInt32LE(bodyLength, 0);
  frame.writeUInt32LE(headerCheck(bodyLength, salt), 4);
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER_BYTES), salt), 8);
}

/** Size of the valid frame starting at `offset` (header and CRC verified), or 0 if there is none. */
export function frameSizeAt(buffer: Buffer, offset: number, end: number, salt: number): number {
  if (offset + FRAME_HEADER_BYTES > end) return 0;
  const bodyLength = buffer.readUInt32LE(offset);
  if (bodyLength < MIN_BODY_BYTES || bodyLength > MAX_BODY_BYTES) return 0;
  if (offset + FRAME_HEADER_BYTES + bodyLength > end) return 0;
  if (buffer.readUInt32LE(offset + 4) !== headerCheck(bodyLength, salt)) return 0;
  const body = buffer.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + bodyLength);
  if (buffer.readUInt32LE(offset + 8) !== crc32(body, salt)) return 0;
  return FRAME_HEADER_BYTES + bodyLength;
}

/** Offset of the next valid frame at or after `from`, or -1. */
export function findNextFrame(buffer: Buffer, from: number, end: number, salt: number): number {
  for (let offset = from; offset + FRAME_HEADER_BYTES <= end; offset++) {
    if (frameSizeAt(buffer, offset, end, salt) > 0) return offset;
  }
  return -1;
}

/** MurmurHash3's 32-bit finaliser over the length mixed with the salt. */
function headerCheck(bodyLength: number, salt: number): number {
  let h = (bodyLength ^ salt) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Segment files open with `MACPWAL1`, the salt, and a CRC of both. */
export const SEGMENT_HEADER_BYTES = 16;
const SEGMENT_MAGIC = Buffer.from("MACPWAL1", "latin1");

/** The header of a new segment keyed with `salt`. */
export function encodeSegmentHeader(salt: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32LE(salt, 8);
  header.writeUInt32LE(crc32(header.subarray(0, 12)), 12);
  return header;
}

/** The salt of a valid segment header, or undefined when the header is not one. */
export function readSegmentHeader(buffer: Buffer): number | undefined {
  if (buffer.length < SEGMENT_HEADER_BYTES) return undefined;
  if (!buffer.subarray(0, 8).equals(SEGMENT_MAGIC)) return undefined;
  if (buffer.readUInt32LE(12) !== crc32(buffer.subarray(0, 12))) return undefined;
  return buffer.readUInt32LE(8);
}

/** Bytes a LEB128 varint of `value` (an unsigned 32-bit integer) takes. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Sequential little-endian writer over a buffer sized exactly in advance. */
export class ByteWriter {
  private position = 0;

  constructor(readonly buffer: Buffer) {}

  /** Moves to `offset`, leaving the bytes before it for a header written later. */
  skipTo(offset: number): void {
    this.position = offset;
  }

  u8(value: number): void {
    this.position = this.buffer.writeUInt8(value, this.position);
  }

  u32(value: number): void {
    this.position = this.buffer.writeUInt32LE(value, this.position);
  }

  f64(value: number): void {
    this.position = this.buffer.writeDoubleLE(value, this.position);
  }

  i64(value: bigint): void {
    this.position = this.buffer.writeBigInt64LE(value, this.position);
  }

  varint(value: number): void {
    while (value >= 0x80) {
      this.buffer[this.position++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.position++] = value;
  }

  /** Writes a string whose UTF-8 length the caller already measured. */
  string(value: string, byteLength: number): void {
    this.varint(byteLength);
    this.position += this.buffer.write(value, this.position, byteLength, "utf8");
  }

  bytes(value: Uint8Array): void {
    this.varint(value.byteLength);
    this.buffer.set(value, this.position);
    this.position += value.byteLength;
  }
}

/** Raised when bytes do not follow the expected layout; callers translate it. */
export class MalformedBytes extends Error {}

/** Sequential little-endian reader of one bounded region; reading past the end throws. */
export class ByteReader {
  private position: number;

  constructor(
    private readonly buffer: Buffer,
    start: number,
    private readonly end: number,
  ) {
    this.position = start;
  }

  get atEnd(): boolean {
    return this.position === this.end;
  }

  u8(): number {
    this.need(1);
    return this.buffer.readUInt8(this.position++);
  }

  u32(): number {
    this.need(4);
    const value = this.buffer.readUInt32LE(this.position);
    this.position += 4;
    return value;
  }

  f64(): number {
    this.need(8);
    const value = this.buffer.readDoubleLE(this.position);
    this.position += 8;
    return value;
  }

  i64(): bigint {
    this.need(8);
    const value = this.buffer.readBigInt64LE(this.position);
    this.position += 8;
    return value;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 0x80;
    }
    throw new MalformedBytes("varint longer than 5 bytes");
  }

  string(): string {
    const length = this.varint();
    this.need(length);
    const value = this.buffer.toString("utf8", this.position, this.position + length);
    this.position += length;
    return value;
  }

  /** Skips a length-prefixed field without materialising it. */
  skipField(): void {
    const length = this.varint();
    this.need(length);
    this.position += length;
  }

  /** A copy, so the result never pins the (possibly large, shared) source buffer. */
  bytes(): Uint8Array {
    const length = this.varint();
    this.need(length);
    const value = new Uint8Array(length);
    value.set(this.buffer.subarray(this.position, this.position + length));
    this.position += length;
    return value;
  }

  skip(length: number): void {
    this.need(length);
    this.position += length;
  }

  private need(length: number): void {
    if (this.position + length > this.end) throw new MalformedBytes("record shorter than its layout");
  }
}

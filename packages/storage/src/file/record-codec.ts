import type { LogEntry, LogEntryKind, RegistryKind, StoredSnapshot } from "@macp/core";
import { ByteReader, ByteWriter, MalformedBytes, varintSize } from "./byte-codec.js";
import { FRAME_HEADER_BYTES, MAX_BODY_BYTES, allocateFrame } from "./frame.js";
import { storageFailed } from "../storage-error.js";

/*
 * Record bodies are a small binary layout rather than JSON: payloads are opaque bytes (protobuf
 * or JSON) that JSON would have to base64 or number-array encode, and the open-time scan only
 * needs each entry's kind and seq, which it can read without materialising strings. Strings are
 * varint-length-prefixed UTF-8, the envelope timestamp a signed 64-bit integer (clients may send
 * any int64, e.g. i64::MAX), the runtime's receive time f64 (exact for every safe integer).
 *
 *   append   := u8 4 | str sessionId | varint count | entry*count
 *   entry    := u8 kind | u32 seq | i64 timestampUnixMs | f64 receivedAtUnixMs
 *               | str mode | str messageType | str messageId | str sender | str macpVersion
 *               | bytes payload
 *   legacy append := u8 1 | … as append, but f64 timestampUnixMs (written before int64 timestamps;
 *               still read, never written)
 *   snapshot := u8 5 | str sessionId | f64 logLength | f64 finishedAtUnixMs (-1: not finished)
 *               | str state
 *   legacy snapshot := u8 2 | str sessionId | f64 logLength | str state (written before finished
 *               sessions were marked; still read, never written)
 *   registry := u8 3 | str kind | str document
 *   reset    := u8 6 | … as append: the session's whole log from here on is exactly these
 *               entries (written by compaction, which copies a live session forward; with no
 *               entries it retires a removed session)
 *   retired  := u8 7 | str sessionId (snapshot log: the session has no snapshot any more)
 *
 * One append call is one record, so a multi-entry append is all-or-nothing after a crash.
 */
const LEGACY_APPEND = 1;
const LEGACY_SNAPSHOT = 2;
const REGISTRY = 3;
const APPEND = 4;
const SNAPSHOT = 5;
const RESET = 6;
const RETIRED = 7;
const NOT_FINISHED = -1;

const KIND_CODES: Record<LogEntryKind, number> = { incoming: 0, internal: 1, checkpoint: 2 };
const KINDS: readonly LogEntryKind[] = ["incoming", "internal", "checkpoint"];

/** Numeric code of the incoming kind, as stored and as kept in the index. */
export const INCOMING_CODE = KIND_CODES.incoming;

/** Numeric code of an entry kind. */
export function kindCode(kind: LogEntryKind): number {
  return KIND_CODES[kind];
}

/** Encodes one append call as an unsealed frame. */
export function encodeAppendFrame(sessionId: string, entries: readonly LogEntry[]): Buffer {
  return encodeEntriesFrame(APPEND, sessionId, entries);
}

/** Encodes a reset record: `entries` replace everything logged for the session before it. */
export function encodeResetFrame(sessionId: string, entries: readonly LogEntry[]): Buffer {
  return encodeEntriesFrame(RESET, sessionId, entries);
}

function encodeEntriesFrame(type: number, sessionId: string, entries: readonly LogEntry[]): Buffer {
  const sessionBytes = Buffer.byteLength(sessionId);
  const lengths: number[] = [];
  let size = 1 + varintSize(sessionBytes) + sessionBytes + varintSize(entries.length);
  for (const entry of entries) {
    size += 1 + 4 + 8 + 8;
    for (const text of [entry.mode, entry.messageType, entry.messageId, entry.sender, entry.macpVersion]) {
      const length = Buffer.byteLength(text);
      lengths.push(length);
      size += varintSize(length) + length;
    }
    size += varintSize(entry.payload.byteLength) + entry.payload.byteLength;
  }
  const writer = bodyWriter(size);
  writer.u8(type);
  writer.string(sessionId, sessionBytes);
  writer.varint(entries.length);
  let next = 0;
  const length = (): number => lengths[next++] ?? 0;
  for (const entry of entries) {
    writer.u8(KIND_CODES[entry.kind]);
    writer.u32(entry.seq);
    writer.i64(entry.timestampUnixMs);
    writer.f64(entry.receivedAtUnixMs);
    writer.string(entry.mode, length());
    writer.string(entry.messageType, length());
    writer.string(entry.messageId, length());
    writer.string(entry.sender, length());
    writer.string(entry.macpVersion, length());
    writer.bytes(entry.payload);
  }
  return writer.buffer;
}

/** What the open-time scan keeps of an append record. */
export interface AppendSummary {
  readonly sessionId: string;
  /** A reset record: its entries replace the session's earlier ones. */
  readonly reset: boolean;
  readonly kindCodes: number[];
  readonly seqs: number[];
}

/** The session and each entry's kind code and seq of the body at `bytes[start, end)`, without decoding the rest. */
export function scanAppendBody(bytes: Buffer, start: number, end: number): AppendSummary {
  return readBody(new ByteReader(bytes, start, end), "append", (reader) => {
    const reset = appendType(reader) === RESET;
    const summary: AppendSummary = { sessionId: reader.string(), reset, kindCodes: [], seqs: [] };
    const count = reader.varint();
    for (let i = 0; i < count; i++) {
      const code = reader.u8();
      if (code >= KINDS.length) throw new MalformedBytes(`unknown entry kind ${code}`);
      summary.kindCodes.push(code);
      summary.seqs.push(reader.u32());
      reader.skip(16);
      for (let field = 0; field < 6; field++) reader.skipField();
    }
    return summary;
  });
}

/** Every entry of the append body at `bytes[start, end)`. */
export function decodeAppendBody(bytes: Buffer, start: number, end: number): { sessionId: string; entries: LogEntry[] } {
  return readBody(new ByteReader(bytes, start, end), "append", (reader) => {
    const legacy = appendType(reader) === LEGACY_APPEND;
    const sessionId = reader.string();
    const count = reader.varint();
    const entries: LogEntry[] = [];
    for (let i = 0; i < count; i++) {
      const kind = KINDS[reader.u8()];
      if (kind === undefined) throw new MalformedBytes("unknown entry kind");
      entries.push({
        kind,
        seq: reader.u32(),
        timestampUnixMs: legacy ? legacyTimestamp(reader) : reader.i64(),
        receivedAtUnixMs: reader.f64(),
        mode: reader.string(),
        messageType: reader.string(),
        messageId: reader.string(),
        sender: reader.string(),
        macpVersion: reader.string(),
        payload: reader.bytes(),
        sessionId,
      });
    }
    return { sessionId, entries };
  });
}

/** Encodes a snapshot record as an unsealed frame. */
export function encodeSnapshotFrame(sessionId: string, snapshot: StoredSnapshot): Buffer {
  const idBytes = Buffer.byteLength(sessionId);
  const stateBytes = Buffer.byteLength(snapshot.state);
  const writer = bodyWriter(1 + varintSize(idBytes) + idBytes + 16 + varintSize(stateBytes) + stateBytes);
  writer.u8(SNAPSHOT);
  writer.string(sessionId, idBytes);
  writer.f64(snapshot.logLength);
  writer.f64(snapshot.finishedAtUnixMs ?? NOT_FINISHED);
  writer.string(snapshot.state, stateBytes);
  return writer.buffer;
}

/** What the open-time scan keeps of a snapshot record. */
export interface SnapshotSummary {
  readonly sessionId: string;
  /** A retired record: the session's snapshots are gone. */
  readonly retired: boolean;
  readonly logLength: number;
  /** Undefined while the snapshot's session is not finished. */
  readonly finishedAtUnixMs: number | undefined;
}

/** The session, log length and finish time of the snapshot body at `bytes[start, end)`, without decoding the state. */
export function scanSnapshotHead(bytes: Buffer, start: number, end: number): SnapshotSummary {
  const reader = new ByteReader(bytes, start, end);
  try {
    const type = reader.u8();
    if (type === RETIRED) return { sessionId: reader.string(), retired: true, logLength: 0, finishedAtUnixMs: undefined };
    if (type !== SNAPSHOT && type !== LEGACY_SNAPSHOT) throw new MalformedBytes(`record type ${type}, expected a snapshot`);
    const sessionId = reader.string();
    const logLength = reader.f64();
    const finished = type === SNAPSHOT ? reader.f64() : NOT_FINISHED;
    return { sessionId, retired: false, logLength, finishedAtUnixMs: finished === NOT_FINISHED ? undefined : finished };
  } catch (error) {
    if (error instanceof MalformedBytes) throw storageFailed("unreadable snapshot record", error);
    throw error;
  }
}

/** Encodes a retired record: `sessionId` has no snapshot from here on. */
export function encodeRetiredFrame(sessionId: string): Buffer {
  const idBytes = Buffer.byteLength(sessionId);
  const writer = bodyWriter(1 + varintSize(idBytes) + idBytes);
  writer.u8(RETIRED);
  writer.string(sessionId, idBytes);
  return writer.buffer;
}

/** A snapshot record's session id and snapshot. */
export function decodeSnapshotBody(body: Buffer): { sessionId: string; snapshot: StoredSnapshot } {
  return readBody(new ByteReader(body, 0, body.length), "snapshot", (reader) => {
    const type = snapshotType(reader);
    const sessionId = reader.string();
    const logLength = reader.f64();
    const finished = type === SNAPSHOT ? reader.f64() : NOT_FINISHED;
    const state = reader.string();
    return {
      sessionId,
      snapshot: finished === NOT_FINISHED ? { logLength, state } : { logLength, state, finishedAtUnixMs: finished },
    };
  });
}

/** Encodes a registry document as an unsealed frame. */
export function encodeRegistryFrame(kind: RegistryKind, document: string): Buffer {
  const kindBytes = Buffer.byteLength(kind);
  const documentBytes = Buffer.byteLength(document);
  const writer = bodyWriter(1 + varintSize(kindBytes) + kindBytes + varintSize(documentBytes) + documentBytes);
  writer.u8(REGISTRY);
  writer.string(kind, kindBytes);
  writer.string(document, documentBytes);
  return writer.buffer;
}

/** The registry document of a registry file, checked to be of `kind`. */
export function decodeRegistryBody(body: Buffer, kind: RegistryKind): string {
  return readBody(new ByteReader(body, 0, body.length), "registry", (reader) => {
    expectType(reader, REGISTRY);
    const stored = reader.string();
    if (stored !== kind) throw new MalformedBytes(`registry file holds "${stored}"`);
    return reader.string();
  });
}

function bodyWriter(bodyBytes: number): ByteWriter {
  if (bodyBytes > MAX_BODY_BYTES) {
    throw storageFailed(`record of ${bodyBytes} bytes exceeds the ${MAX_BODY_BYTES}-byte limit`);
  }
  const writer = new ByteWriter(allocateFrame(bodyBytes));
  writer.skipTo(FRAME_HEADER_BYTES);
  return writer;
}

/** A legacy f64 timestamp; it was written only for safe integers. */
function legacyTimestamp(reader: ByteReader): bigint {
  const value = reader.f64();
  if (!Number.isSafeInteger(value)) throw new MalformedBytes("legacy timestamp is not an integer");
  return BigInt(value);
}

/** Reads the type of an append record (current or legacy) and returns it. */
function appendType(reader: ByteReader): number {
  const actual = reader.u8();
  if (actual !== APPEND && actual !== LEGACY_APPEND && actual !== RESET) throw new MalformedBytes(`record type ${actual}, expected an append`);
  return actual;
}

/** Reads the type of a snapshot record (current or legacy) and returns it. */
function snapshotType(reader: ByteReader): number {
  const actual = reader.u8();
  if (actual !== SNAPSHOT && actual !== LEGACY_SNAPSHOT) throw new MalformedBytes(`record type ${actual}, expected a snapshot`);
  return actual;
}

function expectType(reader: ByteReader, type: number): void {
  const actual = reader.u8();
  if (actual !== type) throw new MalformedBytes(`record type ${actual}, expected ${type}`);
}

/** Runs a decoder over a whole body, which it must consume exactly. */
function readBody<T>(reader: ByteReader, what: string, decode: (reader: ByteReader) => T): T {
  try {
    const value = decode(reader);
    if (!reader.atEnd) throw new MalformedBytes("trailing bytes");
    return value;
  } catch (error) {
    if (error instanceof MalformedBytes) throw storageFailed(`unreadable ${what} record`, error);
    throw error;
  }
}

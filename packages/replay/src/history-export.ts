import { envelopeOf } from "@macp/core";
import { bytesToBase64 } from "@macp/core/internal";
import type { LogEntry } from "@macp/core";
import type { Envelope } from "@macp/protocol";
import { formatUnixMs } from "./unix-ms-text.js";

/** One record of an exported history (JSON lines), following the MACP JSON envelope mapping. */
export interface HistoryLine {
  readonly seq: number;
  readonly kind: LogEntry["kind"];
  readonly macp_version: string;
  readonly mode: string;
  readonly message_type: string;
  readonly message_id: string;
  readonly session_id: string;
  readonly sender: string;
  /** ISO 8601 (RFC 3339 for years 0000–9999; a signed six-plus-digit year beyond), exact to the ms. */
  readonly timestamp: string;
  /** When the runtime committed the record: known to storage, not carried on the wire. */
  readonly received_at?: string;
  readonly payload_b64: string;
}

/** The history line of one envelope (from storage, or as received from a daemon's stream). */
export function historyLine(
  envelope: Envelope,
  seq: number,
  kind: LogEntry["kind"],
  receivedAtUnixMs?: number,
): HistoryLine {
  return {
    seq,
    kind,
    macp_version: envelope.macpVersion,
    mode: envelope.mode,
    message_type: envelope.messageType,
    message_id: envelope.messageId,
    session_id: envelope.sessionId,
    sender: envelope.sender,
    timestamp: formatUnixMs(envelope.timestampUnixMs),
    ...(receivedAtUnixMs === undefined ? {} : { received_at: formatUnixMs(receivedAtUnixMs) }),
    payload_b64: bytesToBase64(envelope.payload),
  };
}

/** A session log's history lines: accepted envelopes and, optionally, runtime-internal records. */
export function historyLines(entries: readonly LogEntry[], options: { includeInternal?: boolean } = {}): HistoryLine[] {
  return entries
    .filter((entry) => entry.kind === "incoming" || (options.includeInternal === true && entry.kind === "internal"))
    .map((entry) => historyLine(envelopeOf(entry), entry.seq, entry.kind, entry.receivedAtUnixMs));
}

/** A session log as JSON lines (see {@link historyLines}). */
export function exportHistory(entries: readonly LogEntry[], options: { includeInternal?: boolean } = {}): string[] {
  return historyLines(entries, options).map((line) => JSON.stringify(line));
}

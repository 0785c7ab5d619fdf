import { bytesToBase64, envelopeOf } from "@macp/core";
import type { LogEntry } from "@macp/core";

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
  readonly timestamp: string;
  readonly received_at: string;
  readonly payload_b64: string;
}

/** A session log as JSON lines: accepted envelopes and, optionally, runtime-internal records. */
export function exportHistory(entries: readonly LogEntry[], options: { includeInternal?: boolean } = {}): string[] {
  return entries
    .filter((entry) => entry.kind === "incoming" || (options.includeInternal === true && entry.kind === "internal"))
    .map((entry) => {
      const envelope = envelopeOf(entry);
      const line: HistoryLine = {
        seq: entry.seq,
        kind: entry.kind,
        macp_version: envelope.macpVersion,
        mode: envelope.mode,
        message_type: envelope.messageType,
        message_id: envelope.messageId,
        session_id: envelope.sessionId,
        sender: envelope.sender,
        timestamp: new Date(envelope.timestampUnixMs).toISOString(),
        received_at: new Date(entry.receivedAtUnixMs).toISOString(),
        payload_b64: bytesToBase64(envelope.payload),
      };
      return JSON.stringify(line);
    });
}

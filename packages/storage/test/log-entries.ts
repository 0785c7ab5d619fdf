import type { LogEntry } from "@macp/core";

/** A log entry of `sessionId` with distinctive field values derived from `seq`. */
export function logEntry(sessionId: string, seq: number, overrides: Partial<LogEntry> = {}): LogEntry {
  return {
    kind: "incoming",
    seq,
    sessionId,
    mode: "macp.mode.decision.v1",
    messageType: seq === 1 ? "SessionStart" : "Proposal",
    messageId: `msg-${sessionId}-${seq}`,
    sender: "agent://alice",
    macpVersion: "1.0",
    timestampUnixMs: BigInt(1_700_000_000_000 + Math.trunc(seq)),
    receivedAtUnixMs: 1_700_000_000_500 + seq,
    payload: new Uint8Array([seq & 0xff, 0, 0xff]),
    ...overrides,
  };
}

/** Collects warnings and info lines a store reports. */
export function recordingLogger(): { warnings: string[]; infos: string[]; warn(m: string): void; info(m: string): void } {
  const warnings: string[] = [];
  const infos: string[] = [];
  return { warnings, infos, warn: (m) => warnings.push(m), info: (m) => infos.push(m) };
}

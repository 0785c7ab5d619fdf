import { rm } from "node:fs/promises";
import { join } from "node:path";
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

/**
 * Deletes the data directory's index checkpoint. A crash leaves no checkpoint covering the
 * records it tore (a checkpoint only covers synced records), so tests that damage records after
 * a clean close drop the checkpoint written at close to stage what a crash leaves.
 */
export async function dropCheckpoint(dir: string): Promise<void> {
  await rm(join(dir, "index", "checkpoint.idx"), { force: true });
}

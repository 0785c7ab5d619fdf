import type { VerifyResult } from "@macp/replay";

/** One line of `macp sessions`. */
export interface SessionRow {
  readonly sessionId: string;
  readonly mode: string;
  /** `Open`, `Suspended`, `Resolved`, `Expired`, `Cancelled`, or `Unrecoverable` for a stored log that does not replay. */
  readonly status: string;
  readonly initiator: string;
  readonly participants: readonly string[];
  readonly startedAtUnixMs: number;
  readonly expiresAtUnixMs: number;
  /** Accepted envelopes so far; known only from storage (the wire does not carry it). */
  readonly acceptedMessages: number | undefined;
  /** Why a stored session does not replay. */
  readonly error: string | undefined;
}

/** One record of a session's history (`macp replay`), in the JSON lines form of `exportHistory`. */
export interface HistoryRecord {
  readonly seq: number;
  readonly kind: string;
  readonly macp_version: string;
  readonly mode: string;
  readonly message_type: string;
  readonly message_id: string;
  readonly session_id: string;
  readonly sender: string;
  readonly timestamp: string;
  /** When the runtime committed the record; storage knows it, the wire does not. */
  readonly received_at?: string;
  readonly payload_b64: string;
}

/** What the commands read: a data directory or a running daemon. */
export interface SessionSource {
  /** Where the data comes from, for messages. */
  readonly description: string;
  listSessions(): Promise<SessionRow[]>;
  /** A session's state as plain JSON (undefined when unknown). */
  getSession(sessionId: string): Promise<Record<string, unknown> | undefined>;
  /** Accepted history in order; runtime-internal records too when asked and available. */
  history(sessionId: string, options: { includeInternal: boolean }): Promise<HistoryRecord[] | undefined>;
  /** Replays stored sessions and compares every replay path; undefined when the source cannot. */
  verify?(sessionIds: readonly string[]): Promise<VerifyResult[]>;
  close(): Promise<void>;
}

/** A failure the user can act on: printed as `macp: <message>` without a stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

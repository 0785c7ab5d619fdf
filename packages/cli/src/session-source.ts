import type { HistoryLine } from "@macp/replay";
import type { VerifyResult } from "@macp/replay";

/** One line of `macp sessions`. */
export interface SessionRow {
  readonly sessionId: string;
  readonly mode: string;
  /** `Open`, `Suspended`, `Resolved`, `Expired`, `Cancelled`, or `Unrecoverable` for a stored log that does not replay. */
  readonly status: string;
  readonly initiator: string;
  readonly participants: readonly string[];
  /** Unix ms: a number within ±(2^53 − 1), else a decimal string (`int64ToJson`). */
  readonly startedAtUnixMs: number | string;
  /** Unix ms: a number within ±(2^53 − 1), else a decimal string (`int64ToJson`). */
  readonly expiresAtUnixMs: number | string;
  /** Accepted envelopes so far; known only from storage (the wire does not carry it). */
  readonly acceptedMessages: number | undefined;
  /** Why a stored session does not replay. */
  readonly error: string | undefined;
}

/** One record of a session's history (`macp replay`): the JSON lines form of `exportHistory`. */
export type HistoryRecord = HistoryLine;

/** What the commands read: a data directory or a running daemon. */
export interface SessionSource {
  /** Where the data comes from, for messages. */
  readonly description: string;
  /** Every session the source holds, one row each. */
  listSessions(): Promise<SessionRow[]>;
  /** A session's state as plain JSON (undefined when unknown). */
  getSession(sessionId: string): Promise<Record<string, unknown> | undefined>;
  /** Accepted history in order; runtime-internal records too when asked and available. */
  history(sessionId: string, options: { includeInternal: boolean }): Promise<HistoryRecord[] | undefined>;
  /** Replays stored sessions and compares every replay path; undefined when the source cannot. */
  verify?(sessionIds: readonly string[]): Promise<VerifyResult[]>;
  /** Removes (or, dry, counts) finished sessions past an age; storage sources only. */
  retire?(options: RetireOptions): Promise<RetireReport>;
  /** Appends finished sessions past an age to JSONL, keeping them; storage sources only. */
  archive?(olderThanMs: number, archiveDir: string): Promise<{ sessions: number; file: string | undefined }>;
  /** Releases the store or the daemon connection. */
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

/** What `macp gc` asks of a storage source. */
export interface RetireOptions {
  readonly olderThanMs: number;
  readonly apply: boolean;
  readonly archiveDir: string | undefined;
}

/** What `macp gc` did (or, dry, would do). */
export interface RetireReport {
  readonly sessions: number;
  readonly sample: readonly string[];
  readonly archiveFile: string | undefined;
  /** Storage bytes (log + snapshots) before and after, when sessions were removed. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

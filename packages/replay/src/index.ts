/**
 * Rebuilding sessions from durable storage (crash recovery), checking that replay is
 * deterministic, and exporting accepted histories.
 *
 * @module @macp/replay
 */
export { recoverSessions, rebuildSession, loadStoredSession } from "./recover-sessions.js";
export type { RecoveryFailure, RecoveryOptions, RecoveryReport } from "./recover-sessions.js";
export type { SnapshotCheck } from "./snapshot-check.js";
export { hashSessionState } from "./state-hash.js";
export { verifySession } from "./verify-session.js";
export type { VerifyResult } from "./verify-session.js";
export { summarizeSession } from "./session-summary.js";
export type { SessionSummary } from "./session-summary.js";
export { exportHistory, historyLine, historyLines } from "./history-export.js";
export type { HistoryLine } from "./history-export.js";
export { formatUnixMs } from "./unix-ms-text.js";

export { recoverSessions, rebuildSession } from "./recover-sessions.js";
export type { RecoveryFailure, RecoveryOptions, RecoveryReport } from "./recover-sessions.js";
export { hashSessionState } from "./state-hash.js";
export { verifySession } from "./verify-session.js";
export type { VerifyResult } from "./verify-session.js";
export { exportHistory } from "./history-export.js";
export type { HistoryLine } from "./history-export.js";

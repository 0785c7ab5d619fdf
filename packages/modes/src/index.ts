export { accepted, rejected } from "./mode-handler.js";
export type { SessionView, ModeEnvelope, ModeOutcome, ModeHandler } from "./mode-handler.js";
export { validateCommitment, authorizeCommitment } from "./commitment-rules.js";
export { isBlank } from "./text.js";
export { decisionMode } from "./decision-mode.js";
export { proposalMode } from "./proposal-mode.js";
export { taskMode } from "./task-mode.js";

/**
 * The MACP coordination modes as pure state machines ({@link ModeHandler}) and the
 * {@link ModeRegistry}.
 *
 * @module @macp/modes
 */
export { accepted, rejected } from "./mode-handler.js";
export type { SessionView, ModeEnvelope, ModeOutcome, ModeHandler } from "./mode-handler.js";
export { validateCommitment, authorizeCommitment } from "./commitment-rules.js";
export { isBlank } from "./text.js";
export { decisionMode } from "./decision-mode.js";
export { proposalMode } from "./proposal-mode.js";
export { taskMode } from "./task-mode.js";
export { handoffMode } from "./handoff-mode.js";
export { quorumMode } from "./quorum-mode.js";
export { multiRoundMode } from "./multi-round-mode.js";
export { createPassthroughMode } from "./passthrough-mode.js";
export { builtinModeDescriptors } from "./builtin-descriptors.js";
export { ModeRegistry } from "./mode-registry.js";
export type { ModeRegistryEntry, RegistryChangeResult, PromoteResult } from "./mode-registry.js";
export type { RegistryState, PersistedExtensionMode, PersistedPromotion } from "./registry-state.js";

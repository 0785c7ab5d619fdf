/**
 * The MACP coordination modes as pure state machines ({@link ModeHandler}) and the
 * {@link ModeRegistry}.
 *
 * @module @macp/modes
 */
export { accepted, rejected } from "./mode-handler.js";
export type { SessionView, ModeEnvelope, ModeOutcome, ModeHandler } from "./mode-handler.js";
export { validateCommitment, authorizeCommitment } from "./commitment-rules.js";
export { decisionMode } from "./decision/decision-mode.js";
export { proposalMode } from "./proposal/proposal-mode.js";
export { taskMode } from "./task/task-mode.js";
export { handoffMode } from "./handoff/handoff-mode.js";
export { quorumMode } from "./quorum/quorum-mode.js";
export { multiRoundMode } from "./multi-round/multi-round-mode.js";
export { createPassthroughMode } from "./passthrough/passthrough-mode.js";
export { builtinModeDescriptors } from "./registry/builtin-descriptors.js";
export { ModeRegistry } from "./registry/mode-registry.js";
export type { ModeRegistryEntry, RegistryChangeResult, PromoteResult } from "./registry/mode-registry.js";
export type { RegistryState, PersistedExtensionMode, PersistedPromotion } from "./registry/registry-state.js";

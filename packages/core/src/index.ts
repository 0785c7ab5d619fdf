export type { LogEntry, LogEntryKind, RegistryKind, SessionStore, StoredSnapshot } from "./session-store.js";
export { InMemorySessionStore } from "./in-memory-session-store.js";
export { ManualClock } from "./clock.js";
export type { Clock } from "./clock.js";
export { KeyedMutex } from "./keyed-mutex.js";
export type { ModeEntryView, ModeLookup } from "./mode-lookup.js";
export { checkEnvelopeShape, isAmbientType } from "./envelope-shape.js";
export {
  POLICY_BINDING_TYPE,
  sessionView,
  validateSessionStart,
  createSession,
  applyMessage,
  applyInternal,
  replayLog,
  resolutionBytes,
} from "./session-machine.js";
export type { SessionBirth } from "./session-machine.js";
export {
  serializeSessionState,
  deserializeSessionState,
  bytesToBase64,
  base64ToBytes,
} from "./session-record.js";
export type { SessionRecord, SessionState, SessionStatus, ParticipantActivityRecord } from "./session-record.js";
export { Kernel, isTerminal, envelopeOf } from "./kernel.js";
export type {
  KernelOptions,
  KernelOutcome,
  SenderContext,
  AcceptedEnvelope,
  LifecycleEvent,
  LifecycleEventType,
  SessionInfo,
  PolicyRegistryPort,
  ModeRegistryPort,
} from "./kernel.js";
export { SessionFeed, FeedLagError } from "./session-feed.js";

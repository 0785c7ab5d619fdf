/**
 * The MACP coordination kernel: {@link Kernel} owns live sessions and applies the session rules
 * (SessionStart validation, TTL, dedup, ordering, lifecycle, policy binding) between an
 * authenticated envelope and durable storage, behind the {@link SessionStore} interface that
 * `@macp/storage` implements.
 *
 * @module @macp/core
 */
export type { AppendNote, LogEntry, LogEntryKind, RegistryKind, SessionStore, StorageUsage, StoredSnapshot } from "./session-store.js";
export { InMemorySessionStore } from "./in-memory-session-store.js";
export { StaleAppendError } from "./stale-append.js";
export { ManualClock } from "./clock.js";
export type { Clock } from "./clock.js";
export type { ModeEntryView, ModeLookup } from "./mode-lookup.js";
export { checkEnvelopeShape } from "./envelope-shape.js";
export type { SessionRecord, SessionReplayState, SessionStatus, ParticipantActivityRecord } from "./session-record.js";
export { Kernel, isTerminal, envelopeOf } from "./kernel.js";
export type {
  KernelOptions,
  KernelOutcome,
  SenderContext,
  AcceptedEnvelope,
  LifecycleEvent,
  LifecycleEventType,
  SessionInfo,
  RestoredSession,
  ObservedAppend,
} from "./kernel.js";
export type { PolicyRegistryPort, ModeRegistryPort } from "./registry-persistence.js";
export { SessionFeed, FeedLagError } from "./session-feed.js";

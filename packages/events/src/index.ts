export {
  CANONICAL_EVENT_TYPES,
  CANONICAL_EVENT_SCHEMA_VERSION,
  CONTROL_PLANE_SOURCE_NAME,
  RUNTIME_SOURCE_NAME,
  SUBJECT_KINDS,
  isCanonicalEventType,
} from "./event-types.js";
export type {
  CanonicalEvent,
  CanonicalEventType,
  EventDraft,
  EventSource,
  EventSubject,
  EventTrace,
  SubjectKind,
} from "./event-types.js";
export { canonicalEventJsonSchema } from "./event-json-schema.js";
export type { JsonObject, JsonValue } from "./json.js";
export { RAW_RUNTIME_EVENT_KINDS } from "./raw-event.js";
export type {
  RawRuntimeEvent,
  RawSessionSnapshot,
  RawStreamEnvelope,
  RawStreamInlineError,
  RawStreamStatus,
  StreamStatus,
} from "./raw-event.js";
export { rawEventFromJson, rawEventToJson } from "./raw-event-json.js";
export { payloadToJson } from "./payload-json.js";
export type { PayloadJson } from "./payload-json.js";
export { CANONICAL_EVENT_ID_NAMESPACE, canonicalEventId, rawEventKey, sequenceEvents } from "./sequencing.js";
export type { SequenceInput, SequencedEvents } from "./sequencing.js";
export { uuidV5 } from "./uuid-v5.js";
export { RUN_STATE_LIMITS, RUN_STATE_SCHEMA_VERSION, TERMINAL_RUN_STATUSES, emptyRunState } from "./run-state.js";
export type {
  CommitmentEvaluation,
  DecisionBlock,
  DecisionContribution,
  DecisionState,
  GraphEdge,
  GraphNode,
  GraphNodeKind,
  LlmBlock,
  LlmCall,
  LlmTotals,
  OutboundMessagesBlock,
  ParticipantState,
  ParticipantStatus,
  PolicyBlock,
  ProgressEntry,
  QuorumStatus,
  RunBlock,
  RunStateProjection,
  RunStatus,
  SignalEntry,
  TimelineEntry,
  TraceBlock,
  Vote,
  VoteTally,
} from "./run-state.js";
export { emptyMetricsSummary } from "./metrics-summary.js";
export type { MetricsSummary } from "./metrics-summary.js";
export { normalizeContextFor, normalizeRawEvent, participantsSeenIn, sessionStateName, toPercentage } from "./normalize.js";
export type { NormalizeContext } from "./normalize.js";
export { redactText } from "./llm-usage.js";
export {
  artifactCreatedEvent,
  controlPlaneEvent,
  messageSendFailedEvent,
  messageSentEvent,
  participantSeenEvent,
  runCancelledEvent,
  runCompletedEvent,
  runCreatedEvent,
  runFailedEvent,
  runResumedEvent,
  runStartedEvent,
  runSuspendedEvent,
  sessionBoundEvent,
  sessionStateChangedEvent,
  sessionStreamOpenedEvent,
} from "./control-plane-events.js";
export type { ControlPlaneEventBase, RunTransitionFields, SendAck } from "./control-plane-events.js";
export { applyEvent, foldEvents } from "./run-state-fold.js";
export { applyMetricsEvent, foldMetrics } from "./metrics-fold.js";
export { DEFAULT_LLM_PRICE_USD_PER_MILLION, LLM_PRICES_USD_PER_MILLION, estimateLlmCostUsd } from "./llm-cost.js";
export { ballotOf, commitmentOutcome } from "./fold-decision.js";

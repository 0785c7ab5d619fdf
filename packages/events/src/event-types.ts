import type { JsonObject } from "./json.js";

/** Every canonical event type, in the order of control-plane.md §3.2. */
export const CANONICAL_EVENT_TYPES = [
  "run.created",
  "run.started",
  "run.completed",
  "run.failed",
  "run.cancelled",
  "run.suspended",
  "run.resumed",
  "session.bound",
  "session.stream.opened",
  "session.state.changed",
  "participant.seen",
  "message.sent",
  "message.received",
  "message.send_failed",
  "signal.emitted",
  "signal.acknowledged",
  "proposal.created",
  "proposal.updated",
  "decision.proposed",
  "decision.finalized",
  "progress.reported",
  "tool.called",
  "tool.completed",
  "artifact.created",
  "policy.resolved",
  "policy.commitment.evaluated",
  "policy.denied",
  "llm.call.completed",
] as const;

/** One canonical event type (§3.2). */
export type CanonicalEventType = (typeof CANONICAL_EVENT_TYPES)[number];

const EVENT_TYPE_SET: ReadonlySet<string> = new Set(CANONICAL_EVENT_TYPES);

/** Whether `value` names a canonical event type. */
export function isCanonicalEventType(value: unknown): value is CanonicalEventType {
  return typeof value === "string" && EVENT_TYPE_SET.has(value);
}

/** Kinds of thing an event is about (§3.1, including [B]'s `policy`). */
export const SUBJECT_KINDS = [
  "run",
  "session",
  "participant",
  "message",
  "signal",
  "proposal",
  "decision",
  "tool",
  "artifact",
  "trace",
  "policy",
] as const;

/** One subject kind. */
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** What an event is about. */
export interface EventSubject {
  readonly kind: SubjectKind;
  readonly id: string;
}

/** Who produced an event: the runtime (through the normalizer) or the control plane itself. */
export interface EventSource {
  readonly kind: "runtime" | "control-plane";
  /** `macp-runtime` or `macp-control-plane`. */
  readonly name: string;
  /** For runtime events: the raw kind (`stream-status`, …) or the envelope's message type. */
  readonly rawType?: string;
}

/** OpenTelemetry correlation of an event. */
export interface EventTrace {
  readonly traceId?: string;
  readonly spanId?: string;
  readonly parentSpanId?: string;
}

/** `schemaVersion` of every canonical event (the reference's `PROJECTION_SCHEMA_VERSION`). */
export const CANONICAL_EVENT_SCHEMA_VERSION = 3;

/** `source.name` of events normalized from runtime input. */
export const RUNTIME_SOURCE_NAME = "macp-runtime";

/** `source.name` of events the control plane synthesizes. */
export const CONTROL_PLANE_SOURCE_NAME = "macp-control-plane";

/**
 * The one shape of a canonical event on every surface (REST, SSE, WebSocket, replay, export):
 * nested `subject`/`source`/`trace`, never flattened and never rewritten.
 */
export interface CanonicalEvent {
  /** UUID, derived deterministically from the run and the raw input (see `sequenceEvents`). */
  readonly id: string;
  readonly runId: string;
  /** Per-run, strictly increasing, gapped (§1.8). */
  readonly seq: number;
  /** ISO-8601 UTC: receive time for runtime events, emission time for control-plane events. */
  readonly ts: string;
  readonly type: CanonicalEventType;
  readonly schemaVersion: typeof CANONICAL_EVENT_SCHEMA_VERSION;
  readonly subject?: EventSubject;
  readonly source: EventSource;
  readonly trace: EventTrace;
  readonly data: JsonObject;
}

/** An event before sequencing: no `id`, `runId` or `seq` yet. */
export type EventDraft = Omit<CanonicalEvent, "id" | "runId" | "seq">;

import { CANONICAL_EVENT_SCHEMA_VERSION, CONTROL_PLANE_SOURCE_NAME } from "./event-types.js";
import type { CanonicalEventType, EventDraft, EventSubject, EventTrace } from "./event-types.js";
import { int64ToJson, toJsonValue } from "./json.js";
import type { JsonObject, JsonValue } from "./json.js";

/** What every control-plane event needs: its emission time (the caller reads the clock) and trace. */
export interface ControlPlaneEventBase {
  /** ISO-8601 emission time. */
  readonly ts: string;
  readonly trace?: EventTrace;
}

// toJsonValue drops undefined members and makes every text storable (see storableText).
function compact(data: Record<string, JsonValue | undefined>): JsonObject {
  return toJsonValue(data) as JsonObject;
}

/** A control-plane event draft of any type (the typed builders below cover the catalogue). */
export function controlPlaneEvent(
  type: CanonicalEventType,
  base: ControlPlaneEventBase,
  subject: EventSubject | undefined,
  data: Record<string, JsonValue | undefined>,
): EventDraft {
  return {
    ts: base.ts,
    type,
    schemaVersion: CANONICAL_EVENT_SCHEMA_VERSION,
    ...(subject === undefined ? {} : { subject }),
    source: { kind: "control-plane", name: CONTROL_PLANE_SOURCE_NAME },
    trace: base.trace ?? {},
    data: compact(data),
  };
}

/** `run.created` (status `queued`). */
export function runCreatedEvent(
  base: ControlPlaneEventBase & { runId: string; modeName: string; runtimeKind: string; runtimeVersion?: string; traceId?: string; sessionId?: string },
): EventDraft {
  return controlPlaneEvent("run.created", base, { kind: "run", id: base.runId }, {
    status: "queued",
    modeName: base.modeName,
    runtimeKind: base.runtimeKind,
    runtimeVersion: base.runtimeVersion,
    traceId: base.traceId,
    sessionId: base.sessionId,
  });
}

/** `run.started` (status `starting`). */
export function runStartedEvent(
  base: ControlPlaneEventBase & { runId: string; startedAt: string; modeName: string; runtimeKind: string; traceId?: string },
): EventDraft {
  return controlPlaneEvent("run.started", base, { kind: "run", id: base.runId }, {
    status: "starting",
    startedAt: base.startedAt,
    modeName: base.modeName,
    runtimeKind: base.runtimeKind,
    traceId: base.traceId,
  });
}

/** `session.bound`: the run is attached to its runtime session. */
export function sessionBoundEvent(
  base: ControlPlaneEventBase & {
    sessionId: string;
    initiator?: string;
    state: string;
    modeName: string;
    modeVersion?: string;
    configurationVersion?: string;
    policyVersion?: string;
    participants: readonly string[];
  },
): EventDraft {
  return controlPlaneEvent("session.bound", base, { kind: "session", id: base.sessionId }, {
    sessionId: base.sessionId,
    initiator: base.initiator,
    state: base.state,
    modeName: base.modeName,
    modeVersion: base.modeVersion,
    configurationVersion: base.configurationVersion,
    policyVersion: base.policyVersion,
    participants: [...base.participants],
  });
}

/** `participant.seen` for a declared participant (status `idle`). */
export function participantSeenEvent(
  base: ControlPlaneEventBase & { participantId: string; role?: string; transportIdentity?: string },
): EventDraft {
  return controlPlaneEvent("participant.seen", base, { kind: "participant", id: base.participantId }, {
    participantId: base.participantId,
    role: base.role,
    transportIdentity: base.transportIdentity,
    status: "idle",
  });
}

/** `session.state.changed` emitted by the control plane (e.g. `SESSION_STATE_OPEN` at `running`). */
export function sessionStateChangedEvent(base: ControlPlaneEventBase & { sessionId: string; state: string }): EventDraft {
  return controlPlaneEvent("session.state.changed", base, { kind: "session", id: base.sessionId }, { sessionId: base.sessionId, state: base.state });
}

/** The runtime's Ack of a message the control plane sent. */
export interface SendAck {
  readonly ok: boolean;
  readonly duplicate: boolean;
  readonly messageId: string;
  readonly sessionId: string;
  /** The Ack's int64 as the generated types carry it (number or bigint); stored as a number while it is a safe integer, else as its decimal string. */
  readonly acceptedAtUnixMs: number | bigint;
  readonly sessionState: string;
}

/** `message.sent`: a message the control plane sent, with the runtime's real Ack. */
export function messageSentEvent(
  base: ControlPlaneEventBase & {
    sessionId: string;
    sender: string;
    to: readonly string[];
    messageType: string;
    messageId: string;
    kind?: string;
    ack: SendAck;
    payloadDescriptor?: JsonObject;
    metadata?: JsonObject;
  },
): EventDraft {
  const subjectKind = base.messageType === "Signal" ? "signal" : "message";
  return controlPlaneEvent("message.sent", base, { kind: subjectKind, id: base.messageId }, {
    sessionId: base.sessionId,
    sender: base.sender,
    to: [...base.to],
    messageType: base.messageType,
    messageId: base.messageId,
    kind: base.kind,
    ack: { ...base.ack, acceptedAtUnixMs: int64ToJson(base.ack.acceptedAtUnixMs) },
    payloadDescriptor: base.payloadDescriptor,
    metadata: base.metadata,
  });
}

/** `message.send_failed`: a send the runtime refused or that never reached it. */
export function messageSendFailedEvent(
  base: ControlPlaneEventBase & {
    sessionId: string;
    sender: string;
    to: readonly string[];
    messageType: string;
    messageId?: string;
    errorCode: string;
    error: string;
  },
): EventDraft {
  return controlPlaneEvent("message.send_failed", base, { kind: "message", id: base.messageId ?? base.messageType }, {
    sessionId: base.sessionId,
    sender: base.sender,
    to: [...base.to],
    messageType: base.messageType,
    messageId: base.messageId,
    errorCode: base.errorCode,
    error: base.error,
  });
}

/** Fields of the terminal and pause/resume run events. */
export type RunTransitionFields = ControlPlaneEventBase & { runId: string; runtimeSessionId?: string; traceId?: string };

/** `run.completed`. */
export function runCompletedEvent(base: RunTransitionFields & { endedAt: string }): EventDraft {
  return controlPlaneEvent("run.completed", base, { kind: "run", id: base.runId }, {
    status: "completed",
    endedAt: base.endedAt,
    runtimeSessionId: base.runtimeSessionId,
    traceId: base.traceId,
  });
}

/** `run.failed` with its error text. */
export function runFailedEvent(base: RunTransitionFields & { endedAt: string; error: string }): EventDraft {
  return controlPlaneEvent("run.failed", base, { kind: "run", id: base.runId }, {
    status: "failed",
    endedAt: base.endedAt,
    runtimeSessionId: base.runtimeSessionId,
    traceId: base.traceId,
    error: base.error,
  });
}

/** `run.cancelled`. */
export function runCancelledEvent(base: RunTransitionFields & { endedAt: string; reason?: string }): EventDraft {
  return controlPlaneEvent("run.cancelled", base, { kind: "run", id: base.runId }, {
    status: "cancelled",
    endedAt: base.endedAt,
    runtimeSessionId: base.runtimeSessionId,
    traceId: base.traceId,
    reason: base.reason,
  });
}

/** `run.suspended`. */
export function runSuspendedEvent(base: RunTransitionFields & { reason?: string }): EventDraft {
  return controlPlaneEvent("run.suspended", base, { kind: "run", id: base.runId }, {
    status: "suspended",
    runtimeSessionId: base.runtimeSessionId,
    traceId: base.traceId,
    reason: base.reason,
  });
}

/** `run.resumed` (status back to `running`). */
export function runResumedEvent(base: RunTransitionFields & { reason?: string }): EventDraft {
  return controlPlaneEvent("run.resumed", base, { kind: "run", id: base.runId }, {
    status: "running",
    runtimeSessionId: base.runtimeSessionId,
    traceId: base.traceId,
    reason: base.reason,
  });
}

/** `artifact.created`. */
export function artifactCreatedEvent(
  base: ControlPlaneEventBase & { artifactId: string; kind: string; label: string; uri?: string; traceId?: string },
): EventDraft {
  return controlPlaneEvent("artifact.created", base, { kind: "artifact", id: base.artifactId }, {
    artifactId: base.artifactId,
    kind: base.kind,
    label: base.label,
    uri: base.uri,
    traceId: base.traceId,
  });
}

/** `session.stream.opened` emitted by the control plane (e.g. `recovered` after a restart). */
export function sessionStreamOpenedEvent(
  base: ControlPlaneEventBase & { sessionId: string; status: "opened" | "reconnecting" | "closed" | "recovered"; detail?: string },
): EventDraft {
  return controlPlaneEvent("session.stream.opened", base, { kind: "session", id: base.sessionId }, {
    sessionId: base.sessionId,
    status: base.status,
    detail: base.detail,
  });
}

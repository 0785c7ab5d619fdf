import { SessionLifecycleEvent_EventType, SessionState } from "@macp/protocol";
import type { Ack, Envelope, MacpError, SessionLifecycleEvent, SessionMetadata } from "@macp/protocol";
import type { KernelOutcome, LifecycleEventType, SessionInfo, SessionStatus } from "@macp/core";
import { ackError, echoId } from "./error-edge.js";

const STATE: Record<SessionStatus, SessionState> = {
  Open: SessionState.SESSION_STATE_OPEN,
  Resolved: SessionState.SESSION_STATE_RESOLVED,
  Expired: SessionState.SESSION_STATE_EXPIRED,
  Suspended: SessionState.SESSION_STATE_SUSPENDED,
  Cancelled: SessionState.SESSION_STATE_CANCELLED,
};

const EVENT: Record<LifecycleEventType, SessionLifecycleEvent_EventType> = {
  CREATED: SessionLifecycleEvent_EventType.EVENT_TYPE_CREATED,
  RESOLVED: SessionLifecycleEvent_EventType.EVENT_TYPE_RESOLVED,
  EXPIRED: SessionLifecycleEvent_EventType.EVENT_TYPE_EXPIRED,
  SUSPENDED: SessionLifecycleEvent_EventType.EVENT_TYPE_SUSPENDED,
  RESUMED: SessionLifecycleEvent_EventType.EVENT_TYPE_RESUMED,
  CANCELLED: SessionLifecycleEvent_EventType.EVENT_TYPE_CANCELLED,
};

/** Wire enum of a session status. */
export function wireState(status: SessionStatus): SessionState {
  return STATE[status];
}

/** The Ack of a kernel outcome for the envelope (or control call) that caused it. */
export function ackOf(outcome: KernelOutcome, sessionId: string, messageId: string): Ack {
  return {
    ok: outcome.ok,
    duplicate: outcome.duplicate,
    messageId: echoId(messageId),
    sessionId: echoId(sessionId),
    acceptedAtUnixMs: BigInt(outcome.atUnixMs),
    sessionState: outcome.ok && outcome.status ? wireState(outcome.status) : SessionState.SESSION_STATE_UNSPECIFIED,
    error: outcome.error ? ackError(outcome.error, sessionId, messageId) : undefined,
  };
}

/** A failed Ack for an envelope rejected before it reached the kernel. */
export function rejectionAck(error: MacpError, envelope: Envelope, now: number): Ack {
  return ackOf({ ok: false, duplicate: false, status: undefined, error, atUnixMs: now }, envelope.sessionId, envelope.messageId);
}

/** `SessionMetadata` of a live session (protocol.md §4.4). */
export function sessionMetadata(info: SessionInfo): SessionMetadata {
  const { record } = info;
  return {
    sessionId: record.sessionId,
    mode: record.mode,
    state: wireState(record.status),
    startedAtUnixMs: BigInt(record.startedAtUnixMs),
    expiresAtUnixMs: record.expiresAtUnixMs,
    modeVersion: record.modeVersion,
    configurationVersion: record.configurationVersion,
    policyVersion: record.policyVersion,
    participants: [...record.participants],
    participantActivity: [...info.activity.entries()].map(([participantId, activity]) => ({
      participantId,
      lastMessageAtUnixMs: BigInt(activity.lastMessageAtUnixMs),
      messageCount: activity.messageCount,
    })),
    initiator: record.initiator,
    contextId: record.contextId,
    extensionKeys: Object.keys(record.extensions),
  };
}

/** A lifecycle event on the wire. */
export function lifecycleEvent(
  type: LifecycleEventType,
  info: SessionInfo | undefined,
  observedAtUnixMs: number,
): SessionLifecycleEvent {
  return {
    eventType: EVENT[type],
    session: info ? sessionMetadata(info) : undefined,
    observedAtUnixMs: BigInt(observedAtUnixMs),
  };
}

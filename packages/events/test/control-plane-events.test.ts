import { describe, expect, it } from "vitest";
import {
  artifactCreatedEvent,
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
} from "../src/index.js";

const ts = "2026-12-06T08:00:00.000Z";
const runId = "0b6a5a3e-3a53-4b38-9d7c-6d2f0d3c6f01";

describe("control-plane event builders", () => {
  it("stamp source control-plane, schema version 3 and the given trace; drop absent fields", () => {
    const created = runCreatedEvent({ ts, runId, modeName: "macp.mode.decision.v1", runtimeKind: "macp", traceId: "t-1", trace: { traceId: "t-1", spanId: "sp" } });
    expect(created).toEqual({
      ts,
      type: "run.created",
      schemaVersion: 3,
      subject: { kind: "run", id: runId },
      source: { kind: "control-plane", name: "macp-control-plane" },
      trace: { traceId: "t-1", spanId: "sp" },
      data: { status: "queued", modeName: "macp.mode.decision.v1", runtimeKind: "macp", traceId: "t-1" },
    });
  });

  it("cover every synthesized type of the catalogue with its subject and status", () => {
    const cases = [
      [runStartedEvent({ ts, runId, startedAt: ts, modeName: "m", runtimeKind: "macp" }), "run.started", "run", { status: "starting", startedAt: ts }],
      [sessionBoundEvent({ ts, sessionId: "s", state: "SESSION_STATE_OPEN", modeName: "m", participants: ["a", "b"], initiator: "a" }), "session.bound", "session", { participants: ["a", "b"], initiator: "a" }],
      [participantSeenEvent({ ts, participantId: "a", role: "voter" }), "participant.seen", "participant", { participantId: "a", role: "voter", status: "idle" }],
      [sessionStateChangedEvent({ ts, sessionId: "s", state: "SESSION_STATE_OPEN" }), "session.state.changed", "session", { state: "SESSION_STATE_OPEN" }],
      [messageSentEvent({ ts, sessionId: "s", sender: "a", to: ["b"], messageType: "Signal", messageId: "m1", ack: { ok: true, duplicate: false, messageId: "m1", sessionId: "", acceptedAtUnixMs: 7, sessionState: "SESSION_STATE_UNSPECIFIED" } }), "message.sent", "signal", { to: ["b"], ack: { ok: true, acceptedAtUnixMs: 7 } }],
      [messageSendFailedEvent({ ts, sessionId: "s", sender: "a", to: [], messageType: "Proposal", errorCode: "FORBIDDEN", error: "no" }), "message.send_failed", "message", { errorCode: "FORBIDDEN" }],
      [runCompletedEvent({ ts, runId, endedAt: ts, runtimeSessionId: "s" }), "run.completed", "run", { status: "completed", runtimeSessionId: "s" }],
      [runFailedEvent({ ts, runId, endedAt: ts, error: "boom" }), "run.failed", "run", { status: "failed", error: "boom" }],
      [runCancelledEvent({ ts, runId, endedAt: ts, reason: "user" }), "run.cancelled", "run", { status: "cancelled", reason: "user" }],
      [runSuspendedEvent({ ts, runId }), "run.suspended", "run", { status: "suspended" }],
      [runResumedEvent({ ts, runId }), "run.resumed", "run", { status: "running" }],
      [artifactCreatedEvent({ ts, artifactId: "art-1", kind: "trace", label: "Root run trace", traceId: "t" }), "artifact.created", "artifact", { artifactId: "art-1", label: "Root run trace" }],
      [sessionStreamOpenedEvent({ ts, sessionId: "s", status: "recovered", detail: "after restart" }), "session.stream.opened", "session", { status: "recovered" }],
    ] as const;
    for (const [draft, type, subjectKind, data] of cases) {
      expect(draft.type).toBe(type);
      expect(draft.subject?.kind).toBe(subjectKind);
      expect(draft.data).toMatchObject(data);
      expect(draft.source.kind).toBe("control-plane");
    }
    expect(messageSendFailedEvent({ ts, sessionId: "s", sender: "a", to: [], messageType: "Proposal", errorCode: "X", error: "no" }).subject).toEqual({ kind: "message", id: "Proposal" });
  });

  it("message.sent keeps an ack time past 2^53 exact as a decimal string", () => {
    const ack = { ok: true, duplicate: false, messageId: "m1", sessionId: "s", acceptedAtUnixMs: 2n ** 63n - 1n, sessionState: "SESSION_STATE_OPEN" };
    const sent = messageSentEvent({ ts, sessionId: "s", sender: "a", to: ["b"], messageType: "Proposal", messageId: "m1", ack });
    expect(sent.data).toMatchObject({ ack: { acceptedAtUnixMs: "9223372036854775807" } });
  });
});

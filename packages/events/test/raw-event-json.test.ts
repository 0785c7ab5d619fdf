import { ModeId, SessionState, encodePayload } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import { rawEventFromJson, rawEventToJson } from "../src/index.js";
import type { RawRuntimeEvent } from "../src/index.js";
import { int64 } from "./sessions.js";

const AT = "2026-12-06T08:00:00.000Z";

describe("raw event JSON codec", () => {
  const samples: RawRuntimeEvent[] = [
    {
      kind: "stream-envelope",
      envelope: {
        macpVersion: "1.0",
        mode: ModeId.Decision,
        messageType: "Vote",
        messageId: "m-1",
        sessionId: "s-1",
        sender: "agent://a",
        timestampUnixMs: int64(1_765_000_000_000),
        payload: encodePayload(ModeId.Decision, "Vote", { proposalId: "p1", vote: "APPROVE", reason: "ok" }),
      },
      runtimeSequence: 4,
      receivedAt: AT,
    },
    { kind: "stream-inline-error", error: { code: "PolicyDenied: quorum not reached", message: "PolicyDenied: quorum not reached", sessionId: "s-1", messageId: "", details: new TextEncoder().encode('{"reasons":["quorum not reached"]}') }, receivedAt: AT },
    { kind: "stream-status", status: "reconnecting", detail: "UNAVAILABLE", receivedAt: AT },
    { kind: "stream-status", status: "opened", receivedAt: AT },
    {
      kind: "session-snapshot",
      metadata: {
        sessionId: "s-1",
        mode: ModeId.Task,
        state: SessionState.SESSION_STATE_RESOLVED,
        startedAtUnixMs: int64(1_765_000_000_000),
        expiresAtUnixMs: int64(1_765_000_060_000),
        modeVersion: "1.0.0",
        configurationVersion: "cfg-1",
        policyVersion: "",
        participants: ["agent://a", "agent://b"],
        participantActivity: [{ participantId: "agent://a", lastMessageAtUnixMs: int64(1_765_000_000_100), messageCount: 2 }],
        initiator: "agent://a",
        contextId: "",
        extensionKeys: [],
      },
      receivedAt: AT,
    },
  ];

  it("round-trips every raw kind through JSON text exactly", () => {
    for (const raw of samples) {
      const text = JSON.stringify(rawEventToJson(raw));
      expect(rawEventFromJson(JSON.parse(text))).toEqual(raw);
    }
  });

  it("names what is wrong with malformed input", () => {
    expect(() => rawEventFromJson(null)).toThrow(/not an object/);
    expect(() => rawEventFromJson({ kind: "send-ack", receivedAt: AT })).toThrow(/unknown kind "send-ack"/);
    expect(() => rawEventFromJson({ kind: "stream-status", status: "paused", receivedAt: AT })).toThrow(/"status" must be one of/);
    expect(() => rawEventFromJson({ kind: "stream-envelope", envelope: "***", runtimeSequence: 1, receivedAt: AT })).toThrow(/"envelope" must be base64/);
    expect(() => rawEventFromJson({ kind: "stream-envelope", envelope: "", runtimeSequence: -1, receivedAt: AT })).toThrow(/runtimeSequence/);
    expect(() => rawEventFromJson({ kind: "stream-status", status: "opened" })).toThrow(/"receivedAt" must be a string/);
  });
});

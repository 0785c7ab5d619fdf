import { ModeId, SessionState, encodePayload } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import {
  emptyRunState,
  foldEvents,
  normalizeContextFor,
  normalizeRawEvent,
  participantSeenEvent,
  participantsSeenIn,
  runCreatedEvent,
  sequenceEvents,
  sessionBoundEvent,
} from "../src/index.js";
import type { EventDraft, NormalizeContext, RawRuntimeEvent, RawStreamEnvelope } from "../src/index.js";
import {
  decisionScript,
  int64,
  failedTaskScript,
  handoffScript,
  multiRoundScript,
  proposalScript,
  quorumScript,
  rawStream,
  receivedAt,
  taskScript,
} from "./sessions.js";
import type { SessionScript } from "./sessions.js";

/** Normalizes a whole script the way a consumer does: known participants grow as they are seen. */
function normalizeScript(script: SessionScript, extra: Partial<NormalizeContext> = {}): EventDraft[][] {
  const known = new Set<string>();
  return rawStream(script).map((raw) => {
    const drafts = normalizeRawEvent(raw, { knownParticipants: known, declaredParticipants: script.participants, ...extra });
    for (const id of participantsSeenIn(drafts)) known.add(id);
    return drafts;
  });
}

const shape = (drafts: EventDraft[]): string[] => drafts.map((d) => `${d.type}${d.subject ? ` ${d.subject.kind}:${d.subject.id}` : ""}`);

function envelopeRaw(mode: string, messageType: string, payload: Uint8Array, sender = "agent://a", sessionId = "s-1"): RawStreamEnvelope {
  return {
    kind: "stream-envelope",
    envelope: { macpVersion: "1.0", mode, messageType, messageId: "m-x", sessionId, sender, timestampUnixMs: int64(5), payload },
    runtimeSequence: 9,
    receivedAt: receivedAt(9),
  };
}

const ctx: NormalizeContext = { knownParticipants: ["agent://a"] };

describe("normalizeRawEvent: envelopes of every mode", () => {
  it("decision: SessionStart, Proposal, Evaluation, Objection, Vote, Commitment", () => {
    const out = normalizeScript(decisionScript);
    expect(out.map(shape)).toEqual([
      ["participant.seen participant:agent://orchestrator", "message.received message:01-m0"],
      ["message.received message:01-m1", "proposal.created proposal:p1"],
      ["participant.seen participant:agent://a", "message.received message:01-m2", "proposal.updated proposal:p1"],
      ["participant.seen participant:agent://b", "message.received message:01-m3", "proposal.updated proposal:p1"],
      ["message.received message:01-m4", "proposal.updated proposal:p1"],
      ["message.received message:01-m5", "proposal.updated proposal:p1"],
      ["message.received message:01-m6", "decision.finalized decision:c1"],
    ]);
    const start = out[0]![1]!.data;
    expect(start).toMatchObject({
      modeName: ModeId.Decision,
      messageType: "SessionStart",
      sender: "agent://orchestrator",
      to: ["agent://a", "agent://b"],
      runtimeSequence: 0,
      payload: { intent: `decide for ${ModeId.Decision}`, participants: decisionScript.participants, ttlMs: 60000 },
    });
    const proposal = out[1]![1]!;
    expect(proposal.data).toMatchObject({
      payloadTypeName: "macp.modes.decision.v1.ProposalPayload",
      decodedPayload: { proposalId: "p1", option: "deploy", rationale: "ready" },
      to: ["agent://a", "agent://b"],
    });
    expect(out[2]![2]!.data["decodedPayload"]).toMatchObject({ recommendation: "APPROVE", confidence: 0.8 });
    expect(out[3]![2]!.data["decodedPayload"]).toMatchObject({ severity: "low", reason: "friday" });
    expect(out[4]![1]!.data["decodedPayload"]).toEqual({ proposalId: "p1", vote: "APPROVE", reason: "good" });
    expect(out[6]![1]!.data).toMatchObject({
      payloadTypeName: "macp.v1.CommitmentPayload",
      decodedPayload: { commitmentId: "c1", action: "decision.selected", outcomePositive: true, reason: "done" },
    });
    for (const d of out.flat()) {
      expect(d.source.kind).toBe("runtime");
      expect(d.source.name).toBe("macp-runtime");
      expect(d.schemaVersion).toBe(3);
    }
    expect(out[4]![1]!.source.rawType).toBe("Vote");
    expect(out[4]![1]!.ts).toBe(receivedAt(4));
  });

  it("proposal: Proposal and CounterProposal create, Reject, Withdraw and Accept update", () => {
    const out = normalizeScript(proposalScript).slice(1).map((d) => shape(d).filter((s) => !s.startsWith("participant.seen") && !s.startsWith("message.received")));
    expect(out).toEqual([
      ["proposal.created proposal:p1"],
      ["proposal.created proposal:p2"],
      ["proposal.updated proposal:p2"],
      ["proposal.updated proposal:p2"],
      ["proposal.updated proposal:p1"],
      ["proposal.updated proposal:p1"],
      ["decision.finalized decision:c1"],
    ]);
  });

  it("task: request, accept, update and complete, with progress on the 0–100 scale", () => {
    const out = normalizeScript(taskScript);
    expect(shape(out[1]!)).toEqual(["message.received message:03-m1", "proposal.created proposal:t1"]);
    expect(shape(out[3]!)).toEqual(["message.received message:03-m3", "proposal.updated proposal:t1", "progress.reported message:03-m3"]);
    expect(out[3]![2]!.data).toMatchObject({ sender: "agent://worker", taskId: "t1", decodedPayload: { percentage: 50, message: "compiling" } });
    expect(shape(out[4]!)).toEqual(["message.received message:03-m4", "proposal.updated proposal:t1", "progress.reported message:03-m4"]);
    expect(out[4]![2]!.data["decodedPayload"]).toEqual({ percentage: 100, message: "completed" });
    expect(out[4]![1]!.data["decodedPayload"]).toMatchObject({ output: Buffer.from('{"artifact":"bin"}').toString("base64"), summary: "done" });
  });

  it("task: TaskReject updates; TaskFail reports progress with its reason and no percentage", () => {
    const out = normalizeScript(failedTaskScript);
    expect(shape(out[3]!)).toEqual(["message.received message:04-m3", "proposal.updated proposal:t1"]);
    const fail = out[4]!;
    expect(shape(fail)).toEqual(["message.received message:04-m4", "proposal.updated proposal:t1", "progress.reported message:04-m4"]);
    expect(fail[2]!.data["decodedPayload"]).toEqual({ message: "disk full" });
    expect(fail[1]!.data["decodedPayload"]).toMatchObject({ errorCode: "E1", retryable: true });
  });

  it("handoff: the offer's recipient is its target; context bytes travel as base64", () => {
    const out = normalizeScript(handoffScript);
    expect(shape(out[1]!)).toEqual(["message.received message:05-m1", "proposal.created proposal:h1"]);
    expect(out[1]![1]!.data["to"]).toEqual(["agent://target"]);
    expect(out[2]![1]!.data["decodedPayload"]).toMatchObject({ contentType: "text/plain", context: Buffer.from("ticket 42").toString("base64") });
    expect(shape(out[3]!)).toEqual(["participant.seen participant:agent://target", "message.received message:05-m3", "proposal.updated proposal:h0"]);
    expect(shape(out[4]!)).toEqual(["message.received message:05-m4", "proposal.updated proposal:h1"]);
  });

  it("quorum: ApprovalRequest creates, Approve, Abstain and Reject update the request", () => {
    const out = normalizeScript(quorumScript);
    expect(out[1]![1]!.data).toMatchObject({ decodedPayload: { requestId: "r1", requiredApprovals: 2 }, to: ["agent://alice", "agent://bob", "agent://carol"] });
    expect(out.slice(2, 6).map((d) => d.find((e) => e.type === "proposal.updated")?.subject)).toEqual([
      { kind: "proposal", id: "r1" },
      { kind: "proposal", id: "r1" },
      { kind: "proposal", id: "r1" },
      { kind: "proposal", id: "r1" },
    ]);
    expect(out[3]!.find((e) => e.type === "proposal.updated")!.data["payloadTypeName"]).toBe("macp.modes.quorum.v1.AbstainPayload");
  });

  it("multi_round: Contribute (JSON form) updates, keyed by message id", () => {
    const out = normalizeScript(multiRoundScript);
    expect(shape(out[1]!)).toEqual(["participant.seen participant:agent://alice", "message.received message:07-m1", "proposal.updated proposal:07-m1"]);
    expect(out[1]![2]!.data["decodedPayload"]).toEqual({ value: "option_a" });
    expect(shape(out[4]!)).toEqual(["message.received message:07-m4", "decision.finalized decision:c1"]);
  });

  it("emits participant.seen only for senders not yet known, never for the runtime itself", () => {
    const raw = envelopeRaw(ModeId.Decision, "Vote", encodePayload(ModeId.Decision, "Vote", { proposalId: "p1", vote: "APPROVE" }), "agent://z");
    expect(shape(normalizeRawEvent(raw, { knownParticipants: new Set(["agent://z"]) }))[0]).toBe("message.received message:m-x");
    expect(shape(normalizeRawEvent(raw, { knownParticipants: [] }))[0]).toBe("participant.seen participant:agent://z");
    expect(shape(normalizeRawEvent(raw, { knownParticipants: (id) => id === "agent://z" }))[0]).toBe("message.received message:m-x");
    const internal = envelopeRaw(ModeId.Decision, "Signal", new Uint8Array(), "_runtime");
    expect(normalizeRawEvent(internal, { knownParticipants: [] }).some((d) => d.type === "participant.seen")).toBe(false);
  });
});

describe("normalizeRawEvent: core ambient messages", () => {
  it("Signal: signal.emitted keyed by message id, with the JSON signal data decoded", () => {
    const payload = encodePayload("", "Signal", { signalType: "risk.raised", data: new TextEncoder().encode('{"severity":"high"}'), confidence: 0.7 });
    const drafts = normalizeRawEvent(envelopeRaw("", "Signal", payload, "agent://a", ""), { ...ctx, modeName: ModeId.Decision });
    expect(shape(drafts)).toEqual(["message.received message:m-x", "signal.emitted signal:m-x"]);
    expect(drafts[1]!.data).toMatchObject({ modeName: ModeId.Decision, signalData: { severity: "high" }, decodedPayload: { signalType: "risk.raised", confidence: 0.7 } });
  });

  it("an llm.call.completed Signal yields llm.call.completed with prompt and response redacted", () => {
    const usage = { promptTokens: 120, completionTokens: 30, model: "gpt-4o", latencyMs: 900, prompt: "key sk-123456 here", response: "ok sk-999999" };
    const payload = encodePayload("", "Signal", { signalType: "llm.call.completed", data: new TextEncoder().encode(JSON.stringify(usage)) });
    const drafts = normalizeRawEvent(envelopeRaw("", "Signal", payload), { ...ctx, redactPatterns: [/sk-\d+/] });
    expect(shape(drafts)).toEqual(["message.received message:m-x", "llm.call.completed message:m-x", "signal.emitted signal:m-x"]);
    expect(drafts[1]!.data).toMatchObject({
      participantId: "agent://a",
      decodedPayload: { promptTokens: 120, completionTokens: 30, totalTokens: 150, model: "gpt-4o", latencyMs: 900, prompt: "key [REDACTED] here", response: "ok [REDACTED]" },
    });
  });

  it("Progress: exactly one progress.reported (no duplicate), scaled by total", () => {
    const payload = encodePayload("", "Progress", { progressToken: "tok", progress: 3, total: 4, message: "three of four" });
    const drafts = normalizeRawEvent(envelopeRaw(ModeId.Task, "Progress", payload), ctx);
    expect(shape(drafts)).toEqual(["message.received message:m-x", "progress.reported message:m-x"]);
    expect(drafts[1]!.data["decodedPayload"]).toMatchObject({ percentage: 75, message: "three of four", progressToken: "tok", total: 4 });
  });
});

describe("normalizeRawEvent: extension and undecodable payloads", () => {
  const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

  it("an extension mode's JSON payload is kept as an object; tool messages map to tool events", () => {
    const called = normalizeRawEvent(envelopeRaw("ext.tools.v1", "ToolCall", json({ toolCallId: "tc-1", name: "search" })), ctx);
    expect(shape(called)).toEqual(["message.received message:m-x", "tool.called tool:tc-1"]);
    expect(called[0]!.data["payload"]).toEqual({ toolCallId: "tc-1", name: "search" });
    expect(called[1]!.data["payloadTypeName"]).toBeUndefined();
    const done = normalizeRawEvent(envelopeRaw("ext.tools.v1", "toolresult", json({ tool_call_id: "tc-1" })), ctx);
    expect(shape(done)).toEqual(["message.received message:m-x", "tool.completed tool:tc-1"]);
    const other = normalizeRawEvent(envelopeRaw("ext.tools.v1", "ContextUpdate", json({ a: 1 })), ctx);
    expect(shape(other)).toEqual(["message.received message:m-x"]);
  });

  it("LLM usage inside an extension payload's metadata is reported", () => {
    const drafts = normalizeRawEvent(envelopeRaw("ext.agents.v1", "Step", json({ metadata: { tokenUsage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } } })), ctx);
    expect(shape(drafts)).toEqual(["message.received message:m-x", "llm.call.completed message:m-x"]);
    expect(drafts[1]!.data["decodedPayload"]).toEqual({ promptTokens: 5, completionTokens: 7, totalTokens: 12 });
  });

  it("a non-JSON extension payload becomes {payloadBase64}", () => {
    const drafts = normalizeRawEvent(envelopeRaw("ext.bin.v1", "Blob", Uint8Array.of(0xff, 0x00, 0x01)), ctx);
    expect(drafts[0]!.data["payload"]).toEqual({ payloadBase64: "/wAB" });
  });

  it("a payload that fails its protobuf decode becomes {payloadBase64, decodeError} and ingestion goes on", () => {
    const drafts = normalizeRawEvent(envelopeRaw(ModeId.Decision, "Vote", Uint8Array.of(0x0a, 0x05, 0x41)), ctx);
    expect(shape(drafts)).toEqual(["message.received message:m-x", "proposal.updated proposal:m-x"]);
    expect(drafts[0]!.data["payload"]).toMatchObject({ payloadBase64: "CgVB", decodeError: expect.any(String) });
    expect(drafts[1]!.data["payloadTypeName"]).toBe("macp.modes.decision.v1.VotePayload");
  });
});

describe("normalizeRawEvent: inline errors, stream status, session snapshots", () => {
  it("a PolicyDenied frame yields message.send_failed and policy.denied with the detail reasons", () => {
    const raw: RawRuntimeEvent = {
      kind: "stream-inline-error",
      error: { code: "PolicyDenied: quorum not reached; too early", message: "PolicyDenied: quorum not reached; too early", sessionId: "s-1", messageId: "", details: new TextEncoder().encode('{"reasons":["quorum not reached","too early"]}') },
      receivedAt: receivedAt(1),
    };
    const drafts = normalizeRawEvent(raw, ctx);
    expect(shape(drafts)).toEqual(["message.send_failed session:s-1", "policy.denied policy:s-1"]);
    expect(drafts[0]!.data).toMatchObject({ errorCode: "POLICY_DENIED", sessionId: "s-1", rawCode: "PolicyDenied: quorum not reached; too early" });
    expect(drafts[1]!.data["decodedPayload"]).toEqual({ decision: "deny", reasons: ["quorum not reached", "too early"] });
  });

  it("without details the reasons come from the PolicyDenied text", () => {
    const raw: RawRuntimeEvent = { kind: "stream-inline-error", error: { code: "PolicyDenied: not yet", message: "PolicyDenied: not yet", sessionId: "s-1", messageId: "m-9" }, receivedAt: receivedAt(1) };
    const drafts = normalizeRawEvent(raw, ctx);
    expect(drafts[1]!.data["decodedPayload"]).toEqual({ decision: "deny", reasons: ["not yet"] });
    expect(drafts[0]!.subject).toEqual({ kind: "message", id: "m-9" });
  });

  it("other inline errors map their variant to the registry code and emit no policy event", () => {
    const raw: RawRuntimeEvent = { kind: "stream-inline-error", error: { code: "Forbidden", message: "Forbidden", sessionId: "s-1", messageId: "" }, receivedAt: receivedAt(1) };
    const drafts = normalizeRawEvent(raw, ctx);
    expect(shape(drafts)).toEqual(["message.send_failed session:s-1"]);
    expect(drafts[0]!.data["errorCode"]).toBe("FORBIDDEN");
  });

  it("stream status becomes session.stream.opened with status and detail", () => {
    const drafts = normalizeRawEvent({ kind: "stream-status", status: "reconnecting", detail: "UNAVAILABLE: connection reset", receivedAt: receivedAt(2) }, { ...ctx, sessionId: "s-1" });
    expect(shape(drafts)).toEqual(["session.stream.opened session:s-1"]);
    expect(drafts[0]!.data).toEqual({ status: "reconnecting", detail: "UNAVAILABLE: connection reset", sessionId: "s-1" });
    expect(drafts[0]!.source.rawType).toBe("stream-status");
  });

  it("a session snapshot becomes session.state.changed, and nothing when the state is unchanged", () => {
    const raw: RawRuntimeEvent = {
      kind: "session-snapshot",
      metadata: {
        sessionId: "s-1", mode: ModeId.Task, state: SessionState.SESSION_STATE_RESOLVED, startedAtUnixMs: int64(1000), expiresAtUnixMs: int64(61000),
        modeVersion: "1.0.0", configurationVersion: "cfg-1", policyVersion: "policy.default", participants: ["agent://a"], participantActivity: [],
        initiator: "agent://a", contextId: "ctx-1", extensionKeys: ["x"],
      },
      receivedAt: receivedAt(3),
    };
    const drafts = normalizeRawEvent(raw, ctx);
    expect(shape(drafts)).toEqual(["session.state.changed session:s-1"]);
    expect(drafts[0]!.data).toMatchObject({ state: "SESSION_STATE_RESOLVED", startedAtUnixMs: 1000, expiresAtUnixMs: 61000, modeName: ModeId.Task, policyVersion: "policy.default", contextId: "ctx-1", extensionKeys: ["x"] });
    expect(normalizeRawEvent(raw, { ...ctx, sessionState: "SESSION_STATE_RESOLVED" })).toEqual([]);
  });

  it("int64 times past 2^53 keep every digit as decimal strings instead of being rounded", () => {
    const far = 2n ** 53n + 1n; // Number(far) would round to 2^53
    const snapshot: RawRuntimeEvent = {
      kind: "session-snapshot",
      metadata: {
        sessionId: "s-1", mode: ModeId.Task, state: SessionState.SESSION_STATE_OPEN, startedAtUnixMs: 1000n, expiresAtUnixMs: far,
        modeVersion: "1.0.0", configurationVersion: "cfg-1", policyVersion: "policy.default", participants: ["agent://a"], participantActivity: [],
        initiator: "agent://a", contextId: "ctx-1", extensionKeys: [],
      },
      receivedAt: receivedAt(3),
    };
    expect(normalizeRawEvent(snapshot, ctx)[0]!.data).toMatchObject({ startedAtUnixMs: 1000, expiresAtUnixMs: "9007199254740993" });
    const envelope = envelopeRaw(ModeId.Decision, "Signal", new Uint8Array());
    const received = normalizeRawEvent({ ...envelope, envelope: { ...envelope.envelope, timestampUnixMs: -far } }, ctx).find((d) => d.type === "message.received");
    expect(received!.data).toMatchObject({ timestampUnixMs: "-9007199254740993" });
  });

  it("is deterministic: the same input and context give equal drafts", () => {
    for (const script of [decisionScript, taskScript, quorumScript]) expect(normalizeScript(script)).toEqual(normalizeScript(script));
  });

  it("stamps the context's trace on every draft", () => {
    const drafts = normalizeRawEvent({ kind: "stream-status", status: "opened", receivedAt: receivedAt(0) }, { ...ctx, trace: { traceId: "t-1", spanId: "s-1" } });
    expect(drafts[0]!.trace).toEqual({ traceId: "t-1", spanId: "s-1" });
  });
});

describe("normalizeRawEvent: storable text", () => {
  it("replaces U+0000 and unpaired surrogates (refused by PostgreSQL jsonb) in payloads and fields", () => {
    const vote = encodePayload(ModeId.Decision, "Vote", { proposalId: "p1", vote: "APPROVE", reason: "nul\u0000here" });
    const drafts = normalizeRawEvent(envelopeRaw(ModeId.Decision, "Vote", vote), ctx);
    expect(drafts[1]!.data["decodedPayload"]).toMatchObject({ reason: "nul\uFFFDhere" });
    const json = new TextEncoder().encode('{"text":"lone \\ud800 and pair \\ud83d\\ude00","k\\u0000":1}');
    const ext = normalizeRawEvent(envelopeRaw("ext.x.v1", "Note", json), ctx);
    expect(ext[0]!.data["payload"]).toEqual({ text: "lone \uFFFD and pair \u{1F600}", "k\uFFFD": 1 });
    const error = normalizeRawEvent({ kind: "stream-inline-error", error: { code: "Forbidden", message: "bad\u0000", sessionId: "s", messageId: "" }, receivedAt: receivedAt(1) }, ctx);
    expect(error[0]!.data["errorMessage"]).toBe("bad\uFFFD");
  });
});

describe("normalizeContextFor", () => {
  it("takes known participants, mode, session, state and trace from the projection", () => {
    const ts = receivedAt(0);
    const runId = "0b6a5a3e-3a53-4b38-9d7c-6d2f0d3c6f01";
    const { events } = sequenceEvents({
      runId,
      rawKey: "start",
      firstSeq: 1,
      drafts: [
        runCreatedEvent({ ts, runId, modeName: ModeId.Task, runtimeKind: "macp", trace: { traceId: "t-9" } }),
        sessionBoundEvent({ ts, sessionId: "s-1", state: "SESSION_STATE_OPEN", modeName: ModeId.Task, participants: ["agent://a", "agent://b"] }),
        participantSeenEvent({ ts, participantId: "agent://a" }),
      ],
    });
    const context = normalizeContextFor(foldEvents(emptyRunState(runId), events), { redactPatterns: [/x/] });
    const known = context.knownParticipants as (id: string) => boolean;
    expect([known("agent://a"), known("agent://b"), known("agent://c")]).toEqual([true, true, false]);
    expect(context.declaredParticipants).toEqual(["agent://a", "agent://b"]);
    expect(context).toMatchObject({ modeName: ModeId.Task, sessionId: "s-1", trace: { traceId: "t-9" }, redactPatterns: [/x/] });
    expect(context.sessionState).toBeUndefined();
  });
});

describe("normalizeRawEvent: payload redaction (R-16)", () => {
  const secret = /sk-[a-z0-9]+/;
  const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

  it("with redactPayloads, every payload copy is redacted; subject ids come from the unredacted payload", () => {
    const raw = envelopeRaw("ext.tools.v1", "ToolCall", json({ toolCallId: "sk-abc", args: { key: "use sk-abc1 now" }, metadata: { llmCall: { promptTokens: 1, prompt: "sk-zzz" } } }));
    const drafts = normalizeRawEvent(raw, { ...ctx, redactPatterns: [secret], redactPayloads: true });
    expect(shape(drafts)).toEqual(["message.received message:m-x", "llm.call.completed message:m-x", "tool.called tool:sk-abc"]);
    expect(drafts[0]!.data["payload"]).toMatchObject({ toolCallId: "[REDACTED]", args: { key: "use [REDACTED] now" } });
    expect(drafts[2]!.data["decodedPayload"]).toMatchObject({ args: { key: "use [REDACTED] now" } });
    expect(drafts[1]!.data["decodedPayload"]).toMatchObject({ prompt: "[REDACTED]" });
    expect(JSON.stringify(drafts)).not.toMatch(/sk-abc1|sk-zzz/);
  });

  it("task progress text and Signal data are redacted too", () => {
    const update = encodePayload(ModeId.Task, "TaskUpdate", { taskId: "t1", status: "token sk-q1 used", progress: 0.2 });
    const drafts = normalizeRawEvent(envelopeRaw(ModeId.Task, "TaskUpdate", update), { ...ctx, redactPatterns: [secret], redactPayloads: true });
    expect(drafts.at(-1)!.data["decodedPayload"]).toEqual({ percentage: 20, message: "token [REDACTED] used" });
    const signal = encodePayload("", "Signal", { signalType: "x", data: json({ note: "sk-s1" }) });
    const sig = normalizeRawEvent(envelopeRaw("", "Signal", signal), { ...ctx, redactPatterns: [secret], redactPayloads: true });
    expect(sig.at(-1)!.data["signalData"]).toEqual({ note: "[REDACTED]" });
  });

  it("without redactPayloads only the LLM prompt and response are redacted (the reference's scope)", () => {
    const raw = envelopeRaw("ext.x.v1", "Step", json({ note: "sk-n1", llmCall: { promptTokens: 1, response: "sk-r1" } }));
    const drafts = normalizeRawEvent(raw, { ...ctx, redactPatterns: [secret] });
    expect(drafts[0]!.data["payload"]).toMatchObject({ note: "sk-n1" });
    expect(drafts[1]!.data["decodedPayload"]).toMatchObject({ response: "[REDACTED]" });
  });
});

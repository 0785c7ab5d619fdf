import { CoreMessageType, RUNTIME_SENDER, SessionState } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { createsProposal, derivedEventOf, firstStringField } from "./derived-event.js";
import { CANONICAL_EVENT_SCHEMA_VERSION, RUNTIME_SOURCE_NAME } from "./event-types.js";
import type { CanonicalEventType, EventDraft, EventSubject, EventTrace } from "./event-types.js";
import { inlineErrorCode, policyDenyReasons } from "./inline-error.js";
import { fromBase64, int64ToJson, mapStrings, storableText, toJsonValue } from "./json.js";
import type { JsonObject, JsonValue } from "./json.js";
import { llmUsageOf, redactText } from "./llm-usage.js";
import { payloadToJson } from "./payload-json.js";
import type { RawRuntimeEvent, RawSessionSnapshot, RawStreamEnvelope, RawStreamInlineError, RawStreamStatus } from "./raw-event.js";
import type { RunStateProjection } from "./run-state.js";

/** What the normalizer knows about the run besides the raw event itself. */
export interface NormalizeContext {
  /** Participants for which a `participant.seen` already exists (e.g. the projection's participants). */
  readonly knownParticipants: ReadonlySet<string> | readonly string[] | ((participantId: string) => boolean);
  /** The run's mode, used when an envelope carries none (ambient Signal/Progress). */
  readonly modeName?: string;
  /** The run's runtime session id: the subject of stream-status events. */
  readonly sessionId?: string;
  /** The run's declared participants: the inferred recipients of proposals. */
  readonly declaredParticipants?: readonly string[];
  /** Last known session state name (`SESSION_STATE_OPEN`, …); an unchanged snapshot emits nothing. */
  readonly sessionState?: string;
  /** Patterns redacted from LLM prompt and response text (`MACP_REDACT_PATTERNS`). */
  readonly redactPatterns?: readonly RegExp[];
  /**
   * Also redact `redactPatterns` from every text of the decoded payload copies (`payload`,
   * `decodedPayload`, `signalData`, progress messages) before they are stored. Subject ids
   * are taken from the unredacted payload so events still group correctly.
   */
  readonly redactPayloads?: boolean;
  /** Trace correlation stamped on every draft (e.g. the run's lifecycle span). */
  readonly trace?: EventTrace;
}

/** The name of a `SessionState` value, e.g. `SESSION_STATE_RESOLVED`. */
export function sessionStateName(state: SessionState): string {
  return SessionState[state] ?? "SESSION_STATE_UNSPECIFIED";
}

function draft(
  ts: string,
  type: CanonicalEventType,
  rawType: string,
  subject: EventSubject | undefined,
  data: JsonObject,
  context: NormalizeContext,
): EventDraft {
  // Every text that came from the runtime passes through toJsonValue/storableText once here.
  return {
    ts,
    type,
    schemaVersion: CANONICAL_EVENT_SCHEMA_VERSION,
    ...(subject === undefined ? {} : { subject: { kind: subject.kind, id: storableText(subject.id) } }),
    source: { kind: "runtime", name: RUNTIME_SOURCE_NAME, rawType: storableText(rawType) },
    trace: context.trace ?? {},
    data: toJsonValue(data) as JsonObject,
  };
}

function isKnown(context: NormalizeContext, participant: string): boolean {
  const known = context.knownParticipants;
  if (typeof known === "function") return known(participant);
  return known instanceof Set ? known.has(participant) : (known as readonly string[]).includes(participant);
}

/**
 * A 0–100 percentage: fractions (0 ≤ p ≤ 1) are scaled by 100, larger values are taken as
 * percentages already (capped at 100) — every source ends up on one scale (the reference mixed
 * 0.5 and 100 in one list).
 */
export function toPercentage(progress: number, total?: number): number {
  if (!Number.isFinite(progress) || progress < 0) return 0;
  if (total !== undefined && Number.isFinite(total) && total > 0) return Math.min(100, (progress / total) * 100);
  return Math.min(100, progress <= 1 ? progress * 100 : progress);
}

function numberOf(value: JsonValue | undefined): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function textOf(value: JsonValue | undefined): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function jsonFromBase64(value: JsonValue | undefined): JsonValue | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const bytes = fromBase64(value);
  if (bytes === undefined) return undefined;
  try {
    return toJsonValue(JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)));
  } catch {
    return undefined;
  }
}

function recipientsOf(envelope: Envelope, payload: JsonObject, context: NormalizeContext): string[] | undefined {
  const others = (list: readonly JsonValue[]): string[] =>
    list.filter((p): p is string => typeof p === "string" && p !== "" && p !== envelope.sender);
  if (envelope.messageType === CoreMessageType.SessionStart) {
    const declared = payload["participants"];
    return Array.isArray(declared) ? others(declared) : undefined;
  }
  if (envelope.messageType === "HandoffOffer") {
    const target = textOf(payload["targetParticipant"]);
    if (target !== undefined) return [target];
  }
  if (createsProposal(envelope.messageType) && context.declaredParticipants !== undefined) {
    return others(context.declaredParticipants);
  }
  return undefined;
}

/** Progress the reference derives from task messages: `[percentage, message]` or `undefined`. */
function taskProgress(messageType: string, payload: JsonObject): [number | undefined, string] | undefined {
  switch (messageType) {
    case "TaskUpdate":
      return [toPercentage(numberOf(payload["progress"]) ?? 0), textOf(payload["status"]) ?? textOf(payload["message"]) ?? "in progress"];
    case "TaskComplete":
      return [100, "completed"];
    case "TaskFail":
      return [undefined, textOf(payload["reason"]) ?? "failed"];
    default:
      return undefined;
  }
}

function progressPayload(payload: JsonObject): JsonObject {
  const out: JsonObject = { percentage: toPercentage(numberOf(payload["progress"]) ?? 0, numberOf(payload["total"])) };
  const message = textOf(payload["message"]);
  const token = textOf(payload["progressToken"]);
  const total = numberOf(payload["total"]);
  if (message !== undefined) out["message"] = message;
  if (token !== undefined) out["progressToken"] = token;
  if (total !== undefined && total > 0) out["total"] = total;
  return out;
}

function normalizeEnvelope(raw: RawStreamEnvelope, context: NormalizeContext): EventDraft[] {
  const { envelope, receivedAt: ts } = raw;
  const messageType = envelope.messageType;
  const modeName = envelope.mode !== "" ? envelope.mode : (context.modeName ?? "");
  const { payload, payloadTypeName } = payloadToJson(modeName, messageType, envelope.payload);
  const patterns = context.redactPatterns ?? [];
  const base: JsonObject = { modeName, messageType, messageId: envelope.messageId, sessionId: envelope.sessionId, sender: envelope.sender };
  const drafts: EventDraft[] = [];
  const add = (type: CanonicalEventType, subject: EventSubject | undefined, data: JsonObject): void => {
    drafts.push(draft(ts, type, messageType, subject, data, context));
  };

  if (envelope.sender !== "" && envelope.sender !== RUNTIME_SENDER && !isKnown(context, envelope.sender)) {
    add("participant.seen", { kind: "participant", id: envelope.sender }, { participantId: envelope.sender });
  }

  const scrub = <T extends JsonValue>(value: T): T =>
    context.redactPayloads === true && patterns.length > 0 ? (mapStrings(value, (text) => redactText(text, patterns)) as T) : value;
  const received: JsonObject = {
    ...base,
    payload: scrub(payload),
    timestampUnixMs: int64ToJson(envelope.timestampUnixMs),
    runtimeSequence: raw.runtimeSequence,
  };
  const recipients = recipientsOf(envelope, payload, context);
  if (recipients !== undefined) received["to"] = recipients;
  add("message.received", { kind: "message", id: envelope.messageId }, received);

  const signalType = messageType === CoreMessageType.Signal ? textOf(payload["signalType"]) : undefined;
  const signalData = messageType === CoreMessageType.Signal ? jsonFromBase64(payload["data"]) : undefined;
  const usage = llmUsageOf(payload, signalType === "llm.call.completed" ? signalData : undefined, patterns);
  if (usage !== undefined) {
    add("llm.call.completed", { kind: "message", id: envelope.messageId }, { ...base, participantId: envelope.sender, decodedPayload: usage });
  }

  const derived = derivedEventOf(messageType, envelope.messageId, payload);
  if (derived !== undefined) {
    const data: JsonObject = {
      ...base,
      decodedPayload: scrub(messageType === CoreMessageType.Progress ? { ...payload, ...progressPayload(payload) } : payload),
    };
    if (payloadTypeName !== undefined) data["payloadTypeName"] = payloadTypeName;
    if (signalData !== undefined) data["signalData"] = scrub(signalData);
    if (derived.type === "proposal.created" && recipients !== undefined) data["to"] = recipients;
    add(derived.type, derived.subject, data);
  }

  const progress = taskProgress(messageType, payload);
  if (progress !== undefined) {
    const [percentage, message] = progress;
    const decodedPayload = scrub<JsonObject>(percentage === undefined ? { message } : { percentage, message });
    const taskId = firstStringField(payload, ["taskId"]);
    add("progress.reported", { kind: "message", id: envelope.messageId }, { ...base, ...(taskId === undefined ? {} : { taskId }), decodedPayload });
  }
  return drafts;
}

function normalizeInlineError(raw: RawStreamInlineError, context: NormalizeContext): EventDraft[] {
  const { error, receivedAt: ts } = raw;
  const errorCode = inlineErrorCode(error.code);
  const subject: EventSubject | undefined =
    error.messageId !== "" ? { kind: "message", id: error.messageId } : error.sessionId !== "" ? { kind: "session", id: error.sessionId } : undefined;
  const base: JsonObject = { errorCode, errorMessage: error.message, sessionId: error.sessionId, messageId: error.messageId, rawCode: error.code };
  const drafts = [draft(ts, "message.send_failed", raw.kind, subject, base, context)];
  if (errorCode === "POLICY_DENIED") {
    const reasons = policyDenyReasons(error.code, error.message, error.details);
    drafts.push(
      draft(ts, "policy.denied", raw.kind, { kind: "policy", id: error.sessionId || error.messageId || "policy" }, { ...base, decodedPayload: { decision: "deny", reasons } }, context),
    );
  }
  return drafts;
}

function normalizeStatus(raw: RawStreamStatus, context: NormalizeContext): EventDraft[] {
  const subject: EventSubject | undefined = context.sessionId === undefined ? undefined : { kind: "session", id: context.sessionId };
  const data: JsonObject = { status: raw.status };
  if (raw.detail !== undefined) data["detail"] = raw.detail;
  if (context.sessionId !== undefined) data["sessionId"] = context.sessionId;
  return [draft(raw.receivedAt, "session.stream.opened", raw.kind, subject, data, context)];
}

function normalizeSnapshot(raw: RawSessionSnapshot, context: NormalizeContext): EventDraft[] {
  const m = raw.metadata;
  const state = sessionStateName(m.state);
  if (state === context.sessionState) return [];
  const data: JsonObject = {
    sessionId: m.sessionId,
    state,
    startedAtUnixMs: int64ToJson(m.startedAtUnixMs),
    expiresAtUnixMs: int64ToJson(m.expiresAtUnixMs),
    modeName: m.mode,
    modeVersion: m.modeVersion,
    configurationVersion: m.configurationVersion,
    policyVersion: m.policyVersion,
    initiator: m.initiator,
    participants: [...m.participants],
    contextId: m.contextId,
    extensionKeys: [...m.extensionKeys],
  };
  return [draft(raw.receivedAt, "session.state.changed", raw.kind, { kind: "session", id: m.sessionId }, data, context)];
}

/**
 * Turns one raw runtime event into canonical event drafts, in the order of control-plane.md §3.2,
 * deterministically (same input and context → same drafts). It never throws on runtime data: an
 * undecodable payload becomes `{payloadBase64, decodeError}`. Differences from the reference:
 * no duplicate `progress.reported`/`policy.*` events for `Progress` and `Policy*` messages (G-7),
 * task and handoff ids are proposal subject ids, task progress is on the 0–100 scale, and an
 * unchanged session snapshot emits nothing.
 */
export function normalizeRawEvent(raw: RawRuntimeEvent, context: NormalizeContext): EventDraft[] {
  switch (raw.kind) {
    case "stream-envelope":
      return normalizeEnvelope(raw, context);
    case "stream-inline-error":
      return normalizeInlineError(raw, context);
    case "stream-status":
      return normalizeStatus(raw, context);
    case "session-snapshot":
      return normalizeSnapshot(raw, context);
  }
}

/** The sender ids that `drafts` announce with `participant.seen` (to extend `knownParticipants`). */
export function participantsSeenIn(drafts: readonly EventDraft[]): string[] {
  return drafts.flatMap((d) => {
    const id = d.type === "participant.seen" ? d.data["participantId"] : undefined;
    return typeof id === "string" ? [id] : [];
  });
}

/**
 * The normalizer context a consumer holding the run's projection should use: participants known
 * to the projection, its mode, session id and last session state, and its trace id.
 */
export function normalizeContextFor(
  state: RunStateProjection,
  options: { readonly redactPatterns?: readonly RegExp[]; readonly redactPayloads?: boolean; readonly trace?: EventTrace } = {},
): NormalizeContext {
  const participants = state.participants;
  const trace = options.trace ?? (state.trace.traceId === undefined ? undefined : { traceId: state.trace.traceId });
  return {
    // One lookup per envelope: scanning is cheaper than building a Set of every participant.
    knownParticipants: (id) => participants.some((p) => p.participantId === id),
    declaredParticipants: participants.map((p) => p.participantId),
    ...(state.run.modeName === undefined ? {} : { modeName: state.run.modeName }),
    ...(state.run.runtimeSessionId === undefined ? {} : { sessionId: state.run.runtimeSessionId }),
    ...(state.run.sessionState === undefined ? {} : { sessionState: state.run.sessionState }),
    ...(options.redactPatterns === undefined ? {} : { redactPatterns: options.redactPatterns }),
    ...(options.redactPayloads === undefined ? {} : { redactPayloads: options.redactPayloads }),
    ...(trace === undefined ? {} : { trace }),
  };
}

import {
  CoreMessageType,
  INT64_MAX,
  MAX_PARTICIPANTS,
  MAX_SUSPEND_MS,
  MAX_TTL_MS,
  MacpError,
  SessionResumePayload,
  decodeSessionStart,
  identifierLengthError,
  isBlank,
  trimWhiteSpace,
} from "@macp/protocol";
import type { SessionStartPayload } from "@macp/protocol";
import type { PolicyDefinition } from "@macp/policy";
import type { ModeEnvelope, SessionView } from "@macp/modes";
import type { ModeEntryView, ModeLookup } from "./mode-lookup.js";
import type { LogEntry } from "./session-store.js";
import { base64ToBytes, bytesToBase64 } from "./session-record.js";
import type { SessionRecord, SessionReplayState } from "./session-record.js";

/** Runtime-internal log record carrying the policy bound at SessionStart, so replay never re-resolves it. */
export const POLICY_BINDING_TYPE = "PolicyBinding";

/** The mode-facing view of a session. */
export function sessionView(record: SessionRecord): SessionView {
  return {
    sessionId: record.sessionId,
    mode: record.mode,
    initiator: record.initiator,
    participants: record.participants,
    modeVersion: record.modeVersion,
    configurationVersion: record.configurationVersion,
    policyVersion: record.policyVersion,
    policy: record.policy,
    ttlMs: record.ttlMs,
  };
}

/**
 * Checks a SessionStart payload against the mode's registration (protocol.md §2.1 steps 4–7) and
 * returns it decoded. Strict modes get the canonical validation.
 */
export function validateSessionStart(entry: ModeEntryView, payloadBytes: Uint8Array): SessionStartPayload {
  const payload = decodeSessionStart(payloadBytes);
  if (entry.strict) {
    checkTtl(payload.ttlMs);
    if (isBlank(payload.modeVersion)) throw new MacpError("InvalidPayload", "mode_version must not be blank");
    if (isBlank(payload.configurationVersion)) {
      throw new MacpError("InvalidPayload", "configuration_version must not be blank");
    }
    if (payload.participants.length === 0) throw new MacpError("InvalidPayload", "participants must not be empty");
    if (payload.participants.length > MAX_PARTICIPANTS) {
      throw new MacpError("InvalidPayload", `at most ${MAX_PARTICIPANTS} participants are allowed`);
    }
    const seen = new Set<string>();
    for (const participant of payload.participants) {
      const trimmed = trimWhiteSpace(participant);
      if (trimmed === "") throw new MacpError("InvalidPayload", "participants must not be blank");
      if (seen.has(trimmed)) throw new MacpError("InvalidPayload", `duplicate participant '${trimmed}'`);
      seen.add(trimmed);
    }
  }
  const tooLong = sessionStartLimitError(payload);
  if (tooLong) throw tooLong;
  const boundVersion = entry.descriptor.modeVersion;
  if (boundVersion !== "" && payload.modeVersion !== "" && payload.modeVersion !== boundVersion) {
    throw new MacpError("InvalidEnvelope", `mode_version must be '${boundVersion}'`);
  }
  checkTtl(payload.ttlMs);
  return payload;
}

/** The first client-chosen identifier of a SessionStart payload over its limit, strict mode or not. */
function sessionStartLimitError(payload: SessionStartPayload): MacpError | undefined {
  for (const participant of payload.participants) {
    const error = identifierLengthError("agentId", "participant", participant, "InvalidPayload");
    if (error) return error;
  }
  return (
    identifierLengthError("policyId", "policy_version", payload.policyVersion, "InvalidPayload") ??
    identifierLengthError("version", "mode_version", payload.modeVersion, "InvalidPayload") ??
    identifierLengthError("version", "configuration_version", payload.configurationVersion, "InvalidPayload") ??
    identifierLengthError("contextId", "context_id", payload.contextId, "InvalidPayload")
  );
}

function checkTtl(ttlMs: bigint): void {
  if (ttlMs < 1n || ttlMs > BigInt(MAX_TTL_MS)) {
    throw new MacpError("InvalidTtl", `ttl_ms must be between 1 and ${MAX_TTL_MS}`);
  }
}

/** `a + b` clamped to i64::MAX, as the reference's `saturating_add` (deadlines of huge client timestamps). */
function saturatingAdd(a: bigint, b: bigint): bigint {
  const sum = a + b;
  return sum > INT64_MAX ? INT64_MAX : sum;
}

/** Inputs of a session's birth, identical in the live path and in replay. */
export interface SessionBirth {
  readonly entry: LogEntry;
  readonly payload: SessionStartPayload;
  readonly policyVersion: string;
  readonly policy: PolicyDefinition | null;
}

/** Builds a new session from an accepted SessionStart and runs the mode's start rule. */
export function createSession(modeEntry: ModeEntryView, birth: SessionBirth): SessionRecord {
  const { entry, payload } = birth;
  const base = entry.timestampUnixMs > 0n ? entry.timestampUnixMs : BigInt(entry.receivedAtUnixMs);
  const extensions: Record<string, string> = {};
  for (const key of Object.keys(payload.extensions).sort()) {
    extensions[key] = bytesToBase64(payload.extensions[key] ?? new Uint8Array());
  }
  const record: SessionRecord = {
    sessionId: entry.sessionId,
    mode: entry.mode,
    status: "Open",
    initiator: entry.sender,
    participants: [...payload.participants],
    intent: payload.intent,
    modeVersion: payload.modeVersion,
    configurationVersion: payload.configurationVersion,
    policyVersion: birth.policyVersion,
    policy: birth.policy,
    // Checked to lie in [1, MAX_TTL_MS] when the start was accepted.
    ttlMs: Number(payload.ttlMs),
    startedAtUnixMs: entry.receivedAtUnixMs,
    expiresAtUnixMs: saturatingAdd(base, payload.ttlMs),
    contextId: payload.contextId,
    extensions,
    roots: payload.roots.map((root) => ({ uri: root.uri, name: root.name })),
    modeState: null,
    resolution: null,
    lastSeq: entry.seq,
    logLength: 0,
    suspendedAtUnixMs: null,
    accumulatedSuspendedMs: 0,
  };
  const outcome = modeEntry.handler.start(sessionView(record), payload);
  if (outcome.kind === "rejected") throw outcome.error;
  return { ...record, modeState: outcome.state };
}

/** The mode-facing envelope of a log record. */
export function modeEnvelope(entry: LogEntry): ModeEnvelope {
  return {
    messageType: entry.messageType,
    messageId: entry.messageId,
    sender: entry.sender,
    timestampUnixMs: entry.timestampUnixMs,
    payload: entry.payload,
  };
}

/**
 * Runs a session message through its mode (authorization, then payload rules) and returns the
 * session as it would be once the message is accepted. Throws the mode's MacpError on rejection;
 * the input is never modified.
 */
export function applyMessage(modeEntry: ModeEntryView, record: SessionRecord, entry: LogEntry): SessionRecord {
  const outcome = modeEntry.handler.apply(sessionView(record), record.modeState, modeEnvelope(entry));
  if (outcome.kind === "rejected") throw outcome.error;
  const resolved = outcome.resolution !== undefined;
  return {
    ...record,
    modeState: outcome.state,
    status: resolved ? "Resolved" : record.status,
    resolution: resolved ? bytesToBase64(outcome.resolution ?? new Uint8Array()) : record.resolution,
    lastSeq: entry.seq,
  };
}

/** Applies a runtime-internal record (expiry, cancel, suspend, resume) to a session. */
export function applyInternal(record: SessionRecord, entry: LogEntry): SessionRecord {
  switch (entry.messageType) {
    case CoreMessageType.TtlExpired:
      return { ...record, status: "Expired", suspendedAtUnixMs: null };
    case CoreMessageType.SessionCancel:
      return { ...record, status: "Cancelled", suspendedAtUnixMs: null };
    case CoreMessageType.SessionSuspend:
      return { ...record, status: "Suspended", suspendedAtUnixMs: entry.receivedAtUnixMs };
    case CoreMessageType.SessionResume: {
      // The runtime wrote this from its own clock: a duration far below 2^53.
      const banked = Number(SessionResumePayload.decode(entry.payload).bankedMs);
      const accumulated = record.accumulatedSuspendedMs + banked;
      if (accumulated > MAX_SUSPEND_MS) {
        return { ...record, status: "Expired", suspendedAtUnixMs: null, accumulatedSuspendedMs: accumulated };
      }
      return {
        ...record,
        status: "Open",
        suspendedAtUnixMs: null,
        accumulatedSuspendedMs: accumulated,
        expiresAtUnixMs: saturatingAdd(record.expiresAtUnixMs, BigInt(banked)),
      };
    }
    default:
      return record;
  }
}

/** Resolves the policy recorded by a PolicyBinding record. */
export function policyFromBinding(entry: LogEntry): PolicyDefinition | null {
  const text = new TextDecoder().decode(entry.payload);
  return text === "" ? null : (JSON.parse(text) as PolicyDefinition);
}

/** Encodes a bound policy as a PolicyBinding payload. */
export function bindingPayload(policy: PolicyDefinition | null): Uint8Array {
  return new TextEncoder().encode(policy === null ? "" : JSON.stringify(policy));
}

/**
 * Rebuilds a session from its log: from `initial` (a snapshot covering the first
 * `initial.record.logLength` records) or from the SessionStart. Uses only what the log recorded —
 * receive times, the bound policy — never a clock or the current policy registry.
 */
export function replayLog(modes: ModeLookup, entries: readonly LogEntry[], initial?: SessionReplayState): SessionReplayState {
  let record: SessionRecord;
  let index: number;
  const seen = new Set<string>();
  const seenOrder: string[] = [];
  const remember = (id: string): void => {
    if (!seen.has(id)) {
      seen.add(id);
      seenOrder.push(id);
    }
  };
  if (initial) {
    record = initial.record;
    index = initial.record.logLength;
    initial.seenMessageIds.forEach(remember);
  } else {
    const start = entries[0];
    if (!start || start.kind !== "incoming" || start.messageType !== CoreMessageType.SessionStart) {
      throw new MacpError("InvalidModeState", "log does not begin with a SessionStart");
    }
    const modeEntry = modes.get(start.mode);
    if (!modeEntry) throw new MacpError("UnknownMode", `mode '${start.mode}' is not registered`);
    // The start was validated when it was accepted; re-judging it against today's registration
    // (a promotion makes a mode strict) would make accepted history unreplayable.
    const payload = decodeSessionStart(start.payload);
    const binding = entries[1];
    const policy = binding?.messageType === POLICY_BINDING_TYPE ? policyFromBinding(binding) : null;
    record = createSession(modeEntry, {
      entry: start,
      payload,
      policyVersion: policy?.policyId ?? payload.policyVersion,
      policy,
    });
    remember(start.messageId);
    index = binding?.messageType === POLICY_BINDING_TYPE ? 2 : 1;
  }
  for (; index < entries.length; index++) {
    const entry = entries[index];
    if (!entry) break;
    if (entry.kind === "incoming") {
      // The live path never accepts an id twice; a repeat in the log is an ambiguous commit that
      // was retried, and the first copy is the one that counts.
      if (seen.has(entry.messageId)) continue;
      if (record.status === "Open") {
        const modeEntry = modes.get(record.mode);
        if (!modeEntry) throw new MacpError("UnknownMode", `mode '${record.mode}' is not registered`);
        record = applyMessage(modeEntry, record, entry);
      } else {
        record = { ...record, lastSeq: entry.seq };
      }
      remember(entry.messageId);
    } else if (entry.kind === "internal") {
      record = applyInternal(record, entry);
    }
  }
  return { record: { ...record, logLength: entries.length }, seenMessageIds: seenOrder };
}

/** Decodes a base64 resolution back to bytes. */
export function resolutionBytes(record: SessionRecord): Uint8Array | undefined {
  return record.resolution === null ? undefined : base64ToBytes(record.resolution);
}

import { CommitmentPayload, MacpError } from "@macp/protocol";
import { DEFAULT_POLICY, type JsonValue, type PolicyDefinition } from "@macp/policy";
import { expect } from "vitest";
import type { ModeEnvelope, ModeHandler, ModeOutcome, SessionView } from "../src/index.js";

/** A custom policy bound under `policyId` with the given rules. */
export function customPolicy(rules: JsonValue, schemaVersion = 1, policyId = "policy.custom"): PolicyDefinition {
  return { policyId, mode: "*", description: "test policy", rules, schemaVersion };
}

/** A live session view; `policy` defaults to `policy.default`. */
export function sessionView(
  mode: string,
  initiator: string,
  participants: readonly string[],
  policy: PolicyDefinition | null = DEFAULT_POLICY,
): SessionView {
  return {
    sessionId: "s-1",
    mode,
    initiator,
    participants,
    modeVersion: "1.0.0",
    configurationVersion: "cfg-1",
    policyVersion: policy === null ? "" : policy.policyId,
    policy,
    ttlMs: 60_000,
  };
}

/** A valid Commitment for a session on `policy.default`, with overrides. */
export function commitmentBytes(overrides: Partial<CommitmentPayload> = {}): Uint8Array {
  return CommitmentPayload.encode({
    commitmentId: "c1",
    action: "deploy",
    authorityScope: "test",
    reason: "done",
    modeVersion: "1.0.0",
    policyVersion: "policy.default",
    configurationVersion: "cfg-1",
    outcomePositive: true,
    supersedes: undefined,
    ...overrides,
  }).finish();
}

let nextMessage = 0;

/** An envelope as the kernel hands it to a mode. */
export function envelope(
  messageType: string,
  sender: string,
  payload: Uint8Array,
  timestampUnixMs: number | bigint = 1_000,
): ModeEnvelope {
  nextMessage += 1;
  return { messageType, messageId: `m${nextMessage}`, sender, timestampUnixMs: BigInt(timestampUnixMs), payload };
}

/** The state of an accepted outcome (fails the test otherwise). */
export function acceptedState(outcome: ModeOutcome): JsonValue {
  if (outcome.kind !== "accepted") throw new Error(`expected accept, got ${outcome.error.code} ${outcome.error.message}`);
  return outcome.state;
}

/** The error of a rejected outcome (fails the test otherwise). */
export function rejectedError(outcome: ModeOutcome): MacpError {
  if (outcome.kind !== "rejected") throw new Error(`expected reject, got accept with state ${JSON.stringify(outcome.state)}`);
  return outcome.error;
}

/** One step of a scripted session: a message and its expected outcome. */
export interface Step {
  readonly type: string;
  readonly sender: string;
  readonly payload: Uint8Array;
  readonly timestamp?: number | bigint;
}

/** Starts a session and applies every step, all of which must be accepted; returns the final state. */
export function run(handler: ModeHandler, session: SessionView, steps: readonly Step[]): JsonValue {
  let state = acceptedState(handler.start(session, startPayload(session)));
  for (const step of steps) {
    state = acceptedState(handler.apply(session, state, envelope(step.type, step.sender, step.payload, step.timestamp)));
  }
  return state;
}

/** The SessionStart payload that produced `session`. */
export function startPayload(session: SessionView) {
  return {
    intent: "test",
    participants: [...session.participants],
    modeVersion: session.modeVersion,
    configurationVersion: session.configurationVersion,
    policyVersion: session.policyVersion,
    ttlMs: BigInt(session.ttlMs),
    roots: [],
    contextId: "",
    extensions: {},
  };
}

/** Asserts a rejection with the exact wire code and internal variant. */
export function expectRejected(outcome: ModeOutcome, code: string, variant: string): MacpError {
  const error = rejectedError(outcome);
  expect({ code: error.code, variant: error.variant }).toEqual({ code, variant });
  return error;
}

/** Deep copy used to prove a handler never mutates its input state. */
export function frozenCopy(value: JsonValue): JsonValue {
  const copy = JSON.parse(JSON.stringify(value)) as JsonValue;
  return deepFreeze(copy);
}

function deepFreeze(value: JsonValue): JsonValue {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

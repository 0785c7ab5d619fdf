import { CommitmentPayload, DEFAULT_POLICY_ID, encodePayloadJson } from "@macp/protocol";
import { DEFAULT_POLICY, type JsonValue } from "@macp/policy";
import { readConformanceVector } from "@macp/test-support";
import { expect } from "vitest";
import type { ModeHandler, SessionView } from "../src/index.js";
import { envelope, startPayload } from "./mode-test-kit.js";

interface VectorMessage {
  readonly sender: string;
  readonly message_type: string;
  readonly payload: Record<string, unknown>;
  readonly expect: "accept" | "reject";
  readonly expected_error_code?: string;
}

/** A conformance vector (spec/conformance/README.md). */
export interface Vector {
  readonly mode: string;
  readonly initiator: string;
  readonly participants: string[];
  readonly mode_version: string;
  readonly configuration_version: string;
  readonly policy_version: string;
  readonly ttl_ms: number;
  readonly policy?: { policy_id: string; mode: string; description?: string; rules: JsonValue; schema_version: number };
  readonly messages: VectorMessage[];
  readonly expected_final_state: string;
  readonly expected_resolution?: Record<string, unknown>;
  readonly expected_mode_state?: JsonValue;
  readonly expect_resolution_present?: boolean;
}

/** Reads a vector from the repository's copy of the canonical set (never edited). */
export function loadVector(name: string): Vector {
  return readConformanceVector<Vector>(name);
}

/**
 * The reference runtime's vendored copy of a vector (§15.3): Commitments echo `policy.default`
 * literally and votes are lower-case. Both copies must pass.
 */
export function runtimeCopy(vector: Vector): Vector {
  return {
    ...vector,
    messages: vector.messages.map((message) => {
      if (message.message_type === "Commitment" && message.payload.policy_version === "" && vector.policy === undefined) {
        return { ...message, payload: { ...message.payload, policy_version: DEFAULT_POLICY_ID } };
      }
      if (message.message_type === "Vote" && typeof message.payload.vote === "string") {
        return { ...message, payload: { ...message.payload, vote: message.payload.vote.toLowerCase() } };
      }
      return message;
    }),
  };
}

function sessionOf(vector: Vector): SessionView {
  const policy =
    vector.policy === undefined
      ? DEFAULT_POLICY
      : {
          policyId: vector.policy.policy_id,
          mode: vector.policy.mode,
          description: vector.policy.description ?? "",
          rules: vector.policy.rules,
          schemaVersion: vector.policy.schema_version,
        };
  return {
    sessionId: "conformance",
    mode: vector.mode,
    initiator: vector.initiator,
    participants: vector.participants,
    modeVersion: vector.mode_version,
    configurationVersion: vector.configuration_version,
    policyVersion: vector.policy_version === "" ? DEFAULT_POLICY_ID : vector.policy_version,
    policy,
    ttlMs: vector.ttl_ms,
  };
}

function payloadOf(vector: Vector, message: VectorMessage): Uint8Array {
  // §15.1: the harness defaults a Commitment's outcome_positive to true.
  const json =
    message.message_type === "Commitment" && !("outcome_positive" in message.payload)
      ? { ...message.payload, outcome_positive: true }
      : message.payload;
  return encodePayloadJson(vector.mode, message.message_type, json);
}

/** "actual contains expected" (§4): keys recursively, arrays on the expected prefix. */
export function containmentMismatch(actual: unknown, expected: unknown, path = "$"): string | undefined {
  if (expected === null || typeof expected !== "object") {
    return Object.is(actual, expected) ? undefined : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    for (const [index, item] of expected.entries()) {
      const mismatch = containmentMismatch(actual[index], item, `${path}[${index}]`);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  }
  if (actual === null || typeof actual !== "object" || Array.isArray(actual)) {
    return `${path}: expected an object, got ${JSON.stringify(actual)}`;
  }
  for (const [key, item] of Object.entries(expected)) {
    const value = Object.hasOwn(actual, key) ? (actual as Record<string, unknown>)[key] : undefined;
    const mismatch = containmentMismatch(value, item, `${path}.${key}`);
    if (mismatch !== undefined) return mismatch;
  }
  return undefined;
}

function snakeCase(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), value]));
}

/**
 * Drives a vector straight through a mode handler: start, then every message as the kernel would
 * hand it over, checking each outcome, the final state, the resolution and the mode state; then
 * replays the accepted messages and expects the identical state.
 */
export function runVector(handler: ModeHandler, vector: Vector): void {
  const session = sessionOf(vector);
  const started = handler.start(session, startPayload(session));
  if (started.kind !== "accepted") throw new Error(`SessionStart rejected: ${started.error.message}`);
  let state = started.state;
  let resolution: Uint8Array | undefined;
  const acceptedEnvelopes = [];
  for (const [index, message] of vector.messages.entries()) {
    const label = `message ${index + 1} (${message.message_type} from ${message.sender})`;
    // Once resolved the kernel answers SESSION_NOT_OPEN itself; a vector never goes there.
    expect(resolution, `${label} after resolution`).toBeUndefined();
    const sent = envelope(message.message_type, message.sender, payloadOf(vector, message));
    const outcome = handler.apply(session, state, sent);
    if (message.expect === "accept") {
      expect(outcome.kind === "rejected" ? `${outcome.error.code} ${outcome.error.message}` : "accepted", label).toBe("accepted");
    } else {
      expect(outcome.kind, label).toBe("rejected");
      if (outcome.kind === "rejected" && message.expected_error_code !== undefined) {
        expect(outcome.error.code, label).toBe(message.expected_error_code);
      }
    }
    if (outcome.kind === "accepted") {
      state = outcome.state;
      resolution = outcome.resolution;
      acceptedEnvelopes.push(sent);
    }
  }
  expect(resolution === undefined ? "Open" : "Resolved").toBe(vector.expected_final_state);
  if (vector.expect_resolution_present !== undefined) expect(resolution !== undefined).toBe(vector.expect_resolution_present);
  if (vector.expected_resolution !== undefined) {
    const decoded = snakeCase({ ...CommitmentPayload.decode(resolution ?? new Uint8Array()) });
    expect(containmentMismatch(decoded, vector.expected_resolution)).toBeUndefined();
  }
  if (vector.expected_mode_state !== undefined) {
    expect(containmentMismatch(state, vector.expected_mode_state)).toBeUndefined();
  }
  let replayed = started.state;
  for (const sent of acceptedEnvelopes) {
    const outcome = handler.apply(session, replayed, sent);
    if (outcome.kind !== "accepted") throw new Error(`replay rejected ${sent.messageType}: ${outcome.error.message}`);
    replayed = outcome.state;
  }
  expect(JSON.stringify(replayed)).toBe(JSON.stringify(state));
}

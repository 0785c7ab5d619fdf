import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_POLICY_ID, decodeCommitment, encodePayloadJson } from "@macp/protocol";
import { DEFAULT_POLICY, type JsonValue, type PolicyDefinition } from "@macp/policy";
import type { ModeHandler, SessionView } from "../src/index.js";
import { startPayload } from "./mode-test-kit.js";

/** The shared, read-only conformance vectors (spec repository copy). */
export const CONFORMANCE_DIR = join(import.meta.dirname, "../../../../shared/conformance");

/** One scripted message of a vector. */
export interface VectorMessage {
  readonly sender: string;
  readonly message_type: string;
  readonly payload_type: string;
  readonly payload: Record<string, unknown>;
  readonly expect: "accept" | "reject";
  readonly expected_error_code?: string;
}

/** A conformance vector file. */
export interface Vector {
  readonly mode: string;
  readonly initiator: string;
  readonly participants: string[];
  readonly mode_version: string;
  readonly configuration_version: string;
  readonly policy_version: string;
  readonly ttl_ms: number;
  readonly policy?: { policy_id: string; mode: string; description?: string; rules: JsonValue; schema_version: number };
  readonly messages: readonly VectorMessage[];
  readonly expected_final_state: string;
  readonly expected_resolution?: Record<string, unknown>;
  readonly expected_mode_state?: JsonValue;
}

/** The vectors whose file name starts with `prefix`, as `[file, vector]` pairs sorted by name. */
export function vectorsStartingWith(prefix: string): [string, Vector][] {
  return readdirSync(CONFORMANCE_DIR)
    .filter((name) => name.startsWith(prefix) && name.endsWith(".json"))
    .sort()
    .map((name) => [name, JSON.parse(readFileSync(join(CONFORMANCE_DIR, name), "utf8")) as Vector]);
}

/** "actual contains expected" (§15.1): every expected key exists and matches; arrays by expected prefix. */
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
  for (const [key, value] of Object.entries(expected)) {
    if (!Object.hasOwn(actual, key)) return `${path}.${key}: missing`;
    const mismatch = containmentMismatch((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    if (mismatch !== undefined) return mismatch;
  }
  return undefined;
}

function boundPolicy(vector: Vector): PolicyDefinition {
  if (vector.policy === undefined) return DEFAULT_POLICY;
  return {
    policyId: vector.policy.policy_id,
    mode: vector.policy.mode,
    description: vector.policy.description ?? "",
    rules: vector.policy.rules,
    schemaVersion: vector.policy.schema_version,
  };
}

/** The session the kernel would build for the vector's SessionStart (effective policy id, bound copy). */
export function vectorSession(vector: Vector): SessionView {
  return {
    sessionId: "conformance-session",
    mode: vector.mode,
    initiator: vector.initiator,
    participants: vector.participants,
    modeVersion: vector.mode_version,
    configurationVersion: vector.configuration_version,
    policyVersion: vector.policy_version === "" ? DEFAULT_POLICY_ID : vector.policy_version,
    policy: boundPolicy(vector),
    ttlMs: vector.ttl_ms,
  };
}

/** Commitments default `outcome_positive` to true when the vector leaves it out (§15.1). */
function payloadBytes(vector: Vector, message: VectorMessage): Uint8Array {
  const payload =
    message.message_type === "Commitment" ? { outcome_positive: true, ...message.payload } : message.payload;
  return encodePayloadJson(vector.mode, message.message_type, payload);
}

/** What the harness observed for one message. */
export interface StepResult {
  readonly index: number;
  readonly outcome: "accept" | "reject";
  readonly code?: string;
}

/** The result of driving a vector through a handler. */
export interface VectorRun {
  readonly steps: readonly StepResult[];
  readonly state: JsonValue;
  readonly resolution: Uint8Array | undefined;
}

/**
 * Drives a vector through `handler` alone, standing in for the kernel: SessionStart, then each
 * message with increasing timestamps; once resolved, every further message is `SESSION_NOT_OPEN`.
 */
export function runVector(handler: ModeHandler, vector: Vector): VectorRun {
  const session = vectorSession(vector);
  const started = handler.start(session, startPayload(session));
  if (started.kind !== "accepted") throw new Error(`SessionStart rejected: ${started.error.code}`);
  let state = started.state;
  let resolution: Uint8Array | undefined;
  const steps = vector.messages.map((message, index): StepResult => {
    if (resolution !== undefined) return { index, outcome: "reject", code: "SESSION_NOT_OPEN" };
    const outcome = handler.apply(session, state, {
      messageType: message.message_type,
      messageId: `m${index + 1}`,
      sender: message.sender,
      timestampUnixMs: 1_700_000_000_000 + index + 1,
      payload: payloadBytes(vector, message),
    });
    if (outcome.kind === "rejected") return { index, outcome: "reject", code: outcome.error.code };
    state = outcome.state;
    resolution = outcome.resolution;
    return { index, outcome: "accept" };
  });
  return { steps, state, resolution };
}

/** Expected per-message results, in the same shape as `StepResult` (code only where the vector names one). */
export function expectedSteps(vector: Vector, actual: readonly StepResult[]): StepResult[] {
  return vector.messages.map((message, index) => {
    if (message.expect === "accept") return { index, outcome: "accept" };
    const code = message.expected_error_code ?? actual[index]?.code;
    return code === undefined ? { index, outcome: "reject" } : { index, outcome: "reject", code };
  });
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}

function camelKeys(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(camelKeys);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [camelCase(key), camelKeys(item)]));
}

/** `expected_resolution` is checked against the decoded CommitmentPayload (§15.1). */
export function resolutionMismatch(vector: Vector, resolution: Uint8Array | undefined): string | undefined {
  if (vector.expected_resolution === undefined) return undefined;
  if (resolution === undefined) return "expected a resolution, got none";
  return containmentMismatch(decodeCommitment(resolution), camelKeys(vector.expected_resolution));
}

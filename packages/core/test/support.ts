import { InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import type { SessionStore } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { CommitmentPayload, PROTOCOL_VERSION, SessionStartPayload, encodePayloadJson } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { conformanceVectorFiles, readConformanceVector } from "@macp/test-support";

export const T0 = 1_800_000_000_000;

export interface Harness {
  readonly kernel: Kernel;
  readonly clock: ManualClock;
  readonly store: SessionStore;
  readonly modes: ModeRegistry;
  readonly policies: PolicyRegistry;
}

/** A kernel over an in-memory store, fresh registries and a manual clock. */
export function createHarness(store: SessionStore = new InMemorySessionStore()): Harness {
  const clock = new ManualClock(T0);
  const modes = new ModeRegistry();
  const policies = new PolicyRegistry();
  const kernel = new Kernel({ store, clock, modes, policies });
  return { kernel, clock, store, modes, policies };
}

let counter = 0;

/** A valid lowercase UUID v4 that differs per call. */
export function newSessionId(): string {
  counter++;
  const hex = counter.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

/** An envelope with protocol defaults. */
export function envelope(fields: Partial<Envelope> & Pick<Envelope, "messageType" | "sender">): Envelope {
  return {
    macpVersion: PROTOCOL_VERSION,
    mode: "",
    messageId: `m-${++counter}`,
    sessionId: "",
    timestampUnixMs: 0n,
    payload: new Uint8Array(),
    ...fields,
  };
}

/** A SessionStart envelope. */
export function sessionStart(
  sessionId: string,
  mode: string,
  sender: string,
  payload: Partial<Omit<SessionStartPayload, "ttlMs">> & { ttlMs?: number | bigint },
  messageId = `start-${sessionId}`,
): Envelope {
  return envelope({
    sessionId,
    mode,
    sender,
    messageId,
    messageType: "SessionStart",
    payload: SessionStartPayload.encode(
      SessionStartPayload.fromPartial({
        intent: "test",
        modeVersion: "1.0.0",
        configurationVersion: "cfg-1",
        ttlMs: 60_000,
        ...payload,
      }),
    ).finish(),
  });
}

/** A Commitment payload valid for a session started by {@link sessionStart}. */
export function commitmentBytes(fields: Partial<CommitmentPayload> = {}): Uint8Array {
  return CommitmentPayload.encode(
    CommitmentPayload.fromPartial({
      commitmentId: "c1",
      action: "decision.selected",
      authorityScope: "test",
      reason: "done",
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      policyVersion: "policy.default",
      outcomePositive: true,
      ...fields,
    }),
  ).finish();
}

/** Payload bytes built from conformance-style JSON. */
export function jsonPayload(mode: string, messageType: string, json: Record<string, unknown>): Uint8Array {
  return encodePayloadJson(mode, messageType, json);
}

export interface ConformanceMessage {
  sender: string;
  message_type: string;
  payload_type: string;
  payload: Record<string, unknown>;
  expect: "accept" | "reject";
  expected_error_code?: string;
}

export interface ConformanceCase {
  mode: string;
  initiator: string;
  participants: string[];
  mode_version: string;
  configuration_version: string;
  policy_version: string;
  ttl_ms: number;
  policy?: { policy_id: string; mode: string; description?: string; rules: unknown; schema_version: number };
  messages: ConformanceMessage[];
  expected_final_state: string;
  expected_resolution?: Record<string, unknown>;
  expected_mode_state?: unknown;
}

/** Every conformance vector, from the repository's copy of the canonical set. */
export function loadConformanceCases(): [string, ConformanceCase][] {
  return conformanceVectorFiles().map((name) => [name, readConformanceVector<ConformanceCase>(name)]);
}

/** "actual contains expected": every expected key exists and matches recursively. */
export function containmentMismatch(actual: unknown, expected: unknown, path = "$"): string | undefined {
  if (expected === null || typeof expected !== "object") {
    return Object.is(actual, expected) ? undefined : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const mismatch = containmentMismatch(actual[i], expected[i], `${path}[${i}]`);
      if (mismatch) return mismatch;
    }
    return undefined;
  }
  if (actual === null || typeof actual !== "object") return `${path}: expected an object, got ${JSON.stringify(actual)}`;
  for (const [key, value] of Object.entries(expected)) {
    const mismatch = containmentMismatch((actual as Record<string, unknown>)[key], value, `${path}.${key}`);
    if (mismatch) return mismatch;
  }
  return undefined;
}

/** Conformance payload JSON with the harness defaults applied (§15.1: outcome_positive defaults to true). */
export function conformancePayload(mode: string, message: ConformanceMessage): Uint8Array {
  const json =
    message.message_type === "Commitment" && !("outcome_positive" in message.payload)
      ? { ...message.payload, outcome_positive: true }
      : message.payload;
  return jsonPayload(mode, message.message_type, json);
}

/** snake_case keys → camelCase, for comparing spec JSON with decoded protobuf objects. */
export function camelKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()), v]),
  );
}

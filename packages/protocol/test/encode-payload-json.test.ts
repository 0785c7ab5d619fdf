import { conformanceVectorFiles, readConformanceVector } from "@macp/test-support";
import { describe, expect, it } from "vitest";
import { decodePayload, encodePayloadJson, ModeId, payloadTypeName } from "../src/index.js";
import { expectMacpError } from "./support/macp-error-assertions.js";

const utf8 = new TextEncoder();

function roundTrip(mode: string, messageType: string, json: Record<string, unknown>): unknown {
  return decodePayload(mode, messageType, encodePayloadJson(mode, messageType, json));
}

describe("encodePayloadJson input forms", () => {
  it("builds a full SessionStart: repeated strings, int64, nested roots, map of bytes", () => {
    const decoded = roundTrip(ModeId.Decision, "SessionStart", {
      intent: "pick",
      participants: ["agent://a", "agent://b"],
      mode_version: "1.0.0",
      configuration_version: "cfg-1",
      policy_version: "policy.default",
      ttl_ms: 60000,
      roots: [{ uri: "file:///r", name: "r" }, { uri: "file:///s" }],
      context_id: "ctx",
      extensions: { json: '{"a":1}', raw: [0, 255], __proto__key: "x" },
    });
    expect(decoded).toEqual({
      intent: "pick",
      participants: ["agent://a", "agent://b"],
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      policyVersion: "policy.default",
      ttlMs: 60000n,
      roots: [
        { uri: "file:///r", name: "r" },
        { uri: "file:///s", name: "" },
      ],
      contextId: "ctx",
      extensions: { json: utf8.encode('{"a":1}'), raw: Uint8Array.from([0, 255]), __proto__key: utf8.encode("x") },
    });
  });

  it("keeps a map key named __proto__ as an ordinary key", () => {
    const extensions = JSON.parse('{"__proto__": "x"}') as Record<string, unknown>;
    const encoded = encodePayloadJson(ModeId.Decision, "SessionStart", { participants: ["a"], extensions });
    const decoded = decodePayload(ModeId.Decision, "SessionStart", encoded) as { extensions: Record<string, unknown> };
    expect(Object.getPrototypeOf(decoded.extensions)).toBe(Object.prototype);
    expect(Object.keys(decoded.extensions)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(decoded.extensions, "__proto__")?.value).toEqual(utf8.encode("x"));
  });

  it("builds a Commitment with a nested supersedes reference", () => {
    expect(
      roundTrip(ModeId.Task, "Commitment", {
        commitment_id: "c2",
        action: "task.completed",
        outcome_positive: true,
        supersedes: { session_id: "s", commitment_hash: "h" },
      }),
    ).toMatchObject({ commitmentId: "c2", outcomePositive: true, supersedes: { sessionId: "s", commitmentHash: "h" } });
  });

  it.each([
    ["a UTF-8 string", "ok ✓", utf8.encode("ok ✓")],
    ["a byte array", [0, 1, 254, 255], Uint8Array.from([0, 1, 254, 255])],
    ["an empty array", [], new Uint8Array()],
    ["a Uint8Array", Uint8Array.from([9]), Uint8Array.from([9])],
  ])("takes bytes as %s", (_, supporting_data, expected) => {
    expect(roundTrip(ModeId.Decision, "Proposal", { proposal_id: "p1", supporting_data })).toMatchObject({
      supportingData: expected,
    });
  });

  it.each([
    ["a number", 42, 42n],
    ["a decimal string", "42", 42n],
    ["a negative number", -5, -5n],
    ["the largest safe integer", Number.MAX_SAFE_INTEGER, BigInt(Number.MAX_SAFE_INTEGER)],
    ["a bigint", 7n, 7n],
    ["i64::MAX as a decimal string", "9223372036854775807", 2n ** 63n - 1n],
    ["i64::MAX as a bigint", 2n ** 63n - 1n, 2n ** 63n - 1n],
    ["i64::MIN as a decimal string", "-9223372036854775808", -(2n ** 63n)],
  ])("takes int64 as %s", (_, deadline_unix_ms, expected) => {
    expect(roundTrip(ModeId.Task, "TaskRequest", { task_id: "t1", deadline_unix_ms })).toMatchObject({
      deadlineUnixMs: expected,
    });
  });

  it.each([
    ["a number", 0.25, 0.25],
    ["a numeric string", "0.5", 0.5],
    ["NaN", "NaN", Number.NaN],
    ["Infinity", "Infinity", Number.POSITIVE_INFINITY],
  ])("takes double as %s", (_, confidence, expected) => {
    expect(roundTrip(ModeId.Decision, "Evaluation", { proposal_id: "p1", confidence })).toMatchObject({
      confidence: expected,
    });
  });

  it("takes uint32 up to 2^32 - 1", () => {
    expect(roundTrip(ModeId.Quorum, "ApprovalRequest", { request_id: "r1", required_approvals: 4294967295 })).toMatchObject({
      requiredApprovals: 4294967295,
    });
  });

  it("takes camelCase property names as well as proto names, and null as the default", () => {
    expect(roundTrip(ModeId.Decision, "Vote", { proposalId: "p1", vote: "APPROVE", reason: null })).toEqual({
      proposalId: "p1",
      vote: "APPROVE",
      reason: "",
    });
  });

  it.each([
    ["an unknown field", "Vote", { proposal_id: "p1", weight: 1 }],
    ["an unknown nested field", "Commitment", { supersedes: { session_id: "s", hash: "h" } }],
    ["the same field under both names", "Vote", { proposal_id: "p1", proposalId: "p2" }],
    ["a number for a string", "Vote", { vote: 1 }],
    ["a string for a bool", "Commitment", { outcome_positive: "true" }],
    ["a number for a bool", "Commitment", { outcome_positive: 1 }],
    ["a fractional int64", "SessionStart", { ttl_ms: 1.5 }],
    ["an int64 number beyond 2^53", "SessionStart", { ttl_ms: 2 ** 60 }],
    ["an int64 string beyond i64::MAX", "SessionStart", { ttl_ms: "18446744073709551615" }],
    ["an int64 bigint below i64::MIN", "SessionStart", { ttl_ms: -(2n ** 63n) - 1n }],
    ["a non-decimal int64 string", "SessionStart", { ttl_ms: "0x10" }],
    ["a string for a repeated field", "SessionStart", { participants: "agent://a" }],
    ["a null inside a repeated field", "SessionStart", { participants: ["a", null] }],
    ["a non-object root", "SessionStart", { roots: ["file:///r"] }],
    ["an array for a map", "SessionStart", { extensions: [["k", "v"]] }],
    ["a number as a map value", "SessionStart", { extensions: { k: 1 } }],
    ["a byte above 255", "Proposal", { supporting_data: [256] }],
    ["a fractional byte", "Proposal", { supporting_data: [1.5] }],
    ["a lone surrogate in a string", "Vote", { reason: "\ud800" }],
    ["an object for a double", "Evaluation", { confidence: {} }],
    ["a negative uint32", "ApprovalRequest", { required_approvals: -1 }],
  ])("rejects %s with InvalidPayload", (_, messageType, json) => {
    const mode = messageType === "ApprovalRequest" ? ModeId.Quorum : ModeId.Decision;
    expectMacpError(() => encodePayloadJson(mode, messageType, json), "InvalidPayload");
  });
});

interface ConformanceMessage {
  readonly message_type: string;
  readonly payload_type: string;
  readonly payload: Record<string, unknown>;
}

interface ConformanceFile {
  readonly mode: string;
  readonly participants: string[];
  readonly mode_version: string;
  readonly configuration_version: string;
  readonly policy_version: string;
  readonly ttl_ms: number;
  readonly messages: ConformanceMessage[];
}

const conformance = conformanceVectorFiles().map((name) => [name, readConformanceVector<ConformanceFile>(name)] as const);

function expectedTypeName(payloadType: string): string {
  const dot = payloadType.indexOf(".");
  if (dot < 0) return `macp.v1.${payloadType}Payload`;
  return `macp.modes.${payloadType.slice(0, dot)}.v1.${payloadType.slice(dot + 1)}Payload`;
}

function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
}

function expectCarries(decoded: unknown, json: Record<string, unknown>): void {
  const record = decoded as Record<string, unknown>;
  for (const [key, value] of Object.entries(json)) {
    const actual = record[camelCase(key)];
    if (actual instanceof Uint8Array) {
      expect(actual).toEqual(typeof value === "string" ? utf8.encode(value) : Uint8Array.from(value as number[]));
    } else if (typeof actual === "bigint") {
      expect([key, actual]).toEqual([key, BigInt(value as number)]);
    } else {
      expect([key, actual]).toEqual([key, value]);
    }
  }
}

describe("encodePayloadJson encodes every payload of the conformance vectors", () => {
  it("finds the conformance files", () => {
    expect(conformance.length).toBeGreaterThanOrEqual(10);
  });

  it.each(conformance)("%s", (_, file) => {
    const start = {
      participants: file.participants,
      mode_version: file.mode_version,
      configuration_version: file.configuration_version,
      policy_version: file.policy_version,
      ttl_ms: file.ttl_ms,
    };
    expectCarries(roundTrip(file.mode, "SessionStart", start), start);
    for (const message of file.messages) {
      expect(payloadTypeName(file.mode, message.message_type)).toBe(expectedTypeName(message.payload_type));
      expectCarries(roundTrip(file.mode, message.message_type, message.payload), message.payload);
    }
  });
});

import { MacpClientError } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { ERROR_CODE_TRAILER } from "@macp/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grpcStatusName, openDecisionSession, proposal, startTestRuntime, type TestRuntime } from "./support/runtime-harness.js";

const ALICE = "agent://alice";
const BOB = "agent://bob";

/** What a @macp/client user sees of a failed call: status, the code decoded from the trailers, the message. */
async function failure(call: Promise<unknown>): Promise<{ status: string; macpCode: string | undefined; details: string; codeTrailer: unknown }> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof MacpClientError)) throw error;
    return {
      status: grpcStatusName(error),
      macpCode: error.macpCode,
      details: error.details,
      codeTrailer: error.trailers?.get(ERROR_CODE_TRAILER)[0],
    };
  }
  throw new Error("expected the call to fail");
}

/** Reads a stream that must end in a failure before any frame. */
async function drain(stream: AsyncIterable<{ response?: { $case: string } }>): Promise<void> {
  for await (const frame of stream) throw new Error(`unexpected ${frame.response?.$case ?? "empty"} frame`);
}

describe("every status the runtime answers carries its MACP code in the macp-error-code trailer", () => {
  let runtime: TestRuntime;
  let alice: MacpClient;
  let bob: MacpClient;
  let sessionId: string;

  beforeAll(async () => {
    runtime = await startTestRuntime();
    alice = runtime.client(ALICE);
    bob = runtime.client(BOB);
    sessionId = await openDecisionSession(alice, [ALICE]);
  });
  afterAll(() => runtime.close());

  it.each<[string, () => Promise<unknown>, string, string, string]>([
    ["Initialize without versions", () => alice.initialize({ supportedProtocolVersions: [] }), "INVALID_ARGUMENT", "INVALID_ENVELOPE", "INVALID_REQUEST: supported_protocol_versions must not be empty"],
    ["Initialize without 1.0", () => alice.initialize({ supportedProtocolVersions: ["2.0"] }), "FAILED_PRECONDITION", "UNSUPPORTED_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL_VERSION: no mutually supported protocol version"],
    ["Send without an envelope", () => alice.send({}), "INVALID_ARGUMENT", "INVALID_ENVELOPE", "SendRequest must contain an envelope"],
    ["GetSession of an unknown session", () => alice.getSession({ sessionId: "no-such-session-0000000" }), "NOT_FOUND", "SESSION_NOT_FOUND", "Session 'no-such-session-0000000' not found"],
    ["GetSession by a stranger", () => bob.getSession({ sessionId }), "PERMISSION_DENIED", "FORBIDDEN", "FORBIDDEN: session access denied"],
    ["GetSession without credentials", () => runtime.client({}).getSession({ sessionId }), "UNAUTHENTICATED", "UNAUTHENTICATED", "Unauthenticated"],
    ["CancelSession of an unknown session", () => alice.cancelSession({ sessionId: "no-such-session-0000001" }), "NOT_FOUND", "SESSION_NOT_FOUND", "Session 'no-such-session-0000001' not found"],
    ["GetManifest of another agent", () => alice.getManifest({ agentId: "agent://elsewhere" }), "NOT_FOUND", "INVALID_ENVELOPE", "Agent 'agent://elsewhere' not found"],
    ["RegisterExtMode without a descriptor", () => alice.registerExtMode({}), "INVALID_ARGUMENT", "INVALID_ENVELOPE", "descriptor required"],
    ["GetPolicy of an unknown policy", () => alice.getPolicy({ policyId: "policy.nope" }), "NOT_FOUND", "UNKNOWN_POLICY_VERSION", "Policy 'policy.nope' not found"],
  ])("%s", async (_case, call, status, macpCode, details) => {
    expect(await failure(call())).toEqual({ status, macpCode, details, codeTrailer: macpCode });
  });

  it("a StreamSession subscribe to an unknown session ends NOT_FOUND with SESSION_NOT_FOUND", async () => {
    const stream = alice.streamSession({ deadlineMs: 10_000 });
    stream.subscribe("no-such-session-0000002");
    expect(await failure(drain(stream))).toEqual({
      status: "NOT_FOUND",
      macpCode: "SESSION_NOT_FOUND",
      details: "Session 'no-such-session-0000002' not found",
      codeTrailer: "SESSION_NOT_FOUND",
    });
  });

  it("a StreamSession envelope for a cancelled session ends FAILED_PRECONDITION with SESSION_NOT_OPEN", async () => {
    const cancelled = await openDecisionSession(alice, [ALICE]);
    expect((await alice.cancelSession({ sessionId: cancelled })).ack?.ok).toBe(true);
    const stream = alice.streamSession({ deadlineMs: 10_000 });
    stream.send(proposal(cancelled, "late"));
    expect(await failure(drain(stream))).toEqual({ status: "FAILED_PRECONDITION", macpCode: "SESSION_NOT_OPEN", details: "SESSION_NOT_OPEN", codeTrailer: "SESSION_NOT_OPEN" });
  });
});

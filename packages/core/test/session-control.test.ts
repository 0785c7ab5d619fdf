import { describe, expect, it } from "vitest";
import { MAX_SUSPEND_MS, MacpError, PolicyDescriptor, decision } from "@macp/protocol";
import { createHarness, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";
const participants = ["alice", "bob"];

async function started(policyVersion = "") {
  const harness = createHarness();
  if (policyVersion !== "") {
    await harness.kernel.registerPolicy(
      PolicyDescriptor.fromPartial({
        policyId: policyVersion,
        mode: "*",
        rules: JSON.stringify({ commitment: { authority: "any_participant" } }),
        schemaVersion: 1,
      }),
    );
  }
  const id = newSessionId();
  const outcome = await harness.kernel.send(
    sessionStart(id, DECISION, "coordinator", { participants, ttlMs: 10_000, policyVersion }),
    { sender: "coordinator" },
  );
  expect(outcome.ok).toBe(true);
  return { ...harness, id };
}

function proposal(sessionId: string, sender: string, id: string) {
  return envelope({
    sessionId,
    mode: DECISION,
    messageType: "Proposal",
    sender,
    payload: decision.ProposalPayload.encode({ proposalId: id, option: "o", rationale: "", supportingData: new Uint8Array() }).finish(),
  });
}

async function rejection(promise: Promise<unknown>): Promise<MacpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MacpError) return error;
    throw error;
  }
  throw new Error("expected a MacpError");
}

describe("CancelSession / SuspendSession / ResumeSession", () => {
  it("lets the initiator cancel, then rejects messages and answers repeated cancels idempotently", async () => {
    const { kernel, id } = await started();
    const events: string[] = [];
    kernel.subscribeLifecycle((event) => events.push(event.type));
    expect(await kernel.cancel(id, "coordinator", "stop")).toMatchObject({ ok: true, status: "Cancelled" });
    expect((await kernel.send(proposal(id, "alice", "p1"), { sender: "alice" })).error?.code).toBe("SESSION_NOT_OPEN");
    expect(await kernel.cancel(id, "coordinator", "again")).toMatchObject({ ok: true, status: "Cancelled" });
    expect(events).toEqual(["CANCELLED"]);
  });

  it("refuses control calls from a plain participant and for unknown sessions", async () => {
    const { kernel, id } = await started();
    expect((await rejection(kernel.cancel(id, "alice", "x"))).code).toBe("FORBIDDEN");
    expect((await rejection(kernel.suspend(id, "alice", "x"))).message).toContain("can suspend");
    expect((await rejection(kernel.cancel(newSessionId(), "coordinator", "x"))).code).toBe("SESSION_NOT_FOUND");
  });

  it("lets a participant cancel when the bound policy delegates commitment authority to any participant", async () => {
    const { kernel, id } = await started("policy.any");
    expect(await kernel.cancel(id, "alice", "delegated")).toMatchObject({ ok: true, status: "Cancelled" });
  });

  it("stops the TTL while suspended and banks the suspended time on resume", async () => {
    const { kernel, clock, id } = await started();
    const deadline = kernel.peekSession(id)?.record.expiresAtUnixMs ?? 0n;
    expect(await kernel.suspend(id, "coordinator", "pause")).toMatchObject({ ok: true, status: "Suspended" });
    expect((await kernel.send(proposal(id, "alice", "p1"), { sender: "alice" })).error?.code).toBe("SESSION_NOT_OPEN");
    clock.advance(60_000);
    expect(await kernel.resume(id, "coordinator", "go")).toMatchObject({ ok: true, status: "Open" });
    expect(kernel.peekSession(id)?.record.expiresAtUnixMs).toBe(deadline + 60_000n);
    expect((await kernel.send(proposal(id, "alice", "p1"), { sender: "alice" })).ok).toBe(true);
  });

  it("requires OPEN to suspend and SUSPENDED to resume", async () => {
    const { kernel, id } = await started();
    expect((await kernel.resume(id, "coordinator", "")).error?.code).toBe("SESSION_NOT_OPEN");
    await kernel.suspend(id, "coordinator", "");
    expect((await kernel.suspend(id, "coordinator", "")).error?.code).toBe("SESSION_NOT_OPEN");
    expect(await kernel.cancel(id, "coordinator", "")).toMatchObject({ ok: true, status: "Cancelled" });
  });

  it("expires a session whose cumulative suspension exceeds seven days", async () => {
    const { kernel, clock, id } = await started();
    await kernel.suspend(id, "coordinator", "");
    clock.advance(MAX_SUSPEND_MS + 1);
    const resumed = await kernel.resume(id, "coordinator", "");
    expect(resumed.error?.code).toBe("SESSION_NOT_OPEN");
    expect(kernel.peekSession(id)?.record.status).toBe("Expired");
  });
});

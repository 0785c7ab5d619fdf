import { describe, expect, it } from "vitest";
import { PolicyDescriptor } from "@macp/protocol";
import { T0, createHarness, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";
const participants = ["alice", "bob"];

describe("SessionStart validation", () => {
  it.each([
    ["empty", ""],
    ["too short", "s1"],
    ["slug", "decision-demo-1"],
    ["uppercase uuid", "550E8400-E29B-41D4-A716-446655440000"],
    ["uuid v1", "550e8400-e29b-11d4-a716-446655440000"],
    ["36 chars with dash but not a uuid", "abcdefghijklmnopqrstuvwxyz-012345678"],
    ["dot", "aaaaaaaaaaaaaaaaaaaaaa.a"],
  ])("rejects a %s session id with INVALID_SESSION_ID", async (_label, id) => {
    const { kernel } = createHarness();
    const outcome = await kernel.send(sessionStart(id, DECISION, "alice", { participants }), { sender: "alice" });
    expect(outcome.error?.code).toBe("INVALID_SESSION_ID");
  });

  it.each([
    ["uuid v4", "3f1c2b7e-8d4a-4f6b-9c2d-1e5f7a9b0c3d"],
    ["uuid v7", "01890a5d-ac96-774b-bcce-b302099a8057"],
    ["22-char base64url", "AbCdEfGhIjKlMnOpQrStUv"],
    ["ULID", "01ARZ3NDEKTSV4RRFFQ69G5FAV"],
  ])("accepts a %s session id", async (_label, id) => {
    const { kernel } = createHarness();
    const outcome = await kernel.send(sessionStart(id, DECISION, "alice", { participants }), { sender: "alice" });
    expect(outcome.error?.message).toBeUndefined();
    expect(outcome.status).toBe("Open");
  });

  it("rejects an unregistered mode with MODE_NOT_SUPPORTED", async () => {
    const { kernel } = createHarness();
    const outcome = await kernel.send(sessionStart(newSessionId(), "com.example.nope.v1", "alice", { participants }), {
      sender: "alice",
    });
    expect(outcome.error?.code).toBe("MODE_NOT_SUPPORTED");
  });

  it("rejects an empty SessionStart payload with INVALID_ENVELOPE", async () => {
    const { kernel } = createHarness();
    const outcome = await kernel.send(
      envelope({ sessionId: newSessionId(), mode: DECISION, messageType: "SessionStart", sender: "alice" }),
      { sender: "alice" },
    );
    expect(outcome.error?.code).toBe("INVALID_ENVELOPE");
  });

  const tooMany = Array.from({ length: 1001 }, (_, i) => `agent-${i}`);
  it.each([
    ["ttl 0", { ttlMs: 0 }, "InvalidTtl"],
    ["ttl above 24 h", { ttlMs: 86_400_001 }, "InvalidTtl"],
    ["blank mode_version", { modeVersion: "  " }, "InvalidPayload"],
    ["blank configuration_version", { configurationVersion: "" }, "InvalidPayload"],
    ["no participants", { participants: [] }, "InvalidPayload"],
    ["1001 participants", { participants: tooMany }, "InvalidPayload"],
    ["a blank participant", { participants: ["alice", " "] }, "InvalidPayload"],
    ["a configuration_version of NEXT LINE (U+0085, white space to the reference)", { configurationVersion: "\u0085" }, "InvalidPayload"],
    ["a participant of NEXT LINE (U+0085)", { participants: ["alice", "\u0085"] }, "InvalidPayload"],
    ["duplicate participants after trim", { participants: ["alice", "alice "] }, "InvalidPayload"],
    ["a mode_version other than the descriptor's", { modeVersion: "2.0.0" }, "InvalidEnvelope"],
  ])("rejects %s with INVALID_ENVELOPE", async (_label, fields, variant) => {
    const { kernel } = createHarness();
    const outcome = await kernel.send(
      sessionStart(newSessionId(), DECISION, "alice", { participants, ...fields }),
      { sender: "alice" },
    );
    expect(outcome.error?.code).toBe("INVALID_ENVELOPE");
    expect(outcome.error?.variant).toBe(variant);
  });

  it("keeps a BYTE ORDER MARK (U+FEFF) as content, as the reference's trim does", async () => {
    const { kernel } = createHarness();
    const outcome = await kernel.send(
      sessionStart(newSessionId(), DECISION, "alice", { participants: ["alice", "alice\uFEFF"], configurationVersion: "\uFEFF" }),
      { sender: "alice" },
    );
    expect(outcome.ok).toBe(true);
  });

  it("accepts exactly 1000 participants", async () => {
    const { kernel } = createHarness();
    const many = Array.from({ length: 1000 }, (_, i) => `agent-${i}`);
    const outcome = await kernel.send(sessionStart(newSessionId(), DECISION, "alice", { participants: many }), {
      sender: "alice",
    });
    expect(outcome.ok).toBe(true);
  });

  it("treats a re-sent SessionStart as a duplicate and a new one for the same id as SESSION_ALREADY_EXISTS", async () => {
    const { kernel } = createHarness();
    const id = newSessionId();
    const first = sessionStart(id, DECISION, "alice", { participants });
    expect((await kernel.send(first, { sender: "alice" })).duplicate).toBe(false);
    const again = await kernel.send(first, { sender: "alice" });
    expect(again).toMatchObject({ ok: true, duplicate: true, status: "Open" });
    const other = await kernel.send(sessionStart(id, DECISION, "alice", { participants }, "another-id"), {
      sender: "alice",
    });
    expect(other.error?.code).toBe("SESSION_ALREADY_EXISTS");
  });

  it("enforces max_open_sessions with RATE_LIMITED, counting only the initiator's open sessions", async () => {
    const { kernel } = createHarness();
    const context = { sender: "alice", maxOpenSessions: 2 };
    for (let i = 0; i < 2; i++) {
      expect((await kernel.send(sessionStart(newSessionId(), DECISION, "alice", { participants }), context)).ok).toBe(true);
    }
    const third = await kernel.send(sessionStart(newSessionId(), DECISION, "alice", { participants }), context);
    expect(third.error?.code).toBe("RATE_LIMITED");
    const bob = await kernel.send(sessionStart(newSessionId(), DECISION, "bob", { participants }), {
      sender: "bob",
      maxOpenSessions: 2,
    });
    expect(bob.ok).toBe(true);
  });

  it("admits exactly max_open_sessions when starts race", async () => {
    const { kernel } = createHarness();
    const context = { sender: "alice", maxOpenSessions: 3 };
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => kernel.send(sessionStart(newSessionId(), DECISION, "alice", { participants }), context)),
    );
    expect(outcomes.filter((o) => o.ok)).toHaveLength(3);
    expect(outcomes.filter((o) => o.error?.code === "RATE_LIMITED")).toHaveLength(7);
  });

  it("binds policy.default when policy_version is empty", async () => {
    const { kernel } = createHarness();
    const id = newSessionId();
    await kernel.send(sessionStart(id, DECISION, "alice", { participants }), { sender: "alice" });
    const record = kernel.peekSession(id)?.record;
    expect(record?.policyVersion).toBe("policy.default");
    expect(record?.policy?.policyId).toBe("policy.default");
  });

  it("rejects an unknown policy with UNKNOWN_POLICY_VERSION and a policy of another mode with INVALID_POLICY_DEFINITION", async () => {
    const { kernel } = createHarness();
    const unknown = await kernel.send(
      sessionStart(newSessionId(), DECISION, "alice", { participants, policyVersion: "policy.nope" }),
      { sender: "alice" },
    );
    expect(unknown.error?.code).toBe("UNKNOWN_POLICY_VERSION");
    await kernel.registerPolicy(
      PolicyDescriptor.fromPartial({ policyId: "policy.task", mode: "macp.mode.task.v1", rules: "{}", schemaVersion: 1 }),
    );
    const mismatch = await kernel.send(
      sessionStart(newSessionId(), DECISION, "alice", { participants, policyVersion: "policy.task" }),
      { sender: "alice" },
    );
    expect(mismatch.error?.code).toBe("INVALID_POLICY_DEFINITION");
  });

  it("takes the deadline from the envelope timestamp when set, else from the accept time", async () => {
    const { kernel } = createHarness();
    const stamped = newSessionId();
    const start = sessionStart(stamped, DECISION, "alice", { participants, ttlMs: 5_000 });
    await kernel.send({ ...start, timestampUnixMs: BigInt(T0 - 1_000) }, { sender: "alice" });
    expect(kernel.peekSession(stamped)?.record.expiresAtUnixMs).toBe(BigInt(T0 + 4_000));
    const unstamped = newSessionId();
    await kernel.send(sessionStart(unstamped, DECISION, "alice", { participants, ttlMs: 5_000 }), { sender: "alice" });
    expect(kernel.peekSession(unstamped)?.record.expiresAtUnixMs).toBe(BigInt(T0 + 5_000));
  });

  it("publishes the SessionStart as sequence 1 and emits CREATED", async () => {
    const { kernel } = createHarness();
    const id = newSessionId();
    const seen: number[] = [];
    const events: string[] = [];
    kernel.subscribeSession(id, (event) => seen.push(event.seq));
    kernel.subscribeLifecycle((event) => events.push(`${event.type}:${event.sessionId}`));
    await kernel.send(sessionStart(id, DECISION, "alice", { participants }), { sender: "alice" });
    expect(seen).toEqual([1]);
    expect(events).toEqual([`CREATED:${id}`]);
  });
});

import { CommitmentPayload, MacpError } from "@macp/protocol";
import { describe, expect, it } from "vitest";
import { authorizeCommitment, validateCommitment } from "../src/index.js";
import { commitmentBytes, customPolicy, sessionView } from "./mode-test-kit.js";

const MODE = "macp.mode.decision.v1";
const PARTICIPANTS = ["agent://orch", "agent://a", "agent://b"];
const onDefault = sessionView(MODE, "agent://orch", PARTICIPANTS);
const onCustom = sessionView(MODE, "agent://orch", PARTICIPANTS, customPolicy({}));
const legacyReplay = sessionView(MODE, "agent://orch", PARTICIPANTS, null);

function invalidMessage(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (!(error instanceof MacpError)) throw error;
    expect({ code: error.code, variant: error.variant }).toEqual({ code: "INVALID_ENVELOPE", variant: "InvalidPayload" });
    return error.message;
  }
  throw new Error("expected validateCommitment to throw");
}

describe("validateCommitment rejects with INVALID_ENVELOPE (§2.1)", () => {
  const cases: ReadonlyArray<[string, Uint8Array, RegExp]> = [
    ["undecodable bytes", Uint8Array.of(0x0a, 0x05, 0x61), /does not decode/],
    ["invalid UTF-8 in a string field", Uint8Array.of(0x0a, 0x01, 0xff), /decode|UTF-8/i],
    ["a string field sent with the varint wire type", Uint8Array.of(0x08, 0x01), /decode|wire type/i],
    ["an empty payload (all defaults)", new Uint8Array(), /commitment_id/],
    ["a blank commitment_id", commitmentBytes({ commitmentId: " \t" }), /commitment_id/],
    ["a blank action", commitmentBytes({ action: "" }), /action/],
    ["a blank authority_scope", commitmentBytes({ authorityScope: "\u3000" }), /authority_scope/],
    ["a blank reason", commitmentBytes({ reason: "\u0085" }), /reason/],
    ["a different mode_version", commitmentBytes({ modeVersion: "1.0.1" }), /mode_version/],
    ["a mode_version differing only by whitespace", commitmentBytes({ modeVersion: "1.0.0 " }), /mode_version/],
    ["a different configuration_version", commitmentBytes({ configurationVersion: "cfg-2" }), /configuration_version/],
    ["another policy_version", commitmentBytes({ policyVersion: "policy.other" }), /policy_version/],
    ["a supersedes without session_id", commitmentBytes({ supersedes: { sessionId: " ", commitmentHash: "h" } }), /supersedes/],
    ["a supersedes without commitment_hash", commitmentBytes({ supersedes: { sessionId: "s0", commitmentHash: "" } }), /supersedes/],
    ["an empty supersedes", commitmentBytes({ supersedes: { sessionId: "", commitmentHash: "" } }), /supersedes/],
    ["'*rejected' with outcome_positive", commitmentBytes({ action: "proposal.rejected" }), /outcome_positive=false/],
    ["'*failed' with outcome_positive", commitmentBytes({ action: "task.failed" }), /outcome_positive=false/],
    ["'*declined' with outcome_positive", commitmentBytes({ action: "declined" }), /outcome_positive=false/],
    ["'*selected' negative", commitmentBytes({ action: "decision.selected", outcomePositive: false }), /outcome_positive=true/],
    ["'*accepted' negative", commitmentBytes({ action: "x.accepted", outcomePositive: false }), /outcome_positive=true/],
    ["'*completed' negative", commitmentBytes({ action: "task.completed", outcomePositive: false }), /outcome_positive=true/],
    ["'*approved' negative", commitmentBytes({ action: "quorum.approved", outcomePositive: false }), /outcome_positive=true/],
  ];
  it.each(cases)("%s", (_name, bytes, message) => {
    expect(invalidMessage(() => validateCommitment(onDefault, bytes))).toMatch(message);
  });

  it("checks blank fields before versions", () => {
    const bytes = commitmentBytes({ reason: "", modeVersion: "9" });
    expect(invalidMessage(() => validateCommitment(onDefault, bytes))).toMatch(/reason/);
  });

  it("rejects an empty policy_version for a session bound to a custom policy", () => {
    const bytes = commitmentBytes({ policyVersion: "" });
    expect(invalidMessage(() => validateCommitment(onCustom, bytes))).toMatch(/policy_version/);
  });

  it("rejects policy.default for a session bound to a custom policy", () => {
    const bytes = commitmentBytes({ policyVersion: "policy.default" });
    expect(invalidMessage(() => validateCommitment(onCustom, bytes))).toMatch(/policy_version/);
  });
});

describe("validateCommitment accepts", () => {
  const cases: ReadonlyArray<[string, typeof onDefault, Uint8Array]> = [
    ["policy.default echoed for a default-policy session", onDefault, commitmentBytes()],
    ["an empty policy_version for a default-policy session (project decision 1)", onDefault, commitmentBytes({ policyVersion: "" })],
    ["the custom policy id for a custom-policy session", onCustom, commitmentBytes({ policyVersion: "policy.custom" })],
    ["any policy_version when the session has none (legacy replay)", legacyReplay, commitmentBytes({ policyVersion: "whatever" })],
    ["a well-formed supersedes", onDefault, commitmentBytes({ supersedes: { sessionId: "s0", commitmentHash: "abc" } })],
    ["a neutral action with either polarity", onDefault, commitmentBytes({ action: "approve-transaction", outcomePositive: false })],
    ["a suffix test that is case-sensitive", onDefault, commitmentBytes({ action: "task.FAILED", outcomePositive: true })],
    ["'*rejected' negative", onDefault, commitmentBytes({ action: "proposal.rejected", outcomePositive: false })],
    ["'*approved' positive", onDefault, commitmentBytes({ action: "quorum.approved" })],
    ["a field that is only a byte-order mark (not White_Space)", onDefault, commitmentBytes({ reason: "\uFEFF" })],
  ];
  it.each(cases)("%s", (_name, session, bytes) => {
    expect(validateCommitment(session, bytes)).toEqual(CommitmentPayload.decode(bytes));
  });
});

describe("authorizeCommitment (§2.2)", () => {
  const anyParticipant = { commitment: { authority: "any_participant" } };
  const designated = { commitment: { authority: "designated_role", designated_roles: ["agent://b", "agent://x"] } };
  const cases: ReadonlyArray<[string, ReturnType<typeof sessionView>, string, boolean]> = [
    ["default policy: the initiator", onDefault, "agent://orch", true],
    ["default policy: a participant", onDefault, "agent://a", false],
    ["no policy (replay): the initiator", legacyReplay, "agent://orch", true],
    ["no policy (replay): a participant", legacyReplay, "agent://a", false],
    ["unknown authority falls back to initiator-only", sessionView(MODE, "agent://orch", PARTICIPANTS, customPolicy({ commitment: { authority: "everyone" } })), "agent://a", false],
    ["any_participant: a participant", sessionView(MODE, "agent://orch", PARTICIPANTS, customPolicy(anyParticipant)), "agent://a", true],
    ["any_participant: a non-participant initiator", sessionView(MODE, "agent://boss", PARTICIPANTS, customPolicy(anyParticipant)), "agent://boss", true],
    ["any_participant: an outsider", sessionView(MODE, "agent://orch", PARTICIPANTS, customPolicy(anyParticipant)), "agent://z", false],
    ["designated_role: a listed participant", sessionView(MODE, "agent://orch", PARTICIPANTS, customPolicy(designated)), "agent://b", true],
    ["designated_role: a listed non-participant", sessionView(MODE, "agent://orch", PARTICIPANTS, customPolicy(designated)), "agent://x", true],
    ["designated_role: the unlisted initiator", sessionView(MODE, "agent://orch", PARTICIPANTS, customPolicy(designated)), "agent://orch", false],
  ];
  it.each(cases)("%s", (_name, session, sender, allowed) => {
    const error = authorizeCommitment(session, sender);
    if (allowed) {
      expect(error).toBeUndefined();
    } else {
      expect({ code: error?.code, variant: error?.variant }).toEqual({ code: "FORBIDDEN", variant: "Forbidden" });
    }
  });
});

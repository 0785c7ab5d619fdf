import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, isCommitmentAuthorized, type JsonValue } from "@macp/policy";
import { policyWith } from "./fixtures.js";

const initiator = "orch";
const participants = ["a", "b"];

interface AuthorityCase {
  readonly rules: JsonValue;
  readonly allowed: readonly string[];
  readonly refused: readonly string[];
}

const cases: readonly AuthorityCase[] = [
  { rules: {}, allowed: ["orch"], refused: ["a", "b", "x"] },
  { rules: { commitment: { authority: "initiator_only" } }, allowed: ["orch"], refused: ["a", "x"] },
  { rules: { commitment: { authority: "any_participant" } }, allowed: ["orch", "a", "b"], refused: ["x", "A"] },
  {
    rules: { commitment: { authority: "designated_role", designated_roles: ["b", "x"] } },
    allowed: ["b", "x"],
    refused: ["orch", "a"],
  },
  { rules: { commitment: { authority: "designated_role" } }, allowed: [], refused: ["orch", "a"] },
  { rules: { commitment: { authority: "anyone" } }, allowed: ["orch"], refused: ["a", "x"] },
  // A commitment object that does not type-check falls back to initiator-only...
  { rules: { commitment: { authority: "any_participant", designated_roles: "a" } }, allowed: ["orch"], refused: ["a"] },
  // ...but is read on its own, so other sections failing to type-check do not matter.
  { rules: { voting: 7, commitment: { authority: "any_participant" } }, allowed: ["orch", "a"], refused: ["x"] },
];

describe("commitment authority follows rules.commitment (§2.2)", () => {
  describe.each(cases)("rules $rules", ({ rules, allowed, refused }) => {
    const policy = policyWith(rules, 1, "macp.mode.task.v1");

    it.each(allowed.map((sender) => [sender]))("admits %s", (sender) => {
      expect(isCommitmentAuthorized(policy, sender, initiator, participants)).toBe(true);
    });

    it.each(refused.map((sender) => [sender]))("refuses %s", (sender) => {
      expect(isCommitmentAuthorized(policy, sender, initiator, participants)).toBe(false);
    });
  });

  it("is initiator-only with no bound policy", () => {
    expect(isCommitmentAuthorized(null, "orch", initiator, participants)).toBe(true);
    expect(isCommitmentAuthorized(null, "a", initiator, participants)).toBe(false);
  });

  it("is initiator-only under the default policy", () => {
    expect(isCommitmentAuthorized(DEFAULT_POLICY, "orch", initiator, participants)).toBe(true);
    expect(isCommitmentAuthorized(DEFAULT_POLICY, "a", initiator, participants)).toBe(false);
  });

  it("is initiator-only when the rules are not an object", () => {
    expect(isCommitmentAuthorized(policyWith([]), "a", initiator, participants)).toBe(false);
  });
});

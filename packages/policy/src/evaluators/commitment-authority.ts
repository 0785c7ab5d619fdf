import { parseCommitmentRules } from "../rules/commitment-rules.js";
import type { PolicyDefinition } from "../policy-definition.js";

/**
 * Whether `sender` may send a Commitment in a Decision, Proposal, Task, Handoff or Quorum session
 * (§2.2), from the bound policy's `rules.commitment`:
 * `any_participant` admits the initiator and every declared participant; `designated_role` admits
 * exactly the listed sender ids (not the initiator implicitly); every other value, and no bound
 * policy, admits the initiator only. The kernel's Cancel/Suspend/Resume authority uses the same
 * rule (protocol.md §2.8).
 */
export function isCommitmentAuthorized(
  policy: PolicyDefinition | null,
  sender: string,
  initiator: string,
  participants: readonly string[],
): boolean {
  if (policy === null) return sender === initiator;
  const rules = parseCommitmentRules(policy.rules);
  switch (rules.authority) {
    case "any_participant":
      return sender === initiator || participants.includes(sender);
    case "designated_role":
      return rules.designatedRoles.includes(sender);
    default:
      return sender === initiator;
  }
}

import { isBlank, DEFAULT_POLICY_ID, MacpError, decodeCommitment, type CommitmentPayload } from "@macp/protocol";
import { isCommitmentAuthorized } from "@macp/policy";
import type { SessionView } from "./mode-handler.js";
import { forbidden, invalidPayload } from "./step-errors.js";

const NEGATIVE_SUFFIXES = ["rejected", "failed", "declined"] as const;
const POSITIVE_SUFFIXES = ["selected", "accepted", "completed", "approved"] as const;

/**
 * An empty `policy_version` names the default policy (RFC-MACP-0012), so it matches a session
 * bound to `policy.default`; the reference runtime insists on the literal id, which would fail the
 * spec repository's own conformance vectors (project decision 1).
 */
function policyVersionMatches(session: SessionView, policyVersion: string): boolean {
  if (session.policyVersion === "") return true;
  if (policyVersion === session.policyVersion) return true;
  return policyVersion === "" && session.policyVersion === DEFAULT_POLICY_ID;
}

/**
 * Decodes and validates a Commitment payload against the session (modes-and-policy.md §2.1), in
 * the spec's order. Call it only after the sender passed authorization.
 *
 * @throws MacpError `InvalidPayload` (`INVALID_ENVELOPE`) on the first failed check.
 */
export function validateCommitment(session: SessionView, payload: Uint8Array): CommitmentPayload {
  const commitment = decodeCommitment(payload);
  if (isBlank(commitment.commitmentId)) throw invalidPayload("commitment_id must not be blank");
  if (isBlank(commitment.action)) throw invalidPayload("action must not be blank");
  if (isBlank(commitment.authorityScope)) throw invalidPayload("authority_scope must not be blank");
  if (isBlank(commitment.reason)) throw invalidPayload("reason must not be blank");
  if (commitment.modeVersion !== session.modeVersion) {
    throw invalidPayload("commitment mode_version does not match the session");
  }
  if (commitment.configurationVersion !== session.configurationVersion) {
    throw invalidPayload("commitment configuration_version does not match the session");
  }
  if (!policyVersionMatches(session, commitment.policyVersion)) {
    throw invalidPayload("commitment policy_version does not match the session");
  }
  const supersedes = commitment.supersedes;
  if (supersedes !== undefined && (isBlank(supersedes.sessionId) || isBlank(supersedes.commitmentHash))) {
    throw invalidPayload("supersedes requires a session_id and a commitment_hash");
  }
  const action = commitment.action;
  if (NEGATIVE_SUFFIXES.some((suffix) => action.endsWith(suffix)) && commitment.outcomePositive) {
    throw invalidPayload(`action '${action}' requires outcome_positive=false`);
  }
  if (POSITIVE_SUFFIXES.some((suffix) => action.endsWith(suffix)) && !commitment.outcomePositive) {
    throw invalidPayload(`action '${action}' requires outcome_positive=true`);
  }
  return commitment;
}

/**
 * Commitment authority (§2.2) from the bound policy's `rules.commitment`; initiator-only when no
 * policy is bound. Returns the `FORBIDDEN` error to reject with, or undefined when allowed.
 */
export function authorizeCommitment(session: SessionView, sender: string): MacpError | undefined {
  return isCommitmentAuthorized(session.policy, sender, session.initiator, session.participants)
    ? undefined
    : forbidden(`${sender} may not commit this session`);
}

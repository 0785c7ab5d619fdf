import { appendCapped, numberField, payloadOf, senderOf, stringsField, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { ballotOf, commitmentOutcome } from "./fold-decision.js";
import { RUN_STATE_LIMITS } from "./run-state.js";
import type { ParticipantState, PolicyBlock, RunBlock, VoteTally } from "./run-state.js";

function requiredVoters(participants: readonly ParticipantState[]): number {
  const voters = participants.filter((p) => p.role === "voter").length;
  return Math.max(1, voters > 0 ? voters : participants.length);
}

function recount(tally: VoteTally, ballots: VoteTally["ballots"], participants: readonly ParticipantState[]): VoteTally {
  const values = Object.values(ballots);
  const required = requiredVoters(participants);
  return {
    ...tally,
    allow: values.filter((b) => b === "allow").length,
    deny: values.filter((b) => b === "deny").length,
    threshold: tally.requiredApprovals ?? Math.ceil(required / 2),
    quorum: { required, cast: values.length },
    ballots,
  };
}

function upsertTally(block: PolicyBlock, key: string, update: (tally: VoteTally) => VoteTally): readonly VoteTally[] {
  const tallies = block.voteTally ?? [];
  const index = tallies.findIndex((t) => t.commitmentId === key);
  const current: VoteTally = index === -1 ? { commitmentId: key, allow: 0, deny: 0, threshold: 1, quorum: { required: 1, cast: 0 }, ballots: {} } : tallies[index]!;
  const next = update(current);
  if (index === -1) return appendCapped(tallies, next, RUN_STATE_LIMITS.voteTallies);
  const copy = tallies.slice();
  copy[index] = next;
  return copy;
}

/** Status from a tally while governance is undecided: reached at the threshold, failed once out of reach. */
function tallyStatus(tally: VoteTally): PolicyBlock["quorumStatus"] {
  if (tally.allow >= tally.threshold) return "reached";
  const outstanding = Math.max(0, tally.quorum.required - tally.quorum.cast);
  return tally.allow + outstanding < tally.threshold ? "failed" : "pending";
}

function settled(block: PolicyBlock): boolean {
  return block.resolvedAt !== undefined;
}

/** A run that failed or was cancelled without an allowing evaluation failed its quorum. */
function failIfUnreached(block: PolicyBlock, run: RunBlock): PolicyBlock {
  if (run.status !== "failed" && run.status !== "cancelled") return block;
  return block.quorumStatus === "reached" || block.quorumStatus === "failed" ? block : { ...block, quorumStatus: "failed" };
}

function withPolicyVersion(block: PolicyBlock, version: string | undefined): PolicyBlock {
  return version === undefined || version === block.policyVersion ? block : { ...block, policyVersion: version };
}

/**
 * Folds one event into the `policy` block: policy version from binding/snapshots/SessionStart,
 * `policy.*` events, ballot tallies per proposal/request (a changed vote replaces the earlier
 * one), and the final quorum status at `decision.finalized` or a failed/cancelled run. Once the
 * decision is resolved, late ballots still count but never change the status.
 */
export function foldPolicy(
  block: PolicyBlock,
  event: CanonicalEvent,
  participants: readonly ParticipantState[],
  runAfter: RunBlock,
): PolicyBlock {
  const payload = payloadOf(event);
  switch (event.type) {
    case "session.bound":
      return withPolicyVersion(block, textField(event.data, "policyVersion"));
    case "session.state.changed":
      return failIfUnreached(withPolicyVersion(block, textField(event.data, "policyVersion")), runAfter);
    case "message.received":
      return textField(event.data, "messageType") === "SessionStart" ? withPolicyVersion(block, textField(payload, "policyVersion")) : block;
    case "policy.resolved": {
      const expected = stringsField(payload, "expectedCommitments");
      const description = textField(payload, "description") ?? textField(payload, "policyDescription");
      return {
        ...withPolicyVersion(block, textField(payload, "policyVersion") ?? textField(payload, "policyId")),
        ...(description === undefined ? {} : { policyDescription: description }),
        ...(expected.length > 0 ? { expectedCommitments: expected } : {}),
        quorumStatus: block.quorumStatus ?? "pending",
      };
    }
    case "policy.commitment.evaluated":
    case "policy.denied": {
      const decision = event.type === "policy.denied" ? "deny" : (textField(payload, "decision") ?? "unknown");
      const evaluation = {
        commitmentId: textField(payload, "commitmentId") ?? textField(event.data, "messageId") ?? "",
        decision,
        reasons: stringsField(payload, "reasons"),
        ts: event.ts,
      };
      const evaluations = appendCapped(block.commitmentEvaluations, evaluation, RUN_STATE_LIMITS.commitmentEvaluations);
      const reached = decision === "allow" && !settled(block);
      return { ...block, commitmentEvaluations: evaluations, ...(reached ? { quorumStatus: "reached" as const } : {}) };
    }
    case "proposal.created": {
      const requiredApprovals = numberField(payload, "requiredApprovals");
      if (requiredApprovals === undefined || requiredApprovals <= 0 || event.subject === undefined) return block;
      const voteTally = upsertTally(block, event.subject.id, (t) => recount({ ...t, requiredApprovals }, t.ballots, participants));
      return { ...block, voteTally, ...(settled(block) ? {} : { quorumStatus: block.quorumStatus ?? "pending" }) };
    }
    case "proposal.updated": {
      const ballot = ballotOf(event);
      const voter = senderOf(event);
      if (ballot === undefined || voter === undefined || event.subject === undefined) return block;
      let updated: VoteTally | undefined;
      const voteTally = upsertTally(block, event.subject.id, (t) => {
        updated = recount(t, { ...t.ballots, [voter]: ballot }, participants);
        return updated;
      });
      return { ...block, voteTally, ...(settled(block) || block.quorumStatus === "reached" ? {} : { quorumStatus: tallyStatus(updated!) }) };
    }
    case "decision.finalized": {
      if (settled(block)) return block;
      const outcome = commitmentOutcome(event);
      return { ...block, resolvedAt: event.ts, outcomePositive: outcome, quorumStatus: outcome === false ? "failed" : "reached" };
    }
    case "run.failed":
    case "run.cancelled":
      return failIfUnreached(block, runAfter);
    default:
      return block;
  }
}

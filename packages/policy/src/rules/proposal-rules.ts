import { DEFAULT_COMMITMENT_RULES, readCommitmentRules, type CommitmentRules } from "./commitment-rules.js";
import type { JsonValue } from "../policy-definition.js";
import { RulesReader, readOrDefault } from "./rules-reader.js";

/** Proposal-mode rules (§12.5). */
export interface ProposalRules {
  /** `all_parties` (default and fallback for unknown values), `counterparty` or `initiator` (§6.3). */
  readonly acceptanceCriterion: string;
  /** Most CounterProposals a session may carry; 0 = unlimited. */
  readonly counterProposalMaxRounds: number;
  /** Treat every Reject as terminal. */
  readonly terminalOnAnyReject: boolean;
  readonly commitment: CommitmentRules;
}

/** Defaults of the Proposal rules. */
export const DEFAULT_PROPOSAL_RULES: ProposalRules = Object.freeze({
  acceptanceCriterion: "all_parties",
  counterProposalMaxRounds: 0,
  terminalOnAnyReject: false,
  commitment: DEFAULT_COMMITMENT_RULES,
});

/** Strictly reads Proposal rules (throws `RulesShapeError`). */
export function readProposalRules(reader: RulesReader): ProposalRules {
  return {
    acceptanceCriterion: reader
      .object("acceptance")
      .string("criterion", DEFAULT_PROPOSAL_RULES.acceptanceCriterion),
    counterProposalMaxRounds: reader.object("counter_proposal").unsigned("max_rounds", 0, 64),
    terminalOnAnyReject: reader.object("rejection").boolean("terminal_on_any_reject", false),
    commitment: readCommitmentRules(reader.object("commitment")),
  };
}

/** Proposal rules with defaults; rules that do not type-check fall back to defaults as a whole (§12.6). */
export function parseProposalRules(rules: JsonValue): ProposalRules {
  return readOrDefault(rules, readProposalRules, DEFAULT_PROPOSAL_RULES);
}

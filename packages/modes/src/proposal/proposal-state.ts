import type { JsonValue } from "@macp/policy";
import { PersistentList } from "../state/persistent-list.js";
import { PersistentMap } from "../state/persistent-map.js";
import { StateCodec } from "../state/state-codec.js";
import {
  bytesJson,
  corruptState,
  field,
  mapJson,
  readArray,
  readBoolean,
  readBytes,
  readEnum,
  readMap,
  readNullableString,
  readObject,
  readString,
  readStrings,
  type StateObject,
} from "../state/state-json.js";

/** Proposal phases (§6.3). */
export const PROPOSAL_PHASES = ["Negotiating", "Converged", "TerminalRejected", "Committed"] as const;
/** A proposal-mode phase. */
export type ProposalPhase = (typeof PROPOSAL_PHASES)[number];

/** Whether a proposal may still be accepted. */
export type Disposition = "Live" | "Withdrawn";
const DISPOSITIONS: readonly Disposition[] = ["Live", "Withdrawn"];

/** A stored proposal or counter-proposal (`supersedes_proposal_id` non-null for the latter). */
export interface ProposalRecord {
  readonly proposal_id: string;
  readonly title: string;
  readonly summary: string;
  readonly details: Uint8Array;
  readonly tags: readonly string[];
  readonly proposer: string;
  readonly supersedes_proposal_id: string | null;
  readonly disposition: Disposition;
}

/** A terminal rejection still in force. */
export interface TerminalRejection {
  readonly proposal_id: string;
  readonly sender: string;
  readonly reason: string;
}

/** Audit record of every Reject, with the terminal flag as computed at the time. */
export interface RejectionRecord extends TerminalRejection {
  readonly terminal: boolean;
}

/**
 * Proposal mode state (§6.1). Derived, not stored: `counter_proposals` counts the proposals that
 * supersede another, `live_proposals` the live ones, and `acceptors` indexes `accepts` by proposal
 * (proposal id → its current acceptors), so no message walks every proposal or accept.
 */
export interface ProposalState {
  readonly proposals: PersistentMap<string, ProposalRecord>;
  /** Latest Accept per participant: sender → proposal id. */
  readonly accepts: PersistentMap<string, string>;
  readonly terminal_rejections: readonly TerminalRejection[];
  readonly rejections: PersistentList<RejectionRecord>;
  readonly phase: ProposalPhase;
  readonly counter_proposals: number;
  readonly live_proposals: number;
  readonly acceptors: PersistentMap<string, PersistentMap<string, true>>;
}

/** State right after SessionStart. */
export function initialProposalState(): ProposalState {
  return {
    proposals: PersistentMap.empty(),
    accepts: PersistentMap.empty(),
    terminal_rejections: [],
    rejections: PersistentList.empty(),
    phase: "Negotiating",
    counter_proposals: 0,
    live_proposals: 0,
    acceptors: PersistentMap.empty(),
  };
}

/** `acceptors` with `sender`'s latest Accept moved from the proposal `from` (if any) to `to`. */
export function moveAcceptor(
  acceptors: ProposalState["acceptors"],
  sender: string,
  from: string | undefined,
  to: string,
): ProposalState["acceptors"] {
  if (from === to) return acceptors;
  let next = acceptors;
  if (from !== undefined) {
    const left = next.get(from)?.delete(sender);
    next = left === undefined || left.size === 0 ? next.delete(from) : next.set(from, left);
  }
  return next.set(to, (next.get(to) ?? PersistentMap.empty<string, true>()).set(sender, true));
}

function readProposal(value: JsonValue): ProposalRecord {
  const object = readObject(value, "proposal");
  return {
    proposal_id: readString(object, "proposal_id"),
    title: readString(object, "title"),
    summary: readString(object, "summary"),
    details: readBytes(object, "details"),
    tags: readStrings(object, "tags"),
    proposer: readString(object, "proposer"),
    supersedes_proposal_id: readNullableString(object, "supersedes_proposal_id"),
    disposition: readEnum(object, "disposition", DISPOSITIONS),
  };
}

function readAccept(value: JsonValue): string {
  if (typeof value !== "string") throw corruptState("accepts holds a non-string proposal id");
  return value;
}

function readTerminalRejection(value: JsonValue): TerminalRejection {
  const object = readObject(value, "terminal rejection");
  return {
    proposal_id: readString(object, "proposal_id"),
    sender: readString(object, "sender"),
    reason: readString(object, "reason"),
  };
}

function readRejection(value: JsonValue): RejectionRecord {
  const object = readObject(value, "rejection");
  return { ...readTerminalRejection(object), terminal: readBoolean(object, "terminal") };
}

/**
 * Parses stored proposal state.
 *
 * @throws MacpError `InvalidModeState` (`INVALID_ENVELOPE`) when the JSON lacks the shape.
 */
export function readProposalState(json: JsonValue): ProposalState {
  const object = readObject(json, "proposal state");
  const proposals = readMap(object, "proposals", readProposal);
  const accepts = readMap(object, "accepts", readAccept);
  const records = proposals.values();
  return {
    proposals,
    accepts,
    terminal_rejections: readArray(field(object, "terminal_rejections"), "terminal_rejections").map(readTerminalRejection),
    rejections: PersistentList.from(readArray(field(object, "rejections"), "rejections").map(readRejection)),
    phase: readEnum(object, "phase", PROPOSAL_PHASES),
    counter_proposals: records.filter((record) => record.supersedes_proposal_id !== null).length,
    live_proposals: records.filter((record) => record.disposition === "Live").length,
    acceptors: accepts
      .entries()
      .reduce<ProposalState["acceptors"]>(
        (acceptors, [sender, proposalId]) => moveAcceptor(acceptors, sender, undefined, proposalId),
        PersistentMap.empty(),
      ),
  };
}

function proposalJson(proposal: ProposalRecord): JsonValue {
  return {
    proposal_id: proposal.proposal_id,
    title: proposal.title,
    summary: proposal.summary,
    details: bytesJson(proposal.details),
    tags: [...proposal.tags],
    proposer: proposal.proposer,
    supersedes_proposal_id: proposal.supersedes_proposal_id,
    disposition: proposal.disposition,
  };
}

/** Proposal state as its canonical JSON document (declaration order, maps sorted by key). */
export function writeProposalState(state: ProposalState): StateObject {
  return {
    proposals: mapJson(state.proposals, proposalJson),
    accepts: mapJson(state.accepts, (proposalId) => proposalId),
    terminal_rejections: state.terminal_rejections.map((rejection) => ({ ...rejection })),
    rejections: state.rejections.toArray().map((rejection) => ({ ...rejection })),
    phase: state.phase,
  };
}

/** Proposal state between its typed form and its stored JSON. */
export const PROPOSAL_STATE = new StateCodec<ProposalState>(
  ["proposals", "accepts", "terminal_rejections", "rejections", "phase"],
  readProposalState,
  writeProposalState,
);

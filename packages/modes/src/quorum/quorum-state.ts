import type { JsonValue, QuorumBallotCounts } from "@macp/policy";
import { PersistentMap } from "../state/persistent-map.js";
import { StateCodec } from "../state/state-codec.js";
import {
  bytesJson,
  field,
  mapJson,
  readBytes,
  readEnum,
  readMap,
  readNumber,
  readObject,
  readString,
  type StateObject,
} from "../state/state-json.js";

/** Ballot choices; the names are the stored vocabulary (§4.1). */
export const BALLOT_CHOICES = ["Approve", "Reject", "Abstain"] as const;
/** A ballot choice. */
export type BallotChoice = (typeof BALLOT_CHOICES)[number];

/** The session's single approval request (§9.1). */
export interface ApprovalRequest {
  readonly request_id: string;
  readonly action: string;
  readonly summary: string;
  readonly details: Uint8Array;
  readonly required_approvals: number;
  readonly requested_by: string;
}

/** One participant's ballot. */
export interface Ballot {
  readonly request_id: string;
  readonly choice: BallotChoice;
  readonly sender: string;
  readonly reason: string;
}

/**
 * Quorum mode state (§9.1): the request (or null) and ballots keyed by sender; `counts` counts the
 * ballots by choice (derived, not stored).
 */
export interface QuorumState {
  readonly request: ApprovalRequest | null;
  readonly ballots: PersistentMap<string, Ballot>;
  readonly counts: QuorumBallotCounts;
}

const NO_BALLOTS: QuorumBallotCounts = { approve: 0, reject: 0, abstain: 0 };

/** The counts with one more ballot of `choice`. */
export function countBallot(counts: QuorumBallotCounts, choice: BallotChoice): QuorumBallotCounts {
  switch (choice) {
    case "Approve":
      return { ...counts, approve: counts.approve + 1 };
    case "Reject":
      return { ...counts, reject: counts.reject + 1 };
    case "Abstain":
      return { ...counts, abstain: counts.abstain + 1 };
  }
}

/** State right after SessionStart. */
export function initialQuorumState(): QuorumState {
  return { request: null, ballots: PersistentMap.empty(), counts: NO_BALLOTS };
}

function readRequest(value: JsonValue | undefined): ApprovalRequest | null {
  if (value === null) return null;
  const object = readObject(value, "request");
  return {
    request_id: readString(object, "request_id"),
    action: readString(object, "action"),
    summary: readString(object, "summary"),
    details: readBytes(object, "details"),
    required_approvals: readNumber(object, "required_approvals"),
    requested_by: readString(object, "requested_by"),
  };
}

function readBallot(value: JsonValue): Ballot {
  const object = readObject(value, "ballot");
  return {
    request_id: readString(object, "request_id"),
    choice: readEnum(object, "choice", BALLOT_CHOICES),
    sender: readString(object, "sender"),
    reason: readString(object, "reason"),
  };
}

/**
 * Parses stored quorum state.
 *
 * @throws MacpError `InvalidModeState` (`INVALID_ENVELOPE`) when the JSON lacks the shape.
 */
export function readQuorumState(json: JsonValue): QuorumState {
  const object = readObject(json, "quorum state");
  const ballots = readMap(object, "ballots", readBallot);
  return {
    request: readRequest(field(object, "request")),
    ballots,
    counts: ballots.values().reduce((counts, ballot) => countBallot(counts, ballot.choice), NO_BALLOTS),
  };
}

/** Quorum state as its canonical JSON document (declaration order, ballots sorted by sender). */
export function writeQuorumState(state: QuorumState): StateObject {
  const request = state.request;
  return {
    request:
      request === null
        ? null
        : {
            request_id: request.request_id,
            action: request.action,
            summary: request.summary,
            details: bytesJson(request.details),
            required_approvals: request.required_approvals,
            requested_by: request.requested_by,
          },
    ballots: mapJson(state.ballots, (ballot) => ({ ...ballot })),
  };
}

/** Quorum state between its typed form and its stored JSON. */
export const QUORUM_STATE = new StateCodec<QuorumState>(["request", "ballots"], readQuorumState, writeQuorumState);

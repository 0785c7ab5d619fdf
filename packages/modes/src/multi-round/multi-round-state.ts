import type { JsonValue } from "@macp/policy";
import { participantSet } from "../participants.js";
import { PersistentMap } from "../state/persistent-map.js";
import { StateCodec } from "../state/state-codec.js";
import {
  corruptState,
  mapJson,
  readBoolean,
  readMap,
  readNumber,
  readObject,
  readString,
  readStrings,
  type StateObject,
} from "../state/state-json.js";

/** The only convergence rule `ext.multi_round.v1` has. */
export const ALL_EQUAL = "all_equal";

/**
 * `ext.multi_round.v1` state (§10.1): latest contribution per sender, keyed in byte order. The
 * last two fields are derived from the contributions (never stored) so convergence is judged
 * without scanning every participant.
 */
export interface MultiRoundState {
  /** Number of value changes across all participants, not synchronized rounds. */
  readonly round: number;
  readonly participants: readonly string[];
  readonly contributions: PersistentMap<string, string>;
  readonly convergence_type: string;
  /** Sticky: once true, further contributions are rejected. */
  readonly converged: boolean;
  /** How many senders hold each latest value. */
  readonly valueCounts: PersistentMap<string, number>;
  /** How many distinct declared participants have contributed. */
  readonly participantsContributed: number;
}

/** State right after SessionStart for the declared participants. */
export function initialMultiRoundState(participants: readonly string[]): MultiRoundState {
  return {
    round: 0,
    participants: [...participants],
    contributions: PersistentMap.empty(),
    convergence_type: ALL_EQUAL,
    converged: false,
    valueCounts: PersistentMap.empty(),
    participantsContributed: 0,
  };
}

/** `state` with `sender`'s latest value set to `value` (the round is the caller's business). */
export function withContribution(state: MultiRoundState, sender: string, value: string): MultiRoundState {
  const previous = state.contributions.get(sender);
  let valueCounts = state.valueCounts;
  if (previous !== undefined) {
    const left = (valueCounts.get(previous) ?? 0) - 1;
    valueCounts = left === 0 ? valueCounts.delete(previous) : valueCounts.set(previous, left);
  }
  valueCounts = valueCounts.set(value, (valueCounts.get(value) ?? 0) + 1);
  const newParticipant = previous === undefined && participantSet(state.participants).has(sender);
  return {
    ...state,
    contributions: state.contributions.set(sender, value),
    valueCounts,
    participantsContributed: state.participantsContributed + (newParticipant ? 1 : 0),
  };
}

function readContribution(value: JsonValue): string {
  if (typeof value !== "string") throw corruptState("a contribution is not a string");
  return value;
}

/**
 * Parses stored multi-round state.
 *
 * @throws MacpError `InvalidModeState` (`INVALID_ENVELOPE`) when the JSON lacks the shape.
 */
export function readMultiRoundState(json: JsonValue): MultiRoundState {
  const object = readObject(json, "multi_round state");
  const participants = readStrings(object, "participants");
  const contributions = readMap(object, "contributions", readContribution);
  const counted = contributions.entries().reduce(
    (state, [sender, value]) => withContribution(state, sender, value),
    initialMultiRoundState(participants),
  );
  return {
    ...counted,
    round: readNumber(object, "round"),
    contributions,
    convergence_type: readString(object, "convergence_type"),
    converged: readBoolean(object, "converged"),
  };
}

/** Multi-round state as its canonical JSON document (declaration order, contributions sorted by sender). */
export function writeMultiRoundState(state: MultiRoundState): StateObject {
  return {
    round: state.round,
    participants: [...state.participants],
    contributions: mapJson(state.contributions, (value) => value),
    convergence_type: state.convergence_type,
    converged: state.converged,
  };
}

/** Multi-round state between its typed form and its stored JSON. */
export const MULTI_ROUND_STATE = new StateCodec<MultiRoundState>(
  ["round", "participants", "contributions", "convergence_type", "converged"],
  readMultiRoundState,
  writeMultiRoundState,
);

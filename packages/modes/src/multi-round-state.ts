import type { JsonValue } from "@macp/policy";
import {
  corruptState,
  mapJson,
  readBoolean,
  readMap,
  readNumber,
  readObject,
  readString,
  readStrings,
} from "./state-json.js";

/** The only convergence rule `ext.multi_round.v1` has. */
export const ALL_EQUAL = "all_equal";

/** `ext.multi_round.v1` state (§10.1): latest contribution per sender, keyed in byte order. */
export interface MultiRoundState {
  /** Number of value changes across all participants, not synchronized rounds. */
  readonly round: number;
  readonly participants: readonly string[];
  readonly contributions: ReadonlyMap<string, string>;
  readonly convergence_type: string;
  /** Sticky: once true, further contributions are rejected. */
  readonly converged: boolean;
}

/** State right after SessionStart for the declared participants. */
export function initialMultiRoundState(participants: readonly string[]): MultiRoundState {
  return { round: 0, participants: [...participants], contributions: new Map(), convergence_type: ALL_EQUAL, converged: false };
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
  return {
    round: readNumber(object, "round"),
    participants: readStrings(object, "participants"),
    contributions: readMap(object, "contributions", readContribution),
    convergence_type: readString(object, "convergence_type"),
    converged: readBoolean(object, "converged"),
  };
}

/** Multi-round state as its canonical JSON document (declaration order, contributions sorted by sender). */
export function writeMultiRoundState(state: MultiRoundState): JsonValue {
  return {
    round: state.round,
    participants: [...state.participants],
    contributions: mapJson(state.contributions, (value) => value),
    convergence_type: state.convergence_type,
    converged: state.converged,
  };
}

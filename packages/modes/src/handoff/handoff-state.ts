import type { JsonValue } from "@macp/policy";
import { int64ToJson } from "@macp/protocol";
import { PersistentList } from "../state/persistent-list.js";
import { PersistentMap } from "../state/persistent-map.js";
import { StateCodec } from "../state/state-codec.js";
import {
  bytesJson,
  mapJson,
  readArray,
  readBytes,
  readEnum,
  readMap,
  readInt64,
  readNullableString,
  readObject,
  readString,
  type StateObject,
} from "../state/state-json.js";

/** Where an offer stands; the names are the stored vocabulary (§4.1). */
export const HANDOFF_DISPOSITIONS = ["Offered", "Accepted", "Declined"] as const;
/** A handoff offer disposition. */
export type HandoffDisposition = (typeof HANDOFF_DISPOSITIONS)[number];

/** One offer, fields in the reference serializer's declaration order (§8.1). */
export interface HandoffOffer {
  readonly handoff_id: string;
  readonly target_participant: string;
  readonly scope: string;
  readonly reason: string;
  readonly offered_by: string;
  readonly disposition: HandoffDisposition;
  readonly accepted_by: string | null;
  readonly declined_by: string | null;
  readonly outcome_reason: string | null;
  /** The offer envelope's own timestamp, so implicit accept replays identically. */
  readonly offered_at_ms: bigint;
}

/** One HandoffContext message. */
export interface HandoffContext {
  readonly content_type: string;
  readonly context: Uint8Array;
  readonly sender: string;
}

/**
 * Handoff mode state (§8.1): offers and context lists keyed by `handoff_id`; `dispositions`
 * counts the offers in each disposition (derived, not stored).
 */
export interface HandoffState {
  readonly offers: PersistentMap<string, HandoffOffer>;
  readonly contexts: PersistentMap<string, PersistentList<HandoffContext>>;
  readonly dispositions: Readonly<Record<HandoffDisposition, number>>;
}

/** State right after SessionStart. */
export function initialHandoffState(): HandoffState {
  return { offers: PersistentMap.empty(), contexts: PersistentMap.empty(), dispositions: { Offered: 0, Accepted: 0, Declined: 0 } };
}

/** `state` with `offer` stored under its id (new or replacing the previous version of it). */
export function withOffer(state: HandoffState, offer: HandoffOffer): HandoffState {
  const previous = state.offers.get(offer.handoff_id);
  const dispositions = { ...state.dispositions };
  if (previous !== undefined) dispositions[previous.disposition] -= 1;
  dispositions[offer.disposition] += 1;
  return { ...state, offers: state.offers.set(offer.handoff_id, offer), dispositions };
}

function readOffer(value: JsonValue): HandoffOffer {
  const object = readObject(value, "offer");
  return {
    handoff_id: readString(object, "handoff_id"),
    target_participant: readString(object, "target_participant"),
    scope: readString(object, "scope"),
    reason: readString(object, "reason"),
    offered_by: readString(object, "offered_by"),
    disposition: readEnum(object, "disposition", HANDOFF_DISPOSITIONS),
    accepted_by: readNullableString(object, "accepted_by"),
    declined_by: readNullableString(object, "declined_by"),
    outcome_reason: readNullableString(object, "outcome_reason"),
    offered_at_ms: readInt64(object, "offered_at_ms"),
  };
}

function readContext(value: JsonValue): HandoffContext {
  const object = readObject(value, "context");
  return {
    content_type: readString(object, "content_type"),
    context: readBytes(object, "context"),
    sender: readString(object, "sender"),
  };
}

/**
 * Parses stored handoff state.
 *
 * @throws MacpError `InvalidModeState` (`INVALID_ENVELOPE`) when the JSON lacks the shape.
 */
export function readHandoffState(json: JsonValue): HandoffState {
  const object = readObject(json, "handoff state");
  const offers = readMap(object, "offers", readOffer);
  const contexts = readMap(object, "contexts", (list) => PersistentList.from(readArray(list, "contexts").map(readContext)));
  return { ...offers.values().reduce(withOffer, initialHandoffState()), contexts };
}

/** Handoff state as its canonical JSON document (declaration order, maps sorted by key). */
export function writeHandoffState(state: HandoffState): StateObject {
  return {
    offers: mapJson(state.offers, (offer) => ({ ...offer, offered_at_ms: int64ToJson(offer.offered_at_ms) })),
    contexts: mapJson(state.contexts, (list) =>
      list.toArray().map((entry) => ({ content_type: entry.content_type, context: bytesJson(entry.context), sender: entry.sender })),
    ),
  };
}

/** Handoff state between its typed form and its stored JSON. */
export const HANDOFF_STATE = new StateCodec<HandoffState>(["offers", "contexts"], readHandoffState, writeHandoffState);

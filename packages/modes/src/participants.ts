import type { SessionView } from "./mode-handler.js";

/** Participant sets by the session's participant array, which stays the same object for a session's life. */
const participantSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/** The declared participants as a set, built once per participant array. */
export function participantSet(participants: readonly string[]): ReadonlySet<string> {
  let set = participantSets.get(participants);
  if (set === undefined) {
    set = new Set(participants);
    participantSets.set(participants, set);
  }
  return set;
}

/** Declared participant: exact string membership; the initiator is not implicitly one. */
export function isParticipant(session: SessionView, sender: string): boolean {
  return participantSet(session.participants).has(sender);
}

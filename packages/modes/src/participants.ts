import type { SessionView } from "./mode-handler.js";

/** Declared participant: exact string membership; the initiator is not implicitly one. */
export function isParticipant(session: SessionView, sender: string): boolean {
  return session.participants.includes(sender);
}

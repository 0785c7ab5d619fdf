import { RUNTIME_SENDER } from "@macp/protocol";
import { senderOf, stringsField, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { isTerminalStatus } from "./fold-run.js";
import type { ParticipantState, ParticipantStatus, RunBlock } from "./run-state.js";

type Participants = readonly ParticipantState[];

function isParticipantId(id: string | undefined): id is string {
  return id !== undefined && id !== "" && id !== RUNTIME_SENDER;
}

function upsert(list: Participants, id: string, update: (current: ParticipantState) => ParticipantState): Participants {
  const index = list.findIndex((p) => p.participantId === id);
  const current = index === -1 ? { participantId: id, status: "idle" as const, messageCount: 0 } : list[index]!;
  const next = update(current);
  if (next === current && index !== -1) return list;
  const copy = list.slice();
  if (index === -1) copy.push(next);
  else copy[index] = next;
  return copy;
}

function settled(status: ParticipantStatus): boolean {
  return status === "completed" || status === "failed" || status === "skipped";
}

function onMessage(list: Participants, event: CanonicalEvent, runTerminal: boolean): Participants {
  const sender = senderOf(event);
  let next = list;
  if (isParticipantId(sender)) {
    next = upsert(next, sender, (p) => ({
      ...p,
      status: runTerminal || settled(p.status) ? p.status : "active",
      latestActivityAt: event.ts,
      latestSummary: textField(event.data, "messageType") ?? p.latestSummary,
      messageCount: p.messageCount + 1,
      lastActivitySeq: event.seq,
    }));
  }
  if (runTerminal) return next;
  for (const recipient of stringsField(event.data, "to")) {
    if (!isParticipantId(recipient) || recipient === sender) continue;
    next = upsert(next, recipient, (p) => (p.status === "idle" || p.status === "active" ? { ...p, status: "waiting" } : p));
  }
  return next;
}

/**
 * The terminal sweep: participants that sent anything are `completed`, the others `skipped`; on a
 * failed run the last one to act is `failed`. Statuses never change after it.
 */
function sweep(list: Participants, status: RunBlock["status"]): Participants {
  let lastActive: ParticipantState | undefined;
  for (const p of list) {
    if (p.lastActivitySeq !== undefined && (lastActive?.lastActivitySeq === undefined || p.lastActivitySeq > lastActive.lastActivitySeq)) lastActive = p;
  }
  return list.map((p): ParticipantState => {
    if (settled(p.status)) return p;
    if (status === "failed" && p === lastActive) return { ...p, status: "failed" };
    return { ...p, status: p.messageCount > 0 ? "completed" : "skipped" };
  });
}

/** Folds one event into the participant list; `before`/`after` are the run block around the event. */
export function foldParticipants(list: Participants, event: CanonicalEvent, before: RunBlock, after: RunBlock): Participants {
  let next = list;
  switch (event.type) {
    case "participant.seen": {
      const id = textField(event.data, "participantId") ?? event.subject?.id;
      const role = textField(event.data, "role");
      if (isParticipantId(id)) next = upsert(next, id, (p) => (role !== undefined && p.role === undefined ? { ...p, role } : p));
      break;
    }
    case "session.bound":
      for (const id of stringsField(event.data, "participants")) if (isParticipantId(id)) next = upsert(next, id, (p) => p);
      break;
    case "message.received":
    case "message.sent":
      next = onMessage(next, event, isTerminalStatus(before.status));
      break;
    default:
      break;
  }
  return !isTerminalStatus(before.status) && isTerminalStatus(after.status) ? sweep(next, after.status) : next;
}

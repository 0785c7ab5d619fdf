import { RUNTIME_SENDER } from "@macp/protocol";
import { senderOf, stringsField, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { isTerminalStatus } from "./fold-run.js";
import type { ParticipantState, ParticipantStatus, RunBlock } from "./run-state.js";

type Participants = readonly ParticipantState[];

function isParticipantId(id: string | undefined): id is string {
  return id !== undefined && id !== "" && id !== RUNTIME_SENDER;
}

/** Copy-on-write access to the participant list with an id index built once per event. */
class ParticipantsDraft {
  private copy: ParticipantState[] | undefined;
  private index: Map<string, number> | undefined;
  private lookups = 0;

  constructor(private readonly list: Participants) {}

  // A few lookups scan the list; many (a large fan-out) build an index once.
  private find(id: string): number | undefined {
    const list = this.copy ?? this.list;
    if (this.index === undefined && (this.lookups += 1) <= 4) {
      const at = list.findIndex((p) => p.participantId === id);
      return at === -1 ? undefined : at;
    }
    this.index ??= new Map(list.map((p, i) => [p.participantId, i]));
    return this.index.get(id);
  }

  update(id: string, change: (current: ParticipantState) => ParticipantState): void {
    const at = this.find(id);
    const current = at === undefined ? { participantId: id, status: "idle" as const, messageCount: 0 } : (this.copy ?? this.list)[at]!;
    const next = change(current);
    if (next === current && at !== undefined) return;
    this.copy ??= this.list.slice();
    if (at === undefined) {
      this.index?.set(id, this.copy.length);
      this.copy.push(next);
    } else {
      this.copy[at] = next;
    }
  }

  result(): Participants {
    return this.copy ?? this.list;
  }
}

function settled(status: ParticipantStatus): boolean {
  return status === "completed" || status === "failed" || status === "skipped";
}

function onMessage(draft: ParticipantsDraft, event: CanonicalEvent, runTerminal: boolean): void {
  const sender = senderOf(event);
  if (isParticipantId(sender)) {
    draft.update(sender, (p) => ({
      ...p,
      status: runTerminal || settled(p.status) ? p.status : "active",
      latestActivityAt: event.ts,
      latestSummary: textField(event.data, "messageType") ?? p.latestSummary,
      messageCount: p.messageCount + 1,
      lastActivitySeq: event.seq,
    }));
  }
  if (runTerminal) return;
  for (const recipient of stringsField(event.data, "to")) {
    if (!isParticipantId(recipient) || recipient === sender) continue;
    draft.update(recipient, (p) => (p.status === "idle" || p.status === "active" ? { ...p, status: "waiting" } : p));
  }
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
  const draft = new ParticipantsDraft(list);
  switch (event.type) {
    case "participant.seen": {
      const id = textField(event.data, "participantId") ?? event.subject?.id;
      const role = textField(event.data, "role");
      if (isParticipantId(id)) draft.update(id, (p) => (role !== undefined && p.role === undefined ? { ...p, role } : p));
      break;
    }
    case "session.bound":
      for (const id of stringsField(event.data, "participants")) if (isParticipantId(id)) draft.update(id, (p) => p);
      break;
    case "message.received":
    case "message.sent":
      onMessage(draft, event, isTerminalStatus(before.status));
      break;
    default:
      break;
  }
  const next = draft.result();
  return !isTerminalStatus(before.status) && isTerminalStatus(after.status) ? sweep(next, after.status) : next;
}

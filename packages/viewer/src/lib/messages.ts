import type { CanonicalEvent } from "../api/types.js";

/** The runtime's own sender id (never a participant). */
export const RUNTIME_SENDER = "_runtime";

/** An envelope the runtime accepted, as its `message.received` event carries it. */
export interface MessageView {
  readonly seq: number;
  readonly ts: string;
  readonly messageId: string;
  readonly messageType: string;
  readonly sender: string;
  /** Explicit or inferred recipients; undefined = everyone in the session. */
  readonly to: readonly string[] | undefined;
  /** The decoded payload (protobuf JSON names). */
  readonly payload: Readonly<Record<string, unknown>>;
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The message of a `message.received` event, else undefined. */
export function messageOf(event: CanonicalEvent): MessageView | undefined {
  if (event.type !== "message.received") return undefined;
  const data = event.data as Record<string, unknown>;
  const payload = data["payload"];
  const to = Array.isArray(data["to"]) ? (data["to"] as unknown[]).filter((id): id is string => typeof id === "string" && id !== "") : undefined;
  return {
    seq: event.seq,
    ts: event.ts,
    messageId: text(data["messageId"]),
    messageType: text(data["messageType"]),
    sender: text(data["sender"]),
    to,
    payload: payload !== null && typeof payload === "object" && !Array.isArray(payload) ? (payload as Record<string, unknown>) : {},
  };
}

/** Every accepted message among `events` with seq ≤ `upToSeq`, in seq order. */
export function messagesOf(events: readonly CanonicalEvent[], upToSeq = Number.POSITIVE_INFINITY): MessageView[] {
  const out: MessageView[] = [];
  for (const event of events) {
    if (event.seq > upToSeq) continue;
    const message = messageOf(event);
    if (message !== undefined) out.push(message);
  }
  return out.sort((a, b) => a.seq - b.seq);
}

/** One line about an event for the timeline. */
export function describeEvent(event: CanonicalEvent): string {
  const data = event.data as Record<string, unknown>;
  const message = messageOf(event);
  if (message !== undefined) {
    const to = message.to === undefined ? "all" : message.to.join(", ") || "all";
    return `${message.sender || "?"} → ${to}: ${message.messageType}`;
  }
  const subject = event.subject ? `${event.subject.kind} ${event.subject.id}` : "";
  const detail = text(data["messageType"]) || text(data["status"]) || text(data["state"]) || text(data["error"]) || text(data["reason"]);
  return [subject, detail].filter((part) => part !== "").join(" · ");
}

import type { MessageView } from "./messages.js";
import { RUNTIME_SENDER } from "./messages.js";

/** Id of the node that stands for "everyone in the session" (messages without recipients). */
export const SESSION_NODE = "(session)";

/** A participant in the graph, or the session node. */
export interface GraphNodeView {
  readonly id: string;
  /** Messages it sent. */
  readonly sent: number;
  /** Seq of its latest message. */
  readonly lastSeq: number | undefined;
  /** Declared in the run request (else first seen as a sender or recipient). */
  readonly declared: boolean;
  /** The session node: the target of messages addressed to everyone. */
  readonly session: boolean;
}

/** Messages from one node to another, merged. */
export interface GraphEdgeView {
  readonly from: string;
  readonly to: string;
  readonly count: number;
  readonly lastMessageType: string;
  readonly lastSeq: number;
}

/** Participants and the messages between them. */
export interface GraphModel {
  readonly nodes: readonly GraphNodeView[];
  readonly edges: readonly GraphEdgeView[];
  /** Seq of the latest message: its edges are drawn highlighted. */
  readonly latestSeq: number | undefined;
}

/**
 * The participant graph after `messages` (in seq order): a message with recipients adds an edge
 * to each of them; one without (addressed to the whole session, e.g. a vote or the Commitment)
 * adds an edge to the session node, which appears with the first such message.
 */
export function buildGraph(declared: readonly string[], messages: readonly MessageView[]): GraphModel {
  type Node = { id: string; sent: number; lastSeq: number | undefined; declared: boolean; session: boolean };
  const nodes = new Map<string, Node>();
  const edges = new Map<string, GraphEdgeView & { count: number }>();
  const node = (id: string, isDeclared: boolean): Node => {
    let entry = nodes.get(id);
    if (entry === undefined) {
      entry = { id, sent: 0, lastSeq: undefined, declared: isDeclared, session: id === SESSION_NODE };
      nodes.set(id, entry);
    }
    return entry;
  };
  for (const id of declared) node(id, true);
  let latestSeq: number | undefined;
  for (const message of messages) {
    if (message.sender === "" || message.sender === RUNTIME_SENDER) continue;
    const sender = node(message.sender, false);
    sender.sent += 1;
    sender.lastSeq = message.seq;
    latestSeq = message.seq;
    const recipients = (message.to ?? []).filter((id) => id !== message.sender && id !== RUNTIME_SENDER);
    for (const recipient of recipients.length > 0 ? recipients : [SESSION_NODE]) {
      node(recipient, false);
      const key = `${message.sender}\u0000${recipient}`;
      const previous = edges.get(key);
      edges.set(key, { from: message.sender, to: recipient, count: (previous?.count ?? 0) + 1, lastMessageType: message.messageType, lastSeq: message.seq });
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()], latestSeq };
}

import { booleanField, payloadOf, senderOf, stringsField, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { RUN_STATE_LIMITS } from "./run-state.js";
import type { GraphEdge, GraphNode, GraphNodeKind, ParticipantState, ParticipantStatus, RunStateProjection } from "./run-state.js";

type Graph = RunStateProjection["graph"];

const START = "__start";
const PROPOSAL = "__proposal";
const DECISION = "__decision";
const OUTCOME = "__outcome";

const RANK: Readonly<Record<ParticipantStatus, number>> = { idle: 0, waiting: 1, active: 2, completed: 3, skipped: 3, failed: 3 };

const INDEX_AFTER = 4;

const CONTRIBUTION_EDGE: Readonly<Record<string, string>> = {
  Vote: "vote",
  Approve: "vote",
  Reject: "vote",
  Abstain: "vote",
  Accept: "vote",
  Evaluation: "evaluation",
  Objection: "objection",
};

/** Copy-on-write graph edits for one event; indexes are built only when something is added. */
class GraphBuilder {
  private nodes: GraphNode[] | undefined;
  private nodeIndex: Map<string, number> | undefined;
  private edges: GraphEdge[] | undefined;
  private edgeKeys: Set<string> | undefined;
  private nodeLookups = 0;
  private edgeLookups = 0;

  constructor(private readonly graph: Graph) {}

  // A few lookups scan the list; many (a terminal sweep, a large fan-out) build an index once.
  private findNode(id: string): number | undefined {
    const nodes = this.nodes ?? this.graph.nodes;
    if (this.nodeIndex === undefined && (this.nodeLookups += 1) <= INDEX_AFTER) {
      const at = nodes.findIndex((n) => n.id === id);
      return at === -1 ? undefined : at;
    }
    this.nodeIndex ??= new Map(nodes.map((n, i) => [n.id, i]));
    return this.nodeIndex.get(id);
  }

  private hasEdge(edge: GraphEdge): boolean {
    const edges = this.edges ?? this.graph.edges;
    if (this.edgeKeys === undefined && (this.edgeLookups += 1) <= INDEX_AFTER) {
      return edges.some((e) => e.from === edge.from && e.to === edge.to && e.kind === edge.kind);
    }
    this.edgeKeys ??= new Set(edges.map(edgeKey));
    return this.edgeKeys.has(edgeKey(edge));
  }

  /** Adds a node or promotes its status; a status never moves back. */
  node(id: string, kind: GraphNodeKind, status: ParticipantStatus): void {
    const at = this.findNode(id);
    const current = at === undefined ? undefined : (this.nodes ?? this.graph.nodes)[at]!;
    if (current !== undefined && RANK[current.status] >= RANK[status]) return;
    this.nodes ??= this.graph.nodes.slice();
    const next = { id, kind: current?.kind ?? kind, status };
    if (at === undefined) {
      this.nodeIndex?.set(id, this.nodes.length);
      this.nodes.push(next);
    } else {
      this.nodes[at] = next;
    }
  }

  /** Adds an edge unless the same (from, to, kind) exists. */
  edge(from: string, to: string, kind: string, ts: string): void {
    const edge = { from, to, kind, ts };
    if (from === to || this.hasEdge(edge)) return;
    this.edgeKeys?.add(edgeKey(edge));
    this.edges ??= this.graph.edges.slice();
    this.edges.push(edge);
  }

  /** The edited graph; beyond the cap the oldest edges go. */
  result(): Graph {
    if (this.nodes === undefined && this.edges === undefined) return this.graph;
    const edges = this.edges ?? this.graph.edges;
    const cap = RUN_STATE_LIMITS.graphEdges;
    return { nodes: this.nodes ?? this.graph.nodes, edges: edges.length > cap ? edges.slice(edges.length - cap) : edges };
  }
}

function edgeKey(edge: GraphEdge): string {
  return `${edge.from}\n${edge.to}\n${edge.kind}`;
}

/**
 * Folds one event into the graph: a node per participant (status follows the participant, only
 * promoted), synthetic `__start`/`__proposal`/`__decision`/`__outcome` nodes, and deduplicated
 * edges for binding, fan-out, proposals, reviews, contributions, commitments and sent messages.
 * `changed` are the participants whose state this event changed.
 */
export function foldGraph(graph: Graph, event: CanonicalEvent, changed: readonly ParticipantState[]): Graph {
  const g = new GraphBuilder(graph);
  for (const p of changed) g.node(p.participantId, "participant", p.status);
  const sender = senderOf(event);
  const to = stringsField(event.data, "to");
  switch (event.type) {
    case "session.bound":
      g.node(START, "start", "completed");
      for (const p of stringsField(event.data, "participants")) g.edge(START, p, "session.bound", event.ts);
      break;
    case "message.received":
      if (textField(event.data, "messageType") === "SessionStart" && sender !== undefined) {
        g.node(START, "start", "completed");
        g.edge(sender, START, "starts", event.ts);
        for (const p of to) g.edge(START, p, "fanout", event.ts);
      }
      break;
    case "message.sent":
      if (sender !== undefined) for (const p of to) g.edge(sender, p, "message.sent", event.ts);
      break;
    case "proposal.created":
      g.node(PROPOSAL, "proposal", "active");
      if (sender !== undefined) g.edge(sender, PROPOSAL, "proposes", event.ts);
      for (const p of to) g.edge(PROPOSAL, p, "review", event.ts);
      break;
    case "proposal.updated": {
      g.node(PROPOSAL, "proposal", "active");
      const messageType = textField(event.data, "messageType") ?? "contribution";
      if (sender !== undefined) g.edge(sender, PROPOSAL, CONTRIBUTION_EDGE[messageType] ?? messageType, event.ts);
      break;
    }
    case "decision.finalized": {
      const positive = booleanField(payloadOf(event), "outcomePositive");
      if ((graph.nodes.some((n) => n.id === PROPOSAL))) {
        g.node(PROPOSAL, "proposal", "completed");
        g.edge(PROPOSAL, DECISION, "resolves", event.ts);
      }
      g.node(DECISION, "decision", "completed");
      g.node(OUTCOME, "outcome", positive === false ? "failed" : "completed");
      if (sender !== undefined) g.edge(sender, DECISION, "commits", event.ts);
      g.edge(DECISION, OUTCOME, "outcome", event.ts);
      break;
    }
    default:
      break;
  }
  return g.result();
}

import type { MessageView } from "./messages.js";
import type { ModeKind } from "./run-summary.js";

// Each mode's own view of a session, read from the messages the runtime accepted (protobuf JSON
// names of the mode's payloads, proto/macp/modes/*). Vote tallies and policy verdicts come from
// the projection instead (the control plane folds them against the bound policy).

/** The Commitment that closed the session. */
export interface CommitmentView {
  readonly seq: number;
  readonly by: string;
  readonly action: string;
  readonly reason: string;
  readonly outcomePositive: boolean | undefined;
  readonly policyVersion: string;
}

/** Someone's reply to an item (evaluation, objection, vote, ballot, acceptance …). */
export interface ReplyView {
  readonly seq: number;
  readonly by: string;
  readonly kind: string;
  readonly reason: string;
  /** Vote value, recommendation, severity or ballot. */
  readonly value?: string;
  readonly confidence?: number;
}

/** Decision: proposals with their evaluations, objections and votes. */
export interface DecisionView {
  readonly kind: "decision";
  readonly proposals: readonly { readonly id: string; readonly seq: number; readonly by: string; readonly option: string; readonly rationale: string; readonly replies: readonly ReplyView[] }[];
}

/** Task: requests, assignment and progress. */
export interface TaskView {
  readonly kind: "task";
  readonly tasks: readonly {
    readonly id: string;
    readonly seq: number;
    readonly by: string;
    readonly title: string;
    readonly instructions: string;
    readonly requestedAssignee: string;
    readonly assignee: string | undefined;
    readonly status: "requested" | "accepted" | "rejected" | "working" | "completed" | "failed";
    /** 0–100. */
    readonly progress: number | undefined;
    readonly updates: readonly ReplyView[];
  }[];
}

/** Quorum: approval requests and ballots against the required approvals. */
export interface QuorumView {
  readonly kind: "quorum";
  readonly requests: readonly {
    readonly id: string;
    readonly seq: number;
    readonly by: string;
    readonly action: string;
    readonly summary: string;
    readonly requiredApprovals: number;
    readonly approvals: number;
    readonly rejections: number;
    readonly abstentions: number;
    readonly ballots: readonly ReplyView[];
  }[];
}

/** Proposal: offers, counter-offers and their answers. */
export interface ProposalView {
  readonly kind: "proposal";
  readonly proposals: readonly {
    readonly id: string;
    readonly seq: number;
    readonly by: string;
    readonly title: string;
    readonly summary: string;
    readonly supersedes: string | undefined;
    readonly status: "open" | "accepted" | "rejected" | "withdrawn";
    readonly replies: readonly ReplyView[];
  }[];
}

/** Handoff: offers, context and their disposition. */
export interface HandoffView {
  readonly kind: "handoff";
  readonly handoffs: readonly {
    readonly id: string;
    readonly seq: number;
    readonly by: string;
    readonly target: string;
    readonly scope: string;
    readonly reason: string;
    readonly contexts: number;
    readonly disposition: "offered" | "accepted" | "declined";
    readonly replies: readonly ReplyView[];
  }[];
}

/** Any other mode: how many messages of each type. */
export interface OtherView {
  readonly kind: "other";
  readonly counts: readonly { readonly messageType: string; readonly count: number }[];
}

/** The mode's view plus the session's Commitment, if any. */
export type ModeView = (DecisionView | TaskView | QuorumView | ProposalView | HandoffView | OtherView) & { readonly commitment: CommitmentView | undefined };

function str(payload: Readonly<Record<string, unknown>>, key: string): string {
  const value = payload[key];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

function num(payload: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = payload[key];
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}

function reply(message: MessageView, kind: string, reason: string, value?: string, confidence?: number): ReplyView {
  return { seq: message.seq, by: message.sender, kind, reason, ...(value === undefined || value === "" ? {} : { value }), ...(confidence === undefined ? {} : { confidence }) };
}

function commitmentOf(messages: readonly MessageView[]): CommitmentView | undefined {
  const message = messages.findLast((candidate) => candidate.messageType === "Commitment");
  if (message === undefined) return undefined;
  const outcome = message.payload["outcomePositive"];
  return {
    seq: message.seq,
    by: message.sender,
    action: str(message.payload, "action"),
    reason: str(message.payload, "reason"),
    outcomePositive: typeof outcome === "boolean" ? outcome : undefined,
    policyVersion: str(message.payload, "policyVersion"),
  };
}

/** Progress as 0–100 (payloads give 0–1 fractions or percentages). */
function percentage(progress: number | undefined): number | undefined {
  if (progress === undefined || progress < 0) return undefined;
  return Math.min(100, progress <= 1 ? progress * 100 : progress);
}

function decisionView(messages: readonly MessageView[]): DecisionView {
  const proposals = new Map<string, { id: string; seq: number; by: string; option: string; rationale: string; replies: ReplyView[] }>();
  const about = (id: string, message: MessageView) => {
    let proposal = proposals.get(id);
    if (proposal === undefined) {
      proposal = { id, seq: message.seq, by: "", option: "", rationale: "", replies: [] };
      proposals.set(id, proposal);
    }
    return proposal;
  };
  for (const message of messages) {
    const { payload } = message;
    const id = str(payload, "proposalId");
    switch (message.messageType) {
      case "Proposal": {
        const proposal = about(id, message);
        Object.assign(proposal, { seq: message.seq, by: message.sender, option: str(payload, "option"), rationale: str(payload, "rationale") });
        break;
      }
      case "Evaluation":
        about(id, message).replies.push(reply(message, "evaluation", str(payload, "reason"), str(payload, "recommendation"), num(payload, "confidence")));
        break;
      case "Objection":
        about(id, message).replies.push(reply(message, "objection", str(payload, "reason"), str(payload, "severity")));
        break;
      case "Vote":
        about(id, message).replies.push(reply(message, "vote", str(payload, "reason"), str(payload, "vote")));
        break;
    }
  }
  return { kind: "decision", proposals: [...proposals.values()] };
}

function taskView(messages: readonly MessageView[]): TaskView {
  type Task = TaskView["tasks"][number] & { updates: ReplyView[] };
  const tasks = new Map<string, Task>();
  const task = (id: string, message: MessageView): Task => {
    let entry = tasks.get(id);
    if (entry === undefined) {
      entry = { id, seq: message.seq, by: "", title: "", instructions: "", requestedAssignee: "", assignee: undefined, status: "requested", progress: undefined, updates: [] };
      tasks.set(id, entry);
    }
    return entry;
  };
  for (const message of messages) {
    const { payload } = message;
    const id = str(payload, "taskId");
    const assignee = str(payload, "assignee") || message.sender;
    switch (message.messageType) {
      case "TaskRequest":
        Object.assign(task(id, message), { seq: message.seq, by: message.sender, title: str(payload, "title"), instructions: str(payload, "instructions"), requestedAssignee: str(payload, "requestedAssignee") });
        break;
      case "TaskAccept":
        Object.assign(task(id, message), { assignee, status: "accepted" });
        task(id, message).updates.push(reply(message, "accepted", str(payload, "reason")));
        break;
      case "TaskReject":
        Object.assign(task(id, message), { status: "rejected" });
        task(id, message).updates.push(reply(message, "rejected", str(payload, "reason")));
        break;
      case "TaskUpdate": {
        const entry = task(id, message);
        entry.updates.push(reply(message, "update", str(payload, "message"), str(payload, "status")));
        Object.assign(entry, { status: "working", progress: percentage(num(payload, "progress")) ?? entry.progress });
        break;
      }
      case "TaskComplete":
        Object.assign(task(id, message), { assignee, status: "completed", progress: 100 });
        task(id, message).updates.push(reply(message, "completed", str(payload, "summary")));
        break;
      case "TaskFail":
        Object.assign(task(id, message), { status: "failed" });
        task(id, message).updates.push(reply(message, "failed", str(payload, "reason"), str(payload, "errorCode")));
        break;
    }
  }
  return { kind: "task", tasks: [...tasks.values()] };
}

function quorumView(messages: readonly MessageView[]): QuorumView {
  type Request = { id: string; seq: number; by: string; action: string; summary: string; requiredApprovals: number; ballots: Map<string, ReplyView> };
  const requests = new Map<string, Request>();
  const request = (id: string, message: MessageView): Request => {
    let entry = requests.get(id);
    if (entry === undefined) {
      entry = { id, seq: message.seq, by: "", action: "", summary: "", requiredApprovals: 0, ballots: new Map() };
      requests.set(id, entry);
    }
    return entry;
  };
  for (const message of messages) {
    const { payload } = message;
    const id = str(payload, "requestId");
    if (message.messageType === "ApprovalRequest") {
      Object.assign(request(id, message), { seq: message.seq, by: message.sender, action: str(payload, "action"), summary: str(payload, "summary"), requiredApprovals: num(payload, "requiredApprovals") ?? 0 });
    } else if (message.messageType === "Approve" || message.messageType === "Reject" || message.messageType === "Abstain") {
      // A participant's latest ballot replaces an earlier one.
      request(id, message).ballots.set(message.sender, reply(message, message.messageType.toLowerCase(), str(payload, "reason")));
    }
  }
  return {
    kind: "quorum",
    requests: [...requests.values()].map(({ ballots, ...rest }) => {
      const list = [...ballots.values()];
      return {
        ...rest,
        approvals: list.filter((ballot) => ballot.kind === "approve").length,
        rejections: list.filter((ballot) => ballot.kind === "reject").length,
        abstentions: list.filter((ballot) => ballot.kind === "abstain").length,
        ballots: list,
      };
    }),
  };
}

function proposalView(messages: readonly MessageView[]): ProposalView {
  type Proposal = ProposalView["proposals"][number] & { replies: ReplyView[] };
  const proposals = new Map<string, Proposal>();
  const proposal = (id: string, message: MessageView): Proposal => {
    let entry = proposals.get(id);
    if (entry === undefined) {
      entry = { id, seq: message.seq, by: "", title: "", summary: "", supersedes: undefined, status: "open", replies: [] };
      proposals.set(id, entry);
    }
    return entry;
  };
  for (const message of messages) {
    const { payload } = message;
    const id = str(payload, "proposalId");
    switch (message.messageType) {
      case "Proposal":
      case "CounterProposal": {
        const supersedes = str(payload, "supersedesProposalId");
        Object.assign(proposal(id, message), { seq: message.seq, by: message.sender, title: str(payload, "title"), summary: str(payload, "summary"), supersedes: supersedes === "" ? undefined : supersedes });
        break;
      }
      case "Accept":
        Object.assign(proposal(id, message), { status: "accepted" });
        proposal(id, message).replies.push(reply(message, "accept", str(payload, "reason")));
        break;
      case "Reject": {
        const entry = proposal(id, message);
        entry.replies.push(reply(message, payload["terminal"] === true ? "reject (terminal)" : "reject", str(payload, "reason")));
        if (payload["terminal"] === true) Object.assign(entry, { status: "rejected" });
        break;
      }
      case "Withdraw":
        Object.assign(proposal(id, message), { status: "withdrawn" });
        proposal(id, message).replies.push(reply(message, "withdraw", str(payload, "reason")));
        break;
    }
  }
  return { kind: "proposal", proposals: [...proposals.values()] };
}

function handoffView(messages: readonly MessageView[]): HandoffView {
  type Handoff = HandoffView["handoffs"][number] & { replies: ReplyView[] };
  const handoffs = new Map<string, Handoff>();
  const handoff = (id: string, message: MessageView): Handoff => {
    let entry = handoffs.get(id);
    if (entry === undefined) {
      entry = { id, seq: message.seq, by: "", target: "", scope: "", reason: "", contexts: 0, disposition: "offered", replies: [] };
      handoffs.set(id, entry);
    }
    return entry;
  };
  for (const message of messages) {
    const { payload } = message;
    const id = str(payload, "handoffId");
    switch (message.messageType) {
      case "HandoffOffer":
        Object.assign(handoff(id, message), { seq: message.seq, by: message.sender, target: str(payload, "targetParticipant"), scope: str(payload, "scope"), reason: str(payload, "reason") });
        break;
      case "HandoffContext": {
        const entry = handoff(id, message);
        Object.assign(entry, { contexts: entry.contexts + 1 });
        entry.replies.push(reply(message, "context", "", str(payload, "contentType")));
        break;
      }
      case "HandoffAccept":
        Object.assign(handoff(id, message), { disposition: "accepted" });
        handoff(id, message).replies.push(reply(message, "accept", str(payload, "reason")));
        break;
      case "HandoffDecline":
        Object.assign(handoff(id, message), { disposition: "declined" });
        handoff(id, message).replies.push(reply(message, "decline", str(payload, "reason")));
        break;
    }
  }
  return { kind: "handoff", handoffs: [...handoffs.values()] };
}

function otherView(messages: readonly MessageView[]): OtherView {
  const counts = new Map<string, number>();
  for (const message of messages) counts.set(message.messageType, (counts.get(message.messageType) ?? 0) + 1);
  return { kind: "other", counts: [...counts].map(([messageType, count]) => ({ messageType, count })) };
}

/** The view of `mode` over the accepted messages (in seq order). */
export function deriveModeView(mode: ModeKind, messages: readonly MessageView[]): ModeView {
  const commitment = commitmentOf(messages);
  switch (mode) {
    case "decision":
      return { ...decisionView(messages), commitment };
    case "task":
      return { ...taskView(messages), commitment };
    case "quorum":
      return { ...quorumView(messages), commitment };
    case "proposal":
      return { ...proposalView(messages), commitment };
    case "handoff":
      return { ...handoffView(messages), commitment };
    default:
      return { ...otherView(messages), commitment };
  }
}

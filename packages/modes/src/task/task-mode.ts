import { MacpError, ModeId, type SessionStartPayload, type task } from "@macp/protocol";
import { evaluateTask, parseTaskRules, type JsonValue } from "@macp/policy";
import { authorizeCommitment, validateCommitment } from "../commitment-rules.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "../mode-handler.js";
import { isParticipant } from "../participants.js";
import { decodeModePayload } from "../payload-decoding.js";
import { forbidden, invalidPayload, runStep } from "../step-errors.js";
import {
  TASK_STATE,
  initialTaskState,
  taskPolicyInput,
  type TaskRecord,
  type TaskState,
} from "./task-state.js";

/** Deny reasons surfaced outside Commitment (§12.10), wire-visible in `details.reasons`. */
const REASSIGNMENT_AFTER_REJECTION = "reassignment after rejection not allowed by policy";
const ACTIVE_ASSIGNEE_REJECT = "active assignee cannot reject without allow_reassignment_on_reject policy";

function reassignmentAllowed(session: SessionView): boolean {
  return parseTaskRules(session.policy?.rules ?? {}).allowReassignmentOnReject;
}

function authorize(session: SessionView, envelope: ModeEnvelope): MacpError | undefined {
  switch (envelope.messageType) {
    case "TaskRequest":
      return envelope.sender === session.initiator ? undefined : forbidden("only the initiator may request the task");
    case "Commitment":
      return authorizeCommitment(session, envelope.sender);
    default:
      return isParticipant(session, envelope.sender) ? undefined : forbidden(`${envelope.sender} is not a declared participant`);
  }
}

/** The task a message refers to; `task_id` must name it exactly. */
function requireTask(state: TaskState, taskId: string): TaskRecord {
  if (state.task === null) throw invalidPayload("no task has been requested");
  if (taskId !== state.task.task_id) throw invalidPayload(`unknown task '${taskId}'`);
  return state.task;
}

/** With a requested assignee only that id may respond; otherwise any participant but the initiator. */
function isEligibleResponder(session: SessionView, requested: TaskRecord, sender: string): boolean {
  if (requested.requested_assignee !== "") return sender === requested.requested_assignee;
  return sender !== session.initiator && isParticipant(session, sender);
}

function requireAssigneeField(assignee: string, sender: string): void {
  if (assignee !== "" && assignee !== sender) throw invalidPayload("assignee must be empty or the sender");
}

function applyRequest(session: SessionView, state: TaskState, envelope: ModeEnvelope): TaskState {
  const payload = decodeModePayload<task.TaskRequestPayload>(ModeId.Task, "TaskRequest", envelope.payload);
  if (state.task !== null) throw invalidPayload("a session carries exactly one task");
  if (payload.taskId === "") throw invalidPayload("task_id must not be empty");
  if (payload.requestedAssignee !== "" && !isParticipant(session, payload.requestedAssignee)) {
    throw invalidPayload(`requested assignee ${payload.requestedAssignee} is not a declared participant`);
  }
  const record: TaskRecord = {
    task_id: payload.taskId,
    title: payload.title,
    instructions: payload.instructions,
    requested_assignee: payload.requestedAssignee,
    input: payload.input,
    deadline_unix_ms: payload.deadlineUnixMs,
    requester: envelope.sender,
  };
  return { ...state, task: record };
}

function applyAccept(session: SessionView, state: TaskState, envelope: ModeEnvelope): TaskState {
  const payload = decodeModePayload<task.TaskAcceptPayload>(ModeId.Task, "TaskAccept", envelope.payload);
  const requested = requireTask(state, payload.taskId);
  if (state.active_assignee !== null) throw invalidPayload("the task already has an active assignee");
  if (state.rejections.length > 0 && !reassignmentAllowed(session)) {
    throw MacpError.policyDenied([REASSIGNMENT_AFTER_REJECTION]);
  }
  requireAssigneeField(payload.assignee, envelope.sender);
  if (!isEligibleResponder(session, requested, envelope.sender)) throw forbidden(`${envelope.sender} may not take this task`);
  return { ...state, active_assignee: envelope.sender };
}

function applyReject(session: SessionView, state: TaskState, envelope: ModeEnvelope): TaskState {
  const payload = decodeModePayload<task.TaskRejectPayload>(ModeId.Task, "TaskReject", envelope.payload);
  const requested = requireTask(state, payload.taskId);
  const active = state.active_assignee;
  if (active !== null) {
    if (envelope.sender !== active) throw invalidPayload("the task is assigned to someone else");
    if (!reassignmentAllowed(session)) throw MacpError.policyDenied([ACTIVE_ASSIGNEE_REJECT]);
  }
  requireAssigneeField(payload.assignee, envelope.sender);
  if (active === null && !isEligibleResponder(session, requested, envelope.sender)) {
    throw forbidden(`${envelope.sender} may not respond to this task`);
  }
  if (state.rejections.some((rejection) => rejection.assignee === envelope.sender)) {
    throw invalidPayload(`${envelope.sender} already rejected the task`);
  }
  const rejection = { task_id: payload.taskId, assignee: envelope.sender, reason: payload.reason };
  return {
    ...state,
    active_assignee: active === envelope.sender ? null : active,
    rejections: [...state.rejections, rejection],
  };
}

/** Only the active assignee reports, and nothing after the terminal report. */
function requireReporter(state: TaskState, sender: string): void {
  if (state.terminal_report !== null) throw forbidden("the task already has a terminal report");
  if (state.active_assignee !== sender) throw forbidden(`${sender} is not the active assignee`);
}

function applyUpdate(state: TaskState, envelope: ModeEnvelope): TaskState {
  const payload = decodeModePayload<task.TaskUpdatePayload>(ModeId.Task, "TaskUpdate", envelope.payload);
  requireTask(state, payload.taskId);
  requireReporter(state, envelope.sender);
  // The reference stores a non-finite progress as null and then cannot read its own state back.
  if (!Number.isFinite(payload.progress)) throw invalidPayload("progress must be a finite number");
  const update = {
    task_id: payload.taskId,
    status: payload.status,
    progress: payload.progress,
    message: payload.message,
    partial_output: payload.partialOutput,
    sender: envelope.sender,
  };
  return { ...state, updates: state.updates.append(update) };
}

function applyComplete(state: TaskState, envelope: ModeEnvelope): TaskState {
  const payload = decodeModePayload<task.TaskCompletePayload>(ModeId.Task, "TaskComplete", envelope.payload);
  requireTask(state, payload.taskId);
  requireReporter(state, envelope.sender);
  requireAssigneeField(payload.assignee, envelope.sender);
  const report = { task_id: payload.taskId, assignee: envelope.sender, output: payload.output, summary: payload.summary };
  return { ...state, terminal_report: { kind: "Complete", report } };
}

function applyFail(state: TaskState, envelope: ModeEnvelope): TaskState {
  const payload = decodeModePayload<task.TaskFailPayload>(ModeId.Task, "TaskFail", envelope.payload);
  requireTask(state, payload.taskId);
  requireReporter(state, envelope.sender);
  requireAssigneeField(payload.assignee, envelope.sender);
  const report = {
    task_id: payload.taskId,
    assignee: envelope.sender,
    error_code: payload.errorCode,
    reason: payload.reason,
    retryable: payload.retryable,
  };
  return { ...state, terminal_report: { kind: "Fail", report } };
}

function applyCommitment(session: SessionView, state: TaskState, envelope: ModeEnvelope): ModeOutcome {
  validateCommitment(session, envelope.payload);
  if (state.terminal_report === null) throw invalidPayload("a commitment needs a TaskComplete or TaskFail first");
  const verdict = evaluateTask(session.policy, taskPolicyInput(state));
  if (!verdict.allowed) return rejected(MacpError.policyDenied(verdict.reasons));
  return accepted(TASK_STATE.json(state), envelope.payload);
}

function step(session: SessionView, stored: JsonValue, envelope: ModeEnvelope): ModeOutcome {
  const state = TASK_STATE.read(stored);
  const next = (updated: TaskState): ModeOutcome => accepted(TASK_STATE.json(updated));
  switch (envelope.messageType) {
    case "TaskRequest":
      return next(applyRequest(session, state, envelope));
    case "TaskAccept":
      return next(applyAccept(session, state, envelope));
    case "TaskReject":
      return next(applyReject(session, state, envelope));
    case "TaskUpdate":
      return next(applyUpdate(state, envelope));
    case "TaskComplete":
      return next(applyComplete(state, envelope));
    case "TaskFail":
      return next(applyFail(state, envelope));
    case "Commitment":
      return applyCommitment(session, state, envelope);
    default:
      throw invalidPayload(`message type '${envelope.messageType}' is not part of task mode`);
  }
}

/**
 * `macp.mode.task.v1` (modes-and-policy.md §7): one task requested by the initiator, accepted or
 * rejected by eligible participants, reported on by the active assignee, then a Commitment.
 */
export const taskMode: ModeHandler = {
  start(session: SessionView, _payload: SessionStartPayload): ModeOutcome {
    if (session.participants.length < 2) return rejected(invalidPayload("task mode needs at least two participants"));
    if (!isParticipant(session, session.initiator)) return rejected(invalidPayload("the task initiator must be a participant"));
    return accepted(TASK_STATE.json(initialTaskState()));
  },

  apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    const denied = authorize(session, envelope);
    if (denied !== undefined) return rejected(denied);
    return runStep(() => step(session, state, envelope));
  },
};

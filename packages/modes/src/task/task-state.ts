import type { JsonValue, TaskPolicyInput } from "@macp/policy";
import { int64ToJson } from "@macp/protocol";
import { PersistentList } from "../state/persistent-list.js";
import { StateCodec } from "../state/state-codec.js";
import {
  bytesJson,
  corruptState,
  field,
  readArray,
  readBoolean,
  readBytes,
  readInt64,
  readNullableString,
  readNumber,
  readObject,
  readString,
  type StateObject,
} from "../state/state-json.js";

/** The one task of a session, as requested by the initiator. */
export interface TaskRecord {
  readonly task_id: string;
  readonly title: string;
  readonly instructions: string;
  readonly requested_assignee: string;
  readonly input: Uint8Array;
  /** Stored, never enforced (§7); exact over the whole int64 range (SDKs send i64::MAX for "none"). */
  readonly deadline_unix_ms: bigint;
  readonly requester: string;
}

/** A TaskReject, recorded against its sender. */
export interface TaskRejection {
  readonly task_id: string;
  readonly assignee: string;
  readonly reason: string;
}

/** A progress report from the active assignee. */
export interface TaskUpdate {
  readonly task_id: string;
  readonly status: string;
  readonly progress: number;
  readonly message: string;
  readonly partial_output: Uint8Array;
  readonly sender: string;
}

/** Body of a `Complete` terminal report. */
export interface TaskCompletion {
  readonly task_id: string;
  readonly assignee: string;
  readonly output: Uint8Array;
  readonly summary: string;
}

/** Body of a `Fail` terminal report. */
export interface TaskFailure {
  readonly task_id: string;
  readonly assignee: string;
  readonly error_code: string;
  readonly reason: string;
  readonly retryable: boolean;
}

/** The single terminal report, externally tagged in JSON (`{"Complete":…}` / `{"Fail":…}`). */
export type TerminalReport =
  | { readonly kind: "Complete"; readonly report: TaskCompletion }
  | { readonly kind: "Fail"; readonly report: TaskFailure };

/** Task mode state (§7.1); it has no phase field. */
export interface TaskState {
  readonly task: TaskRecord | null;
  readonly active_assignee: string | null;
  readonly rejections: readonly TaskRejection[];
  readonly updates: PersistentList<TaskUpdate>;
  readonly terminal_report: TerminalReport | null;
}

/** State right after SessionStart. */
export function initialTaskState(): TaskState {
  return { task: null, active_assignee: null, rejections: [], updates: PersistentList.empty(), terminal_report: null };
}

function readTask(value: JsonValue | undefined): TaskRecord | null {
  if (value === null) return null;
  const object = readObject(value, "task");
  return {
    task_id: readString(object, "task_id"),
    title: readString(object, "title"),
    instructions: readString(object, "instructions"),
    requested_assignee: readString(object, "requested_assignee"),
    input: readBytes(object, "input"),
    deadline_unix_ms: readInt64(object, "deadline_unix_ms"),
    requester: readString(object, "requester"),
  };
}

function readRejection(value: JsonValue): TaskRejection {
  const object = readObject(value, "rejection");
  return {
    task_id: readString(object, "task_id"),
    assignee: readString(object, "assignee"),
    reason: readString(object, "reason"),
  };
}

function readUpdate(value: JsonValue): TaskUpdate {
  const object = readObject(value, "update");
  return {
    task_id: readString(object, "task_id"),
    status: readString(object, "status"),
    progress: readNumber(object, "progress"),
    message: readString(object, "message"),
    partial_output: readBytes(object, "partial_output"),
    sender: readString(object, "sender"),
  };
}

function readCompletion(object: StateObject): TaskCompletion {
  return {
    task_id: readString(object, "task_id"),
    assignee: readString(object, "assignee"),
    output: readBytes(object, "output"),
    summary: readString(object, "summary"),
  };
}

function readFailure(object: StateObject): TaskFailure {
  return {
    task_id: readString(object, "task_id"),
    assignee: readString(object, "assignee"),
    error_code: readString(object, "error_code"),
    reason: readString(object, "reason"),
    retryable: readBoolean(object, "retryable"),
  };
}

function readReport(value: JsonValue | undefined): TerminalReport | null {
  if (value === null) return null;
  const object = readObject(value, "terminal_report");
  const tags = Object.keys(object);
  if (tags.length !== 1) throw corruptState("terminal_report must carry exactly one tag");
  if (tags[0] === "Complete") return { kind: "Complete", report: readCompletion(readObject(field(object, "Complete"), "Complete")) };
  if (tags[0] === "Fail") return { kind: "Fail", report: readFailure(readObject(field(object, "Fail"), "Fail")) };
  throw corruptState(`terminal_report has unknown tag '${tags[0] ?? ""}'`);
}

/**
 * Parses stored task state.
 *
 * @throws MacpError `InvalidModeState` (`INVALID_ENVELOPE`) when the JSON lacks the shape.
 */
export function readTaskState(json: JsonValue): TaskState {
  const object = readObject(json, "task state");
  return {
    task: readTask(field(object, "task")),
    active_assignee: readNullableString(object, "active_assignee"),
    rejections: readArray(field(object, "rejections"), "rejections").map(readRejection),
    updates: PersistentList.from(readArray(field(object, "updates"), "updates").map(readUpdate)),
    terminal_report: readReport(field(object, "terminal_report")),
  };
}

function taskJson(task: TaskRecord): JsonValue {
  return { ...task, input: bytesJson(task.input), deadline_unix_ms: int64ToJson(task.deadline_unix_ms) };
}

function updateJson(update: TaskUpdate): JsonValue {
  return { ...update, partial_output: bytesJson(update.partial_output) };
}

function reportJson(report: TerminalReport): JsonValue {
  return report.kind === "Complete"
    ? { Complete: { ...report.report, output: bytesJson(report.report.output) } }
    : { Fail: { ...report.report } };
}

/** Task state as its canonical JSON document (declaration order). */
export function writeTaskState(state: TaskState): StateObject {
  return {
    task: state.task === null ? null : taskJson(state.task),
    active_assignee: state.active_assignee,
    rejections: state.rejections.map((rejection) => ({ ...rejection })),
    updates: state.updates.toArray().map(updateJson),
    terminal_report: state.terminal_report === null ? null : reportJson(state.terminal_report),
  };
}

/** What the Task evaluator reads: the externally tagged terminal report. */
export function taskPolicyInput(state: TaskState): TaskPolicyInput {
  const report = state.terminal_report;
  if (report === null) return { terminal_report: null };
  return { terminal_report: report.kind === "Complete" ? { Complete: report.report } : { Fail: report.report } };
}

/** Task state between its typed form and its stored JSON. */
export const TASK_STATE = new StateCodec<TaskState>(
  ["task", "active_assignee", "rejections", "updates", "terminal_report"],
  readTaskState,
  writeTaskState,
);

import { task as wire } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { describe, expect, it } from "vitest";
import { taskMode } from "../src/index.js";
import {
  acceptedState,
  commitmentBytes,
  customPolicy,
  envelope,
  expectRejected,
  frozenCopy,
  run,
  sessionView,
  startPayload,
  type Step,
} from "./mode-test-kit.js";

const MODE = "macp.mode.task.v1";
const PLANNER = "agent://planner";
const W1 = "agent://w1";
const W2 = "agent://w2";
const session = sessionView(MODE, PLANNER, [PLANNER, W1, W2]);
const reassigning = sessionView(MODE, PLANNER, [PLANNER, W1, W2], customPolicy({ assignment: { allow_reassignment_on_reject: true } }));
const requiringOutput = sessionView(MODE, PLANNER, [PLANNER, W1, W2], customPolicy({ completion: { require_output: true } }));

const request = (sender: string, requestedAssignee = "", taskId = "t1"): Step => ({
  type: "TaskRequest",
  sender,
  payload: wire.TaskRequestPayload.encode({ taskId, title: "Build", instructions: "Do it", requestedAssignee, input: Uint8Array.of(1, 2), deadlineUnixMs: 99n }).finish(),
});
const acceptTask = (sender: string, assignee = "", taskId = "t1"): Step => ({
  type: "TaskAccept",
  sender,
  payload: wire.TaskAcceptPayload.encode({ taskId, assignee, reason: "ok" }).finish(),
});
const rejectTask = (sender: string, assignee = "", taskId = "t1"): Step => ({
  type: "TaskReject",
  sender,
  payload: wire.TaskRejectPayload.encode({ taskId, assignee, reason: "busy" }).finish(),
});
const update = (sender: string, progress = 0.5, taskId = "t1"): Step => ({
  type: "TaskUpdate",
  sender,
  payload: wire.TaskUpdatePayload.encode({ taskId, status: "working", progress, message: "m", partialOutput: Uint8Array.of(3) }).finish(),
});
const complete = (sender: string, output: Uint8Array = Uint8Array.of(9), assignee = "", taskId = "t1"): Step => ({
  type: "TaskComplete",
  sender,
  payload: wire.TaskCompletePayload.encode({ taskId, assignee, output, summary: "done" }).finish(),
});
const fail = (sender: string, assignee = "", taskId = "t1"): Step => ({
  type: "TaskFail",
  sender,
  payload: wire.TaskFailPayload.encode({ taskId, assignee, errorCode: "E1", reason: "broke", retryable: true }).finish(),
});
const commit = (sender: string, overrides: Parameters<typeof commitmentBytes>[0] = {}): Step => ({
  type: "Commitment",
  sender,
  payload: commitmentBytes(overrides),
});
const raw = (type: string, sender: string, payload: Uint8Array): Step => ({ type, sender, payload });
const GARBAGE = Uint8Array.of(0x0a, 0x09, 0x70);

const initial = acceptedState(taskMode.start(session, startPayload(session)));
const requested = run(taskMode, session, [request(PLANNER)]);
const requestedForW1 = run(taskMode, session, [request(PLANNER, W1)]);
const assigned = run(taskMode, session, [request(PLANNER), acceptTask(W1)]);
const rejectedByW1 = run(taskMode, session, [request(PLANNER), rejectTask(W1)]);
const completed = run(taskMode, session, [request(PLANNER), acceptTask(W1), complete(W1)]);
const failed = run(taskMode, session, [request(PLANNER), acceptTask(W1), fail(W1)]);

interface Rejection {
  readonly name: string;
  readonly state: JsonValue;
  readonly step: Step;
  readonly code: string;
  readonly variant: string;
  readonly message: RegExp;
  readonly on?: typeof session;
  readonly reasons?: readonly string[];
}

const rejections: readonly Rejection[] = [
  // §7.2 authorization.
  { name: "TaskRequest from a participant other than the initiator (fixture)", state: initial, step: request(W1, W1), code: "FORBIDDEN", variant: "Forbidden", message: /only the initiator/ },
  { name: "TaskRequest from an outsider with an undecodable payload", state: initial, step: raw("TaskRequest", "agent://x", GARBAGE), code: "FORBIDDEN", variant: "Forbidden", message: /only the initiator/ },
  { name: "TaskAccept from an outsider", state: requested, step: acceptTask("agent://x"), code: "FORBIDDEN", variant: "Forbidden", message: /not a declared participant/ },
  { name: "TaskUpdate from an outsider", state: assigned, step: update("agent://x"), code: "FORBIDDEN", variant: "Forbidden", message: /not a declared participant/ },
  { name: "Commitment from a participant under initiator_only", state: completed, step: commit(W1), code: "FORBIDDEN", variant: "Forbidden", message: /may not commit/ },
  { name: "unauthorized Commitment with an invalid payload", state: completed, step: raw("Commitment", W2, GARBAGE), code: "FORBIDDEN", variant: "Forbidden", message: /may not commit/ },
  { name: "unknown type from a participant", state: requested, step: raw("Vote", W1, new Uint8Array()), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /not part of task mode/ },
  { name: "unreadable stored state", state: { task: null }, step: request(PLANNER), code: "INVALID_ENVELOPE", variant: "InvalidModeState", message: /stored mode state/ },
  { name: "stored terminal report with an unknown tag", state: { ...(requested as object), terminal_report: { Done: {} } }, step: update(W1), code: "INVALID_ENVELOPE", variant: "InvalidModeState", message: /tag/ },
  // TaskRequest.
  { name: "undecodable TaskRequest", state: initial, step: raw("TaskRequest", PLANNER, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "second TaskRequest (fixture)", state: requested, step: request(PLANNER, W1, "t2"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /exactly one task/ },
  { name: "empty task_id", state: initial, step: request(PLANNER, "", ""), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /task_id/ },
  { name: "requested assignee who is not a participant", state: initial, step: request(PLANNER, "agent://x"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /not a declared participant/ },
  // TaskAccept.
  { name: "undecodable TaskAccept", state: requested, step: raw("TaskAccept", W1, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "TaskAccept with no task", state: initial, step: acceptTask(W1), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /no task/ },
  { name: "TaskAccept with an empty task_id", state: requested, step: acceptTask(W1, "", ""), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown task/ },
  { name: "TaskAccept of another task", state: requested, step: acceptTask(W1, "", "t2"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown task/ },
  { name: "TaskAccept with an active assignee", state: assigned, step: acceptTask(W2), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already has an active assignee/ },
  {
    name: "TaskAccept after any rejection without reassignment policy",
    state: rejectedByW1,
    step: acceptTask(W2),
    code: "POLICY_DENIED",
    variant: "PolicyDenied",
    message: /reassignment/,
    reasons: ["reassignment after rejection not allowed by policy"],
  },
  {
    name: "the reassignment denial precedes the assignee-field check",
    state: rejectedByW1,
    step: acceptTask(W2, W1),
    code: "POLICY_DENIED",
    variant: "PolicyDenied",
    message: /reassignment/,
    reasons: ["reassignment after rejection not allowed by policy"],
  },
  { name: "TaskAccept naming another assignee", state: requested, step: acceptTask(W1, W2), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /assignee must be/ },
  { name: "TaskAccept by someone other than the requested assignee", state: requestedForW1, step: acceptTask(W2), code: "FORBIDDEN", variant: "Forbidden", message: /may not take/ },
  { name: "TaskAccept by the initiator with no requested assignee", state: requested, step: acceptTask(PLANNER), code: "FORBIDDEN", variant: "Forbidden", message: /may not take/ },
  // TaskReject.
  { name: "undecodable TaskReject", state: requested, step: raw("TaskReject", W1, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "TaskReject with no task", state: initial, step: rejectTask(W1), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /no task/ },
  { name: "TaskReject of another task", state: requested, step: rejectTask(W1, "", "t9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown task/ },
  {
    name: "TaskReject by the active assignee without reassignment policy",
    state: assigned,
    step: rejectTask(W1),
    code: "POLICY_DENIED",
    variant: "PolicyDenied",
    message: /active assignee/,
    reasons: ["active assignee cannot reject without allow_reassignment_on_reject policy"],
  },
  { name: "TaskReject by someone else while assigned", state: assigned, step: rejectTask(W2), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /assigned to someone else/ },
  { name: "TaskReject naming another assignee", state: requested, step: rejectTask(W1, W2), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /assignee must be/ },
  { name: "TaskReject by someone other than the requested assignee", state: requestedForW1, step: rejectTask(W2), code: "FORBIDDEN", variant: "Forbidden", message: /may not respond/ },
  { name: "TaskReject by the initiator with no requested assignee", state: requested, step: rejectTask(PLANNER), code: "FORBIDDEN", variant: "Forbidden", message: /may not respond/ },
  { name: "second TaskReject by the same sender", state: rejectedByW1, step: rejectTask(W1), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /already rejected/ },
  // TaskUpdate.
  { name: "undecodable TaskUpdate", state: assigned, step: raw("TaskUpdate", W1, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "TaskUpdate with no task", state: initial, step: update(W1), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /no task/ },
  { name: "TaskUpdate of another task", state: assigned, step: update(W1, 0.5, "t9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown task/ },
  { name: "TaskUpdate with no active assignee", state: requested, step: update(W1), code: "FORBIDDEN", variant: "Forbidden", message: /not the active assignee/ },
  { name: "TaskUpdate by a non-assignee", state: assigned, step: update(W2), code: "FORBIDDEN", variant: "Forbidden", message: /not the active assignee/ },
  { name: "TaskUpdate after the terminal report", state: completed, step: update(W1), code: "FORBIDDEN", variant: "Forbidden", message: /terminal report/ },
  { name: "TaskUpdate with NaN progress (deliberately stricter than the reference)", state: assigned, step: update(W1, Number.NaN), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /progress/ },
  { name: "TaskUpdate with infinite progress", state: assigned, step: update(W1, Number.POSITIVE_INFINITY), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /progress/ },
  // TaskComplete / TaskFail.
  { name: "undecodable TaskComplete", state: assigned, step: raw("TaskComplete", W1, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "TaskComplete with no task", state: initial, step: complete(W1), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /no task/ },
  { name: "TaskComplete of another task", state: assigned, step: complete(W1, new Uint8Array(), "", "t9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown task/ },
  { name: "TaskComplete by a non-assignee", state: assigned, step: complete(W2), code: "FORBIDDEN", variant: "Forbidden", message: /not the active assignee/ },
  { name: "TaskComplete after a report", state: failed, step: complete(W1), code: "FORBIDDEN", variant: "Forbidden", message: /terminal report/ },
  { name: "TaskComplete naming another assignee", state: assigned, step: complete(W1, new Uint8Array(), W2), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /assignee must be/ },
  { name: "undecodable TaskFail", state: assigned, step: raw("TaskFail", W1, GARBAGE), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /does not decode/ },
  { name: "TaskFail with no task", state: initial, step: fail(W1), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /no task/ },
  { name: "TaskFail of another task", state: assigned, step: fail(W1, "", "t9"), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /unknown task/ },
  { name: "TaskFail by a non-assignee", state: assigned, step: fail(W2), code: "FORBIDDEN", variant: "Forbidden", message: /not the active assignee/ },
  { name: "TaskFail after a report", state: completed, step: fail(W1), code: "FORBIDDEN", variant: "Forbidden", message: /terminal report/ },
  { name: "TaskFail naming another assignee", state: assigned, step: fail(W1, W2), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /assignee must be/ },
  // Commitment.
  { name: "Commitment with an invalid payload", state: completed, step: commit(PLANNER, { action: "task.completed", outcomePositive: false }), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /outcome_positive=true/ },
  { name: "Commitment before any report", state: assigned, step: commit(PLANNER), code: "INVALID_ENVELOPE", variant: "InvalidPayload", message: /TaskComplete or TaskFail/ },
  {
    name: "require_output with an empty TaskComplete output",
    state: run(taskMode, requiringOutput, [request(PLANNER), acceptTask(W1), complete(W1, new Uint8Array())]),
    step: commit(PLANNER, { policyVersion: "policy.custom", action: "task.completed" }),
    code: "POLICY_DENIED",
    variant: "PolicyDenied",
    message: /output/,
    on: requiringOutput,
    reasons: ["policy requires task output before commitment"],
  },
  {
    name: "require_output also blocks task.failed after TaskFail",
    state: run(taskMode, requiringOutput, [request(PLANNER), acceptTask(W1), fail(W1)]),
    step: commit(PLANNER, { policyVersion: "policy.custom", action: "task.failed", outcomePositive: false }),
    code: "POLICY_DENIED",
    variant: "PolicyDenied",
    message: /output/,
    on: requiringOutput,
    reasons: ["policy requires task output before commitment"],
  },
  {
    name: "unsupported policy schema_version",
    state: run(taskMode, sessionView(MODE, PLANNER, [PLANNER, W1], customPolicy({}, 3)), [request(PLANNER), acceptTask(W1), fail(W1)]),
    step: commit(PLANNER, { policyVersion: "policy.custom" }),
    code: "POLICY_DENIED",
    variant: "PolicyDenied",
    message: /schema version/,
    on: sessionView(MODE, PLANNER, [PLANNER, W1], customPolicy({}, 3)),
    reasons: ["unsupported policy schema version: 3 (supported: [1, 2])"],
  },
];

describe("task mode rejects", () => {
  it.each(rejections.map((rejection) => [rejection.name, rejection] as const))("%s", (_name, rejection) => {
    const outcome = taskMode.apply(rejection.on ?? session, frozenCopy(rejection.state), envelope(rejection.step.type, rejection.step.sender, rejection.step.payload));
    const error = expectRejected(outcome, rejection.code, rejection.variant);
    expect(error.message).toMatch(rejection.message);
    if (rejection.reasons !== undefined) expect(error.details?.reasons).toEqual(rejection.reasons);
  });
});

describe("task mode SessionStart (§7.2)", () => {
  const cases: ReadonlyArray<[string, string, readonly string[], boolean]> = [
    ["two participants including the initiator", PLANNER, [PLANNER, W1], true],
    ["a single participant", PLANNER, [PLANNER], false],
    ["no participants", PLANNER, [], false],
    ["an initiator who is not a participant", PLANNER, [W1, W2], false],
  ];
  it.each(cases)("%s", (_name, initiator, participants, ok) => {
    const view = sessionView(MODE, initiator, participants);
    const outcome = taskMode.start(view, startPayload(view));
    if (ok) {
      expect(JSON.stringify(acceptedState(outcome))).toBe('{"task":null,"active_assignee":null,"rejections":[],"updates":[],"terminal_report":null}');
    } else {
      expectRejected(outcome, "INVALID_ENVELOPE", "InvalidPayload");
    }
  });
});

describe("task mode happy paths", () => {
  it("stores the full lifecycle in declaration order with bytes as integer arrays", () => {
    const state = run(taskMode, session, [request(PLANNER, W1), acceptTask(W1, W1), update(W1, 0.25), complete(W1, Uint8Array.of(4, 5), W1)]);
    expect(JSON.stringify(state)).toBe(
      JSON.stringify({
        task: { task_id: "t1", title: "Build", instructions: "Do it", requested_assignee: W1, input: [1, 2], deadline_unix_ms: 99, requester: PLANNER },
        active_assignee: W1,
        rejections: [],
        updates: [{ task_id: "t1", status: "working", progress: 0.25, message: "m", partial_output: [3], sender: W1 }],
        terminal_report: { Complete: { task_id: "t1", assignee: W1, output: [4, 5], summary: "done" } },
      }),
    );
  });

  it.each([
    ["i64::MAX, the SDKs' \"no deadline\"", 2n ** 63n - 1n, "9223372036854775807"],
    ["i64::MIN", -(2n ** 63n), "-9223372036854775808"],
    ["the largest safe integer", 2n ** 53n - 1n, 9007199254740991],
  ])("keeps a deadline of %s exactly, through the stored state", (_, deadlineUnixMs, stored) => {
    const withDeadline: Step = {
      type: "TaskRequest",
      sender: PLANNER,
      payload: wire.TaskRequestPayload.encode(wire.TaskRequestPayload.fromPartial({ taskId: "t1", title: "Build", deadlineUnixMs })).finish(),
    };
    const state = run(taskMode, session, [withDeadline, acceptTask(W1)]);
    expect(state).toMatchObject({ task: { deadline_unix_ms: stored }, active_assignee: W1 });
    // The state goes through JSON text (a snapshot) and is still read exactly.
    const reread = JSON.parse(JSON.stringify(state)) as JsonValue;
    expect(acceptedState(taskMode.apply(session, reread, envelope(update(W1, 0.5).type, W1, update(W1, 0.5).payload)))).toMatchObject({
      task: { deadline_unix_ms: stored },
    });
  });

  it("stores a failure report externally tagged", () => {
    expect(failed).toMatchObject({ terminal_report: { Fail: { task_id: "t1", assignee: W1, error_code: "E1", reason: "broke", retryable: true } } });
  });

  it("resolves with the Commitment bytes and leaves the state unchanged", () => {
    const payload = commitmentBytes({ action: "task.completed", policyVersion: "" });
    const outcome = taskMode.apply(session, frozenCopy(completed), envelope("Commitment", PLANNER, payload));
    expect(outcome).toEqual({ kind: "accepted", state: completed, resolution: payload });
  });

  it("accepts task.completed after a TaskFail (polarity is not cross-checked, §2.4)", () => {
    expect(run(taskMode, session, [request(PLANNER), acceptTask(W1), fail(W1), commit(PLANNER, { action: "task.completed" })])).toEqual(failed);
  });

  it("accepts an empty output under the default policy", () => {
    expect(run(taskMode, session, [request(PLANNER), acceptTask(W1), complete(W1, new Uint8Array()), commit(PLANNER)])).toMatchObject({ active_assignee: W1 });
  });

  it("accepts a non-empty output under require_output", () => {
    const steps = [request(PLANNER), acceptTask(W1), complete(W1), commit(PLANNER, { policyVersion: "policy.custom" })];
    expect(run(taskMode, requiringOutput, steps)).toMatchObject({ terminal_report: { Complete: { output: [9] } } });
  });

  it("takes task_id without trimming and lets the initiator name itself", () => {
    expect(run(taskMode, session, [request(PLANNER, PLANNER, " ")])).toMatchObject({ task: { task_id: " ", requested_assignee: PLANNER } });
  });

  it("lets a requested assignee that is the initiator accept", () => {
    expect(run(taskMode, session, [request(PLANNER, PLANNER), acceptTask(PLANNER)])).toMatchObject({ active_assignee: PLANNER });
  });

  it("lets several eligible participants reject an open request", () => {
    expect(run(taskMode, session, [request(PLANNER), rejectTask(W1), rejectTask(W2, W2)])).toMatchObject({
      active_assignee: null,
      rejections: [
        { task_id: "t1", assignee: W1, reason: "busy" },
        { task_id: "t1", assignee: W2, reason: "busy" },
      ],
    });
  });

  it("reassigns under allow_reassignment_on_reject: w1 accepts, un-assigns, w2 accepts (§12.11)", () => {
    const state = run(taskMode, reassigning, [request(PLANNER), acceptTask(W1), rejectTask(W1), acceptTask(W2)]);
    expect(state).toMatchObject({ active_assignee: W2, rejections: [{ assignee: W1 }] });
  });

  it("allows TaskAccept after a rejection under allow_reassignment_on_reject", () => {
    expect(run(taskMode, reassigning, [request(PLANNER), rejectTask(W1), acceptTask(W2)])).toMatchObject({ active_assignee: W2 });
  });

  it("rejects a second reject by a re-accepted assignee under allow_reassignment_on_reject", () => {
    const state = run(taskMode, reassigning, [request(PLANNER), rejectTask(W1), acceptTask(W1)]);
    const outcome = taskMode.apply(reassigning, state, envelope("TaskReject", W1, rejectTask(W1).payload));
    expectRejected(outcome, "INVALID_ENVELOPE", "InvalidPayload");
  });
});

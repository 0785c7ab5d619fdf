import { payloadOf, stringsField, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { TERMINAL_RUN_STATUSES } from "./run-state.js";
import type { RunBlock, RunStatus } from "./run-state.js";

/** Whether `status` is terminal. */
export function isTerminalStatus(status: RunStatus): boolean {
  return TERMINAL_RUN_STATUSES.includes(status);
}

const SESSION_STATE_STATUS: Readonly<Record<string, RunStatus>> = {
  SESSION_STATE_RESOLVED: "completed",
  SESSION_STATE_EXPIRED: "failed",
  SESSION_STATE_CANCELLED: "cancelled",
  SESSION_STATE_SUSPENDED: "suspended",
};

const OPENS_FROM: readonly RunStatus[] = ["queued", "starting", "binding_session", "suspended"];

function withFields(run: RunBlock, fields: Partial<Record<keyof RunBlock, unknown>>): RunBlock {
  const next: Record<string, unknown> = { ...run };
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) next[key] = value;
  return next as unknown as RunBlock;
}

// Runtime-derived transitions never leave a terminal status; only the control plane's own run.*
// events (its run table's state machine) may set a terminal status over another.
function derivedStatus(run: RunBlock, target: RunStatus, ts: string): RunBlock {
  if (isTerminalStatus(run.status) || run.status === target) return run;
  return { ...run, status: target, ...(isTerminalStatus(target) && run.endedAt === undefined ? { endedAt: ts } : {}) };
}

/** Folds one event into the `run` block (control-plane.md §3.4). */
export function foldRun(run: RunBlock, event: CanonicalEvent): RunBlock {
  const data = event.data;
  switch (event.type) {
    case "run.created":
      return withFields(run, { modeName: textField(data, "modeName"), traceId: textField(data, "traceId"), runtimeSessionId: textField(data, "sessionId") });
    case "run.started": {
      const next = withFields(run, { startedAt: textField(data, "startedAt") ?? event.ts, modeName: textField(data, "modeName"), traceId: textField(data, "traceId") });
      return isTerminalStatus(run.status) ? next : { ...next, status: "starting" };
    }
    case "run.completed":
    case "run.failed":
    case "run.cancelled":
      return withFields(run, {
        status: event.type.slice("run.".length) as RunStatus,
        endedAt: textField(data, "endedAt") ?? event.ts,
        runtimeSessionId: textField(data, "runtimeSessionId"),
        traceId: textField(data, "traceId"),
        error: textField(data, "error"),
      });
    case "run.suspended":
    case "run.resumed":
      return isTerminalStatus(run.status) ? run : { ...run, status: event.type === "run.suspended" ? "suspended" : "running" };
    case "session.bound": {
      const next = withFields(run, { runtimeSessionId: textField(data, "sessionId"), modeName: textField(data, "modeName") });
      return run.status === "queued" || run.status === "starting" ? { ...next, status: "binding_session" } : next;
    }
    case "session.state.changed": {
      const state = textField(data, "state");
      const extensionKeys = stringsField(data, "extensionKeys");
      const next = withFields(run, {
        sessionState: state,
        runtimeSessionId: textField(data, "sessionId"),
        modeName: textField(data, "modeName"),
        contextId: textField(data, "contextId"),
        extensionKeys: extensionKeys.length > 0 ? extensionKeys : undefined,
      });
      if (state === "SESSION_STATE_OPEN") return OPENS_FROM.includes(next.status) ? { ...next, status: "running" } : next;
      const target = state === undefined ? undefined : SESSION_STATE_STATUS[state];
      return target === undefined ? next : derivedStatus(next, target, event.ts);
    }
    case "decision.finalized":
      return derivedStatus(run, "completed", event.ts);
    case "message.received":
      if (textField(data, "messageType") !== "SessionStart") return run;
      return withFields(run, {
        modeName: run.modeName === undefined ? textField(data, "modeName") : undefined,
        runtimeSessionId: run.runtimeSessionId === undefined ? textField(data, "sessionId") : undefined,
        contextId: textField(payloadOf(event), "contextId"),
      });
    default:
      return run;
  }
}

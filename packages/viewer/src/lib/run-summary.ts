import type { ApiRun } from "../api/types.js";
import { TERMINAL_STATUSES } from "../api/types.js";

/** The coordination modes with a view of their own. */
export const KNOWN_MODES = ["decision", "task", "quorum", "proposal", "handoff"] as const;
/** One of {@link KNOWN_MODES}, or `other`. */
export type ModeKind = (typeof KNOWN_MODES)[number] | "other";

/** What the list and headers show of a run, read from its stored request. */
export interface RunSummary {
  /** Full mode name, e.g. `macp.mode.decision.v1` (empty when unknown). */
  readonly modeName: string;
  readonly modeKind: ModeKind;
  readonly participants: readonly string[];
  readonly intent: string | undefined;
  readonly policyVersion: string | undefined;
  /** Milliseconds from start (or creation) to end, or to `now` while the run is open. */
  readonly durationMs: number | undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** `macp.mode.decision.v1` → `decision`; unknown names → `other`. */
export function modeKindOf(modeName: string): ModeKind {
  const match = /(?:^|\.)mode\.([a-z_]+)\./.exec(modeName) ?? /^([a-z_]+)$/.exec(modeName);
  const name = match?.[1];
  return (KNOWN_MODES as readonly string[]).includes(name ?? "") ? (name as ModeKind) : "other";
}

/** The short name of a mode for tables (`decision`, or the full name when it is not a known one). */
export function modeLabel(modeName: string): string {
  const kind = modeKindOf(modeName);
  return kind === "other" ? modeName || "—" : kind;
}

/** Reads mode, participants, intent and duration of a run. */
export function summarizeRun(run: ApiRun, now: number): RunSummary {
  const request = record(run.metadata["executionRequest"]);
  const session = record(request?.["session"]);
  const modeName = typeof session?.["modeName"] === "string" ? session["modeName"] : "";
  const participants = Array.isArray(session?.["participants"])
    ? (session["participants"] as unknown[]).map((entry) => (typeof entry === "string" ? entry : String(record(entry)?.["id"] ?? ""))).filter((id) => id !== "")
    : [];
  const metadata = record(session?.["metadata"]);
  const intent = typeof metadata?.["intent"] === "string" ? metadata["intent"] : typeof metadata?.["scenarioRef"] === "string" ? metadata["scenarioRef"] : (run.sourceRef ?? undefined);
  const policyVersion = typeof session?.["policyVersion"] === "string" && session["policyVersion"] !== "" ? session["policyVersion"] : undefined;
  const start = Date.parse(run.startedAt ?? run.createdAt);
  const end = run.endedAt !== null ? Date.parse(run.endedAt) : TERMINAL_STATUSES.includes(run.status) ? Date.parse(run.updatedAt) : now;
  const durationMs = Number.isNaN(start) || Number.isNaN(end) ? undefined : Math.max(0, end - start);
  return { modeName, modeKind: modeKindOf(modeName), participants, intent, policyVersion, durationMs };
}

/** Which control actions a run's status allows (the runtime still decides whether the caller may). */
export function allowedActions(status: ApiRun["status"]): { cancel: boolean; suspend: boolean; resume: boolean } {
  return {
    cancel: !TERMINAL_STATUSES.includes(status),
    suspend: status === "running",
    resume: status === "suspended",
  };
}

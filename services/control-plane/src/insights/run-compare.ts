import type { MetricsSummary, RunStateProjection } from "@macp/events";
import type { RunRow } from "@macp/pipeline";

/** One side of a comparison. */
export interface ComparedRun {
  runId: string;
  status: string;
  modeName: string | null;
  durationMs: number | null;
  confidence: number | null;
}

/** `POST /runs/compare` answer (right minus left for every delta). */
export interface RunComparison {
  left: ComparedRun;
  right: ComparedRun;
  statusMatch: boolean;
  durationDeltaMs: number | null;
  confidenceDelta: number | null;
  participantsDiff: { added: string[]; removed: string[]; common: string[] };
  signalsDiff: { added: string[]; removed: string[] };
}

/** What a comparison reads of one run. */
export interface CompareInput {
  readonly run: RunRow;
  readonly modeName: string | null;
  readonly state: RunStateProjection;
  readonly metrics: MetricsSummary;
}

function durationOf(input: CompareInput): number | null {
  const { run, metrics } = input;
  if (run.started_at !== null && run.ended_at !== null) return new Date(run.ended_at).getTime() - new Date(run.started_at).getTime();
  return metrics.durationMs ?? null;
}

function side(input: CompareInput): ComparedRun {
  return {
    runId: input.run.id,
    status: input.run.status,
    modeName: input.state.run.modeName ?? input.modeName,
    durationMs: durationOf(input),
    confidence: input.state.decision.current?.confidence ?? null,
  };
}

/** Sorted `a \ b`. */
function minus(a: ReadonlySet<string>, b: ReadonlySet<string>): string[] {
  return [...a].filter((item) => !b.has(item)).sort();
}

/** Compares two runs: status, duration, decision confidence, participants and signal names. */
export function compareRuns(leftInput: CompareInput, rightInput: CompareInput): RunComparison {
  const left = side(leftInput);
  const right = side(rightInput);
  const participants = (input: CompareInput) => new Set(input.state.participants.map((participant) => participant.participantId));
  const signals = (input: CompareInput) => new Set(input.state.signals.signals.map((signal) => signal.name));
  const [leftParticipants, rightParticipants] = [participants(leftInput), participants(rightInput)];
  const [leftSignals, rightSignals] = [signals(leftInput), signals(rightInput)];
  return {
    left,
    right,
    statusMatch: left.status === right.status,
    durationDeltaMs: left.durationMs !== null && right.durationMs !== null ? right.durationMs - left.durationMs : null,
    confidenceDelta: left.confidence !== null && right.confidence !== null ? right.confidence - left.confidence : null,
    participantsDiff: {
      added: minus(rightParticipants, leftParticipants),
      removed: minus(leftParticipants, rightParticipants),
      common: [...leftParticipants].filter((id) => rightParticipants.has(id)).sort(),
    },
    signalsDiff: { added: minus(rightSignals, leftSignals), removed: minus(leftSignals, rightSignals) },
  };
}

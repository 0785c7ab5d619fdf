import type { CanonicalEvent } from "./event-types.js";
import { foldDecision } from "./fold-decision.js";
import { foldGraph } from "./fold-graph.js";
import { foldLlm } from "./fold-llm.js";
import { foldParticipants } from "./fold-participants.js";
import { foldPolicy } from "./fold-policy.js";
import { foldProgress } from "./fold-progress.js";
import { foldRun } from "./fold-run.js";
import { foldSignals } from "./fold-signals.js";
import { foldOutbound, foldTimeline, foldTrace } from "./fold-timeline.js";
import type { ParticipantState, RunStateProjection } from "./run-state.js";

// Participants whose status this event changed (their graph node may move). The participant fold
// only replaces entries in place or appends, so positions line up.
function statusChanges(before: readonly ParticipantState[], after: readonly ParticipantState[]): ParticipantState[] {
  if (before === after) return [];
  return after.filter((p, i) => before[i]?.status !== p.status || before[i] === undefined);
}

/**
 * Applies one event to a run's projection and returns the new projection (the input is never
 * modified; untouched blocks are shared). Events at or below `state.version` are ignored — the
 * same object comes back — so redelivery and replays are harmless. The work per event is bounded
 * by the capped lists and the participant count, never by the run's history. Throws `TypeError`
 * for an event of another run.
 */
export function applyEvent(state: RunStateProjection, event: CanonicalEvent): RunStateProjection {
  if (event.seq <= state.version) return state;
  if (event.runId !== state.run.runId) {
    throw new TypeError(`event ${event.id} belongs to run ${event.runId}, not ${state.run.runId}`);
  }
  const run = foldRun(state.run, event);
  const participants = foldParticipants(state.participants, event, state.run, run);
  return {
    version: event.seq,
    run,
    participants,
    graph: foldGraph(state.graph, event, statusChanges(state.participants, participants)),
    decision: foldDecision(state.decision, event),
    signals: foldSignals(state.signals, event),
    progress: foldProgress(state.progress, event),
    timeline: foldTimeline(state.timeline, event),
    trace: foldTrace(state.trace, event),
    outboundMessages: foldOutbound(state.outboundMessages, event),
    policy: foldPolicy(state.policy, event, participants, run),
    llm: foldLlm(state.llm, event),
  };
}

/**
 * Folds events into a projection in `seq` order (the input order does not matter; events at or
 * below the version, including duplicates, are skipped). Rebuild = `foldEvents(emptyRunState(id), all)`.
 */
export function foldEvents(state: RunStateProjection, events: Iterable<CanonicalEvent>): RunStateProjection {
  const ordered = [...events].sort((a, b) => a.seq - b.seq);
  return ordered.reduce(applyEvent, state);
}

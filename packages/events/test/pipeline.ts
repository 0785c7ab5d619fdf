// A miniature of the projection worker: control-plane events for the run's start, then every raw
// stream event normalized with a context taken from the current projection, sequenced and folded.
import {
  applyEvent,
  emptyRunState,
  normalizeContextFor,
  normalizeRawEvent,
  participantSeenEvent,
  rawEventKey,
  runCreatedEvent,
  runStartedEvent,
  sequenceEvents,
  sessionBoundEvent,
  sessionStateChangedEvent,
} from "../src/index.js";
import type { CanonicalEvent, EventDraft, RawRuntimeEvent, RunStateProjection } from "../src/index.js";
import { RUN_ID, rawStream, receivedAt } from "./sessions.js";
import type { SessionScript } from "./sessions.js";

export interface Ingested {
  readonly state: RunStateProjection;
  readonly events: CanonicalEvent[];
}

export class Pipeline {
  state: RunStateProjection = emptyRunState(RUN_ID);
  events: CanonicalEvent[] = [];
  private nextSeq = 1;

  constructor(private readonly script: SessionScript) {}

  emit(key: string, drafts: EventDraft[]): CanonicalEvent[] {
    const { events, nextSeq } = sequenceEvents({ runId: RUN_ID, rawKey: key, drafts, firstSeq: this.nextSeq });
    this.nextSeq = nextSeq;
    for (const event of events) this.state = applyEvent(this.state, event);
    this.events.push(...events);
    return events;
  }

  ingest(raw: RawRuntimeEvent): CanonicalEvent[] {
    const drafts = normalizeRawEvent(raw, normalizeContextFor(this.state));
    return this.emit(rawEventKey(raw), drafts);
  }

  /** The control plane's start of an observed run: created, started, bound, participants, running. */
  start(): this {
    const ts = receivedAt(0);
    const s = this.script;
    this.emit("run.created", [runCreatedEvent({ ts, runId: RUN_ID, modeName: s.mode, runtimeKind: "macp", traceId: "trace-1", sessionId: s.sessionId, trace: { traceId: "trace-1", spanId: "span-1" } })]);
    this.emit("run.started", [runStartedEvent({ ts, runId: RUN_ID, startedAt: ts, modeName: s.mode, runtimeKind: "macp", traceId: "trace-1" })]);
    this.emit("session.bound", [
      sessionBoundEvent({ ts, sessionId: s.sessionId, initiator: s.initiator, state: "SESSION_STATE_OPEN", modeName: s.mode, modeVersion: "1.0.0", configurationVersion: "cfg-1", policyVersion: "policy.default", participants: s.participants }),
      ...s.participants.map((participantId) => participantSeenEvent({ ts, participantId })),
    ]);
    this.emit("running", [sessionStateChangedEvent({ ts, sessionId: s.sessionId, state: "SESSION_STATE_OPEN" })]);
    return this;
  }

  /** Every scripted envelope through the normalizer. */
  stream(): this {
    for (const raw of rawStream(this.script)) this.ingest(raw);
    return this;
  }
}

/** The whole run of a script, start to last envelope. */
export function ingestScript(script: SessionScript): Pipeline {
  return new Pipeline(script).start().stream();
}

// Hand-built canonical events for fold tests: a counter supplies increasing seqs.
import { CANONICAL_EVENT_SCHEMA_VERSION } from "../src/index.js";
import type { CanonicalEvent, CanonicalEventType, EventSubject, EventTrace, JsonObject } from "../src/index.js";
import { RUN_ID, receivedAt } from "./sessions.js";

export class EventFactory {
  private seq = 0;

  next(type: CanonicalEventType, data: JsonObject = {}, options: { subject?: EventSubject; trace?: EventTrace; ts?: string } = {}): CanonicalEvent {
    this.seq += 1;
    return {
      id: `00000000-0000-5000-8000-${String(this.seq).padStart(12, "0")}`,
      runId: RUN_ID,
      seq: this.seq,
      ts: options.ts ?? receivedAt(this.seq),
      type,
      schemaVersion: CANONICAL_EVENT_SCHEMA_VERSION,
      ...(options.subject === undefined ? {} : { subject: options.subject }),
      source: { kind: "runtime", name: "macp-runtime" },
      trace: options.trace ?? {},
      data,
    };
  }

  /** A runtime message event pair's derived half: `proposal.*` etc. with the usual data fields. */
  message(type: CanonicalEventType, messageType: string, sender: string, decodedPayload: JsonObject, subjectId?: string, extra: JsonObject = {}): CanonicalEvent {
    const kind = type.startsWith("proposal.") ? "proposal" : type.startsWith("decision.") ? "decision" : type.startsWith("signal.") ? "signal" : "message";
    return this.next(type, { modeName: "m", messageType, messageId: `msg-${this.seq + 1}`, sessionId: "s-1", sender, decodedPayload, ...extra }, subjectId === undefined ? {} : { subject: { kind, id: subjectId } });
  }

  received(messageType: string, sender: string, payload: JsonObject = {}, to?: string[]): CanonicalEvent {
    return this.next("message.received", { modeName: "m", messageType, messageId: `msg-${this.seq + 1}`, sessionId: "s-1", sender, payload, ...(to === undefined ? {} : { to }) }, { subject: { kind: "message", id: `msg-${this.seq + 1}` } });
  }
}

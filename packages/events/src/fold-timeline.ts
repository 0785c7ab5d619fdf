import { appendCapped, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { RUN_STATE_LIMITS } from "./run-state.js";
import type { OutboundMessagesBlock, RunStateProjection, TraceBlock } from "./run-state.js";

/** Every event advances the timeline and joins the capped `recent` list. */
export function foldTimeline(block: RunStateProjection["timeline"], event: CanonicalEvent): RunStateProjection["timeline"] {
  const entry = { id: event.id, seq: event.seq, ts: event.ts, type: event.type, ...(event.subject === undefined ? {} : { subject: event.subject }) };
  return { latestSeq: event.seq, totalEvents: block.totalEvents + 1, recent: appendCapped(block.recent, entry, RUN_STATE_LIMITS.timelineRecent) };
}

/** Trace id (first seen), span count and last span id from event traces; artifacts from `artifact.created`. */
export function foldTrace(block: TraceBlock, event: CanonicalEvent): TraceBlock {
  let next = block;
  if (next.traceId === undefined && event.trace.traceId !== undefined && event.trace.traceId !== "") {
    next = { ...next, traceId: event.trace.traceId };
  }
  if (event.trace.spanId !== undefined && event.trace.spanId !== "") {
    next = { ...next, spanCount: next.spanCount + 1, lastSpanId: event.trace.spanId };
  }
  const artifactId = event.type === "artifact.created" ? (textField(event.data, "artifactId") ?? event.subject?.id) : undefined;
  if (artifactId !== undefined && !next.linkedArtifacts.includes(artifactId)) {
    next = { ...next, linkedArtifacts: appendCapped(next.linkedArtifacts, artifactId, RUN_STATE_LIMITS.linkedArtifacts) };
  }
  return next;
}

/** `message.sent` counts as accepted unless its Ack says otherwise; `message.send_failed` as rejected. */
export function foldOutbound(block: OutboundMessagesBlock, event: CanonicalEvent): OutboundMessagesBlock {
  if (event.type === "message.sent") {
    const ack = event.data["ack"];
    const refused = typeof ack === "object" && ack !== null && !Array.isArray(ack) && ack["ok"] === false;
    return refused ? { ...block, total: block.total + 1, rejected: block.rejected + 1 } : { ...block, total: block.total + 1, accepted: block.accepted + 1 };
  }
  if (event.type === "message.send_failed") return { ...block, total: block.total + 1, rejected: block.rejected + 1 };
  return block;
}

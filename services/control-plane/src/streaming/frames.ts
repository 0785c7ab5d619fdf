import type { CanonicalEvent, RunStateProjection } from "@macp/events";

/** One frame of a live or replay stream; the same frames travel over SSE and WebSocket. */
export type StreamFrame =
  /** The run's projection at connect (or on request); `data.version` is the last seq it includes. */
  | { readonly event: "snapshot"; readonly data: RunStateProjection }
  /** One canonical event; `id` is its seq, the resume cursor. Only these frames carry ids. */
  | { readonly event: "canonical_event"; readonly id: number; readonly data: CanonicalEvent }
  | { readonly event: "heartbeat"; readonly data: { readonly ts: string } }
  /** The run ended: every event up to `lastSeq` was sent; the stream closes. */
  | { readonly event: "run_terminal"; readonly data: { readonly runId: string; readonly status: string; readonly lastSeq: number } }
  /** A replay range was delivered completely; the stream closes. */
  | { readonly event: "replay_end"; readonly data: { readonly runId: string; readonly lastSeq: number; readonly count: number } }
  /** A `step` replay delivered its events; reconnect with Last-Event-ID (or `afterSeq`) for the next step. */
  | { readonly event: "replay_pause"; readonly data: { readonly runId: string; readonly cursor: number; readonly done: boolean } }
  /** The server closes the stream (shutdown, or the client fell too far behind); resume from `lastSeq`. */
  | { readonly event: "stream_closed"; readonly data: { readonly reason: "shutdown" | "slow_consumer"; readonly lastSeq: number } };

/** The text/event-stream encoding of a frame (JSON holds no raw newline, so one `data:` line). */
export function sseFrame(frame: StreamFrame): string {
  const id = frame.event === "canonical_event" ? `id: ${frame.id}\n` : "";
  return `event: ${frame.event}\n${id}data: ${JSON.stringify(frame.data)}\n\n`;
}

/** The WebSocket encoding of a frame: one JSON text message. */
export function wsFrame(frame: StreamFrame): string {
  return JSON.stringify(frame);
}

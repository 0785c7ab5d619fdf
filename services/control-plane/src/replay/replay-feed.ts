import type { CanonicalEvent } from "@macp/events";
import type { EventPages } from "../streaming/event-pages.js";
import type { FrameSink } from "../streaming/frame-sink.js";

/** How stored events are replayed. */
export type ReplayMode = "instant" | "timed" | "step";

/** One replay connection. */
export interface ReplayRequest {
  readonly runId: string;
  readonly mode: ReplayMode;
  /** `timed`: original spacing divided by `speed`. */
  readonly speed: number;
  /** Events with `afterSeq < seq <= toSeq` are replayed. */
  readonly afterSeq: number;
  readonly toSeq: number;
  /** `step`: events per request. */
  readonly count: number;
}

/** Limits of replays. */
export interface ReplayLimits {
  readonly pageSize: number;
  /** Longest pause between two `timed` events, whatever the original gap. */
  readonly maxDelayMs: number;
}

/** The pause before `event` in a `timed` replay whose previous event was `previous`. */
export function timedDelay(previous: CanonicalEvent | undefined, event: CanonicalEvent, speed: number, maxDelayMs: number): number {
  if (!previous) return 0;
  const gap = Date.parse(event.ts) - Date.parse(previous.ts);
  return Number.isFinite(gap) && gap > 0 ? Math.min(gap / speed, maxDelayMs) : 0;
}

/**
 * Replays stored events to `sink` with ids (so a replay resumes with Last-Event-ID like a live
 * stream), paged from the store with flow control. `instant` sends everything, `timed` keeps the
 * original spacing ÷ speed (capped), `step` sends `count` events and pauses: the client asks for
 * the next step with the cursor it got. Returns when the range or the step is done, or the
 * connection closed.
 */
export async function replay(pages: EventPages, limits: ReplayLimits, sink: FrameSink, request: ReplayRequest, signal: AbortSignal): Promise<void> {
  let cursor = request.afterSeq;
  let sent = 0;
  let previous: CanonicalEvent | undefined;
  const budget = request.mode === "step" ? request.count : Number.POSITIVE_INFINITY;
  while (sent < budget && cursor < request.toSeq) {
    const events = await pages.page(request.runId, cursor, Math.min(limits.pageSize, budget - sent), request.toSeq);
    if (events.length === 0) break;
    for (const event of events) {
      if (signal.aborted || sink.closed) return;
      if (request.mode === "timed") await pause(timedDelay(previous, event, request.speed, limits.maxDelayMs), signal);
      if (signal.aborted || sink.closed) return;
      if (!sink.send({ event: "canonical_event", id: event.seq, data: event })) await sink.drained();
      previous = event;
      cursor = event.seq;
      sent += 1;
    }
  }
  if (signal.aborted || sink.closed) return;
  const done = cursor >= request.toSeq || (await pages.page(request.runId, cursor, 1, request.toSeq)).length === 0;
  if (request.mode === "step") sink.send({ event: "replay_pause", data: { runId: request.runId, cursor, done } });
  if (done) sink.send({ event: "replay_end", data: { runId: request.runId, lastSeq: cursor, count: sent } });
  sink.end();
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

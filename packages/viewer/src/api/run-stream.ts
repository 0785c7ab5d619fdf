import { api } from "./client.js";
import type { CanonicalEvent, RunStateProjection } from "./types.js";

/** Where the live connection stands. */
export type StreamStatus = "connecting" | "live" | "reconnecting" | "ended";

/** What a run's live stream reports. */
export interface RunStreamHandlers {
  snapshot(projection: RunStateProjection): void;
  /** Each canonical event once, in seq order, also across reconnects. */
  event(event: CanonicalEvent): void;
  terminal(info: { status: string; lastSeq: number }): void;
  status(status: StreamStatus, detail?: string): void;
}

// Heartbeats come every STREAM_HEARTBEAT_MS (15 s by default): 45 s of silence is a dead link.
const SILENCE_MS = 45_000;
const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 5_000;

/**
 * Follows `GET /runs/:id/stream` (SSE) from `afterSeq`. Browsers cannot send Authorization on an
 * EventSource, so every connection first asks for a stream token (`POST /runs/:id/stream-token`).
 * The browser's own reconnect is not used: a token minted by a server that restarted is refused,
 * so on any error or `stream_closed` the connection is replaced by a new one with a fresh token
 * that resumes after the last seq received (backoff up to 5 s). Returns a function that stops it.
 */
export function followRun(runId: string, handlers: RunStreamHandlers, afterSeq = 0): () => void {
  let lastSeq = afterSeq;
  let attempt = 0;
  let stopped = false;
  let source: EventSource | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let silenceTimer: ReturnType<typeof setTimeout> | undefined;

  const close = (): void => {
    source?.close();
    source = undefined;
    if (silenceTimer !== undefined) clearTimeout(silenceTimer);
  };
  const retry = (detail: string): void => {
    close();
    if (stopped) return;
    handlers.status("reconnecting", detail);
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** attempt) * (0.75 + Math.random() * 0.5);
    attempt += 1;
    retryTimer = setTimeout(() => void connect(), delay);
  };
  const alive = (): void => {
    if (silenceTimer !== undefined) clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => retry("no heartbeat"), SILENCE_MS);
  };

  async function connect(): Promise<void> {
    if (stopped) return;
    if (attempt === 0) handlers.status("connecting");
    let streamUrl: string;
    try {
      ({ streamUrl } = await api<{ streamUrl: string }>("POST", `/runs/${runId}/stream-token`));
    } catch (error) {
      retry(error instanceof Error ? error.message : String(error));
      return;
    }
    if (stopped) return;
    const next = new EventSource(`${streamUrl}&afterSeq=${lastSeq}&includeSnapshot=true`);
    source = next;
    alive();
    next.onopen = () => {
      attempt = 0;
      handlers.status("live");
    };
    next.addEventListener("snapshot", (frame) => {
      alive();
      handlers.snapshot(JSON.parse((frame as MessageEvent<string>).data) as RunStateProjection);
    });
    next.addEventListener("canonical_event", (frame) => {
      alive();
      const event = JSON.parse((frame as MessageEvent<string>).data) as CanonicalEvent;
      if (event.seq <= lastSeq) return;
      lastSeq = event.seq;
      handlers.event(event);
    });
    next.addEventListener("heartbeat", alive);
    next.addEventListener("run_terminal", (frame) => {
      const info = JSON.parse((frame as MessageEvent<string>).data) as { status: string; lastSeq: number };
      stopped = true;
      close();
      handlers.terminal(info);
      handlers.status("ended");
    });
    next.addEventListener("stream_closed", () => retry("the server closed the stream"));
    next.onerror = () => {
      if (source === next) retry("connection lost");
    };
  }

  void connect();
  return () => {
    stopped = true;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    close();
  };
}

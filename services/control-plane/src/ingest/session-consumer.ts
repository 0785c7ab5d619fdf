import type { ClientAuth, SessionStream } from "@macp/client";
import { sessionStateName } from "@macp/events";
import type { Logger } from "pino";
import type { RuntimeGateway } from "../runtime/gateway.js";
import { backoffDelay, sleep } from "@macp/pipeline";
import type { IngestSink, StreamFrameRaw } from "./ingest-sink.js";

/** What a consumer needs to follow one run's session. */
export interface ConsumerTarget {
  readonly runId: string;
  readonly sessionId: string;
  readonly auth: ClientAuth;
  /** Runtime sequence to resume after (count of envelopes already persisted). */
  readonly cursor: number;
  /** Why the consumer starts: first subscription, or resuming after a control-plane restart. */
  readonly reason: "opened" | "recovered";
}

/** Settings of the reconnect loop. */
export interface ConsumerSettings {
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
}

const TERMINAL_RUN = new Set(["completed", "failed", "cancelled"]);
const FINAL_SESSION_STATES = new Set(["SESSION_STATE_RESOLVED", "SESSION_STATE_EXPIRED", "SESSION_STATE_CANCELLED"]);

/** Most frames stored in one transaction. */
const MAX_BATCH = 500;
/** Frames queued behind the transaction in flight before the stream is no longer read. */
const MAX_QUEUED = 5_000;

/**
 * Group commit of one stream's frames: while one batch is being stored, frames that arrive queue
 * up and go into the next batch, in order. The cursor advances only past stored envelopes.
 */
class FrameBatcher {
  private queue: StreamFrameRaw[] = [];
  private flushing: Promise<void> | undefined;
  private missing = false;
  private failure: unknown;
  private storedEnvelope = false;

  constructor(
    private readonly sink: IngestSink,
    private readonly runId: string,
    private cursor: number,
    private readonly onSettled: () => void,
  ) {}

  /** The run vanished or a batch failed: nothing more is stored from this stream. */
  get settled(): boolean {
    return this.missing || this.failure !== undefined;
  }

  get full(): boolean {
    return this.queue.length >= MAX_QUEUED;
  }

  push(raw: StreamFrameRaw): void {
    if (this.settled) return;
    this.queue.push(raw);
    this.flushing ??= this.flush();
  }

  /** Resolves once the transaction in flight (and what queued behind it) is stored. */
  async idle(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async finish(): Promise<{ cursor: number; missing: boolean; failure: unknown; storedEnvelope: boolean }> {
    await this.idle();
    return { cursor: this.cursor, missing: this.missing, failure: this.failure, storedEnvelope: this.storedEnvelope };
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.settled) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const outcome = await this.sink.ingestBatch(this.runId, batch, this.cursor);
        if (outcome.missing) {
          this.missing = true;
          break;
        }
        if (outcome.runtimeCursor > this.cursor) this.storedEnvelope = true;
        this.cursor = outcome.runtimeCursor;
      }
    } catch (error) {
      // The frames not stored are replayed from the cursor after re-subscribing.
      this.failure = error;
    } finally {
      this.flushing = undefined;
      if (this.settled) {
        this.queue = [];
        this.onSettled();
      }
    }
  }
}

/**
 * Follows one session with a passive StreamSession subscription and feeds every frame to the
 * sink. When the stream ends or fails, it reads the session's state (GetSession) and, unless the
 * session or the run is finished, re-subscribes from the stored cursor with jittered exponential
 * backoff — for as long as the session is open. Idleness never ends anything.
 */
export class SessionConsumer {
  private readonly abort = new AbortController();
  private stream: SessionStream | undefined;
  private draining = false;
  private halfClosed = false;
  readonly done: Promise<void>;

  constructor(
    private readonly target: ConsumerTarget,
    private readonly runtime: RuntimeGateway,
    private readonly sink: IngestSink,
    private readonly settings: ConsumerSettings,
    private readonly logger: Logger,
    private readonly onStreamCount: (delta: number) => void,
    private readonly onReconnect: () => void,
  ) {
    this.done = this.run().catch((error: unknown) => {
      this.logger.error({ err: error, run_id: target.runId }, "session consumer stopped on an unexpected error");
    });
  }

  stop(): Promise<void> {
    this.abort.abort();
    this.stream?.cancel();
    return this.done;
  }

  /**
   * The run finished: collect what is left and end. The open stream is half-closed, so the
   * runtime flushes every envelope up to the session's last one and then ends it (protocol.md
   * §4.3); without an open stream one final subscription does the same.
   */
  drain(): Promise<void> {
    this.draining = true;
    if (this.stream && !this.halfClosed) {
      this.halfClosed = true;
      this.stream.end();
    }
    return this.done;
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  private async run(): Promise<void> {
    const { runId, sessionId } = this.target;
    let cursor = this.target.cursor;
    let attempt = 0;
    let status: "opened" | "reconnecting" | "recovered" = this.target.reason;
    while (!this.stopped) {
      if (!this.draining) {
        const outcome = await this.sink.ingest(runId, { kind: "stream-status", status, receivedAt: new Date().toISOString() });
        if (outcome.missing) return;
        if (outcome.status !== undefined && TERMINAL_RUN.has(outcome.status)) this.draining = true;
      }
      const stream = this.runtime.openStream(this.target.auth);
      this.stream = stream;
      this.halfClosed = false;
      this.onStreamCount(1);
      let failure: string | undefined;
      const batcher = new FrameBatcher(this.sink, runId, cursor, () => stream.cancel());
      try {
        // stop() may have come while the status above was stored, before this stream existed to be cancelled.
        if (this.stopped) stream.cancel();
        stream.subscribe(sessionId, cursor);
        if (this.draining) {
          this.halfClosed = true;
          stream.end();
        }
        for await (const frame of stream) {
          const response = frame.response;
          if (response === undefined) continue;
          const receivedAt = new Date().toISOString();
          // The runtime sequence is assigned when the batch is handed to the sink.
          if (response.$case === "envelope") batcher.push({ kind: "stream-envelope", envelope: response.value, runtimeSequence: 0, receivedAt });
          else {
            const error = response.value;
            batcher.push({
              kind: "stream-inline-error",
              error: { code: error.code, message: error.message, sessionId: error.sessionId, messageId: error.messageId, details: error.details },
              receivedAt,
            });
          }
          if (batcher.full) await batcher.idle();
          if (batcher.settled) break;
        }
      } catch (error) {
        failure = error instanceof Error ? error.message : String(error);
      } finally {
        this.onStreamCount(-1);
        this.stream = undefined;
      }
      // Whatever arrived before the stream ended is stored before the cursor is used again.
      const outcome = await batcher.finish();
      cursor = outcome.cursor;
      if (outcome.storedEnvelope) attempt = 0;
      if (outcome.missing) return;
      if (outcome.failure !== undefined) failure = outcome.failure instanceof Error ? outcome.failure.message : String(outcome.failure);
      if (this.stopped) return;
      if (this.halfClosed && failure === undefined) return;
      if (failure !== undefined) this.logger.warn({ run_id: runId, session_id: sessionId, detail: failure }, "session stream failed; will re-subscribe");
      if (!this.draining && (await this.sessionFinished(runId, sessionId))) this.draining = true;
      if (this.draining) continue;
      this.onReconnect();
      status = "reconnecting";
      await sleep(backoffDelay(attempt, this.settings.backoffBaseMs, this.settings.backoffMaxMs), this.abort.signal);
      attempt += 1;
    }
  }

  /** Reads the session's state after a stream ended; the lifecycle decides whether to go on. */
  private async sessionFinished(runId: string, sessionId: string): Promise<boolean> {
    try {
      const response = await this.runtime.call("GetSession", (options) => this.runtime.client.getSession({ sessionId }, options), this.target.auth);
      if (!response.metadata) return false;
      const outcome = await this.sink.ingest(runId, { kind: "session-snapshot", metadata: response.metadata, receivedAt: new Date().toISOString() });
      // The snapshot itself tells: the projector may not have moved the run yet.
      return outcome.missing || FINAL_SESSION_STATES.has(sessionStateName(response.metadata.state)) || (outcome.status !== undefined && TERMINAL_RUN.has(outcome.status));
    } catch {
      // Runtime unreachable or session unknown right now: keep following; the lifecycle decides.
      return false;
    }
  }
}

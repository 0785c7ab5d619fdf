import type { CanonicalEvent } from "@macp/events";
import type { Logger } from "pino";
import type { RunEventHub, RunUpdate } from "../ingest/run-event-hub.js";
import type { EventPages } from "./event-pages.js";
import type { FrameSink } from "./frame-sink.js";
import type { StreamFrame } from "./frames.js";

/** Canonical types after which a run has nothing more to say. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(["run.completed", "run.failed", "run.cancelled"]);
const TERMINAL_STATUSES: ReadonlySet<string> = new Set(["completed", "failed", "cancelled"]);

/** What one live connection asks for. */
export interface LiveFeedRequest {
  readonly runId: string;
  /** Events with `seq > afterSeq` are sent; 0 = from the beginning. */
  readonly afterSeq: number;
  readonly includeSnapshot: boolean;
  readonly heartbeatMs: number;
  /** The run's status when the connection opened. */
  readonly status: string;
}

/** Limits and collaborators of live feeds. */
export interface LiveFeedDeps {
  readonly hub: RunEventHub;
  readonly pages: EventPages;
  readonly pageSize: number;
  readonly maxBufferedBytes: number;
  readonly maxPendingEvents: number;
  readonly logger: Logger;
}

/**
 * One live connection: backfill from the store, then live events from the hub, with no gap and no
 * duplicate at the seam. The hub is subscribed before the first read, and what it delivers while
 * the backfill runs is held; afterwards the held events are sent skipping every seq already sent.
 * An event committed during the backfill is thus either read by it or held (or both, and sent
 * once). When more than `maxPendingEvents` pile up, they are dropped and the backfill reads on from
 * the store, where they already are (the hub publishes only committed events), so memory stays
 * bounded. A client that stops reading is disconnected once `maxBufferedBytes` are waiting for it;
 * it resumes with Last-Event-ID.
 */
export class LiveFeed {
  private lastSent: number;
  private phase: "backfill" | "live" | "closed" = "backfill";
  private pending: CanonicalEvent[] = [];
  private overflowed = false;
  private terminal: { status: string } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: LiveFeedDeps,
    private readonly sink: FrameSink,
    private readonly request: LiveFeedRequest,
  ) {
    this.lastSent = request.afterSeq;
    if (TERMINAL_STATUSES.has(request.status)) this.terminal = { status: request.status };
  }

  /** Highest seq sent so far. */
  get cursor(): number {
    return this.lastSent;
  }

  /** Runs the connection until the run ends, the client leaves or {@link close} is called. */
  async start(): Promise<void> {
    const { runId } = this.request;
    this.sink.onClose(() => this.stop());
    this.unsubscribe = this.deps.hub.subscribe(runId, (update) => this.onUpdate(update));
    this.heartbeat = setInterval(() => this.deliver({ event: "heartbeat", data: { ts: new Date().toISOString() } }), this.request.heartbeatMs);
    this.heartbeat.unref();
    try {
      if (this.request.includeSnapshot) this.deliver({ event: "snapshot", data: await this.deps.pages.state(runId) });
      await this.backfill();
      if (this.isClosed()) return;
      const held = this.pending;
      this.pending = [];
      this.phase = "live";
      for (const event of held) this.sendEvent(event);
      if (this.terminal && this.isLive()) this.finish();
    } catch (error) {
      this.deps.logger.warn({ err: error, run_id: runId }, "live stream failed; the client resumes from its last id");
      this.close();
    }
  }

  /** Ends the connection with a `stream_closed` frame (server shutdown). */
  shutdown(): void {
    if (this.phase === "closed") return;
    this.sink.send({ event: "stream_closed", data: { reason: "shutdown", lastSeq: this.lastSent } });
    this.close();
  }

  private async backfill(): Promise<void> {
    const { pages, pageSize } = this.deps;
    for (;;) {
      const events = await pages.page(this.request.runId, this.lastSent, pageSize);
      for (const event of events) {
        if (this.isClosed()) return;
        if (!this.sendEvent(event)) await this.sink.drained();
      }
      if (this.isClosed()) return;
      if (events.length === pageSize) continue;
      if (!this.overflowed) return;
      // Held events were dropped: they are stored, so the next pass reads them.
      this.overflowed = false;
    }
  }

  private onUpdate(update: RunUpdate): void {
    if (this.phase === "closed") return;
    if (this.phase === "backfill") {
      if (this.overflowed) return;
      this.pending.push(...update.events);
      if (this.pending.length > this.deps.maxPendingEvents) {
        this.pending = [];
        this.overflowed = true;
      }
      return;
    }
    for (const event of update.events) this.sendEvent(event);
  }

  /** Sends an event not sent yet; false when the transport asks to wait. */
  private sendEvent(event: CanonicalEvent): boolean {
    if (event.seq <= this.lastSent || this.phase === "closed") return true;
    this.lastSent = event.seq;
    if (TERMINAL_EVENT_TYPES.has(event.type)) this.terminal = { status: event.type.slice("run.".length) };
    const ready = this.deliver({ event: "canonical_event", id: event.seq, data: event });
    if (this.isLive() && this.terminal) this.finish();
    return ready;
  }

  private deliver(frame: StreamFrame): boolean {
    if (this.phase === "closed") return true;
    const ready = this.sink.send(frame);
    if (this.sink.bufferedBytes > this.deps.maxBufferedBytes) {
      // The client reads slower than the run writes: drop it rather than buffer without bound.
      this.deps.logger.info({ run_id: this.request.runId, buffered: this.sink.bufferedBytes }, "slow stream client dropped; it resumes with Last-Event-ID");
      this.stop();
      this.sink.end(true);
    }
    return ready;
  }

  private finish(): void {
    if (this.phase === "closed" || !this.terminal) return;
    this.deliver({ event: "run_terminal", data: { runId: this.request.runId, status: this.terminal.status, lastSeq: this.lastSent } });
    this.close();
  }

  private isClosed(): boolean {
    return this.phase === "closed";
  }

  private isLive(): boolean {
    return this.phase === "live";
  }

  private close(): void {
    this.stop();
    this.sink.end();
  }

  private stop(): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    this.pending = [];
    this.unsubscribe?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
  }
}

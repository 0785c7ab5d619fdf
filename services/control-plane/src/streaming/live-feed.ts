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
 * One live connection: backfill from the store, then live updates from the hub, every event
 * exactly once and in seq order. The hub is subscribed before the first read; updates queue
 * while the backfill runs and are applied one at a time afterwards. Each update names the block
 * of seqs it closes (`previousSeq < seq <= throughSeq`, one committed transaction): updates come
 * from several processes (the projection worker, any instance's own transitions) and may arrive
 * out of order or not at all, so when an update starts above what this connection has covered,
 * the missing blocks are read from the store first (they are committed: the update is published
 * after its commit, and a run's appends commit in seq order). An update wholly covered already is
 * skipped. A heartbeat also reads the store past the cursor, so a lost last update (a run's
 * terminal event) is delivered within a heartbeat. When more than `maxPendingEvents` events
 * queue up, they are dropped and read from the store instead, so memory stays bounded. A client
 * that stops reading is disconnected once `maxBufferedBytes` are waiting for it; it resumes with
 * Last-Event-ID.
 */
export class LiveFeed {
  /** Highest seq sent. */
  private lastSent: number;
  /** Every seq up to this one is sent or does not exist as an event (≥ {@link lastSent}). */
  private covered: number;
  private phase: "backfill" | "live" | "closed" = "backfill";
  private queue: RunUpdate[] = [];
  private queuedEvents = 0;
  /** Queued updates were dropped (or the heartbeat asks): read the store past the cursor. */
  private catchUpDue = false;
  /** {@link drain} is running (set and cleared synchronously, so no update waits unseen). */
  private busy = false;
  private working: Promise<void> | undefined;
  private terminal: { status: string } | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly deps: LiveFeedDeps,
    private readonly sink: FrameSink,
    private readonly request: LiveFeedRequest,
  ) {
    this.lastSent = request.afterSeq;
    this.covered = request.afterSeq;
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
    this.heartbeat = setInterval(() => {
      this.deliver({ event: "heartbeat", data: { ts: new Date().toISOString() } });
      this.catchUpDue = true;
      this.work();
    }, this.request.heartbeatMs);
    this.heartbeat.unref();
    try {
      if (this.request.includeSnapshot) this.deliver({ event: "snapshot", data: await this.deps.pages.state(runId) });
      await this.catchUp(0);
      if (this.isClosed()) return;
      this.phase = "live";
      if (this.terminal) return this.finish();
      this.work();
      await this.working;
    } catch (error) {
      this.fail(error);
    }
  }

  /** Ends the connection with a `stream_closed` frame (server shutdown). */
  shutdown(): void {
    if (this.phase === "closed") return;
    this.sink.send({ event: "stream_closed", data: { reason: "shutdown", lastSeq: this.lastSent } });
    this.close();
  }

  private onUpdate(update: RunUpdate): void {
    if (this.phase === "closed" || update.throughSeq <= this.covered) return;
    this.queue.push(update);
    this.queuedEvents += update.events.length;
    if (this.queuedEvents > this.deps.maxPendingEvents) {
      // They are stored (updates are published after their commit): read them from there.
      this.queue = [];
      this.queuedEvents = 0;
      this.catchUpDue = true;
    }
    this.work();
  }

  /** Applies queued updates one at a time (store reads in between keep the order). */
  private work(): void {
    if (this.phase !== "live" || this.busy) return;
    this.busy = true;
    this.working = this.drain().catch((error: unknown) => this.fail(error));
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        if (this.isClosed()) return;
        if (this.catchUpDue) {
          this.catchUpDue = false;
          await this.catchUp(0);
          continue;
        }
        const update = this.queue.shift();
        // Returning clears `busy` in the same tick: an update published next starts a new drain.
        if (!update) return;
        this.queuedEvents -= update.events.length;
        if (update.throughSeq <= this.covered) continue;
        // A block before this one is missing here (another process's update, late or lost).
        if (update.previousSeq > this.covered) await this.catchUp(update.previousSeq);
        for (const event of update.events) this.sendEvent(event);
        this.covered = Math.max(this.covered, update.throughSeq);
      }
    } finally {
      this.busy = false;
    }
  }

  /**
   * Sends every stored event past the cursor, page by page, waiting for a slow client between
   * frames. Everything committed when a page was read is in it, and `committedThrough` is known
   * to be committed, so both count as covered afterwards.
   */
  private async catchUp(committedThrough: number): Promise<void> {
    const { pages, pageSize } = this.deps;
    for (;;) {
      const events = await pages.page(this.request.runId, this.lastSent, pageSize);
      for (const event of events) {
        if (this.isClosed()) return;
        if (!this.sendEvent(event)) await this.sink.drained();
      }
      if (this.isClosed() || events.length < pageSize) break;
    }
    this.covered = Math.max(this.covered, this.lastSent, committedThrough);
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

  private fail(error: unknown): void {
    this.deps.logger.warn({ err: error, run_id: this.request.runId }, "live stream failed; the client resumes from its last id");
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
    this.queue = [];
    this.unsubscribe?.();
    if (this.heartbeat) clearInterval(this.heartbeat);
  }
}

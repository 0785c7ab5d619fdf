import { sessionStateName } from "@macp/events";
import type { RawRuntimeEvent } from "@macp/events";
import type { Kysely } from "kysely";
import type { ControlBlock, ControlInput, RawDelivery, RawRecord } from "../bus/event-bus.js";
import type { Database, RunRow, RunStatus } from "../store/schema.js";
import { eventStore } from "../store/event-store.js";
import type { AppendResult } from "../store/event-store.js";
import type { RunLifecycle, TransitionOutcome } from "../store/run-lifecycle.js";

/** What the projector reports, for metrics. */
export interface ProjectorObserver {
  /** A runtime envelope was stored for the first time. */
  inbound(mode: string, messageType: string): void;
  /** One transaction applied `inputs` raw inputs in `seconds` (normalize, fold, write). */
  applied(inputs: number, seconds: number): void;
  /** Raw inputs the bus handed over again (after a consumer died or did not acknowledge in time). */
  redelivered(count: number): void;
  /** Raw inputs already stored: each changed nothing. */
  duplicates(count: number): void;
}

/** Session states that move the run (the runtime's lifecycle is the only source of terminal state). */
const STATUS_OF_SESSION: Readonly<Record<string, RunStatus>> = {
  SESSION_STATE_RESOLVED: "completed",
  SESSION_STATE_EXPIRED: "failed",
  SESSION_STATE_CANCELLED: "cancelled",
  SESSION_STATE_SUSPENDED: "suspended",
  SESSION_STATE_OPEN: "running",
};

type StreamFrame = Extract<RawRuntimeEvent, { kind: "stream-envelope" | "stream-inline-error" }>;

interface Held {
  readonly record: RawRecord;
  /** Every delivery of this record (a redelivery of a held one is acknowledged with it). */
  readonly deliveries: RawDelivery[];
  /** Envelope at its runtime sequence; other input just before the envelope at its position, and after what arrived before it. */
  readonly rank: number;
}

interface RunCursor {
  /** Runtime sequence of the next envelope to store. */
  expected: number;
  /** Inputs that arrived ahead of a missing envelope, by rank. */
  readonly held: Held[];
}

/**
 * Applies one partition's raw input to the store: the single writer of runtime-derived canonical
 * events, projections and metrics for the runs of that partition. Each run's input is applied in
 * runtime order whatever order the bus delivers it in (an envelope ahead of a missing one waits
 * for it), and idempotently: an envelope below the run's stored runtime cursor, or an input whose
 * raw key is stored, changes nothing. A record is acknowledged only after its transaction
 * committed and its events were handed to the live fan-out, so a crash replays it.
 */
export class PartitionProjector {
  private readonly runs = new Map<string, RunCursor>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly lifecycle: RunLifecycle,
    private readonly observer: ProjectorObserver,
  ) {}

  /** Applies a batch in bus order; throws when the store fails (the caller restarts from the oldest unacknowledged record). */
  async handle(batch: readonly RawDelivery[]): Promise<void> {
    const byRun = new Map<string, RawDelivery[]>();
    for (const delivery of batch) {
      const list = byRun.get(delivery.record.runId);
      if (list) list.push(delivery);
      else byRun.set(delivery.record.runId, [delivery]);
    }
    const redelivered = batch.filter((delivery) => delivery.redelivered).length;
    if (redelivered > 0) this.observer.redelivered(redelivered);
    // Runs are independent (each transaction locks its own run row); one run's inputs stay in order.
    await Promise.all([...byRun].map(([runId, deliveries]) => this.applyRun(runId, deliveries)));
  }

  private async applyRun(runId: string, deliveries: readonly RawDelivery[]): Promise<void> {
    let cursor = this.runs.get(runId);
    if (!cursor) {
      cursor = { expected: await this.storedCursor(runId), held: [] };
      this.runs.set(runId, cursor);
    }
    for (const delivery of deliveries) this.hold(cursor, delivery);
    const ready: Held[] = [];
    for (;;) {
      const head = cursor.held[0];
      if (!head) break;
      const envelope = head.record.raw.kind === "stream-envelope";
      if (envelope ? head.record.position !== cursor.expected : head.record.position > cursor.expected) break;
      cursor.held.shift();
      if (envelope) cursor.expected += 1;
      ready.push(head);
    }
    let index = 0;
    while (index < ready.length) {
      const first = ready[index] as Held;
      if (first.record.raw.kind === "stream-envelope" || first.record.raw.kind === "stream-inline-error") {
        let end = index + 1;
        while (end < ready.length && isFrame((ready[end] as Held).record.raw)) end += 1;
        if (!(await this.applyFrames(runId, ready.slice(index, end)))) return this.forget(runId);
        index = end;
      } else if (first.record.raw.kind === "control") {
        let end = index + 1;
        while (end < ready.length && (ready[end] as Held).record.raw.kind === "control") end += 1;
        if (!(await this.applyControl(runId, ready.slice(index, end)))) return this.forget(runId);
        index = end;
      } else {
        if (!(await this.applyOne(runId, first))) return this.forget(runId);
        index += 1;
      }
    }
  }

  private hold(cursor: RunCursor, delivery: RawDelivery): void {
    const { record } = delivery;
    const envelope = record.raw.kind === "stream-envelope";
    if (envelope && record.position < cursor.expected) {
      // Stored before (a replay after a takeover or a re-subscription).
      this.observer.duplicates(1);
      delivery.ack();
      return;
    }
    // Other input never overtakes what arrived before it (its position may be unknown: 0).
    const rank = envelope ? record.position : Math.max(record.position - 0.5, cursor.held.at(-1)?.rank ?? -1);
    if (envelope) {
      const same = cursor.held.find((held) => held.rank === rank);
      if (same) {
        same.deliveries.push(delivery);
        return;
      }
    }
    let at = cursor.held.length;
    while (at > 0 && (cursor.held[at - 1] as Held).rank > rank) at -= 1;
    cursor.held.splice(at, 0, { record, deliveries: [delivery], rank });
  }

  /** Stores a run of stream frames in one transaction; false when the run no longer exists. */
  private async applyFrames(runId: string, items: readonly Held[]): Promise<boolean> {
    const raws = items.map((item) => item.record.raw as StreamFrame);
    const started = performance.now();
    const append = await this.db.transaction().execute((trx) => eventStore.appendRawBatch(trx, runId, raws));
    this.observer.applied(items.length, (performance.now() - started) / 1000);
    if (append) {
      raws.forEach((raw, index) => {
        if (raw.kind !== "stream-envelope") return;
        if (append.duplicates[index]) this.observer.duplicates(1);
        else this.observer.inbound(raw.envelope.mode, raw.envelope.messageType);
      });
      this.lifecycle.publish({ duplicate: false, previousSeq: append.previousSeq, run: append.run, events: append.events, state: append.state, metrics: append.metrics });
    }
    acknowledge(items);
    return append !== undefined;
  }

  /**
   * Stores control-plane inputs of one run, in order, in one transaction: each one's events, then
   * its transition and (only if the run moved) the session row and events that go with it. Event
   * ids derive from the inputs' raw keys, so a replayed input stores nothing twice.
   */
  private async applyControl(runId: string, items: readonly Held[]): Promise<boolean> {
    const started = performance.now();
    const { exists, stored } = await this.db.transaction().execute(async (trx) => {
      // What was stored, in order: appends and moves are published in the order of their seqs.
      const stored: (AppendResult | TransitionOutcome)[] = [];
      const append = async (blocks: readonly ControlBlock[] | undefined, locked: RunRow | undefined): Promise<RunRow | undefined> => {
        let row = locked;
        for (const block of blocks ?? []) {
          const result = await eventStore.appendControl(trx, runId, { rawKey: block.rawKey, drafts: [...block.drafts] }, row ? { locked: row } : {});
          if (!result) return undefined;
          stored.push(result);
          row = result.run;
        }
        return row;
      };
      for (const item of items) {
        const input = item.record.raw as ControlInput;
        let row = await append(input.events, undefined);
        if (input.events.length > 0 && !row) return { exists: false, stored };
        // After the events' append locked the run row: a deleted run fails nothing here.
        if (input.artifact !== undefined) await trx.insertInto("run_artifacts").values(input.artifact).onConflict((conflict) => conflict.column("id").doNothing()).execute();
        const { transition } = input;
        if (transition === undefined) continue;
        const moved = await this.lifecycle.transition(trx, runId, transition.target, {
          ...(transition.reason !== undefined ? { reason: transition.reason } : {}),
          ...(transition.failure !== undefined ? { failure: transition.failure } : {}),
        });
        if (moved.kind === "missing") return { exists: false, stored };
        stored.push(moved);
        if (moved.kind !== "moved") continue;
        if (transition.session !== undefined) await trx.insertInto("runtime_sessions").values(transition.session).onConflict((conflict) => conflict.column("run_id").doNothing()).execute();
        row = await append(transition.events, moved.run);
      }
      return { exists: true, stored };
    });
    this.observer.applied(items.length, (performance.now() - started) / 1000);
    for (const result of stored) {
      if ("kind" in result) this.lifecycle.published(result);
      else this.lifecycle.publish(result);
    }
    acknowledge(items);
    return exists;
  }

  /** Stores one lifecycle input (stream status, session snapshot) and the run transition it implies. */
  private async applyOne(runId: string, item: Held): Promise<boolean> {
    const raw = item.record.raw as RawRuntimeEvent;
    const started = performance.now();
    const { append, transition } = await this.db.transaction().execute(async (trx) => {
      const append = await eventStore.appendRaw(trx, runId, raw);
      if (!append || append.duplicate || raw.kind !== "session-snapshot") return { append, transition: undefined as TransitionOutcome | undefined };
      const target = STATUS_OF_SESSION[sessionStateName(raw.metadata.state)];
      // OPEN only moves a suspended run back (binding → running is the launcher's step).
      if (target === undefined || (target === "running" && append.run.status !== "suspended")) return { append, transition: undefined };
      const failure = target === "failed" ? { code: "SESSION_EXPIRED", message: "the session's TTL expired" } : undefined;
      return { append, transition: await this.lifecycle.transition(trx, runId, target, failure ? { failure } : {}) };
    });
    this.observer.applied(1, (performance.now() - started) / 1000);
    if (append?.duplicate) this.observer.duplicates(1);
    this.lifecycle.publish(append);
    if (transition) this.lifecycle.published(transition);
    acknowledge([item]);
    return append !== undefined;
  }

  private async storedCursor(runId: string): Promise<number> {
    const row = await this.db.selectFrom("runtime_sessions").select("last_runtime_seq").where("run_id", "=", runId).executeTakeFirst();
    return row?.last_runtime_seq ?? 0;
  }

  /** The run is gone (deleted): whatever is held for it is dropped with it. */
  private forget(runId: string): void {
    const cursor = this.runs.get(runId);
    if (cursor) acknowledge(cursor.held);
    this.runs.delete(runId);
  }
}

function isFrame(raw: RawRuntimeEvent | ControlInput): raw is StreamFrame {
  return raw.kind === "stream-envelope" || raw.kind === "stream-inline-error";
}

function acknowledge(items: readonly Held[]): void {
  for (const item of items) for (const delivery of item.deliveries) delivery.ack();
}

import { runCancelledEvent, runCompletedEvent, runFailedEvent, runResumedEvent, runStartedEvent, runSuspendedEvent } from "@macp/events";
import type { CanonicalEvent, EventDraft } from "@macp/events";
import { sql } from "kysely";
import type { Transaction } from "kysely";
import type { Database, RunRow, RunStatus, RunUpdate } from "./schema.js";
import type { EventsUpdate } from "../bus/event-bus.js";
import { eventStore } from "./event-store.js";
import type { AppendResult } from "./event-store.js";
import { TRANSITIONS } from "./transitions.js";

/** Where committed canonical events go for live fan-out. */
export interface EventsPublisher {
  publish(update: EventsUpdate): void;
}

/** Counts transitions by target status (a Prometheus counter fits). */
export interface TransitionCounter {
  inc(labels: { status: string }): void;
}

type Trx = Transaction<Database>;

/** Why a run ended badly: the code stored in `error_code` and its text. */
export interface RunFailure {
  readonly code: string;
  readonly message: string;
}

/**
 * Writes what a transition causes outside the run (webhook deliveries) in the transition's own
 * transaction, and hears after the commit which of those rows now exist.
 */
export interface TransitionOutbox {
  /** Called in the transaction with the moved run and the events it appended; returns new row ids. */
  record(trx: Trx, run: RunRow, events: readonly CanonicalEvent[]): Promise<readonly string[]>;
  /** The rows {@link record} returned, once their transaction committed. */
  committed(ids: readonly string[]): void;
}

/** Outcome of a transition request. */
export type TransitionOutcome =
  | { readonly kind: "moved"; readonly run: RunRow; readonly append: AppendResult | undefined; readonly outboxIds: readonly string[] }
  | { readonly kind: "already"; readonly run: RunRow }
  | { readonly kind: "refused"; readonly run: RunRow }
  | { readonly kind: "missing" };

/**
 * Run status transitions with their control-plane events, in the caller's transaction: the row
 * is locked, the move checked against §1.6, the row updated and the `run.*` event appended
 * together, so the run table and the event log never disagree.
 */
export class RunLifecycle {
  /** Called after a committed transaction moved a run (ingest stops following finished runs). */
  onMoved: ((run: RunRow) => void) | undefined;
  /** Written with every transition (set once at startup). */
  outbox: TransitionOutbox | undefined;

  constructor(
    private readonly hub: EventsPublisher,
    private readonly transitions: TransitionCounter,
  ) {}

  async transition(trx: Trx, runId: string, target: RunStatus, options: { failure?: RunFailure; reason?: string; patch?: RunUpdate } = {}): Promise<TransitionOutcome> {
    const run = await trx.selectFrom("runs").selectAll().where("id", "=", runId).forUpdate().executeTakeFirst();
    if (!run) return { kind: "missing" };
    if (run.status === target) return { kind: "already", run };
    if (!TRANSITIONS[run.status].includes(target)) return { kind: "refused", run };
    const now = new Date();
    const terminal = target === "completed" || target === "failed" || target === "cancelled";
    const updated = await trx
      .updateTable("runs")
      .set({
        ...options.patch,
        status: target,
        updated_at: sql`now()`,
        ...(target === "starting" ? { started_at: now } : {}),
        ...(terminal ? { ended_at: now } : {}),
        ...(options.failure ? { error_code: options.failure.code, error_message: options.failure.message } : {}),
      })
      .where("id", "=", runId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const draft = this.draftFor(updated, run.status, now.toISOString(), options);
    const append = draft ? await eventStore.appendControl(trx, runId, { rawKey: `transition:${target}`, drafts: [draft] }, { locked: updated }) : undefined;
    const moved = append?.run ?? updated;
    const outboxIds = append && this.outbox ? await this.outbox.record(trx, moved, append.events) : [];
    this.transitions.inc({ status: target });
    return { kind: "moved", run: moved, append, outboxIds };
  }

  /** Publishes what a committed transaction appended. */
  publish(append: AppendResult | undefined): void {
    if (append && !append.duplicate) this.hub.publish({ runId: append.run.id, previousSeq: append.previousSeq, throughSeq: append.run.last_event_seq, events: append.events });
  }

  /** Publishes a committed transition and tells {@link onMoved}. */
  published(outcome: TransitionOutcome): TransitionOutcome {
    if (outcome.kind === "moved") {
      this.publish(outcome.append);
      this.outbox?.committed(outcome.outboxIds);
      this.onMoved?.(outcome.run);
    }
    return outcome;
  }

  private draftFor(run: RunRow, from: RunStatus, ts: string, options: { failure?: RunFailure; reason?: string }): EventDraft | undefined {
    const target = run.status;
    const base = {
      ts,
      runId: run.id,
      ...(run.runtime_session_id ? { runtimeSessionId: run.runtime_session_id } : {}),
      ...(run.trace_id ? { traceId: run.trace_id } : {}),
    };
    const modeName = String((run.metadata.executionRequest as { session?: { modeName?: string } } | undefined)?.session?.modeName ?? "");
    switch (target) {
      case "starting":
        return runStartedEvent({ ...base, startedAt: ts, modeName, runtimeKind: run.runtime_kind });
      case "completed":
        return runCompletedEvent({ ...base, endedAt: ts });
      case "failed":
        return runFailedEvent({ ...base, endedAt: ts, error: options.failure ? `${options.failure.code}: ${options.failure.message}` : "failed" });
      case "cancelled":
        return runCancelledEvent({ ...base, endedAt: ts, ...(options.reason ? { reason: options.reason } : {}) });
      case "suspended":
        return runSuspendedEvent({ ...base, ...(options.reason ? { reason: options.reason } : {}) });
      case "running":
        return from === "suspended" ? runResumedEvent({ ...base, ...(options.reason ? { reason: options.reason } : {}) }) : undefined;
      default:
        return undefined;
    }
  }
}

import { buildEnvelope, buildSessionStart, MacpClientError } from "@macp/client";
import type { ClientAuth } from "@macp/client";
import { messageSendFailedEvent, messageSentEvent, participantSeenEvent, runCreatedEvent, sessionBoundEvent, sessionStateChangedEvent, sessionStateName } from "@macp/events";
import type { Ack, Envelope } from "@macp/protocol";
import { sql } from "kysely";
import type { Kysely } from "kysely";
import type { Logger } from "pino";
import type { ControlPlaneConfig } from "../config/config.js";
import { backoffDelay, sleep } from "@macp/pipeline";
import type { ControlBlock, Database, RunFailure, RunLifecycle, RunRow } from "@macp/pipeline";
import type { IngestSink } from "../ingest/ingest-sink.js";
import type { RunEventHub } from "../ingest/run-event-hub.js";
import type { RunOwnership } from "../ingest/run-ownership.js";
import { LifecycleWatcher } from "../ingest/lifecycle-watcher.js";
import { SessionConsumer } from "../ingest/session-consumer.js";
import type { ControlPlaneMetrics } from "../observability/metrics.js";
import type { RuntimeGateway } from "../runtime/gateway.js";
import { planRun } from "./request-plan.js";
import type { RunPlan } from "./request-plan.js";
import type { RunRequest } from "./request-schema.js";
import type { ControlWriter } from "./control-writer.js";
import { runRepository } from "./run-repository.js";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const TRANSIENT = new Set([1, 4, 14]);
const DRAIN_WAIT_MS = 10_000;
const TERMINAL_EVENTS = new Set(["run.completed", "run.failed", "run.cancelled"]);
const FINAL_STATES = new Set(["SESSION_STATE_RESOLVED", "SESSION_STATE_EXPIRED", "SESSION_STATE_CANCELLED"]);

/** The stored request of a run (metadata.executionRequest). */
export function requestOf(run: RunRow): RunRequest {
  return run.metadata.executionRequest as RunRequest;
}

/** The run's `run.created` event (stamped with the row's creation time, so a re-publish is the same event). */
export function createdBlock(run: RunRow): ControlBlock {
  const created = run.created_at instanceof Date ? run.created_at : new Date(run.created_at);
  return {
    rawKey: "run.created",
    drafts: [
      runCreatedEvent({
        ts: created.toISOString(),
        runId: run.id,
        modeName: requestOf(run).session.modeName,
        runtimeKind: run.runtime_kind,
        ...(run.runtime_version ? { runtimeVersion: run.runtime_version } : {}),
        sessionId: run.runtime_session_id ?? "",
      }),
    ],
  };
}

/**
 * Drives runs through their lifecycle and owns ingest: launches sessions (SessionStart and
 * kickoff with each sender's own credential), waits for sessions agents start, binds, follows
 * every bound session with a {@link SessionConsumer}, and watches the lifecycle. Every step is
 * idempotent (message ids derive from the run id; events from stable keys), so `resume()` after a
 * restart simply drives every unfinished run again from where its row says it is.
 */
export class RunDriver {
  private readonly tasks = new Map<string, Promise<void>>();
  private readonly consumers = new Map<string, SessionConsumer>();
  private readonly abort = new AbortController();
  private watcher: LifecycleWatcher | undefined;
  private leaseTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: ControlPlaneConfig,
    private readonly runtime: RuntimeGateway,
    private readonly sink: IngestSink,
    private readonly hub: RunEventHub,
    private readonly lifecycle: RunLifecycle,
    private readonly control: ControlWriter,
    private readonly metrics: ControlPlaneMetrics,
    private readonly logger: Logger,
    /** Which runs this instance drives: one instance per run across all of them. */
    private readonly ownership: RunOwnership,
  ) {
    lifecycle.onMoved = (run) => {
      if (TERMINAL.has(run.status)) void this.consumers.get(run.id)?.drain();
    };
  }

  /** Starts the lifecycle watch and, when enabled, resumes every unfinished run. */
  async start(): Promise<void> {
    const observer = this.config.runtime.bearerToken !== undefined ? { bearer: this.config.runtime.bearerToken } : this.config.runtime.devAuth ? { bearer: "macp-control-plane" } : undefined;
    // A session that ended is drained first, so run.completed follows its last envelope.
    const drainingSink: IngestSink = {
      ingest: async (runId, raw) => {
        const consumer = this.consumers.get(runId);
        if (consumer && raw.kind === "session-snapshot" && FINAL_STATES.has(sessionStateName(raw.metadata.state))) {
          // Bounded: a runtime that stops answering must not hold the lifecycle back forever.
          await Promise.race([consumer.drain(), sleep(DRAIN_WAIT_MS, this.abort.signal)]);
        }
        return this.sink.ingest(runId, raw);
      },
      ingestBatch: (runId, raws, runtimeCursor) => this.sink.ingestBatch(runId, raws, runtimeCursor),
      forget: (runId) => this.sink.forget(runId),
    };
    this.watcher = new LifecycleWatcher(
      this.runtime,
      observer,
      drainingSink,
      async (sessionId) => {
        // Only the instance driving a run applies its lifecycle (it can drain its own stream first).
        const run = await runRepository.getBySession(this.db, sessionId);
        return run && !TERMINAL.has(run.status) && this.ownership.holds(run.id) ? run.id : undefined;
      },
      { backoffBaseMs: this.config.stream.backoffBaseMs, backoffMaxMs: this.config.stream.backoffMaxMs },
      this.logger,
    );
    const period = Math.max(50, Math.floor(this.config.runLeaseTtlMs / 3));
    this.leaseTimer = setInterval(() => void this.tendLeases(), period);
    if (!this.config.runRecovery) return;
    await this.adoptOrphans();
  }

  /**
   * Offers every unfinished run not driven here to {@link drive}, which takes it only if its lease
   * is free or expired: runs of a stopped or dead instance, and runs whose creating instance could
   * not start them. Every instance scans, so no run waits for a particular one; a run younger than
   * a lease period is left to the instance that created it.
   */
  private async adoptOrphans(): Promise<void> {
    const open = await this.db
      .selectFrom("runs")
      .select("id")
      .where("status", "not in", [...TERMINAL] as RunRow["status"][])
      .where("created_at", "<", sql<Date>`now() - ${`${this.config.runLeaseTtlMs} milliseconds`}::interval`)
      .execute();
    for (const { id } of open) if (!this.ownership.holds(id)) this.drive(id, "recovered");
  }

  /** Renews held leases; a run that finished or whose lease was lost is drained and let go. */
  private async tendLeases(): Promise<void> {
    if (this.abort.signal.aborted) return;
    try {
      for (const runId of await this.ownership.renew()) {
        // Another instance may follow the run now (it resumes from the stored cursor): stop at once.
        this.logger.warn({ run_id: runId }, "run lease lost; another instance takes the run over");
        void this.consumers.get(runId)?.stop();
      }
      const held = this.ownership.runs.filter((runId) => !this.tasks.has(runId));
      if (held.length > 0) {
        const finished = await this.db.selectFrom("runs").select("id").where("id", "in", held).where("status", "in", [...TERMINAL] as RunRow["status"][]).execute();
        for (const { id } of finished) {
          void this.consumers.get(id)?.drain();
          await this.ownership.release(id);
        }
      }
      if (this.config.runRecovery) await this.adoptOrphans();
    } catch (error) {
      this.logger.warn({ detail: error instanceof Error ? error.message : String(error) }, "run lease upkeep failed");
    }
  }

  /**
   * Launches a run this instance just stored: no row read, and at most `RUN_LAUNCH_CONCURRENCY`
   * launches (SessionStart, bind, kickoff) at once; the rest wait as `queued` rows under this
   * instance's lease, which a restart or another instance takes over if this one dies first.
   */
  launch(run: RunRow): void {
    if (this.tasks.has(run.id) || this.abort.signal.aborted) return;
    const bounded = run.metadata.launch === "launch";
    this.track(
      run.id,
      this.ownership
        .acquire(run.id)
        .catch(() => false)
        .then(async (held) => {
          if (!held) return;
          if (bounded) await this.launchSlot();
          try {
            await this.step(run.id, "opened", run);
          } finally {
            if (bounded) this.releaseSlot();
          }
        }),
    );
  }

  private launching = 0;
  private readonly launchQueue: (() => void)[] = [];

  private launchSlot(): Promise<void> {
    if (this.launching < this.config.launchConcurrency) {
      this.launching += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.launchQueue.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.launchQueue.shift();
    if (next) next();
    else this.launching -= 1;
  }

  /** Drives a run in the background (once at a time per run, and only under this instance's lease). */
  drive(runId: string, reason: "opened" | "recovered" = "opened"): void {
    if (this.tasks.has(runId) || this.abort.signal.aborted) return;
    // An unreachable lease store is not the run's failure: the next upkeep offers the run again.
    this.track(
      runId,
      this.ownership
        .acquire(runId)
        .catch(() => false)
        .then((held) => (held ? this.step(runId, reason) : undefined)),
    );
  }

  private track(runId: string, work: Promise<void>): void {
    const task = work
      .catch(async (error: unknown) => {
        if (this.abort.signal.aborted) return;
        this.logger.error({ err: error, run_id: runId }, "run driver failed");
        const code = error instanceof MacpClientError ? (error.macpCode ?? `GRPC_${error.grpcCode}`) : "INTERNAL_ERROR";
        await this.fail(runId, { code, message: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
      })
      .finally(() => this.tasks.delete(runId));
    this.tasks.set(runId, task);
  }

  /** True while the driver accepts work (false once shutdown began). */
  get healthy(): boolean {
    return !this.abort.signal.aborted;
  }

  /** Stops the consumer of a run (after it finished or was deleted). */
  async release(runId: string): Promise<void> {
    await this.consumers.get(runId)?.stop();
    await this.ownership.release(runId);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.leaseTimer);
    await Promise.all([this.watcher?.stop(), ...[...this.consumers.values()].map((consumer) => consumer.stop())]);
    await Promise.allSettled([...this.tasks.values()]);
    // Hand the runs over at once instead of letting their leases run out.
    await this.ownership.releaseAll();
  }

  private async current(runId: string): Promise<RunRow | undefined> {
    const run = await runRepository.get(this.db, runId);
    return run && !TERMINAL.has(run.status) && !this.abort.signal.aborted ? run : undefined;
  }

  /** The run, if it is still to be driven. */
  private live(run: RunRow | undefined): RunRow | undefined {
    return run !== undefined && !TERMINAL.has(run.status) && !this.abort.signal.aborted ? run : undefined;
  }

  /**
   * One pass over the run from where its row says it is. Every event and transition goes to the
   * projector as a control input on the run's partition; only the bind is waited for (a run
   * cancelled meanwhile must not keep the session this launch opened). `known`: the row as the
   * caller just stored it.
   */
  private async step(runId: string, reason: "opened" | "recovered", known?: RunRow): Promise<void> {
    let run = known !== undefined && !this.abort.signal.aborted ? known : await this.current(runId);
    if (!run) return;
    const planned = planRun(requestOf(run), run.id, run.runtime_session_id ?? "", {
      runtimeKinds: this.config.runtime.kinds,
      supportedModes: undefined,
      canSendAs: (sender) => this.runtime.senderAuth(sender) !== undefined,
      canRead: (participants) => this.runtime.canRead(participants),
    });
    if (!planned.ok) {
      await this.fail(runId, { code: "INVALID_REQUEST", message: planned.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ") });
      return;
    }
    const plan = planned.plan;
    if (run.status === "queued") {
      await this.control.publish(runId, { kind: "control", events: [createdBlock(run)], transition: { target: "starting" } });
      run = { ...run, status: "starting" };
    }
    let bound = false;
    if (run.status === "starting") {
      const started = plan.kind === "launch" ? await this.startSession(run, plan) : await this.awaitSession(run, plan);
      if (!started) return;
      // Cancelled while the SessionStart was in flight: the bind is refused, and the session we opened is not left behind.
      run = this.live(await this.bind(run, plan));
      if (!run) {
        if (plan.kind === "launch" && !this.abort.signal.aborted) await this.cancelOrphan(plan);
        return;
      }
      bound = true;
    }
    await this.follow(run, plan, reason, bound ? 0 : undefined);
    if (run.status === "binding_session") {
      const kickoff = plan.kind === "launch" ? await this.sendKickoff(run, plan) : [];
      if (kickoff === undefined) return;
      await this.markRunning(run, plan, kickoff);
    }
  }

  private async startSession(run: RunRow, plan: RunPlan): Promise<boolean> {
    const initiator = plan.initiator ?? "";
    const envelope = buildSessionStart({
      mode: plan.modeName,
      sessionId: plan.sessionId,
      messageId: plan.startMessageId,
      timestampUnixMs: Date.now(),
      payload: {
        intent: plan.intent,
        participants: [...plan.participants],
        modeVersion: plan.modeVersion,
        configurationVersion: plan.configurationVersion,
        policyVersion: plan.policyVersion,
        ttlMs: plan.ttlMs,
        roots: plan.roots.map((root) => ({ ...root })),
        contextId: plan.contextId,
        extensions: { ...plan.extensions },
      },
    });
    const ack = await this.sendWithRetry(run.id, envelope, this.runtime.senderAuth(initiator));
    if (ack === undefined) return false;
    if (!ack.ok) {
      await this.fail(run.id, { code: ack.error?.code ?? "RUNTIME_ERROR", message: `SessionStart refused: ${ack.error?.message ?? "no reason given"}` });
      return false;
    }
    return true;
  }

  /** Waits for agents to start the session: NOT_FOUND is expected for a while (defect 1). */
  private async awaitSession(run: RunRow, plan: RunPlan): Promise<boolean> {
    const deadline = Date.now() + this.config.sessionPoll.timeoutMs;
    const auth = this.runtime.readerAuth(plan.participants);
    let delay = this.config.sessionPoll.baseMs;
    while (Date.now() < deadline) {
      if (!(await this.current(run.id))) return false;
      try {
        const response = await this.runtime.call("GetSession", (options) => this.runtime.client.getSession({ sessionId: plan.sessionId }, options), auth);
        if (response.metadata) return true;
      } catch (error) {
        if (!(error instanceof MacpClientError)) throw error;
        // NOT_FOUND (not started yet), PERMISSION_DENIED (not yet declared) and transport errors are waited out.
      }
      await sleep(delay, this.abort.signal);
      delay = Math.min(this.config.sessionPoll.maxMs, delay * 2);
    }
    await this.fail(run.id, { code: "RUNTIME_TIMEOUT", message: `session ${plan.sessionId} was not started within ${this.config.sessionPoll.timeoutMs} ms` });
    return false;
  }

  /** Binds the run to its session (status binding_session); resolves with the run once the projector applied it. */
  private async bind(run: RunRow, plan: RunPlan): Promise<RunRow | undefined> {
    const request = requestOf(run);
    const ts = new Date().toISOString();
    const drafts = [
      sessionBoundEvent({
        ts,
        sessionId: plan.sessionId,
        ...(plan.initiator ? { initiator: plan.initiator } : {}),
        state: "SESSION_STATE_OPEN",
        modeName: plan.modeName,
        modeVersion: plan.modeVersion,
        configurationVersion: plan.configurationVersion,
        policyVersion: plan.policyVersion,
        participants: plan.participants,
      }),
      ...request.session.participants.map((participant) =>
        participantSeenEvent({
          ts,
          participantId: participant.transportIdentity ?? participant.id,
          ...(participant.role ? { role: participant.role } : {}),
          ...(participant.transportIdentity ? { transportIdentity: participant.transportIdentity } : {}),
        }),
      ),
    ];
    const session = {
      run_id: run.id,
      runtime_session_id: plan.sessionId,
      mode_name: plan.modeName,
      mode_version: plan.modeVersion,
      configuration_version: plan.configurationVersion,
      policy_version: plan.policyVersion,
      initiator_participant_id: plan.initiator ?? null,
      session_state: "SESSION_STATE_OPEN",
      participants: JSON.stringify(plan.participants),
    };
    const settled = await this.control.apply(run.id, { kind: "control", events: [], transition: { target: "binding_session", session, events: [{ rawKey: "session.bound", drafts }] } }, async () => {
      const row = await runRepository.get(this.db, run.id);
      return row === undefined ? { row } : row.status === "queued" || row.status === "starting" ? undefined : { row };
    });
    return settled.row;
  }

  /** Follows the bound session from `cursor` (a session bound just now has nothing stored: 0) or its stored cursor. */
  private async follow(run: RunRow, plan: RunPlan, reason: "opened" | "recovered", cursor?: number): Promise<void> {
    // The consumer of a lease lost and taken back may still be stopping: it ends first.
    await this.consumers.get(run.id)?.stop();
    if (this.consumers.has(run.id) || this.abort.signal.aborted) return;
    const stored = cursor ?? (await this.db.selectFrom("runtime_sessions").select("last_runtime_seq").where("run_id", "=", run.id).executeTakeFirst())?.last_runtime_seq ?? 0;
    const consumer = new SessionConsumer(
      { runId: run.id, sessionId: plan.sessionId, auth: this.runtime.readerAuth(plan.participants), cursor: stored, reason },
      this.runtime,
      this.sink,
      { backoffBaseMs: this.config.stream.backoffBaseMs, backoffMaxMs: this.config.stream.backoffMaxMs },
      this.logger,
      (delta) => this.metrics.activeStreams.inc(delta),
      () => this.metrics.streamReconnects.inc(),
    );
    this.consumers.set(run.id, consumer);
    // The run may end in another process (the projection worker): its terminal event ends ingest here.
    const unsubscribe = this.hub.subscribe(run.id, (update) => {
      if (update.events.some((event) => TERMINAL_EVENTS.has(event.type))) void consumer.drain();
    });
    void consumer.done.finally(() => {
      unsubscribe();
      if (this.consumers.get(run.id) === consumer) {
        this.consumers.delete(run.id);
        this.sink.forget(run.id);
      }
    });
  }

  /**
   * Sends the kickoff messages, each with its sender's own credential; returns the events that
   * record them (stored with the move to running), or undefined when the run ended meanwhile.
   */
  private async sendKickoff(run: RunRow, plan: RunPlan): Promise<ControlBlock[] | undefined> {
    const records: ControlBlock[] = [];
    for (const [index, message] of plan.kickoff.entries()) {
      // The first message goes right after the bind that found the run live; later ones check again.
      if (index > 0 && !(await this.current(run.id))) return undefined;
      const envelope = buildEnvelope({
        mode: plan.modeName,
        messageType: message.messageType,
        sessionId: plan.sessionId,
        messageId: message.messageId,
        payload: message.payload,
        timestampUnixMs: Date.now(),
      });
      let ack: Ack | undefined;
      let failure: RunFailure | undefined;
      try {
        ack = await this.sendWithRetry(run.id, envelope, this.runtime.senderAuth(message.from));
      } catch (error) {
        failure = { code: error instanceof MacpClientError ? (error.macpCode ?? "RUNTIME_ERROR") : "RUNTIME_ERROR", message: error instanceof Error ? error.message : String(error) };
      }
      if (ack === undefined && failure === undefined) return undefined;
      const ts = new Date().toISOString();
      const common = { ts, sessionId: plan.sessionId, sender: message.from, to: message.to, messageType: message.messageType };
      const draft =
        ack?.ok === true
          ? messageSentEvent({
              ...common,
              messageId: message.messageId,
              kind: message.kind,
              ack: {
                ok: true,
                duplicate: ack.duplicate,
                messageId: ack.messageId,
                sessionId: ack.sessionId,
                acceptedAtUnixMs: ack.acceptedAtUnixMs,
                sessionState: sessionStateName(ack.sessionState),
              },
              payloadDescriptor: { bytes: message.payload.length },
            })
          : messageSendFailedEvent({
              ...common,
              messageId: message.messageId,
              errorCode: ack?.error?.code ?? failure?.code ?? "RUNTIME_ERROR",
              error: ack?.error?.message ?? failure?.message ?? "refused",
            });
      records.push({ rawKey: `kickoff:${index}`, drafts: [draft] });
    }
    return records;
  }

  /** Has the projector store the kickoff events and move the run to running. */
  private async markRunning(run: RunRow, plan: RunPlan, kickoff: readonly ControlBlock[]): Promise<void> {
    const running = { rawKey: "session.running", drafts: [sessionStateChangedEvent({ ts: new Date().toISOString(), sessionId: plan.sessionId, state: "SESSION_STATE_OPEN" })] };
    await this.control.publish(run.id, { kind: "control", events: kickoff, transition: { target: "running", events: [running] } });
  }

  private async cancelOrphan(plan: RunPlan): Promise<void> {
    const auth = this.runtime.senderAuth(plan.initiator ?? "");
    await this.runtime
      .call("CancelSession", (options) => this.runtime.client.cancelSession({ sessionId: plan.sessionId, reason: "run cancelled before its session was bound" }, options), auth)
      .catch((error: unknown) => this.logger.warn({ session_id: plan.sessionId, detail: error instanceof Error ? error.message : String(error) }, "could not cancel the session of a cancelled run"));
  }

  /** Sends an envelope; transport failures are retried (ids are stable, so a retry is a duplicate). */
  private async sendWithRetry(runId: string, envelope: Envelope, auth: ClientAuth | undefined): Promise<Ack | undefined> {
    const deadline = Date.now() + this.config.sessionPoll.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      // The caller found the run live just before the first attempt.
      if (attempt > 0 && !(await this.current(runId))) return undefined;
      try {
        const { ack } = await this.runtime.call("Send", (options) => this.runtime.client.send({ envelope }, options), auth);
        if (!ack) throw new MacpClientError(13, "Send returned no Ack");
        return ack;
      } catch (error) {
        if (!(error instanceof MacpClientError) || !TRANSIENT.has(error.grpcCode) || Date.now() > deadline) throw error;
        this.logger.warn({ run_id: runId, message_type: envelope.messageType, detail: error.message }, "Send failed; retrying");
      }
      await sleep(backoffDelay(attempt, this.config.stream.backoffBaseMs, this.config.stream.backoffMaxMs), this.abort.signal);
    }
  }

  /** Marks a run failed with a real error code (never a generic RUN_FAILED). */
  async fail(runId: string, failure: RunFailure): Promise<void> {
    await this.control.publish(runId, { kind: "control", events: [], transition: { target: "failed", failure } });
  }
}

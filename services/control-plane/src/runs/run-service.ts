import { createHash, randomUUID } from "node:crypto";
import { MacpClientError } from "@macp/client";
import type { Kysely } from "kysely";
import type { ControlPlaneConfig } from "../config/config.js";
import { TERMINAL_STATUSES } from "@macp/pipeline";
import type { Database, RunRow, RunStatus } from "@macp/pipeline";
import type { Principal } from "../http/auth.js";
import { HttpError, fromRuntimeError } from "../http/errors.js";
import type { FieldIssue } from "../http/errors.js";
import { sampledTraceId } from "../observability/tracing.js";
import type { RuntimeGateway } from "../runtime/gateway.js";
import { planRun } from "./request-plan.js";
import type { PlanResult } from "./request-plan.js";
import type { RunRequest } from "./request-schema.js";
import type { ControlWriter } from "./control-writer.js";
import type { RunDriver } from "./run-driver.js";
import { createdBlock, requestOf } from "./run-driver.js";
import type { RunReadCache } from "./run-read-cache.js";
import { runRepository, sourcesOf } from "./run-repository.js";

/** `POST /runs` and clone answer. */
export interface CreatedRun {
  runId: string;
  sessionId: string | null;
  status: RunRow["status"];
  traceId: string | null;
}

/** `POST /runs/validate` answer. */
export interface ValidationReport {
  valid: boolean;
  errors: string[];
  issues: FieldIssue[];
  warnings: string[];
  runtime: { reachable: boolean; supportedModes: string[]; capabilities: Record<string, unknown> };
}

interface RuntimeInfo {
  readonly reachable: boolean;
  readonly supportedModes: string[];
  readonly capabilities: Record<string, unknown>;
  readonly error?: MacpClientError;
}

const RUNTIME_INFO_TTL_MS = 5_000;
const ACTIVE = new Set(["running", "suspended"]);

/** JSON with sorted keys: equal requests hash equally whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const { code, constraint: name, message } = error as { code?: string; constraint?: string; message?: string };
  return code === "23505" && (name === constraint || (message ?? "").includes(constraint));
}

/** Run creation, validation and runtime-side control (cancel, suspend, resume, clone). */
export class RunService {
  private runtimeInfo: { at: number; info: Promise<RuntimeInfo> } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly config: ControlPlaneConfig,
    private readonly runtime: RuntimeGateway,
    private readonly writer: ControlWriter,
    private readonly driver: RunDriver,
    private readonly cache: RunReadCache,
  ) {}

  /** Initialize's supported modes and capabilities, cached briefly. */
  private async describeRuntime(): Promise<RuntimeInfo> {
    const now = Date.now();
    if (this.runtimeInfo && now - this.runtimeInfo.at < RUNTIME_INFO_TTL_MS) return this.runtimeInfo.info;
    const auth = this.config.runtime.bearerToken !== undefined ? { bearer: this.config.runtime.bearerToken } : this.config.runtime.devAuth ? { bearer: "macp-control-plane" } : undefined;
    const info = this.runtime
      .call("Initialize", (options) => this.runtime.client.initialize({ clientInfo: { name: "macp-control-plane", title: "MACP Control Plane", version: "0.1.0", description: "", websiteUrl: "" } }, options), auth)
      .then(
        (response): RuntimeInfo => ({ reachable: true, supportedModes: [...response.supportedModes], capabilities: JSON.parse(JSON.stringify(response.capabilities ?? {})) as Record<string, unknown> }),
        (error: unknown): RuntimeInfo => {
          this.runtimeInfo = undefined;
          return { reachable: false, supportedModes: [], capabilities: {}, ...(error instanceof MacpClientError ? { error } : {}) };
        },
      );
    this.runtimeInfo = { at: now, info };
    return info;
  }

  private plan(request: RunRequest, runId: string, sessionId: string, info: RuntimeInfo): PlanResult {
    return planRun(request, runId, sessionId, {
      runtimeKinds: this.config.runtime.kinds,
      supportedModes: info.reachable ? info.supportedModes : undefined,
      canSendAs: (sender) => this.runtime.senderAuth(sender) !== undefined,
      canRead: (participants) => this.runtime.canRead(participants),
    });
  }

  async validate(request: RunRequest): Promise<ValidationReport> {
    const info = await this.describeRuntime();
    const result = this.plan(request, randomUUID(), request.session.sessionId ?? randomUUID(), info);
    const issues = result.ok ? [] : result.issues;
    const errors = issues.map((issue) => `${issue.path}: ${issue.message}`);
    if (!info.reachable) errors.push(`runtime unreachable: ${info.error?.details ?? "no answer"}`);
    const warnings = result.ok && result.plan.kind === "observe" ? ["the agents must start the session; the control plane observes it"] : [];
    return { valid: errors.length === 0, errors, issues, warnings, runtime: { reachable: info.reachable, supportedModes: info.supportedModes, capabilities: info.capabilities } };
  }

  /** Creates a run (or returns the one its idempotency key already names) and starts driving it. */
  async create(principal: Principal, request: RunRequest): Promise<{ run: CreatedRun; replayed: boolean }> {
    const requestHash = createHash("sha256").update(canonicalJson(request)).digest("hex");
    const key = request.execution?.idempotencyKey;
    // A retry whose original run exists is answered with it even if the request would not pass
    // now (runtime down, mode gone); the insert below finds it too, so the look-up is only made
    // on the way to an error.
    const original = async (): Promise<{ run: CreatedRun; replayed: boolean } | undefined> => {
      if (key === undefined) return undefined;
      const existing = await this.db.selectFrom("runs").selectAll().where("principal", "=", principal.id).where("idempotency_key", "=", key).executeTakeFirst();
      return existing ? { run: this.replay(existing, requestHash), replayed: true } : undefined;
    };
    const info = await this.describeRuntime();
    if (!info.reachable) {
      const replayed = await original();
      if (replayed) return replayed;
      throw info.error ? fromRuntimeError(info.error) : new HttpError(503, "RUNTIME_UNAVAILABLE", "the runtime is unreachable");
    }
    const runId = randomUUID();
    const sessionId = request.session.sessionId ?? randomUUID();
    const result = this.plan(request, runId, sessionId, info);
    if (!result.ok) {
      const replayed = await original();
      if (replayed) return replayed;
      throw HttpError.validation(result.issues);
    }
    const metadata = request.session.metadata ?? {};
    const tags = [...new Set([...(request.execution?.tags ?? []), ...(request.mode === "sandbox" ? ["sandbox"] : [])])];
    // RUNTIME_KIND is never empty (config), so an omitted kind is its first name.
    const runtimeKind = request.runtime?.kind ?? (this.config.runtime.kinds[0] as string);
    let outcome;
    try {
      outcome = await runRepository.insertOrGet(this.db, {
        id: runId,
        status: "queued",
        mode: request.mode,
        runtime_kind: runtimeKind,
        runtime_version: request.runtime?.version ?? null,
        runtime_session_id: sessionId,
        trace_id: sampledTraceId(),
        principal: principal.id,
        idempotency_key: key ?? null,
        request_hash: requestHash,
        source_kind: typeof metadata.source === "string" ? metadata.source : null,
        source_ref: typeof metadata.sourceRef === "string" ? metadata.sourceRef : null,
        tags: JSON.stringify(tags),
        metadata: JSON.stringify({
          executionRequest: request,
          requester: request.execution?.requester ?? { actorId: principal.id, actorType: principal.kind === "jwt" ? "user" : "service" },
          principal: principal.id,
          launch: result.plan.kind,
          ...(typeof metadata.environment === "string" ? { environment: metadata.environment } : {}),
          ...(typeof metadata.scenarioRef === "string" ? { scenarioRef: metadata.scenarioRef } : {}),
        }),
      });
    } catch (error) {
      if (isUniqueViolation(error, "runs_runtime_session_id_unique")) {
        throw new HttpError(409, "SESSION_ALREADY_BOUND", `session ${sessionId} already belongs to another run`, { path: "body/session/sessionId" });
      }
      throw error;
    }
    if (!outcome.created) return { run: this.replay(outcome.row, requestHash), replayed: true };
    // run.created goes to the projector like every event; the launch publishes it again (the
    // same event id) in case this process dies before the bus has it.
    await this.writer.publish(outcome.row.id, { kind: "control", events: [createdBlock(outcome.row)] });
    this.driver.launch(outcome.row);
    return { run: created(outcome.row), replayed: false };
  }

  private replay(existing: RunRow, requestHash: string): CreatedRun {
    if (existing.request_hash !== requestHash) {
      throw new HttpError(409, "IDEMPOTENCY_KEY_REUSED", `idempotency key "${existing.idempotency_key}" was used for a different request`, { runId: existing.id });
    }
    return created(existing);
  }

  async clone(principal: Principal, runId: string, overrides: { tags?: string[]; context?: Record<string, unknown> }): Promise<CreatedRun> {
    const source = await runRepository.get(this.db, runId);
    if (!source) throw HttpError.notFound("run", runId);
    const original = requestOf(source);
    const { sessionId: _sessionId, ...session } = original.session;
    const { idempotencyKey: _key, ...execution } = original.execution ?? {};
    const request: RunRequest = {
      ...original,
      session: overrides.context !== undefined ? { ...session, context: overrides.context, contextEnvelope: undefined } : session,
      execution: { ...execution, ...(overrides.tags !== undefined ? { tags: overrides.tags } : {}) },
    };
    if (request.session.contextEnvelope === undefined) delete request.session.contextEnvelope;
    return (await this.create(principal, request)).run;
  }

  /** Marks a run archived (tag `archived`); archiving an archived run changes nothing. */
  async archive(runId: string): Promise<RunRow> {
    const existing = await runRepository.get(this.db, runId);
    if (!existing) throw HttpError.notFound("run", runId);
    if (existing.archived_at !== null) return existing;
    const tags = existing.tags.includes("archived") ? existing.tags : [...existing.tags, "archived"];
    const row = await runRepository.update(this.db, existing.id, { archived_at: new Date(), tags: JSON.stringify(tags) });
    this.cache.invalidate(existing.id);
    if (!row) throw HttpError.notFound("run", runId);
    return row;
  }

  /** Deletes a finished run with everything stored about it. */
  async remove(runId: string): Promise<void> {
    const existing = await runRepository.get(this.db, runId);
    if (!existing) throw HttpError.notFound("run", runId);
    if (!(TERMINAL_STATUSES as readonly string[]).includes(existing.status)) {
      throw new HttpError(409, "RUN_NOT_TERMINAL", `run ${existing.id} is ${existing.status}; only finished runs can be deleted (cancel it first)`);
    }
    await this.driver.release(existing.id);
    await runRepository.delete(this.db, existing.id);
    this.cache.invalidate(existing.id);
  }

  /** Cancels through the runtime with a credential allowed to; the run changes only if the runtime agreed. */
  async cancel(runId: string, reason: string | undefined): Promise<RunRow> {
    const run = await runRepository.get(this.db, runId);
    if (!run) throw HttpError.notFound("run", runId);
    if (run.status === "cancelled") return run;
    if (run.status === "completed" || run.status === "failed") throw new HttpError(409, "INVALID_STATE_TRANSITION", `run ${runId} already ${run.status}`);
    const session = await this.db.selectFrom("runtime_sessions").selectAll().where("run_id", "=", runId).executeTakeFirst();
    if (session) {
      const auth = this.controlAuth(run, session.initiator_participant_id);
      const { ack } = await this.runtime.call("CancelSession", (options) => this.runtime.client.cancelSession({ sessionId: session.runtime_session_id, reason: reason ?? "" }, options), auth).catch((error: unknown) => {
        throw error instanceof MacpClientError ? fromRuntimeError(error) : error;
      });
      if (ack && !ack.ok) throw new HttpError(409, ack.error?.code ?? "CONFLICT", `runtime refused CancelSession: ${ack.error?.message ?? ""}`);
    }
    return this.move(runId, "cancelled", reason);
  }

  async suspend(runId: string, reason: string | undefined): Promise<RunRow> {
    return this.control(runId, "suspended", reason);
  }

  async resume(runId: string, reason: string | undefined): Promise<RunRow> {
    return this.control(runId, "running", reason);
  }

  private async control(runId: string, target: "suspended" | "running", reason: string | undefined): Promise<RunRow> {
    const run = await runRepository.get(this.db, runId);
    if (!run) throw HttpError.notFound("run", runId);
    const from = target === "suspended" ? "running" : "suspended";
    if (run.status === target && ACTIVE.has(run.status)) return run;
    if (run.status !== from) throw new HttpError(409, "INVALID_STATE_TRANSITION", `run ${runId} is ${run.status}; ${target === "suspended" ? "suspend" : "resume"} needs ${from}`);
    const session = await this.db.selectFrom("runtime_sessions").selectAll().where("run_id", "=", runId).executeTakeFirstOrThrow();
    const auth = this.controlAuth(run, session.initiator_participant_id);
    const rpc = target === "suspended" ? "SuspendSession" : "ResumeSession";
    const request = { sessionId: session.runtime_session_id, reason: reason ?? "" };
    const { ack } = await this.runtime
      .call(rpc, (options) => (target === "suspended" ? this.runtime.client.suspendSession(request, options) : this.runtime.client.resumeSession(request, options)), auth)
      .catch((error: unknown) => {
        throw error instanceof MacpClientError ? fromRuntimeError(error) : error;
      });
    if (ack && !ack.ok) throw new HttpError(409, ack.error?.code ?? "CONFLICT", `runtime refused ${rpc}: ${ack.error?.message ?? ""}`);
    return this.move(runId, target, reason);
  }

  /** The initiator's own credential, else any declared participant's the control plane holds. */
  private controlAuth(run: RunRow, initiator: string | null): { bearer: string } | { token: string } | { agentId: string } {
    const participants = requestOf(run).session.participants.map((participant) => participant.transportIdentity ?? participant.id);
    for (const candidate of [initiator, ...participants]) {
      if (!candidate) continue;
      const auth = this.runtime.senderAuth(candidate);
      if (auth?.bearer !== undefined) return { bearer: auth.bearer };
    }
    throw new HttpError(403, "FORBIDDEN", "the control plane holds no runtime credential of the initiator or a participant of this session");
  }

  /**
   * Has the projector move the run to `target` and answers with the run once the move is applied
   * or no longer possible (the run moved elsewhere meanwhile: 409).
   */
  private async move(runId: string, target: RunStatus, reason: string | undefined): Promise<RunRow> {
    const sources = sourcesOf(target);
    const row = await this.writer.apply(runId, { kind: "control", events: [], transition: { target, ...(reason !== undefined ? { reason } : {}) } }, async () => {
      const row = await runRepository.get(this.db, runId);
      if (!row) throw HttpError.notFound("run", runId);
      return row.status === target || !sources.includes(row.status) ? row : undefined;
    });
    if (row.status !== target) throw new HttpError(409, "INVALID_STATE_TRANSITION", `run ${runId} is ${row.status}`);
    return row;
  }
}

function created(row: RunRow): CreatedRun {
  return { runId: row.id, sessionId: row.runtime_session_id, status: row.status, traceId: row.trace_id };
}

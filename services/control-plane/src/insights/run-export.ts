import type { CanonicalEvent, MetricsSummary, RunStateProjection } from "@macp/events";
import type { Kysely } from "kysely";
import type { Database } from "../db/schema.js";
import { HttpError } from "../http/errors.js";
import { eventStore } from "../ingest/event-store.js";
import { fromEventRow } from "../ingest/event-rows.js";
import { runRepository } from "../runs/run-repository.js";
import { iso, toApiRun } from "../runs/run-record.js";
import type { ApiRun } from "../runs/run-record.js";

/** What an export includes. */
export interface ExportOptions {
  readonly includeCanonical: boolean;
  readonly includeRaw: boolean;
  /** Most events of each kind; more are reported in `truncated`, never dropped silently. */
  readonly eventLimit: number;
}

export const DEFAULT_EXPORT_OPTIONS: ExportOptions = { includeCanonical: true, includeRaw: false, eventLimit: 10_000 };

/** The runtime session a run is bound to, as exported. */
export interface ExportedSession {
  runtimeSessionId: string;
  modeName: string;
  modeVersion: string | null;
  configurationVersion: string | null;
  policyVersion: string | null;
  initiatorParticipantId: string | null;
  sessionState: string;
  participants: string[];
  lastRuntimeSeq: number;
  streamConnectedAt: string | null;
  streamDisconnectedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** A stored runtime input, as exported. */
export interface ExportedRawEvent {
  id: string;
  runId: string;
  seq: number;
  rawKey: string;
  runtimeSeq: number | null;
  messageId: string | null;
  ts: string;
  kind: string;
  sourceName: string;
  payload: Record<string, unknown>;
}

export interface ExportedArtifact {
  id: string;
  runId: string;
  kind: string;
  label: string;
  uri: string | null;
  inline: unknown;
  createdAt: string;
}

/** `GET /runs/:id/export`: everything stored about one run. */
export interface RunExportBundle {
  run: ApiRun;
  session: ExportedSession | null;
  projection: RunStateProjection;
  metrics: MetricsSummary;
  artifacts: ExportedArtifact[];
  canonicalEvents: CanonicalEvent[];
  rawEvents: ExportedRawEvent[];
  /** True for a list cut at `eventLimit` (the first `eventLimit` events by seq are kept). */
  truncated: { canonicalEvents: boolean; rawEvents: boolean };
  exportedAt: string;
}

/** Reads the export bundle of `runId` (404 when unknown). */
export async function exportRun(db: Kysely<Database>, runId: string, options: ExportOptions = DEFAULT_EXPORT_OPTIONS): Promise<RunExportBundle> {
  const run = await runRepository.get(db, runId);
  if (!run) throw HttpError.notFound("run", runId);
  const limit = options.eventLimit + 1;
  const [session, projection, metrics, artifacts, canonical, raw] = await Promise.all([
    db.selectFrom("runtime_sessions").selectAll().where("run_id", "=", runId).executeTakeFirst(),
    eventStore.state(db, runId),
    eventStore.metrics(db, runId),
    db.selectFrom("run_artifacts").selectAll().where("run_id", "=", runId).orderBy("created_at").orderBy("id").execute(),
    options.includeCanonical ? db.selectFrom("run_events_canonical").selectAll().where("run_id", "=", runId).orderBy("seq").limit(limit).execute() : Promise.resolve([]),
    options.includeRaw ? db.selectFrom("run_events_raw").selectAll().where("run_id", "=", runId).orderBy("seq").limit(limit).execute() : Promise.resolve([]),
  ]);
  return {
    run: toApiRun(run),
    session: session
      ? {
          runtimeSessionId: session.runtime_session_id,
          modeName: session.mode_name,
          modeVersion: session.mode_version,
          configurationVersion: session.configuration_version,
          policyVersion: session.policy_version,
          initiatorParticipantId: session.initiator_participant_id,
          sessionState: session.session_state,
          participants: session.participants,
          lastRuntimeSeq: session.last_runtime_seq,
          streamConnectedAt: iso(session.stream_connected_at),
          streamDisconnectedAt: iso(session.stream_disconnected_at),
          createdAt: iso(session.created_at) as string,
          updatedAt: iso(session.updated_at) as string,
        }
      : null,
    projection,
    metrics,
    artifacts: artifacts.map((row) => ({ id: row.id, runId: row.run_id, kind: row.kind, label: row.label, uri: row.uri, inline: row.inline, createdAt: iso(row.created_at) as string })),
    canonicalEvents: canonical.slice(0, options.eventLimit).map(fromEventRow),
    rawEvents: raw.slice(0, options.eventLimit).map((row) => ({
      id: row.id,
      runId: row.run_id,
      seq: row.seq,
      rawKey: row.raw_key,
      runtimeSeq: row.runtime_seq,
      messageId: row.message_id,
      ts: iso(row.ts) as string,
      kind: row.kind,
      sourceName: row.source_name,
      payload: row.payload,
    })),
    truncated: { canonicalEvents: canonical.length > options.eventLimit, rawEvents: raw.length > options.eventLimit },
    exportedAt: new Date().toISOString(),
  };
}

/**
 * The bundle as JSON lines: a `header` line with everything but the events, then one line per
 * event that keeps the event whole under `event` (its own `type` is never overwritten).
 */
export function toJsonLines(bundle: RunExportBundle): string {
  const { canonicalEvents, rawEvents, ...header } = bundle;
  const lines = [JSON.stringify({ type: "header", ...header })];
  for (const event of canonicalEvents) lines.push(JSON.stringify({ type: "canonical_event", event }));
  for (const event of rawEvents) lines.push(JSON.stringify({ type: "raw_event", event }));
  return `${lines.join("\n")}\n`;
}

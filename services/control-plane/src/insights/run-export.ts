import type { CanonicalEvent, MetricsSummary, RunStateProjection } from "@macp/events";
import type { Kysely, Selectable } from "kysely";
import { eventStore, fromEventRow } from "@macp/pipeline";
import type { Database, RunEventsRawTable } from "@macp/pipeline";
import { HttpError } from "../http/errors.js";
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

/** Everything of an export but its events: the JSON lines header. */
export type ExportHeader = Omit<RunExportBundle, "canonicalEvents" | "rawEvents" | "truncated">;

/** Reads the export bundle of `runId` (404 when unknown). */
export async function exportRun(db: Kysely<Database>, runId: string, options: ExportOptions = DEFAULT_EXPORT_OPTIONS): Promise<RunExportBundle> {
  const limit = options.eventLimit + 1;
  const [header, canonical, raw] = await Promise.all([
    readExportHeader(db, runId),
    options.includeCanonical ? db.selectFrom("run_events_canonical").selectAll().where("run_id", "=", runId).orderBy("seq").limit(limit).execute() : Promise.resolve([]),
    options.includeRaw ? db.selectFrom("run_events_raw").selectAll().where("run_id", "=", runId).orderBy("seq").limit(limit).execute() : Promise.resolve([]),
  ]);
  return {
    ...header,
    canonicalEvents: canonical.slice(0, options.eventLimit).map(fromEventRow),
    rawEvents: raw.slice(0, options.eventLimit).map(toExportedRaw),
    truncated: { canonicalEvents: canonical.length > options.eventLimit, rawEvents: raw.length > options.eventLimit },
  };
}

/** Run, session, projection, metrics and artifacts of `runId` (404 when unknown). */
export async function readExportHeader(db: Kysely<Database>, runId: string): Promise<ExportHeader> {
  const run = await runRepository.get(db, runId);
  if (!run) throw HttpError.notFound("run", runId);
  const [session, projection, metrics, artifacts] = await Promise.all([
    db.selectFrom("runtime_sessions").selectAll().where("run_id", "=", runId).executeTakeFirst(),
    eventStore.state(db, runId),
    eventStore.metrics(db, runId),
    db.selectFrom("run_artifacts").selectAll().where("run_id", "=", runId).orderBy("created_at").orderBy("id").execute(),
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
    exportedAt: new Date().toISOString(),
  };
}

function toExportedRaw(row: Selectable<RunEventsRawTable>): ExportedRawEvent {
  return {
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
  };
}

/** What a streamed export includes; pages are read one at a time, never the whole run. */
export interface ExportStreamOptions {
  readonly includeCanonical: boolean;
  readonly includeRaw: boolean;
  readonly pageSize: number;
}

/**
 * The streamed export as JSON lines: the header, then every canonical event, then every raw
 * event, each up to the run's last seq when the header was read (so events match the header's
 * projection), then an `end` line with the counts: a client that lacks it got a cut stream.
 */
export async function* exportLines(db: Kysely<Database>, header: ExportHeader, options: ExportStreamOptions): AsyncGenerator<string> {
  const runId = header.run.id;
  const lastSeq = header.run.lastEventSeq;
  yield `${JSON.stringify({ type: "header", ...header })}\n`;
  let canonicalEvents = 0;
  let rawEvents = 0;
  if (options.includeCanonical) {
    for (let cursor = 0; ; ) {
      const rows = await db.selectFrom("run_events_canonical").selectAll().where("run_id", "=", runId).where("seq", ">", cursor).where("seq", "<=", lastSeq).orderBy("seq").limit(options.pageSize).execute();
      if (rows.length > 0) yield rows.map((row) => `${JSON.stringify({ type: "canonical_event", event: fromEventRow(row) })}\n`).join("");
      canonicalEvents += rows.length;
      if (rows.length < options.pageSize) break;
      cursor = (rows.at(-1) as { seq: number }).seq;
    }
  }
  if (options.includeRaw) {
    for (let cursor = 0; ; ) {
      const rows = await db.selectFrom("run_events_raw").selectAll().where("run_id", "=", runId).where("seq", ">", cursor).where("seq", "<=", lastSeq).orderBy("seq").limit(options.pageSize).execute();
      if (rows.length > 0) yield rows.map((row) => `${JSON.stringify({ type: "raw_event", event: toExportedRaw(row) })}\n`).join("");
      rawEvents += rows.length;
      if (rows.length < options.pageSize) break;
      cursor = (rows.at(-1) as { seq: number }).seq;
    }
  }
  yield `${JSON.stringify({ type: "end", runId, lastSeq, canonicalEvents, rawEvents })}\n`;
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

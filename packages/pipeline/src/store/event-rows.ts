import { RUN_STATE_SCHEMA_VERSION } from "@macp/events";
import type { CanonicalEvent, CanonicalEventType, JsonObject } from "@macp/events";
import type { Insertable } from "kysely";
import type { CanonicalRow, RunEventsCanonicalTable } from "./schema.js";

/** Schema version stored with each projection row. */
export const RUN_STATE_SCHEMA_VERSION_STORED = RUN_STATE_SCHEMA_VERSION;

/** A canonical event as a row. */
export function toEventRow(event: CanonicalEvent): Insertable<RunEventsCanonicalTable> {
  return {
    id: event.id,
    run_id: event.runId,
    seq: event.seq,
    ts: event.ts,
    type: event.type,
    subject_kind: event.subject?.kind ?? null,
    subject_id: event.subject?.id ?? null,
    source_kind: event.source.kind,
    source_name: event.source.name,
    raw_type: event.source.rawType ?? null,
    trace_id: event.trace.traceId ?? null,
    span_id: event.trace.spanId ?? null,
    parent_span_id: event.trace.parentSpanId ?? null,
    data: JSON.stringify(event.data),
    schema_version: event.schemaVersion,
  };
}

/** A row as the one canonical event shape every surface returns. */
export function fromEventRow(row: CanonicalRow): CanonicalEvent {
  const trace: { traceId?: string; spanId?: string; parentSpanId?: string } = {};
  if (row.trace_id !== null) trace.traceId = row.trace_id;
  if (row.span_id !== null) trace.spanId = row.span_id;
  if (row.parent_span_id !== null) trace.parentSpanId = row.parent_span_id;
  return {
    id: row.id,
    runId: row.run_id,
    seq: row.seq,
    ts: (row.ts instanceof Date ? row.ts : new Date(row.ts)).toISOString(),
    type: row.type as CanonicalEventType,
    schemaVersion: row.schema_version as CanonicalEvent["schemaVersion"],
    ...(row.subject_kind !== null && row.subject_id !== null ? { subject: { kind: row.subject_kind as NonNullable<CanonicalEvent["subject"]>["kind"], id: row.subject_id } } : {}),
    source: { kind: row.source_kind as CanonicalEvent["source"]["kind"], name: row.source_name, ...(row.raw_type !== null ? { rawType: row.raw_type } : {}) },
    trace,
    data: row.data as JsonObject,
  };
}

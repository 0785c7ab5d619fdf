import type { RunRow, RunStatus } from "@macp/pipeline";

/** A run as the API returns it: camelCase, ISO-8601 timestamps (never Postgres text form). */
export interface ApiRun {
  id: string;
  status: RunStatus;
  mode: string;
  runtimeKind: string;
  runtimeVersion: string | null;
  runtimeSessionId: string | null;
  traceId: string | null;
  idempotencyKey: string | null;
  lastEventSeq: number;
  sourceKind: string | null;
  sourceRef: string | null;
  source: { kind: string | null; ref: string | null };
  tags: string[];
  metadata: Record<string, unknown>;
  errorCode: string | null;
  errorMessage: string | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  updatedAt: string;
  archivedAt: string | null;
}

/** ISO form of a timestamp column (pg and PGlite both return Date). */
export function iso(value: Date | string | null): string | null {
  if (value === null) return null;
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

const SECRET_KEY = /bearer|token|secret|password|api[-_]?key|authorization|credential/i;

/** A copy of `value` with every value under a secret-looking key replaced (G-20: the stored request keeps them). */
export function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, SECRET_KEY.test(key) ? "[redacted]" : redactSecrets(item)]));
  }
  return value;
}

/** The API shape of a run row. */
export function toApiRun(row: RunRow): ApiRun {
  return {
    id: row.id,
    status: row.status,
    mode: row.mode,
    runtimeKind: row.runtime_kind,
    runtimeVersion: row.runtime_version,
    runtimeSessionId: row.runtime_session_id,
    traceId: row.trace_id,
    idempotencyKey: row.idempotency_key,
    lastEventSeq: row.last_event_seq,
    sourceKind: row.source_kind,
    sourceRef: row.source_ref,
    source: { kind: row.source_kind, ref: row.source_ref },
    tags: row.tags,
    metadata: redactSecrets(row.metadata) as Record<string, unknown>,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    createdAt: iso(row.created_at) as string,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    updatedAt: iso(row.updated_at) as string,
    archivedAt: iso(row.archived_at),
  };
}

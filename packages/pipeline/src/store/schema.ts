import type { ColumnType, Generated, Insertable, Selectable, Updateable } from "kysely";

/** A JSON column: written as a JSON string or value, read back parsed. */
export type Json<T> = ColumnType<T, T | string, T | string>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** Run statuses (control-plane.md §1.6, with [B]'s `suspended`). */
export const RUN_STATUSES = ["queued", "starting", "binding_session", "running", "suspended", "completed", "failed", "cancelled"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const TERMINAL_STATUSES: readonly RunStatus[] = ["completed", "failed", "cancelled"];

export interface RunsTable {
  id: string;
  status: RunStatus;
  mode: string;
  runtime_kind: string;
  runtime_version: string | null;
  runtime_session_id: string | null;
  trace_id: string | null;
  /** The authenticated principal that created the run: idempotency scope and owner. */
  principal: string;
  idempotency_key: string | null;
  request_hash: string | null;
  last_event_seq: Generated<number>;
  source_kind: string | null;
  source_ref: string | null;
  tags: Json<string[]>;
  metadata: Json<Record<string, unknown>>;
  error_code: string | null;
  error_message: string | null;
  created_at: Timestamp;
  started_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  updated_at: Timestamp;
  archived_at: NullableTimestamp;
}

export interface RuntimeSessionsTable {
  run_id: string;
  runtime_session_id: string;
  mode_name: string;
  mode_version: string | null;
  configuration_version: string | null;
  policy_version: string | null;
  initiator_participant_id: string | null;
  session_state: string;
  participants: Json<string[]>;
  /** Runtime acceptance sequence of the last envelope persisted: the passive-subscribe cursor. */
  last_runtime_seq: Generated<number>;
  stream_connected_at: NullableTimestamp;
  stream_disconnected_at: NullableTimestamp;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface RunEventsRawTable {
  id: string;
  run_id: string;
  seq: number;
  /** `rawEventKey` of @macp/events: the dedupe key of the input. */
  raw_key: string;
  runtime_seq: number | null;
  message_id: string | null;
  ts: Timestamp;
  kind: string;
  source_name: string;
  payload: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface RunEventsCanonicalTable {
  id: string;
  run_id: string;
  seq: number;
  ts: Timestamp;
  type: string;
  subject_kind: string | null;
  subject_id: string | null;
  source_kind: string;
  source_name: string;
  raw_type: string | null;
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  data: Json<Record<string, unknown>>;
  schema_version: number;
  created_at: Timestamp;
}

export interface RunProjectionsTable {
  run_id: string;
  /** Seq of the last event folded in. */
  version: number;
  schema_version: number;
  state: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

export interface RunMetricsTable {
  run_id: string;
  version: number;
  summary: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

export interface RunArtifactsTable {
  id: string;
  run_id: string;
  kind: string;
  label: string;
  uri: string | null;
  inline: Json<unknown> | null;
  created_at: Timestamp;
}

export interface AuditLogTable {
  id: string;
  /** The authenticated principal's id. */
  actor: string;
  /** `api-key`, `jwt` or `dev`. */
  actor_type: string;
  action: string;
  resource: string;
  resource_id: string | null;
  status_code: number;
  details: Json<Record<string, unknown>>;
  request_id: string;
  created_at: Timestamp;
}

/** A principal's request count in the current fixed rate-limit window (shared by replicas). */
export interface RateLimitCountersTable {
  key: string;
  /** Epoch milliseconds at which the window began (aligned to the window length). */
  window_start_ms: ColumnType<string, string | number, string | number>;
  hits: number;
}

export interface WebhooksTable {
  id: string;
  url: string;
  /** Subscribed events; empty = all. */
  events: Json<string[]>;
  /** The secret sealed by `webhooks/webhook-secret.ts`; never returned. */
  secret_sealed: string;
  active: boolean;
  principal: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** `pending` (due at `next_attempt_at`), `delivered` or `dead` (attempts exhausted). */
export type WebhookDeliveryStatus = "pending" | "delivered" | "dead";

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event: string;
  run_id: string;
  event_id: string;
  body: string;
  status: WebhookDeliveryStatus;
  attempts: Generated<number>;
  next_attempt_at: NullableTimestamp;
  /** A dispatcher holds the delivery until then (a crashed one's claim runs out). */
  locked_until: NullableTimestamp;
  last_attempt_at: NullableTimestamp;
  response_status: number | null;
  error_message: string | null;
  created_at: Timestamp;
  delivered_at: NullableTimestamp;
}

/** Every table of the control plane's database. */
export interface Database {
  runs: RunsTable;
  runtime_sessions: RuntimeSessionsTable;
  run_events_raw: RunEventsRawTable;
  run_events_canonical: RunEventsCanonicalTable;
  run_projections: RunProjectionsTable;
  run_metrics: RunMetricsTable;
  run_artifacts: RunArtifactsTable;
  audit_log: AuditLogTable;
  rate_limit_counters: RateLimitCountersTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type RunRow = Selectable<RunsTable>;
export type NewRun = Insertable<RunsTable>;
export type RunUpdate = Updateable<RunsTable>;
export type RuntimeSessionRow = Selectable<RuntimeSessionsTable>;
export type CanonicalRow = Selectable<RunEventsCanonicalTable>;
export type ArtifactRow = Selectable<RunArtifactsTable>;
export type AuditRow = Selectable<AuditLogTable>;

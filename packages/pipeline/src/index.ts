/**
 * The control plane's event pipeline, shared by the control plane and the projection worker: the
 * bus (in-memory for embedded mode, NATS JetStream for deployments) with its leases, the run store
 * (database schema types, the event store, run transitions) and the partition projector.
 */
export { partitionOf } from "./bus/event-bus.js";
export type { BusStatus, ControlBlock, ControlInput, EventBus, EventsUpdate, RawBatchHandler, RawDelivery, RawRecord } from "./bus/event-bus.js";
export { MemoryLeaseStore } from "./bus/lease-store.js";
export type { LeaseStore } from "./bus/lease-store.js";
export { MemoryBus } from "./bus/memory-bus.js";
export { BUS_PREFIX_PATTERN, busNames, decodeEventsUpdate, decodeRawRecord, encodeEventsUpdate, encodeRawRecord, eventsMessageId, rawMessageId } from "./bus/subjects.js";
export type { BusNames } from "./bus/subjects.js";
export { backoffDelay, sleep } from "./backoff.js";
export { PartitionProjector } from "./projector/projector.js";
export type { ProjectorObserver } from "./projector/projector.js";
export { ProjectionRunner, fairShare, partitionLeaseKey } from "./projector/projection-runner.js";
export type { PipelineLogger, ProjectionRunnerSettings } from "./projector/projection-runner.js";
export { RUN_STATE_SCHEMA_VERSION_STORED, fromEventRow, toEventRow } from "./store/event-rows.js";
export { eventStore } from "./store/event-store.js";
export type { AppendControlOptions, AppendResult, BatchAppendOptions, BatchAppendResult, ControlPlaneBatch, RebuildResult } from "./store/event-store.js";
export { RunLifecycle } from "./store/run-lifecycle.js";
export type { EventsPublisher, RunFailure, TransitionCounter, TransitionOutbox, TransitionOutcome } from "./store/run-lifecycle.js";
export { RUN_STATUSES, TERMINAL_STATUSES } from "./store/schema.js";
export type {
  ArtifactRow,
  AuditLogTable,
  AuditRow,
  CanonicalRow,
  Database,
  Json,
  NewRun,
  RateLimitCountersTable,
  RunArtifactsTable,
  RunEventsCanonicalTable,
  RunEventsRawTable,
  RunMetricsTable,
  RunProjectionsTable,
  RunRow,
  RunStatus,
  RunUpdate,
  RunsTable,
  RuntimeSessionRow,
  RuntimeSessionsTable,
  WebhookDeliveriesTable,
  WebhookDeliveryStatus,
  WebhooksTable,
} from "./store/schema.js";
export { TRANSITIONS } from "./store/transitions.js";
export { createProjectorMetrics, metricsObserver } from "./projector/projector-metrics.js";
export type { ProjectorMetrics } from "./projector/projector-metrics.js";
export { NatsBus } from "./bus/nats-bus.js";
export type { NatsBusOptions } from "./bus/nats-bus.js";
export { NatsLeaseStore } from "./bus/nats-lease-store.js";
export { WEBHOOK_EVENTS, enqueueWebhookDeliveries, webhookDeliveryId, webhookTransitionOutbox } from "./webhooks/webhook-outbox.js";
export type { WebhookBody, WebhookEvent } from "./webhooks/webhook-outbox.js";
export { JetStreamWebhookQueue, webhookQueueNames } from "./webhooks/jetstream-webhook-queue.js";
export type { JetStreamWebhookQueueOptions, WebhookDeadLetter, WebhookMessageHandler, WebhookQueueNames, WebhookVerdict } from "./webhooks/jetstream-webhook-queue.js";
export { runServiceMain } from "./process/service-main.js";
export type { ServiceMainLogger, ServiceMainOptions, StartedService } from "./process/service-main.js";

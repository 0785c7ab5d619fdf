import type { CanonicalEvent, EventDraft, RawRuntimeEvent } from "@macp/events";
import type { Insertable } from "kysely";
import type { RunArtifactsTable, RunStatus, RuntimeSessionsTable } from "../store/schema.js";
import type { LeaseStore } from "./lease-store.js";

/** Events the control plane originates, under the raw key their ids derive from (a retried step stores nothing twice). */
export interface ControlBlock {
  readonly rawKey: string;
  readonly drafts: readonly EventDraft[];
}

/**
 * A control-plane input of a run (run created, bind, kickoff, API and launch transitions). It
 * travels the run's raw partition like runtime input, so the projector is the only writer of a
 * run's canonical events and applies them in the order they were published. `events` (and the
 * artifact row, if any) are stored first; then `transition` moves the run (with its own `run.*` event), and only if it moved, its
 * `session` row and `events` are stored with it.
 */
export interface ControlInput {
  readonly kind: "control";
  readonly events: readonly ControlBlock[];
  /** An artifact row stored with `events` (its `artifact.created` event). */
  readonly artifact?: Insertable<RunArtifactsTable>;
  readonly transition?: {
    readonly target: RunStatus;
    readonly reason?: string;
    readonly failure?: { readonly code: string; readonly message: string };
    /** The runtime session the run is bound to (bind). */
    readonly session?: Insertable<RuntimeSessionsTable>;
    readonly events?: readonly ControlBlock[];
  };
}

/** One runtime input of a run as the bus carries it from ingest to the projector. */
export interface RawRecord {
  readonly runId: string;
  readonly raw: RawRuntimeEvent | ControlInput;
  /**
   * Where the input stands among the run's envelopes: an envelope's own runtime sequence, or for
   * any other input the count of envelopes published before it. The projector applies a run's
   * inputs in this order, whatever order the bus hands them over in.
   */
  readonly position: number;
}

/** A raw record handed to the projector, settled with {@link ack} once applied (or seen before). */
export interface RawDelivery {
  readonly record: RawRecord;
  /** The bus handed this record out before (its consumer died or it was not acknowledged in time). */
  readonly redelivered: boolean;
  /** Removes the record from the bus. */
  ack(): void;
}

/**
 * Canonical events a committed transaction appended to one run, in seq order. Appends to a run
 * are serialized by its row lock, so the seq range `previousSeq < seq <= throughSeq` is one
 * committed block: a subscriber that has delivered through some seq below `previousSeq` knows it
 * missed a block (published by another process, reordered, or lost) and reads it from the store.
 */
export interface EventsUpdate {
  readonly runId: string;
  /** The run's last seq before this transaction: every seq up to it was committed earlier. */
  readonly previousSeq: number;
  /** The run's last seq after this transaction (the last event's seq). */
  readonly throughSeq: number;
  readonly events: readonly CanonicalEvent[];
}

/** What {@link EventBus.status} reports (readiness). */
export interface BusStatus {
  readonly kind: "memory" | "nats";
  /** The bus can be used now: connected, and every stream and bucket it declared exists. */
  readonly ok: boolean;
  /** `in-process` for the in-memory bus; for NATS whether the server answered a ping in time. */
  readonly connection: "in-process" | "connected" | "unreachable" | "closed";
  /** Each stream the bus declared (the lease bucket as its stream `KV_<bucket>`): does it exist? */
  readonly streams: Readonly<Record<string, boolean>>;
}

/** Receives the deliveries of one partition, in bus order, one batch at a time. */
export type RawBatchHandler = (batch: readonly RawDelivery[]) => Promise<void>;

/**
 * The event pipeline's transport. Two implementations share every piece of logic above it: the
 * in-memory bus (embedded mode, one process) and NATS JetStream (any number of control-plane and
 * worker processes). Raw runtime input is partitioned by run; a partition is consumed by one
 * projector at a time (the holder of its lease), always from its oldest unacknowledged record.
 */
export interface EventBus {
  /** `memory` or `nats`, for logs and readiness. */
  readonly kind: "memory" | "nats";
  /** Number of raw partitions; a run's records all go to {@link partitionOf} its id. */
  readonly partitions: number;
  /** Leases shared by every process on this bus (run ingest, partition ownership). */
  readonly leases: LeaseStore;
  /**
   * Stores raw records durably on the bus, in order. A record already published (same run and
   * position of an envelope) is dropped by the bus's deduplication.
   */
  publishRaw(records: readonly RawRecord[]): Promise<void>;
  /**
   * Hands a partition's records to `handler` from the oldest unacknowledged one, in bus order,
   * until `signal` aborts or the bus fails; resolves then. A record not acknowledged by then is
   * handed out again to the partition's next consumer.
   */
  consumeRaw(partition: number, handler: RawBatchHandler, signal: AbortSignal): Promise<void>;
  /** Records of a partition not yet acknowledged (the projector's lag). */
  pendingRaw(partition: number): Promise<number>;
  /** Publishes committed canonical events for live fan-out to every instance. */
  publishEvents(update: EventsUpdate): Promise<void>;
  /** Calls `listener` for every update of `runId` published by any process; returns the unsubscribe function. */
  subscribeEvents(runId: string, listener: (update: EventsUpdate) => void): () => void;
  /** Reports whether the bus can be used right now (readiness). */
  healthy(): Promise<boolean>;
  /** Connection and stream existence, answered within `timeoutMs` (readiness). */
  status(timeoutMs: number): Promise<BusStatus>;
  close(): Promise<void>;
}

/** The partition of a run: FNV-1a of its id, so every process computes the same one. */
export function partitionOf(runId: string, partitions: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < runId.length; index++) {
    hash ^= runId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % partitions;
}

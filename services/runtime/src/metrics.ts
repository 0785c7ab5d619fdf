import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { StorageUsage } from "@macp/core";
import { CoreMessageType } from "@macp/protocol";

/** The part of the mode registry that decides which label values are known. */
export interface ModeNames {
  get(mode: string): { readonly descriptor: { readonly messageTypes: readonly string[] } } | undefined;
}

const CORE_TYPES: ReadonlySet<string> = new Set([
  CoreMessageType.SessionStart,
  CoreMessageType.Commitment,
  CoreMessageType.Signal,
  CoreMessageType.Progress,
]);

/**
 * Label values for an envelope. Mode and message type come from the client, and every distinct
 * label value is a new time series held forever, so unknown names are folded into one value:
 * a client sending made-up modes must not grow the runtime's memory or the scraper's.
 */
export function envelopeLabels(modes: ModeNames, envelope: { mode: string; messageType: string }): { mode: string; message_type: string } {
  const entry = envelope.mode === "" ? undefined : modes.get(envelope.mode);
  const mode = envelope.mode === "" ? "" : entry ? envelope.mode : "unregistered";
  const known = CORE_TYPES.has(envelope.messageType) || (entry?.descriptor.messageTypes.includes(envelope.messageType) ?? false);
  return { mode, message_type: known ? envelope.messageType : "other" };
}

/** What the runtime's gauges read when scraped. */
export interface MetricSources {
  readonly openSessions: () => number;
  readonly streamSubscribers: () => number;
  /** Every session held in memory, as its mode label and lifecycle state. */
  readonly sessions: () => Iterable<{ readonly mode: string; readonly state: string }>;
  /** Space and sessions in storage (called at most once per scrape by the gauges below). */
  readonly usage: () => Promise<StorageUsage>;
  /** How late the most overdue session's expiry is (0 when none is due). */
  readonly expiryLagSeconds: () => number;
  /** How long the longest-waiting finished session has been held past the retention (0 when none). */
  readonly evictionLagSeconds: () => number;
}

/** Which kind of stream a lagging client was cut from. */
export type LaggedStream = "session" | "watch";

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Prometheus metrics of the runtime, on a registry of its own (never the global one). */
export class RuntimeMetrics {
  readonly registry = new Registry();
  readonly accepted: Counter<"mode" | "message_type">;
  readonly rejected: Counter<"mode" | "code">;
  readonly sendLatency: Histogram<"outcome">;
  readonly openSessions: Gauge;
  readonly streamSubscribers: Gauge;
  readonly sessions: Gauge<"mode" | "state">;
  readonly storageAppend: Histogram;
  readonly storageSync: Histogram<"kind">;
  readonly groupCommitAppends: Histogram;
  readonly recoveryDuration: Gauge;
  readonly streamLagDrops: Counter<"stream">;
  readonly storageBytes: Gauge<"kind">;
  readonly storedSessions: Gauge<"state">;
  readonly lastCompaction: Gauge;
  readonly expiryLag: Gauge;
  readonly evictionLag: Gauge;
  readonly historyRemoved: Counter;

  constructor(sources: MetricSources) {
    collectDefaultMetrics({ register: this.registry });
    this.accepted = new Counter({
      name: "macp_messages_accepted_total",
      help: "Envelopes accepted (duplicates excluded), by mode and message type.",
      labelNames: ["mode", "message_type"],
      registers: [this.registry],
    });
    this.rejected = new Counter({
      name: "macp_messages_rejected_total",
      help: "Envelopes rejected, by mode and MACP error code.",
      labelNames: ["mode", "code"],
      registers: [this.registry],
    });
    this.sendLatency = new Histogram({
      name: "macp_send_duration_seconds",
      help: "Time from receiving an envelope to its acknowledgement.",
      labelNames: ["outcome"],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.openSessions = new Gauge({
      name: "macp_open_sessions",
      help: "Sessions currently in the OPEN state.",
      registers: [this.registry],
      collect() {
        this.set(sources.openSessions());
      },
    });
    this.streamSubscribers = new Gauge({
      name: "macp_stream_subscribers",
      help: "Live StreamSession subscriptions.",
      registers: [this.registry],
      collect() {
        this.set(sources.streamSubscribers());
      },
    });
    this.sessions = new Gauge({
      name: "macp_sessions",
      help: "Sessions held in memory (finished ones until retention evicts them), by mode and state.",
      labelNames: ["mode", "state"],
      registers: [this.registry],
      collect() {
        const counts = new Map<string, { mode: string; state: string; count: number }>();
        for (const { mode, state } of sources.sessions()) {
          const key = `${mode}\n${state}`;
          const entry = counts.get(key) ?? { mode, state, count: 0 };
          entry.count++;
          counts.set(key, entry);
        }
        // A state no session is in any more must read 0, not its last count.
        this.reset();
        for (const { mode, state, count } of counts.values()) this.set({ mode, state }, count);
      },
    });
    this.storageAppend = new Histogram({
      name: "macp_storage_append_duration_seconds",
      help: "Time for the storage backend to make one append of session log records durable.",
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.storageSync = new Histogram({
      name: "macp_storage_fsync_duration_seconds",
      help: "File backend: duration of each fdatasync/fsync, by what it makes durable (wal, file, directory).",
      labelNames: ["kind"],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.groupCommitAppends = new Histogram({
      name: "macp_storage_group_commit_appends",
      help: "File backend: appends made durable by one write-ahead log group commit (one fdatasync).",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
      registers: [this.registry],
    });
    this.recoveryDuration = new Gauge({
      name: "macp_recovery_duration_seconds",
      help: "Time the last start spent rebuilding sessions from storage.",
      registers: [this.registry],
    });
    // One usage read serves the three storage gauges of a scrape.
    let usage: { at: number; value: Promise<StorageUsage> } | undefined;
    const currentUsage = (): Promise<StorageUsage> => {
      if (usage === undefined || Date.now() - usage.at > 1_000) usage = { at: Date.now(), value: sources.usage() };
      return usage.value;
    };
    this.storageBytes = new Gauge({
      name: "macp_storage_bytes",
      help: "Storage used, by kind: log (file: WAL segments; Postgres: log table), snapshots, index (file: in memory; Postgres: session table).",
      labelNames: ["kind"],
      registers: [this.registry],
      async collect() {
        const { logBytes, snapshotBytes, indexBytes } = await currentUsage();
        this.set({ kind: "log" }, logBytes);
        this.set({ kind: "snapshots" }, snapshotBytes);
        this.set({ kind: "index" }, indexBytes);
      },
    });
    this.storedSessions = new Gauge({
      name: "macp_stored_sessions",
      help: "Sessions in storage: finished (their finished snapshot covers their log; not rebuilt at start) and unfinished (rebuilt at start).",
      labelNames: ["state"],
      registers: [this.registry],
      async collect() {
        const { finishedSessions, unfinishedSessions } = await currentUsage();
        this.set({ state: "finished" }, finishedSessions);
        this.set({ state: "unfinished" }, unfinishedSessions);
      },
    });
    this.lastCompaction = new Gauge({
      name: "macp_storage_last_compaction_timestamp_seconds",
      help: "File backend: when log compaction last reclaimed space (0: not since start).",
      registers: [this.registry],
      async collect() {
        this.set(((await currentUsage()).lastCompactionUnixMs ?? 0) / 1000);
      },
    });
    this.expiryLag = new Gauge({
      name: "macp_expiry_lag_seconds",
      help: "How long past its deadline the most overdue open or suspended session is (the sweep brings it back to 0).",
      registers: [this.registry],
      collect() {
        this.set(sources.expiryLagSeconds());
      },
    });
    this.evictionLag = new Gauge({
      name: "macp_eviction_lag_seconds",
      help: "How long past the retention the longest-held finished session has stayed in memory.",
      registers: [this.registry],
      collect() {
        this.set(sources.evictionLagSeconds());
      },
    });
    this.historyRemoved = new Counter({
      name: "macp_history_removed_total",
      help: "Finished sessions whose history retention removed from storage (archived first when MACP_ARCHIVE_DIR is set).",
      registers: [this.registry],
    });
    this.streamLagDrops = new Counter({
      name: "macp_stream_lag_drops_total",
      help: "Streams ended because their client fell too far behind, by stream kind (session, watch).",
      labelNames: ["stream"],
      registers: [this.registry],
    });
  }
}

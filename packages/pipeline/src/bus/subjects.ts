import { rawEventFromJson, rawEventToJson } from "@macp/events";
import type { CanonicalEvent } from "@macp/events";
import type { ControlInput, EventsUpdate, RawRecord } from "./event-bus.js";

/**
 * Names of everything the pipeline declares on JetStream, all derived from one prefix
 * (`BUS_PREFIX`), so tests and tenants sharing a server stay apart.
 */
export interface BusNames {
  /** Stream of raw runtime input (work queue), subjects `<prefix>.raw.<partition>.<runId>`. */
  readonly rawStream: string;
  /** Stream of committed canonical events, subjects `<prefix>.events.<runId>`. */
  readonly eventsStream: string;
  /** KV bucket of leases (run ingest, partition ownership). */
  readonly leaseBucket: string;
  rawSubject(partition: number, runId: string): string;
  /** Filter of one partition's raw subjects. */
  rawPartitionFilter(partition: number): string;
  /** Durable consumer of one raw partition. */
  projectorConsumer(partition: number): string;
  eventsSubject(runId: string): string;
}

/** A valid prefix: letters, digits, `_` and `-` (it becomes part of stream and subject names). */
export const BUS_PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** The names for `prefix`. */
export function busNames(prefix: string): BusNames {
  if (!BUS_PREFIX_PATTERN.test(prefix)) throw new RangeError(`bus prefix "${prefix}" must match ${BUS_PREFIX_PATTERN.source}`);
  return {
    rawStream: `${prefix}_RAW`,
    eventsStream: `${prefix}_EVENTS`,
    leaseBucket: `${prefix}_leases`,
    rawSubject: (partition, runId) => `${prefix}.raw.${partition}.${runId}`,
    rawPartitionFilter: (partition) => `${prefix}.raw.${partition}.*`,
    projectorConsumer: (partition) => `${prefix}_projector_${partition}`,
    eventsSubject: (runId) => `${prefix}.events.${runId}`,
  };
}

/**
 * Deduplication id of a raw record: run and runtime sequence for an envelope (a re-subscription
 * re-reads the same envelopes); none for other input, which carries its own time in its key.
 */
export function rawMessageId(record: RawRecord): string | undefined {
  return record.raw.kind === "stream-envelope" ? `${record.runId}:${record.position}` : undefined;
}

/** Deduplication id of a published update: its run and seq range (a projector's retry publishes the same range). */
export function eventsMessageId(update: EventsUpdate): string {
  const first = update.events[0]?.seq ?? 0;
  const last = update.events[update.events.length - 1]?.seq ?? 0;
  return `${update.runId}:${first}-${last}`;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A raw record as bytes on the bus. */
export function encodeRawRecord(record: RawRecord): Uint8Array {
  return encoder.encode(JSON.stringify({ runId: record.runId, position: record.position, raw: record.raw.kind === "control" ? record.raw : rawEventToJson(record.raw) }));
}

/** Bytes from the bus as a raw record; throws on anything else. */
export function decodeRawRecord(bytes: Uint8Array): RawRecord {
  const json = JSON.parse(decoder.decode(bytes)) as { runId?: unknown; position?: unknown; raw?: unknown };
  if (typeof json.runId !== "string" || typeof json.position !== "number" || !Number.isSafeInteger(json.position)) {
    throw new TypeError("raw record needs a string runId and an integer position");
  }
  const raw = json.raw as { kind?: unknown } | null;
  return { runId: json.runId, position: json.position, raw: raw !== null && typeof raw === "object" && raw.kind === "control" ? (raw as ControlInput) : rawEventFromJson(json.raw) };
}

/** An update as bytes on the bus. */
export function encodeEventsUpdate(update: EventsUpdate): Uint8Array {
  return encoder.encode(JSON.stringify({ runId: update.runId, previousSeq: update.previousSeq, throughSeq: update.throughSeq, events: update.events }));
}

/** Bytes from the bus as an update; throws on anything else. */
export function decodeEventsUpdate(bytes: Uint8Array): EventsUpdate {
  const json = JSON.parse(decoder.decode(bytes)) as { runId?: unknown; previousSeq?: unknown; throughSeq?: unknown; events?: unknown };
  if (typeof json.runId !== "string" || !Array.isArray(json.events) || !Number.isSafeInteger(json.previousSeq) || !Number.isSafeInteger(json.throughSeq)) {
    throw new TypeError("events update needs a string runId, integer previousSeq and throughSeq and an events array");
  }
  return { runId: json.runId, previousSeq: json.previousSeq as number, throughSeq: json.throughSeq as number, events: json.events as CanonicalEvent[] };
}

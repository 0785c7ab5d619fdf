import { payloadToJson, rawEventFromJson } from "@macp/events";
import type { JsonObject } from "@macp/events";
import type { Kysely } from "kysely";
import type { Database } from "@macp/pipeline";
import { iso } from "../runs/run-record.js";

/** One envelope the runtime accepted for a run's session, with its payload decoded. */
export interface RunMessage {
  /** The run's event seq of the stored envelope: the `afterSeq` cursor of the next page. */
  seq: number;
  /** The runtime's acceptance sequence within the session (0-based). */
  runtimeSeq: number | null;
  messageId: string;
  sessionId: string;
  sender: string;
  mode: string;
  messageType: string;
  macpVersion: string;
  /** The envelope's own timestamp (sender clock), ISO; null when it is not a representable date. */
  timestamp: string | null;
  /** When the control plane received it from the runtime stream, ISO. */
  receivedAt: string;
  /** Decoded payload (camelCase protobuf fields), or `{payloadBase64[, decodeError]}`. */
  payload: JsonObject;
  payloadTypeName: string | null;
}

/** A page of {@link RunMessage}s. */
export interface RunMessagePage {
  data: RunMessage[];
  total: number;
  limit: number;
  /** Pass as `afterSeq` for the next page; null on the last one. */
  nextCursor: string | null;
}

/**
 * The envelopes the runtime accepted for `runId`, in acceptance order, read from the stored raw
 * stream inputs (nothing else is an accepted message: kickoff refusals and inline errors are not).
 * `modeName` decodes envelopes that carry no mode (ambient ones).
 */
export async function listRunMessages(db: Kysely<Database>, runId: string, modeName: string, page: { afterSeq: number; limit: number }): Promise<RunMessagePage> {
  const base = db.selectFrom("run_events_raw").where("run_id", "=", runId).where("kind", "=", "stream-envelope");
  const [rows, count] = await Promise.all([
    base.select(["seq", "runtime_seq", "payload", "ts"]).where("seq", ">", page.afterSeq).orderBy("seq").limit(page.limit + 1).execute(),
    base.select((eb) => eb.fn.countAll<string>().as("total")).executeTakeFirstOrThrow(),
  ]);
  const data = rows.slice(0, page.limit).map((row): RunMessage => {
    const raw = rawEventFromJson(row.payload);
    if (raw.kind !== "stream-envelope") throw new TypeError(`raw event ${row.seq} of run ${runId} is a ${raw.kind}`);
    const { envelope } = raw;
    const mode = envelope.mode !== "" ? envelope.mode : modeName;
    const { payload, payloadTypeName } = payloadToJson(mode, envelope.messageType, envelope.payload);
    return {
      seq: row.seq,
      runtimeSeq: row.runtime_seq,
      messageId: envelope.messageId,
      sessionId: envelope.sessionId,
      sender: envelope.sender,
      mode: envelope.mode,
      messageType: envelope.messageType,
      macpVersion: envelope.macpVersion,
      timestamp: isoOfUnixMs(envelope.timestampUnixMs),
      receivedAt: iso(row.ts) as string,
      payload,
      payloadTypeName: payloadTypeName ?? null,
    };
  });
  const last = data.at(-1);
  return { data, total: Number(count.total), limit: page.limit, nextCursor: rows.length > page.limit && last ? String(last.seq) : null };
}

// JavaScript dates end at ±8.64e15 ms; a sender may put any int64 in the envelope.
function isoOfUnixMs(ms: bigint): string | null {
  return ms >= -8_640_000_000_000_000n && ms <= 8_640_000_000_000_000n ? new Date(Number(ms)).toISOString() : null;
}

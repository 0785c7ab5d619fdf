import { randomUUID } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Insertable, Kysely } from "kysely";
import type { AuditLogTable, Database } from "@macp/pipeline";
import { auditFields } from "./audit-entry.js";

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
/** Response bodies larger than this are not parsed for ids and error codes. */
const MAX_PARSED_RESPONSE_BYTES = 65_536;

function responseJson(reply: FastifyReply, payload: unknown): unknown {
  if (typeof payload !== "string" || payload.length > MAX_PARSED_RESPONSE_BYTES) return undefined;
  if (!String(reply.getHeader("content-type") ?? "").includes("application/json")) return undefined;
  try {
    return JSON.parse(payload) as unknown;
  } catch {
    return undefined;
  }
}

type AuditRowInsert = Insertable<AuditLogTable>;

/**
 * Group insert: one multi-row insert in flight at a time; rows arriving meanwhile go into the
 * next one. Each caller's promise settles when the statement holding its row committed, so a
 * burst of mutating calls costs a few statements instead of one commit each.
 */
function auditWriter(db: Kysely<Database>): (row: AuditRowInsert) => Promise<void> {
  let queued: { row: AuditRowInsert; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let inFlight = false;
  const flush = (): void => {
    if (inFlight || queued.length === 0) return;
    const batch = queued;
    queued = [];
    inFlight = true;
    db.insertInto("audit_log")
      .values(batch.map((item) => item.row))
      .execute()
      .then(
        () => batch.forEach((item) => item.resolve()),
        (error: unknown) => batch.forEach((item) => item.reject(error)),
      )
      .finally(() => {
        inFlight = false;
        flush();
      });
  };
  return (row) =>
    new Promise<void>((resolve, reject) => {
      queued.push({ row, resolve, reject });
      flush();
    });
}

/**
 * An `onSend` hook recording every authenticated mutating call (success or failure) before its
 * response leaves, so a client that got an answer finds the audit row. A failed audit write is
 * logged and never turns a finished operation into an error.
 */
export function auditHook(db: Kysely<Database>) {
  const write = auditWriter(db);
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const route = request.routeOptions.url;
    const principal = request.principal;
    if (!MUTATING.has(request.method) || route === undefined || principal === undefined) return payload;
    const fields = auditFields({ method: request.method, route, params: request.params, body: request.body, statusCode: reply.statusCode, response: responseJson(reply, payload) });
    try {
      await write({
        id: randomUUID(),
        actor: principal.id,
        actor_type: principal.kind,
        action: fields.action,
        resource: fields.resource,
        resource_id: fields.resourceId,
        status_code: reply.statusCode,
        details: JSON.stringify(fields.details),
        request_id: request.id,
      });
    } catch (error) {
      request.log.error({ err: error, action: fields.action }, "audit write failed");
    }
    return payload;
  };
}

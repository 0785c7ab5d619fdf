import { redactSecrets } from "../runs/run-record.js";

/** Action names of known mutating routes (`METHOD route`); others get `<method> <route>`. */
const ACTIONS: Readonly<Record<string, string>> = {
  "POST /runs": "run.created",
  "POST /runs/validate": "run.validated",
  "POST /runs/:id/cancel": "run.cancelled",
  "POST /runs/:id/suspend": "run.suspended",
  "POST /runs/:id/resume": "run.resumed",
  "POST /runs/:id/clone": "run.cloned",
  "POST /runs/:id/archive": "run.archived",
  "DELETE /runs/:id": "run.deleted",
  "POST /runs/:id/fork": "run.forked",
  "POST /runs/:id/replay": "run.replay_requested",
  "POST /runs/:id/stream-token": "run.stream_token_issued",
  "POST /runs/:id/artifacts": "artifact.created",
  "POST /runs/:id/projection/rebuild": "run.projection_rebuilt",
  "POST /runs/compare": "run.compared",
  "POST /runs/batch/cancel": "run.batch_cancelled",
  "POST /runs/batch/archive": "run.batch_archived",
  "POST /runs/batch/delete": "run.batch_deleted",
  "POST /runs/batch/export": "run.batch_exported",
  "POST /runtime/policies": "policy.registered",
  "DELETE /runtime/policies/:policyId": "policy.unregistered",
  "POST /webhooks": "webhook.created",
  "PATCH /webhooks/:id": "webhook.updated",
  "DELETE /webhooks/:id": "webhook.deleted",
  "POST /webhooks/:id/deliveries/:deliveryId/redeliver": "webhook.delivery_redelivered",
  "POST /webhooks/:id/test": "webhook.tested",
};

/** Resource kinds by route prefix, longest first. */
const RESOURCES: readonly (readonly [string, string])[] = [
  ["/runs/:id/artifacts", "artifact"],
  ["/runtime/policies", "policy"],
  ["/webhooks", "webhook"],
  ["/admin", "admin"],
  ["/runs", "run"],
];

/** Largest request body (JSON bytes) kept whole in `details.body`. */
const MAX_BODY_BYTES = 8192;

/** What the HTTP edge knows about one finished mutating call. */
export interface AuditedCall {
  readonly method: string;
  readonly route: string;
  readonly params: unknown;
  readonly body: unknown;
  readonly statusCode: number;
  /** The JSON response body, when there is one (only ids and error codes are kept). */
  readonly response: unknown;
}

/** The row fields an audited call maps to (actor and request id come from the request). */
export interface AuditFields {
  action: string;
  resource: string;
  resourceId: string | null;
  details: Record<string, unknown>;
}

function field(value: unknown, key: string): string | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const item = (value as Record<string, unknown>)[key];
  return typeof item === "string" && item !== "" ? item : undefined;
}

function bodyDetail(body: unknown): unknown {
  if (body === undefined || body === null) return undefined;
  const redacted = redactSecrets(body);
  const size = Buffer.byteLength(JSON.stringify(redacted) ?? "");
  return size <= MAX_BODY_BYTES ? redacted : { truncated: true, bytes: size };
}

/** Maps a mutating call to its audit fields; secrets in the body are redacted, responses never stored. */
export function auditFields(call: AuditedCall): AuditFields {
  const key = `${call.method} ${call.route}`;
  const resource = RESOURCES.find(([prefix]) => call.route.startsWith(prefix))?.[1] ?? (call.route.split("/")[1] || "unknown");
  // An artifact is named by the id the response gives it; everything else by its path parameter first.
  const created = resource === "artifact" ? field(call.response, "id") : undefined;
  const resourceId = created ?? field(call.params, "id") ?? field(call.params, "policyId") ?? field(call.body, "policyId") ?? field(call.response, "runId") ?? field(call.response, "id") ?? null;
  const body = bodyDetail(call.body);
  const errorCode = call.statusCode >= 400 ? field(call.response, "errorCode") : undefined;
  return {
    action: ACTIONS[key] ?? `${call.method.toLowerCase()} ${call.route}`,
    resource,
    resourceId,
    details: {
      method: call.method,
      route: call.route,
      statusCode: call.statusCode,
      outcome: call.statusCode < 400 ? "succeeded" : "failed",
      ...(errorCode !== undefined ? { errorCode } : {}),
      ...(call.params !== null && typeof call.params === "object" && Object.keys(call.params).length > 0 ? { params: call.params } : {}),
      ...(body !== undefined ? { body } : {}),
    },
  };
}

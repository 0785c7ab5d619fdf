import { CANONICAL_EVENT_SCHEMA_VERSION, CANONICAL_EVENT_TYPES, SUBJECT_KINDS } from "./event-types.js";

/**
 * JSON Schema of {@link CanonicalEvent}. It uses only keywords shared by JSON Schema draft-07,
 * 2020-12 and OpenAPI 3.0/3.1 (`enum` rather than `const`, no `$schema`/`$id`), so it can be
 * embedded as-is in a TypeBox `Type.Unsafe` or an OpenAPI `components.schemas` entry.
 */
export const canonicalEventJsonSchema = {
  title: "CanonicalEvent",
  type: "object",
  additionalProperties: false,
  required: ["id", "runId", "seq", "ts", "type", "schemaVersion", "source", "trace", "data"],
  properties: {
    id: { type: "string", format: "uuid" },
    runId: { type: "string", format: "uuid" },
    seq: { type: "integer", minimum: 1 },
    ts: { type: "string", format: "date-time" },
    type: { type: "string", enum: [...CANONICAL_EVENT_TYPES] },
    schemaVersion: { type: "integer", enum: [CANONICAL_EVENT_SCHEMA_VERSION] },
    subject: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "id"],
      properties: {
        kind: { type: "string", enum: [...SUBJECT_KINDS] },
        id: { type: "string" },
      },
    },
    source: {
      type: "object",
      additionalProperties: false,
      required: ["kind", "name"],
      properties: {
        kind: { type: "string", enum: ["runtime", "control-plane"] },
        name: { type: "string" },
        rawType: { type: "string" },
      },
    },
    trace: {
      type: "object",
      additionalProperties: false,
      properties: {
        traceId: { type: "string" },
        spanId: { type: "string" },
        parentSpanId: { type: "string" },
      },
    },
    data: { type: "object", additionalProperties: true },
  },
} as const;

import { Type } from "typebox";
import type { TSchema } from "typebox";

/** The error body every non-2xx response carries. */
export const ErrorBodySchema = Type.Object(
  {
    statusCode: Type.Integer(),
    errorCode: Type.String(),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
    requestId: Type.String(),
  },
  { $id: "ErrorBody", description: "Every non-2xx response" },
);

/** Error responses most routes can give, for the OpenAPI document. */
export function errorResponses(...codes: number[]): Record<number, TSchema> {
  return Object.fromEntries(codes.map((code) => [code, ErrorBodySchema]));
}

export const RunStatusSchema = Type.Union([
  Type.Literal("queued"),
  Type.Literal("starting"),
  Type.Literal("binding_session"),
  Type.Literal("running"),
  Type.Literal("suspended"),
  Type.Literal("completed"),
  Type.Literal("failed"),
  Type.Literal("cancelled"),
]);

/** `:id` path parameter: a run id is a UUID (malformed → 400, unknown → 404). */
export const RunIdParams = Type.Object({ id: Type.String({ format: "uuid" }) });

const Timestamp = Type.String({ format: "date-time" });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const ApiRunSchema = Type.Object(
  {
    id: Type.String({ format: "uuid" }),
    status: RunStatusSchema,
    mode: Type.String(),
    runtimeKind: Type.String(),
    runtimeVersion: NullableString,
    runtimeSessionId: NullableString,
    traceId: NullableString,
    idempotencyKey: NullableString,
    lastEventSeq: Type.Integer(),
    sourceKind: NullableString,
    sourceRef: NullableString,
    source: Type.Object({ kind: NullableString, ref: NullableString }),
    tags: Type.Array(Type.String()),
    metadata: Type.Record(Type.String(), Type.Unknown()),
    errorCode: NullableString,
    errorMessage: NullableString,
    createdAt: Timestamp,
    startedAt: Type.Union([Timestamp, Type.Null()]),
    endedAt: Type.Union([Timestamp, Type.Null()]),
    updatedAt: Timestamp,
    archivedAt: Type.Union([Timestamp, Type.Null()]),
  },
  { $id: "Run" },
);

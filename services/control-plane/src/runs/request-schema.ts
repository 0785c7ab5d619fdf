import { Type } from "typebox";
import type { Static } from "typebox";

const Text = (options: { maxLength?: number; minLength?: number; description?: string } = {}) => Type.String({ maxLength: 1024, ...options });
const Id = (description?: string) => Type.String({ minLength: 1, maxLength: 255, ...(description ? { description } : {}) });
const JsonObject = Type.Record(Type.String(), Type.Unknown());

/** How a payload is given (control-plane.md §1.4); checked and encoded before the run is created. */
export const PayloadEnvelopeSchema = Type.Object(
  {
    encoding: Type.Union([Type.Literal("json"), Type.Literal("text"), Type.Literal("base64"), Type.Literal("proto")]),
    mediaType: Type.Optional(Text()),
    json: Type.Optional(JsonObject),
    text: Type.Optional(Type.String()),
    base64: Type.Optional(Type.String()),
    proto: Type.Optional(
      Type.Object(
        {
          typeName: Type.String({ minLength: 1, maxLength: 255, description: "fully qualified, e.g. macp.modes.decision.v1.ProposalPayload" }),
          value: JsonObject,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const ParticipantSchema = Type.Object(
  {
    id: Id("the participant's sender id"),
    role: Type.Optional(Text({ maxLength: 255 })),
    transportIdentity: Type.Optional(Id()),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);

const SessionSchema = Type.Object(
  {
    sessionId: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: "UUID or base64url ≥ 22 chars; allocated when absent" })),
    modeName: Type.String({ minLength: 1, maxLength: 255 }),
    modeVersion: Type.String({ maxLength: 64 }),
    configurationVersion: Type.String({ maxLength: 128 }),
    policyVersion: Type.Optional(Type.String({ maxLength: 128 })),
    ttlMs: Type.Integer({ minimum: 1, maximum: 86_400_000 }),
    initiatorParticipantId: Type.Optional(Id()),
    participants: Type.Array(ParticipantSchema, { minItems: 1, maxItems: 1000 }),
    roots: Type.Optional(Type.Array(Type.Object({ uri: Type.String({ minLength: 1, maxLength: 2048 }), name: Type.Optional(Text()) }, { additionalProperties: false }), { maxItems: 100 })),
    contextId: Type.Optional(Text({ maxLength: 255 })),
    context: Type.Optional(JsonObject),
    contextEnvelope: Type.Optional(PayloadEnvelopeSchema),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);

const KickoffSchema = Type.Object(
  {
    from: Id("sender; the control plane sends with this sender's own runtime credential"),
    to: Type.Optional(Type.Array(Id(), { maxItems: 1000, description: "bookkeeping only: envelopes carry no recipients" })),
    kind: Type.Optional(Type.Union([Type.Literal("request"), Type.Literal("broadcast"), Type.Literal("proposal"), Type.Literal("context")])),
    messageType: Type.String({ minLength: 1, maxLength: 128 }),
    payload: Type.Optional(JsonObject),
    payloadEnvelope: Type.Optional(PayloadEnvelopeSchema),
    metadata: Type.Optional(JsonObject),
  },
  { additionalProperties: false },
);

/**
 * `POST /runs` body: the design note's ExecutionRequest (with `kickoff`) and the observer
 * RunDescriptor in one schema. With `kickoff` or `session.initiatorParticipantId` the control
 * plane starts the session; otherwise it waits for the agents to start it and observes.
 */
export const RunRequestSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal("live"), Type.Literal("sandbox"), Type.Literal("replay")]),
    runtime: Type.Optional(
      Type.Object(
        {
          kind: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "one of RUNTIME_KIND; absent = the first of them" })),
          version: Type.Optional(Type.String({ maxLength: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
    session: SessionSchema,
    kickoff: Type.Optional(Type.Array(KickoffSchema, { maxItems: 100 })),
    execution: Type.Optional(
      Type.Object(
        {
          idempotencyKey: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: 64 })),
          requester: Type.Optional(
            Type.Object(
              { actorId: Type.Optional(Id()), actorType: Type.Optional(Type.Union([Type.Literal("user"), Type.Literal("service"), Type.Literal("system")])) },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type RunRequest = Static<typeof RunRequestSchema>;
export type PayloadEnvelope = Static<typeof PayloadEnvelopeSchema>;

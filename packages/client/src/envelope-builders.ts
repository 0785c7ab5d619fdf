import { PROTOCOL_VERSION, SessionStartPayload, SignalPayload, type Envelope } from "@macp/protocol";

/** Where generated values come from; without `newId`, every envelope needs an explicit `messageId`. */
export interface EnvelopeContext {
  /** Produces a fresh message id. */
  readonly newId?: () => string;
  /** Current time in Unix ms for `timestampUnixMs`; without it the timestamp is 0 (server time). */
  readonly now?: () => number;
}

/** The fields of an envelope a caller decides. */
export interface EnvelopeFields {
  readonly mode: string;
  readonly messageType: string;
  readonly sessionId: string;
  readonly payload: Uint8Array;
  readonly messageId?: string;
  /** Leave empty (the default): the runtime fills in the authenticated sender. */
  readonly sender?: string;
  /** Any int64 (a number within ±(2^53 − 1) or a `bigint`, e.g. i64::MAX); sent exactly. */
  readonly timestampUnixMs?: number | bigint;
}

/** Builds an envelope with `macpVersion` "1.0"; throws when no message id is given or can be generated. */
export function buildEnvelope(fields: EnvelopeFields, context: EnvelopeContext = {}): Envelope {
  const messageId = fields.messageId ?? context.newId?.();
  if (messageId === undefined || messageId === "") {
    throw new TypeError("buildEnvelope needs a messageId or an EnvelopeContext with newId");
  }
  return {
    macpVersion: PROTOCOL_VERSION,
    mode: fields.mode,
    messageType: fields.messageType,
    messageId,
    sessionId: fields.sessionId,
    sender: fields.sender ?? "",
    timestampUnixMs: BigInt(fields.timestampUnixMs ?? context.now?.() ?? 0),
    payload: fields.payload,
  };
}

/** `SessionStartPayload` fields a caller sets; `ttlMs` may be a number or a `bigint`. */
export type SessionStartInput = Partial<Omit<SessionStartPayload, "ttlMs">> & { readonly ttlMs?: number | bigint };

/** Fields of a `SessionStart` envelope; payload fields left out take their protobuf defaults. */
export interface SessionStartFields {
  readonly mode: string;
  readonly sessionId: string;
  readonly payload: SessionStartInput;
  readonly messageId?: string;
  readonly timestampUnixMs?: number | bigint;
}

/** Builds a `SessionStart` envelope with an encoded `SessionStartPayload`. */
export function buildSessionStart(fields: SessionStartFields, context: EnvelopeContext = {}): Envelope {
  const { ttlMs, ...rest } = fields.payload;
  const message = SessionStartPayload.fromPartial({ ...rest, ttlMs: BigInt(ttlMs ?? 0) });
  const payload = SessionStartPayload.encode(message).finish();
  return buildEnvelope({ ...fields, messageType: "SessionStart", payload }, context);
}

/** Fields of an ambient `Signal` envelope (no session, no mode). */
export interface SignalFields {
  readonly payload: Partial<SignalPayload>;
  readonly messageId?: string;
  readonly timestampUnixMs?: number | bigint;
}

/** Builds an ambient `Signal` envelope with an encoded `SignalPayload`. */
export function buildSignal(fields: SignalFields, context: EnvelopeContext = {}): Envelope {
  const payload = SignalPayload.encode(SignalPayload.fromPartial(fields.payload)).finish();
  return buildEnvelope({ ...fields, mode: "", sessionId: "", messageType: "Signal", payload }, context);
}

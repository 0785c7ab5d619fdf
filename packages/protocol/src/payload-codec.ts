import { CoreMessageType } from "./constants.js";
import { decodeContribute, encodeContributeJson } from "./contribute-payload.js";
import { MacpError } from "./errors.js";
import {
  CommitmentPayload,
  ProgressPayload,
  SessionStartPayload,
  SignalPayload,
} from "./gen/macp/v1/core.js";
import { corePayloadSchemas } from "./message-schemas.js";
import { messageFromJson } from "./message-from-json.js";
import { payloadBinding } from "./payload-registry.js";
import type { PayloadBinding } from "./payload-registry.js";
import { decodeStrict, encodeChecked } from "./strict-decode.js";

function bindingOrThrow(mode: string, messageType: string): PayloadBinding {
  const binding = payloadBinding(mode, messageType);
  if (binding === undefined) {
    throw new MacpError("InvalidPayload", `no payload type for message_type "${messageType}" in mode "${mode}"`);
  }
  return binding;
}

/**
 * Fully qualified proto name of the payload of `messageType` in `mode` (wire.md §4.1/§4.2),
 * e.g. `macp.modes.decision.v1.VotePayload`; core types resolve in every mode. `undefined` when
 * the pair has no payload type (runtime-internal markers, opaque extension-mode types).
 */
export function payloadTypeName(mode: string, messageType: string): string | undefined {
  return payloadBinding(mode, messageType)?.schema.typeName;
}

/**
 * Decodes the payload of `messageType` in `mode`. Protobuf decoding is as strict as the
 * reference runtime's; `Contribute` is decoded by {@link decodeContribute}. Any failure,
 * including an unknown pair, is `MacpError("InvalidPayload")` (code `INVALID_ENVELOPE`).
 */
export function decodePayload(mode: string, messageType: string, bytes: Uint8Array): unknown {
  const binding = bindingOrThrow(mode, messageType);
  if (binding.encoding === "json-or-protobuf") return decodeContribute(bytes);
  if (messageType === CoreMessageType.SessionStart) return decodeSessionStart(bytes);
  return decodeStrict(binding.codec, binding.schema, bytes, "InvalidPayload");
}

/** Decodes a `SessionStartPayload`; an empty payload is `InvalidPayload`, as in the reference. */
export function decodeSessionStart(bytes: Uint8Array): SessionStartPayload {
  if (bytes instanceof Uint8Array && bytes.length === 0) {
    throw new MacpError("InvalidPayload", "SessionStart payload must not be empty");
  }
  return decodeStrict(SessionStartPayload, corePayloadSchemas.SessionStartPayload, bytes, "InvalidPayload");
}

/** Decodes a `CommitmentPayload` (`InvalidPayload` on failure). */
export function decodeCommitment(bytes: Uint8Array): CommitmentPayload {
  return decodeStrict(CommitmentPayload, corePayloadSchemas.CommitmentPayload, bytes, "InvalidPayload");
}

/** Decodes a `SignalPayload`; empty bytes give the all-default message (Signals may be empty). */
export function decodeSignal(bytes: Uint8Array): SignalPayload {
  return decodeStrict(SignalPayload, corePayloadSchemas.SignalPayload, bytes, "InvalidPayload");
}

/** Decodes a `ProgressPayload`; empty bytes give the all-default message. */
export function decodeProgress(bytes: Uint8Array): ProgressPayload {
  return decodeStrict(ProgressPayload, corePayloadSchemas.ProgressPayload, bytes, "InvalidPayload");
}

/**
 * Encodes a payload given as a generated message object (camelCase properties; omitted fields
 * take their defaults). `Contribute` is encoded as JSON `{"value": …}`, the form every runtime
 * accepts; use `encodeContributeProto` for the protobuf form. Values that do not fit the payload
 * type, and unknown pairs, are `MacpError("InvalidPayload")`.
 */
export function encodePayload(mode: string, messageType: string, value: unknown): Uint8Array {
  return encodeFromObject(bindingOrThrow(mode, messageType), value);
}

/**
 * Encodes a payload given as JSON with proto field names, as in the conformance vectors:
 * `bytes` as UTF-8 strings or byte arrays, int64 as `bigint`, decimal strings or numbers within
 * ±(2^53 − 1), maps as objects, nested messages as objects. Unknown fields and mistyped values are
 * `MacpError("InvalidPayload")`.
 */
export function encodePayloadJson(mode: string, messageType: string, json: Record<string, unknown>): Uint8Array {
  return encodeFromObject(bindingOrThrow(mode, messageType), json);
}

function encodeFromObject(binding: PayloadBinding, value: unknown): Uint8Array {
  if (binding.encoding === "json-or-protobuf") return encodeContributeJson(value);
  const message = messageFromJson(binding.schema, value, "InvalidPayload");
  return encodeChecked(binding.codec, binding.schema, message, "InvalidPayload");
}

import { MacpError } from "./errors.js";
import { ContributePayload } from "./gen/macp/modes/multi_round/v1/multi_round.js";
import { multiRoundPayloadSchemas } from "./message-schemas.js";
import { decodeStrict, encodeChecked } from "./strict-decode.js";
import { decodeUtf8Strict, encodeUtf8, isWellFormedText } from "./utf8-text.js";

/** A multi_round contribution, whichever form it arrived in. */
export interface ContributeValue {
  readonly value: string;
}

const schema = multiRoundPayloadSchemas.ContributePayload;

function parseJson(bytes: Uint8Array): unknown {
  const text = decodeUtf8Strict(bytes);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Decodes a `Contribute` payload (README decision 6). JSON is tried first: a JSON object with a
 * string `value` is the JSON form (extra keys ignored; `""` is a contribution, as in the reference
 * runtime). Anything else is decoded as protobuf
 * `ContributePayload`, whose `value` must be non-empty: proto3 cannot tell an empty value from a
 * missing one, and stray bytes that merely skip as unknown fields must not count as a
 * contribution. Failures are `MacpError("InvalidPayload")`.
 */
export function decodeContribute(bytes: Uint8Array): ContributeValue {
  const json = parseJson(bytes);
  const jsonValue = isJsonObject(json) && Object.hasOwn(json, "value") ? json["value"] : undefined;
  if (typeof jsonValue === "string") {
    if (!isWellFormedText(jsonValue)) {
      throw new MacpError("InvalidPayload", "Contribute value is not valid Unicode");
    }
    return { value: jsonValue };
  }
  // Decision 6: only a JSON object with a string `value` is the JSON form; anything else (even
  // other JSON) is judged as protobuf, which rejects ordinary JSON text as malformed.
  const decoded = decodeStrict(ContributePayload, schema, bytes, "InvalidPayload");
  if (decoded.value === "") {
    throw new MacpError("InvalidPayload", "Contribute payload is neither JSON with a string \"value\" nor a ContributePayload with a value");
  }
  return { value: decoded.value };
}

function contributionText(input: unknown): string {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new MacpError("InvalidPayload", "Contribute payload must be an object with a string \"value\"");
  }
  const unknown = Object.keys(input).find((key) => key !== "value");
  if (unknown !== undefined) {
    throw new MacpError("InvalidPayload", `ContributePayload: unknown field "${unknown}"`);
  }
  const value: unknown = (input as Record<string, unknown>)["value"];
  if (typeof value !== "string" || !isWellFormedText(value)) {
    throw new MacpError("InvalidPayload", "ContributePayload.value: expected a string");
  }
  return value;
}

/** The JSON form `{"value": …}` of a contribution, the form every MACP runtime accepts. */
export function encodeContributeJson(input: unknown): Uint8Array {
  return encodeUtf8(JSON.stringify({ value: contributionText(input) }));
}

/**
 * The protobuf `ContributePayload` form used by newer SDKs. An empty value is refused: it would
 * encode to no bytes at all, which no runtime accepts as a contribution.
 */
export function encodeContributeProto(contribution: ContributeValue): Uint8Array {
  const value = contributionText(contribution);
  if (value === "") {
    throw new MacpError("InvalidPayload", "a protobuf ContributePayload needs a non-empty value");
  }
  return encodeChecked(ContributePayload, schema, { value }, "InvalidPayload");
}

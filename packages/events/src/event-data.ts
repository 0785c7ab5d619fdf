import type { CanonicalEvent } from "./event-types.js";
import { isRecord } from "./json.js";
import type { JsonObject, JsonValue } from "./json.js";

// Typed reads of event `data`: folds must accept any JSON (events may come from older writers or
// other producers) without throwing, so every read checks its type and falls back to undefined.

/** A non-empty string member, else `undefined`. */
export function textField(data: JsonObject | undefined, key: string): string | undefined {
  const value = data?.[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** A finite number member, else `undefined`. */
export function numberField(data: JsonObject | undefined, key: string): number | undefined {
  const value = data?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A boolean member, else `undefined`. */
export function booleanField(data: JsonObject | undefined, key: string): boolean | undefined {
  const value = data?.[key];
  return typeof value === "boolean" ? value : undefined;
}

/** An object member, else `undefined`. */
export function objectField(data: JsonObject | undefined, key: string): JsonObject | undefined {
  const value: JsonValue | undefined = data?.[key];
  return isRecord(value) ? (value as JsonObject) : undefined;
}

/** The non-empty strings of an array member (empty when absent). */
export function stringsField(data: JsonObject | undefined, key: string): string[] {
  const value = data?.[key];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string" && v !== "") : [];
}

/** The decoded payload of a runtime event (`decodedPayload`, else `payload`). */
export function payloadOf(event: CanonicalEvent): JsonObject | undefined {
  return objectField(event.data, "decodedPayload") ?? objectField(event.data, "payload");
}

/** The sender of a message event. */
export function senderOf(event: CanonicalEvent): string | undefined {
  return textField(event.data, "sender");
}

/** Appends `item`, dropping the oldest entries beyond `cap`. */
export function appendCapped<T>(list: readonly T[], item: T, cap: number): T[] {
  const next = list.length >= cap ? list.slice(list.length - cap + 1) : list.slice();
  next.push(item);
  return next;
}

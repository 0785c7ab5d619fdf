import { expect } from "vitest";

/**
 * A description of what a client reads from a JSON value: leaf kinds, arrays, objects (keys not
 * listed are allowed: the UI ignores them), optional/nullable wrappers and literal sets.
 */
export type Shape =
  | "string"
  | "number"
  | "integer"
  | "boolean"
  | "iso"
  | "uuid"
  | "object"
  | "any"
  | { readonly kind: "array"; readonly of: Shape; readonly nonEmpty: boolean }
  | { readonly kind: "object"; readonly fields: Readonly<Record<string, Shape>> }
  | { readonly kind: "record"; readonly of: Shape }
  | { readonly kind: "optional"; readonly of: Shape }
  | { readonly kind: "nullable"; readonly of: Shape }
  | { readonly kind: "literal"; readonly values: readonly unknown[] };

/** An array whose items all have `of` (`nonEmpty`: at least one, so the item shape is really checked). */
export const arrayOf = (of: Shape, nonEmpty = false): Shape => ({ kind: "array", of, nonEmpty });
/** An object with at least these fields. */
export const objectWith = (fields: Record<string, Shape>): Shape => ({ kind: "object", fields });
/** An object whose every value has `of`. */
export const recordOf = (of: Shape): Shape => ({ kind: "record", of });
/** May be absent (or undefined); when present it has `of`. */
export const optional = (of: Shape): Shape => ({ kind: "optional", of });
/** Present, `null` or `of`. */
export const nullable = (of: Shape): Shape => ({ kind: "nullable", of });
/** Absent, null or `of`: what a TypeScript client reads as `x?: T` and handles with `??`. */
export const maybe = (of: Shape): Shape => optional(nullable(of));
/** One of these exact values. */
export const oneOf = (...values: unknown[]): Shape => ({ kind: "literal", values });

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Every way `value` differs from `shape`, as `path: problem` lines (empty when it fits). */
export function shapeErrors(value: unknown, shape: Shape, path = "$"): string[] {
  if (typeof shape === "string") {
    const ok = {
      string: () => typeof value === "string",
      number: () => typeof value === "number" && Number.isFinite(value),
      integer: () => Number.isInteger(value),
      boolean: () => typeof value === "boolean",
      iso: () => typeof value === "string" && ISO.test(value),
      uuid: () => typeof value === "string" && UUID.test(value),
      object: () => isPlainObject(value),
      any: () => value !== undefined,
    }[shape]();
    return ok ? [] : [`${path}: expected ${shape}, got ${JSON.stringify(value)?.slice(0, 120)}`];
  }
  switch (shape.kind) {
    case "optional":
      return value === undefined ? [] : shapeErrors(value, shape.of, path);
    case "nullable":
      return value === null ? [] : shapeErrors(value, shape.of, path);
    case "literal":
      return shape.values.includes(value) ? [] : [`${path}: expected one of ${JSON.stringify(shape.values)}, got ${JSON.stringify(value)}`];
    case "array": {
      if (!Array.isArray(value)) return [`${path}: expected an array, got ${JSON.stringify(value)?.slice(0, 120)}`];
      if (shape.nonEmpty && value.length === 0) return [`${path}: expected at least one item`];
      return value.flatMap((item, index) => shapeErrors(item, shape.of, `${path}[${index}]`));
    }
    case "record": {
      if (!isPlainObject(value)) return [`${path}: expected an object, got ${JSON.stringify(value)?.slice(0, 120)}`];
      return Object.entries(value).flatMap(([key, item]) => shapeErrors(item, shape.of, `${path}.${key}`));
    }
    case "object": {
      if (!isPlainObject(value)) return [`${path}: expected an object, got ${JSON.stringify(value)?.slice(0, 120)}`];
      return Object.entries(shape.fields).flatMap(([key, field]) => shapeErrors(value[key], field, `${path}.${key}`));
    }
  }
}

/** Fails the test with every mismatch between `value` and what the UI reads from it. */
export function expectShape(value: unknown, shape: Shape): void {
  expect(shapeErrors(value, shape)).toEqual([]);
}

import { expect } from "vitest";
import { MacpError } from "../../src/index.js";
import type { MacpErrorVariant } from "../../src/index.js";

/** The error `run` throws, or `undefined` when it returns. */
export function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Asserts that `run` throws a `MacpError` of `variant`, hence of that variant's code. */
export function expectMacpError(run: () => unknown, variant: MacpErrorVariant): MacpError {
  const error = thrownBy(run);
  expect(error).toBeInstanceOf(MacpError);
  expect((error as MacpError).variant).toBe(variant);
  return error as MacpError;
}

/** Asserts that `run` either returns or throws a `MacpError` with code `INVALID_ENVELOPE`. */
export function expectNothingButInvalidEnvelope(run: () => unknown): void {
  const error = thrownBy(run);
  if (error === undefined) return;
  expect(error).toBeInstanceOf(MacpError);
  expect((error as MacpError).code).toBe("INVALID_ENVELOPE");
}

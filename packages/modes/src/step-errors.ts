import { MacpError } from "@macp/protocol";
import { rejected } from "./mode-handler.js";
import type { ModeOutcome } from "./mode-handler.js";

/** A mode validation failure: `InvalidPayload`, wire code `INVALID_ENVELOPE`. */
export function invalidPayload(message: string): MacpError {
  return new MacpError("InvalidPayload", message);
}

/** An authorization failure: wire code `FORBIDDEN`. */
export function forbidden(message: string): MacpError {
  return new MacpError("Forbidden", message);
}

/**
 * Runs a mode step written in throwing style and turns a thrown `MacpError` into a rejected
 * outcome. Anything else is a bug and keeps propagating.
 */
export function runStep(step: () => ModeOutcome): ModeOutcome {
  try {
    return step();
  } catch (error) {
    if (error instanceof MacpError) return rejected(error);
    throw error;
  }
}

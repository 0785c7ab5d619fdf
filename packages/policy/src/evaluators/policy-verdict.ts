import type { PolicyDefinition } from "../policy-definition.js";

/**
 * Outcome of a commit-time evaluation. A denial becomes `POLICY_DENIED` carrying `reasons`
 * (`MacpError.policyDenied(verdict.reasons)`); allow reasons are never surfaced, so an allowed
 * verdict has none.
 */
export interface PolicyVerdict {
  readonly allowed: boolean;
  readonly reasons: readonly string[];
}

/** Schema versions the evaluators understand (§12.4). */
export const SUPPORTED_SCHEMA_VERSIONS: readonly number[] = Object.freeze([1, 2]);

const ALLOWED: PolicyVerdict = Object.freeze({ allowed: true, reasons: Object.freeze([]) });

/** The verdict for accumulated deny reasons: any deny beats any allow. */
export function verdictOf(denyReasons: readonly string[]): PolicyVerdict {
  return denyReasons.length === 0 ? ALLOWED : { allowed: false, reasons: [...denyReasons] };
}

/**
 * The version gate every standard-mode evaluator starts with: a denial for a schema version
 * outside {1, 2}, else undefined.
 */
export function versionGate(policy: PolicyDefinition): PolicyVerdict | undefined {
  if (SUPPORTED_SCHEMA_VERSIONS.includes(policy.schemaVersion)) return undefined;
  return verdictOf([
    `unsupported policy schema version: ${policy.schemaVersion} (supported: [${SUPPORTED_SCHEMA_VERSIONS.join(", ")}])`,
  ]);
}

/** With no policy bound (replay of a session started without one) nothing is evaluated (§12.13). */
export const NO_POLICY_VERDICT: PolicyVerdict = ALLOWED;

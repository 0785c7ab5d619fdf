/** Any JSON value, as parsed from a policy's `rules` text. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/**
 * A governance policy in its internal form: `rules` parsed from the wire's JSON text. A session
 * binds a copy of this at SessionStart, so later registry changes never affect it.
 */
export interface PolicyDefinition {
  readonly policyId: string;
  readonly mode: string;
  readonly description: string;
  readonly rules: JsonValue;
  readonly schemaVersion: number;
}

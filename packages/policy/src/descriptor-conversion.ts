import type { PolicyDescriptor } from "@macp/protocol";
import { toCanonicalJson } from "./json/canonical-json.js";
import { parseJsonText } from "./json/json-text.js";
import type { JsonValue, PolicyDefinition } from "./policy-definition.js";

const EMPTY_RULES: JsonValue = Object.freeze({});

function parsedRules(text: string): JsonValue {
  const parsed = text === "" ? undefined : parseJsonText(text);
  return parsed === undefined ? EMPTY_RULES : parsed;
}

/**
 * Inbound conversion (RegisterPolicy, §12.1): `rules` text that is empty or not valid JSON becomes
 * `{}` (registration then proceeds with empty rules, as in the reference); any valid JSON value is
 * kept for validation to judge. Ids and description are taken verbatim; `registered_at_unix_ms` is
 * ignored. The result is deeply frozen.
 */
export function policyFromDescriptor(desc: PolicyDescriptor): PolicyDefinition {
  return Object.freeze({
    policyId: desc.policyId,
    mode: desc.mode,
    description: desc.description,
    rules: parsedRules(desc.rules),
    schemaVersion: desc.schemaVersion,
  });
}

/**
 * Outbound conversion (GetPolicy, ListPolicies, WatchPolicies, §12.1): `rules` re-serialized as
 * compact JSON with keys sorted at every level and numbers in serde_json form (`75`, `75.0`,
 * `0.5`); `registered_at_unix_ms` is always 0. Integral floats keep their `.0` only while the
 * definition still carries the float marks set by parsing (see json-number-form.ts); persist
 * definitions as descriptors to keep them across restarts.
 */
export function policyToDescriptor(def: PolicyDefinition): PolicyDescriptor {
  return {
    policyId: def.policyId,
    mode: def.mode,
    description: def.description,
    rules: toCanonicalJson(def.rules),
    schemaVersion: def.schemaVersion,
    registeredAtUnixMs: 0n,
  };
}

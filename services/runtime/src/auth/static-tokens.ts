import type { Identity } from "./identity.js";
import {
  isJsonFields,
  optionalBoolean,
  optionalCount,
  optionalStrings,
  requiredString,
  type JsonFields,
} from "./json-fields.js";

/**
 * The static bearer-token table (protocol.md §5.2). Tokens are secrets: they live in a private
 * field so that logging or serialising a configuration never prints them.
 */
export class StaticTokenTable {
  readonly #byToken: ReadonlyMap<string, Identity>;

  constructor(byToken: ReadonlyMap<string, Identity>) {
    this.#byToken = byToken;
  }

  /** Number of distinct tokens. */
  get size(): number {
    return this.#byToken.size;
  }

  /** The identity a token authenticates as, if any. */
  lookup(token: string): Identity | undefined {
    return this.#byToken.get(token);
  }

  toJSON(): { tokens: number } {
    return { tokens: this.size };
  }
}

/** A parsed token table plus the non-fatal problems found in it (never containing token values). */
export interface ParsedStaticTokens {
  readonly table: StaticTokenTable;
  readonly warnings: readonly string[];
}

/**
 * Parses token configuration JSON: a bare array of identity objects or `{"tokens": [...]}`.
 * Unknown keys are ignored and a repeated token keeps its last entry, as in the reference.
 * Stricter than the reference: an empty table is an error (the reference silently runs in dev
 * mode, accepting anyone), as is any entry with a missing or mistyped field. Error messages
 * name entries by index and never echo a token.
 */
export function parseStaticTokens(text: string): ParsedStaticTokens {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new Error("is not valid JSON");
  }
  const entries = isJsonFields(document) ? document["tokens"] : document;
  if (!Array.isArray(entries)) {
    throw new Error('must be a JSON array of token entries or an object {"tokens": [...]}');
  }
  if (entries.length === 0) {
    throw new Error("contains no tokens; unset it to run in dev mode");
  }
  const byToken = new Map<string, Identity>();
  const firstIndexOf = new Map<string, number>();
  const warnings: string[] = [];
  entries.forEach((entry: unknown, index) => {
    const where = `tokens[${index}]`;
    if (!isJsonFields(entry)) throw new Error(`${where} must be an object`);
    const token = requiredString(entry, "token", where);
    const previous = firstIndexOf.get(token);
    if (previous === undefined) {
      firstIndexOf.set(token, index);
    } else {
      warnings.push(`${where} repeats the token of tokens[${previous}]; the later entry wins`);
    }
    if (token.includes(".")) {
      warnings.push(`${where}.token contains "." so it is routed to JWT validation and can never authenticate`);
    }
    byToken.set(token, identityFromEntry(entry, where));
  });
  return { table: new StaticTokenTable(byToken), warnings };
}

function identityFromEntry(entry: JsonFields, where: string): Identity {
  const allowedModes = optionalStrings(entry, "allowed_modes", where) ?? [];
  return {
    sender: requiredString(entry, "sender", where),
    // In the token table an empty list means unrestricted (unlike the JWT claim).
    allowedModes: allowedModes.length === 0 ? null : new Set(allowedModes),
    canStartSessions: optionalBoolean(entry, "can_start_sessions", where) ?? true,
    maxOpenSessions: optionalCount(entry, "max_open_sessions", where) ?? null,
    canManageModeRegistry: optionalBoolean(entry, "can_manage_mode_registry", where) ?? false,
    isObserver: optionalBoolean(entry, "is_observer", where) ?? false,
  };
}

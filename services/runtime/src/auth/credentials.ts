/** Read access to request metadata by lowercase key; the first value wins when a key repeats. */
export interface MetadataReader {
  get(key: string): string | undefined;
}

/** What `authenticate` accepts: a reader (e.g. the gRPC adapter) or a plain header record. */
export type MetadataInput = MetadataReader | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The credentials a request carries, extracted once and shared by every resolver. */
export interface Credentials {
  /** Remainder of `authorization` after the exact, case-sensitive prefix `Bearer `; untrimmed. */
  readonly bearer: string | undefined;
  /** The opaque-token credential: `bearer` when present, else the raw `x-macp-token` value. */
  readonly token: string | undefined;
  /** The dev sender header `x-macp-agent-id`. */
  readonly agentId: string | undefined;
}

const BEARER_PREFIX = "Bearer ";

/** Extracts the credentials of protocol.md §5.1 from request metadata. */
export function readCredentials(input: MetadataInput): Credentials {
  const metadata = toReader(input);
  const authorization = metadata.get("authorization");
  const bearer = authorization?.startsWith(BEARER_PREFIX) ? authorization.slice(BEARER_PREFIX.length) : undefined;
  return {
    bearer,
    token: bearer ?? metadata.get("x-macp-token"),
    agentId: metadata.get("x-macp-agent-id"),
  };
}

function toReader(input: MetadataInput): MetadataReader {
  if (isReader(input)) return input;
  // Header names are case-insensitive on every transport we adapt, so match them that way.
  const byLowerKey = new Map<string, string>();
  for (const [key, value] of Object.entries(input)) {
    const first = typeof value === "string" ? value : value?.[0];
    const lower = key.toLowerCase();
    if (first !== undefined && !byLowerKey.has(lower)) byLowerKey.set(lower, first);
  }
  return { get: (key) => byLowerKey.get(key) };
}

function isReader(input: MetadataInput): input is MetadataReader {
  return typeof (input as { get?: unknown }).get === "function";
}

/** The only MACP protocol version; `Envelope.macp_version` must equal it exactly. */
export const PROTOCOL_VERSION = "1.0";

/** Mode version of every built-in mode descriptor. */
export const BUILTIN_MODE_VERSION = "1.0.0";

/** Mode identifiers of the built-in modes. */
export const ModeId = {
  Decision: "macp.mode.decision.v1",
  Proposal: "macp.mode.proposal.v1",
  Task: "macp.mode.task.v1",
  Handoff: "macp.mode.handoff.v1",
  Quorum: "macp.mode.quorum.v1",
  MultiRound: "ext.multi_round.v1",
} as const;

/** Standards-track built-in modes in their fixed `ListModes` order. */
export const STANDARD_MODE_IDS = [
  ModeId.Decision,
  ModeId.Proposal,
  ModeId.Task,
  ModeId.Handoff,
  ModeId.Quorum,
] as const;

/** Reserved prefix of standards-track mode ids (extensions may not use it). */
export const RESERVED_MODE_PREFIX = "macp.mode.";

/** Core message types valid in every mode, plus runtime-internal history markers. */
export const CoreMessageType = {
  SessionStart: "SessionStart",
  Commitment: "Commitment",
  Signal: "Signal",
  Progress: "Progress",
  SessionCancel: "SessionCancel",
  SessionSuspend: "SessionSuspend",
  SessionResume: "SessionResume",
  TtlExpired: "TtlExpired",
  Checkpoint: "Checkpoint",
} as const;

/** Id of the built-in default policy, always registered and never removable. */
export const DEFAULT_POLICY_ID = "policy.default";

/** Sender recorded on runtime-internal history entries. */
export const RUNTIME_SENDER = "_runtime";

/** Largest accepted `ttl_ms` (24 h). */
export const MAX_TTL_MS = 86_400_000;

/** Cumulative suspension cap (7 days); a session suspended longer expires. */
export const MAX_SUSPEND_MS = 604_800_000;

/** Most participants a SessionStart may declare. */
export const MAX_PARTICIPANTS = 1000;

/** Default `MACP_MAX_PAYLOAD_BYTES`. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;

/** Schema URI map advertised by built-in mode descriptors. */
export const BUILTIN_SCHEMA_URIS: Readonly<Record<string, string>> = {
  protobuf: "buf.build/multiagentcoordinationprotocol/macp",
};

/** Media types and transport identifiers. */
export const MediaType = {
  EnvelopeProto: "application/macp-envelope+proto",
  EnvelopeJson: "application/macp-envelope+json",
  ManifestJson: "application/macp-manifest+json",
} as const;

/** Normative gRPC transport id. */
export const GRPC_TRANSPORT_ID = "macp.transport.grpc.v1";

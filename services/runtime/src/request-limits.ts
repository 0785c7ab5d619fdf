import { identifierLengthError } from "@macp/protocol";
import type {
  GetManifestRequest,
  GetPolicyRequest,
  IdentifierKind,
  ListPoliciesRequest,
  MacpError,
  ModeDescriptor,
  PolicyDescriptor,
  PromoteModeRequest,
  RegisterExtModeRequest,
  RegisterPolicyRequest,
  UnregisterExtModeRequest,
  UnregisterPolicyRequest,
} from "@macp/protocol";

type Check = readonly [kind: IdentifierKind, field: string, value: string];

/** The first identifier over its limit, as the error its surface uses. */
function firstOverLimit(checks: readonly Check[]): MacpError | undefined {
  for (const [kind, field, value] of checks) {
    const error = identifierLengthError(kind, field, value, kind === "sessionId" ? "InvalidSessionId" : "InvalidRequest");
    if (error) return error;
  }
  return undefined;
}

const sessionScoped = (request: { sessionId: string }): Check[] => [["sessionId", "session_id", request.sessionId]];

const modeDescriptor = (descriptor: ModeDescriptor | undefined): Check[] =>
  descriptor
    ? [
        ["mode", "mode_descriptor.mode", descriptor.mode],
        ["version", "mode_descriptor.mode_version", descriptor.modeVersion],
        ...descriptor.messageTypes.map((type): Check => ["messageType", "mode_descriptor.message_types", type]),
        ...descriptor.terminalMessageTypes.map((type): Check => ["messageType", "mode_descriptor.terminal_message_types", type]),
      ]
    : [];

const policyDescriptor = (descriptor: PolicyDescriptor | undefined): Check[] =>
  descriptor
    ? [
        ["policyId", "policy_descriptor.policy_id", descriptor.policyId],
        ["mode", "policy_descriptor.mode", descriptor.mode],
      ]
    : [];

/**
 * The client-chosen identifiers of each single-request RPC, checked against their limits before
 * the handler runs (like Send's shape check, before authentication). Envelopes are checked by the
 * Send pipeline's shape check, StreamSession frames by the stream.
 */
// Each entry is typed by its request message; the lookup below is by method name.
const IDENTIFIERS: Readonly<Record<string, (request: never) => Check[]>> = {
  getSession: sessionScoped,
  cancelSession: sessionScoped,
  suspendSession: sessionScoped,
  resumeSession: sessionScoped,
  getManifest: (request: GetManifestRequest) => [["agentId", "agent_id", request.agentId]],
  registerExtMode: (request: RegisterExtModeRequest) => modeDescriptor(request.modeDescriptor),
  unregisterExtMode: (request: UnregisterExtModeRequest) => [["mode", "mode", request.mode]],
  promoteMode: (request: PromoteModeRequest) => [
    ["mode", "mode", request.mode],
    ["mode", "promoted_mode_name", request.promotedModeName],
  ],
  registerPolicy: (request: RegisterPolicyRequest) => policyDescriptor(request.policyDescriptor),
  unregisterPolicy: (request: UnregisterPolicyRequest) => [["policyId", "policy_id", request.policyId]],
  getPolicy: (request: GetPolicyRequest) => [["policyId", "policy_id", request.policyId]],
  listPolicies: (request: ListPoliciesRequest) => [["mode", "mode", request.mode]],
};

/** The error for a request of `method` carrying an identifier over its limit, or undefined. */
export function requestLimitError(method: string, request: unknown): MacpError | undefined {
  const identifiers = Object.hasOwn(IDENTIFIERS, method) ? (IDENTIFIERS[method] as (request: unknown) => Check[]) : undefined;
  return identifiers ? firstOverLimit(identifiers(request)) : undefined;
}

/** The error for a subscribe frame whose session id is over its limit, or undefined. */
export function subscribeLimitError(sessionId: string): MacpError | undefined {
  return firstOverLimit([["sessionId", "subscribe_session_id", sessionId]]);
}

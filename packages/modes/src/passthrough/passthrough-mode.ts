import type { MacpError, ModeDescriptor, SessionStartPayload } from "@macp/protocol";
import type { JsonValue } from "@macp/policy";
import { validateCommitment } from "../commitment-rules.js";
import { accepted, rejected, type ModeEnvelope, type ModeHandler, type ModeOutcome, type SessionView } from "../mode-handler.js";
import { isParticipant } from "../participants.js";
import { bytesJson } from "../state/state-json.js";
import { forbidden, invalidPayload, runStep } from "../step-errors.js";

const utf8 = new TextEncoder();

/** §11: Commitment is initiator-only (policy ignored); other types need a participant unless none were declared. */
function authorize(session: SessionView, envelope: ModeEnvelope): MacpError | undefined {
  if (envelope.messageType === "Commitment") {
    return envelope.sender === session.initiator ? undefined : forbidden("only the initiator may commit this session");
  }
  if (session.participants.length === 0 || isParticipant(session, envelope.sender)) return undefined;
  return forbidden(`${envelope.sender} is not a declared participant`);
}

/** `{"action":…,"commitment_id":…}`, keys in that order. */
function resolution(action: string, commitmentId: string): Uint8Array {
  return utf8.encode(`{"action":${JSON.stringify(action)},"commitment_id":${JSON.stringify(commitmentId)}}`);
}

/**
 * The handler of a dynamically registered extension mode (modes-and-policy.md §11). It knows
 * nothing of the mode's semantics: it admits the descriptor's message types, keeps the last
 * accepted payload as mode state (stored as a byte array; `null` before the first message), and
 * lets the initiator resolve the session with a Commitment. Policy is never consulted and
 * `terminal_message_types` is not used: only a Commitment resolves.
 */
export function createPassthroughMode(descriptor: ModeDescriptor): ModeHandler {
  // A descriptor that declares only SessionStart leaves no filter, so every type is admitted.
  const allowedTypes = descriptor.messageTypes.filter((type) => type !== "SessionStart");

  function step(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
    if (allowedTypes.length > 0 && !allowedTypes.includes(envelope.messageType)) {
      throw invalidPayload(`message type '${envelope.messageType}' is not declared by mode '${descriptor.mode}'`);
    }
    if (envelope.messageType !== "Commitment") return accepted(bytesJson(envelope.payload));
    const commitment = validateCommitment(session, envelope.payload);
    return accepted(state, resolution(commitment.action, commitment.commitmentId));
  }

  return {
    start(_session: SessionView, _payload: SessionStartPayload): ModeOutcome {
      return accepted(null);
    },

    apply(session: SessionView, state: JsonValue, envelope: ModeEnvelope): ModeOutcome {
      const denied = authorize(session, envelope);
      if (denied !== undefined) return rejected(denied);
      return runStep(() => step(session, state, envelope));
    },
  };
}

import { CoreMessageType, MacpError, PROTOCOL_VERSION, identifierLengthError, isBlank } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";

/**
 * Envelope shape validation (protocol.md §1.1 step 2). Runs before authentication, so it judges
 * only the envelope's own fields, then the identifier length limits (`IDENTIFIER_LIMITS`: an
 * over-long session id is `INVALID_SESSION_ID`, any other identifier `INVALID_ENVELOPE`). Returns
 * the first failure, or undefined.
 */
export function checkEnvelopeShape(envelope: Envelope, maxPayloadBytes: number): MacpError | undefined {
  if (envelope.macpVersion !== PROTOCOL_VERSION) {
    return new MacpError("InvalidMacpVersion", `macp_version must be "${PROTOCOL_VERSION}"`);
  }
  if (envelope.messageType === "" || envelope.messageId === "") {
    return new MacpError("InvalidEnvelope", "message_type and message_id must not be empty");
  }
  const modeBlank = isBlank(envelope.mode);
  if (envelope.messageType === CoreMessageType.Signal) {
    if (envelope.sessionId !== "") return new MacpError("InvalidEnvelope", "Signal must not carry a session_id");
    if (!modeBlank) return new MacpError("InvalidEnvelope", "Signal must not carry a mode");
  } else if (envelope.messageType === CoreMessageType.Progress) {
    if (envelope.sessionId === "" && !modeBlank) {
      return new MacpError("InvalidEnvelope", "ambient Progress must not carry a mode");
    }
  } else {
    if (envelope.sessionId === "") return new MacpError("InvalidEnvelope", "session_id must not be empty");
    if (modeBlank) return new MacpError("InvalidEnvelope", "mode must not be empty");
  }
  const tooLong = identifierLengthError("sessionId", "session_id", envelope.sessionId, "InvalidSessionId") ??
    identifierLengthError("messageId", "message_id", envelope.messageId, "InvalidEnvelope") ??
    identifierLengthError("messageType", "message_type", envelope.messageType, "InvalidEnvelope") ??
    identifierLengthError("mode", "mode", envelope.mode, "InvalidEnvelope") ??
    identifierLengthError("agentId", "sender", envelope.sender, "InvalidEnvelope");
  if (tooLong) return tooLong;
  if (envelope.payload.length > maxPayloadBytes) {
    return new MacpError("PayloadTooLarge", `payload exceeds ${maxPayloadBytes} bytes`);
  }
  return undefined;
}

/** True for the ambient-plane message types that never enter session history. */
export function isAmbientType(messageType: string): boolean {
  return messageType === CoreMessageType.Signal || messageType === CoreMessageType.Progress;
}

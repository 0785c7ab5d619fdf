import { MacpError } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { checkEnvelopeShape } from "@macp/core";
import type { Kernel, KernelOutcome } from "@macp/core";
import { authorizeMode } from "./auth/index.js";
import type { Identity } from "./auth/index.js";
import type { RateLimiter } from "./rate-limiter.js";

/** Where an envelope was refused before reaching the kernel. */
export type AdmissionStage = "shape" | "sender" | "mode" | "rate";

/** An envelope the edge refused, with the stage that refused it. */
export interface Refusal {
  readonly stage: AdmissionStage;
  readonly error: MacpError;
}

/**
 * The Send pipeline shared by `Send` and `StreamSession` envelope frames (protocol.md §1.1):
 * shape, sender binding, mode authorization, rate limit, then the kernel.
 */
export class EnvelopePipeline {
  constructor(
    private readonly kernel: Kernel,
    private readonly rateLimiter: RateLimiter,
    private readonly maxPayloadBytes: number,
  ) {}

  /** Step 2: envelope shape, judged before authentication. */
  checkShape(envelope: Envelope): Refusal | undefined {
    const error = checkEnvelopeShape(envelope, this.maxPayloadBytes);
    return error ? { stage: "shape", error } : undefined;
  }

  /** Step 4: the authenticated identity is the sender; a different non-empty sender is spoofing. */
  bindSender(envelope: Envelope, identity: Identity): Envelope | Refusal {
    if (envelope.sender !== "" && envelope.sender !== identity.sender) {
      return { stage: "sender", error: new MacpError("Unauthenticated", "sender does not match the authenticated identity") };
    }
    return { ...envelope, sender: identity.sender };
  }

  /** Steps 5–6: capability flags, then the per-sender rate limit (a refused mode spends no slot). */
  admit(envelope: Envelope, identity: Identity): Refusal | undefined {
    const forbidden = authorizeMode(identity, envelope.messageType, envelope.mode);
    if (forbidden) return { stage: "mode", error: forbidden };
    const limited = this.rateLimiter.checkEnvelope(identity.sender, envelope.messageType);
    return limited ? { stage: "rate", error: limited } : undefined;
  }

  /** Step 7: the kernel. */
  dispatch(envelope: Envelope, identity: Identity): Promise<KernelOutcome> {
    return this.kernel.send(envelope, { sender: identity.sender, maxOpenSessions: identity.maxOpenSessions });
  }
}

/** True when a value is a {@link Refusal} rather than an envelope. */
export function isRefusal(value: Envelope | Refusal): value is Refusal {
  return "stage" in value;
}

import type { ServiceDefinition } from "@grpc/grpc-js";
import type { Envelope } from "@macp/protocol";
import { MACPRuntimeServiceService } from "@macp/protocol/grpc";

/** A response message already in its wire form: written as is, however many streams carry it. */
export class EncodedResponse {
  constructor(readonly bytes: Buffer) {}
}

/**
 * A copy of a service definition whose response serializers pass {@link EncodedResponse}s through
 * unchanged, so a message encoded once can be written to many streams.
 */
export function acceptsEncodedResponses<T extends ServiceDefinition>(definition: T): T {
  const accepting: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    accepting[name] = {
      ...method,
      responseSerialize: (value: unknown): Buffer =>
        value instanceof EncodedResponse ? value.bytes : method.responseSerialize(value),
    };
  }
  return accepting as T;
}

const serializeStreamResponse = MACPRuntimeServiceService.streamSession.responseSerialize;
/** Envelope frames by the accepted envelope the kernel published (one object for all subscribers). */
const envelopeFrames = new WeakMap<Envelope, EncodedResponse>();

/** The StreamSession response carrying `envelope`, encoded on first use and shared after. */
export function envelopeFrame(envelope: Envelope): EncodedResponse {
  let frame = envelopeFrames.get(envelope);
  if (frame === undefined) {
    frame = new EncodedResponse(serializeStreamResponse({ response: { $case: "envelope", value: envelope } }));
    envelopeFrames.set(envelope, frame);
  }
  return frame;
}

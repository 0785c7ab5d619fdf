import type { ClientDuplexStream } from "@grpc/grpc-js";
import type { Envelope, StreamSessionRequest, StreamSessionResponse } from "@macp/protocol";
import { responseStream, type ResponseStream } from "./response-stream.js";

/**
 * A `StreamSession` call. Frames go out with {@link SessionStream.send} and
 * {@link SessionStream.subscribe}; responses (accepted envelopes and inline errors) come back by
 * iterating the handle. The first frame binds the stream to one session.
 */
export interface SessionStream extends ResponseStream<StreamSessionResponse> {
  /** Sends an envelope frame. */
  send(envelope: Envelope): void;
  /** Sends a passive-subscribe frame: replay from `afterSequence`, then live envelopes. */
  subscribe(sessionId: string, afterSequence?: number | bigint): void;
  /** Half-closes: no more frames from this side; responses continue until the server ends. */
  end(): void;
}

/** Wraps a grpc-js duplex call. */
export function sessionStream(
  call: ClientDuplexStream<StreamSessionRequest, StreamSessionResponse>,
  signal?: AbortSignal,
): SessionStream {
  const responses = responseStream(call, signal);
  let open = true;

  const write = (frame: StreamSessionRequest): void => {
    if (!open) throw new Error("the session stream is closed for sending");
    call.write(frame);
  };

  return {
    send: (envelope) => write({ envelope, subscribeSessionId: "", afterSequence: 0n }),
    subscribe: (sessionId, afterSequence = 0) =>
      write({ envelope: undefined, subscribeSessionId: sessionId, afterSequence: BigInt(afterSequence) }),
    end() {
      if (!open) return;
      open = false;
      call.end();
    },
    cancel() {
      open = false;
      responses.cancel();
    },
    [Symbol.asyncIterator]: () => {
      const iterator = responses[Symbol.asyncIterator]();
      return {
        next: () => iterator.next(),
        return: () => {
          open = false;
          return iterator.return?.() ?? Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}

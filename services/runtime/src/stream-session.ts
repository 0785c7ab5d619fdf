import type { ServerDuplexStream } from "@grpc/grpc-js";
import { CoreMessageType, GrpcStatus, MacpError, grpcStatusOf, isBlank } from "@macp/protocol";
import type { GrpcStatusCode } from "@macp/protocol";
import type { Envelope, StreamSessionRequest, StreamSessionResponse } from "@macp/protocol";
import { FeedLagError } from "@macp/core";
import { canReadSession, metadataReader } from "./auth/index.js";
import type { Identity } from "./auth/index.js";
import { isRefusal } from "./envelope-pipeline.js";
import { undecodableError, undecodableReason } from "./request-decoding.js";
import { envelopeFrame } from "./encoded-responses.js";
import { envelopeLabels } from "./metrics.js";
import { SessionDelivery } from "./session-delivery.js";
import { asMacpError, inlineError, statusOf } from "./error-edge.js";
import { subscribeLimitError } from "./request-limits.js";
import type { RuntimeContext } from "./runtime-context.js";

type Call = ServerDuplexStream<StreamSessionRequest, StreamSessionResponse>;

/** gRPC statuses that end a StreamSession; any other error is reported inline (protocol.md §4.3). */
const TERMINAL_STATUSES = new Set<GrpcStatusCode>([
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.INTERNAL,
  GrpcStatus.RESOURCE_EXHAUSTED,
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.NOT_FOUND,
  GrpcStatus.ALREADY_EXISTS,
]);

const ONE_SESSION = "StreamSession may only carry envelopes for one session_id";

/** The status of a failed authentication or a spoofed sender: exactly `Unauthenticated`. */
function unauthenticated(cause: unknown): MacpError {
  return new MacpError("Unauthenticated", undefined, undefined, { cause });
}

/** An error that ends the stream with its status. */
class TerminalError extends Error {
  constructor(readonly error: MacpError) {
    super(error.message, { cause: error });
  }
}

/** A stream-rule violation: terminal INVALID_ARGUMENT (protocol.md §4.3). */
function invalidFrame(message: string): TerminalError {
  return new TerminalError(new MacpError("InvalidRequest", message));
}

/**
 * One StreamSession call: a bidirectional stream bound to a single session. Envelope frames go
 * through the Send pipeline; accepted envelopes of the bound session (including the caller's own)
 * are echoed in acceptance order; passive subscribers get history after `after_sequence` first.
 * Inline error frames carry the registry code and a readable message (project decision 7).
 */
export function handleStreamSession(ctx: RuntimeContext, call: Call): void {
  let identity: Identity | undefined;
  let bound: string | undefined;
  let feed: SessionDelivery | undefined;
  let finished = false;
  let queue: Promise<void> = Promise.resolve();
  /** Highest sequence the current feed has written to the client. */
  let delivered = 0;
  /** Set once the client half-closed: the sequence to flush up to before ending with OK. */
  let drainTo: number | undefined;

  const finish = (error?: MacpError): void => {
    if (finished) return;
    finished = true;
    ctx.openStreams.delete(shutdown);
    feed?.close();
    if (error) call.emit("error", statusOf(error));
    else call.end();
  };
  const shutdown = (): void => finish();
  ctx.openStreams.add(shutdown);
  call.on("cancelled", () => {
    finished = true;
    ctx.openStreams.delete(shutdown);
    feed?.close();
  });

  const inline = (error: MacpError): void => {
    if (finished) return;
    call.write({ response: { $case: "error", value: inlineError(error, bound ?? "") } });
  };

  /** Errors of the kernel or pipeline: terminal or inline by their gRPC status. */
  const report = (error: MacpError): void => {
    if (TERMINAL_STATUSES.has(grpcStatusOf(error))) throw new TerminalError(error);
    inline(error);
  };

  /**
   * Whether this caller may see the bound session's envelopes. An envelope frame binds the stream
   * whatever the verdict, so without this a stranger could send one refused envelope (or one for
   * a session id before it exists) and then read everything the session carries. Readers are those
   * GetSession admits, plus anyone in a session without declared participants and anyone who has
   * had an envelope accepted there (modes may let undeclared senders speak). Once true, it stays.
   */
  let readable = false;
  /** Last sequence of a passively subscribed session when subscribed (finished sessions may leave memory). */
  let subscribedLastSeq: number | undefined;
  const mayRead = (sessionId: string): boolean => {
    if (readable || !identity) return readable;
    const info = ctx.kernel.peekSession(sessionId);
    readable =
      info !== undefined &&
      (canReadSession(identity, info.record) || info.record.participants.length === 0 || info.activity.has(identity.sender));
    return readable;
  };

  const follow = (sessionId: string, afterSeq: number): void => {
    feed?.close();
    bound = sessionId;
    delivered = afterSeq;
    // Each accepted envelope is encoded once for every subscriber (envelopeFrame) and written
    // without a promise per message; SessionDelivery queues while the client's buffer is full.
    feed = new SessionDelivery(ctx.kernel, sessionId, afterSeq, ctx.streamBufferLimit, {
      write: (event) => {
        if (finished) return false;
        const writable = mayRead(sessionId) ? call.write(envelopeFrame(event.envelope) as unknown as StreamSessionResponse) : true;
        delivered = event.seq;
        if (drainTo !== undefined && delivered >= drainTo) finish();
        return writable;
      },
      onDrain: (resume) => {
        call.once("drain", resume);
        return () => call.removeListener("drain", resume);
      },
      fail: (error) => {
        if (error instanceof FeedLagError) {
          ctx.metrics.streamLagDrops.inc({ stream: "session" });
          finish(new MacpError("StreamLagged", error.message, undefined, { cause: error }));
        } else {
          ctx.logger.error({ err: error, session_id: sessionId }, "StreamSession history or delivery failed");
          finish(asMacpError(error));
        }
      },
    });
  };

  const subscribe = async (frame: StreamSessionRequest): Promise<void> => {
    const sessionId = frame.subscribeSessionId;
    if (frame.envelope) {
      throw invalidFrame("StreamSessionRequest must not contain both envelope and subscribe_session_id");
    }
    if (bound !== undefined && bound !== sessionId) throw invalidFrame(ONE_SESSION);
    const tooLong = subscribeLimitError(sessionId);
    if (tooLong) throw new TerminalError(tooLong);
    const info = await ctx.kernel.getSession(sessionId);
    if (!info) throw new TerminalError(new MacpError("SessionNotFound", `Session '${sessionId}' not found`));
    if (!identity || !canReadSession(identity, info.record)) {
      inline(new MacpError("Forbidden", "caller is not a declared participant or observer for this session"));
      return;
    }
    readable = true;
    subscribedLastSeq = info.record.lastSeq;
    // An after_sequence beyond the history replays nothing but must not hide live envelopes
    // (the reference streams every live envelope whatever after_sequence said).
    follow(sessionId, frame.afterSequence < BigInt(info.record.lastSeq) ? Number(frame.afterSequence) : info.record.lastSeq);
  };

  const send = async (envelope: Envelope): Promise<void> => {
    if (!identity) return;
    const refused = ctx.pipeline.checkShape(envelope);
    if (refused) {
      report(refused.error);
      return;
    }
    // Envelopes that pass the Send shape check without a session (ambient Signals/Progress, blank ids) cannot ride a stream.
    if (isBlank(envelope.sessionId)) {
      throw invalidFrame("StreamSession requires a non-empty session_id");
    }
    if (isBlank(envelope.mode)) throw invalidFrame("StreamSession requires a non-empty mode");
    if (bound !== undefined && bound !== envelope.sessionId) throw invalidFrame(ONE_SESSION);
    const withSender = ctx.pipeline.bindSender(envelope, identity);
    if (isRefusal(withSender)) throw new TerminalError(unauthenticated(withSender.error));
    if (envelope.messageType !== CoreMessageType.SessionStart) {
      const info = await ctx.kernel.getSession(envelope.sessionId);
      if (info && info.record.mode !== envelope.mode) {
        throw invalidFrame("INVALID_ENVELOPE: envelope mode does not match the bound session mode");
      }
      // Terminal as in the reference, but with the status of SESSION_NOT_OPEN in the error table
      // (FAILED_PRECONDITION) where the reference answers INVALID_ARGUMENT.
      if (info && info.record.status !== "Open") throw new TerminalError(new MacpError("SessionNotOpen", "SESSION_NOT_OPEN"));
    }
    const denied = ctx.pipeline.admit(withSender, identity);
    if (denied) {
      if (denied.stage === "rate") throw new TerminalError(denied.error);
      inline(denied.error);
      return;
    }
    if (!feed) {
      const current = ctx.kernel.peekSession(envelope.sessionId);
      follow(envelope.sessionId, current ? current.record.lastSeq : 0);
    }
    const outcome = await ctx.pipeline.dispatch(withSender, identity);
    const labels = envelopeLabels(ctx.modes, envelope);
    if (outcome.ok) {
      if (!outcome.duplicate) ctx.metrics.accepted.inc(labels);
      return;
    }
    if (outcome.error) {
      ctx.metrics.rejected.inc({ mode: labels.mode, code: outcome.error.code });
      report(outcome.error);
    }
  };

  const process = async (frame: StreamSessionRequest): Promise<void> => {
    if (finished) return;
    try {
      if (frame.subscribeSessionId !== "") await subscribe(frame);
      else if (frame.envelope) await send(frame.envelope);
      else {
        throw invalidFrame("StreamSessionRequest must contain an envelope or subscribe_session_id");
      }
    } catch (error) {
      if (error instanceof TerminalError) finish(error.error);
      else {
        ctx.logger.error({ err: error, session_id: bound }, "StreamSession frame failed");
        finish(asMacpError(error));
      }
    }
  };

  const opened = ctx.authenticator.authenticate(metadataReader(call.metadata)).then(
    (resolved) => {
      identity = resolved;
    },
    (error: unknown) => finish(unauthenticated(error)),
  );
  queue = opened;

  call.on("data", (frame: StreamSessionRequest) => {
    const reason = undecodableReason(frame);
    if (reason !== undefined) {
      queue = queue.then(() => finish(undecodableError(reason)));
      return;
    }
    queue = queue.then(() => process(frame));
  });
  // Half-close (§4.3): flush what was accepted up to now, then end with OK. Ending at once would
  // cut off a history replay or an echo still on its way through the feed.
  const halfClose = (): void => {
    if (finished) return;
    const target = bound === undefined ? undefined : (ctx.kernel.peekSession(bound)?.record.lastSeq ?? subscribedLastSeq);
    if (!feed || target === undefined || delivered >= target) finish();
    else drainTo = target;
  };
  call.on("end", () => {
    queue = queue.then(halfClose);
  });
}

import { trace } from "@opentelemetry/api";
import type { Metadata, ServerUnaryCall, ServerWritableStream, sendUnaryData } from "@grpc/grpc-js";
import {
  MacpError,
  MediaType,
  PROTOCOL_VERSION,
} from "@macp/protocol";
import type {
  AgentManifest,
  InitializeResponse,
  PolicyDescriptor,
  WatchModeRegistryResponse,
  WatchPoliciesResponse,
  WatchRootsResponse,
  WatchSessionsResponse,
  WatchSignalsResponse,
} from "@macp/protocol";
import type { MACPRuntimeServiceServer } from "@macp/protocol/grpc";
import type { LifecycleEvent } from "@macp/core";
import { policyToDescriptor } from "@macp/policy";
import { authorizeRegistryManagement, canReadSession, metadataReader } from "./auth/index.js";
import type { Identity } from "./auth/index.js";
import { isRefusal } from "./envelope-pipeline.js";
import { envelopeLabels } from "./metrics.js";
import { asMacpError, registryOutcome, toStatusError } from "./error-edge.js";
import type { RuntimeContext } from "./runtime-context.js";
import { inSpan } from "./tracing.js";
import { StreamWriter } from "./stream-writer.js";
import { handleStreamSession } from "./stream-session.js";
import { ackOf, lifecycleEvent, rejectionAck, sessionMetadata } from "./wire-mapping.js";

/** Runtime identity reported by Initialize and GetManifest (agent id kept for SDK compatibility). */
export const RUNTIME_AGENT_ID = "macp-runtime";
const RUNTIME_TITLE = "macp-ts Runtime";
const RUNTIME_DESCRIPTION = "macp-ts: a TypeScript implementation of the Multi-Agent Coordination Protocol";
const RUNTIME_VERSION = "0.1.0";

/** NOT_FOUND of the session lookups (protocol.md §3.3), distinct from the kernel's UnknownSession. */
function sessionNotFound(sessionId: string, cause?: unknown): MacpError {
  return new MacpError("SessionNotFound", `Session '${sessionId}' not found`, undefined, { cause });
}

function descriptorRequired(): MacpError {
  return new MacpError("InvalidRequest", "descriptor required");
}

type UnaryHandler<Req, Res> = (request: Req, metadata: Metadata) => Promise<Res>;

/** The implementation of all 24 RPCs of `macp.v1.MACPRuntimeService`. */
export function createRuntimeService(ctx: RuntimeContext): MACPRuntimeServiceServer {
  /** A failure that is no MacpError is a bug: logged with its stack, answered as a bare INTERNAL. */
  const internal = (error: unknown, what: string): MacpError => {
    if (!(error instanceof MacpError)) ctx.logger.error({ err: error }, `${what} failed`);
    return asMacpError(error);
  };

  /** Wraps an async handler: every thrown error becomes exactly one gRPC status. */
  const unary =
    <Req, Res>(handler: UnaryHandler<Req, Res>) =>
    (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      handler(call.request, call.metadata).then(
        (response) => callback(null, response),
        (error: unknown) => callback(toStatusError(internal(error, call.getPath()))),
      );
    };

  const authenticate = async (metadata: Metadata): Promise<Identity> => {
    try {
      return await ctx.authenticator.authenticate(metadataReader(metadata));
    } catch (error) {
      if (error instanceof MacpError) throw new MacpError("Unauthenticated", undefined, undefined, { cause: error });
      throw error;
    }
  };
  const authenticateManager = async (metadata: Metadata): Promise<Identity> => {
    const identity = await authenticate(metadata);
    const forbidden = authorizeRegistryManagement(identity);
    if (forbidden) throw forbidden;
    return identity;
  };
  const sessionOr404 = async (sessionId: string) => {
    const info = await ctx.kernel.getSession(sessionId);
    if (!info) throw sessionNotFound(sessionId);
    return info;
  };
  const supportedModes = (): string[] => ctx.modes.allModeNames();

  const control =
    (verb: "cancel" | "suspend" | "resume") =>
    async (request: { sessionId: string; reason: string }, metadata: Metadata) => {
      const identity = await authenticate(metadata);
      try {
        const outcome = await ctx.kernel[verb](request.sessionId, identity.sender, request.reason);
        ctx.logger.info({ session_id: request.sessionId, caller: identity.sender, ok: outcome.ok }, `session ${verb}`);
        return { ack: ackOf(outcome, request.sessionId, "") };
      } catch (error) {
        if (error instanceof MacpError && error.code === "SESSION_NOT_FOUND") throw sessionNotFound(request.sessionId, error);
        throw error;
      }
    };

  const watch = <T>(call: ServerWritableStream<unknown, T>): StreamWriter<T> => {
    const writer = new StreamWriter<T>(call, ctx.watchBufferLimit, () => ctx.metrics.streamLagDrops.inc({ stream: "watch" }));
    const end = (): void => writer.end();
    ctx.openStreams.add(end);
    writer.onClose(() => ctx.openStreams.delete(end));
    return writer;
  };

  return {
    initialize: unary(async (request) => {
      if (request.supportedProtocolVersions.length === 0) {
        throw new MacpError("InvalidRequest", "INVALID_REQUEST: supported_protocol_versions must not be empty");
      }
      if (!request.supportedProtocolVersions.includes(PROTOCOL_VERSION)) {
        throw new MacpError("InvalidMacpVersion", "UNSUPPORTED_PROTOCOL_VERSION: no mutually supported protocol version");
      }
      const response: InitializeResponse = {
        selectedProtocolVersion: PROTOCOL_VERSION,
        runtimeInfo: {
          name: RUNTIME_AGENT_ID,
          title: RUNTIME_TITLE,
          version: RUNTIME_VERSION,
          description: RUNTIME_DESCRIPTION,
          websiteUrl: "",
        },
        capabilities: {
          sessions: { stream: true, listSessions: true, watchSessions: true },
          cancellation: { cancelSession: true },
          progress: { progress: true },
          manifest: { getManifest: true },
          modeRegistry: { listModes: true, listChanged: true },
          roots: { listRoots: true, listChanged: true },
          policyRegistry: { registerPolicy: true, listPolicies: true, listChanged: true },
          experimental: {
            features: {
              ext_mode_lifecycle: "true",
              session_suspend_resume: "true",
              durable_registries: "true",
            },
          },
        },
        supportedModes: supportedModes(),
        instructions:
          "Authenticate requests with Authorization: Bearer <token>. Use Send or StreamSession for session messaging; " +
          "subscribe to a session with StreamSession subscribe_session_id and after_sequence.",
      };
      return response;
    }),

    send: (call, callback) => {
      const started = process.hrtime.bigint();
      const envelope = call.request.envelope;
      if (!envelope) {
        callback(toStatusError(new MacpError("InvalidRequest", "SendRequest must contain an envelope")));
        return;
      }
      const span = trace.getActiveSpan();
      span?.setAttributes({
        "macp.session_id": envelope.sessionId,
        "macp.message_id": envelope.messageId,
        "macp.mode": envelope.mode,
        "macp.message_type": envelope.messageType,
      });
      const finish = (ack: ReturnType<typeof ackOf>): void => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        ctx.metrics.sendLatency.observe({ outcome: ack.ok ? "ok" : "error" }, seconds);
        const labels = envelopeLabels(ctx.modes, envelope);
        if (ack.ok) {
          if (!ack.duplicate) ctx.metrics.accepted.inc(labels);
          ctx.logger.debug(
            {
              session_id: envelope.sessionId,
              message_id: envelope.messageId,
              message_type: envelope.messageType,
              duplicate: ack.duplicate,
            },
            "envelope accepted",
          );
        } else {
          span?.setAttribute("macp.error_code", ack.error?.code ?? "");
          ctx.metrics.rejected.inc({ mode: labels.mode, code: ack.error?.code ?? "" });
          ctx.logger.debug(
            { session_id: envelope.sessionId, message_id: envelope.messageId, code: ack.error?.code },
            "envelope rejected",
          );
        }
        callback(null, { ack });
      };
      const refused = ctx.pipeline.checkShape(envelope);
      if (refused) {
        finish(rejectionAck(refused.error, envelope, ctx.clock.now()));
        return;
      }
      inSpan("macp.authenticate", () => ctx.authenticator.authenticate(metadataReader(call.metadata)))
        .then(async (identity) => {
          const bound = ctx.pipeline.bindSender(envelope, identity);
          if (isRefusal(bound)) return rejectionAck(bound.error, envelope, ctx.clock.now());
          const denied = ctx.pipeline.admit(bound, identity);
          if (denied) return rejectionAck(denied.error, envelope, ctx.clock.now());
          const outcome = await inSpan("macp.kernel.decide", () => ctx.pipeline.dispatch(bound, identity));
          return ackOf(outcome, envelope.sessionId, envelope.messageId);
        })
        .then(finish, (error: unknown) => finish(rejectionAck(internal(error, "Send"), envelope, ctx.clock.now())));
    },

    streamSession: (call) => handleStreamSession(ctx, call),

    getSession: unary(async (request, metadata) => {
      const identity = await authenticate(metadata);
      const info = await sessionOr404(request.sessionId);
      if (!canReadSession(identity, info.record)) {
        throw new MacpError("Forbidden", "FORBIDDEN: session access denied");
      }
      return { metadata: sessionMetadata(info) };
    }),

    cancelSession: unary(control("cancel")),
    suspendSession: unary(control("suspend")),
    resumeSession: unary(control("resume")),

    getManifest: unary(async (request) => {
      if (request.agentId !== "" && request.agentId !== RUNTIME_AGENT_ID) {
        throw new MacpError("AgentNotFound", `Agent '${request.agentId}' not found`);
      }
      const manifest: AgentManifest = {
        agentId: RUNTIME_AGENT_ID,
        title: RUNTIME_TITLE,
        description: RUNTIME_DESCRIPTION,
        supportedModes: supportedModes(),
        inputContentTypes: [MediaType.EnvelopeProto],
        outputContentTypes: [MediaType.EnvelopeProto],
        metadata: {},
        transportEndpoints: [],
      };
      return { manifest };
    }),

    listModes: unary(async () => ({ modes: ctx.modes.listStandard() })),
    listExtModes: unary(async () => ({ modes: ctx.modes.listExtensions() })),
    listRoots: unary(async () => ({ roots: [] })),

    watchModeRegistry: (call) => {
      const writer = watch<WatchModeRegistryResponse>(call);
      const changed = (): void =>
        writer.write({ change: { registry: "modes", observedAtUnixMs: BigInt(ctx.clock.now()) } });
      writer.onClose(ctx.modes.subscribe(changed));
      changed();
    },

    watchRoots: (call) => {
      const writer = watch<WatchRootsResponse>(call);
      writer.write({ change: { observedAtUnixMs: BigInt(ctx.clock.now()) } });
    },

    registerExtMode: unary(async (request, metadata) => {
      await authenticateManager(metadata);
      if (!request.modeDescriptor) throw descriptorRequired();
      return registryOutcome(await ctx.kernel.registerMode(request.modeDescriptor));
    }),

    unregisterExtMode: unary(async (request, metadata) => {
      await authenticateManager(metadata);
      return registryOutcome(await ctx.kernel.unregisterMode(request.mode));
    }),

    promoteMode: unary(async (request, metadata) => {
      await authenticateManager(metadata);
      return registryOutcome(await ctx.kernel.promoteMode(request.mode, request.promotedModeName === "" ? undefined : request.promotedModeName));
    }),

    watchSignals: (call) => {
      const writer = watch<WatchSignalsResponse>(call);
      writer.onClose(ctx.kernel.subscribeSignals((envelope) => writer.write({ envelope })));
    },

    listSessions: unary(async (_request, metadata) => {
      await authenticate(metadata);
      return { sessions: ctx.kernel.listSessions().map(sessionMetadata) };
    }),

    watchSessions: (call) => {
      authenticate(call.metadata).then(
        async () => {
          const writer = watch<WatchSessionsResponse>(call);
          const live = (event: LifecycleEvent): void =>
            writer.write({
              event: lifecycleEvent(event.type, ctx.kernel.peekSession(event.sessionId), event.observedAtUnixMs),
            });
          // Subscribe before listing, so no transition is missed; transitions during the initial
          // sync wait until it is written, so they never overtake a session's initial CREATED.
          let held: LifecycleEvent[] | undefined = [];
          writer.onClose(
            ctx.kernel.subscribeLifecycle((event) => {
              if (held === undefined) live(event);
              else if (held.length < ctx.watchBufferLimit) held.push(event);
              else writer.end();
            }),
          );
          // One message per session: paced by the client, not cut off as lag however many there are.
          await writer.writeBacklog(
            ctx.kernel.listSessions().map((info) => ({ event: lifecycleEvent("CREATED", info, info.record.startedAtUnixMs) })),
          );
          const pending = held;
          held = undefined;
          for (const event of pending) live(event);
        },
        (error: unknown) => call.emit("error", toStatusError(internal(error, "WatchSessions"))),
      );
    },

    registerPolicy: unary(async (request, metadata) => {
      await authenticateManager(metadata);
      if (!request.policyDescriptor) throw descriptorRequired();
      return registryOutcome(await ctx.kernel.registerPolicy(request.policyDescriptor));
    }),

    unregisterPolicy: unary(async (request, metadata) => {
      await authenticateManager(metadata);
      return registryOutcome(await ctx.kernel.unregisterPolicy(request.policyId));
    }),

    getPolicy: unary(async (request, metadata) => {
      await authenticate(metadata);
      const policy = ctx.policies.get(request.policyId);
      if (!policy) throw new MacpError("PolicyNotFound", `Policy '${request.policyId}' not found`);
      return { policyDescriptor: policyToDescriptor(policy) };
    }),

    listPolicies: unary(async (request, metadata) => {
      await authenticate(metadata);
      const descriptors: PolicyDescriptor[] = ctx.policies
        .list(request.mode === "" ? undefined : request.mode)
        .map(policyToDescriptor);
      return { descriptors };
    }),

    watchPolicies: (call) => {
      const writer = watch<WatchPoliciesResponse>(call);
      const snapshot = (): void =>
        writer.write({
          descriptors: ctx.policies.list().map(policyToDescriptor),
          observedAtUnixMs: BigInt(ctx.clock.now()),
        });
      writer.onClose(ctx.policies.subscribe(snapshot));
      snapshot();
    },
  };
}

import { createMacpClient, MacpClientError } from "@macp/client";
import type { CallOptions, ClientAuth, MacpClient, SessionStream } from "@macp/client";
import { SpanKind } from "@opentelemetry/api";
import type { RuntimeConfig } from "../config/config.js";
import { HttpError } from "../http/errors.js";
import { CircuitBreaker, isTransportFailure } from "./circuit-breaker.js";
import { inSpan } from "../observability/tracing.js";
import { traceContextInterceptor } from "../observability/tracing-grpc.js";
import type { ControlPlaneMetrics } from "../observability/metrics.js";

/** The runtime as the control plane uses it: one channel, the right credential per call. */
export interface RuntimeGateway {
  readonly client: MacpClient;
  readonly config: RuntimeConfig;
  /** Credential to read `participants`' session with (observer token, or in dev auth a declared participant). */
  readerAuth(participants: readonly string[]): ClientAuth;
  /** Whether {@link readerAuth} has a credential for these participants. */
  canRead(participants: readonly string[]): boolean;
  /** Credential to speak as `sender`, or `undefined` when none is configured (never a spoof). */
  senderAuth(sender: string): ClientAuth | undefined;
  /** The control plane's own credential (discovery, policy registry): the observer token, or in dev auth its own name. */
  ownAuth(): ClientAuth | undefined;
  /** Times a unary call into the metrics; failures stay {@link MacpClientError}s. */
  call<T>(method: string, run: (options: CallOptions) => Promise<T>, auth?: ClientAuth): Promise<T>;
  /** Opens a StreamSession call with `auth`. */
  openStream(auth: ClientAuth): SessionStream;
  /** Opens after repeated transport failures of unary calls (and probes); they then fail fast. */
  readonly breaker: CircuitBreaker;
  /** Reachability for /readyz; cached briefly so probes do not load the runtime. */
  probe(): Promise<RuntimeProbe>;
  close(): void;
}

/** What /readyz reports about the runtime. */
export interface RuntimeProbe {
  readonly ok: boolean;
  readonly runtimeKind: string;
  readonly detail: string;
  readonly manifest?: { agentId: string; supportedModes: string[] };
}

const RUNTIME_SERVICE = "macp.v1.MACPRuntimeService";
const PROBE_TTL_MS = 2_000;
const PROBE_DEADLINE_MS = 2_000;
const MAX_RECONNECT_BACKOFF_MS = 5_000;

/** Connects (lazily) to the configured runtime. */
export function createRuntimeGateway(config: RuntimeConfig, metrics: ControlPlaneMetrics, options: { breakerClock?: () => number } = {}): RuntimeGateway {
  // Every call, unary or streaming, carries the active trace context (traceparent) to the runtime.
  const client = createMacpClient({
    address: config.address,
    tls: config.tls,
    defaultDeadlineMs: config.requestTimeoutMs,
    // The channel retries a lost connection every few seconds at most, so a runtime that is back is
    // reached by the next probe or re-subscription (grpc-js would back off up to 2 minutes).
    channelOptions: { interceptors: [traceContextInterceptor], "grpc.max_reconnect_backoff_ms": Math.min(config.circuitBreaker.probeMs, MAX_RECONNECT_BACKOFF_MS) },
  });
  let cached: { at: number; probe: Promise<RuntimeProbe> } | undefined;
  // The breaker's background probe: any answer, even a refusal, proves the runtime is back.
  const probeRuntime = (): Promise<boolean> => {
    const auth = gateway.ownAuth();
    return client.getManifest({}, { deadlineMs: PROBE_DEADLINE_MS, ...(auth ? { auth } : {}) }).then(
      () => true,
      (error: unknown) => !isTransportFailure(error),
    );
  };
  const breaker = new CircuitBreaker(config.circuitBreaker, metrics.registry, options.breakerClock, probeRuntime);
  const observer = (): ClientAuth | undefined => (config.bearerToken !== undefined ? { bearer: config.bearerToken } : undefined);

  const gateway: RuntimeGateway = {
    client,
    config,
    breaker,
    readerAuth(participants) {
      const token = observer();
      if (token) return token;
      const reader = participants[0];
      if (config.devAuth && reader !== undefined) return { bearer: reader };
      throw new HttpError(400, "NO_RUNTIME_CREDENTIAL", "no runtime credential can read this session: set RUNTIME_BEARER_TOKEN to an observer token");
    },
    canRead(participants) {
      return observer() !== undefined || (config.devAuth && participants.length > 0);
    },
    senderAuth(sender) {
      const token = config.senderTokens.get(sender);
      if (token !== undefined) return { bearer: token };
      return config.devAuth && sender !== "" ? { bearer: sender } : undefined;
    },
    ownAuth() {
      return observer() ?? (config.devAuth ? { bearer: "macp-control-plane" } : undefined);
    },
    call(method, run, auth) {
      const attributes = { "rpc.system": "grpc", "rpc.service": RUNTIME_SERVICE, "rpc.method": method };
      return inSpan(`${RUNTIME_SERVICE}/${method}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
        const started = process.hrtime.bigint();
        let status = "OK";
        try {
          return await breaker.run(() => run(auth ? { auth } : {}));
        } catch (error) {
          status = error instanceof MacpClientError ? String(error.grpcCode) : "ERROR";
          if (error instanceof MacpClientError) span.setAttribute("rpc.grpc.status_code", error.grpcCode);
          throw error;
        } finally {
          metrics.grpcDuration.observe({ method, status }, Number(process.hrtime.bigint() - started) / 1e9);
        }
      });
    },
    openStream(auth) {
      return observeFrames(client.streamSession({ auth }), () => breaker.reached("a session stream frame"));
    },
    probe() {
      const now = Date.now();
      if (cached && now - cached.at < PROBE_TTL_MS) return cached.probe;
      const auth = gateway.ownAuth();
      // Through the breaker: while it is open probes do not reach the runtime, and once its time is
      // up a probe is the trial call, so an idle instance closes it again when the runtime is back.
      const probe = breaker.run(() => client.getManifest({}, { deadlineMs: PROBE_DEADLINE_MS, ...(auth ? { auth } : {}) })).then(
        (response): RuntimeProbe => ({
          ok: true,
          runtimeKind: config.kinds[0] ?? "",
          detail: "reachable",
          manifest: { agentId: response.manifest?.agentId ?? "", supportedModes: response.manifest?.supportedModes ?? [] },
        }),
        (error: unknown): RuntimeProbe => {
          // Any answer from the runtime (even UNAUTHENTICATED) proves it is up; only transport failures do not.
          const reached = error instanceof MacpClientError && error.grpcCode !== 14 && error.grpcCode !== 4;
          return { ok: reached, runtimeKind: config.kinds[0] ?? "", detail: error instanceof Error ? error.message : String(error) };
        },
      );
      cached = { at: now, probe };
      return probe;
    },
    close() {
      breaker.stop();
      client.close();
    },
  };
  return gateway;
}

/** The same stream, calling `onFrame` for every frame received and for a status the runtime ended it with (it answered). */
function observeFrames(stream: SessionStream, onFrame: () => void): SessionStream {
  return {
    send: (envelope) => stream.send(envelope),
    subscribe: (sessionId, afterSequence) => stream.subscribe(sessionId, afterSequence),
    end: () => stream.end(),
    cancel: () => stream.cancel(),
    [Symbol.asyncIterator]() {
      const frames = stream[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const result = await frames.next();
            if (!result.done) onFrame();
            return result;
          } catch (error) {
            // A status from the runtime (NOT_FOUND, PERMISSION_DENIED, …) is an answer too.
            if (error instanceof MacpClientError && !isTransportFailure(error)) onFrame();
            throw error;
          }
        },
        return: (value?: unknown) => frames.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
      };
    },
  };
}

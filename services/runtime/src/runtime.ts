import { createServer as createHttpServer } from "node:http";
import type { Server as HttpServer } from "node:http";
import { readFileSync } from "node:fs";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import type { Logger } from "pino";
import { Kernel } from "@macp/core";
import type { Clock, LifecycleEventType } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { MACPRuntimeServiceService } from "@macp/protocol/grpc";
import { loadStoredSession, recoverSessions } from "@macp/replay";
import { JetStreamStore, createStore, defaultSync, retireFinishedSessions } from "@macp/storage";
import type { SyncFunction } from "@macp/storage";
import { createAuthenticator } from "./auth/index.js";
import type { RuntimeConfig } from "./config.js";
import { acceptsEncodedResponses } from "./encoded-responses.js";
import { EnvelopePipeline } from "./envelope-pipeline.js";
import { FaultStop, type RuntimeFault } from "./fault-stop.js";
import { meteredStore } from "./metered-store.js";
import { RuntimeMetrics, envelopeLabels } from "./metrics.js";
import { OpenStreams } from "./open-streams.js";
import { RateLimiter } from "./rate-limiter.js";
import { createRuntimeService } from "./runtime-service.js";
import { addReflection } from "./reflection.js";
import { guardRequests, tolerantDefinition } from "./request-decoding.js";
import { traceRequests } from "./tracing.js";

const SERVICE_NAME = "macp.v1.MACPRuntimeService";

/** A started runtime. */
export interface RuntimeHandle {
  /** The bound gRPC port (useful with port 0). */
  readonly port: number;
  /** `host:port` clients connect to. */
  readonly address: string;
  /** The bound metrics URL, when metrics are enabled. */
  readonly metricsUrl: string | undefined;
  readonly kernel: Kernel;
  /** Graceful shutdown: stop accepting, let in-flight calls finish, end streams, flush storage. */
  close(): Promise<void>;
  /**
   * Stops serving because of an unrecoverable fault: logs it at `fatal` with its context, marks
   * the health service NOT_SERVING at once, then shuts down as `close()` does. The storage
   * backend triggers it when it loses its writer lock or its log can no longer be trusted;
   * `process-fault-policy.ts` routes uncaught exceptions and unhandled rejections here too.
   * Only the first fault counts; later ones are logged and wait for the same stop.
   */
  fail(error: unknown, context: string): Promise<void>;
  /** Resolves with the first fault once the runtime has stopped because of it (never otherwise). */
  readonly failed: Promise<RuntimeFault>;
}


/** Options beyond the environment configuration (tests inject a clock). */
export interface RuntimeOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Called at once when the runtime starts stopping because of a fault (before it has stopped). */
  readonly onFault?: (fault: RuntimeFault) => void;
}

/** Boots the runtime: storage, registries, crash recovery, the gRPC server and metrics. */
export async function startRuntime(config: RuntimeConfig, options: RuntimeOptions): Promise<RuntimeHandle> {
  const { logger } = options;
  const clock: Clock = options.clock ?? { now: () => Date.now() };
  const authenticator = createAuthenticator(config.auth, {
    clock,
    onRejected: (reason) => logger.debug({ reason }, "credential rejected"),
  });
  await authenticator.ready();
  for (const warning of config.warnings) logger.warn(warning);

  const health = new HealthImplementation({ "": "SERVING", [SERVICE_NAME]: "SERVING" });
  let serving = true;
  const stopServing = (): void => {
    // Once: health watchers see exactly one NOT_SERVING, however the stop began.
    if (!serving) return;
    serving = false;
    health.setStatus("", "NOT_SERVING");
    health.setStatus(SERVICE_NAME, "NOT_SERVING");
  };
  const faults = new FaultStop({ logger, stopServing, ...(options.onFault ? { onFault: options.onFault } : {}) });

  const metrics: RuntimeMetrics = new RuntimeMetrics({
    openSessions: () => kernel.listSessions().filter((s) => s.record.status === "Open").length,
    streamSubscribers: () => kernel.sessionSubscriberCount,
    sessions: () =>
      kernel.listSessions().map(({ record }) => ({
        mode: envelopeLabels(modes, { mode: record.mode, messageType: "" }).mode,
        state: record.status,
      })),
    usage: () => store.usage(),
    expiryLagSeconds: () => {
      const due = kernel.nextDeadlineUnixMs;
      return due === undefined ? 0 : Math.max(0, clock.now() - due) / 1000;
    },
    evictionLagSeconds: () => {
      const queued = kernel.oldestQueuedEvictionUnixMs;
      return queued === undefined ? 0 : Math.max(0, clock.now() - queued - config.sessionRetentionSecs * 1000) / 1000;
    },
  });
  const sync: SyncFunction = async (target) => {
    const stop = metrics.storageSync.startTimer({ kind: target.kind });
    await defaultSync(target);
    stop();
    if (target.appends !== undefined) metrics.groupCommitAppends.observe(target.appends);
  };
  const storage = { logger, onFatal: (error: Error) => void faults.fail(error, "storage") };
  const store = await createStore(
    config.storage.backend === "file"
      ? { backend: "file", dataDir: config.storage.dataDir, strictRecovery: config.strictRecovery, segmentMaxAgeMs: segmentMaxAgeMs(config.historyRetentionSecs), sync, ...storage }
      : config.storage.backend === "postgres"
        ? { backend: "postgres", databaseUrl: config.storage.databaseUrl, databaseSchema: config.storage.databaseSchema, ...storage }
        : config.storage.backend === "jetstream"
          ? { backend: "jetstream", natsUrl: config.storage.natsUrl, jetstreamReplicas: config.storage.replicas, jetstreamPrefix: config.storage.prefix, ...storage }
          : { backend: "memory" },
  );
  // Replicas share the log: every replica follows it, holds every live session, and leaves the
  // expiry sweep to the holder of a lease.
  const shared = store instanceof JetStreamStore ? store : undefined;
  const replicaId = `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const modes = new ModeRegistry();
  const policies = new PolicyRegistry();
  const kernel: Kernel = new Kernel({
    store: meteredStore(store, metrics.storageAppend),
    clock,
    modes,
    policies,
    snapshotEvery: config.checkpointInterval > 0 ? config.checkpointInterval : 64,
    onBackgroundError: (error, sessionId) => logger.warn({ err: error, session_id: sessionId }, "background snapshot failed"),
    retainFinishedMs: config.sessionRetentionSecs * 1000,
    // Sessions evicted from memory stay reachable: they are rebuilt from storage on demand.
    loadSession: (sessionId) => loadStoredSession(store, modes, sessionId),
    eventsFromLog: shared !== undefined,
  });
  // Follows before recovery reads the log, so nothing appended meanwhile is missed.
  const stopFollowing = await shared?.follow(
    (append) => kernel.observe({ ...append, lifecycle: append.lifecycle as LifecycleEventType | undefined }),
    (error) => logger.warn({ err: error }, "following the shared session log failed"),
  );
  const stopWatching = shared?.watchRegistries(() => {
    kernel.restoreRegistries().catch((error: unknown) => logger.warn({ err: error }, "reloading the registries failed"));
  });
  const sweepLeaseMs = Math.max(10_000, config.cleanupIntervalSecs * 3000);
  /** Whether this replica runs the expiry sweep now: always alone, with the lease among replicas. */
  const sweepsExpiry = async (): Promise<boolean> =>
    shared === undefined ? true : shared.leases.hold("sweep", replicaId, sweepLeaseMs).catch(() => false);
  await kernel.restoreRegistries();
  const started = Date.now();
  const report = await recoverSessions(store, modes, { strict: config.strictRecovery });
  kernel.adopt(report.recovered);
  for (const failure of report.failures) {
    logger.error({ session_id: failure.sessionId, error: failure.error }, "session could not be recovered");
  }
  metrics.recoveryDuration.set((Date.now() - started) / 1000);
  const expired = await kernel.sweep({ expire: await sweepsExpiry() });
  const recoveryMs = Date.now() - started;
  logger.info(
    { sessions: report.recovered.length, from_snapshot: report.fromSnapshot, failed: report.failures.length, expired, ms: recoveryMs },
    `recovered ${report.recovered.length} open or suspended session(s) in ${recoveryMs} ms (finished sessions stay on disk and load on demand)`,
  );

  const pipeline = new EnvelopePipeline(
    kernel,
    new RateLimiter({
      clock,
      sessionStartsPerMinute: config.rateLimits.sessionStartsPerMinute,
      messagesPerMinute: config.rateLimits.messagesPerMinute,
    }),
    config.maxPayloadBytes,
  );
  const openStreams = new OpenStreams();
  const server = new Server({ "grpc.max_receive_message_length": Math.max(4 * 1024 * 1024, config.maxPayloadBytes + 64 * 1024) });
  const definition = acceptsEncodedResponses(tolerantDefinition(MACPRuntimeServiceService));
  server.addService(
    definition,
    traceRequests(SERVICE_NAME, definition, guardRequests(definition, createRuntimeService({
      kernel,
      modes,
      policies,
      authenticator,
      pipeline,
      clock,
      metrics,
      logger,
      streamBufferLimit: 4096,
      watchBufferLimit: 1024,
      openStreams,
    }))),
  );
  health.addToServer(server);
  addReflection(server);

  const credentials = config.tls
    ? ServerCredentials.createSsl(null, [
        { cert_chain: readFileSync(config.tls.certPath), private_key: readFileSync(config.tls.keyPath) },
      ])
    : ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(config.bindAddress.address, credentials, (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  const address = `${config.bindAddress.host.includes(":") ? `[${config.bindAddress.host}]` : config.bindAddress.host}:${port}`;

  let metricsServer: HttpServer | undefined;
  let metricsUrl: string | undefined;
  if (config.metricsAddress) {
    metricsServer = createHttpServer((request, response) => {
      if (request.url !== "/metrics") {
        response.writeHead(404).end();
        return;
      }
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    });
    const { host, port: metricsPort } = config.metricsAddress;
    await new Promise<void>((resolve, reject) => {
      metricsServer?.once("error", reject);
      metricsServer?.listen(metricsPort, host, () => resolve());
    });
    const bound = metricsServer.address();
    const boundPort = typeof bound === "object" && bound ? bound.port : metricsPort;
    metricsUrl = `http://${host.includes(":") ? `[${host}]` : host}:${boundPort}/metrics`;
  }

  const retireHistory = async (): Promise<void> => {
    if (config.historyRetentionSecs === 0) return;
    const report = await retireFinishedSessions(store, {
      finishedBeforeUnixMs: clock.now() - config.historyRetentionSecs * 1000,
      // Bounded per sweep, so a backlog (a first run on old data) is worked off over several.
      maxSessions: 50_000,
      ...(config.archiveDir === null ? {} : { archiveDir: config.archiveDir }),
      beforeRemove: (sessionIds) => kernel.forgetFinished(sessionIds),
    });
    if (report.sessions > 0) {
      metrics.historyRemoved.inc(report.sessions);
      logger.info({ sessions: report.sessions, archive: report.archiveFile }, `removed the history of ${report.sessions} session(s) past retention`);
    }
  };
  let sweeping = false;
  const sweep = setInterval(() => {
    // A sweep held up by a slow session must not pile up behind the next one.
    if (sweeping) return;
    sweeping = true;
    sweepsExpiry()
      .then(async (leader) => {
        await kernel.sweep({ expire: leader });
        if (leader) await retireHistory();
      })
      .catch((error: unknown) => logger.warn({ err: error }, "sweep failed"))
      .finally(() => {
        sweeping = false;
      });
  }, config.cleanupIntervalSecs * 1000);
  sweep.unref();

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(sweep);
      stopServing();
      openStreams.endAll();
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          logger.warn("grace period over, ending remaining calls");
          server.forceShutdown();
          resolve();
        }, config.shutdownGraceMs);
        force.unref();
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      stopWatching?.();
      await stopFollowing?.();
      await shared?.leases.release("sweep", replicaId).catch(() => undefined);
      await kernel.close();
      logger.info("runtime stopped");
    })();
    return closing;
  };
  faults.attach(close);
  if (faults.fault !== undefined) {
    // The store failed while the runtime was starting: it must not serve.
    await close();
    throw faults.fault.error;
  }

  logger.info({ address, metrics: metricsUrl, storage: config.storage.backend }, "MACP runtime listening");
  return {
    port,
    address,
    metricsUrl,
    kernel,
    close,
    fail: (error, context) => faults.fail(error, context),
    failed: faults.failed,
  };
}

/**
 * Log segments seal by age too, at a quarter of the history retention (at most an hour), so at a
 * low rate the records retention removes become reclaimable within about 1.25 × retention rather
 * than once a 64 MiB segment fills.
 */
function segmentMaxAgeMs(historyRetentionSecs: number): number {
  return historyRetentionSecs === 0 ? 3_600_000 : Math.min(3_600_000, Math.max(1_000, (historyRetentionSecs * 1000) / 4));
}

import type { ClientAuth, ResponseStream } from "@macp/client";
import type { WatchSessionsResponse } from "@macp/protocol";
import type { Logger } from "pino";
import type { RuntimeGateway } from "../runtime/gateway.js";
import { backoffDelay, sleep } from "@macp/pipeline";
import type { IngestSink } from "./ingest-sink.js";

/**
 * Watches the runtime's session lifecycle (WatchSessions): resolution, expiry, cancellation,
 * suspension and resumption are never sent on a session stream, so this is where a run learns
 * its terminal state. Every event for a session bound to an unfinished run is ingested as a
 * session snapshot. The watch is re-opened with backoff whenever it ends; its initial sync
 * (every session with its current state) covers transitions missed meanwhile.
 */
export class LifecycleWatcher {
  private readonly abort = new AbortController();
  private stream: ResponseStream<WatchSessionsResponse> | undefined;
  readonly done: Promise<void>;

  constructor(
    private readonly runtime: RuntimeGateway,
    private readonly auth: ClientAuth | undefined,
    private readonly sink: IngestSink,
    /** The unfinished run bound to a session, if any. */
    private readonly runOf: (sessionId: string) => Promise<string | undefined>,
    private readonly settings: { backoffBaseMs: number; backoffMaxMs: number },
    private readonly logger: Logger,
  ) {
    this.done = this.loop().catch((error: unknown) => this.logger.error({ err: error }, "lifecycle watcher stopped on an unexpected error"));
  }

  stop(): Promise<void> {
    this.abort.abort();
    this.stream?.cancel();
    return this.done;
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.abort.signal.aborted) {
      const stream = this.runtime.client.watchSessions(this.auth ? { auth: this.auth } : {});
      this.stream = stream;
      try {
        for await (const { event } of stream) {
          attempt = 0;
          const metadata = event?.session;
          if (!metadata) continue;
          const runId = await this.runOf(metadata.sessionId);
          if (runId !== undefined) await this.sink.ingest(runId, { kind: "session-snapshot", metadata, receivedAt: new Date().toISOString() });
        }
      } catch (error) {
        if (!this.abort.signal.aborted) this.logger.warn({ detail: error instanceof Error ? error.message : String(error) }, "session lifecycle watch failed; re-opening");
      }
      this.stream = undefined;
      await sleep(backoffDelay(attempt, this.settings.backoffBaseMs, this.settings.backoffMaxMs), this.abort.signal);
      attempt += 1;
    }
  }
}

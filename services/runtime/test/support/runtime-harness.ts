import { randomUUID } from "node:crypto";
import { MacpClientError, buildEnvelope, buildSessionStart, buildSignal, createMacpClient } from "@macp/client";
import type { ClientAuth, MacpClient, SessionStartInput } from "@macp/client";
import type { Clock } from "@macp/core";
import { ModeId, encodePayloadJson } from "@macp/protocol";
import type { Ack, Envelope } from "@macp/protocol";
import { createLogger, loadConfig, startRuntime } from "../../src/index.js";
import type { RuntimeHandle } from "../../src/index.js";

/** The environment every over-the-wire test starts from: plaintext, ephemeral port, no disk, quiet. */
export const BASE_ENV: Readonly<Record<string, string>> = {
  MACP_ALLOW_INSECURE: "1",
  MACP_BIND_ADDR: "127.0.0.1:0",
  MACP_MEMORY_ONLY: "1",
  MACP_METRICS_ADDR: "off",
  MACP_LOG_LEVEL: "silent",
};

/** A runtime started in-process for one test file, plus clients that are closed with it. */
export interface TestRuntime {
  readonly handle: RuntimeHandle;
  readonly address: string;
  /** A client speaking as `auth`: a string is a bearer value (in dev mode, the sender itself). */
  client(auth?: ClientAuth | string): MacpClient;
  close(): Promise<void>;
}

/** Starts the daemon on an ephemeral port with `BASE_ENV` overridden by `env`; `clock` drives session time. */
export async function startTestRuntime(env: Record<string, string> = {}, clock?: Clock): Promise<TestRuntime> {
  const config = loadConfig({ ...BASE_ENV, ...env });
  const handle = await startRuntime(config, { logger: createLogger("silent"), clock });
  const clients: MacpClient[] = [];
  return {
    handle,
    address: handle.address,
    client(auth) {
      const client = createMacpClient({
        address: handle.address,
        auth: typeof auth === "string" ? { bearer: auth } : auth,
        defaultDeadlineMs: 10_000,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.close();
      await handle.close();
    },
  };
}

/** A fresh session id the runtime accepts (lowercase UUIDv4). */
export function newSessionId(): string {
  return randomUUID();
}

/** Defaults of a strict SessionStart: the values every conformance vector uses. */
export const START_DEFAULTS = {
  modeVersion: "1.0.0",
  configurationVersion: "cfg-1",
  ttlMs: 60_000,
} as const;

export interface StartOptions {
  readonly mode?: string;
  readonly sessionId: string;
  readonly participants: readonly string[];
  readonly messageId?: string;
  readonly payload?: SessionStartInput;
  readonly timestampUnixMs?: number | bigint;
}

/** A SessionStart envelope (decision mode unless told otherwise) with strict-mode defaults. */
export function sessionStart(options: StartOptions): Envelope {
  return buildSessionStart({
    mode: options.mode ?? ModeId.Decision,
    sessionId: options.sessionId,
    messageId: options.messageId ?? "m0",
    timestampUnixMs: options.timestampUnixMs,
    payload: { intent: "test", ...START_DEFAULTS, participants: [...options.participants], ...options.payload },
  });
}

export interface MessageOptions {
  readonly mode?: string;
  readonly sessionId: string;
  readonly messageType: string;
  readonly messageId: string;
  readonly json?: Record<string, unknown>;
  readonly payload?: Uint8Array;
  readonly sender?: string;
}

/** A session message whose payload is given as proto-named JSON (as in the conformance vectors). */
export function message(options: MessageOptions): Envelope {
  const mode = options.mode ?? ModeId.Decision;
  return buildEnvelope({
    mode,
    sessionId: options.sessionId,
    messageType: options.messageType,
    messageId: options.messageId,
    sender: options.sender,
    payload: options.payload ?? encodePayloadJson(mode, options.messageType, options.json ?? {}),
  });
}

/** A decision-mode Proposal. */
export function proposal(sessionId: string, messageId: string, proposalId = "p1"): Envelope {
  return message({
    sessionId,
    messageType: "Proposal",
    messageId,
    json: { proposal_id: proposalId, option: "deploy", rationale: "ready" },
  });
}

/** A decision-mode Commitment that the session's initiator may send once a proposal exists. */
export function commitment(sessionId: string, messageId: string): Envelope {
  return message({
    sessionId,
    messageType: "Commitment",
    messageId,
    json: {
      commitment_id: "c1",
      action: "decision.selected",
      authority_scope: "test",
      reason: "done",
      mode_version: "1.0.0",
      configuration_version: "cfg-1",
      policy_version: "policy.default",
      outcome_positive: true,
    },
  });
}

/** Sends and returns the Ack (a missing Ack fails the test). */
export async function sendAck(client: MacpClient, envelope: Envelope): Promise<Ack> {
  const { ack } = await client.send({ envelope });
  if (!ack) throw new Error(`Send of ${envelope.messageType} ${envelope.messageId} returned no Ack`);
  return ack;
}

/** The error code of an Ack, or "ok" / "duplicate"; compact for table-driven assertions. */
export function ackCode(ack: Ack): string {
  if (ack.ok) return ack.duplicate ? "duplicate" : "ok";
  return ack.error?.code ?? "<no error>";
}

/** Starts a decision session as `initiator` and expects it accepted. */
export async function openDecisionSession(
  client: MacpClient,
  participants: readonly string[],
  sessionId = newSessionId(),
): Promise<string> {
  const ack = await sendAck(client, sessionStart({ sessionId, participants }));
  if (!ack.ok) throw new Error(`SessionStart rejected: ${ack.error?.code} ${ack.error?.message}`);
  return sessionId;
}

/** The outcome of a call as a gRPC status name ("OK" when it succeeded). */
export async function statusOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    return grpcStatusName(error);
  }
}

/** The gRPC status name of a failed call. */
export function grpcStatusName(error: unknown): string {
  if (error instanceof MacpClientError) return GRPC_STATUS_NAMES[error.grpcCode] ?? String(error.grpcCode);
  throw error;
}

/** The status message of a failed call, failing the test when the call succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<{ status: string; details: string }> {
  try {
    await call;
  } catch (error) {
    if (error instanceof MacpClientError) return { status: grpcStatusName(error), details: error.details };
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

const GRPC_STATUS_NAMES: Record<number, string> = {
  0: "OK",
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  6: "ALREADY_EXISTS",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  15: "DATA_LOSS",
  16: "UNAUTHENTICATED",
};

/** How long a test waits for a stream event that should arrive at once; only bounds a failure. */
export const STREAM_WAIT_MS = 5_000;

/** How a stream ended: "OK" or the failing gRPC status name with its message. */
export type StreamEnd = { readonly status: string; readonly details: string };

/**
 * Reads a response stream message by message with bounded waits, so a missing message fails
 * the test with a description of what did arrive instead of hanging until the test timeout.
 */
export class StreamReader<T> {
  private readonly iterator: AsyncIterator<T>;
  private readonly received: T[] = [];
  private pending: Promise<IteratorResult<T>> | undefined;

  constructor(
    stream: AsyncIterable<T>,
    private readonly label: string,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** The next message; fails if the stream ends or nothing arrives in time. */
  async next(what = "the next message"): Promise<T> {
    const result = await this.step(what);
    if (result.kind === "end") {
      throw new Error(`${this.label}: stream ended (${result.end.status} ${result.end.details}) while waiting for ${what}`);
    }
    return result.value;
  }

  /** The next message or the end of the stream, whichever comes. */
  async nextOrEnd(what = "the next message or the end"): Promise<{ value: T } | { end: StreamEnd }> {
    const result = await this.step(what);
    return result.kind === "end" ? { end: result.end } : { value: result.value };
  }

  /** The next `count` messages. */
  async take(count: number, what = `${count} messages`): Promise<T[]> {
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(await this.next(`${what} (got ${i})`));
    return items;
  }

  /** Waits for the end of the stream; fails if a message arrives instead. */
  async end(what = "the end of the stream"): Promise<StreamEnd> {
    const result = await this.step(what);
    if (result.kind === "message") {
      throw new Error(`${this.label}: expected ${what}, got another message: ${describe(result.value)}`);
    }
    return result.end;
  }

  private async step(what: string): Promise<{ kind: "message"; value: T } | { kind: "end"; end: StreamEnd }> {
    this.pending ??= this.iterator.next();
    const pending = this.pending;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), STREAM_WAIT_MS);
    });
    try {
      const outcome = await Promise.race([
        pending.then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        ),
        timeout,
      ]);
      if (outcome === "timeout") {
        throw new Error(
          `${this.label}: nothing arrived within ${STREAM_WAIT_MS} ms while waiting for ${what}; ` +
            `received so far: ${this.received.map(describe).join(", ") || "nothing"}`,
        );
      }
      this.pending = undefined;
      if ("error" in outcome) {
        const error = outcome.error;
        if (error instanceof MacpClientError) {
          return { kind: "end", end: { status: grpcStatusName(error), details: error.details } };
        }
        throw error;
      }
      if (outcome.result.done === true) return { kind: "end", end: { status: "OK", details: "" } };
      this.received.push(outcome.result.value);
      return { kind: "message", value: outcome.result.value };
    } finally {
      clearTimeout(timer);
    }
  }
}

function describe(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item instanceof Uint8Array ? `<${item.length} bytes>` : typeof item === "bigint" ? item.toString() : item,
  );
}

/** Message ids of the envelope frames in a list of StreamSession responses ("error:<code>" for inline errors). */
export function frameIds(
  frames: readonly { response?: { $case: "envelope"; value: Envelope } | { $case: "error"; value: { code: string } } }[],
): string[] {
  return frames.map((frame) =>
    frame.response?.$case === "envelope"
      ? frame.response.value.messageId
      : frame.response?.$case === "error"
        ? `error:${frame.response.value.code}`
        : "<empty>",
  );
}

/** Reads the Prometheus text of the runtime's metrics endpoint. */
export async function scrapeMetrics(url: string | undefined): Promise<string> {
  if (url === undefined) throw new Error("metrics are disabled for this runtime");
  const response = await fetch(url);
  if (!response.ok) throw new Error(`metrics endpoint answered ${response.status}`);
  return response.text();
}

/** The value of one sample in Prometheus text (`name{labels}`), or undefined when absent. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    if (space > 0 && line.slice(0, space) === sample) return Number(line.slice(space + 1));
  }
  return undefined;
}

/**
 * WatchSignals has no backlog and no initial message, so a test cannot tell when the server has
 * subscribed. Probe Signals go out one after another until the watcher sees one; then a marker
 * Signal flushes the probes still in flight (delivery follows acceptance order).
 */
export async function waitUntilWatching(client: MacpClient, watch: StreamReader<{ envelope?: { messageId: string } }>): Promise<void> {
  let watching = false;
  const probe = (messageId: string) => sendAck(client, buildSignal({ messageId, payload: { signalType: "probe" } }));
  const prober = (async () => {
    for (let i = 0; !watching && i < 10_000; i++) await probe(`probe-${i}`);
  })();
  let first;
  try {
    first = await watch.next("a probe signal");
  } finally {
    watching = true;
    await prober;
  }
  if (!first.envelope?.messageId.startsWith("probe-")) throw new Error(`unexpected signal while probing: ${first.envelope?.messageId}`);
  if (!(await probe("probe-marker")).ok) throw new Error("the probe marker Signal was refused");
  for (;;) {
    const id = (await watch.next("the probe marker")).envelope?.messageId;
    if (id === "probe-marker") return;
    if (!id?.startsWith("probe-")) throw new Error(`unexpected signal while flushing probes: ${id}`);
  }
}

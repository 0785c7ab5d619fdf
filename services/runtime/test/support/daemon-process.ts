import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { credentials, makeGenericClientConstructor } from "@grpc/grpc-js";
import type { Client, ClientReadableStream } from "@grpc/grpc-js";
import { service as healthService } from "grpc-health-check";
import { createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";

/** The built daemon; the root `pnpm test` builds before vitest runs. */
export const DAEMON_MAIN = join(import.meta.dirname, "../../dist/main.js");

/** How long a daemon may take to report its address or to exit; only bounds a failure. */
export const DAEMON_WAIT_MS = 30_000;

const HealthClient = makeGenericClientConstructor(healthService, "grpc.health.v1.Health");

/** How the daemon process ended. */
export interface DaemonExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** What to start: the daemon's environment on top of plaintext, an ephemeral port, no metrics. */
export interface DaemonSpec {
  readonly env: Record<string, string>;
  /** Node options placed before the script, e.g. `--import <preload>`. */
  readonly nodeArgs?: readonly string[];
}

/** The runtime daemon as a child process, with its combined output and exit status. */
export class DaemonProcess {
  private readonly clients: (MacpClient | Client)[] = [];
  /** Resolves when the process has ended. */
  readonly exited: Promise<DaemonExit>;

  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
    readonly output: () => string,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
      else child.once("exit", (code, signal) => resolve({ code, signal }));
    });
  }

  /** Starts a daemon and waits until it listens; rejects with its output if it exits first. */
  static async start(spec: DaemonSpec): Promise<DaemonProcess> {
    if (!existsSync(DAEMON_MAIN)) {
      throw new Error(`${DAEMON_MAIN} is missing: build first (npx -y pnpm@10 run build; the root \`pnpm test\` does)`);
    }
    const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), DAEMON_MAIN], {
      env: {
        PATH: process.env.PATH ?? "",
        MACP_ALLOW_INSECURE: "1",
        MACP_BIND_ADDR: "127.0.0.1:0",
        MACP_METRICS_ADDR: "off",
        MACP_LOG_LEVEL: "warn",
        MACP_MESSAGE_LIMIT_PER_MINUTE: "1000000",
        MACP_SESSION_START_LIMIT_PER_MINUTE: "1000",
        ...spec.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`daemon did not start:\n${output}`));
      }, DAEMON_WAIT_MS);
      const check = (): void => {
        const match = /listening on (\S+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout?.on("data", check);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`daemon exited with ${code} before listening:\n${output}`));
      });
    });
    return new DaemonProcess(child, address, () => output);
  }

  /** A client speaking as `sender` (development auth). */
  as(sender: string): MacpClient {
    const client = createMacpClient({ address: this.address, auth: { bearer: sender }, defaultDeadlineMs: 10_000 });
    this.clients.push(client);
    return client;
  }

  /** `grpc.health.v1.Health/Watch` of `service`: every status the daemon reports, as it arrives. */
  watchHealth(service: string): { statuses: string[]; stream: ClientReadableStream<{ status: string }> } {
    const client = new HealthClient(this.address, credentials.createInsecure());
    this.clients.push(client);
    const stream = (client as unknown as { watch(request: { service: string }): ClientReadableStream<{ status: string }> }).watch({ service });
    const statuses: string[] = [];
    stream.on("data", (response: { status: string }) => statuses.push(response.status));
    // The stream ends with an error status when the daemon goes away; the statuses are the point.
    stream.on("error", () => undefined);
    return { statuses, stream };
  }

  signal(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Waits for the process to end, failing with its output when it takes longer than `DAEMON_WAIT_MS`. */
  async waitForExit(): Promise<DaemonExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`daemon did not exit:\n${this.output()}`)), DAEMON_WAIT_MS);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL (if still running) and close every client. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
    for (const client of this.clients.splice(0)) client.close();
  }
}

/** Every accepted message id of a session, in order: a passive subscription from the start, half-closed. */
export async function acceptedHistory(client: MacpClient, sessionId: string): Promise<string[]> {
  const stream = client.streamSession();
  stream.subscribe(sessionId, 0);
  stream.end();
  const ids: string[] = [];
  for await (const frame of stream) {
    if (frame.response?.$case === "error") throw new Error(`${frame.response.value.code}: ${frame.response.value.message}`);
    if (frame.response?.$case === "envelope") ids.push(frame.response.value.messageId);
  }
  return ids;
}

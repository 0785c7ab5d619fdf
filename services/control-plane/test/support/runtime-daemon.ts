import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";

/** The runtime daemon's binary (its package's `bin`); `pnpm test` builds it before vitest runs. */
const RUNTIME_BIN = join(import.meta.dirname, "../../node_modules/@macp/runtime/dist/main.js");

/** A TCP port nothing listens on right now (for a daemon restarted on the same address). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** A runtime daemon process started for a test file. */
export interface RuntimeDaemon {
  readonly address: string;
  /** A client speaking as `bearer` (in dev auth, the sender id itself). */
  client(bearer: string): MacpClient;
  stop(): Promise<void>;
}

/** Spawns `macp-runtime` on a free port (plaintext, in memory, quiet) with `env` on top. */
export async function spawnRuntime(env: Record<string, string> = {}): Promise<RuntimeDaemon> {
  if (!existsSync(RUNTIME_BIN)) throw new Error(`${RUNTIME_BIN} is missing: build first (npx -y pnpm@10 run build)`);
  const child: ChildProcess = spawn(process.execPath, [RUNTIME_BIN], {
    env: {
      PATH: process.env.PATH ?? "",
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_MEMORY_ONLY: "1",
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "silent",
      MACP_SESSION_START_LIMIT_PER_MINUTE: "10000",
      MACP_MESSAGE_LIMIT_PER_MINUTE: "10000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const address = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`runtime exited with ${code} before listening: ${output}`)));
  });
  const clients: MacpClient[] = [];
  return {
    address,
    client(bearer) {
      const client = createMacpClient({ address, auth: { bearer }, defaultDeadlineMs: 10_000 });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.close();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.on("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

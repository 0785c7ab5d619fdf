import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "@macp/test-support";

const RUNTIME_BIN = join(REPO_ROOT, "services/runtime/dist/main.js");
const CONTROL_PLANE_BIN = join(REPO_ROOT, "services/control-plane/dist/main.js");

/** A TCP port nothing listens on right now (the control plane restarts on the same one). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** A spawned service binary. */
export interface Service {
  /** The first capture group of `ready` in its output (its address). */
  readonly address: string;
  output(): string;
  /** SIGTERM; resolves with the exit code once it exited. */
  stop(): Promise<number | null>;
}

/** Spawns a built service binary and waits until its output matches `ready`. */
export async function spawnService(name: "runtime" | "control-plane", env: Record<string, string>, ready: RegExp, timeoutMs = 240_000): Promise<Service> {
  const bin = name === "runtime" ? RUNTIME_BIN : CONTROL_PLANE_BIN;
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build first (npx -y pnpm@10 run build)`);
  const child: ChildProcess = spawn(process.execPath, [bin], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready after ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready:\n${output}`));
    });
  });
  return {
    address,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** The runtime daemon: plaintext, in memory, development auth (a sender's bearer is its id). */
export function startRuntime(): Promise<Service> {
  return spawnService(
    "runtime",
    {
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_MEMORY_ONLY: "1",
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "silent",
      MACP_SESSION_START_LIMIT_PER_MINUTE: "10000",
      MACP_MESSAGE_LIMIT_PER_MINUTE: "10000",
    },
    /listening on (\S+)/,
  );
}

/** The control plane as `pnpm start` runs it (development mode, PGlite in `dataDir`) on `port`. */
export function startControlPlane(port: number, dataDir: string, runtimeAddress: string): Promise<Service> {
  return spawnService(
    "control-plane",
    {
      NODE_ENV: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: dataDir,
      RUNTIME_ADDRESS: runtimeAddress,
      LOG_LEVEL: "warn",
      // The page polls the runs list; the default 100 requests a minute is for real clients.
      THROTTLE_LIMIT: "1000000",
    },
    /MACP control plane listening on (http:\/\/\S+)/,
  );
}

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The built daemon; `pnpm test` builds before running vitest. */
export const DAEMON_MAIN = join(import.meta.dirname, "../../../services/runtime/dist/main.js");

/** How long a daemon may take to report its address; only bounds a failure. */
const START_WAIT_MS = 30_000;

/** A daemon child process on an ephemeral port. */
export interface DaemonProcess {
  readonly address: string;
  readonly child: ChildProcess;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/** Starts the built daemon in dev mode with the file backend in `dataDir`. */
export async function startDaemon(dataDir: string): Promise<DaemonProcess> {
  if (!existsSync(DAEMON_MAIN)) {
    throw new Error(`${DAEMON_MAIN} is missing: build first (npx -y pnpm@10 run build)`);
  }
  const child = spawn(process.execPath, [DAEMON_MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_DATA_DIR: dataDir,
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let stdout = "";
    const timer = setTimeout(() => reject(new Error(`daemon did not start: ${stderr}`)), START_WAIT_MS);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /listening on (\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited with ${code} before listening: ${stderr}`));
    });
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    address,
    child,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

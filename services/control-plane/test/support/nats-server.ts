import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./runtime-daemon.js";

/** A NATS server with JetStream of a test's own, which the test can stop and start again. */
export interface OwnNatsServer {
  readonly url: string;
  /** Starts it (again) on the same port and store directory: streams survive a stop. */
  start(): Promise<void>;
  /** Stops the process (SIGKILL: clients see the connection drop, not a goodbye). */
  stop(): Promise<void>;
  /** Stops it and removes its store. */
  dispose(): Promise<void>;
}

/** A `nats-server -js` (on PATH) on a free loopback port with a fresh store directory, not started yet. */
export async function ownNatsServer(): Promise<OwnNatsServer> {
  const port = await freePort();
  const store = mkdtempSync(join(tmpdir(), "macp-nats-"));
  let child: ChildProcess | undefined;
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null) return;
    await new Promise((resolve) => {
      running.once("exit", resolve);
      running.kill("SIGKILL");
    });
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    async start() {
      if (child) return;
      const started = spawn("nats-server", ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", store], { stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      let output = "";
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          if (output.includes("Server is ready")) resolve();
        };
        started.stdout?.on("data", onData);
        started.stderr?.on("data", onData);
        started.once("error", reject);
        started.once("exit", (code) => reject(new Error(`nats-server exited with ${code}: ${output}`)));
      });
    },
    stop,
    async dispose() {
      await stop();
      rmSync(store, { recursive: true, force: true });
    },
  };
}

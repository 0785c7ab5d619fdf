import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "@macp/test-support";

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return address.port;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A child process of the test with its output kept (shown when something fails). */
export interface Child {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** Resolves once `pattern` appears in the output (or rejects when the process exits first). */
  printed(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Sends `signal` and resolves once the process is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Spawns `program` (a built service script under the repository, or a program on PATH) with exactly `env` (plus PATH). */
export function spawnChild(name: string, program: string, args: readonly string[], env: Record<string, string>): Child {
  const script = program.endsWith(".js") ? join(REPO_ROOT, program) : undefined;
  if (script !== undefined && !existsSync(script)) throw new Error(`${script} is missing: build first (npx -y pnpm@10 run build)`);
  const child = spawn(script !== undefined ? process.execPath : program, script !== undefined ? [script, ...args] : [...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const wake of waiters) wake();
  };
  child.stdout?.on("data", onData);
  child.stderr?.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    name,
    child,
    exited,
    output: () => output,
    printed(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`${name} did not print ${pattern} within ${timeoutMs} ms:\n${output.slice(-4000)}`)), timeoutMs);
        const check = (): void => {
          const match = pattern.exec(output);
          if (match) finish(undefined, match);
        };
        const finish = (error?: Error, match?: RegExpExecArray): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error) reject(error);
          else resolve(match as RegExpExecArray);
        };
        waiters.add(check);
        void exited.then(({ code, signal }) => finish(new Error(`${name} exited (${signal ?? code}) before printing ${pattern}:\n${output.slice(-4000)}`)));
        check();
      });
    },
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

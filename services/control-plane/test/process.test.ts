import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BASE_ENV } from "./support/harness.js";

/** The built `macp-control-plane` binary (package.json `bin`); `pnpm test` builds before running vitest. */
const BIN = join(import.meta.dirname, "../dist/main.js");

interface Child {
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
  kill(signal: NodeJS.Signals): void;
  waitFor(text: RegExp): Promise<RegExpExecArray>;
}

function run(env: Record<string, string>): Child {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: build first (npx -y pnpm@10 run build)`);
  const child = spawn(process.execPath, [BIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const waiters: (() => void)[] = [];
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const waiter of waiters.splice(0)) waiter();
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    exit,
    output: () => output,
    kill: (signal) => child.kill(signal),
    async waitFor(text) {
      for (;;) {
        const match = text.exec(output);
        if (match) return match;
        const more = new Promise<void>((resolve) => waiters.push(resolve));
        const ended = await Promise.race([more.then(() => false), exit.then(() => true)]);
        if (ended && !text.test(output)) throw new Error(`process exited before printing ${text}: ${output}`);
      }
    },
  };
}

describe("the control-plane process", () => {
  it("refuses invalid configuration with exit status 2 and names the variable", async () => {
    const child = run({ ...BASE_ENV, PORT: "not-a-port" });
    expect((await child.exit).code).toBe(2);
    expect(child.output()).toContain("PORT must be an integer");
  });

  it("refuses to start outside development without client credentials", async () => {
    const child = run({ ...BASE_ENV, NODE_ENV: "production", RUNTIME_ALLOW_INSECURE: "true" });
    expect((await child.exit).code).toBe(2);
    expect(child.output()).toContain("AUTH_API_KEYS");
  });

  it("serves, then exits 0 on SIGTERM", { timeout: 180_000 }, async () => {
    const child = run({ ...BASE_ENV });
    const [, url] = await child.waitFor(/listening on (http:\/\/\S+)/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    child.kill("SIGTERM");
    expect(await child.exit).toEqual({ code: 0, signal: null });
  });
});

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "@macp/test-support";

const BINARIES = ["services/runtime/dist/main.js", "services/control-plane/dist/main.js"];

/** The embedded stack of `scripts/start-stack.mjs`, started on free ports for one test file. */
export interface Stack {
  readonly controlPlaneUrl: string;
  readonly runtimeAddress: string;
  readonly runtimeMetricsUrl: string;
  readonly dataDir: string;
  /** Everything the launcher printed so far (its own lines and its services' prefixed lines). */
  output(): string;
  /** SIGTERM to the launcher; resolves with its exit code and signal. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Removes the data directory. */
  remove(): void;
}

function field(output: string, label: string): string | undefined {
  return new RegExp(`^\\s*${label}\\s+(\\S+)`, "m").exec(output)?.[1];
}

/** Spawns `node scripts/start-stack.mjs` with every port 0 and a fresh data directory. */
export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  for (const bin of BINARIES) {
    if (!existsSync(join(REPO_ROOT, bin))) throw new Error(`${bin} is missing: build first (npx -y pnpm@10 run build)`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "macp-stack-"));
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, "scripts/start-stack.mjs")], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      MACP_STACK_DATA_DIR: dataDir,
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_METRICS_ADDR: "127.0.0.1:0",
      PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes("Ctrl-C stops everything.")) resolve();
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    void exited.then(({ code, signal }) => reject(new Error(`start-stack exited (${signal ?? code}) before it was up:\n${output}`)));
  });
  const controlPlaneUrl = field(output, "control plane API");
  const runtimeAddress = field(output, "runtime gRPC");
  const runtimeMetricsUrl = field(output, "runtime metrics");
  if (!controlPlaneUrl || !runtimeAddress || !runtimeMetricsUrl) throw new Error(`start-stack printed no URLs:\n${output}`);
  return {
    controlPlaneUrl,
    runtimeAddress,
    runtimeMetricsUrl,
    dataDir,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    remove: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

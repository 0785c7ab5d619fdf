// Starts the embedded development stack: the runtime daemon (file storage, development auth,
// plaintext) and the control plane (embedded PGlite, development mode, pointed at that runtime,
// serving the run viewer at /), both on loopback, with all data under one directory. SIGINT/SIGTERM stop the control plane
// first (it follows the runtime's sessions), then the runtime; exit 0 when both stopped cleanly.
// Any variable set by the caller wins over these defaults (services/*/README.md list them).
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const caller = { ...process.env };
const dataDir = resolve(caller.MACP_STACK_DATA_DIR || ".macp-data");

// The stack is embedded by definition: a DATABASE_URL left in the shell for another project must
// not send the control plane there, and NODE_ENV=production would demand client credentials.
delete caller.DATABASE_URL;
delete caller.MACP_STACK_DATA_DIR; // the runtime warns about MACP_* variables it does not know

const runtimeEnv = {
  MACP_ALLOW_INSECURE: "1",
  MACP_ALLOW_DEV_SENDER_HEADER: "1",
  MACP_BIND_ADDR: "127.0.0.1:50051",
  MACP_METRICS_ADDR: "127.0.0.1:9464",
  MACP_DATA_DIR: join(dataDir, "runtime"),
  MACP_LOG_LEVEL: "warn",
  ...caller,
};

/** @type {Map<string, import("node:child_process").ChildProcess>} */
const children = new Map();
let stopping = false;

/**
 * Spawns a service binary in its own process group (so a terminal's Ctrl-C reaches only this
 * launcher, which stops the services in order), prefixes its output lines with its name and
 * resolves with what `ready` returns once it returns something for the stdout lines so far.
 */
function startService(name, bin, env, ready) {
  const child = spawn(process.execPath, [join(root, bin)], { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  children.set(name, child);
  return new Promise((resolveReady, rejectReady) => {
    const lines = [];
    let started = false;
    createInterface({ input: child.stdout }).on("line", (line) => {
      process.stdout.write(`${name} | ${line}\n`);
      if (started) return;
      lines.push(line);
      const value = ready(lines);
      if (value === undefined) return;
      started = true;
      resolveReady(value);
    });
    createInterface({ input: child.stderr }).on("line", (line) => process.stderr.write(`${name} | ${line}\n`));
    child.on("exit", (code, signal) => {
      children.delete(name);
      if (!started) rejectReady(new Error(`${name} exited (${signal ?? code}) before it was ready`));
      else if (!stopping) {
        process.stderr.write(`${name} stopped unexpectedly (${signal ?? code}); stopping the stack\n`);
        void stop(1);
      }
    });
  });
}

/** Stops one service with SIGTERM and resolves with its exit code (non-zero for a signal death). */
function stopService(name) {
  const child = children.get(name);
  if (!child) return Promise.resolve(0);
  return new Promise((resolveStop) => {
    child.on("exit", (code, signal) => resolveStop(signal ? 1 : (code ?? 0)));
    child.kill("SIGTERM");
  });
}

async function stop(failure) {
  if (stopping) return;
  stopping = true;
  const controlPlane = await stopService("control-plane");
  const runtime = await stopService("runtime");
  process.exit(failure || controlPlane || runtime ? 1 : 0);
}

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => void stop(0));
// A launcher that dies any other way takes its services with it.
process.on("exit", () => {
  for (const child of children.values()) child.kill("SIGTERM");
});

try {
  const metricsOff = runtimeEnv.MACP_METRICS_ADDR === "off";
  const runtime = await startService("runtime", "services/runtime/dist/main.js", runtimeEnv, (lines) => {
    const address = firstMatch(lines, /MACP runtime listening on (\S+)/);
    const metrics = metricsOff ? "off" : firstMatch(lines, /Prometheus metrics at (\S+)/);
    return address && metrics ? { address, metrics } : undefined;
  });
  const runtimeAddress = runtime.address;
  const controlPlaneEnv = {
    HOST: "127.0.0.1",
    PORT: "3001",
    DATA_DIR: join(dataDir, "control-plane"),
    LOG_LEVEL: "warn",
    ...caller,
    NODE_ENV: "development",
    RUNTIME_ADDRESS: runtimeAddress,
  };
  const url = await startService("control-plane", "services/control-plane/dist/main.js", controlPlaneEnv, (lines) =>
    firstMatch(lines, /MACP control plane listening on (\S+)/),
  );
  process.stdout.write(
    [
      "",
      "MACP stack is up (development mode, loopback only):",
      `  run viewer            ${url}/   (open in a browser: runs live, replay, compare)`,
      `  control plane API     ${url}   (no credentials needed in development)`,
      `  API docs              ${url}/docs`,
      `  control plane health  ${url}/readyz   metrics ${url}/metrics`,
      `  runtime gRPC          ${runtimeAddress}   (development auth: authorization: Bearer <agent-id>)`,
      `  runtime metrics       ${runtime.metrics}`,
      `  data                  ${dataDir}`,
      "Try it: npx -y pnpm@10 demo   (example runs driven by simulated agents)",
      "Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
} catch (error) {
  process.stderr.write(`start-stack: ${error instanceof Error ? error.message : String(error)}\n`);
  await stop(1);
}

function firstMatch(lines, pattern) {
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) return match[1];
  }
  return undefined;
}

// A benchmark target in its own process, so client load never shares the server's event loop.
// Usage: node server.mjs echo|memory|file [dataDir]. Prints {"address": "..."} once listening.
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { SessionState } from "@macp/protocol";
import { MACPRuntimeServiceService } from "@macp/protocol/grpc";
import { createLogger, loadConfig, startRuntime } from "@macp/runtime";

const [kind, dataDir] = process.argv.slice(2);

async function startEcho() {
  const server = new Server();
  const watchers = new Set();
  const unimplemented = (_call, callback) => callback({ code: 12, details: "unimplemented" });
  const impl = Object.fromEntries(Object.keys(MACPRuntimeServiceService).map((name) => [name, unimplemented]));
  impl.send = (call, callback) => {
    const env = call.request.envelope;
    callback(null, {
      ack: { ok: true, duplicate: false, messageId: env.messageId, sessionId: env.sessionId, acceptedAtUnixMs: BigInt(Date.now()), sessionState: SessionState.SESSION_STATE_OPEN, error: undefined },
    });
  };
  // Raw fan-out baseline: every Signal sent is written to every WatchSignals stream.
  impl.watchSignals = (call) => {
    watchers.add(call);
    call.on("cancelled", () => watchers.delete(call));
  };
  impl.streamSession = (call) => {
    call.on("data", (frame) => {
      for (const watcher of watchers) watcher.write({ envelope: frame.envelope });
    });
    call.on("end", () => call.end());
  };
  server.addService(MACPRuntimeServiceService, impl);
  const port = await new Promise((resolve, reject) => server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return `127.0.0.1:${port}`;
}

async function startMacp() {
  const config = loadConfig({
    MACP_ALLOW_INSECURE: "1",
    MACP_BIND_ADDR: "127.0.0.1:0",
    MACP_METRICS_ADDR: "off",
    MACP_MESSAGE_LIMIT_PER_MINUTE: "100000000",
    MACP_SESSION_START_LIMIT_PER_MINUTE: "100000000",
    MACP_LOG_LEVEL: "silent",
    ...(kind === "memory" ? { MACP_MEMORY_ONLY: "1" } : { MACP_STORAGE_BACKEND: "file", MACP_DATA_DIR: dataDir }),
  });
  const runtime = await startRuntime(config, { logger: createLogger("silent") });
  process.on("SIGTERM", () => runtime.close().then(() => process.exit(0)));
  return runtime.address;
}

const address = kind === "echo" ? await startEcho() : await startMacp();
process.stdout.write(`${JSON.stringify({ address })}\n`);

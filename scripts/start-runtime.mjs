// Starts the runtime daemon with embedded development defaults: file storage under ./.macp-data,
// development auth (Bearer <agent-id>), plaintext on loopback. Any MACP_* variable set by the
// caller wins over these defaults.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const defaults = {
  MACP_ALLOW_INSECURE: "1",
  MACP_BIND_ADDR: "127.0.0.1:50051",
  MACP_DATA_DIR: ".macp-data",
  MACP_ALLOW_DEV_SENDER_HEADER: "1",
};
const env = { ...defaults, ...process.env };
const main = fileURLToPath(new URL("../services/runtime/dist/main.js", import.meta.url));
const child = spawn(process.execPath, [main], { env, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 0)));

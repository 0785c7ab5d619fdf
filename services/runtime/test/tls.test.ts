import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMacpClient } from "@macp/client";
import { createLogger, loadConfig, startRuntime } from "../src/index.js";
import type { RuntimeHandle } from "../src/index.js";

// A throwaway self-signed certificate for 127.0.0.1, made with the system openssl.
const dir = mkdtempSync(join(tmpdir(), "macp-tls-"));
const certPath = join(dir, "cert.pem");
const keyPath = join(dir, "key.pem");

describe("TLS transport", () => {
  let runtime: RuntimeHandle;

  beforeAll(async () => {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
      "-keyout", keyPath, "-out", certPath, "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" });
    runtime = await startRuntime(
      loadConfig({
        MACP_BIND_ADDR: "127.0.0.1:0",
        MACP_TLS_CERT_PATH: certPath,
        MACP_TLS_KEY_PATH: keyPath,
        MACP_MEMORY_ONLY: "1",
        MACP_METRICS_ADDR: "off",
        MACP_LOG_LEVEL: "silent",
      }),
      { logger: createLogger("silent") },
    );
  });

  afterAll(async () => {
    await runtime.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves MACP over TLS to a client that trusts the certificate", async () => {
    const client = createMacpClient({
      address: runtime.address,
      tls: { rootCerts: readFileSync(certPath) },
      auth: { bearer: "alice" },
      defaultDeadlineMs: 5_000,
    });
    try {
      const response = await client.initialize({ supportedProtocolVersions: ["1.0"] });
      expect(response.selectedProtocolVersion).toBe("1.0");
    } finally {
      client.close();
    }
  });

  it("refuses a plaintext client", async () => {
    const client = createMacpClient({ address: runtime.address, defaultDeadlineMs: 2_000 });
    try {
      await expect(client.listModes({})).rejects.toMatchObject({ grpcCode: expect.any(Number) });
    } finally {
      client.close();
    }
  });

  it("refuses to start without TLS unless plaintext is explicitly allowed", () => {
    expect(() => loadConfig({ MACP_MEMORY_ONLY: "1" })).toThrow(/MACP_ALLOW_INSECURE/);
  });
});

import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { createLogger, loadConfig, startRuntime } from "../src/index.js";
import type { RuntimeHandle } from "../src/index.js";
import { BASE_ENV, openDecisionSession, proposal, sendAck } from "./support/runtime-harness.js";

const SECRET = "s3cret-token-value-never-logged";

describe("structured logs", () => {
  const lines: Record<string, unknown>[] = [];
  let raw = "";
  let runtime: RuntimeHandle;
  let client: MacpClient;

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        raw += chunk.toString();
        for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    runtime = await startRuntime(
      loadConfig({
        ...BASE_ENV,
        MACP_LOG_LEVEL: "debug",
        MACP_AUTH_TOKENS_JSON: JSON.stringify([{ token: SECRET, sender: "agent://alice" }]),
      }),
      { logger: createLogger("debug", sink) },
    );
    client = createMacpClient({ address: runtime.address, auth: { bearer: SECRET }, defaultDeadlineMs: 5_000 });
  });

  afterAll(async () => {
    client.close();
    await runtime.close();
  });

  it("carries session_id and message_id for accepted and rejected envelopes, and never the credential", async () => {
    const sessionId = await openDecisionSession(client, ["agent://alice"]);
    expect((await sendAck(client, proposal(sessionId, "m-accepted"))).ok).toBe(true);
    expect((await sendAck(client, proposal("no-such-session-0000000000", "m-rejected"))).ok).toBe(false);

    const accepted = lines.find((line) => line.message_id === "m-accepted");
    expect(accepted).toMatchObject({ session_id: sessionId, msg: "envelope accepted" });
    const rejected = lines.find((line) => line.message_id === "m-rejected");
    expect(rejected).toMatchObject({ code: "SESSION_NOT_FOUND", msg: "envelope rejected" });
    expect(raw).not.toContain(SECRET);
  });
});

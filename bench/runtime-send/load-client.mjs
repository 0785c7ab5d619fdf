// One load-generating client process for the multi-client Send bench (run.mjs, section
// "clients"). Usage: node load-client.mjs <address> <inflight> <durationMs> <label>.
// Opens one session per in-flight slot, prints "ready", waits for a line on stdin, then keeps
// `inflight` Sends going for the duration and prints one JSON line with its counts and latencies.
import { createInterface } from "node:readline";
import { credentials, Metadata } from "@grpc/grpc-js";
import { SessionStartPayload } from "@macp/protocol";
import { MACPRuntimeServiceClient } from "@macp/protocol/grpc";

const [address, inflightText, durationText, label] = process.argv.slice(2);
const inflight = Number(inflightText);
const durationMs = Number(durationText);
const MODE = "ext.multi_round.v1";
const enc = new TextEncoder();

const call = (client, request, metadata) =>
  new Promise((resolve, reject) => client.send(request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
const envelope = (sessionId, messageType, messageId, payload) => ({ macpVersion: "1.0", mode: MODE, messageType, messageId, sessionId, sender: "", timestampUnixMs: 0n, payload });

const client = new MACPRuntimeServiceClient(address, credentials.createInsecure());
const workers = [];
for (let w = 0; w < inflight; w++) {
  const sender = `load-${label}-${w}`;
  const md = new Metadata();
  md.set("authorization", `Bearer ${sender}`);
  const sessionId = crypto.randomUUID();
  const start = SessionStartPayload.encode(
    SessionStartPayload.fromPartial({ intent: "bench", participants: [sender, "peer"], modeVersion: "1.0.0", configurationVersion: "bench", ttlMs: 3_600_000 }),
  ).finish();
  const response = await call(client, { envelope: envelope(sessionId, "SessionStart", `s-${sessionId}`, start) }, md);
  if (!response.ack?.ok) throw new Error(`SessionStart failed: ${JSON.stringify(response.ack?.error)}`);
  workers.push({ sessionId, md });
}
process.stdout.write("ready\n");
await new Promise((resolve) => createInterface({ input: process.stdin }).once("line", resolve));

const latencies = [];
const began = performance.now();
const deadline = began + durationMs;
await Promise.all(
  workers.map(async (worker) => {
    for (let i = 0; performance.now() < deadline; i++) {
      const t = performance.now();
      const response = await call(client, { envelope: envelope(worker.sessionId, "Contribute", `${worker.sessionId}-${i}`, enc.encode(JSON.stringify({ value: `v${i}` }))) }, worker.md);
      latencies.push(performance.now() - t);
      if (!response.ack?.ok) throw new Error(`Send rejected: ${JSON.stringify(response.ack?.error)}`);
    }
  }),
);
const elapsedMs = performance.now() - began;
client.close();
latencies.sort((a, b) => a - b);
const pick = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(`${JSON.stringify({ ops: latencies.length, elapsed_ms: Math.round(elapsedMs), p50_ms: Number(pick(50).toFixed(3)), p99_ms: Number(pick(99).toFixed(3)) })}\n`);
process.exit(0);

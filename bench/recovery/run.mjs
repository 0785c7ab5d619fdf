// Daemon-level durability figures: recovery time of the file backend with 10k sessions / 100k
// entries (storage open + replay of every session through @macp/replay, as the runtime does at
// start), and resident memory of the kernel holding 100k open sessions. Prints one JSON document.
// Run after `pnpm run build`:  node --expose-gc bench/recovery/run.mjs
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { SessionStartPayload } from "@macp/protocol";
import { recoverSessions } from "@macp/replay";
import { FileStore, MemoryStore } from "@macp/storage";

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);
const ENTRIES_PER_SESSION = Number(process.env.BENCH_ENTRIES_PER_SESSION ?? 10);
const OPEN_SESSIONS = Number(process.env.BENCH_OPEN_SESSIONS ?? 100_000);
const MODE = "ext.multi_round.v1";
const enc = new TextEncoder();
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const clock = { now: () => Date.now() };

function kernelOver(store) {
  return new Kernel({ store, clock, modes: new ModeRegistry(), policies: new PolicyRegistry(), snapshotEvery: 0 });
}

function envelope(sessionId, messageType, messageId, sender, payload) {
  return { macpVersion: "1.0", mode: MODE, messageType, messageId, sessionId, sender, timestampUnixMs: 0n, payload };
}

const startPayload = (sender) =>
  SessionStartPayload.encode(
    SessionStartPayload.fromPartial({ intent: "bench", participants: [sender, "peer"], modeVersion: "1.0.0", configurationVersion: "bench", ttlMs: 86_400_000 }),
  ).finish();

/** Drives `count` sessions through the kernel, `concurrency` at a time, each with `messages` Contributes. */
async function populate(kernel, count, messages, concurrency = 256) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let s = next++; s < count; s = next++) {
        const sender = `agent-${s}`;
        const sessionId = crypto.randomUUID();
        const started = await kernel.send(envelope(sessionId, "SessionStart", "s", sender, startPayload(sender)), { sender });
        if (!started.ok) throw new Error(started.error?.message);
        for (let m = 0; m < messages; m++) {
          const outcome = await kernel.send(envelope(sessionId, "Contribute", `m${m}`, sender, enc.encode(JSON.stringify({ value: `v${m}` }))), { sender });
          if (!outcome.ok) throw new Error(outcome.error?.message);
        }
      }
    }),
  );
}

function rssMiB() {
  globalThis.gc?.();
  return process.memoryUsage().rss / 1024 / 1024;
}

const results = { date: new Date().toISOString(), node: process.version };
const dir = mkdtempSync(join(tmpdir(), "macp-recovery-"));
try {
  // Each session: SessionStart + PolicyBinding + (ENTRIES_PER_SESSION - 2) Contributes = ENTRIES_PER_SESSION records.
  const store = await FileStore.open({ dir, logger: quiet });
  const writer = kernelOver(store);
  const t0 = performance.now();
  await populate(writer, SESSIONS, ENTRIES_PER_SESSION - 2);
  const populateMs = performance.now() - t0;
  await writer.close();

  const t1 = performance.now();
  const reopened = await FileStore.open({ dir, logger: quiet });
  const opened = performance.now();
  const modes = new ModeRegistry();
  const kernel = new Kernel({ store: reopened, clock, modes, policies: new PolicyRegistry() });
  await kernel.restoreRegistries();
  const report = await recoverSessions(reopened, modes);
  kernel.adopt(report.recovered);
  const recovered = performance.now();
  await reopened.close();
  results.recovery = {
    sessions: SESSIONS,
    entries: SESSIONS * ENTRIES_PER_SESSION,
    populate_ms: Math.round(populateMs),
    durable_messages_per_sec_while_populating: Math.round((SESSIONS * (ENTRIES_PER_SESSION - 1)) / (populateMs / 1000)),
    store_open_ms: Math.round(opened - t1),
    replay_ms: Math.round(recovered - opened),
    total_restart_ms: Math.round(recovered - t1),
    recovered: report.recovered.length,
    failures: report.failures.length,
  };

  const before = rssMiB();
  const memoryKernel = kernelOver(new MemoryStore());
  await populate(memoryKernel, OPEN_SESSIONS, 0);
  const after = rssMiB();
  const open = memoryKernel.listSessions().filter((s) => s.record.status === "Open").length;
  results.open_sessions_memory = {
    open_sessions: open,
    rss_delta_mib: Number((after - before).toFixed(1)),
    bytes_per_session: Math.round(((after - before) * 1024 * 1024) / open),
    note: "kernel state plus the in-memory store's copy of each SessionStart and policy binding",
  };
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);

// Storage layer benchmark: durable append throughput (file backend with group commit and with
// one fdatasync per append, memory, postgres), file-backend restart time, and the resident
// memory the file backend's index and the memory backend hold. Prints one JSON document.
// Run after building protocol and storage (`cd packages/storage && npx tsc -p tsconfig.build.json`):
//   node bench/storage/run.mjs
// Env: BENCH_DURATION_MS (per throughput run, default 2000; each runs 3 times, the median is
// kept), DATABASE_URL (postgres run; reported as skipped when unreachable).
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import os, { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FileStore, MemoryStore, PostgresStore } from "@macp/storage";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const REPEATS = 3;
const APPENDERS = 64;
const PAYLOAD_BYTES = 256;
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const quiet = { warn: () => {}, info: () => {} };
const noSync = async () => {};

function entry(sessionId, seq) {
  return {
    kind: "incoming",
    seq,
    sessionId,
    mode: "macp.mode.decision.v1",
    messageType: seq === 1 ? "SessionStart" : "Proposal",
    messageId: `${sessionId}-${seq}`,
    sender: "agent://bench",
    macpVersion: "1.0",
    timestampUnixMs: BigInt(Date.now()),
    receivedAtUnixMs: Date.now(),
    payload: new Uint8Array(PAYLOAD_BYTES).fill(seq & 0xff),
  };
}

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** APPENDERS loops, each appending to its own session, one entry per durable append. */
async function appendThroughput(store) {
  const latencies = [];
  const deadline = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: APPENDERS }, async (_, worker) => {
      const id = `bench-${worker}`;
      for (let seq = 1; performance.now() < deadline; seq++) {
        const t0 = performance.now();
        await store.append(id, [entry(id, seq)]);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  return {
    appenders: APPENDERS,
    appends: latencies.length,
    appends_per_sec: Math.round((latencies.length / elapsed) * 1000),
    latency_ms: { p50: +percentile(latencies, 50).toFixed(2), p99: +percentile(latencies, 99).toFixed(2) },
  };
}

/** Runs a throughput measurement REPEATS times and keeps the run with the median rate. */
async function median(measure) {
  return (await interleavedMedians({ only: measure })).only;
}

/**
 * Runs each measurement REPEATS times, taking turns (a b a b ...) so that a change in machine
 * load affects all of them alike, and keeps each one's run with the median rate.
 */
async function interleavedMedians(measures) {
  const runs = Object.fromEntries(Object.keys(measures).map((name) => [name, []]));
  for (let i = 0; i < REPEATS; i++) {
    for (const [name, measure] of Object.entries(measures)) {
      const run = await measure();
      if (run.skipped !== undefined) return Object.fromEntries(Object.keys(measures).map((key) => [key, run]));
      runs[name].push(run);
    }
  }
  return Object.fromEntries(
    Object.entries(runs).map(([name, list]) => {
      list.sort((a, b) => a.appends_per_sec - b.appends_per_sec);
      return [name, { ...list[Math.floor(REPEATS / 2)], all_runs_appends_per_sec: list.map((run) => run.appends_per_sec) }];
    }),
  );
}

async function withTempDir(run) {
  const dir = mkdtempSync(join(tmpdir(), "macp-bench-storage-"));
  try {
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function fileThroughput(syncMode) {
  return withTempDir(async (dir) => {
    let walSyncs = 0;
    const sync = (target) => {
      if (target.kind === "wal") walSyncs++;
      return target.kind === "directory" ? target.handle.sync() : target.handle.datasync();
    };
    const store = await FileStore.open({ dir, syncMode, sync, logger: quiet });
    const result = await appendThroughput(store);
    await store.close();
    return { ...result, fdatasyncs: walSyncs, appends_per_sync: +(result.appends / walSyncs).toFixed(1) };
  });
}

/**
 * `exclusive: true` is what the runtime uses: the schema writer lock, and every append checks the
 * writer epoch under a share lock of the fence row. `false` drops both: the same-run baseline
 * for the cost of fencing.
 */
async function postgresThroughput(exclusive) {
  const schema = `bench_storage_${process.pid}`;
  let store;
  try {
    store = await PostgresStore.open({ connectionString: DATABASE_URL, schema, maxConnections: 16, logger: quiet, exclusive });
  } catch (error) {
    return { skipped: `postgres unreachable: ${error.message}` };
  }
  try {
    return { pool: 16, ...(await appendThroughput(store)) };
  } finally {
    await store.close();
    // pg is a dependency of @macp/storage, not of the bench package: resolve it from there.
    const pg = createRequire(import.meta.resolve("@macp/storage"))("pg");
    const client = new pg.Client({ connectionString: DATABASE_URL });
    await client.connect();
    await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    await client.end();
  }
}

/** Writes `sessions` x `perSession` entries, round-robin across sessions (the worst layout for reads). */
async function populate(dir, sessions, perSession) {
  const store = await FileStore.open({ dir, sync: noSync, logger: quiet });
  for (let seq = 1; seq <= perSession; seq++) {
    for (let start = 0; start < sessions; start += 2000) {
      const batch = [];
      for (let i = start; i < Math.min(sessions, start + 2000); i++) batch.push(store.append(`s-${i}`, [entry(`s-${i}`, seq)]));
      await Promise.all(batch);
    }
  }
  await store.close();
}

async function restart(sessions, perSession) {
  return withTempDir(async (dir) => {
    await populate(dir, sessions, perSession);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const store = await FileStore.open({ dir, logger: quiet });
    const t1 = performance.now();
    const ids = await store.listSessions();
    let entries = 0;
    for (const id of ids) entries += (await store.loadLog(id)).length;
    const t2 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    let after = 0;
    for (const id of ids) after += (await store.loadLogAfter(id, 8)).length;
    const t3 = performance.now();
    await store.close();
    return {
      sessions: ids.length,
      entries,
      layout: "round-robin (each session's entries spread over the whole log)",
      open_ms: Math.round(t1 - t0),
      list_and_load_all_ms: Math.round(t2 - t1),
      total_ms: Math.round(t2 - t0),
      total_cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
      load_log_after_8_all_sessions_ms: Math.round(t3 - t2),
      load_log_after_entries: after,
    };
  });
}

/** Runs a phase in a fresh node process so its RSS is not polluted by earlier phases. */
function child(phase, ...args) {
  const script = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ["--expose-gc", script, phase, ...args], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(out);
}

/** Memory once garbage (including freed scan buffers) has been collected. */
async function memory() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { rss, heapUsed, arrayBuffers } = process.memoryUsage();
  return { rss, heapUsed, arrayBuffers };
}

const MiB = 1024 * 1024;
function delta(before, after, sessions, entries) {
  return {
    sessions,
    entries,
    rss_delta_mib: +((after.rss - before.rss) / MiB).toFixed(1),
    heap_delta_mib: +((after.heapUsed - before.heapUsed) / MiB).toFixed(1),
    array_buffers_delta_mib: +((after.arrayBuffers - before.arrayBuffers) / MiB).toFixed(1),
    rss_bytes_per_session: Math.round((after.rss - before.rss) / sessions),
  };
}

const phase = process.argv[2];
if (phase === "rss-file") {
  const [dir, sessions, perSession] = process.argv.slice(3);
  const before = await memory();
  const store = await FileStore.open({ dir, logger: quiet });
  const after = await memory();
  console.log(JSON.stringify(delta(before, after, Number(sessions), Number(sessions) * Number(perSession))));
  await store.close();
} else if (phase === "rss-memory") {
  const [sessions, perSession] = process.argv.slice(3).map(Number);
  const before = await memory();
  const store = new MemoryStore();
  for (let seq = 1; seq <= perSession; seq++) {
    for (let i = 0; i < sessions; i++) await store.append(`s-${i}`, [entry(`s-${i}`, seq)]);
  }
  const after = await memory();
  // Touch the store after measuring so it cannot be collected before the measurement.
  const held = (await store.listSessions()).length;
  console.log(JSON.stringify(delta(before, after, held, sessions * perSession)));
} else {
  const startedAt = new Date().toISOString();
  const results = {
    date: startedAt,
    node: process.version,
    cpus: os.cpus().length,
    load_average_at_start: os.loadavg().map((load) => +load.toFixed(2)),
    payload_bytes: PAYLOAD_BYTES,
    duration_ms_per_run: DURATION_MS,
    append: {
      file_group_commit: await median(() => fileThroughput("group")),
      file_per_append_sync: await median(() => fileThroughput("per-append")),
      memory: await median(() => appendThroughput(new MemoryStore())),
      ...(await interleavedMedians({
        postgres: () => postgresThroughput(true),
        postgres_unfenced_baseline: () => postgresThroughput(false),
      })),
    },
    restart_file: await restart(10_000, 10),
    resident_memory: await withTempDir(async (dir) => {
      await populate(dir, 100_000, 5);
      return {
        file_index: child("rss-file", dir, "100000", "5"),
        memory_backend: child("rss-memory", "100000", "5"),
      };
    }),
  };
  console.log(JSON.stringify(results, null, 2));
}

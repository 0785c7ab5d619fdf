// The file backend's in-memory log index at scale: insert time, lookup time and bytes per
// session with one log entry per session (a session's SessionStart), for the session table
// (`LogIndex`) and, as the baseline measured in the same run, the Map-based index it replaced.
// Prints one JSON document. Each point runs in its own process (`--expose-gc`) so its memory is
// measured alone. Run after building storage (`npx -y pnpm@10 run build`):
//   node bench/storage-index/run.mjs                                   # 1M and 10M sessions
//   BENCH_SESSIONS=50000000 BENCH_BASELINE=0 node bench/storage-index/run.mjs   # one 50M point
// Env: BENCH_SESSIONS (comma-separated sizes), BENCH_LOOKUPS (default 1,000,000 hits and as many
// misses), BENCH_BASELINE (0 skips the Map baseline), BENCH_HEAP_MB (--max-old-space-size of
// each point, default 8192).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import os from "node:os";
import { LogIndex } from "@macp/storage";
import { MapLogIndex } from "./map-index.mjs";

const SIZES = (process.env.BENCH_SESSIONS ?? "1000000,10000000").split(",").map(Number);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 1_000_000);
const BASELINE = process.env.BENCH_BASELINE !== "0";
const HEAP_MB = Number(process.env.BENCH_HEAP_MB ?? 8192);
const BATCH = 1_000_000;

const HEX = Buffer.from("0123456789abcdef", "latin1");
const idBytes = Buffer.from("00000000-0000-4000-a000-000000000000", "latin1");
const HEX_POSITIONS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 15, 16, 17, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35];

/**
 * A canonical lowercase v4-shaped UUID derived from `n` (distinct for distinct n below 2^32), as a
 * flat string like one decoded from the wire: a string built by concatenation would be a rope
 * that costs the Map baseline several times its real size.
 */
function sessionId(n) {
  const a = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  const b = Math.imul(n ^ 0xc2b2ae35, 0x27d4eb2f) >>> 0;
  // 30 hex digits: n itself (8), then two mixes of it (22), so ids differ early and are unique.
  let digits = 0;
  for (const [value, count] of [[n >>> 0, 8], [a, 8], [b, 8], [a ^ b, 6]]) {
    for (let i = count - 1; i >= 0; i--) idBytes[HEX_POSITIONS[digits++]] = HEX[(value >>> (i * 4)) & 15];
  }
  return idBytes.toString("latin1");
}

function heapBytes() {
  globalThis.gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

/** One point, in this process: prints its JSON result. */
function runPoint(kind, sessions) {
  const before = heapBytes();
  const index = kind === "table" ? new LogIndex() : new MapLogIndex();
  let insertMs = 0;
  let failure;
  let inserted = 0;
  try {
    for (let start = 0; start < sessions; start += BATCH) {
      const ids = Array.from({ length: Math.min(BATCH, sessions - start) }, (_, i) => sessionId(start + i));
      const t0 = performance.now();
      for (const [i, id] of ids.entries()) {
        index.add(id, 1, (start + i) * 64, 64, 0, 0, 1);
        inserted++;
      }
      insertMs += performance.now() - t0;
    }
  } catch (error) {
    failure = `${error.name}: ${error.message} at session ${inserted + 1}`;
  }
  const held = heapBytes() - before;
  const lookups = Math.min(LOOKUPS, inserted);
  const hits = Array.from({ length: lookups }, (_, i) => sessionId(Math.floor((i * 2654435761) % inserted)));
  const misses = Array.from({ length: lookups }, (_, i) => sessionId(inserted + i));
  let found = 0;
  let t0 = performance.now();
  for (const id of hits) found += index.all(id).length;
  const hitMs = performance.now() - t0;
  t0 = performance.now();
  for (const id of misses) found += index.all(id).length;
  const missMs = performance.now() - t0;
  if (found !== lookups) throw new Error(`lookups found ${found} entries, expected ${lookups}`);
  const result = {
    index: kind === "table" ? "session table (LogIndex)" : "Map baseline",
    sessions,
    inserted,
    failure,
    insertNsPerSession: Math.round((insertMs * 1e6) / Math.max(inserted, 1)),
    insertsPerSecond: Math.round(inserted / (insertMs / 1000)),
    lookupHitNs: Math.round((hitMs * 1e6) / Math.max(lookups, 1)),
    lookupMissNs: Math.round((missMs * 1e6) / Math.max(lookups, 1)),
    heapAndArrayBufferBytes: held,
    bytesPerSession: Math.round((held / Math.max(inserted, 1)) * 10) / 10,
  };
  if (kind === "table") {
    result.structureBytesPerSession = {
      sessionTable: Math.round((index.sessions.byteLength / inserted) * 10) / 10,
      entriesAndColumns: Math.round((index.byteLength / inserted) * 10) / 10,
    };
  }
  process.stdout.write(JSON.stringify(result));
}

if (process.argv[2] === "--point") {
  runPoint(process.argv[3], Number(process.argv[4]));
} else {
  const script = fileURLToPath(import.meta.url);
  const points = [];
  for (const sessions of SIZES) {
    for (const kind of BASELINE ? ["map", "table"] : ["table"]) {
      const started = Date.now();
      const output = execFileSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, "--expose-gc", script, "--point", kind, String(sessions)], {
        encoding: "utf8",
        maxBuffer: 1 << 20,
      });
      points.push({ ...JSON.parse(output), wallSeconds: Math.round((Date.now() - started) / 100) / 10 });
    }
  }
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg().map((load) => Math.round(load * 100) / 100),
    entriesPerSession: 1,
    points,
  };
  console.log(JSON.stringify(report, null, 2));
}

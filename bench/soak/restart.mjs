// Restart time of the runtime daemon with a long history on the file backend: the data directory
// is written directly through the storage API (not over gRPC, which would take hours at 1M
// sessions; without fdatasync, since a bench fixture need not survive a power cut), then the real
// daemon (`services/runtime/dist/main.js`) is started on it twice and timed until it listens
// (the store opens from its index checkpoint). Baselines in the same run: the store opened with a
// full scan of every record (`strictRecovery`, which ignores the checkpoint), and optionally the
// earlier start path that rebuilt every stored session. Prints one JSON document.
// Run after `npx -y pnpm@10 run build`:
//   node bench/soak/restart.mjs
//   BENCH_FINISHED=1000000 BENCH_OPEN=1000 node bench/soak/restart.mjs
// Env: BENCH_FINISHED (finished Decision sessions, 5 log entries each; default 200000), BENCH_OPEN
// (open ones, default 1000), BENCH_BASELINE_SESSIONS (sessions the rebuild baseline rebuilds,
// default 0 = skipped; its total is extrapolated when the directory holds more), BENCH_PROPOSALS (Proposals per
// session, default 1: a finished session has 4 + this many records, an open one 2 + this many),
// BENCH_DIR (keep the data dir there instead of a temp dir).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir, loadavg, cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeId, PROTOCOL_VERSION, encodePayloadJson } from "@macp/protocol";
import { rebuildSession } from "@macp/replay";
import { FileStore } from "@macp/storage";

const FINISHED = Number(process.env.BENCH_FINISHED ?? 200_000);
const OPEN = Number(process.env.BENCH_OPEN ?? 1_000);
const BASELINE_SESSIONS = Number(process.env.BENCH_BASELINE_SESSIONS ?? 0);
const PROPOSALS = Number(process.env.BENCH_PROPOSALS ?? 1);
const DAEMON = fileURLToPath(new URL("../../services/runtime/dist/main.js", import.meta.url));
const quiet = { info: () => undefined, warn: () => undefined };
const noSync = async () => undefined;
const COORDINATOR = "agent://coordinator";
const ALICE = "agent://alice";
const T0 = Date.now() - 3_600_000;

const sessionIdFor = (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

function envelope(sessionId, messageType, sender, messageId, json) {
  const payload = encodePayloadJson(ModeId.Decision, messageType, json);
  return { macpVersion: PROTOCOL_VERSION, mode: ModeId.Decision, messageType, messageId, sessionId, sender, timestampUnixMs: 0n, payload };
}

/**
 * One session driven through the kernel, as its log appends and final snapshot: every generated
 * session is a copy with another id (5 records: SessionStart + policy binding, Proposal, Vote,
 * Commitment when finished; the first 3 when open).
 */
async function template(finished) {
  // The core store: its close keeps the data readable.
  const store = new InMemorySessionStore();
  const clock = new ManualClock(T0);
  const kernel = new Kernel({ store, clock, modes: new ModeRegistry(), policies: new PolicyRegistry(), snapshotEvery: 0 });
  const id = sessionIdFor(0xfffffffff);
  const sends = [
    envelope(id, "SessionStart", COORDINATOR, "start", {
      intent: "restart bench", participants: [COORDINATOR, ALICE], mode_version: "1.0.0", configuration_version: "cfg-1", ttl_ms: 86_400_000,
    }),
    ...Array.from({ length: PROPOSALS }, (_, i) =>
      envelope(id, "Proposal", COORDINATOR, `p${i + 1}`, { proposal_id: `p${i + 1}`, option: "ship it", rationale: "bench" }),
    ),
    ...(finished
      ? [
          envelope(id, "Vote", ALICE, "v1", { proposal_id: "p1", vote: "APPROVE", reason: "fine" }),
          envelope(id, "Commitment", COORDINATOR, "c1", {
            commitment_id: "c1", action: "decision.selected", authority_scope: "bench", reason: "done",
            mode_version: "1.0.0", configuration_version: "cfg-1", policy_version: "", outcome_positive: true,
          }),
        ]
      : []),
  ];
  for (const message of sends) {
    clock.advance(5);
    const outcome = await kernel.send(message, { sender: message.sender });
    if (!outcome.ok) throw new Error(`${message.messageType}: ${outcome.error?.message}`);
  }
  await kernel.close();
  const log = await store.loadLog(id);
  const snapshot = await store.loadSnapshot(id);
  // One append call per accepted message, as the kernel makes them (SessionStart with its binding).
  const appends = [log.slice(0, 2), ...log.slice(2).map((entry) => [entry])];
  return { id, appends, snapshot };
}

async function populate(dir) {
  const store = await FileStore.open({ dir, logger: quiet, sync: noSync });
  const kinds = [
    { count: FINISHED, shape: await template(true), offset: 0 },
    { count: OPEN, shape: await template(false), offset: FINISHED },
  ];
  let entries = 0;
  const started = performance.now();
  for (const { count, shape, offset } of kinds) {
    for (let start = 0; start < count; start += 5_000) {
      const writes = [];
      for (let n = start; n < Math.min(count, start + 5_000); n++) {
        const id = sessionIdFor(offset + n + 1);
        for (const append of shape.appends) {
          writes.push(store.append(id, append.map((entry) => ({ ...entry, sessionId: id }))));
          entries += append.length;
        }
        if (shape.snapshot) writes.push(store.writeSnapshot(id, { ...shape.snapshot, state: shape.snapshot.state.replaceAll(shape.id, id) }));
      }
      await Promise.all(writes);
    }
  }
  await store.close();
  return { entries, ms: Math.round(performance.now() - started) };
}

function bytesUnder(path) {
  let total = 0;
  for (const name of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, name.name);
    total += name.isDirectory() ? bytesUnder(child) : statSync(child).size;
  }
  return total;
}

/** Starts the daemon on `dir`, waits until it listens, reads its recovery log line and peak RSS, stops it. */
function daemonRestart(dir) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [DAEMON], {
      env: {
        ...process.env,
        MACP_DATA_DIR: dir,
        MACP_BIND_ADDR: "127.0.0.1:0",
        MACP_ALLOW_INSECURE: "1",
        MACP_METRICS_ADDR: "off",
        MACP_LOG_LEVEL: "info",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    let readyMs;
    child.stdout.on("data", (chunk) => {
      output += chunk;
      if (readyMs === undefined && /listening on \S+/.test(output)) {
        readyMs = Math.round(performance.now() - started);
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const peakRssMiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        const rssMiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
        // CPU the daemon used until ready: on a machine shared with other work, wall time is mostly waiting for a core.
        const [utime, stime] = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ").slice(11, 13).map(Number);
        const recovery = output.split("\n").map((line) => {
          try {
            return JSON.parse(line);
          } catch {
            return undefined;
          }
        }).find((line) => line?.msg?.startsWith("recovered "));
        const opened = /opened file store [^:]+: (.*)\((\d+) ms\)/.exec(output);
        child.once("exit", (code) =>
          resolve({
            ready_ms: readyMs,
            store_open_ms: opened ? Number(opened[2]) : undefined,
            store_open: opened?.[1].trim(),
            recovered_sessions: recovery?.sessions,
            recovery_ms: recovery?.ms,
            peak_rss_mib: Math.round(peakRssMiB),
            rss_at_ready_mib: Math.round(rssMiB),
            cpu_ms_until_ready: (utime + stime) * 10,
            exit_code: code,
          }),
        );
        child.kill("SIGTERM");
      }
    });
    child.once("exit", (code) => {
      if (readyMs === undefined) reject(new Error(`daemon exited with ${code} before listening:\n${output}`));
    });
  });
}

/** Baseline: the store opened with a scan of every record (strict recovery ignores the checkpoint). */
async function fullScanOpen(dir) {
  const started = performance.now();
  const store = await FileStore.open({ dir, logger: quiet, strictRecovery: true });
  const ms = Math.round(performance.now() - started);
  await store.close();
  return { store_open_ms: ms };
}

/** The earlier start path: open the store and rebuild every stored session (at most `limit`). */
async function rebuildEverything(dir, limit) {
  const started = performance.now();
  const store = await FileStore.open({ dir, logger: quiet });
  const opened = performance.now();
  const modes = new ModeRegistry();
  const ids = await store.listSessions();
  const rebuilt = Math.min(limit, ids.length);
  for (let i = 0; i < rebuilt; i++) await rebuildSession(store, modes, ids[i]);
  const replayMs = performance.now() - opened;
  await store.close();
  return {
    store_open_ms: Math.round(opened - started),
    sessions_rebuilt: rebuilt,
    rebuild_ms: Math.round(replayMs),
    estimated_ready_ms_for_all: Math.round(opened - started + (replayMs * ids.length) / rebuilt),
  };
}

const dir = process.env.BENCH_DIR ?? mkdtempSync(join(tmpdir(), "macp-restart-"));
try {
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    load_before: loadavg().map((l) => Number(l.toFixed(2))),
    finished_sessions: FINISHED,
    open_sessions: OPEN,
    proposals_per_session: PROPOSALS,
  };
  const populated = await populate(dir);
  results.log_entries = populated.entries;
  results.populate_ms = populated.ms;
  results.disk_bytes = bytesUnder(dir);
  results.checkpoint_bytes = bytesUnder(join(dir, "index"));
  results.restart = await daemonRestart(dir);
  results.restart_again = await daemonRestart(dir);
  results.baseline_full_scan_open = await fullScanOpen(dir);
  if (BASELINE_SESSIONS > 0) results.baseline_rebuild_every_session = await rebuildEverything(dir, BASELINE_SESSIONS);
  results.load_after = loadavg().map((l) => Number(l.toFixed(2)));
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  if (process.env.BENCH_DIR === undefined) rmSync(dir, { recursive: true, force: true });
}

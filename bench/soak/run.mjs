// Soak of the runtime daemon (file backend): N minutes of short Decision sessions driven to their
// Commitment by concurrent clients, plus sessions started with a short TTL and left to expire;
// every SOAK_SAMPLE_SECS the daemon's RSS, heap, open fds, storage bytes, resident and stored
// sessions and expiry/eviction lag are read from its /metrics; then the load stops, the expiring
// sessions are checked, and the daemon is restarted on the same directory and timed until it
// listens. Prints one JSON document. Run after `npx -y pnpm@10 run build`:
//   SOAK_MINUTES=6 node bench/soak/run.mjs
// Env: SOAK_MINUTES (default 5), SOAK_CLIENTS (concurrent clients, default 8), SOAK_SAMPLE_SECS
// (default 30), SOAK_EXPIRING_EVERY (one TTL session per this many finished ones, default 2),
// SOAK_TTL_MS (of those, default 5000), SOAK_SESSION_RETENTION_SECS (memory, default 10),
// SOAK_HISTORY_RETENTION_SECS (disk, default 120), SOAK_CLEANUP_SECS (default 2).
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildEnvelope, buildSessionStart, createMacpClient } from "@macp/client";
import { ModeId, SessionState, encodePayloadJson } from "@macp/protocol";

const MINUTES = Number(process.env.SOAK_MINUTES ?? 5);
const CLIENTS = Number(process.env.SOAK_CLIENTS ?? 8);
const SAMPLE_SECS = Number(process.env.SOAK_SAMPLE_SECS ?? 30);
const EXPIRING_EVERY = Number(process.env.SOAK_EXPIRING_EVERY ?? 2);
const TTL_MS = Number(process.env.SOAK_TTL_MS ?? 5_000);
const CLEANUP_SECS = Number(process.env.SOAK_CLEANUP_SECS ?? 2);
const DAEMON = fileURLToPath(new URL("../../services/runtime/dist/main.js", import.meta.url));
const COORDINATOR = "agent://soak-coordinator";
const PEER = "agent://soak-peer";

const env = (dir) => ({
  ...process.env,
  MACP_DATA_DIR: dir,
  MACP_BIND_ADDR: "127.0.0.1:0",
  MACP_METRICS_ADDR: "127.0.0.1:0",
  MACP_ALLOW_INSECURE: "1",
  MACP_LOG_LEVEL: "info",
  MACP_SESSION_RETENTION_SECS: process.env.SOAK_SESSION_RETENTION_SECS ?? "10",
  MACP_HISTORY_RETENTION_SECS: process.env.SOAK_HISTORY_RETENTION_SECS ?? "120",
  MACP_CLEANUP_INTERVAL_SECS: String(CLEANUP_SECS),
  MACP_SESSION_START_LIMIT_PER_MINUTE: "10000000",
  MACP_MESSAGE_LIMIT_PER_MINUTE: "10000000",
});

/** Starts the daemon; resolves once it listens, with its addresses, start time and recovery line. */
function startDaemon(dir) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [DAEMON], { env: env(dir), stdio: ["ignore", "pipe", "inherit"] });
    let output = "";
    let ready = false;
    child.stdout.on("data", (chunk) => {
      output += chunk;
      const address = /listening on (\S+)/.exec(output);
      const metrics = /Prometheus metrics at (\S+)/.exec(output);
      if (!ready && address && metrics) {
        ready = true;
        const recovered = /"sessions":(\d+)[^\n]*"ms":(\d+)[^\n]*recovered /.exec(output);
        const opened = /opened file store [^:]+: (.*)\((\d+) ms\)/.exec(output);
        // CPU used until ready: on a shared machine, wall time is mostly waiting for a core.
        const [utime, stime] = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1].split(" ").slice(11, 13).map(Number);
        resolve({
          child,
          address: address[1],
          metricsUrl: metrics[1],
          readyMs: Math.round(performance.now() - started),
          recoveredSessions: recovered ? Number(recovered[1]) : undefined,
          recoveryMs: recovered ? Number(recovered[2]) : undefined,
          storeOpenMs: opened ? Number(opened[2]) : undefined,
          storeOpen: opened?.[1].trim(),
          cpuMsUntilReady: (utime + stime) * 10,
        });
      }
      // Keep only the tail: the daemon logs a line per retention pass.
      if (ready && output.length > 100_000) output = output.slice(-10_000);
    });
    child.once("exit", (code) => {
      if (!ready) reject(new Error(`daemon exited with ${code} before listening:\n${output}`));
    });
  });
}

function stopDaemon(child) {
  return new Promise((resolve) => {
    child.once("exit", (code) => resolve(code));
    child.kill("SIGTERM");
  });
}

async function scrape(url) {
  const text = await (await fetch(url)).text();
  const sum = (name, filter = "") => {
    let total = 0;
    for (const line of text.split("\n")) {
      if (line.startsWith(name) && (line[name.length] === " " || line[name.length] === "{") && line.includes(filter)) {
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return total;
  };
  return {
    rss_mib: Math.round(sum("process_resident_memory_bytes") / 2 ** 20),
    heap_mib: Math.round(sum("nodejs_heap_size_used_bytes") / 2 ** 20),
    open_fds: sum("process_open_fds"),
    disk_log_mib: Number((sum("macp_storage_bytes", 'kind="log"') / 2 ** 20).toFixed(1)),
    disk_snapshots_mib: Number((sum("macp_storage_bytes", 'kind="snapshots"') / 2 ** 20).toFixed(1)),
    index_mib: Number((sum("macp_storage_bytes", 'kind="index"') / 2 ** 20).toFixed(1)),
    resident_sessions: sum("macp_sessions"),
    resident_open: sum("macp_open_sessions"),
    stored_finished: sum("macp_stored_sessions", 'state="finished"'),
    stored_unfinished: sum("macp_stored_sessions", 'state="unfinished"'),
    history_removed: sum("macp_history_removed_total"),
    expiry_lag_s: sum("macp_expiry_lag_seconds"),
    eviction_lag_s: sum("macp_eviction_lag_seconds"),
  };
}

const decision = (sessionId, messageType, json) =>
  buildEnvelope({ mode: ModeId.Decision, sessionId, messageType, messageId: randomUUID(), payload: encodePayloadJson(ModeId.Decision, messageType, json) });

const start = (sessionId, ttlMs) =>
  buildSessionStart({
    mode: ModeId.Decision,
    sessionId,
    messageId: randomUUID(),
    payload: { intent: "soak", participants: [COORDINATOR, PEER], modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs },
  });

async function send(client, envelope) {
  const { ack } = await client.send({ envelope });
  if (!ack?.ok) throw new Error(`${envelope.messageType}: ${ack?.error?.code} ${ack?.error?.message}`);
}

const dir = mkdtempSync(join(tmpdir(), "macp-soak-"));
let daemon;
try {
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    load_before: loadavg().map((l) => Number(l.toFixed(2))),
    minutes: MINUTES,
    clients: CLIENTS,
    settings: { ...Object.fromEntries(Object.entries(env(dir)).filter(([k]) => /RETENTION|CLEANUP/.test(k))), ttl_ms: TTL_MS, expiring_every: EXPIRING_EVERY },
  };
  daemon = await startDaemon(dir);
  const clients = Array.from({ length: CLIENTS }, () => createMacpClient({ address: daemon.address, auth: { bearer: COORDINATOR }, defaultDeadlineMs: 30_000 }));
  const expiring = [];
  let finished = 0;
  let errors = 0;
  const until = Date.now() + MINUTES * 60_000;
  const t0 = Date.now();
  const samples = [];
  const sampler = setInterval(() => {
    scrape(daemon.metricsUrl).then(
      (sample) => samples.push({ t_s: Math.round((Date.now() - t0) / 1000), finished_total: finished, expiring_started: expiring.length, ...sample }),
      () => undefined,
    );
  }, SAMPLE_SECS * 1000);
  await Promise.all(
    clients.map(async (client) => {
      while (Date.now() < until) {
        try {
          const id = randomUUID();
          await send(client, start(id, 600_000));
          await send(client, decision(id, "Proposal", { proposal_id: "p1", option: "ship", rationale: "soak" }));
          await send(client, decision(id, "Commitment", {
            commitment_id: "c1", action: "decision.selected", authority_scope: "soak", reason: "done",
            mode_version: "1.0.0", configuration_version: "cfg-1", policy_version: "", outcome_positive: true,
          }));
          finished++;
          if (finished % EXPIRING_EVERY === 0) {
            const ttlId = randomUUID();
            await send(client, start(ttlId, TTL_MS));
            expiring.push({ id: ttlId, deadline: Date.now() + TTL_MS });
          }
        } catch {
          errors++;
        }
      }
    }),
  );
  clearInterval(sampler);
  const loadEnd = Date.now();
  results.finished_sessions = finished;
  results.expiring_sessions = expiring.length;
  results.send_errors = errors;
  results.finished_per_sec = Math.round(finished / ((loadEnd - t0) / 1000));
  // The last expiring sessions are due TTL after the load stopped: give the sweep its interval + 2 s.
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + (CLEANUP_SECS + 2) * 1000));
  const peek = await clients[0].listSessions();
  const stillOpen = new Set(peek.sessions.filter((s) => s.state === SessionState.SESSION_STATE_OPEN).map((s) => s.sessionId));
  results.expiring_still_open_at_ttl_plus_cleanup_plus_2s = expiring.filter((s) => stillOpen.has(s.id)).length;
  results.samples = samples;
  results.final = await scrape(daemon.metricsUrl);
  for (const client of clients) client.close();
  await stopDaemon(daemon.child);
  daemon = undefined;
  const restarted = await startDaemon(dir);
  results.restart = {
    ready_ms: restarted.readyMs,
    cpu_ms_until_ready: restarted.cpuMsUntilReady,
    store_open_ms: restarted.storeOpenMs,
    store_open: restarted.storeOpen,
    recovered_sessions: restarted.recoveredSessions,
    recovery_ms: restarted.recoveryMs,
  };
  results.after_restart = await scrape(restarted.metricsUrl);
  await stopDaemon(restarted.child);
  results.load_after = loadavg().map((l) => Number(l.toFixed(2)));
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  if (daemon) await stopDaemon(daemon.child);
  rmSync(dir, { recursive: true, force: true });
}

// Expiry of many sessions at once: BENCH_SESSIONS sessions (default 200,000) are started through
// the kernel on the file backend (real fdatasync, group commit) while the clock stands still, so
// they all share one deadline; then the clock runs and the sweep runs every BENCH_CLEANUP_SECS as
// the daemon's does. Measures, for every session, the time from its deadline to its EXPIRED
// lifecycle event, and how long each sweep took. Goal (issue 19): every session EXPIRED within
// the cleanup interval + 2 s. Prints one JSON document. Run after `npx -y pnpm@10 run build`:
//   node bench/soak/expiry.mjs
// Env: BENCH_SESSIONS, BENCH_TTL_MS (default 5000), BENCH_CLEANUP_SECS (default 2).
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeId, PROTOCOL_VERSION, encodePayloadJson } from "@macp/protocol";
import { FileStore } from "@macp/storage";

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 200_000);
const TTL_MS = Number(process.env.BENCH_TTL_MS ?? 5_000);
const CLEANUP_SECS = Number(process.env.BENCH_CLEANUP_SECS ?? 2);
const COORDINATOR = "agent://coordinator";
const quiet = { info: () => undefined, warn: () => undefined };

/** Stands still at `frozenAt` until started, then runs at wall-clock speed from there. */
class StartableClock {
  frozenAt = Date.now();
  startedAt = undefined;
  now() {
    return this.startedAt === undefined ? this.frozenAt : this.frozenAt + Math.floor(performance.now() - this.startedAt);
  }
  start() {
    this.startedAt = performance.now();
  }
}

const sessionIdFor = (n) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;

function sessionStart(sessionId) {
  const payload = encodePayloadJson(ModeId.Decision, "SessionStart", {
    intent: "expiry bench", participants: [COORDINATOR, "agent://alice"], mode_version: "1.0.0", configuration_version: "cfg-1", ttl_ms: TTL_MS,
  });
  return { macpVersion: PROTOCOL_VERSION, mode: ModeId.Decision, messageType: "SessionStart", messageId: `start-${sessionId}`, sessionId, sender: COORDINATOR, timestampUnixMs: 0n, payload };
}

const dir = mkdtempSync(join(tmpdir(), "macp-expiry-"));
try {
  const results = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, load_before: loadavg().map((l) => Number(l.toFixed(2))), sessions: SESSIONS, ttl_ms: TTL_MS, cleanup_secs: CLEANUP_SECS };
  const store = await FileStore.open({ dir, logger: quiet });
  const clock = new StartableClock();
  const kernel = new Kernel({ store, clock, modes: new ModeRegistry(), policies: new PolicyRegistry(), snapshotEvery: 64, retainFinishedMs: 10_000 });
  const started = performance.now();
  for (let from = 0; from < SESSIONS; from += 2_000) {
    const sends = [];
    for (let n = from; n < Math.min(SESSIONS, from + 2_000); n++) {
      const envelope = sessionStart(sessionIdFor(n + 1));
      sends.push(kernel.send(envelope, { sender: COORDINATOR }).then((outcome) => {
        if (!outcome.ok) throw new Error(outcome.error?.message);
      }));
    }
    await Promise.all(sends);
  }
  results.start_ms = Math.round(performance.now() - started);

  // Deadlines are strictly after frozenAt + TTL; the sweep expires what is past it.
  const deadline = clock.frozenAt + TTL_MS;
  const lags = [];
  const unsubscribe = kernel.subscribeLifecycle((event) => {
    if (event.type === "EXPIRED") lags.push(clock.now() - deadline);
  });
  const sweeps = [];
  let sweeping = false;
  clock.start();
  const timer = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    const at = performance.now();
    kernel.sweep().then((expired) => {
      if (expired > 0) sweeps.push({ at_s: Number(((clock.now() - deadline) / 1000).toFixed(2)), expired, ms: Math.round(performance.now() - at) });
      sweeping = false;
    });
  }, CLEANUP_SECS * 1000);
  const giveUpAt = performance.now() + TTL_MS + 120_000;
  while (lags.length < SESSIONS && performance.now() < giveUpAt) await new Promise((resolve) => setTimeout(resolve, 100));
  clearInterval(timer);
  unsubscribe();
  lags.sort((a, b) => a - b);
  const pick = (q) => Math.round(lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? NaN);
  results.expired = lags.length;
  results.lag_after_deadline_ms = { p50: pick(0.5), p99: pick(0.99), max: pick(1) };
  results.goal_ms = (CLEANUP_SECS + 2) * 1000;
  results.within_goal = lags.length === SESSIONS && (lags[lags.length - 1] ?? Infinity) <= results.goal_ms;
  results.sweeps = sweeps;
  while (sweeping) await new Promise((resolve) => setTimeout(resolve, 50));
  await kernel.close();
  await store.close();
  results.load_after = loadavg().map((l) => Number(l.toFixed(2)));
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// Control-plane HTTP throughput with autocannon: POST /runs with the design note's
// ExecutionRequest (decision mode, two participants, context, metadata, one kickoff Proposal,
// tags, requester) and a unique idempotency key per request (built in autocannon's setupRequest), and GET /runs/:id, at 1, 16 and 64
// connections. The control plane is its built binary in production mode (API-key auth, request
// logging at `info` to a file, Postgres on this machine); every created run is really launched:
// the control plane starts the session on a runtime daemon (memory backend, static tokens, own process) as the
// initiator, sends the kickoff with the sender's credential and follows the session. Baseline in
// the same run, right before each control-plane phase and at the same concurrency: a bare
// Fastify 5 process (`hello-server.mjs`) answering GET /hello and POST /hello (same body); and the
// Postgres ceiling: the same `select * from runs where id = $1` that GET /runs/:id makes, issued
// by as many concurrent `pg` clients as there are connections, straight from this process (one
// request can never be faster than its round trips to a Postgres that shares the host's CPUs).
// Each concurrency level gets a fresh runtime, schema and control plane. POST errors count HTTP
// errors and every created run that failed or was cancelled once launches settled (runs still
// launching after 60 s are reported as unsettledRuns). Prints JSON.
//
// Env: BENCH_DURATION (s per measurement, 10), BENCH_WARMUP (s, 3), BENCH_CONNECTIONS ("1,16,64"),
// BENCH_ONLY ("post,get"), DATABASE_URL, BENCH_CP_LOG_LEVEL (info), BENCH_CPU_PROF (a directory:
// the control plane runs with --cpu-prof and writes its profiles there), BENCH_CP_ENV (JSON of
// extra control-plane variables), BENCH_KEEP_LOGS.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import pg from "pg";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = (process.env.BENCH_CONNECTIONS ?? "1,16,64").split(",").map(Number);
const ONLY = new Set((process.env.BENCH_ONLY ?? "post,get").split(","));
const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const CP_LOG_LEVEL = process.env.BENCH_CP_LOG_LEVEL ?? "info";
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF;
const API_KEY = `bench-${randomUUID()}`;
const DECISION = "macp.mode.decision.v1";
// Static runtime tokens, as a deployment has them: the control plane observes with its own token
// and speaks only as alice and bob with theirs.
const OBSERVER_TOKEN = `observer-${randomUUID()}`;
const SENDER_TOKENS = { alice: `alice-${randomUUID()}`, bob: `bob-${randomUUID()}` };
const RUNTIME_TOKENS = [
  { token: OBSERVER_TOKEN, sender: "macp-control-plane", is_observer: true, can_start_sessions: false },
  { token: SENDER_TOKENS.alice, sender: "alice" },
  { token: SENDER_TOKENS.bob, sender: "bob" },
];

const RUNTIME_BIN = fileURLToPath(new URL("../node_modules/@macp/runtime/dist/main.js", import.meta.url));
// BENCH_CONTROL_PLANE_BIN: another build of the control plane (e.g. an older commit's, to compare).
const CONTROL_PLANE_BIN = process.env.BENCH_CONTROL_PLANE_BIN ?? fileURLToPath(new URL("../node_modules/@macp/control-plane/dist/main.js", import.meta.url));
const HELLO_BIN = fileURLToPath(new URL("./hello-server.mjs", import.meta.url));

/** The design note's ExecutionRequest with idempotency key `key`. */
function designNoteRequest(key) {
  return {
    mode: "live",
    runtime: { kind: "rust" },
    session: {
      modeName: DECISION,
      modeVersion: "1.0.0",
      configurationVersion: "cfg-1",
      ttlMs: 3_600_000,
      participants: [
        { id: "alice", role: "lead" },
        { id: "bob", role: "reviewer" },
      ],
      context: { ticket: "BENCH-1", budgetUsd: 1200 },
      metadata: { intent: "pick a vendor", source: "bench", sourceRef: "bench/control-plane/http.mjs", environment: "bench", scenarioRef: "vendor-choice" },
    },
    kickoff: [{ from: "alice", to: ["bob"], kind: "proposal", messageType: "Proposal", payload: { proposal_id: "p1", option: "deploy", rationale: "ready" } }],
    execution: { idempotencyKey: key, tags: ["bench"], requester: { actorId: "alice", actorType: "service" } },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); null elsewhere. */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Spawns `args` with `env`; resolves the first match of `pattern` in its output. */
async function spawnUntil(args, env, pattern, extra = {}) {
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"], ...extra });
  let output = "";
  const match = await new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk.toString();
      const found = pattern.exec(output);
      if (found) {
        child.stdout.off("data", onData);
        child.stderr.off("data", onData);
        // Keep draining so a chatty child never blocks on a full pipe.
        child.stdout.resume();
        child.stderr.resume();
        resolve(found[1]);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => reject(new Error(`${args[0]} exited with ${code}: ${output}`)));
  });
  return { value: match, child, stop: () => stopChild(child) };
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on("exit", resolve);
    child.kill("SIGTERM");
  });
}

function spawnRuntime() {
  return spawnUntil(
    [RUNTIME_BIN],
    {
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_MEMORY_ONLY: "1",
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "silent",
      MACP_SESSION_START_LIMIT_PER_MINUTE: "100000000",
      MACP_MESSAGE_LIMIT_PER_MINUTE: "100000000",
      MACP_AUTH_TOKENS_JSON: JSON.stringify({ tokens: RUNTIME_TOKENS }),
    },
    /listening on (\S+)/,
  );
}

/** The built control plane in production mode; its logs go to a file, as a deployment's would. */
async function spawnControlPlane(runtimeAddress, schema, logDir) {
  const port = await freePort();
  const log = openSync(join(logDir, `${schema}.log`), "a");
  const child = spawn(process.execPath, [...(CPU_PROF_DIR ? ["--cpu-prof", `--cpu-prof-dir=${CPU_PROF_DIR}`] : []), CONTROL_PLANE_BIN], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL,
      DATABASE_SCHEMA: schema,
      AUTH_API_KEYS: API_KEY,
      THROTTLE_LIMIT: "1000000000",
      RUNTIME_ADDRESS: runtimeAddress,
      RUNTIME_ALLOW_INSECURE: "true",
      RUNTIME_DEV_AUTH: "false",
      RUNTIME_BEARER_TOKEN: OBSERVER_TOKEN,
      RUNTIME_SENDER_TOKENS_JSON: JSON.stringify({ alice: SENDER_TOKENS.alice, bob: SENDER_TOKENS.bob }),
      LOG_LEVEL: CP_LOG_LEVEL,
      ...(process.env.BENCH_CP_ENV ? JSON.parse(process.env.BENCH_CP_ENV) : {}),
    },
    stdio: ["ignore", log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`control plane exited with ${child.exitCode}: ${readFileSync(join(logDir, `${schema}.log`), "utf8").slice(-2000)}`);
    const ok = await fetch(`${url}/healthz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error("control plane did not come up");
    await sleep(100);
  }
  return { url, pid: child.pid, stop: () => stopChild(child) };
}

function cannon(options, duration = DURATION) {
  return new Promise((resolve, reject) => {
    autocannon({ ...options, duration }, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Throughput of 2xx answers and latency; errors are connection errors, timeouts and non-2xx. */
function summarize(result) {
  return {
    connections: result.connections,
    seconds: result.duration,
    ok: result["2xx"],
    reqPerSec: Math.round(result["2xx"] / result.duration),
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    errors: result.errors + result.timeouts + result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, count])),
  };
}

/** Warm-up, then the measurement; `pids`: processes whose CPU time per 2xx answer is reported. */
async function measure(options, connections, pids = {}) {
  if (WARMUP > 0) await cannon({ ...options, connections }, WARMUP);
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  const result = summarize(await cannon({ ...options, connections }));
  const cpuMsPerRequest = Object.fromEntries(
    Object.entries(pids).map(([name, pid]) => {
      const after = cpuMs(pid);
      return [name, after === null || before[name] === null || result.ok === 0 ? null : Math.round(((after - before[name]) / result.ok) * 1000) / 1000];
    }),
  );
  return { ...result, cpuMsPerRequest };
}

async function launchOne(cp) {
  const response = await fetch(`${cp.url}/runs`, { method: "POST", headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, body: JSON.stringify(designNoteRequest(`setup-${randomUUID()}`)) });
  const created = await response.json();
  if (response.status !== 201) throw new Error(`POST /runs: ${response.status} ${JSON.stringify(created)}`);
  for (;;) {
    const run = await fetch(`${cp.url}/runs/${created.runId}`, { headers: { authorization: `Bearer ${API_KEY}` } }).then((answer) => answer.json());
    if (run.status === "running") return created.runId;
    if (["failed", "cancelled", "completed"].includes(run.status)) throw new Error(`run ${run.status}: ${JSON.stringify(run)}`);
    await sleep(50);
  }
}

/** Runs by status once launches settle (none `queued`/`starting`/`binding_session`, or 60 s). */
async function settledStatuses(pool, schema) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { rows } = await pool.query(`select status, count(*)::int as count from "${schema}".runs group by status`);
    const statuses = Object.fromEntries(rows.map((row) => [row.status, row.count]));
    if ((!statuses.queued && !statuses.starting && !statuses.binding_session) || Date.now() > deadline) return statuses;
    await sleep(500);
  }
}

/** `select * from runs where id = $1` in `connections` concurrent loops for DURATION seconds. */
async function postgresCeiling(schema, runId, connections) {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: connections, options: `-c search_path="${schema}"` });
  const loop = async (until, counter) => {
    while (Date.now() < until) {
      await pool.query("select * from runs where id = $1", [runId]);
      counter.count += 1;
    }
  };
  try {
    const warm = { count: 0 };
    await Promise.all(Array.from({ length: connections }, () => loop(Date.now() + WARMUP * 1000, warm)));
    const counter = { count: 0 };
    const started = performance.now();
    const until = Date.now() + DURATION * 1000;
    await Promise.all(Array.from({ length: connections }, () => loop(until, counter)));
    const seconds = (performance.now() - started) / 1000;
    return { connections, seconds: Math.round(seconds * 100) / 100, ok: counter.count, reqPerSec: Math.round(counter.count / seconds) };
  } finally {
    await pool.end();
  }
}

const ratio = (value, base) => (base > 0 ? Math.round((value / base) * 1000) / 1000 : null);

async function main() {
  const logDir = mkdtempSync(join(tmpdir(), "bench-cp-http-"));
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  const hello = await spawnUntil([HELLO_BIN], {}, /listening on (\S+)/, { cwd: fileURLToPath(new URL(".", import.meta.url)) });
  const body = JSON.stringify(designNoteRequest(`bench-${randomUUID()}`));
  const prefix = randomUUID();
  let sequence = 0;
  // A new idempotency key on every request (autocannon's own `[<id>]` replacement miscounts
  // Content-Length and stalls the connection).
  const uniqueBody = (request) => ({ ...request, body: JSON.stringify(designNoteRequest(`bench-${prefix}-${(sequence += 1)}`)) });
  const started = { date: new Date().toISOString(), loadAverage: loadavg().map((load) => Math.round(load * 100) / 100) };
  const levels = [];
  const schemas = [];
  try {
    for (const connections of CONNECTIONS) {
      const schema = `bench_http_${Date.now()}_${connections}`;
      schemas.push(schema);
      const runtime = await spawnRuntime();
      const cp = await spawnControlPlane(runtime.value, schema, logDir).catch(async (error) => {
        await runtime.stop();
        throw error;
      });
      const level = { connections, loadAverageAtStart: loadavg().map((load) => Math.round(load * 100) / 100) };
      try {
        const auth = { authorization: `Bearer ${API_KEY}` };
        if (ONLY.has("get")) {
          const runId = await launchOne(cp);
          const base = await measure({ url: `${hello.value}/hello` }, connections, { server: hello.child.pid });
          const ceiling = await postgresCeiling(schema, runId, connections);
          const get = await measure({ url: `${cp.url}/runs/${runId}`, headers: auth }, connections, { server: cp.pid });
          level.get = { baselineHello: base, postgresCeiling: ceiling, controlPlane: get, ratioToBaseline: ratio(get.reqPerSec, base.reqPerSec), ratioToPostgresCeiling: ratio(get.reqPerSec, ceiling.reqPerSec) };
        }
        if (ONLY.has("post")) {
          const headers = { ...auth, "content-type": "application/json" };
          const base = await measure({ url: `${hello.value}/hello`, method: "POST", headers, body }, connections, { server: hello.child.pid });
          const post = await measure({ url: `${cp.url}/runs`, requests: [{ method: "POST", path: "/runs", headers, setupRequest: uniqueBody }] }, connections, { server: cp.pid, runtime: runtime.child.pid });
          const statuses = await settledStatuses(pool, schema);
          // A created run that failed (or never got going) is an error too, whatever its POST answered.
          const failed = (statuses.failed ?? 0) + (statuses.cancelled ?? 0);
          const unsettled = (statuses.queued ?? 0) + (statuses.starting ?? 0) + (statuses.binding_session ?? 0);
          const { rows: failures } = await pool.query(`select error_code, left(error_message, 200) as error_message, count(*)::int as count from "${schema}".runs where status = 'failed' group by 1, 2 order by 3 desc limit 5`);
          level.post = {
            baselineHello: base,
            controlPlane: { ...post, errors: post.errors + failed, httpErrors: post.errors, failedRuns: failed, unsettledRuns: unsettled },
            ratioToBaseline: ratio(post.reqPerSec, base.reqPerSec),
            runsByStatusAfterSettling: statuses,
            failures,
          };
        }
      } finally {
        await cp.stop();
        await runtime.stop();
      }
      levels.push(level);
    }
  } finally {
    await hello.stop();
    for (const schema of schemas) await pool.query(`drop schema if exists "${schema}" cascade`).catch(() => undefined);
    await pool.end();
    if (process.env.BENCH_KEEP_LOGS) process.stderr.write(`control-plane logs kept in ${logDir}\n`);
    else rmSync(logDir, { recursive: true, force: true });
  }
  const result = {
    bench: "control-plane-http",
    ...started,
    finished: new Date().toISOString(),
    loadAverageAtEnd: loadavg().map((load) => Math.round(load * 100) / 100),
    node: process.version,
    controlPlaneBinary: CONTROL_PLANE_BIN,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP,
    controlPlaneLogLevel: CP_LOG_LEVEL,
    goals: { postRunsReqPerSec: 440, getRunReqPerSec: 5400 },
    levels,
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});

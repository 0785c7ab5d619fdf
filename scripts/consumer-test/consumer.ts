// What a user of the published packages writes, run against the packed tarballs installed with
// npm outside the workspace (see ../consumer-test.mjs). It only imports package entry points, so a
// missing file, a wrong "exports" entry or a dependency that exists only in the workspace fails it.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { buildEnvelope, createMacpClient, systemEnvelopeContext, type MacpClient } from "@macp/client";
import { parseCliArgs } from "@macp/cli";
import { ModeRegistry, decisionMode, type ModeEnvelope, type SessionView } from "@macp/modes";
import { DEFAULT_POLICY, evaluateDecision, policyFromDescriptor, validatePolicyDefinition, type DecisionPolicyInput } from "@macp/policy";
import { ModeId, SessionState, decodeSessionStart, encodePayloadJson, type Envelope } from "@macp/protocol";
import { MACPRuntimeServiceClient, MACPRuntimeServiceService } from "@macp/protocol/grpc";
import { hashSessionState, loadStoredSession, summarizeSession, verifySession } from "@macp/replay";
import { createStore } from "@macp/storage";

const runtimeMain = requiredEnv("MACP_RUNTIME_MAIN");
const dataDir = requiredEnv("MACP_CONSUMER_DATA_DIR");
const COORDINATOR = "agent://coordinator";
const ALICE = "agent://alice";
const BOB = "agent://bob";
const PARTICIPANTS = [COORDINATOR, ALICE, BOB];

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} is not set`);
  return value;
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`consumer check failed: ${what}`);
  console.log(`ok - ${what}`);
}

function decisionEnvelope(sessionId: string, messageType: string, json: Record<string, unknown>): Envelope {
  return buildEnvelope(
    { mode: ModeId.Decision, sessionId, messageType, payload: encodePayloadJson(ModeId.Decision, messageType, json) },
    systemEnvelopeContext,
  );
}

function startJson(): Record<string, unknown> {
  return { intent: "pick a vendor", participants: PARTICIPANTS, mode_version: "1.0.0", configuration_version: "cfg-1", ttl_ms: 600_000 };
}

const commitmentJson = {
  commitment_id: "c1",
  action: "decision.selected",
  authority_scope: "vendors",
  reason: "approved by both voters",
  mode_version: "1.0.0",
  configuration_version: "cfg-1",
  policy_version: "",
  outcome_positive: true,
};

/** The daemon from the workspace build, on a free port, with embedded defaults and dev auth. */
async function startDaemon(): Promise<{ address: string; stop(): Promise<number | null> }> {
  const child = spawn(process.execPath, [runtimeMain], {
    env: {
      PATH: process.env["PATH"] ?? "",
      MACP_ALLOW_INSECURE: "1",
      MACP_BIND_ADDR: "127.0.0.1:0",
      MACP_DATA_DIR: dataDir,
      MACP_METRICS_ADDR: "off",
      MACP_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = once(child, "exit");
  const lines = createInterface({ input: child.stdout });
  let address: string | undefined;
  for await (const line of lines) {
    const match = /listening on (\S+)/.exec(line);
    if (match?.[1] !== undefined) {
      address = match[1];
      break;
    }
  }
  if (address === undefined) throw new Error("the runtime exited before listening");
  child.stdout.resume();
  return {
    address,
    async stop() {
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}

async function send(client: MacpClient, envelope: Envelope): Promise<void> {
  const { ack } = await client.send({ envelope });
  if (!ack?.ok) throw new Error(`${envelope.messageType} refused: ${ack?.error?.code} ${ack?.error?.message}`);
}

/** (a) A decision session driven to a binding Commitment through @macp/client. */
async function decisionOverGrpc(address: string): Promise<string> {
  const as = (sender: string) => createMacpClient({ address, auth: { bearer: sender }, defaultDeadlineMs: 10_000 });
  const coordinator = as(COORDINATOR);
  const alice = as(ALICE);
  const bob = as(BOB);
  try {
    check(coordinator.grpcClient instanceof MACPRuntimeServiceClient, "the client is built on @macp/protocol/grpc");
    const init = await coordinator.initialize();
    check(init.selectedProtocolVersion === "1.0" && init.supportedModes.includes(ModeId.Decision), "Initialize negotiates 1.0 and lists the decision mode");
    const sessionId = randomUUID();
    await send(coordinator, decisionEnvelope(sessionId, "SessionStart", startJson()));
    await send(coordinator, decisionEnvelope(sessionId, "Proposal", { proposal_id: "p1", option: "vendor-a" }));
    await send(alice, decisionEnvelope(sessionId, "Vote", { proposal_id: "p1", vote: "APPROVE" }));
    await send(bob, decisionEnvelope(sessionId, "Vote", { proposal_id: "p1", vote: "APPROVE" }));
    await send(coordinator, decisionEnvelope(sessionId, "Commitment", commitmentJson));
    const { metadata } = await coordinator.getSession({ sessionId });
    check(metadata?.state === SessionState.SESSION_STATE_RESOLVED, "the runtime resolved the session after the Commitment");
    return sessionId;
  } finally {
    for (const client of [coordinator, alice, bob]) client.close();
  }
}

/** (b) The same mode and the default policy, in-process and without gRPC. */
function decisionInProcess(): void {
  const start = decodeSessionStart(encodePayloadJson(ModeId.Decision, "SessionStart", startJson()));
  const session: SessionView = {
    sessionId: "in-process",
    mode: ModeId.Decision,
    initiator: COORDINATOR,
    participants: PARTICIPANTS,
    modeVersion: "1.0.0",
    configurationVersion: "cfg-1",
    policyVersion: DEFAULT_POLICY.policyId,
    policy: DEFAULT_POLICY,
    ttlMs: 600_000,
  };
  let step = 0;
  const envelope = (messageType: string, sender: string, json: Record<string, unknown>): ModeEnvelope => ({
    messageType,
    messageId: `m${(step += 1)}`,
    sender,
    timestampUnixMs: BigInt(1_000 + step),
    payload: encodePayloadJson(ModeId.Decision, messageType, json),
  });
  let outcome = decisionMode.start(session, start);
  for (const [type, sender, json] of [
    ["Proposal", COORDINATOR, { proposal_id: "p1", option: "vendor-a" }],
    ["Vote", ALICE, { proposal_id: "p1", vote: "APPROVE" }],
    ["Vote", BOB, { proposal_id: "p1", vote: "REJECT" }],
  ] as const) {
    if (outcome.kind !== "accepted") throw new Error(`${type} rejected: ${outcome.error.code}`);
    outcome = decisionMode.apply(session, outcome.state, envelope(type, sender, json));
  }
  if (outcome.kind !== "accepted") throw new Error(`vote rejected: ${outcome.error.code}`);
  const state = outcome.state as unknown as DecisionPolicyInput;
  check(evaluateDecision(DEFAULT_POLICY, state, PARTICIPANTS, true).allowed, "policy.default allows the commitment");

  const unanimous = policyFromDescriptor({
    policyId: "policy.unanimous",
    mode: ModeId.Decision,
    description: "every vote approves",
    rules: JSON.stringify({ voting: { algorithm: "unanimous" } }),
    schemaVersion: 1,
    registeredAtUnixMs: 0n,
  });
  check(validatePolicyDefinition(unanimous) === undefined, "a policy descriptor validates");
  const verdict = evaluateDecision(unanimous, state, PARTICIPANTS, true);
  check(!verdict.allowed && verdict.reasons.some((reason) => reason.includes("unanimous")), "a unanimous policy denies the positive outcome of a split vote");
}

/** (c) The daemon's stored log replayed with @macp/replay and read by the `macp` command. */
async function replayStoredLog(sessionId: string): Promise<void> {
  const store = await createStore({ backend: "file", dataDir });
  try {
    const modes = new ModeRegistry();
    const verified = await verifySession(store, modes, sessionId);
    check(verified.ok && verified.replayHash !== undefined, "the stored log replays deterministically");
    const state = await loadStoredSession(store, modes, sessionId);
    if (state === undefined) throw new Error("the stored session is missing");
    const summary = summarizeSession(state);
    check(summary.status === "Resolved" && summary.acceptedMessages === 5, "the replayed session is resolved with all five messages");
    check(hashSessionState(state) === verified.replayHash, "replay and rebuild agree on the state hash");
  } finally {
    await store.close();
  }
  const cli = spawnSync("macp", ["verify", sessionId, "--data-dir", dataDir, "--json"], { encoding: "utf8", shell: false });
  check(cli.status === 0 && cli.stdout.includes(sessionId), "the installed `macp verify` bin verifies the session");
  check(parseCliArgs(["sessions", "--data-dir", dataDir], {}).command === "sessions", "@macp/cli is importable");
}

check(MACPRuntimeServiceService.send.path === "/macp.v1.MACPRuntimeService/Send", "@macp/protocol/grpc resolves");
decisionInProcess();
const daemon = await startDaemon();
let sessionId: string;
try {
  sessionId = await decisionOverGrpc(daemon.address);
} finally {
  const code = await daemon.stop();
  check(code === 0, "the daemon shuts down cleanly");
}
await replayStoredLog(sessionId);
console.log("consumer test passed");

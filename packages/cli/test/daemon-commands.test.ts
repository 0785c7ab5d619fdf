import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEnvelope, buildSessionStart, createMacpClient } from "@macp/client";
import type { MacpClient } from "@macp/client";
import { ModeId, encodePayloadJson } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { CliError, daemonSource, replayCommand, runCli, sessionCommand, sessionsCommand, verifyCommand } from "@macp/cli";
import type { HistoryRecord, SessionSource } from "@macp/cli";
import { startDaemon } from "./daemon-process.js";
import type { DaemonProcess } from "./daemon-process.js";
import { ALICE, COORDINATOR, captureOutput, tempDir } from "./support.js";

let dir: { path: string; remove(): Promise<void> };
let daemon: DaemonProcess;
let source: SessionSource;
const clients: MacpClient[] = [];
const resolved = randomUUID();
const open = randomUUID();
const sent = new Map<string, string[]>();

function as(sender: string): MacpClient {
  const client = createMacpClient({ address: daemon.address, auth: { bearer: sender }, defaultDeadlineMs: 10_000 });
  clients.push(client);
  return client;
}

async function send(client: MacpClient, envelope: Envelope): Promise<void> {
  const { ack } = await client.send({ envelope });
  if (!ack?.ok) throw new Error(`${envelope.messageType} rejected: ${ack?.error?.code} ${ack?.error?.message}`);
  sent.set(envelope.sessionId, [...(sent.get(envelope.sessionId) ?? []), envelope.messageId]);
}

function decisionMessage(sessionId: string, messageType: string, json: Record<string, unknown>): Envelope {
  return buildEnvelope({
    mode: ModeId.Decision,
    sessionId,
    messageType,
    messageId: randomUUID(),
    payload: encodePayloadJson(ModeId.Decision, messageType, json),
  });
}

beforeAll(async () => {
  dir = await tempDir();
  daemon = await startDaemon(dir.path);
  const coordinator = as(COORDINATOR);
  const alice = as(ALICE);
  for (const sessionId of [resolved, open]) {
    await send(
      coordinator,
      buildSessionStart({
        mode: ModeId.Decision,
        sessionId,
        messageId: randomUUID(),
        payload: { intent: "cli", participants: [COORDINATOR, ALICE], modeVersion: "1.0.0", configurationVersion: "cfg-1", ttlMs: 600_000 },
      }),
    );
    await send(coordinator, decisionMessage(sessionId, "Proposal", { proposal_id: "p1", option: "go" }));
  }
  await send(alice, decisionMessage(resolved, "Vote", { proposal_id: "p1", vote: "APPROVE" }));
  await send(
    coordinator,
    decisionMessage(resolved, "Commitment", {
      commitment_id: "c1",
      action: "decision.selected",
      authority_scope: "cli",
      reason: "done",
      mode_version: "1.0.0",
      configuration_version: "cfg-1",
      policy_version: "",
      outcome_positive: true,
    }),
  );
  source = daemonSource({ address: daemon.address, token: COORDINATOR, tls: false, deadlineMs: 10_000 });
});

afterAll(async () => {
  await source?.close();
  for (const client of clients) client.close();
  await daemon?.stop();
  await dir?.remove();
});

describe("macp commands against a running daemon", () => {
  it("lists the daemon's sessions with their states", async () => {
    const output = captureOutput();

    await sessionsCommand(source, output, { json: true });

    const rows = output.stdout.map((line) => JSON.parse(line) as { sessionId: string; status: string; initiator: string });
    expect(rows.map((row) => [row.sessionId, row.status, row.initiator]).sort()).toEqual(
      [
        [resolved, "Resolved", COORDINATOR],
        [open, "Open", COORDINATOR],
      ].sort(),
    );
  });

  it("shows one session's metadata", async () => {
    const output = captureOutput();

    await sessionCommand(source, output, resolved, { json: true });

    expect(JSON.parse(output.stdout[0] ?? "")).toMatchObject({
      sessionId: resolved,
      mode: ModeId.Decision,
      status: "Resolved",
      participants: [COORDINATOR, ALICE],
      policyVersion: "policy.default",
    });
  });

  it("replays the full history through a passive subscription and stops once caught up", async () => {
    const output = captureOutput();

    await replayCommand(source, output, resolved, { json: true, includeInternal: false });

    const records = output.stdout.map((line) => JSON.parse(line) as HistoryRecord);
    expect(records.map((record) => [record.seq, record.message_id])).toEqual(
      (sent.get(resolved) ?? []).map((id, i) => [i + 1, id]),
    );
    expect(records.map((record) => record.message_type)).toEqual(["SessionStart", "Proposal", "Vote", "Commitment"]);
    expect(records[2]?.sender).toBe(ALICE);
  });

  it("replays an open session up to its last accepted envelope", async () => {
    const output = captureOutput();

    await replayCommand(source, output, open, { json: false, includeInternal: false });

    expect(output.stdout).toHaveLength(3);
    expect(output.stdout[2]).toMatch(/^2\s.*Proposal\s+\S+\s+\{"proposalId":"p1","option":"go"/);
  });

  it("reports unknown sessions as not found", async () => {
    await expect(sessionCommand(source, captureOutput(), randomUUID(), { json: false })).rejects.toThrow(/not found/);
    await expect(replayCommand(source, captureOutput(), randomUUID(), { json: false, includeInternal: false })).rejects.toThrow(
      /not found/,
    );
  });

  it("refuses verify and runtime-internal records, which need storage", async () => {
    await expect(verifyCommand(source, captureOutput(), [], { json: false })).rejects.toThrow(CliError);
    await expect(source.history(open, { includeInternal: true })).rejects.toThrow(/not on the wire/);
  });

  it("runs end to end from the command line with --address and --token", async () => {
    const output = captureOutput();

    const code = await runCli(["replay", resolved, "--address", daemon.address, "--token", ALICE, "--json"], output, {});

    expect(code).toBe(0);
    expect(output.stdout).toHaveLength(4);
  });

  it("refuses the data directory of the running daemon, pointing at the lock", async () => {
    const output = captureOutput();

    const code = await runCli(["sessions", "--data-dir", dir.path], output, {});

    expect(code).toBe(1);
    expect(output.stderr[0]).toMatch(/in use by process \d+/);
  });

  it("says which daemon it cannot reach", async () => {
    const output = captureOutput();

    const code = await runCli(["sessions", "--address", "127.0.0.1:1", "--token", ALICE], output, {});

    expect(code).toBe(1);
    expect(output.stderr[0]).toMatch(/^macp: cannot reach the daemon at 127\.0\.0\.1:1/);
  });
});

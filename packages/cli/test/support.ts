import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel, ManualClock } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeId, PROTOCOL_VERSION, encodePayloadJson } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { FileStore } from "@macp/storage";
import type { StorageLogger } from "@macp/storage";
import type { CliOutput } from "@macp/cli";

export const T0 = 1_800_000_000_000;
export const COORDINATOR = "agent://coordinator";
export const ALICE = "agent://alice";
export const BOB = "agent://bob";
export const EXT_MODE = "ext.review.v1";

export const quietLogger: StorageLogger = { info: () => undefined, warn: () => undefined };

/** Output captured line by line. */
export function captureOutput(): CliOutput & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (line) => void stdout.push(line), err: (line) => void stderr.push(line) };
}

export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "macp-cli-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Session ids of {@link writeDataDir}, by what happened to them. */
export const SESSIONS = {
  resolved: "00000000-0000-4000-8000-00000000000a",
  open: "00000000-0000-4000-8000-00000000000b",
  cancelled: "00000000-0000-4000-8000-00000000000c",
  extension: "00000000-0000-4000-8000-00000000000d",
} as const;

/**
 * Fills `dir` the way a daemon would (a real FileStore under a Kernel, then a graceful close):
 * a resolved decision, an open decision, a cancelled proposal session and an extension-mode
 * session whose mode registration is persisted.
 */
export async function writeDataDir(dir: string): Promise<void> {
  const store = await FileStore.open({ dir, logger: quietLogger });
  const clock = new ManualClock(T0);
  const kernel = new Kernel({ store, clock, modes: new ModeRegistry(), policies: new PolicyRegistry(), snapshotEvery: 0 });
  const send = async (message: Envelope): Promise<void> => {
    clock.advance(100);
    const outcome = await kernel.send(message, { sender: message.sender });
    if (!outcome.ok) throw new Error(`${message.messageId}: ${outcome.error?.code} ${outcome.error?.message}`);
  };
  const registered = await kernel.registerMode({
    mode: EXT_MODE,
    modeVersion: "1.0.0",
    title: "Review",
    description: "test extension",
    determinismClass: "semantic-deterministic",
    participantModel: "declared",
    messageTypes: ["SessionStart", "Comment", "Commitment"],
    terminalMessageTypes: [],
    schemaUris: {},
  });
  if (!registered.ok) throw new Error(registered.error);

  await send(start(ModeId.Decision, SESSIONS.resolved));
  await send(message(ModeId.Decision, SESSIONS.resolved, "Proposal", COORDINATOR, "r-1", { proposal_id: "p1", option: "deploy" }));
  await send(message(ModeId.Decision, SESSIONS.resolved, "Vote", ALICE, "r-2", { proposal_id: "p1", vote: "APPROVE" }));
  await send(message(ModeId.Decision, SESSIONS.resolved, "Commitment", COORDINATOR, "r-3", commitment("decision.selected")));

  await send(start(ModeId.Decision, SESSIONS.open));
  await send(message(ModeId.Decision, SESSIONS.open, "Proposal", BOB, "o-1", { proposal_id: "p1", option: "wait" }));

  await send(start(ModeId.Proposal, SESSIONS.cancelled));
  await send(message(ModeId.Proposal, SESSIONS.cancelled, "Proposal", ALICE, "c-1", { proposal_id: "p1", title: "offer" }));
  clock.advance(100);
  const cancelled = await kernel.cancel(SESSIONS.cancelled, COORDINATOR, "superseded");
  if (!cancelled.ok) throw new Error(`cancel: ${cancelled.error?.message}`);

  await send({ ...start(ModeId.Decision, SESSIONS.extension), mode: EXT_MODE });
  await send({
    macpVersion: PROTOCOL_VERSION,
    mode: EXT_MODE,
    messageType: "Comment",
    messageId: "x-1",
    sessionId: SESSIONS.extension,
    sender: ALICE,
    timestampUnixMs: 0n,
    payload: new TextEncoder().encode("looks good"),
  });
  await kernel.close();
}

function start(mode: string, sessionId: string): Envelope {
  return message(mode, sessionId, "SessionStart", COORDINATOR, `${sessionId.slice(-1)}-0`, {
    intent: "cli test",
    participants: [COORDINATOR, ALICE, BOB],
    mode_version: "1.0.0",
    configuration_version: "cfg-1",
    ttl_ms: 60_000,
  });
}

function message(
  mode: string,
  sessionId: string,
  messageType: string,
  sender: string,
  messageId: string,
  json: Record<string, unknown>,
): Envelope {
  return {
    macpVersion: PROTOCOL_VERSION,
    mode,
    messageType,
    messageId,
    sessionId,
    sender,
    timestampUnixMs: 0n,
    payload: encodePayloadJson(mode, messageType, json),
  };
}

function commitment(action: string): Record<string, unknown> {
  return {
    commitment_id: "c1",
    action,
    authority_scope: "cli",
    reason: "done",
    mode_version: "1.0.0",
    configuration_version: "cfg-1",
    policy_version: "",
    outcome_positive: true,
  };
}

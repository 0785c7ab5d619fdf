import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernel, ManualClock } from "@macp/core";
import type { SessionStore } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeId, PROTOCOL_VERSION, encodePayloadJson } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { FileStore } from "@macp/storage";
import type { StorageLogger } from "@macp/storage";

export const T0 = 1_800_000_000_000;

export const COORDINATOR = "agent://coordinator";
export const ALICE = "agent://alice";
export const BOB = "agent://bob";
export const PARTICIPANTS = [COORDINATOR, ALICE, BOB];

/** A kernel with fresh registries and a manual clock, writing through `store`. */
export interface Harness {
  readonly kernel: Kernel;
  readonly clock: ManualClock;
  readonly store: SessionStore;
  readonly modes: ModeRegistry;
  readonly policies: PolicyRegistry;
}

export function createHarness(store: SessionStore, options: { snapshotEvery?: number } = {}): Harness {
  const clock = new ManualClock(T0);
  const modes = new ModeRegistry();
  const policies = new PolicyRegistry();
  const kernel = new Kernel({ store, clock, modes, policies, snapshotEvery: options.snapshotEvery ?? 0 });
  return { kernel, clock, store, modes, policies };
}

/** Storage repairs are asserted through store behaviour, not log text. */
export const quietLogger: StorageLogger = { info: () => undefined, warn: () => undefined };

/** A temp directory removed by the returned function. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "macp-replay-"));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export function openFileStore(dir: string): Promise<FileStore> {
  return FileStore.open({ dir, logger: quietLogger });
}

/** The n-th deterministic session id (a lowercase UUID v4, as the kernel requires). */
export function sessionIdFor(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

/** An envelope whose payload is given as proto-named JSON. */
export function envelope(
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

/** A SessionStart from the coordinator with the values strict modes require. */
export function sessionStart(mode: string, sessionId: string, extra: Record<string, unknown> = {}): Envelope {
  return envelope(mode, sessionId, "SessionStart", COORDINATOR, `${sessionId}:start`, {
    intent: "replay test",
    participants: PARTICIPANTS,
    mode_version: "1.0.0",
    configuration_version: "cfg-1",
    ttl_ms: 60_000,
    ...extra,
  });
}

/** A Commitment payload matching {@link sessionStart}'s versions. */
export function commitmentJson(action: string): Record<string, unknown> {
  return {
    commitment_id: "c1",
    action,
    authority_scope: "test",
    reason: "done",
    mode_version: "1.0.0",
    configuration_version: "cfg-1",
    policy_version: "",
    outcome_positive: true,
  };
}

/** Sends through the kernel and fails loudly on anything but a fresh acceptance. */
export async function accept(kernel: Kernel, message: Envelope): Promise<void> {
  const outcome = await kernel.send(message, { sender: message.sender });
  if (!outcome.ok || outcome.duplicate) {
    throw new Error(`${message.messageType} ${message.messageId} not accepted: ${outcome.error?.code} ${outcome.error?.message}`);
  }
}

/** Starts a decision session and adds `proposals` proposals (the session stays open). */
export async function openDecision(h: Harness, sessionId: string, proposals = 1): Promise<void> {
  await accept(h.kernel, sessionStart(ModeId.Decision, sessionId));
  for (let i = 1; i <= proposals; i++) {
    h.clock.advance(10);
    await accept(
      h.kernel,
      envelope(ModeId.Decision, sessionId, "Proposal", COORDINATOR, `${sessionId}:p${i}`, {
        proposal_id: `p${i}`,
        option: `option ${i}`,
        rationale: "test",
      }),
    );
  }
}

/** Votes on `p1` and commits: the session ends Resolved. */
export async function resolveDecision(h: Harness, sessionId: string): Promise<void> {
  for (const voter of [ALICE, BOB]) {
    h.clock.advance(10);
    await accept(
      h.kernel,
      envelope(ModeId.Decision, sessionId, "Vote", voter, `${sessionId}:vote:${voter}`, {
        proposal_id: "p1",
        vote: "APPROVE",
        reason: "fine",
      }),
    );
  }
  h.clock.advance(10);
  await accept(
    h.kernel,
    envelope(ModeId.Decision, sessionId, "Commitment", COORDINATOR, `${sessionId}:commit`, commitmentJson("decision.selected")),
  );
}

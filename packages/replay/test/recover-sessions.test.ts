import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Kernel, ManualClock } from "@macp/core";
import { replayLog } from "@macp/core/internal";
import type { LogEntry } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { ModeId, PROTOCOL_VERSION } from "@macp/protocol";
import type { Envelope } from "@macp/protocol";
import { MemoryStore } from "@macp/storage";
import { hashSessionState, rebuildSession, recoverSessions } from "@macp/replay";
import {
  COORDINATOR,
  T0,
  accept,
  createHarness,
  envelope,
  openDecision,
  openFileStore,
  resolveDecision,
  sessionIdFor,
  sessionStart,
  tempDir,
} from "./support.js";

const EXT_MODE = "ext.review.v1";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function fileStoreDir(): Promise<string> {
  const dir = await tempDir();
  cleanups.push(dir.remove);
  return dir.path;
}

function liveHash(kernel: Kernel, sessionId: string): string {
  const state = kernel.sessionState(sessionId);
  if (!state) throw new Error(`no live session ${sessionId}`);
  return hashSessionState(state);
}

function hashesById(states: readonly { record: { sessionId: string } }[]): Map<string, string> {
  return new Map(states.map((state) => [state.record.sessionId, hashSessionState(state as never)]));
}

async function registerExtMode(kernel: Kernel): Promise<void> {
  const result = await kernel.registerMode({
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
  if (!result.ok) throw new Error(result.error);
}

/** An extension-mode message: the passthrough handler takes any payload bytes. */
function comment(sessionId: string, messageId: string): Envelope {
  return {
    macpVersion: PROTOCOL_VERSION,
    mode: EXT_MODE,
    messageType: "Comment",
    messageId,
    sessionId,
    sender: COORDINATOR,
    timestampUnixMs: 0n,
    payload: new TextEncoder().encode(`comment ${messageId}`),
  };
}

describe("recoverSessions over a MemoryStore", () => {
  it("rebuilds open and suspended sessions to the kernel's live state and leaves finished ones to load on demand", async () => {
    const h = createHarness(new MemoryStore());
    const [open, resolved, cancelled, suspended] = [1, 2, 3, 4].map(sessionIdFor) as [string, string, string, string];
    await openDecision(h, open, 2);
    await openDecision(h, resolved);
    await resolveDecision(h, resolved);
    await openDecision(h, cancelled);
    expect((await h.kernel.cancel(cancelled, COORDINATOR, "no longer needed")).ok).toBe(true);
    await openDecision(h, suspended);
    expect((await h.kernel.suspend(suspended, COORDINATOR, "waiting")).ok).toBe(true);
    await h.kernel.drain();

    const report = await recoverSessions(h.store, h.modes);

    expect(report.failures).toEqual([]);
    const recovered = hashesById(report.recovered);
    expect([...recovered.keys()].sort()).toEqual([open, suspended].sort());
    for (const id of [open, suspended]) expect(recovered.get(id)).toBe(liveHash(h.kernel, id));
    expect(report.recovered.find((s) => s.record.sessionId === suspended)?.record.status).toBe("Suspended");
    for (const id of [resolved, cancelled]) {
      const rebuilt = await rebuildSession(h.store, h.modes, id);
      expect(hashSessionState(rebuilt.state)).toBe(liveHash(h.kernel, id));
      // The finish time is the receive time of the terminal record, the last of the log.
      expect(rebuilt.state.finishedAtUnixMs).toBe((await h.store.loadLog(id)).at(-1)?.receivedAtUnixMs);
    }
    expect((await rebuildSession(h.store, h.modes, cancelled)).state.record.status).toBe("Cancelled");
  });

  it("uses the latest snapshot and replays only the records after it", async () => {
    const h = createHarness(new MemoryStore(), { snapshotEvery: 3 });
    const id = sessionIdFor(1);
    await openDecision(h, id, 6);
    await h.kernel.drain();
    const snapshot = await h.store.loadSnapshot(id);
    // Due at 3 records; at 6 the three small records since are fewer bytes than that snapshot.
    expect(snapshot?.logLength).toBe(3);
    expect((await h.store.loadLog(id)).length).toBe(8);

    const report = await recoverSessions(h.store, h.modes);

    expect(report.fromSnapshot).toBe(1);
    expect(hashSessionState(report.recovered[0] ?? never())).toBe(liveHash(h.kernel, id));
  });

  it("falls back to a full replay when the snapshot text is not a session state", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id, 2);
    await h.store.writeSnapshot(id, { logLength: 3, state: "{\"record\": tru" });

    const rebuilt = await rebuildSession(h.store, h.modes, id);

    expect(rebuilt.fromSnapshot).toBe(false);
    expect(hashSessionState(rebuilt.state)).toBe(liveHash(h.kernel, id));
  });

  it("ignores a snapshot that covers records the log no longer holds", async () => {
    const h = createHarness(new MemoryStore(), { snapshotEvery: 4 });
    const id = sessionIdFor(1);
    await openDecision(h, id, 2);
    await h.kernel.drain();
    const log = await h.store.loadLog(id);
    const snapshot = (await h.store.loadSnapshot(id)) ?? never();
    expect(snapshot.logLength).toBe(4);

    const cut = new MemoryStore();
    await cut.append(id, log.slice(0, 3));
    await cut.writeSnapshot(id, snapshot);
    const rebuilt = await rebuildSession(cut, h.modes, id);

    expect(rebuilt.fromSnapshot).toBe(false);
    expect(rebuilt.state.record.logLength).toBe(3);
    expect(rebuilt.state.seenMessageIds).toEqual(log.slice(0, 3).filter((e) => e.kind === "incoming").map((e) => e.messageId));
  });

  it("ignores a snapshot whose last records were lost and replaced by others with the same sequence numbers", async () => {
    const h = createHarness(new MemoryStore(), { snapshotEvery: 4 });
    const id = sessionIdFor(1);
    await openDecision(h, id, 2);
    await h.kernel.drain();
    const log = await h.store.loadLog(id);
    const snapshot = (await h.store.loadSnapshot(id)) ?? never();
    const lost = log[3] ?? never();
    const replacement: LogEntry = {
      ...lost,
      messageId: "replacement",
      payload: envelope(ModeId.Decision, id, "Proposal", COORDINATOR, "replacement", { proposal_id: "other", option: "y" }).payload,
    };

    const rewritten = new MemoryStore();
    await rewritten.append(id, [...log.slice(0, 3), replacement]);
    await rewritten.writeSnapshot(id, snapshot);
    const rebuilt = await rebuildSession(rewritten, h.modes, id);

    expect(rebuilt.fromSnapshot).toBe(false);
    expect(rebuilt.state.seenMessageIds).toContain("replacement");
    expect(rebuilt.state.seenMessageIds).not.toContain(lost.messageId);
    expect(hashSessionState(rebuilt.state)).toBe(hashSessionState(replayLog(h.modes, [...log.slice(0, 3), replacement])));
  });

  it("keeps the policy bound at SessionStart even when the registry no longer knows it", async () => {
    const h = createHarness(new MemoryStore());
    const registered = await h.kernel.registerPolicy({
      policyId: "policy.majority",
      mode: ModeId.Decision,
      description: "majority of two",
      rules: JSON.stringify({ voting: { algorithm: "majority", threshold: 0.5, quorum: { type: "count", value: 2 } } }),
      schemaVersion: 1,
      registeredAtUnixMs: 0n,
    });
    expect(registered).toEqual({ ok: true, error: "" });
    const id = sessionIdFor(1);
    await accept(h.kernel, sessionStart(ModeId.Decision, id, { policy_version: "policy.majority" }));

    const report = await recoverSessions(h.store, new ModeRegistry());

    const record = report.recovered[0]?.record ?? never();
    expect(record.policyVersion).toBe("policy.majority");
    expect(record.policy).toEqual(h.kernel.sessionState(id)?.record.policy);
    expect(record.policy?.description).toBe("majority of two");
  });

  it("reports a session whose mode is not registered as a failure, with or without a snapshot", async () => {
    const h = createHarness(new MemoryStore());
    await registerExtMode(h.kernel);
    const [plain, snapshotted, decision] = [1, 2, 3].map(sessionIdFor) as [string, string, string];
    for (const id of [plain, snapshotted]) {
      await accept(h.kernel, { ...sessionStart(ModeId.Decision, id), mode: EXT_MODE });
      await accept(h.kernel, comment(id, `${id}:c1`));
    }
    expect((await h.kernel.cancel(snapshotted, COORDINATOR, "done")).ok).toBe(true);
    await openDecision(h, decision);
    await h.kernel.drain();
    expect(await h.store.loadSnapshot(snapshotted)).toBeDefined();

    const report = await recoverSessions(h.store, new ModeRegistry());

    expect(report.recovered.map((s) => s.record.sessionId)).toEqual([decision]);
    // The cancelled one is finished: it is not rebuilt at start, and fails the same way on demand.
    expect(report.failures.map((f) => f.sessionId)).toEqual([plain]);
    for (const failure of report.failures) expect(failure.error).toBe(`mode '${EXT_MODE}' is not registered`);
    await expect(rebuildSession(h.store, new ModeRegistry(), snapshotted)).rejects.toThrow(`mode '${EXT_MODE}' is not registered`);
  });

  it("throws on a session whose mode is not registered in strict mode", async () => {
    const h = createHarness(new MemoryStore());
    await registerExtMode(h.kernel);
    const id = sessionIdFor(1);
    await accept(h.kernel, { ...sessionStart(ModeId.Decision, id), mode: EXT_MODE });

    await expect(recoverSessions(h.store, new ModeRegistry(), { strict: true })).rejects.toThrow(
      `cannot recover session ${id}: mode '${EXT_MODE}' is not registered`,
    );
  });

  it("recovers extension-mode sessions once the persisted mode registry is restored", async () => {
    const h = createHarness(new MemoryStore());
    await registerExtMode(h.kernel);
    const id = sessionIdFor(1);
    await accept(h.kernel, { ...sessionStart(ModeId.Decision, id), mode: EXT_MODE });
    await accept(h.kernel, comment(id, "c1"));

    const modes = new ModeRegistry();
    const restarted = new Kernel({ store: h.store, clock: new ManualClock(T0), modes, policies: new PolicyRegistry() });
    await restarted.restoreRegistries();
    const report = await recoverSessions(h.store, modes, { strict: true });

    expect(report.recovered.map((s) => hashSessionState(s))).toEqual([liveHash(h.kernel, id)]);
  });
});

describe("recoverSessions over a FileStore", () => {
  it("rebuilds sessions after the store is reopened, from snapshot plus tail", async () => {
    const dir = await fileStoreDir();
    const h = createHarness(await openFileStore(dir), { snapshotEvery: 3 });
    const [tailed, resolved] = [sessionIdFor(1), sessionIdFor(2)];
    await openDecision(h, tailed, 6);
    await openDecision(h, resolved);
    await resolveDecision(h, resolved);
    await h.kernel.drain();
    const expected = new Map([tailed, resolved].map((id) => [id, liveHash(h.kernel, id)]));
    await h.store.close();

    const reopened = await openFileStore(dir);
    cleanups.push(() => reopened.close());
    expect((await reopened.loadSnapshot(tailed))?.logLength).toBe(3);
    expect((await reopened.loadLog(tailed)).length).toBe(8);
    const report = await recoverSessions(reopened, new ModeRegistry(), { strict: true });

    expect(report.fromSnapshot).toBe(1);
    expect(hashesById(report.recovered)).toEqual(new Map([[tailed, expected.get(tailed)]]));
    const finished = await rebuildSession(reopened, new ModeRegistry(), resolved);
    expect(finished.fromSnapshot).toBe(true);
    expect(hashSessionState(finished.state)).toBe(expected.get(resolved));
  });

  it("falls back to a full replay when the session's snapshot records are corrupt", async () => {
    const dir = await fileStoreDir();
    const h = createHarness(await openFileStore(dir), { snapshotEvery: 3 });
    const id = sessionIdFor(1);
    await openDecision(h, id, 4);
    await h.kernel.drain();
    const expected = liveHash(h.kernel, id);
    await h.store.close();
    const snapshotLog = join(dir, "snapshot-log");
    const segments = (await readdir(snapshotLog)).filter((name) => name.endsWith(".snaps"));
    expect(segments).toHaveLength(1);
    const path = join(snapshotLog, segments[0] ?? never());
    // Every record after the 16-byte segment header, i.e. every snapshot of the session.
    const bytes = await readFile(path);
    for (let i = 16; i < bytes.length; i += 7) bytes[i] = (bytes[i] ?? 0) ^ 0xff;
    await writeFile(path, bytes);

    const reopened = await openFileStore(dir);
    cleanups.push(() => reopened.close());
    // Damaged records are dropped at open, so the session has no snapshot to trust.
    expect(await reopened.loadSnapshot(id)).toBeUndefined();
    const report = await recoverSessions(reopened, new ModeRegistry(), { strict: true });

    expect(report.fromSnapshot).toBe(0);
    expect(report.recovered.map((s) => hashSessionState(s))).toEqual([expected]);
  });

  it("rebuilds what the kernel held when it was closed gracefully", async () => {
    const dir = await fileStoreDir();
    const h = createHarness(await openFileStore(dir));
    const id = sessionIdFor(1);
    await openDecision(h, id, 3);
    h.clock.advance(1_000);
    expect((await h.kernel.suspend(id, COORDINATOR, "lunch")).ok).toBe(true);
    h.clock.advance(5_000);
    expect((await h.kernel.resume(id, COORDINATOR, "back")).ok).toBe(true);
    const expected = liveHash(h.kernel, id);
    await h.kernel.close();

    const reopened = await openFileStore(dir);
    cleanups.push(() => reopened.close());
    const report = await recoverSessions(reopened, new ModeRegistry(), { strict: true });

    expect(report.fromSnapshot).toBe(1);
    expect(report.recovered.map((s) => hashSessionState(s))).toEqual([expected]);
    expect(report.recovered[0]?.record.accumulatedSuspendedMs).toBe(5_000);
  });

  it("recovers nothing from an empty data directory", async () => {
    const store = await openFileStore(await fileStoreDir());
    cleanups.push(() => store.close());

    expect(await recoverSessions(store, new ModeRegistry())).toEqual({ recovered: [], failures: [], fromSnapshot: 0 });
  });
});

function never(): never {
  throw new Error("missing test value");
}

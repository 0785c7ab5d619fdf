import { describe, expect, it } from "vitest";
import { InMemorySessionStore, Kernel, ManualClock } from "@macp/core";
import type { LogEntry, StoredSnapshot } from "@macp/core";
import { ModeRegistry } from "@macp/modes";
import { PolicyRegistry } from "@macp/policy";
import { decision } from "@macp/protocol";
import { T0, envelope, newSessionId, sessionStart } from "./support.js";

const DECISION = "macp.mode.decision.v1";

class RecordingStore extends InMemorySessionStore {
  readonly written: StoredSnapshot[] = [];
  override async writeSnapshot(sessionId: string, snapshot: StoredSnapshot): Promise<void> {
    this.written.push(snapshot);
    return super.writeSnapshot(sessionId, snapshot);
  }
}

/** The kernel's size estimate of a log record (payload, ids and 64 bytes for the rest). */
function recordBytes(entry: LogEntry): number {
  return entry.payload.length + entry.messageId.length + entry.sender.length + entry.messageType.length + 64;
}

async function decisionSession(store: RecordingStore, proposals: number): Promise<{ id: string; kernel: Kernel }> {
  const kernel = new Kernel({ store, clock: new ManualClock(T0), modes: new ModeRegistry(), policies: new PolicyRegistry() });
  const id = newSessionId();
  await kernel.send(sessionStart(id, DECISION, "alice", { participants: ["alice", "bob"] }), { sender: "alice" });
  for (let i = 0; i < proposals; i++) {
    const payload = decision.ProposalPayload.encode({ proposalId: `p${i}`, option: `option ${i}`, rationale: "because", supportingData: new Uint8Array() }).finish();
    const outcome = await kernel.send(envelope({ sessionId: id, mode: DECISION, messageType: "Proposal", sender: "alice", payload }), { sender: "alice" });
    expect(outcome.ok).toBe(true);
  }
  await kernel.drain();
  return { id, kernel };
}

describe("snapshot schedule", () => {
  it("snapshots a session whose state keeps growing less often than every 64 records", async () => {
    const store = new RecordingStore();
    const { id } = await decisionSession(store, 1_000);
    const lengths = store.written.map((snapshot) => snapshot.logLength);

    expect(lengths[0]).toBe(64);
    expect(lengths.length).toBeGreaterThan(1);
    expect(lengths.length).toBeLessThan(Math.floor(1_002 / 64));
    const log = await store.loadLog(id);
    for (let i = 1; i < lengths.length; i++) {
      const [from, to] = [lengths[i - 1] ?? 0, lengths[i] ?? 0];
      expect(to - from).toBeGreaterThanOrEqual(64);
      // Each snapshot follows at least as many logged bytes as the previous snapshot held.
      const logged = log.slice(from, to).reduce((sum, entry) => sum + recordBytes(entry), 0);
      expect(logged).toBeGreaterThanOrEqual(store.written[i - 1]?.state.length ?? 0);
    }
  });


  it("does not rewrite, when closing, the snapshot a restored session was rebuilt from", async () => {
    const { id, kernel: source } = await decisionSession(new RecordingStore(), 3);
    const state = source.sessionState(id);
    if (state === undefined) throw new Error("the session is gone");
    const logLength = state.record.logLength;
    const restore = async (snapshotLogLength: number | undefined): Promise<number> => {
      const store = new RecordingStore();
      const kernel = new Kernel({ store, clock: new ManualClock(T0), modes: new ModeRegistry(), policies: new PolicyRegistry() });
      kernel.adopt([snapshotLogLength === undefined ? state : { ...state, snapshotLogLength }]);
      await kernel.close();
      return store.written.length;
    };
    expect(await restore(logLength)).toBe(0);
    expect(await restore(logLength - 1)).toBe(1);
    expect(await restore(undefined)).toBe(1);
  });
});

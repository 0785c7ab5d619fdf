import { describe, expect, it } from "vitest";
import { ModeId, SessionCancelPayload } from "@macp/protocol";
import { MemoryStore } from "@macp/storage";
import { exportHistory } from "@macp/replay";
import type { HistoryLine } from "@macp/replay";
import { COORDINATOR, T0, accept, createHarness, envelope, openDecision, sessionIdFor, sessionStart } from "./support.js";

function parse(lines: readonly string[]): HistoryLine[] {
  return lines.map((line) => JSON.parse(line) as HistoryLine);
}

describe("exportHistory", () => {
  it("writes each accepted envelope as one JSON line, in acceptance order", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id, 2);
    const log = await h.store.loadLog(id);

    const lines = exportHistory(log);

    expect(lines.every((line) => !line.includes("\n"))).toBe(true);
    const history = parse(lines);
    expect(history.map((line) => [line.seq, line.message_type, line.message_id])).toEqual([
      [1, "SessionStart", `${id}:start`],
      [2, "Proposal", `${id}:p1`],
      [3, "Proposal", `${id}:p2`],
    ]);
    expect(history[1]).toEqual({
      seq: 2,
      kind: "incoming",
      macp_version: "1.0",
      mode: ModeId.Decision,
      message_type: "Proposal",
      message_id: `${id}:p1`,
      session_id: id,
      sender: COORDINATOR,
      timestamp: new Date(T0 + 10).toISOString(),
      received_at: new Date(T0 + 10).toISOString(),
      payload_b64: Buffer.from(log[2]?.payload ?? []).toString("base64"),
    });
  });

  it("keeps the sender's own timestamp and the runtime's receive time apart", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await accept(h.kernel, { ...sessionStart(ModeId.Decision, id), timestampUnixMs: BigInt(T0 - 5_000) });

    const [start] = parse(exportHistory(await h.store.loadLog(id)));

    expect(start?.timestamp).toBe(new Date(T0 - 5_000).toISOString());
    expect(start?.received_at).toBe(new Date(T0).toISOString());
  });

  it.each([
    ["i64::MAX", 2n ** 63n - 1n, "+292278994-08-17T07:12:55.807Z"],
    ["i64::MIN", -(2n ** 63n), "-292275055-05-16T16:47:04.192Z"],
  ])("writes a timestamp of %s exactly, beyond what a Date holds", async (_, timestampUnixMs, text) => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await accept(h.kernel, { ...sessionStart(ModeId.Decision, id), timestampUnixMs });

    const [start] = parse(exportHistory(await h.store.loadLog(id)));

    expect(start?.timestamp).toBe(text);
  });

  it("leaves runtime-internal records out unless asked, and then marks them", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id, 1);
    h.clock.advance(1_000);
    expect((await h.kernel.cancel(id, COORDINATOR, "obsolete")).ok).toBe(true);
    const log = await h.store.loadLog(id);

    const accepted = parse(exportHistory(log));
    const everything = parse(exportHistory(log, { includeInternal: true }));

    expect(accepted.map((line) => line.message_type)).toEqual(["SessionStart", "Proposal"]);
    expect(everything.map((line) => [line.kind, line.seq, line.message_type, line.sender])).toEqual([
      ["incoming", 1, "SessionStart", COORDINATOR],
      ["internal", 1, "PolicyBinding", "_runtime"],
      ["incoming", 2, "Proposal", COORDINATOR],
      ["internal", 2, "SessionCancel", "_runtime"],
    ]);
    const cancel = SessionCancelPayload.decode(Buffer.from(everything[3]?.payload_b64 ?? "", "base64"));
    expect(cancel).toEqual({ reason: "obsolete", cancelledBy: COORDINATOR });
  });

  it("round-trips payload bytes through base64 exactly", async () => {
    const h = createHarness(new MemoryStore());
    const id = sessionIdFor(1);
    await openDecision(h, id);
    const unicode = envelope(ModeId.Decision, id, "Proposal", COORDINATOR, "unicode", {
      proposal_id: "p-ü",
      option: "déployer 🚀",
    });
    await accept(h.kernel, unicode);

    const last = parse(exportHistory(await h.store.loadLog(id))).at(-1);

    expect(new Uint8Array(Buffer.from(last?.payload_b64 ?? "", "base64"))).toEqual(unicode.payload);
  });

  it("exports nothing for an empty log", () => {
    expect(exportHistory([])).toEqual([]);
  });
});

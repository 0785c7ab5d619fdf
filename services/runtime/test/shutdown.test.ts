import { describe, expect, it } from "vitest";
import {
  StreamReader,
  frameIds,
  openDecisionSession,
  startTestRuntime,
  statusOf,
  waitUntilWatching,
} from "./support/runtime-harness.js";

const ALICE = "agent://alice";

describe("graceful shutdown", () => {
  it("ends every open watch and session stream with OK, then refuses new calls with UNAVAILABLE", async () => {
    const runtime = await startTestRuntime();
    const alice = runtime.client(ALICE);
    const sessionId = await openDecisionSession(alice, [ALICE]);

    const modes = new StreamReader(alice.watchModeRegistry(), "WatchModeRegistry");
    const policies = new StreamReader(alice.watchPolicies(), "WatchPolicies");
    const roots = new StreamReader(alice.watchRoots(), "WatchRoots");
    const sessions = new StreamReader(alice.watchSessions(), "WatchSessions");
    const signals = new StreamReader(alice.watchSignals(), "WatchSignals");
    const stream = alice.streamSession();
    const session = new StreamReader(stream, "StreamSession");
    stream.subscribe(sessionId);

    // Every stream is known to be live on the server before shutdown starts.
    await modes.next("the initial registry change");
    await policies.next("the initial policy snapshot");
    await roots.next("the roots change");
    await sessions.next("the initial CREATED");
    await waitUntilWatching(alice, signals);
    expect(frameIds([await session.next("the SessionStart replay")])).toEqual(["m0"]);

    await runtime.handle.close();

    const ends = {
      WatchModeRegistry: await modes.end(),
      WatchPolicies: await policies.end(),
      WatchRoots: await roots.end(),
      WatchSessions: await sessions.end(),
      WatchSignals: await signals.end(),
      StreamSession: await session.end(),
    };
    const ok = { status: "OK", details: "" };
    expect(ends).toEqual({
      WatchModeRegistry: ok,
      WatchPolicies: ok,
      WatchRoots: ok,
      WatchSessions: ok,
      WatchSignals: ok,
      StreamSession: ok,
    });

    expect(await statusOf(alice.listModes())).toBe("UNAVAILABLE");
    expect(await statusOf(runtime.client(ALICE).getSession({ sessionId }))).toBe("UNAVAILABLE");
    // Closing twice is harmless.
    await runtime.close();
  });
});

import { randomUUID } from "node:crypto";
import { emptyRunState, foldEvents } from "@macp/events";
import type { CanonicalEvent } from "@macp/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { timedDelay } from "../src/replay/replay-feed.js";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { appendEvents, endRun, seedRun } from "./support/seed-run.js";
import { openSse } from "./support/sse-client.js";
import type { SseFrame } from "./support/sse-client.js";

const ids = (frames: SseFrame[]) => frames.filter((frame) => frame.event === "canonical_event").map((frame) => Number(frame.id));

describe("replay of stored runs", () => {
  let cp: TestControlPlane;
  let runId: string;
  let seqs: number[];
  let events: CanonicalEvent[];
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite", { REPLAY_BATCH_SIZE: "4", REPLAY_MAX_DELAY_MS: "5" });
    runId = await seedRun(cp.handle.context);
    await appendEvents(cp.handle.context, runId, 9);
    await endRun(cp.handle.context, runId, "completed");
    events = (await cp.request("GET", `/runs/${runId}/events?limit=1000`)).body.data;
    seqs = events.map((event) => event.seq);
  });
  afterAll(async () => {
    await cp?.close();
  });

  it("describes a replay whose streamUrl carries the whole range and works as given (numeric query values parse)", async () => {
    const described = await cp.request("POST", `/runs/${runId}/replay`, { body: { mode: "instant", speed: 2.5, fromSeq: seqs[2], toSeq: seqs[7] } });
    expect(described.status).toBe(201);
    expect(described.body).toEqual({
      runId,
      mode: "instant",
      speed: 2.5,
      fromSeq: seqs[2],
      toSeq: seqs[7],
      streamUrl: `/runs/${runId}/replay/stream?mode=instant&speed=2.5&fromSeq=${seqs[2]}&toSeq=${seqs[7]}`,
      stateUrl: `/runs/${runId}/replay/state`,
    });
    const stream = await openSse(`${cp.url}${described.body.streamUrl}`);
    expect(stream.status).toBe(200);
    const frames = await stream.until(() => false);
    expect(ids(frames)).toEqual(seqs.slice(2, 8));
    expect(frames.at(-1)).toEqual({ event: "replay_end", id: undefined, data: { runId, lastSeq: seqs[7], count: 6 } });

    const defaults = await cp.request("POST", `/runs/${runId}/replay`, { body: {} });
    expect(defaults.body).toMatchObject({ mode: "timed", speed: 1, fromSeq: 1, toSeq: seqs.at(-1) });
  });

  it("refuses an empty range, unknown runs and bad numbers", async () => {
    expect((await cp.request("POST", `/runs/${runId}/replay`, { body: { fromSeq: 5, toSeq: 4 } })).status).toBe(400);
    expect((await cp.request("POST", `/runs/${runId}/replay`, { body: { speed: 0 } })).status).toBe(400);
    expect((await cp.request("POST", `/runs/${randomUUID()}/replay`, { body: {} })).status).toBe(404);
    expect((await cp.request("GET", `/runs/${runId}/replay/stream?speed=fast`)).status).toBe(400);
    expect((await cp.request("GET", `/runs/${runId}/replay/state?seq=x`)).status).toBe(400);
  });

  it("timed replay sends every event in order, and resumes after Last-Event-ID", async () => {
    const first = await openSse(`${cp.url}/runs/${runId}/replay/stream?mode=timed&speed=10`);
    const part = await first.until((frame) => Number(frame.id) === seqs[3]);
    first.close();
    expect(ids(part)).toEqual(seqs.slice(0, 4));
    const resumed = await openSse(`${cp.url}/runs/${runId}/replay/stream?mode=timed&speed=10`, { "last-event-id": String(seqs[3]) });
    const rest = await resumed.until(() => false);
    expect(ids(rest)).toEqual(seqs.slice(4));
    expect(rest.at(-1)?.event).toBe("replay_end");
  });

  it("timed spacing is the original gap divided by speed, capped", () => {
    const at = (ts: string) => ({ ts }) as CanonicalEvent;
    expect(timedDelay(undefined, at("2026-01-01T00:00:01.000Z"), 10, 2000)).toBe(0);
    expect(timedDelay(at("2026-01-01T00:00:00.000Z"), at("2026-01-01T00:00:01.000Z"), 10, 2000)).toBe(100);
    expect(timedDelay(at("2026-01-01T00:00:00.000Z"), at("2026-01-01T01:00:00.000Z"), 1, 2000)).toBe(2000);
    expect(timedDelay(at("2026-01-01T00:00:01.000Z"), at("2026-01-01T00:00:00.000Z"), 1, 2000)).toBe(0);
  });

  it("step replay: each request delivers `count` events and a replay_pause with the cursor; the client drives", async () => {
    const seen: number[] = [];
    let cursor: number | undefined;
    let steps = 0;
    for (;;) {
      const stream = await openSse(`${cp.url}/runs/${runId}/replay/stream?mode=step&count=3`, cursor === undefined ? {} : { "last-event-id": String(cursor) });
      const frames = await stream.until(() => false);
      steps += 1;
      seen.push(...ids(frames));
      const pause = frames.find((frame) => frame.event === "replay_pause");
      expect(pause?.data.cursor).toBe(seen.at(-1));
      cursor = pause?.data.cursor;
      if (pause?.data.done) {
        expect(frames.at(-1)?.event).toBe("replay_end");
        break;
      }
      expect(ids(frames)).toHaveLength(3);
    }
    expect(seen).toEqual(seqs);
    expect(steps).toBe(Math.ceil(seqs.length / 3));
  });

  it("state at any seq is the fold of the events up to it", async () => {
    for (const seq of [seqs[0], seqs[4], seqs.at(-1)] as number[]) {
      const state = await cp.request("GET", `/runs/${runId}/replay/state?seq=${seq}`);
      expect(state.status).toBe(200);
      expect(state.body).toEqual(JSON.parse(JSON.stringify(foldEvents(emptyRunState(runId), events.filter((event) => event.seq <= seq)))));
    }
    expect((await cp.request("GET", `/runs/${runId}/replay/state?seq=0`)).body).toEqual(JSON.parse(JSON.stringify(emptyRunState(runId))));
    const all = (await cp.request("GET", `/runs/${runId}/replay/state`)).body;
    expect(all).toEqual((await cp.request("GET", `/runs/${runId}/state`)).body);
    expect(all.run.status).toBe("completed");
  });
});

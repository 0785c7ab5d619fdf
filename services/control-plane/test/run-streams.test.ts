import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { startTestControlPlane } from "./support/harness.js";
import type { TestControlPlane } from "./support/harness.js";
import { appendEvents, endRun, seedRun } from "./support/seed-run.js";
import { openSse } from "./support/sse-client.js";
import type { SseFrame } from "./support/sse-client.js";

const ids = (frames: SseFrame[]) => frames.filter((frame) => frame.event === "canonical_event").map((frame) => Number(frame.id));

/** Every frame of a WebSocket until `stop` matches one. */
function wsFrames(socket: WebSocket, stop: (frame: { event: string; id?: number; data: { seq?: number } }) => boolean): Promise<{ event: string; id?: number; data: { seq?: number } }[]> {
  return new Promise((resolve, reject) => {
    const frames: { event: string; id?: number; data: { seq?: number } }[] = [];
    socket.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString("utf8")) as { event: string; id?: number; data: { seq?: number } };
      frames.push(frame);
      if (stop(frame)) resolve(frames);
    });
    socket.on("error", reject);
    socket.on("close", () => resolve(frames));
  });
}

/** Opens a stream once the per-caller cap admits it (slots free when the server sees a client leave). */
async function openWhenAdmitted(url: string, headers: Record<string, string>) {
  for (;;) {
    const stream = await openSse(url, headers);
    if (stream.status === 200) return stream;
    stream.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("live run stream over SSE and WebSocket (development auth)", () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite", { STREAM_HEARTBEAT_MS: "50", REPLAY_BATCH_SIZE: "3" });
  });
  afterAll(async () => {
    await cp?.close();
  });
  const ctx = () => cp.handle.context;

  it("afterSeq=0 sends the snapshot, then every event from the beginning with its seq as id, heartbeats without ids, and a terminal frame", async () => {
    const runId = await seedRun(ctx());
    const stored = await appendEvents(ctx(), runId, 5);
    const stream = await openSse(`${cp.url}/runs/${runId}/stream?afterSeq=0`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const first = await stream.next();
    expect(first?.event).toBe("snapshot");
    expect(first?.id).toBeUndefined();
    expect(first?.data).toMatchObject({ run: { runId }, timeline: { latestSeq: stored.at(-1) } });
    const backfill = await stream.until((frame) => frame.event === "canonical_event" && Number(frame.id) === stored.at(-1));
    expect(ids(backfill)).toEqual(stored);
    for (const frame of backfill.filter((item) => item.event === "canonical_event")) expect(frame.data.seq).toBe(Number(frame.id));

    const heartbeat = await stream.until((frame) => frame.event === "heartbeat");
    expect(heartbeat.at(-1)?.id).toBeUndefined();
    expect(Date.parse(heartbeat.at(-1)?.data.ts)).not.toBeNaN();

    const live = await appendEvents(ctx(), runId, 2);
    await endRun(ctx(), runId, "cancelled");
    const rest = await stream.until((frame) => frame.event === "run_terminal");
    const liveIds = ids(rest);
    expect(liveIds.slice(0, 2)).toEqual(live);
    expect(liveIds).toHaveLength(3);
    const terminal = rest.at(-1);
    expect(terminal?.data).toEqual({ runId, status: "cancelled", lastSeq: liveIds[2] });
    expect(rest.find((frame) => frame.event === "canonical_event" && Number(frame.id) === liveIds[2])?.data.type).toBe("run.cancelled");
    expect(await stream.next()).toBeUndefined();
  });

  it("Last-Event-ID wins over a stale afterSeq, and includeSnapshot=false skips the snapshot", async () => {
    const runId = await seedRun(ctx());
    const stored = await appendEvents(ctx(), runId, 6);
    const stream = await openSse(`${cp.url}/runs/${runId}/stream?afterSeq=${stored[0]}&includeSnapshot=false`, { "last-event-id": String(stored[3]) });
    await endRun(ctx(), runId, "completed");
    const frames = await stream.until((frame) => frame.event === "run_terminal");
    expect(frames[0]?.event).toBe("canonical_event");
    expect(ids(frames).slice(0, 2)).toEqual(stored.slice(4));
    stream.close();
  });

  it("a connection opened while events are being written sees each exactly once, in order (backfill/live seam)", async () => {
    const runId = await seedRun(ctx());
    await appendEvents(ctx(), runId, 10);
    const writer = (async () => {
      for (let round = 0; round < 30; round += 1) await appendEvents(ctx(), runId, 2);
      await endRun(ctx(), runId, "completed");
    })();
    const stream = await openSse(`${cp.url}/runs/${runId}/stream?afterSeq=0&includeSnapshot=false`);
    const frames = await stream.until((frame) => frame.event === "run_terminal");
    await writer;
    const stored = (await cp.request("GET", `/runs/${runId}/events?limit=1000`)).body.data.map((event: { seq: number }) => event.seq);
    expect(stored).toHaveLength(71);
    expect(ids(frames)).toEqual(stored);
  });

  it("refuses unknown runs and invalid cursors before the stream opens", async () => {
    const missing = await cp.request("GET", `/runs/${randomUUID()}/stream`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ errorCode: "RUN_NOT_FOUND" });
    const runId = await seedRun(ctx());
    const invalid = await cp.request("GET", `/runs/${runId}/stream?afterSeq=-1`);
    expect(invalid.status).toBe(400);
    expect(invalid.body.errorCode).toBe("VALIDATION_ERROR");
  });

  it("sends the same frames over WebSocket, resuming from the afterSeq query or a first subscribe message", async () => {
    const runId = await seedRun(ctx());
    const stored = await appendEvents(ctx(), runId, 4);
    const base = cp.url.replace(/^http/, "ws");

    const byQuery = new WebSocket(`${base}/runs/${runId}/ws?afterSeq=${stored[1]}&includeSnapshot=false`);
    const queried = await wsFrames(byQuery, (frame) => frame.event === "canonical_event" && frame.id === stored[3]);
    expect(queried.filter((frame) => frame.event === "canonical_event").map((frame) => frame.id)).toEqual(stored.slice(2));
    byQuery.close();

    const bySubscribe = new WebSocket(`${base}/runs/${runId}/ws`);
    await new Promise((resolve) => bySubscribe.once("open", resolve));
    const framesPromise = wsFrames(bySubscribe, (frame) => frame.event === "run_terminal");
    bySubscribe.send(JSON.stringify({ type: "subscribe", afterSeq: stored[2], includeSnapshot: true }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const live = await appendEvents(ctx(), runId, 1);
    await endRun(ctx(), runId, "failed");
    const frames = await framesPromise;
    expect(frames[0]?.event).toBe("snapshot");
    const seqs = frames.filter((frame) => frame.event === "canonical_event").map((frame) => frame.id);
    expect(seqs.slice(0, 2)).toEqual([stored[3], live[0]]);
    expect(frames.at(-1)).toMatchObject({ event: "run_terminal", data: { status: "failed" } });
  });

  it("refuses a WebSocket for an unknown run before the upgrade, and a first message that is not a subscribe", async () => {
    const base = cp.url.replace(/^http/, "ws");
    const unknown = new WebSocket(`${base}/runs/${randomUUID()}/ws?afterSeq=0`);
    const status = await new Promise<number | undefined>((resolve) => {
      unknown.on("unexpected-response", (_request, response) => resolve(response.statusCode));
      unknown.on("open", () => resolve(undefined));
      unknown.on("error", () => undefined);
    });
    expect(status).toBe(404);

    const runId = await seedRun(ctx());
    const socket = new WebSocket(`${base}/runs/${runId}/ws`);
    await new Promise((resolve) => socket.once("open", resolve));
    const closed = new Promise<number>((resolve) => socket.once("close", (code) => resolve(code)));
    socket.send(JSON.stringify({ type: "subscribe", afterSeq: -3 }));
    expect(await closed).toBe(1008);
  });
});

describe("stream authentication (API keys, stream tokens) and shutdown", () => {
  let cp: TestControlPlane;
  const auth = { authorization: "Bearer stream-key-1" };
  beforeAll(async () => {
    cp = await startTestControlPlane("pglite", { AUTH_API_KEYS: "stream-key-1", STREAM_MAX_PER_PRINCIPAL: "2", STREAM_TOKEN_SECRET: "s".repeat(40) });
  });
  afterAll(async () => {
    await cp?.close();
  });
  const ctx = () => cp.handle.context;

  it("needs Authorization or a stream token of this run; the token works as query parameter and cookie", async () => {
    const runId = await seedRun(ctx());
    const otherRun = await seedRun(ctx());
    await appendEvents(ctx(), runId, 1);
    expect((await cp.request("GET", `/runs/${runId}/stream`)).status).toBe(401);
    expect((await cp.request("POST", `/runs/${runId}/stream-token`)).status).toBe(401);

    const minted = await cp.request("POST", `/runs/${runId}/stream-token`, { headers: auth });
    expect(minted.status).toBe(201);
    expect(minted.body.streamUrl).toBe(`/runs/${runId}/stream?token=${encodeURIComponent(minted.body.token)}`);
    expect(minted.headers.get("set-cookie")).toMatch(new RegExp(`^macp_stream_token=[^;]+; Path=/runs/${runId}/; Max-Age=\\d+; HttpOnly; SameSite=Strict`));

    const byQuery = await openSse(`${cp.url}${minted.body.streamUrl}`);
    expect(byQuery.status).toBe(200);
    expect((await byQuery.next())?.event).toBe("snapshot");
    byQuery.close();

    const byCookie = await openSse(`${cp.url}/runs/${runId}/stream`, { cookie: `macp_stream_token=${minted.body.token}` });
    expect(byCookie.status).toBe(200);
    byCookie.close();

    expect((await cp.request("GET", `/runs/${otherRun}/stream?token=${encodeURIComponent(minted.body.token)}`)).status).toBe(401);
    const tampered = `${minted.body.token.slice(0, -2)}AA`;
    const refused = await cp.request("GET", `/runs/${runId}/stream?token=${encodeURIComponent(tampered)}`);
    expect(refused.status).toBe(401);
    expect(refused.body.errorCode).toBe("UNAUTHENTICATED");
    expect((await cp.request("GET", `/runs/${runId}/replay/state?token=${encodeURIComponent(minted.body.token)}`)).status).toBe(401);
  });

  it("caps concurrent streams per caller", async () => {
    const runId = await seedRun(ctx());
    const open = [await openSse(`${cp.url}/runs/${runId}/stream`, auth), await openSse(`${cp.url}/runs/${runId}/stream`, auth)];
    await Promise.all(open.map((stream) => stream.next()));
    const third = await cp.request("GET", `/runs/${runId}/stream`, { headers: auth });
    expect(third.status).toBe(429);
    expect(third.body.errorCode).toBe("TOO_MANY_STREAMS");
    open[0]?.close();
    // The server frees the slot when it sees the client leave.
    const again = await openWhenAdmitted(`${cp.url}/runs/${runId}/stream`, auth);
    again.close();
    open[1]?.close();
  });

  it("closes open streams with a final stream_closed frame when the control plane shuts down", async () => {
    const runId = await seedRun(ctx());
    const stored = await appendEvents(ctx(), runId, 2);
    const stream = await openWhenAdmitted(`${cp.url}/runs/${runId}/stream?includeSnapshot=false`, auth);
    await stream.until((frame) => Number(frame.id) === stored[1]);
    await cp.close();
    const rest = await stream.until(() => false);
    expect(rest.at(-1)).toEqual({ event: "stream_closed", id: undefined, data: { reason: "shutdown", lastSeq: stored[1] } });
  });
});

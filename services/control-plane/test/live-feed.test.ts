import { emptyRunState } from "@macp/events";
import type { CanonicalEvent } from "@macp/events";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemoryBus } from "@macp/pipeline";
import { RunEventHub } from "../src/ingest/run-event-hub.js";
import type { EventPages } from "../src/streaming/event-pages.js";
import type { FrameSink } from "../src/streaming/frame-sink.js";
import type { StreamFrame } from "../src/streaming/frames.js";
import { LiveFeed } from "../src/streaming/live-feed.js";

const RUN = "00000000-0000-4000-8000-000000000001";

/** A hub over the in-memory bus, which delivers synchronously within publish. */
const newHub = () => new RunEventHub(new MemoryBus(1, 60_000), pino({ level: "silent" }));

function event(seq: number, type = "message.received"): CanonicalEvent {
  return { id: `e${seq}`, runId: RUN, seq, ts: new Date(0).toISOString(), type, schemaVersion: 3, source: { kind: "runtime", name: "t" }, trace: {}, data: {} } as unknown as CanonicalEvent;
}

/** A store whose events are `stored` (mutable: tests commit during a read). */
function pagesOver(stored: CanonicalEvent[], duringRead?: (call: number) => void): EventPages {
  let calls = 0;
  return {
    async page(_runId, afterSeq, limit) {
      calls += 1;
      const page = stored.filter((item) => item.seq > afterSeq).slice(0, limit);
      duringRead?.(calls);
      return page;
    },
    state: async () => emptyRunState(RUN),
  };
}

/** A sink recording frames; `buffered` simulates bytes a client did not read. */
function recordingSink(buffered = () => 0): FrameSink & { frames: StreamFrame[]; ended: "no" | "ended" | "aborted" } {
  const listeners: (() => void)[] = [];
  const sink = {
    frames: [] as StreamFrame[],
    ended: "no" as "no" | "ended" | "aborted",
    send(frame: StreamFrame) {
      sink.frames.push(frame);
      return true;
    },
    get bufferedBytes() {
      return buffered();
    },
    drained: async () => undefined,
    get closed() {
      return sink.ended !== "no";
    },
    end(abort = false) {
      if (sink.ended !== "no") return;
      sink.ended = abort ? "aborted" : "ended";
      for (const listener of listeners) listener();
    },
    onClose(listener: () => void) {
      listeners.push(listener);
    },
  };
  return sink;
}

/** Publishes a committed block `previousSeq < seq <= last event's seq`, as an append does. */
function publish(hub: RunEventHub, previousSeq: number, ...events: CanonicalEvent[]): void {
  hub.publish({ runId: RUN, previousSeq, throughSeq: events.at(-1)?.seq ?? previousSeq, events });
}

/** Lets the feed's queued store reads and sends run (the test store answers at once). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

const seqsOf = (frames: StreamFrame[]) => frames.flatMap((frame) => (frame.event === "canonical_event" ? [frame.id] : []));
const deps = (hub: RunEventHub, pages: EventPages, overrides: Partial<{ pageSize: number; maxPendingEvents: number; maxBufferedBytes: number }> = {}) => ({
  hub,
  pages,
  pageSize: 2,
  maxBufferedBytes: 1 << 20,
  maxPendingEvents: 100,
  logger: pino({ level: "silent" }),
  ...overrides,
});
const request = { runId: RUN, afterSeq: 0, includeSnapshot: true, heartbeatMs: 60_000, status: "running" };

describe("LiveFeed seam between backfill and live events", () => {
  it("sends every event exactly once, in order, when events commit while the backfill reads", async () => {
    const hub = newHub();
    const stored = [event(2), event(3), event(5)];
    const commit = (previousSeq: number, ...events: CanonicalEvent[]) => {
      stored.push(...events);
      publish(hub, previousSeq, ...events);
    };
    // Each read commits more: the first page's read also sees seq 7 (stored and published), the
    // second commits 9 and 10 after its query (published only), the last publishes seq 3 again.
    const pages = pagesOver(stored, (call) => {
      if (call === 1) commit(5, event(7));
      if (call === 2) {
        const late = [event(9), event(10)];
        publish(hub, 7, ...late);
        stored.push(...late);
      }
      if (call === 3) publish(hub, 2, event(3));
    });
    const sink = recordingSink();
    const feed = new LiveFeed(deps(hub, pages), sink, request);
    await feed.start();
    commit(10, event(12), event(13));
    expect(sink.frames[0]?.event).toBe("snapshot");
    expect(seqsOf(sink.frames)).toEqual([2, 3, 5, 7, 9, 10, 12, 13]);
    expect(feed.cursor).toBe(13);
    expect(sink.ended).toBe("no");
    sink.end();
  });

  it("resumes after the cursor and ends with run_terminal after the run's terminal event", async () => {
    const hub = newHub();
    const stored = [event(1), event(2), event(4)];
    const sink = recordingSink();
    await new LiveFeed(deps(hub, pagesOver(stored)), sink, { ...request, afterSeq: 2, includeSnapshot: false }).start();
    publish(hub, 4, event(6), event(7, "run.completed"));
    expect(sink.frames.map((frame) => frame.event)).toEqual(["canonical_event", "canonical_event", "canonical_event", "run_terminal"]);
    expect(seqsOf(sink.frames)).toEqual([4, 6, 7]);
    expect(sink.frames.at(-1)).toEqual({ event: "run_terminal", data: { runId: RUN, status: "completed", lastSeq: 7 } });
    expect(sink.ended).toBe("ended");
    publish(hub, 7, event(8));
    expect(seqsOf(sink.frames)).toEqual([4, 6, 7]);
  });

  it("closes after the backfill when the run had already ended", async () => {
    const sink = recordingSink();
    await new LiveFeed(deps(newHub(), pagesOver([event(1), event(2, "run.failed")])), sink, { ...request, status: "failed" }).start();
    expect(sink.frames.map((frame) => frame.event)).toEqual(["snapshot", "canonical_event", "canonical_event", "run_terminal"]);
    expect(sink.ended).toBe("ended");
  });

  it("drops held events beyond the limit and reads them from the store instead", async () => {
    const hub = newHub();
    const stored = [event(1)];
    const pages = pagesOver(stored, (call) => {
      if (call !== 1) return;
      const burst = [2, 3, 4, 5, 6].map((seq) => event(seq));
      stored.push(...burst);
      for (const item of burst) publish(hub, item.seq - 1, item);
    });
    const sink = recordingSink();
    await new LiveFeed(deps(hub, pages, { pageSize: 10, maxPendingEvents: 2 }), sink, request).start();
    expect(seqsOf(sink.frames)).toEqual([1, 2, 3, 4, 5, 6]);
    sink.end();
  });

  it("drops a client that does not read instead of buffering without bound", async () => {
    const hub = newHub();
    let unread = 0;
    const sink = recordingSink(() => unread);
    await new LiveFeed(deps(hub, pagesOver([]), { maxBufferedBytes: 1000 }), sink, request).start();
    publish(hub, 0, event(1));
    expect(sink.ended).toBe("no");
    unread = 5000;
    publish(hub, 1, event(2));
    expect(sink.ended).toBe("aborted");
    publish(hub, 2, event(3));
    expect(seqsOf(sink.frames)).toEqual([1, 2]);
  });

  it("closes with a stream_closed frame carrying the cursor at shutdown", async () => {
    const sink = recordingSink();
    const feed = new LiveFeed(deps(newHub(), pagesOver([event(3)])), sink, { ...request, includeSnapshot: false });
    await feed.start();
    feed.shutdown();
    expect(sink.frames.at(-1)).toEqual({ event: "stream_closed", data: { reason: "shutdown", lastSeq: 3 } });
    expect(sink.ended).toBe("ended");
  });
});

describe("LiveFeed with updates from several processes", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sends every event once and in seq order when committed blocks arrive out of order", async () => {
    const hub = newHub();
    const stored: CanonicalEvent[] = [];
    const sink = recordingSink();
    await new LiveFeed(deps(hub, pagesOver(stored)), sink, { ...request, includeSnapshot: false }).start();
    // Three transactions commit in seq order (A: 2-3, B: 5-6, C: 8); their updates arrive C, A, B.
    const a = [event(2), event(3)];
    const b = [event(5), event(6)];
    const c = [event(8)];
    stored.push(...a, ...b, ...c);
    publish(hub, 6, ...c);
    await settle();
    publish(hub, 0, ...a);
    publish(hub, 3, ...b);
    await settle();
    expect(seqsOf(sink.frames)).toEqual([2, 3, 5, 6, 8]);
    // The next block in order goes straight through.
    stored.push(event(10));
    publish(hub, 8, event(10));
    expect(seqsOf(sink.frames)).toEqual([2, 3, 5, 6, 8, 10]);
    sink.end();
  });

  it("reads a skipped block from the store before the update that follows it, even when more arrive meanwhile", async () => {
    const hub = newHub();
    const stored = [event(1)];
    let reads = 0;
    const pages = pagesOver(stored, () => {
      reads += 1;
      // While the gap is being read, the next block commits and its update arrives.
      if (reads === 2) {
        stored.push(event(9));
        publish(hub, 7, event(9));
      }
    });
    const sink = recordingSink();
    await new LiveFeed(deps(hub, pages, { pageSize: 10 }), sink, { ...request, includeSnapshot: false }).start();
    // Block 2-4 committed, its update was lost; block 5-7 arrives.
    stored.push(event(3), event(4), event(6), event(7));
    publish(hub, 4, event(6), event(7));
    await settle();
    expect(seqsOf(sink.frames)).toEqual([1, 3, 4, 6, 7, 9]);
    expect(reads).toBe(2);
    sink.end();
  });

  it("delivers a run's last events whose update was lost at the next heartbeat, then ends the stream", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const hub = newHub();
    const stored = [event(1)];
    const sink = recordingSink();
    await new LiveFeed(deps(hub, pagesOver(stored)), sink, { ...request, includeSnapshot: false, heartbeatMs: 1_000 }).start();
    stored.push(event(3), event(4, "run.completed"));
    vi.advanceTimersByTime(1_000);
    await settle();
    expect(sink.frames.map((frame) => frame.event)).toEqual(["canonical_event", "heartbeat", "canonical_event", "canonical_event", "run_terminal"]);
    expect(seqsOf(sink.frames)).toEqual([1, 3, 4]);
    expect(sink.ended).toBe("ended");
  });
});

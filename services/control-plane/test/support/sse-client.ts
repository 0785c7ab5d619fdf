/** One parsed server-sent event. */
export interface SseFrame {
  readonly event: string;
  readonly id: string | undefined;
  // Frame payloads are checked field by field in tests.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly data: any;
}

/** An open SSE connection read frame by frame. */
export interface SseConnection {
  readonly status: number;
  readonly headers: Headers;
  /** The next frame, or undefined once the server ended the stream. */
  next(): Promise<SseFrame | undefined>;
  /** Frames until `stop` returns true for one (included) or the stream ends. */
  until(stop: (frame: SseFrame) => boolean): Promise<SseFrame[]>;
  close(): void;
}

/** Opens `url` as an event stream with fetch (so headers such as Last-Event-ID can be set). */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  const abort = new AbortController();
  const response = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: abort.signal });
  const reader = response.body?.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let ended = false;
  const next = async (): Promise<SseFrame | undefined> => {
    for (;;) {
      const boundary = buffer.indexOf("\n\n");
      if (boundary >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        let event = "message";
        let id: string | undefined;
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") event = value;
          else if (field === "id") id = value;
          else if (field === "data") data.push(value);
        }
        if (data.length === 0) continue;
        return { event, id, data: JSON.parse(data.join("\n")) };
      }
      if (ended || !reader) return undefined;
      let chunk;
      try {
        chunk = await reader.read();
      } catch {
        ended = true;
        continue;
      }
      if (chunk.done) ended = true;
      else buffer += decoder.decode(chunk.value, { stream: true });
    }
  };
  return {
    status: response.status,
    headers: response.headers,
    next,
    async until(stop) {
      const frames: SseFrame[] = [];
      for (;;) {
        const frame = await next();
        if (!frame) return frames;
        frames.push(frame);
        if (stop(frame)) return frames;
      }
    },
    close() {
      abort.abort();
    },
  };
}

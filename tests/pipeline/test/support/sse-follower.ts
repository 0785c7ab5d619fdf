/** What one SSE client of a run saw over all its connections. */
export interface FollowResult {
  /** Seqs of every `canonical_event` frame received, in arrival order. */
  readonly seen: number[];
  /** Connections opened after the first (each resumed with Last-Event-ID). */
  readonly reconnects: number;
  /** The `run_terminal` frame arrived. */
  readonly terminal: boolean;
}

/**
 * An SSE client that follows a run across control-plane instances: whenever its connection ends
 * or fails (the instance was killed), it connects to the next instance with `Last-Event-ID` = the
 * last seq it received, until the run's `run_terminal` frame or `signal` aborts.
 */
export async function followRun(runId: string, instances: () => readonly string[], first: number, signal: AbortSignal): Promise<FollowResult> {
  const seen: number[] = [];
  let reconnects = -1;
  let terminal = false;
  let index = first;
  while (!terminal && !signal.aborted) {
    const bases = instances();
    const base = bases[index % bases.length] as string;
    reconnects += 1;
    try {
      const last = seen.at(-1);
      const response = await fetch(`${base}/runs/${runId}/stream?includeSnapshot=false`, {
        headers: { accept: "text/event-stream", ...(last !== undefined ? { "last-event-id": String(last) } : {}) },
        signal,
      });
      if (response.status === 200 && response.body) {
        for await (const frame of frames(response.body)) {
          if (frame.event === "canonical_event" && frame.id !== undefined) seen.push(Number(frame.id));
          if (frame.event === "run_terminal") {
            terminal = true;
            break;
          }
        }
      } else {
        await response.body?.cancel();
      }
    } catch {
      // The instance is gone or restarting: the next one is tried.
    }
    if (terminal || signal.aborted) break;
    index += 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { seen, reconnects: Math.max(0, reconnects), terminal };
}

async function* frames(body: ReadableStream<Uint8Array>): AsyncGenerator<{ event: string; id: string | undefined }> {
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        let event = "message";
        let id: string | undefined;
        for (const line of block.split("\n")) {
          if (line.startsWith("event: ")) event = line.slice(7);
          else if (line.startsWith("id: ")) id = line.slice(4);
        }
        yield { event, id };
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

import { HttpError } from "../http/errors.js";

/** Something that can be closed with a final frame at shutdown. */
export interface ClosableStream {
  shutdown(): void;
}

/**
 * Open client streams of this process: a per-principal cap (streams are long-lived, so a request
 * rate limit does not bound them) and graceful shutdown with a final frame.
 */
export class StreamRegistry {
  private readonly streams = new Set<ClosableStream>();
  private readonly perPrincipal = new Map<string, number>();
  private closing = false;

  constructor(private readonly maxPerPrincipal: number) {}

  /** Admits a stream of `principalId`, or throws 429 / 503; returns the release function. */
  admit(principalId: string): () => void {
    if (this.closing) throw new HttpError(503, "SHUTTING_DOWN", "the control plane is shutting down");
    const open = this.perPrincipal.get(principalId) ?? 0;
    if (open >= this.maxPerPrincipal) throw new HttpError(429, "TOO_MANY_STREAMS", `at most ${this.maxPerPrincipal} concurrent streams per caller`);
    this.perPrincipal.set(principalId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.perPrincipal.get(principalId) ?? 1) - 1;
      if (left === 0) this.perPrincipal.delete(principalId);
      else this.perPrincipal.set(principalId, left);
    };
  }

  /** Tracks `stream` until the returned function is called. */
  track(stream: ClosableStream): () => void {
    this.streams.add(stream);
    return () => this.streams.delete(stream);
  }

  get size(): number {
    return this.streams.size;
  }

  /** Refuses new streams and closes every open one with its final frame. */
  shutdown(): void {
    this.closing = true;
    for (const stream of [...this.streams]) stream.shutdown();
    this.streams.clear();
  }
}

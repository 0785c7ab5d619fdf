import type { ServerWritableStream, ServerDuplexStream } from "@grpc/grpc-js";

type WritableCall<T> = ServerWritableStream<unknown, T> | ServerDuplexStream<unknown, T>;

/**
 * Writes to a server stream and ends it cleanly (status OK) once the client has fallen more than
 * `limit` messages behind, so a stuck watcher can never grow the server's memory without bound.
 * `onClose` runs exactly once, however the stream ends.
 */
export class StreamWriter<T> {
  private closed = false;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly call: WritableCall<T>,
    private readonly limit: number,
    private readonly onLag: () => void = () => undefined,
  ) {
    const close = (): void => this.close();
    call.on("cancelled", close);
    call.on("close", close);
    call.on("error", close);
    // A call cancelled before this writer existed (e.g. during authentication) fired its events already.
    if (call.cancelled || call.destroyed) this.close();
  }

  /** Runs `cleanup` when the stream ends. */
  onClose(cleanup: () => void): void {
    if (this.closed) cleanup();
    else this.cleanups.push(cleanup);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Writes a message; a lagging client gets its stream ended instead. */
  write(message: T): void {
    if (this.closed) return;
    if (this.call.writableLength >= this.limit) {
      this.onLag();
      this.end();
      return;
    }
    this.call.write(message);
  }

  /**
   * Writes a backlog the stream owes its client (e.g. an initial sync), pacing it by the client's
   * reading instead of the lag allowance, which only judges live messages. Resolves once all are
   * written or the stream ended.
   */
  async writeBacklog(messages: Iterable<T>): Promise<void> {
    for (const message of messages) {
      if (this.closed) return;
      if (!this.call.write(message)) {
        await new Promise<void>((resolve) => {
          this.call.once("drain", resolve);
          this.onClose(resolve);
        });
      }
    }
  }

  /** Ends the stream with status OK. */
  end(): void {
    if (this.closed) return;
    this.close();
    this.call.end();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
  }
}

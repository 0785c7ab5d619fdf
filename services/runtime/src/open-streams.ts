/**
 * The enders of every open stream. At shutdown each is called so streams end cleanly with OK;
 * a stream registered after that (e.g. a watch whose authentication finished late) is ended at
 * once instead of holding shutdown for the whole grace period.
 */
export class OpenStreams {
  private readonly enders = new Set<() => void>();
  private closed = false;

  add(end: () => void): void {
    if (this.closed) {
      queueMicrotask(end);
      return;
    }
    this.enders.add(end);
  }

  delete(end: () => void): void {
    this.enders.delete(end);
  }

  /** Ends every open stream and every one registered later. */
  endAll(): void {
    this.closed = true;
    for (const end of [...this.enders]) end();
    this.enders.clear();
  }
}

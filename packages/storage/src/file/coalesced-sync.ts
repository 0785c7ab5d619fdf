/**
 * Shares one run of an expensive flush among everyone who asks while it is pending: a request
 * joins the next run that has not started yet (a run already under way may have begun before
 * the caller's write, so it cannot cover it). Used for directory fsyncs after renames.
 */
export class CoalescedSync {
  private pending: Promise<void> | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly flush: () => Promise<void>) {}

  request(): Promise<void> {
    if (this.pending !== undefined) return this.pending;
    const run = this.running.then(() => {
      this.pending = undefined;
      return this.flush();
    });
    this.pending = run;
    this.running = run.catch(() => undefined);
    return run;
  }
}

/** Source of the current time in Unix milliseconds. Injected so the kernel never reads the wall clock itself. */
export interface Clock {
  /** The current time in Unix milliseconds. */
  now(): number;
}

/** A clock that only moves when told to: the deterministic clock of tests and replays. */
export class ManualClock implements Clock {
  private current: number;

  constructor(startUnixMs: number) {
    this.current = startUnixMs;
  }

  /** The time last set or advanced to. */
  now(): number {
    return this.current;
  }

  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.current += ms;
  }

  /** Sets the clock to an absolute time. */
  set(unixMs: number): void {
    this.current = unixMs;
  }
}

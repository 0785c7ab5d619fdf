import { MacpClientError } from "@macp/client";
import { Counter, Gauge } from "prom-client";
import type { Registry } from "prom-client";

/** Breaker states, as `/readyz` and the admin routes name them. */
export type BreakerState = "CLOSED" | "OPEN" | "HALF_OPEN";

/** One state change. */
export interface BreakerTransition {
  readonly state: BreakerState;
  readonly enteredAt: string;
  readonly reason: string;
}

/** Thresholds (RUNTIME_CIRCUIT_BREAKER_*). */
export interface BreakerConfig {
  /** Consecutive transport failures that open the breaker. */
  readonly threshold: number;
  /** How long it stays open before one trial call may pass (half-open). */
  readonly resetMs: number;
  /** While not closed, how often a background probe asks the runtime whether it is back. */
  readonly probeMs: number;
}

/** Asks the runtime for something cheap; true when it answered (any answer). */
export type RuntimeProbeCall = () => Promise<boolean>;

/**
 * A runtime call refused without reaching the runtime because the breaker is open. It is an
 * UNAVAILABLE client error, so callers that retry while the runtime is down treat it alike; the
 * HTTP edge answers 503 `CIRCUIT_BREAKER_OPEN`.
 */
export class CircuitOpenError extends MacpClientError {
  constructor(readonly retryAt: string | undefined) {
    super(14, retryAt === undefined ? "circuit breaker half-open: a trial call is in flight" : `circuit breaker open until ${retryAt}`);
    this.name = "CircuitOpenError";
  }
}

const HISTORY_LIMIT = 200;
const STATE_VALUE: Readonly<Record<BreakerState, number>> = { CLOSED: 0, OPEN: 1, HALF_OPEN: 2 };

/** Only failures that say the runtime is not there count; any answer (even a refusal) proves it is up. */
export function isTransportFailure(error: unknown): boolean {
  return error instanceof MacpClientError && !(error instanceof CircuitOpenError) && (error.grpcCode === 14 || error.grpcCode === 4);
}

/**
 * A circuit breaker around unary runtime calls (per process). CLOSED: calls pass; `threshold`
 * consecutive transport failures (UNAVAILABLE, DEADLINE_EXCEEDED) open it. OPEN: calls fail at
 * once with {@link CircuitOpenError} for `resetMs`. Then HALF_OPEN: one trial call passes; its
 * success closes the breaker, its failure opens it again. An admin reset closes it. The runtime
 * coming back closes it without waiting for the open period to end: while not closed, a probe
 * every `probeMs` asks the runtime, and any traffic that reaches it ({@link reached}: a frame on
 * a session stream) closes the breaker at once.
 */
export class CircuitBreaker {
  private current: BreakerState = "CLOSED";
  private failures = 0;
  private openedAt = 0;
  private trialInFlight = false;
  private prober: NodeJS.Timeout | undefined;
  private probing = false;
  private readonly log: BreakerTransition[] = [];
  private readonly stateGauge: Gauge;
  private readonly failureCounter: Counter;
  private readonly successCounter: Counter;

  constructor(
    readonly config: BreakerConfig,
    registry: Registry,
    private readonly now: () => number = Date.now,
    private readonly probe?: RuntimeProbeCall,
  ) {
    const registers = [registry];
    this.stateGauge = new Gauge({ name: "circuit_breaker_state", help: "Runtime circuit breaker: 0 closed, 1 open, 2 half-open", registers });
    this.failureCounter = new Counter({ name: "macp_circuit_breaker_failures_total", help: "Runtime calls that failed for transport reasons", registers });
    this.successCounter = new Counter({ name: "macp_circuit_breaker_success_total", help: "Runtime calls that reached the runtime", registers });
    this.enter("CLOSED", "started");
  }

  /** The state now (an open breaker whose time is up reads HALF_OPEN). */
  get state(): BreakerState {
    if (this.current === "OPEN" && this.now() - this.openedAt >= this.config.resetMs) this.enter("HALF_OPEN", `open for ${this.config.resetMs} ms: next call is a trial`);
    return this.current;
  }

  /** State with counters, for the admin route. */
  describe(): { state: BreakerState; consecutiveFailures: number; threshold: number; resetMs: number; openedAt: string | null; retryAt: string | null } {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      threshold: this.config.threshold,
      resetMs: this.config.resetMs,
      openedAt: state === "CLOSED" ? null : new Date(this.openedAt).toISOString(),
      retryAt: state === "OPEN" ? new Date(this.openedAt + this.config.resetMs).toISOString() : null,
    };
  }

  /** State changes, oldest first, entered at or after `since` (epoch ms). */
  history(since = 0): BreakerTransition[] {
    return this.log.filter((entry) => Date.parse(entry.enteredAt) >= since);
  }

  /** Runs `call` unless the breaker refuses it; its outcome moves the breaker. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    const state = this.state;
    if (state === "OPEN") throw new CircuitOpenError(new Date(this.openedAt + this.config.resetMs).toISOString());
    const trial = state === "HALF_OPEN";
    if (trial) {
      if (this.trialInFlight) throw new CircuitOpenError(undefined);
      this.trialInFlight = true;
    }
    try {
      const result = await call();
      this.succeeded();
      return result;
    } catch (error) {
      if (isTransportFailure(error)) this.failed(error as MacpClientError);
      else this.succeeded();
      throw error;
    } finally {
      if (trial) this.trialInFlight = false;
    }
  }

  /** Traffic outside {@link run} reached the runtime (`source` says what): it is up, so the breaker closes. */
  reached(source: string): void {
    this.failures = 0;
    if (this.current !== "CLOSED") this.enter("CLOSED", `${source} reached the runtime`);
  }

  /** Stops the background probe (shutdown). */
  stop(): void {
    if (this.prober) clearInterval(this.prober);
    this.prober = undefined;
  }

  /** Closes the breaker (admin reset). */
  reset(): BreakerState {
    this.failures = 0;
    if (this.current !== "CLOSED") this.enter("CLOSED", "reset by an administrator");
    return this.current;
  }

  private succeeded(): void {
    this.successCounter.inc();
    this.failures = 0;
    if (this.current !== "CLOSED") this.enter("CLOSED", "a trial call reached the runtime");
  }

  private failed(error: MacpClientError): void {
    this.failureCounter.inc();
    this.failures += 1;
    if (this.current === "HALF_OPEN") this.open(`trial call failed: ${error.message}`);
    else if (this.current === "CLOSED" && this.failures >= this.config.threshold) this.open(`${this.failures} consecutive failures, last: ${error.message}`);
  }

  private open(reason: string): void {
    this.openedAt = this.now();
    this.enter("OPEN", reason);
  }

  private async runProbe(): Promise<void> {
    if (this.probing || !this.probe) return;
    this.probing = true;
    try {
      if (await this.probe().catch(() => false)) this.reached("a probe");
    } finally {
      this.probing = false;
    }
  }

  private enter(state: BreakerState, reason: string): void {
    if (state === "CLOSED") this.stop();
    else if (this.probe && !this.prober) {
      this.prober = setInterval(() => void this.runProbe(), this.config.probeMs);
      this.prober.unref();
    }
    this.current = state;
    this.stateGauge.set(STATE_VALUE[state]);
    this.log.push({ state, enteredAt: new Date(this.now()).toISOString(), reason });
    if (this.log.length > HISTORY_LIMIT) this.log.shift();
  }
}

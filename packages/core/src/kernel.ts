import {
  CoreMessageType,
  MAX_SUSPEND_MS,
  MacpError,
  PROTOCOL_VERSION,
  RUNTIME_SENDER,
  SessionCancelPayload,
  SessionResumePayload,
  SessionSuspendPayload,
  decodeProgress,
  decodeSignal,
  identifierLengthError,
  isBlank,
  isValidSessionId,
} from "@macp/protocol";
import type { Envelope, ModeDescriptor, PolicyDescriptor } from "@macp/protocol";
import { isCommitmentAuthorized } from "@macp/policy";
import type { Clock } from "./clock.js";
import { EventHub, KeyedEventHub } from "./event-hub.js";
import { DeadlineHeap } from "./deadline-heap.js";
import { EvictionQueue } from "./eviction-queue.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { RegistryPersistence } from "./registry-persistence.js";
import type { ModeRegistryPort, PolicyRegistryPort } from "./registry-persistence.js";
import {
  POLICY_BINDING_TYPE,
  applyInternal,
  applyMessage,
  bindingPayload,
  createSession,
  validateSessionStart,
} from "./session-machine.js";
import type { ParticipantActivityRecord, SessionRecord, SessionReplayState, SessionStatus } from "./session-record.js";
import { serializeSessionState } from "./session-record.js";
import type { LogEntry, SessionStore, StoredSnapshot } from "./session-store.js";
import { StaleAppendError } from "./stale-append.js";

/** Kernel dependencies: every effect is injected, so the kernel is deterministic under test. */
export interface KernelOptions {
  readonly store: SessionStore;
  readonly clock: Clock;
  readonly modes: ModeRegistryPort;
  readonly policies: PolicyRegistryPort;
  /**
   * Write a snapshot at most every N log records of a session (0 disables periodic snapshots),
   * and only once the records since the last one add up to at least that snapshot's size, so a
   * session whose state has grown large is not re-serialized every N messages: writing snapshots
   * then costs about one state byte per logged byte, however big the state.
   */
  readonly snapshotEvery?: number;
  /** Receives failures of best-effort background work (snapshots). */
  readonly onBackgroundError?: (error: unknown, sessionId: string) => void;
  /**
   * Rebuilds a session that is not in memory from storage (sessions evicted by the sweep, or
   * never loaded). Without it, only sessions in memory exist.
   */
  readonly loadSession?: (sessionId: string) => Promise<RestoredSession | undefined>;
  /**
   * Finished sessions (resolved, expired, cancelled) started longer ago than this are dropped from
   * memory by the sweep; with `loadSession` they stay reachable. Undefined keeps them forever.
   */
  readonly retainFinishedMs?: number;
  /**
   * Runtime replicas sharing one log: accepted envelopes and lifecycle events are not published
   * when committed here but when the shared log delivers them ({@link Kernel.observe}), so every
   * replica reports every replica's acceptances in log order with the same sequence numbers.
   */
  readonly eventsFromLog?: boolean;
}

/** An append read back from a log shared by runtime replicas, in log order. */
export interface ObservedAppend {
  readonly sessionId: string;
  readonly entries: readonly LogEntry[];
  /** The session's log length after these entries. */
  readonly logLength: number;
  /** The lifecycle event the writer noted for this append, if any. */
  readonly lifecycle: LifecycleEventType | undefined;
  /** Moves the store's view of the session to this append; called once the kernel's state includes it. */
  readonly adopt: () => void;
}

/** A session rebuilt from storage, with the time it finished when it is finished. */
export interface RestoredSession extends SessionReplayState {
  /** Receive time of the finished session's last log record (its terminal transition). */
  readonly finishedAtUnixMs?: number;
  /**
   * Log length covered by the stored snapshot the session was rebuilt from: the kernel writes no
   * snapshot of it again until its log grows past that (so closing after a restart does not
   * rewrite every snapshot).
   */
  readonly snapshotLogLength?: number;
}

/** Who sends: the authenticated identity's sender and its open-session allowance. */
export interface SenderContext {
  readonly sender: string;
  readonly maxOpenSessions?: number | null;
}

/** Outcome of a Send or a control call, ready to become an Ack. */
export interface KernelOutcome {
  readonly ok: boolean;
  readonly duplicate: boolean;
  readonly status: SessionStatus | undefined;
  readonly error: MacpError | undefined;
  readonly atUnixMs: number;
}

/** An accepted envelope with its acceptance sequence, as delivered to stream subscribers. */
export interface AcceptedEnvelope {
  readonly seq: number;
  readonly envelope: Envelope;
}

/** Session lifecycle event types (WatchSessions). */
export type LifecycleEventType = "CREATED" | "RESOLVED" | "EXPIRED" | "SUSPENDED" | "RESUMED" | "CANCELLED";

/** A lifecycle transition of one session. */
export interface LifecycleEvent {
  readonly type: LifecycleEventType;
  readonly sessionId: string;
  readonly observedAtUnixMs: number;
}

/** Read-only view of a live session for queries. */
export interface SessionInfo {
  readonly record: SessionRecord;
  readonly activity: ReadonlyMap<string, ParticipantActivityRecord>;
}

interface LiveSession {
  record: SessionRecord;
  readonly seen: Set<string>;
  readonly activity: Map<string, ParticipantActivityRecord>;
  /** Set once the session is finished: when its terminal transition was committed. */
  finishedAtUnixMs?: number;
  /** The deadline last pushed to the deadline heap (open or suspended sessions). */
  deadline: number | undefined;
  /** When the finished session entered the eviction queue. */
  queuedAt: number | undefined;
  /** Log length covered by the last snapshot this kernel wrote. */
  snapshotLength: number | undefined;
  /** Log length when the last snapshot was scheduled (restored sessions: when loaded). */
  snapshotScheduledAt: number;
  /** Estimated log bytes appended since then. */
  bytesSinceSnapshot: number;
  /** Size of the last snapshot this kernel wrote (0 before the first). */
  snapshotBytes: number;
}

/** A log record's size, roughly as stored: payload, ids and a fixed allowance for the rest. */
function recordBytes(entry: LogEntry): number {
  return entry.payload.length + entry.messageId.length + entry.sender.length + entry.messageType.length + 64;
}

/**
 * How often one message is judged again after losing the race for its position to another
 * replica (each loss means another message was accepted meanwhile).
 */
const MAX_REJUDGE = 32;

/** Expiries and evictions started together: their records share the store's group commits. */
const SWEEP_CHUNK = 4096;

const TERMINAL: ReadonlySet<SessionStatus> = new Set<SessionStatus>(["Resolved", "Expired", "Cancelled"]);

/** True for Resolved, Expired and Cancelled. */
export function isTerminal(status: SessionStatus): boolean {
  return TERMINAL.has(status);
}

/** When an open session's TTL or a suspended session's suspension cap runs out; none once finished. */
function deadlineOf(record: SessionRecord): number | undefined {
  if (record.status === "Open") return Number(record.expiresAtUnixMs);
  if (record.status === "Suspended") return (record.suspendedAtUnixMs ?? 0) + MAX_SUSPEND_MS - record.accumulatedSuspendedMs;
  return undefined;
}

/** Runs `task` over `items`, {@link SWEEP_CHUNK} at a time. */
async function inChunks(items: readonly string[], task: (item: string) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += SWEEP_CHUNK) {
    await Promise.all(items.slice(start, start + SWEEP_CHUNK).map(task));
  }
}

function liveOf(state: RestoredSession, snapshotScheduledAt = state.record.logLength): LiveSession {
  const live: LiveSession = {
    record: state.record,
    seen: new Set(state.seenMessageIds),
    activity: new Map(),
    deadline: undefined,
    queuedAt: undefined,
    snapshotLength: state.snapshotLogLength,
    snapshotScheduledAt,
    bytesSinceSnapshot: 0,
    snapshotBytes: 0,
  };
  if (state.finishedAtUnixMs !== undefined) live.finishedAtUnixMs = state.finishedAtUnixMs;
  return live;
}

/** Rebuilds the wire envelope of an accepted log record. */
export function envelopeOf(entry: LogEntry): Envelope {
  return {
    macpVersion: entry.macpVersion === "" ? PROTOCOL_VERSION : entry.macpVersion,
    mode: entry.mode,
    messageType: entry.messageType,
    messageId: entry.messageId,
    sessionId: entry.sessionId,
    sender: entry.sender,
    timestampUnixMs: entry.timestampUnixMs === 0n ? BigInt(entry.receivedAtUnixMs) : entry.timestampUnixMs,
    payload: entry.payload,
  };
}

/**
 * The coordination kernel: owns live sessions and applies the MACP session rules (protocol.md §2)
 * between an already authenticated edge and durable storage. Nothing is acknowledged before the
 * store confirms the record durable, and a rejected message never changes state.
 */
export class Kernel {
  private readonly sessions = new Map<string, LiveSession>();
  private readonly unloadable = new Map<string, MacpError>();
  private readonly mutex = new KeyedMutex();
  private readonly accepted = new KeyedEventHub<AcceptedEnvelope>();
  private readonly lifecycle = new EventHub<LifecycleEvent>();
  private readonly signals = new EventHub<Envelope>();
  private readonly background = new Set<Promise<void>>();
  private readonly deadlines = new DeadlineHeap();
  /** While a sweep expires sessions: snapshots scheduled meanwhile, started once it is done. */
  private heldSnapshots: string[] | undefined;
  private readonly evictions = new EvictionQueue();
  private readonly store: SessionStore;
  private readonly clock: Clock;
  private readonly modes: ModeRegistryPort;
  private readonly policies: PolicyRegistryPort;
  private readonly registries: RegistryPersistence;
  private readonly snapshotEvery: number;
  private readonly onBackgroundError: (error: unknown, sessionId: string) => void;
  private readonly loadSession: ((sessionId: string) => Promise<RestoredSession | undefined>) | undefined;
  private readonly retainFinishedMs: number | undefined;
  private readonly eventsFromLog: boolean;

  constructor(options: KernelOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.modes = options.modes;
    this.policies = options.policies;
    this.registries = new RegistryPersistence(options.store, options.modes, options.policies);
    this.snapshotEvery = options.snapshotEvery ?? 64;
    this.onBackgroundError = options.onBackgroundError ?? (() => undefined);
    this.loadSession = options.loadSession;
    this.retainFinishedMs = options.retainFinishedMs;
    this.eventsFromLog = options.eventsFromLog ?? false;
  }

  /**
   * Runs a session's critical section (under its lock) and judges the message again when the
   * answer may have come from a stale state: after losing an append to another writer of a
   * shared log (the cache was dropped, so the next attempt reloads), and before a rejection
   * given from a cached state that the store says is no longer the end of the log. The answer is
   * then the one a single node holding the whole log would give.
   */
  private async judged<T>(sessionId: string, section: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const cached = this.sessions.has(sessionId);
      try {
        return await section();
      } catch (error) {
        if (attempt >= MAX_REJUDGE) {
          if (error instanceof StaleAppendError) throw new MacpError("StorageFailed", `session '${sessionId}' kept changing under concurrent writers`);
          throw error;
        }
        if (error instanceof StaleAppendError) continue;
        const judgement = error instanceof MacpError && error.code !== "INTERNAL_ERROR";
        if (judgement && cached && this.store.isCurrent && !(await this.store.isCurrent(sessionId))) {
          this.sessions.delete(sessionId);
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * The live session, rebuilt from storage when it is not in memory. Call under the session's
   * lock. A stored session that cannot be rebuilt keeps failing with the same error (and is never
   * mistaken for a free id).
   */
  private async live(sessionId: string): Promise<LiveSession | undefined> {
    const cached = this.sessions.get(sessionId);
    if (cached || !this.loadSession) return cached;
    const unloadable = this.unloadable.get(sessionId);
    if (unloadable) throw unloadable;
    let state: RestoredSession | undefined;
    try {
      state = await this.loadSession(sessionId);
    } catch (error) {
      // Storage trouble is transient and retryable; a log that does not replay stays that way.
      if (!(error instanceof MacpError) || error.code === "INTERNAL_ERROR") {
        throw new MacpError("StorageFailed", `session '${sessionId}' cannot be loaded: ${error instanceof Error ? error.message : String(error)}`);
      }
      this.unloadable.set(sessionId, error);
      throw error;
    }
    if (!state) return undefined;
    const loaded = liveOf(state);
    this.sessions.set(sessionId, loaded);
    this.track(loaded);
    return loaded;
  }

  /** Loads persisted policy and extension-mode registrations (call before adopting sessions). */
  async restoreRegistries(): Promise<void> {
    await this.registries.restore();
  }

  /** Installs sessions rebuilt from storage (crash recovery). */
  adopt(states: readonly RestoredSession[]): void {
    for (const state of states) {
      const live = liveOf(state);
      this.sessions.set(state.record.sessionId, live);
      this.track(live);
    }
  }

  /**
   * Takes in an append read back from the log shared by runtime replicas (every append, this
   * replica's own included, in log order). A cached state that ends where the append starts
   * applies it as replay would; one further behind is dropped; a session not held (or dropped)
   * is loaded, so every replica holds every live session and its deadline. With
   * `eventsFromLog`, the append's accepted envelopes and lifecycle event are published here.
   */
  async observe(append: ObservedAppend): Promise<void> {
    const { sessionId, entries, logLength } = append;
    await this.mutex.run(`session:${sessionId}`, async () => {
      const start = logLength - entries.length;
      let live = this.sessions.get(sessionId);
      if (live !== undefined && live.record.logLength === start) {
        if (this.applyObserved(live, entries, logLength)) append.adopt();
        else live = undefined;
      } else if (live !== undefined && live.record.logLength < start) {
        live = undefined;
      }
      if (live === undefined) this.sessions.delete(sessionId);
      if (live === undefined && this.loadSession) {
        try {
          await this.live(sessionId);
        } catch (error) {
          this.onBackgroundError(error, sessionId);
        }
      }
    });
    if (!this.eventsFromLog) return;
    for (const entry of entries) {
      if (entry.kind === "incoming") this.accepted.publish(sessionId, { seq: entry.seq, envelope: envelopeOf(entry) });
    }
    const last = entries[entries.length - 1];
    if (append.lifecycle !== undefined && last !== undefined) this.emit(append.lifecycle, sessionId, last.receivedAtUnixMs);
  }

  /**
   * Applies another replica's records to a cached state that ends where they start, as replay
   * does; false (nothing changed) when they do not apply here, e.g. a mode not registered yet.
   */
  private applyObserved(live: LiveSession, entries: readonly LogEntry[], logLength: number): boolean {
    let record = live.record;
    const accepted: LogEntry[] = [];
    try {
      for (const entry of entries) {
        if (entry.kind === "incoming") {
          if (live.seen.has(entry.messageId) || accepted.some((other) => other.messageId === entry.messageId)) continue;
          if (record.status === "Open") {
            const modeEntry = this.modes.get(record.mode);
            if (!modeEntry) return false;
            record = applyMessage(modeEntry, record, entry);
          } else {
            record = { ...record, lastSeq: entry.seq };
          }
          accepted.push(entry);
        } else if (entry.kind === "internal") {
          record = applyInternal(record, entry);
        }
      }
    } catch {
      return false;
    }
    for (const entry of accepted) {
      live.seen.add(entry.messageId);
      const activity = live.activity.get(entry.sender);
      live.activity.set(entry.sender, { lastMessageAtUnixMs: entry.receivedAtUnixMs, messageCount: (activity?.messageCount ?? 0) + 1 });
    }
    const wasTerminal = isTerminal(live.record.status);
    live.record = { ...record, logLength };
    const last = entries[entries.length - 1];
    if (!wasTerminal && isTerminal(record.status) && last !== undefined) live.finishedAtUnixMs = last.receivedAtUnixMs;
    this.track(live);
    return true;
  }

  /**
   * Processes an envelope whose shape was validated and whose sender is the authenticated
   * identity (protocol.md §1.1 step 7 onwards). Always resolves; failures are outcomes.
   */
  async send(envelope: Envelope, context: SenderContext): Promise<KernelOutcome> {
    try {
      if (envelope.messageType === CoreMessageType.SessionStart) return await this.startSession(envelope, context);
      if (envelope.messageType === CoreMessageType.Signal || envelope.messageType === CoreMessageType.Progress) {
        return this.ambient(envelope);
      }
      return await this.sessionMessage(envelope);
    } catch (error) {
      return this.failure(error);
    }
  }

  private async startSession(envelope: Envelope, context: SenderContext): Promise<KernelOutcome> {
    const sessionId = envelope.sessionId;
    if (!isValidSessionId(sessionId)) throw new MacpError("InvalidSessionId", `invalid session_id '${sessionId}'`);
    const modeEntry = this.modes.get(envelope.mode);
    if (!modeEntry) throw new MacpError("UnknownMode", `mode '${envelope.mode}' is not registered`);
    const payload = validateSessionStart(modeEntry, envelope.payload);
    const section = async (): Promise<KernelOutcome> => {
      const existing = await this.live(sessionId).catch((error: unknown) => {
        if (error instanceof MacpError && error.code === "INTERNAL_ERROR") throw error;
        throw new MacpError("SessionAlreadyExists", `session '${sessionId}' exists in storage but cannot be loaded`);
      });
      if (existing) {
        if (existing.seen.has(envelope.messageId)) return this.duplicate(existing.record.status);
        throw new MacpError("SessionAlreadyExists", `session '${sessionId}' already exists`);
      }
      const now = this.clock.now();
      const limit = context.maxOpenSessions;
      if (limit !== undefined && limit !== null && this.openSessionsOf(context.sender, now) >= limit) {
        throw new MacpError("RateLimited", `max_open_sessions (${limit}) reached`);
      }
      const policy = this.policies.resolveForSession(payload.policyVersion, envelope.mode);
      const entry = this.incomingEntry(envelope, 1, now);
      const record = createSession(modeEntry, { entry, payload, policyVersion: policy.policyId, policy });
      const binding: LogEntry = this.internalEntry(record, POLICY_BINDING_TYPE, bindingPayload(policy), now);
      await this.durably(sessionId, [entry, binding], "CREATED");
      const live = liveOf({ record: { ...record, logLength: 2 }, seenMessageIds: [envelope.messageId] }, 0);
      this.sessions.set(sessionId, live);
      this.track(live);
      if (!this.eventsFromLog) {
        this.accepted.publish(sessionId, { seq: 1, envelope: envelopeOf(entry) });
        this.emit("CREATED", sessionId, now);
      }
      return this.success(live.record.status, now);
    };
    const guarded = (): Promise<KernelOutcome> => this.mutex.run(`session:${sessionId}`, () => this.judged(sessionId, section));
    // max_open_sessions is counted across the initiator's sessions, so its check and the insert
    // must not interleave with another start by the same initiator.
    return context.maxOpenSessions === undefined || context.maxOpenSessions === null
      ? guarded()
      : this.mutex.run(`initiator:${context.sender}`, guarded);
  }

  private ambient(envelope: Envelope): KernelOutcome {
    if (envelope.payload.length > 0) {
      if (envelope.messageType === CoreMessageType.Signal) {
        const signal = decodeSignal(envelope.payload);
        if (isBlank(signal.signalType)) throw new MacpError("InvalidPayload", "signal_type must not be blank");
        const tooLong = identifierLengthError("signalType", "signal_type", signal.signalType, "InvalidPayload");
        if (tooLong) throw tooLong;
      } else {
        decodeProgress(envelope.payload);
      }
    }
    this.signals.publish(envelope);
    return this.success("Open", this.clock.now());
  }

  private async sessionMessage(envelope: Envelope): Promise<KernelOutcome> {
    const sessionId = envelope.sessionId;
    return this.mutex.run(`session:${sessionId}`, () => this.judged(sessionId, async () => {
      const live = await this.live(sessionId);
      if (!live) throw new MacpError("UnknownSession", `session '${sessionId}' not found`);
      if (live.seen.has(envelope.messageId)) return this.duplicate(live.record.status);
      if (envelope.mode !== live.record.mode) {
        throw new MacpError("InvalidEnvelope", "envelope mode does not match the session mode");
      }
      const now = this.clock.now();
      if (await this.expireIfDue(live, now)) throw new MacpError("TtlExpired", "session TTL expired");
      if (live.record.status !== "Open") throw new MacpError("SessionNotOpen", `session is ${live.record.status}`);
      const modeEntry = this.modes.get(live.record.mode);
      if (!modeEntry) throw new MacpError("UnknownMode", `mode '${live.record.mode}' is not registered`);
      const entry = this.incomingEntry(envelope, live.record.lastSeq + 1, now);
      const next = applyMessage(modeEntry, live.record, entry);
      const resolved = next.status === "Resolved";
      await this.durably(sessionId, [entry], resolved ? "RESOLVED" : undefined);
      live.record = { ...next, logLength: live.record.logLength + 1 };
      live.bytesSinceSnapshot += recordBytes(entry);
      live.seen.add(envelope.messageId);
      const activity = live.activity.get(envelope.sender);
      live.activity.set(envelope.sender, {
        lastMessageAtUnixMs: now,
        messageCount: (activity?.messageCount ?? 0) + 1,
      });
      if (!this.eventsFromLog) this.accepted.publish(sessionId, { seq: entry.seq, envelope: envelopeOf(entry) });
      if (resolved) {
        live.finishedAtUnixMs = now;
        this.track(live);
        if (!this.eventsFromLog) this.emit("RESOLVED", sessionId, now);
      }
      if (resolved || this.snapshotDue(live)) this.scheduleSnapshot(sessionId);
      return this.success(live.record.status, now);
    }));
  }

  /** Cancels a session (protocol.md §2.8). Throws for unknown sessions and unauthorized callers. */
  async cancel(sessionId: string, caller: string, reason: string): Promise<KernelOutcome> {
    await this.authorizeControl(sessionId, caller, "cancel");
    return this.control(sessionId, async (live, now) => {
      if (isTerminal(live.record.status)) return this.success(live.record.status, now);
      const payload = SessionCancelPayload.encode({ reason, cancelledBy: caller }).finish();
      await this.transition(live, CoreMessageType.SessionCancel, payload, now, "CANCELLED");
      return this.success(live.record.status, now);
    });
  }

  /** Suspends an open session; its TTL stops running until resumed. */
  async suspend(sessionId: string, caller: string, reason: string): Promise<KernelOutcome> {
    await this.authorizeControl(sessionId, caller, "suspend");
    return this.control(sessionId, async (live, now) => {
      if (live.record.status !== "Open") throw new MacpError("SessionNotOpen", `session is ${live.record.status}`);
      const payload = SessionSuspendPayload.encode({ reason, suspendedBy: caller }).finish();
      await this.transition(live, CoreMessageType.SessionSuspend, payload, now, "SUSPENDED");
      return this.success(live.record.status, now);
    });
  }

  /** Resumes a suspended session, banking the suspended time into its deadline. */
  async resume(sessionId: string, caller: string, reason: string): Promise<KernelOutcome> {
    await this.authorizeControl(sessionId, caller, "resume");
    return this.control(sessionId, async (live, now) => {
      if (live.record.status !== "Suspended") {
        throw new MacpError("SessionNotOpen", `session is ${live.record.status}`);
      }
      const banked = now - (live.record.suspendedAtUnixMs ?? now);
      const payload = SessionResumePayload.encode({ reason, resumedBy: caller, bankedMs: BigInt(banked) }).finish();
      const expired = live.record.accumulatedSuspendedMs + banked > MAX_SUSPEND_MS;
      await this.transition(live, CoreMessageType.SessionResume, payload, now, expired ? "EXPIRED" : "RESUMED");
      if (expired) throw new MacpError("TtlExpired", "cumulative suspension exceeded the cap");
      return this.success(live.record.status, now);
    });
  }

  private async authorizeControl(sessionId: string, caller: string, verb: string): Promise<void> {
    const info = await this.getSession(sessionId);
    if (!info) throw new MacpError("UnknownSession", `Session '${sessionId}' not found`);
    const { record } = info;
    if (caller === record.initiator) return;
    if (isCommitmentAuthorized(record.policy, caller, record.initiator, record.participants)) return;
    throw new MacpError("Forbidden", `FORBIDDEN: only the session initiator or policy-delegated roles can ${verb}`);
  }

  private async control(
    sessionId: string,
    section: (live: LiveSession, now: number) => Promise<KernelOutcome>,
  ): Promise<KernelOutcome> {
    try {
      return await this.mutex.run(`session:${sessionId}`, () =>
        this.judged(sessionId, async () => {
          const live = await this.live(sessionId);
          if (!live) throw new MacpError("UnknownSession", `session '${sessionId}' not found`);
          return section(live, this.clock.now());
        }),
      );
    } catch (error) {
      return this.failure(error);
    }
  }

  private async transition(
    live: LiveSession,
    messageType: string,
    payload: Uint8Array,
    now: number,
    event: LifecycleEventType,
  ): Promise<void> {
    const entry = this.internalEntry(live.record, messageType, payload, now);
    await this.durably(live.record.sessionId, [entry], event);
    live.record = { ...applyInternal(live.record, entry), logLength: live.record.logLength + 1 };
    if (isTerminal(live.record.status)) live.finishedAtUnixMs = now;
    this.track(live);
    if (!this.eventsFromLog) this.emit(event, live.record.sessionId, now);
    this.scheduleSnapshot(live.record.sessionId);
  }

  /** Expires an open session past its deadline, or a suspended one past the suspension cap. */
  private async expireIfDue(live: LiveSession, now: number): Promise<boolean> {
    const { record } = live;
    const due =
      (record.status === "Open" && now > record.expiresAtUnixMs) ||
      (record.status === "Suspended" &&
        record.accumulatedSuspendedMs + (now - (record.suspendedAtUnixMs ?? now)) > MAX_SUSPEND_MS);
    if (!due) return false;
    await this.transition(live, CoreMessageType.TtlExpired, new Uint8Array(), now, "EXPIRED");
    return true;
  }

  /** A session by id, expiring it first if its deadline passed (the "checked get"). */
  async getSession(sessionId: string): Promise<SessionInfo | undefined> {
    if (!this.sessions.has(sessionId) && !this.loadSession) return undefined;
    await this.mutex.run(`session:${sessionId}`, () =>
      this.judged(sessionId, async () => {
        const live = await this.live(sessionId);
        if (live) await this.expireIfDue(live, this.clock.now());
      }),
    );
    return this.peekSession(sessionId);
  }

  /** A session by id without lazy expiry. */
  peekSession(sessionId: string): SessionInfo | undefined {
    const live = this.sessions.get(sessionId);
    return live ? { record: live.record, activity: live.activity } : undefined;
  }

  /** Every session held by the kernel, any state, without lazy expiry. */
  listSessions(): SessionInfo[] {
    return [...this.sessions.values()].map((live) => ({ record: live.record, activity: live.activity }));
  }

  /** Replayable state (record + dedup set) of a session, for snapshots and determinism checks. */
  sessionState(sessionId: string): SessionReplayState | undefined {
    const live = this.sessions.get(sessionId);
    return live ? { record: live.record, seenMessageIds: [...live.seen] } : undefined;
  }

  /** Accepted envelopes with sequence greater than `afterSeq`, from durable storage. */
  async history(sessionId: string, afterSeq: number): Promise<AcceptedEnvelope[]> {
    const entries = await this.store.loadLogAfter(sessionId, afterSeq);
    return entries.map((entry) => ({ seq: entry.seq, envelope: envelopeOf(entry) }));
  }

  /** Live accepted envelopes of one session, in acceptance order. */
  subscribeSession(sessionId: string, listener: (event: AcceptedEnvelope) => void): () => void {
    return this.accepted.subscribe(sessionId, listener);
  }

  /** Session lifecycle transitions. */
  subscribeLifecycle(listener: (event: LifecycleEvent) => void): () => void {
    return this.lifecycle.subscribe(listener);
  }

  /** Accepted Signal and Progress envelopes. */
  subscribeSignals(listener: (envelope: Envelope) => void): () => void {
    return this.signals.subscribe(listener);
  }

  /** Number of live session-stream listeners. */
  get sessionSubscriberCount(): number {
    return this.accepted.size;
  }

  /**
   * The periodic sweep: expires the open sessions past their deadline and the suspended ones past
   * the suspension cap, then drops finished sessions held longer than the retention from memory
   * (storage keeps them). Due sessions come from a deadline heap and finished ones from a queue
   * in finishing order, so a sweep costs what is due, not what is held; expiries and evictions
   * run 4096 at a time so their records share group commits. Returns how many
   * sessions expired.
   */
  async sweep(options: { readonly expire?: boolean } = {}): Promise<number> {
    // Snapshots of the sessions it expires wait until every due session is expired: with 200k due
    // at once, writing them in between would delay the later EXPIRED events by their cost.
    this.heldSnapshots ??= [];
    let expired: number;
    try {
      // Replicas sharing a log leave expiry to the one holding the sweep lease (false elsewhere).
      expired = (options.expire ?? true) ? await this.expireDue() : 0;
    } finally {
      const held = this.heldSnapshots;
      this.heldSnapshots = undefined;
      for (const sessionId of held) this.startSnapshot(sessionId);
    }
    if (this.retainFinishedMs !== undefined) {
      const stale = this.evictions
        .popBefore(this.clock.now() - this.retainFinishedMs)
        .filter(({ at, key }) => this.sessions.get(key)?.queuedAt === at)
        .map(({ key }) => key);
      await inChunks(stale, (sessionId) => this.evict(sessionId));
    }
    return expired;
  }

  /** Expires the sessions whose deadline passed; returns how many. */
  private async expireDue(): Promise<number> {
    const now = this.clock.now();
    const due: string[] = [];
    for (let top = this.deadlines.peek(); top !== undefined && top.at < now; top = this.deadlines.peek()) {
      this.deadlines.pop();
      const live = this.sessions.get(top.key);
      if (live !== undefined && live.deadline === top.at) {
        live.deadline = undefined;
        due.push(top.key);
      }
    }
    let expired = 0;
    await inChunks(due, async (sessionId) => {
      try {
        await this.mutex.run(`session:${sessionId}`, () =>
          this.judged(sessionId, async () => {
            // A session dropped after losing an append to another replica is reloaded here.
            const live = this.sessions.get(sessionId) ?? (this.eventsFromLog ? await this.live(sessionId) : undefined);
            if (!live) return;
            try {
              if (await this.expireIfDue(live, this.clock.now())) expired++;
            } finally {
              // A failed expiry is retried by a later sweep.
              this.track(live);
            }
          }),
        );
      } catch (error) {
        this.onBackgroundError(error, sessionId);
      }
    });
    return expired;
  }

  /** Finished sessions held in memory and waiting for eviction, and sessions with a pending deadline entry. */
  get sweepBacklog(): { readonly deadlines: number; readonly evictions: number } {
    return { deadlines: this.deadlines.size, evictions: this.evictions.size };
  }

  /** The earliest deadline of an open or suspended session in memory (possibly of one already settled). */
  get nextDeadlineUnixMs(): number | undefined {
    return this.deadlines.peek()?.at;
  }

  /** The time the longest-waiting finished session entered the eviction queue. */
  get oldestQueuedEvictionUnixMs(): number | undefined {
    return this.evictions.peek()?.at;
  }

  private async evict(sessionId: string): Promise<void> {
    try {
      await this.mutex.run(`session:${sessionId}`, async () => {
        const live = this.sessions.get(sessionId);
        if (!live || !isTerminal(live.record.status)) return;
        // Normally written when the session finished; only a loaded or failed one needs it now.
        if (live.snapshotLength !== live.record.logLength) await this.store.writeSnapshot(sessionId, this.snapshotOf(live));
        this.sessions.delete(sessionId);
      });
    } catch (error) {
      this.onBackgroundError(error, sessionId);
      const live = this.sessions.get(sessionId);
      if (live) {
        live.queuedAt = undefined;
        this.track(live);
      }
    }
  }

  /**
   * Files a session under its current deadline (open: TTL; suspended: the suspension cap) and a
   * finished one in the eviction queue. Called after every change of a live session's record.
   */
  private track(live: LiveSession): void {
    const sessionId = live.record.sessionId;
    const deadline = deadlineOf(live.record);
    if (deadline !== undefined && deadline !== live.deadline) this.deadlines.push(deadline, sessionId);
    live.deadline = deadline;
    if (isTerminal(live.record.status) && live.queuedAt === undefined) {
      live.queuedAt = this.clock.now();
      this.evictions.push(live.queuedAt, sessionId);
    }
  }

  /**
   * Drops finished sessions from memory before their history is removed from storage (retention),
   * so none is answered from memory afterwards; open or suspended ones are left alone.
   */
  async forgetFinished(sessionIds: readonly string[]): Promise<void> {
    await inChunks(sessionIds, (sessionId) =>
      this.mutex.run(`session:${sessionId}`, async () => {
        const live = this.sessions.get(sessionId);
        if (live === undefined || isTerminal(live.record.status)) this.sessions.delete(sessionId);
        this.unloadable.delete(sessionId);
      }),
    );
  }

  /** Registers a policy and persists the registry; a storage failure rolls the registration back. */
  async registerPolicy(descriptor: PolicyDescriptor): Promise<{ ok: boolean; error: string }> {
    return this.registries.registerPolicy(descriptor);
  }

  /** Unregisters a policy and persists the registry. */
  async unregisterPolicy(policyId: string): Promise<{ ok: boolean; error: string }> {
    return this.registries.unregisterPolicy(policyId);
  }

  /** Registers an extension mode and persists the registry. */
  async registerMode(descriptor: ModeDescriptor): Promise<{ ok: boolean; error: string }> {
    return this.registries.registerMode(descriptor);
  }

  /** Unregisters an extension mode and persists the registry. */
  async unregisterMode(mode: string): Promise<{ ok: boolean; error: string }> {
    return this.registries.unregisterMode(mode);
  }

  /** Promotes a mode to standards-track (optionally renaming it) and persists the registry. */
  async promoteMode(mode: string, promotedName?: string): Promise<{ ok: boolean; error: string; mode: string }> {
    return this.registries.promoteMode(mode, promotedName);
  }

  /** Waits for background snapshots, then closes the store. */
  async close(): Promise<void> {
    for (const sessionId of this.sessions.keys()) this.scheduleSnapshot(sessionId);
    await this.drain();
    await this.store.close();
  }

  /** Waits until queued background work has finished. */
  async drain(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  /** Periodic snapshot rule: see {@link KernelOptions.snapshotEvery}. */
  private snapshotDue(live: LiveSession): boolean {
    return (
      this.snapshotEvery > 0 &&
      live.record.logLength - live.snapshotScheduledAt >= this.snapshotEvery &&
      live.bytesSinceSnapshot >= live.snapshotBytes
    );
  }

  private scheduleSnapshot(sessionId: string): void {
    const scheduled = this.sessions.get(sessionId);
    if (scheduled) {
      scheduled.snapshotScheduledAt = scheduled.record.logLength;
      scheduled.bytesSinceSnapshot = 0;
    }
    if (this.heldSnapshots !== undefined) this.heldSnapshots.push(sessionId);
    else this.startSnapshot(sessionId);
  }

  private startSnapshot(sessionId: string): void {
    const task = this.mutex
      .run(`session:${sessionId}`, async () => {
        const live = this.sessions.get(sessionId);
        if (!live || live.snapshotLength === live.record.logLength) return;
        const logLength = live.record.logLength;
        const snapshot = this.snapshotOf(live);
        await this.store.writeSnapshot(sessionId, snapshot);
        live.snapshotLength = logLength;
        live.snapshotBytes = snapshot.state.length;
      })
      .catch((error: unknown) => this.onBackgroundError(error, sessionId));
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /** A snapshot of a live session; a finished one is marked so the store can tell it apart. */
  private snapshotOf(live: LiveSession): StoredSnapshot {
    const state = serializeSessionState({ record: live.record, seenMessageIds: [...live.seen] });
    if (!isTerminal(live.record.status)) return { logLength: live.record.logLength, state };
    return { logLength: live.record.logLength, state, finishedAtUnixMs: live.finishedAtUnixMs ?? this.clock.now() };
  }

  private openSessionsOf(initiator: string, now: number): number {
    let count = 0;
    for (const live of this.sessions.values()) {
      const r = live.record;
      if (r.initiator === initiator && r.status === "Open" && now <= r.expiresAtUnixMs) count++;
    }
    return count;
  }

  private async durably(sessionId: string, entries: LogEntry[], lifecycle?: LifecycleEventType): Promise<void> {
    try {
      await this.store.append(sessionId, entries, lifecycle === undefined ? undefined : { lifecycle });
    } catch (error) {
      if (error instanceof StaleAppendError) {
        // Another replica appended first: this state is stale; the caller judges again.
        this.sessions.delete(sessionId);
        throw error;
      }
      // A failed append may still have committed (e.g. a connection lost after COMMIT). The log is
      // authoritative, so when the session can be reloaded, drop the in-memory copy and let the
      // next access rebuild it: a retried message is then recognised as a duplicate.
      if (this.loadSession) this.sessions.delete(sessionId);
      throw new MacpError("StorageFailed", `storage append failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private incomingEntry(envelope: Envelope, seq: number, now: number): LogEntry {
    return {
      kind: "incoming",
      seq,
      sessionId: envelope.sessionId,
      mode: envelope.mode,
      messageType: envelope.messageType,
      messageId: envelope.messageId,
      sender: envelope.sender,
      macpVersion: envelope.macpVersion,
      timestampUnixMs: envelope.timestampUnixMs,
      receivedAtUnixMs: now,
      payload: envelope.payload,
    };
  }

  private internalEntry(record: SessionRecord, messageType: string, payload: Uint8Array, now: number): LogEntry {
    return {
      kind: "internal",
      seq: record.lastSeq,
      sessionId: record.sessionId,
      mode: record.mode,
      messageType,
      messageId: "",
      sender: RUNTIME_SENDER,
      macpVersion: PROTOCOL_VERSION,
      timestampUnixMs: BigInt(now),
      receivedAtUnixMs: now,
      payload,
    };
  }

  private emit(type: LifecycleEventType, sessionId: string, now: number): void {
    this.lifecycle.publish({ type, sessionId, observedAtUnixMs: now });
  }

  private success(status: SessionStatus, now: number): KernelOutcome {
    return { ok: true, duplicate: false, status, error: undefined, atUnixMs: now };
  }

  private duplicate(status: SessionStatus): KernelOutcome {
    return { ok: true, duplicate: true, status, error: undefined, atUnixMs: this.clock.now() };
  }

  private failure(error: unknown): KernelOutcome {
    const macpError =
      error instanceof MacpError
        ? error
        : new MacpError("StorageFailed", error instanceof Error ? error.message : String(error));
    return { ok: false, duplicate: false, status: undefined, error: macpError, atUnixMs: this.clock.now() };
  }
}

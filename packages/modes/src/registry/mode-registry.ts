import { compareCodePoints, ModeId, STANDARD_MODE_IDS, type ModeDescriptor } from "@macp/protocol";
import { builtinModeDescriptors } from "./builtin-descriptors.js";
import { decisionMode } from "../decision/decision-mode.js";
import { extensionDescriptorError, frozenDescriptor, plainDescriptor } from "./extension-descriptor.js";
import { handoffMode } from "../handoff/handoff-mode.js";
import type { ModeHandler } from "../mode-handler.js";
import { multiRoundMode } from "../multi-round/multi-round-mode.js";
import { createPassthroughMode } from "../passthrough/passthrough-mode.js";
import { proposalMode } from "../proposal/proposal-mode.js";
import { quorumMode } from "../quorum/quorum-mode.js";
import { readRegistryState, registryStateError, type PersistedPromotion, type RegistryState } from "./registry-state.js";
import { taskMode } from "../task/task-mode.js";

/** One registered mode. Entries and their descriptors are frozen; the registry replaces, never edits, them. */
export interface ModeRegistryEntry {
  readonly descriptor: ModeDescriptor;
  readonly handler: ModeHandler;
  /** Strict modes get the canonical SessionStart validation (built-ins and promoted modes). */
  readonly strict: boolean;
  /** Listed by `ListModes` rather than `ListExtModes`. */
  readonly standardsTrack: boolean;
  /** Built-ins can never be unregistered. */
  readonly builtIn: boolean;
}

/** Outcome of a registry mutation; `error` is the exact wire text (empty on success). */
export interface RegistryChangeResult {
  readonly ok: boolean;
  readonly error: string;
}

/** Outcome of `promote`; `mode` is the id the mode ends up under (empty on failure). */
export interface PromoteResult extends RegistryChangeResult {
  readonly mode: string;
}

const BUILTIN_HANDLERS: ReadonlyMap<string, ModeHandler> = new Map([
  [ModeId.Decision, decisionMode],
  [ModeId.Proposal, proposalMode],
  [ModeId.Task, taskMode],
  [ModeId.Handoff, handoffMode],
  [ModeId.Quorum, quorumMode],
  [ModeId.MultiRound, multiRoundMode],
]);

const STANDARD_ORDER: readonly string[] = STANDARD_MODE_IDS;

function entry(fields: ModeRegistryEntry): ModeRegistryEntry {
  return Object.freeze({ ...fields });
}

function builtinEntries(): Map<string, ModeRegistryEntry> {
  const entries = new Map<string, ModeRegistryEntry>();
  for (const descriptor of builtinModeDescriptors()) {
    const handler = BUILTIN_HANDLERS.get(descriptor.mode) as ModeHandler;
    entries.set(
      descriptor.mode,
      entry({
        descriptor: frozenDescriptor(descriptor, descriptor.mode),
        handler,
        strict: true,
        standardsTrack: STANDARD_ORDER.includes(descriptor.mode),
        builtIn: true,
      }),
    );
  }
  return entries;
}

/** The entry after promotion: standards-track, strict, and its descriptor under the final id. */
function promoted(existing: ModeRegistryEntry, finalName: string): ModeRegistryEntry {
  return entry({ ...existing, descriptor: frozenDescriptor(existing.descriptor, finalName), strict: true, standardsTrack: true });
}

function failed(error: string): RegistryChangeResult {
  return { ok: false, error };
}

const OK: RegistryChangeResult = Object.freeze({ ok: true, error: "" });

/**
 * The modes this runtime serves (modes-and-policy.md §3, protocol.md §4.8): the six built-ins
 * plus extension modes registered at run time and served by the passthrough handler. Unlike the
 * reference, registrations and promotions can be exported and restored across restarts.
 */
export class ModeRegistry {
  #entries: Map<string, ModeRegistryEntry> = builtinEntries();
  #promotions: PersistedPromotion[] = [];
  readonly #listeners = new Set<() => void>();

  /** The entry registered under `mode`, or undefined (`MODE_NOT_SUPPORTED` for the caller). */
  get(mode: string): ModeRegistryEntry | undefined {
    return this.#entries.get(mode);
  }

  /** `ListModes`: decision, proposal, task, handoff, quorum, then promoted modes by id. */
  listStandard(): ModeDescriptor[] {
    const fixed = STANDARD_ORDER.filter((mode) => this.#entries.get(mode)?.standardsTrack === true);
    const promoted = this.#namesWhere((candidate) => candidate.standardsTrack).filter((mode) => !STANDARD_ORDER.includes(mode));
    return [...fixed, ...promoted].map((mode) => this.#descriptor(mode));
  }

  /** `ListExtModes`: every non-standards-track mode (built-in extension included), by id. */
  listExtensions(): ModeDescriptor[] {
    return this.#namesWhere((candidate) => !candidate.standardsTrack).map((mode) => this.#descriptor(mode));
  }

  /** Ids of all registered modes in byte order (`Initialize` / `GetManifest` `supported_modes`). */
  allModeNames(): string[] {
    return this.#namesWhere(() => true);
  }

  /** `RegisterExtMode`: adds a non-strict, non-standards-track mode served by the passthrough handler. */
  register(descriptor: ModeDescriptor): RegistryChangeResult {
    const error = extensionDescriptorError(descriptor);
    if (error !== undefined) return failed(error);
    if (this.#entries.has(descriptor.mode)) return failed(`mode '${descriptor.mode}' is already registered`);
    this.#entries.set(descriptor.mode, this.#extensionEntry(descriptor, false));
    this.#changed();
    return OK;
  }

  /** `UnregisterExtMode`: removes a registered extension; built-in and standards-track modes stay. */
  unregister(mode: string): RegistryChangeResult {
    const existing = this.#entries.get(mode);
    if (existing === undefined) return failed(`mode '${mode}' not found`);
    if (existing.builtIn) return failed(`cannot unregister built-in mode '${mode}'`);
    if (existing.standardsTrack) return failed(`cannot unregister standards-track mode '${mode}'`);
    this.#entries.delete(mode);
    this.#changed();
    return OK;
  }

  /**
   * `PromoteMode`: makes a mode standards-track and strict, re-keyed under `newName` when one is
   * given (an empty name keeps the id). The reserved namespace is deliberately not checked.
   */
  promote(mode: string, newName?: string): PromoteResult {
    const existing = this.#entries.get(mode);
    if (existing === undefined) return { ...failed(`mode '${mode}' not found`), mode: "" };
    if (existing.standardsTrack) return { ...failed(`mode '${mode}' is already standards-track`), mode: "" };
    const finalName = newName === undefined || newName === "" ? mode : newName;
    if (finalName !== mode && this.#entries.has(finalName)) {
      return { ...failed(`cannot promote: target name '${finalName}' already exists`), mode: "" };
    }
    this.#entries.delete(mode);
    this.#entries.set(finalName, promoted(existing, finalName));
    if (existing.builtIn) this.#promotions.push({ mode, promotedName: finalName });
    this.#changed();
    return { ...OK, mode: finalName };
  }

  /**
   * Calls `listener` after every successful register, unregister, promote and restore
   * (`WatchModeRegistry`). Listeners run synchronously and must not throw. Returns the
   * unsubscribe function.
   */
  subscribe(listener: () => void): () => void {
    const subscription = (): void => listener();
    this.#listeners.add(subscription);
    return () => {
      this.#listeners.delete(subscription);
    };
  }

  /** Everything that is not built in, as plain JSON for persistence. */
  exportState(): RegistryState {
    const extensions = this.#namesWhere((candidate) => !candidate.builtIn).map((mode) => {
      const registered = this.#entries.get(mode) as ModeRegistryEntry;
      return { descriptor: plainDescriptor(registered.descriptor), standardsTrack: registered.standardsTrack };
    });
    return { version: 1, extensions, promotions: this.#promotions.map((promotion) => ({ ...promotion })) };
  }

  /**
   * Replaces all non-built-in content with `state` (as produced by `exportState`, possibly after a
   * JSON round trip). Nothing changes unless the whole state applies.
   *
   * @throws MacpError `StorageFailed` when the state is malformed or contradicts itself.
   */
  restore(state: unknown): void {
    const parsed = readRegistryState(state);
    const entries = builtinEntries();
    const promotions: PersistedPromotion[] = [];
    for (const promotion of parsed.promotions) {
      const builtin = entries.get(promotion.mode);
      if (builtin === undefined || !builtin.builtIn || builtin.standardsTrack) {
        throw registryStateError(`'${promotion.mode}' is not a promotable built-in mode`);
      }
      const finalName = promotion.promotedName === "" ? promotion.mode : promotion.promotedName;
      if (finalName !== promotion.mode && entries.has(finalName)) throw registryStateError(`'${finalName}' is registered twice`);
      entries.delete(promotion.mode);
      entries.set(finalName, promoted(builtin, finalName));
      promotions.push({ mode: promotion.mode, promotedName: finalName });
    }
    for (const extension of parsed.extensions) {
      const { descriptor, standardsTrack } = extension;
      const error = standardsTrack ? undefined : extensionDescriptorError(descriptor);
      if (error !== undefined) throw registryStateError(`'${descriptor.mode}': ${error}`);
      if (entries.has(descriptor.mode)) throw registryStateError(`'${descriptor.mode}' is registered twice`);
      entries.set(descriptor.mode, this.#extensionEntry(descriptor, standardsTrack));
    }
    this.#entries = entries;
    this.#promotions = promotions;
    this.#changed();
  }

  #extensionEntry(descriptor: ModeDescriptor, standardsTrack: boolean): ModeRegistryEntry {
    const frozen = frozenDescriptor(descriptor, descriptor.mode);
    return entry({
      descriptor: frozen,
      handler: createPassthroughMode(frozen),
      strict: standardsTrack,
      standardsTrack,
      builtIn: false,
    });
  }

  #namesWhere(predicate: (candidate: ModeRegistryEntry) => boolean): string[] {
    return [...this.#entries]
      .filter(([, candidate]) => predicate(candidate))
      .map(([mode]) => mode)
      .sort(compareCodePoints);
  }

  #descriptor(mode: string): ModeDescriptor {
    return (this.#entries.get(mode) as ModeRegistryEntry).descriptor;
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

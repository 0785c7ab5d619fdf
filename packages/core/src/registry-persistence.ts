import { int64JsonReplacer } from "@macp/protocol";
import type { ModeDescriptor, PolicyDescriptor } from "@macp/protocol";
import { policyFromDescriptor, policyToDescriptor } from "@macp/policy";
import type { PolicyDefinition } from "@macp/policy";
import { KeyedMutex } from "./keyed-mutex.js";
import type { ModeLookup } from "./mode-lookup.js";
import type { RegistryKind, SessionStore } from "./session-store.js";

/** The policy registry operations the kernel uses (the @macp/policy registry satisfies this). */
export interface PolicyRegistryPort {
  /** The policy a SessionStart binds (`policy.default` for an empty version); throws `MacpError` when it cannot. */
  resolveForSession(policyVersion: string, sessionMode: string): PolicyDefinition;
  /** Registers a policy; `error` holds the reason when `ok` is false. */
  register(descriptor: PolicyDescriptor): { ok: boolean; error: string };
  /** Removes a registered policy; `error` holds the reason when `ok` is false. */
  unregister(policyId: string): { ok: boolean; error: string };
  /** Every registered (non-default) policy, for persistence. */
  exportRegistered(): PolicyDefinition[];
  /** Replaces the registered policies with persisted ones. */
  restore(definitions: PolicyDefinition[]): void;
}

/** The mode registry operations the kernel uses (the @macp/modes registry satisfies this). */
export interface ModeRegistryPort extends ModeLookup {
  /** Registers an extension mode; `error` holds the reason when `ok` is false. */
  register(descriptor: ModeDescriptor): { ok: boolean; error: string };
  /** Removes an extension mode; `error` holds the reason when `ok` is false. */
  unregister(mode: string): { ok: boolean; error: string };
  /** Moves a mode onto the standards track, optionally renamed; `mode` is its final id. */
  promote(mode: string, promotedName?: string): { ok: boolean; error: string; mode: string };
  /** Everything not built in, as plain JSON for persistence. */
  exportState(): unknown;
  /** Rebuilds the registry from the built-ins plus persisted state. */
  restore(state: never): void;
}

/** Result of a registry change: `error` holds the reason when `ok` is false. */
type ChangeResult = { ok: boolean; error: string };

/**
 * Policy and extension-mode registrations made durable: each change is applied in memory, saved
 * to the store and rolled back when the save fails, one change per registry at a time.
 */
export class RegistryPersistence {
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly store: SessionStore,
    private readonly modes: ModeRegistryPort,
    private readonly policies: PolicyRegistryPort,
  ) {}

  /** Loads persisted policy and extension-mode registrations. */
  async restore(): Promise<void> {
    const policies = await this.store.loadRegistry("policies");
    // Persisted as wire descriptors: their rules text keeps number forms (1 vs 1.0) exactly.
    if (policies !== undefined) {
      this.policies.restore((JSON.parse(policies) as PolicyDescriptor[]).map(policyFromDescriptor));
    }
    const modes = await this.store.loadRegistry("modes");
    if (modes !== undefined) this.modes.restore(JSON.parse(modes) as never);
  }

  async registerPolicy(descriptor: PolicyDescriptor): Promise<ChangeResult> {
    return this.mutex.run("registry:policies", async () => {
      const result = this.policies.register(descriptor);
      if (!result.ok) return result;
      return this.persist("policies", () => this.policies.unregister(descriptor.policyId));
    });
  }

  async unregisterPolicy(policyId: string): Promise<ChangeResult> {
    return this.mutex.run("registry:policies", async () => {
      const removed = this.policies.exportRegistered().find((p) => p.policyId === policyId);
      const result = this.policies.unregister(policyId);
      if (!result.ok || !removed) return result;
      return this.persist("policies", () => this.policies.restore([...this.policies.exportRegistered(), removed]));
    });
  }

  async registerMode(descriptor: ModeDescriptor): Promise<ChangeResult> {
    return this.mutex.run("registry:modes", async () => {
      const before = this.modes.exportState();
      const result = this.modes.register(descriptor);
      if (!result.ok) return result;
      return this.persist("modes", () => this.modes.restore(before as never));
    });
  }

  async unregisterMode(mode: string): Promise<ChangeResult> {
    return this.mutex.run("registry:modes", async () => {
      const before = this.modes.exportState();
      const result = this.modes.unregister(mode);
      if (!result.ok) return result;
      return this.persist("modes", () => this.modes.restore(before as never));
    });
  }

  async promoteMode(mode: string, promotedName?: string): Promise<ChangeResult & { mode: string }> {
    return this.mutex.run("registry:modes", async () => {
      const before = this.modes.exportState();
      const result = this.modes.promote(mode, promotedName);
      if (!result.ok) return result;
      const persisted = await this.persist("modes", () => this.modes.restore(before as never));
      return { ...persisted, mode: persisted.ok ? result.mode : "" };
    });
  }

  private async persist(kind: RegistryKind, rollback: () => void): Promise<ChangeResult> {
    const document =
      kind === "policies"
        ? JSON.stringify(this.policies.exportRegistered().map(policyToDescriptor), int64JsonReplacer)
        : JSON.stringify(this.modes.exportState());
    try {
      await this.store.saveRegistry(kind, document);
      return { ok: true, error: "" };
    } catch (error) {
      rollback();
      return { ok: false, error: `storage failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
}

import { DEFAULT_POLICY_ID, MacpError, compareCodePoints, type PolicyDescriptor } from "@macp/protocol";
import { DEFAULT_POLICY } from "./default-policy.js";
import { policyFromDescriptor } from "./descriptor-conversion.js";
import { freezeJsonCopy } from "./json/json-number-form.js";
import type { PolicyDefinition } from "./policy-definition.js";
import { validatePolicyDefinition } from "./policy-validation.js";

/** Result of a registry mutation, shaped like `RegisterPolicyResponse` / `UnregisterPolicyResponse`. */
export interface RegistryResult {
  readonly ok: boolean;
  /** The §12.3 error text; empty on success. */
  readonly error: string;
}

/** A persisted definition that `restore` refused, with the registration error it got. */
export interface RestoreRejection {
  readonly policyId: string;
  readonly error: string;
}

const OK: RegistryResult = Object.freeze({ ok: true, error: "" });
const failure = (error: string): RegistryResult => ({ ok: false, error });

function frozenCopy(def: PolicyDefinition): PolicyDefinition {
  return Object.freeze({
    policyId: def.policyId,
    mode: def.mode,
    description: def.description,
    rules: freezeJsonCopy(def.rules),
    schemaVersion: def.schemaVersion,
  });
}

/**
 * The governance policy registry (§12.3, protocol.md §4.11). Starts with `policy.default`, which
 * can be neither registered over nor removed. Stored definitions are deeply frozen, so handing one
 * to a session is as good as a copy: later registry changes never reach bound sessions.
 *
 * Unlike the reference, registrations are meant to outlive restarts: persist `exportRegistered()`
 * after each change notification and feed it to `restore` at start-up.
 */
export class PolicyRegistry {
  private readonly entries = new Map<string, PolicyDefinition>([[DEFAULT_POLICY_ID, DEFAULT_POLICY]]);
  private readonly listeners = new Set<() => void>();

  /** RegisterPolicy: validates (§12.3 #1–#8), refuses a taken id (#9), stores, notifies. */
  register(desc: PolicyDescriptor): RegistryResult {
    const error = this.admit(policyFromDescriptor(desc));
    if (error !== undefined) return failure(error);
    this.notify();
    return OK;
  }

  /** UnregisterPolicy: removes a registered policy and notifies; `policy.default` stays. */
  unregister(policyId: string): RegistryResult {
    if (policyId === DEFAULT_POLICY_ID) return failure("cannot unregister the built-in default policy");
    if (!this.entries.delete(policyId)) return failure(`policy '${policyId}' not found`);
    this.notify();
    return OK;
  }

  /** The definition registered under `policyId`, if any. */
  get(policyId: string): PolicyDefinition | undefined {
    return this.entries.get(policyId);
  }

  /**
   * ListPolicies: sorted by `policy_id`; with a non-empty `modeFilter` only policies whose `mode`
   * equals it or is `"*"` (so `policy.default` is always listed).
   */
  list(modeFilter?: string): PolicyDefinition[] {
    const all = [...this.entries.values()];
    const matching =
      modeFilter === undefined || modeFilter === ""
        ? all
        : all.filter((def) => def.mode === modeFilter || def.mode === "*");
    return matching.sort((a, b) => compareCodePoints(a.policyId, b.policyId));
  }

  /**
   * SessionStart policy binding (protocol.md §2.1 step 10, §12.12): the effective id is
   * `policyVersion`, or `policy.default` when empty. Throws `UnknownPolicyVersion` when it is not
   * registered and `InvalidPolicyDefinition` when its `mode` is neither `"*"` nor `sessionMode`.
   */
  resolveForSession(policyVersion: string, sessionMode: string): PolicyDefinition {
    const effectiveId = policyVersion === "" ? DEFAULT_POLICY_ID : policyVersion;
    const def = this.entries.get(effectiveId);
    if (def === undefined) {
      throw new MacpError("UnknownPolicyVersion", `unknown policy version '${effectiveId}'`);
    }
    if (def.mode !== "*" && def.mode !== sessionMode) {
      throw new MacpError(
        "InvalidPolicyDefinition",
        `policy '${effectiveId}' applies to mode '${def.mode}', not '${sessionMode}'`,
      );
    }
    return def;
  }

  /**
   * Calls `listener` after every successful register/unregister (not on `restore`). Listeners run
   * synchronously and must not throw. Returns the unsubscribe function.
   */
  subscribe(listener: () => void): () => void {
    const entry = (): void => listener();
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Every registered policy except `policy.default`, sorted by id: the document to persist. */
  exportRegistered(): PolicyDefinition[] {
    return this.list().filter((def) => def.policyId !== DEFAULT_POLICY_ID);
  }

  /**
   * Re-registers persisted definitions at start-up, through the same validation as `register`
   * but without notifications. A definition that no longer validates, or whose id is taken, is
   * skipped and reported.
   */
  restore(defs: readonly PolicyDefinition[]): RestoreRejection[] {
    const rejections: RestoreRejection[] = [];
    for (const def of defs) {
      const error = this.admit(frozenCopy(def));
      if (error !== undefined) rejections.push({ policyId: def.policyId, error });
    }
    return rejections;
  }

  /** Validates and stores `def`; returns the error text when refused. */
  private admit(def: PolicyDefinition): string | undefined {
    const invalid = validatePolicyDefinition(def);
    if (invalid !== undefined) return invalid;
    if (this.entries.has(def.policyId)) return `policy '${def.policyId}' is already registered`;
    this.entries.set(def.policyId, def);
    return undefined;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

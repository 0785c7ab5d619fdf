import { MacpError, type ModeDescriptor } from "@macp/protocol";

/** A dynamically registered mode as persisted: its descriptor (under its current id) and status. */
export interface PersistedExtensionMode {
  readonly descriptor: ModeDescriptor;
  /** True once promoted; a promoted mode is also strict. */
  readonly standardsTrack: boolean;
}

/** A built-in mode promoted to standards-track, possibly under a new id. */
export interface PersistedPromotion {
  /** The built-in id, e.g. `ext.multi_round.v1`. */
  readonly mode: string;
  /** The id it is registered under after promotion (equal to `mode` when not renamed). */
  readonly promotedName: string;
}

/**
 * Everything about the mode registry that is not built in, as plain JSON, so registered and
 * promoted modes survive a daemon restart (README decision 3; the reference forgets them).
 */
export interface RegistryState {
  readonly version: 1;
  /** Dynamically registered modes, sorted by id. */
  readonly extensions: readonly PersistedExtensionMode[];
  /** Built-in promotions in the order they happened. */
  readonly promotions: readonly PersistedPromotion[];
}

/** The error for persisted registry state that cannot be restored (`INTERNAL_ERROR`). */
export function registryStateError(detail: string): MacpError {
  return new MacpError("StorageFailed", `persisted mode registry state is invalid: ${detail}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === "string");
}

function readDescriptor(value: unknown): ModeDescriptor {
  if (!isObject(value)) throw registryStateError("a descriptor is not an object");
  const { mode, modeVersion, title, description, determinismClass, participantModel } = value;
  const texts = [mode, modeVersion, title, description, determinismClass, participantModel];
  if (!texts.every((text) => typeof text === "string")) throw registryStateError("a descriptor has a non-string field");
  const { messageTypes, terminalMessageTypes, schemaUris } = value;
  if (!isStringList(messageTypes) || !isStringList(terminalMessageTypes)) {
    throw registryStateError(`descriptor '${String(mode)}' has malformed message types`);
  }
  if (!isObject(schemaUris) || !Object.values(schemaUris).every((uri) => typeof uri === "string")) {
    throw registryStateError(`descriptor '${String(mode)}' has malformed schema_uris`);
  }
  return {
    mode: mode as string,
    modeVersion: modeVersion as string,
    title: title as string,
    description: description as string,
    determinismClass: determinismClass as string,
    participantModel: participantModel as string,
    messageTypes,
    terminalMessageTypes,
    schemaUris: schemaUris as Record<string, string>,
  };
}

function readExtension(value: unknown): PersistedExtensionMode {
  if (!isObject(value) || typeof value.standardsTrack !== "boolean") throw registryStateError("an extension entry is malformed");
  return { descriptor: readDescriptor(value.descriptor), standardsTrack: value.standardsTrack };
}

function readPromotion(value: unknown): PersistedPromotion {
  if (!isObject(value) || typeof value.mode !== "string" || typeof value.promotedName !== "string") {
    throw registryStateError("a promotion entry is malformed");
  }
  return { mode: value.mode, promotedName: value.promotedName };
}

/**
 * Reads registry state that came back from storage (so of unknown shape).
 *
 * @throws MacpError `StorageFailed` when it is not a `RegistryState`.
 */
export function readRegistryState(value: unknown): RegistryState {
  if (!isObject(value) || value.version !== 1) throw registryStateError("unsupported or missing version");
  if (!Array.isArray(value.extensions) || !Array.isArray(value.promotions)) throw registryStateError("missing entry lists");
  return {
    version: 1,
    extensions: value.extensions.map(readExtension),
    promotions: value.promotions.map(readPromotion),
  };
}

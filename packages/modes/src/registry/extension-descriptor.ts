import { isBlank, RESERVED_MODE_PREFIX, type ModeDescriptor } from "@macp/protocol";

/**
 * Checks a descriptor offered to `RegisterExtMode`, in the reference's order, and returns the
 * exact `error` text of the first failure (protocol.md §4.8), or undefined when it is acceptable.
 * The duplicate-id check belongs to the registry and comes after these.
 */
export function extensionDescriptorError(descriptor: ModeDescriptor): string | undefined {
  if (isBlank(descriptor.mode)) return "mode name must not be empty";
  if (descriptor.mode.startsWith(RESERVED_MODE_PREFIX)) {
    return "cannot register extension with reserved macp.mode.* namespace";
  }
  if (descriptor.messageTypes.length === 0) return "extension descriptor must declare at least one message type";
  if (isBlank(descriptor.modeVersion)) return "extension descriptor must bind mode_version";
  const missing = descriptor.terminalMessageTypes.find((type) => !descriptor.messageTypes.includes(type));
  if (missing !== undefined) return `terminal message type '${missing}' must also appear in message_types`;
  return undefined;
}

/**
 * A frozen deep copy of `descriptor` under the id `mode`: the registry keeps descriptors it can
 * hand out without copying, and a caller mutating its own object afterwards changes nothing.
 */
export function frozenDescriptor(descriptor: ModeDescriptor, mode: string): ModeDescriptor {
  return Object.freeze({
    mode,
    modeVersion: descriptor.modeVersion,
    title: descriptor.title,
    description: descriptor.description,
    determinismClass: descriptor.determinismClass,
    participantModel: descriptor.participantModel,
    messageTypes: Object.freeze([...descriptor.messageTypes]) as string[],
    terminalMessageTypes: Object.freeze([...descriptor.terminalMessageTypes]) as string[],
    schemaUris: Object.freeze(Object.fromEntries(Object.entries(descriptor.schemaUris))),
  });
}

/** A mutable plain copy of a descriptor, for persistence. */
export function plainDescriptor(descriptor: ModeDescriptor): ModeDescriptor {
  return {
    ...descriptor,
    messageTypes: [...descriptor.messageTypes],
    terminalMessageTypes: [...descriptor.terminalMessageTypes],
    schemaUris: Object.fromEntries(Object.entries(descriptor.schemaUris)),
  };
}

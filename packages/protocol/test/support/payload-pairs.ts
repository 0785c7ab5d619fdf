import { ModeId } from "../../src/index.js";
import { specPayloadRows } from "./wire-spec.js";

/** One (mode, message_type) with its payload type, from wire.md §4.1/§4.2. */
export interface PayloadPair {
  readonly mode: string;
  readonly messageType: string;
  readonly typeName: string;
}

const CONTRIBUTE_TYPE = "macp.modes.multi_round.v1.ContributePayload";

/**
 * Every payload of every built-in mode, plus each core payload in every built-in mode and in
 * the empty (ambient) mode. `Contribute` maps to the later-revision ContributePayload.
 */
export function payloadPairs(): PayloadPair[] {
  const rows = specPayloadRows();
  const pairs: PayloadPair[] = [];
  for (const row of rows) {
    const typeName = row.messageType === "Contribute" ? CONTRIBUTE_TYPE : row.payloadType;
    if (!/^macp\.[\w.]+Payload$/.test(typeName)) continue;
    const modes = row.mode === "*" ? ["", ...Object.values(ModeId)] : [row.mode];
    for (const mode of modes) pairs.push({ mode, messageType: row.messageType, typeName });
  }
  return pairs;
}

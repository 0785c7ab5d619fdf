import { appendCapped, numberField, objectField, senderOf, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { RUN_STATE_LIMITS } from "./run-state.js";
import type { RunStateProjection } from "./run-state.js";

type Progress = RunStateProjection["progress"];

/** Folds `progress.reported` into the capped progress list (percentages are already 0–100). */
export function foldProgress(block: Progress, event: CanonicalEvent): Progress {
  if (event.type !== "progress.reported") return block;
  const report = objectField(event.data, "decodedPayload");
  const percentage = numberField(report, "percentage");
  const message = textField(report, "message");
  const entry = {
    participantId: senderOf(event) ?? "",
    ...(percentage === undefined ? {} : { percentage }),
    ...(message === undefined ? {} : { message }),
    ts: event.ts,
  };
  return { entries: appendCapped(block.entries, entry, RUN_STATE_LIMITS.progressEntries) };
}

import { appendCapped, numberField, objectField, payloadOf, senderOf, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { RUN_STATE_LIMITS } from "./run-state.js";
import type { RunStateProjection, SignalEntry } from "./run-state.js";

type Signals = RunStateProjection["signals"];

function emitted(event: CanonicalEvent): SignalEntry {
  const payload = payloadOf(event);
  const signalData = objectField(event.data, "signalData");
  const severity = textField(signalData, "severity") ?? textField(payload, "severity");
  const source = senderOf(event);
  const confidence = numberField(payload, "confidence");
  const body = event.data["signalData"] ?? payload;
  return {
    id: event.subject?.id ?? textField(event.data, "messageId") ?? String(event.seq),
    name: textField(payload, "signalType") ?? textField(event.data, "messageType") ?? "Signal",
    ...(severity === undefined ? {} : { severity }),
    ...(source === undefined ? {} : { sourceParticipantId: source }),
    ts: event.ts,
    ...(confidence !== undefined && confidence > 0 ? { confidence } : {}),
    ...(body === undefined ? {} : { payload: body }),
  };
}

/** Folds `signal.emitted` (append, or replace the same id) and `signal.acknowledged` (annotate by id). */
export function foldSignals(block: Signals, event: CanonicalEvent): Signals {
  if (event.type === "signal.emitted") {
    const entry = emitted(event);
    const rest = block.signals.filter((s) => s.id !== entry.id);
    return { signals: appendCapped(rest, entry, RUN_STATE_LIMITS.signals) };
  }
  if (event.type === "signal.acknowledged") {
    const id = event.subject?.id;
    const index = block.signals.findIndex((s) => s.id === id);
    if (index === -1) return block;
    const by = senderOf(event);
    const signals = block.signals.slice();
    signals[index] = { ...signals[index]!, acknowledgedAt: event.ts, ...(by === undefined ? {} : { acknowledgedBy: by }) };
    return { signals };
  }
  return block;
}

import { appendCapped, numberField, objectField, senderOf, textField } from "./event-data.js";
import type { CanonicalEvent } from "./event-types.js";
import { estimateLlmCostUsd } from "./llm-cost.js";
import { RUN_STATE_LIMITS } from "./run-state.js";
import type { LlmBlock, LlmCall } from "./run-state.js";

/** The call reported by an `llm.call.completed` event, priced with the built-in rates. */
export function llmCallOf(event: CanonicalEvent): LlmCall {
  const usage = objectField(event.data, "decodedPayload");
  const promptTokens = numberField(usage, "promptTokens") ?? 0;
  const completionTokens = numberField(usage, "completionTokens") ?? 0;
  const model = textField(usage, "model");
  const latencyMs = numberField(usage, "latencyMs");
  const messageId = textField(event.data, "messageId");
  const artifactId = textField(event.data, "artifactId");
  return {
    participantId: textField(event.data, "participantId") ?? senderOf(event) ?? "",
    ...(model === undefined ? {} : { model }),
    promptTokens,
    completionTokens,
    totalTokens: numberField(usage, "totalTokens") ?? promptTokens + completionTokens,
    ...(latencyMs === undefined ? {} : { latencyMs }),
    ts: event.ts,
    ...(messageId === undefined ? {} : { messageId }),
    ...(artifactId === undefined ? {} : { artifactId }),
    estimatedCostUsd: estimateLlmCostUsd(model, promptTokens, completionTokens),
  };
}

/** Folds `llm.call.completed`: the capped call list and totals over every call. */
export function foldLlm(block: LlmBlock, event: CanonicalEvent): LlmBlock {
  if (event.type !== "llm.call.completed") return block;
  const call = llmCallOf(event);
  const t = block.totals;
  return {
    calls: appendCapped(block.calls, call, RUN_STATE_LIMITS.llmCalls),
    totals: {
      callCount: t.callCount + 1,
      promptTokens: t.promptTokens + call.promptTokens,
      completionTokens: t.completionTokens + call.completionTokens,
      totalTokens: t.totalTokens + call.totalTokens,
      estimatedCostUsd: t.estimatedCostUsd + (call.estimatedCostUsd ?? 0),
    },
  };
}

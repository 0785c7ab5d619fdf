import { isRecord } from "./json.js";
import type { JsonObject, JsonValue } from "./json.js";

/** Replaces every match of each pattern in `text` with `[REDACTED]`. */
export function redactText(text: string, patterns: readonly RegExp[]): string {
  return patterns.reduce((out, pattern) => {
    const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
    return out.replace(global, "[REDACTED]");
  }, text);
}

function numberField(record: Record<string, unknown>, camel: string, snake: string): number | undefined {
  const value = record[camel] ?? record[snake];
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function usageFrom(candidate: unknown, patterns: readonly RegExp[]): JsonObject | undefined {
  if (!isRecord(candidate)) return undefined;
  const promptTokens = numberField(candidate, "promptTokens", "prompt_tokens");
  const completionTokens = numberField(candidate, "completionTokens", "completion_tokens");
  const totalTokens = numberField(candidate, "totalTokens", "total_tokens");
  if (promptTokens === undefined && completionTokens === undefined && totalTokens === undefined) return undefined;
  const usage: JsonObject = {
    promptTokens: promptTokens ?? 0,
    completionTokens: completionTokens ?? 0,
    totalTokens: totalTokens ?? (promptTokens ?? 0) + (completionTokens ?? 0),
  };
  const model = stringField(candidate, "model");
  const provider = stringField(candidate, "provider");
  const latencyMs = numberField(candidate, "latencyMs", "latency_ms");
  const prompt = stringField(candidate, "prompt");
  const response = stringField(candidate, "response");
  if (model !== undefined) usage["model"] = model;
  if (provider !== undefined) usage["provider"] = provider;
  if (latencyMs !== undefined) usage["latencyMs"] = latencyMs;
  if (prompt !== undefined) usage["prompt"] = redactText(prompt, patterns);
  if (response !== undefined) usage["response"] = redactText(response, patterns);
  return usage;
}

/**
 * LLM usage reported in a payload, looked up as the reference does: `llmCall`,
 * `metadata.llmCall`, `tokenUsage`, `metadata.tokenUsage`, then `llmSignalData` (the JSON data of
 * a Signal whose type is `llm.call.completed`). Prompt and response text are redacted with
 * `patterns`. `undefined` when no token count is found.
 */
export function llmUsageOf(payload: JsonObject, llmSignalData: unknown, patterns: readonly RegExp[]): JsonObject | undefined {
  const metadata: JsonValue | undefined = payload["metadata"];
  const nested = isRecord(metadata) ? metadata : {};
  for (const candidate of [payload["llmCall"], nested["llmCall"], payload["tokenUsage"], nested["tokenUsage"]]) {
    const usage = usageFrom(candidate, patterns);
    if (usage !== undefined) return usage;
  }
  return usageFrom(llmSignalData, patterns);
}

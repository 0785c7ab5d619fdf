/** USD per million tokens `[prompt, completion]` by model-name prefix (the reference's built-in table). */
export const LLM_PRICES_USD_PER_MILLION: Readonly<Record<string, readonly [number, number]>> = {
  "gpt-4o-mini": [0.15, 0.6],
  "gpt-4o": [2.5, 10],
  "gpt-4-turbo": [10, 30],
  "claude-3-opus": [15, 75],
  "claude-3-sonnet": [3, 15],
  "claude-3-haiku": [0.25, 1.25],
};

/** Price used for models not in {@link LLM_PRICES_USD_PER_MILLION}. */
export const DEFAULT_LLM_PRICE_USD_PER_MILLION: readonly [number, number] = [1, 3];

// Longest prefix first, so `gpt-4o-mini-2024-07-18` is priced as gpt-4o-mini, not gpt-4o.
const PREFIXES = Object.keys(LLM_PRICES_USD_PER_MILLION).sort((a, b) => b.length - a.length);

/** Estimated cost in USD of one call, priced by the longest matching model prefix. */
export function estimateLlmCostUsd(model: string | undefined, promptTokens: number, completionTokens: number): number {
  const key = model === undefined ? undefined : PREFIXES.find((prefix) => model.toLowerCase().startsWith(prefix));
  const [prompt, completion] = key === undefined ? DEFAULT_LLM_PRICE_USD_PER_MILLION : LLM_PRICES_USD_PER_MILLION[key]!;
  return (promptTokens * prompt + completionTokens * completion) / 1_000_000;
}

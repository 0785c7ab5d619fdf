import type { CliOutput } from "./output.js";
import { CliError } from "./session-source.js";
import type { SessionSource } from "./session-source.js";

/**
 * `macp verify [id...]`: replays every stored session (or the named ones) along every path
 * recovery could take and reports any disagreement. Exits 1 when a session mismatches or does
 * not replay, so scripts and CI can gate on it.
 */
export async function verifyCommand(
  source: SessionSource,
  output: CliOutput,
  sessionIds: readonly string[],
  options: { json: boolean },
): Promise<number> {
  if (!source.verify) {
    throw new CliError("verify replays stored logs: point it at a data directory or database, not a daemon", 2);
  }
  const results = await source.verify(sessionIds);
  const failed = results.filter((result) => !result.ok);
  for (const result of results) {
    if (options.json) {
      output.out(JSON.stringify(result));
    } else if (result.ok) {
      output.out(`ok        ${result.sessionId}  ${result.replayHash?.slice(0, 16)}${result.note ? `  (${result.note})` : ""}`);
    } else {
      output.out(`MISMATCH  ${result.sessionId}  ${result.error}`);
    }
  }
  if (!options.json) {
    output.out(`${results.length} session(s) verified, ${failed.length} mismatch(es) in ${source.description}`);
  }
  return failed.length === 0 ? 0 : 1;
}

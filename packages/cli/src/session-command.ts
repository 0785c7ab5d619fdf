import type { CliOutput } from "./output.js";
import { payloadText } from "./payload-text.js";
import { CliError } from "./session-source.js";
import type { SessionSource } from "./session-source.js";
import { isoTime } from "./text-table.js";

/** `macp session <id>`: one session's state, as `key: value` lines or one JSON object. */
export async function sessionCommand(
  source: SessionSource,
  output: CliOutput,
  sessionId: string,
  options: { json: boolean },
): Promise<number> {
  const session = await source.getSession(sessionId);
  if (!session) throw new CliError(`session ${sessionId} not found in ${source.description}`);
  if (options.json) {
    output.out(JSON.stringify(session));
    return 0;
  }
  const entries = Object.entries(session);
  const width = Math.max(...entries.map(([key]) => key.length)) + 1;
  for (const [key, value] of entries) output.out(`${`${key}:`.padEnd(width)} ${readable(key, value, session)}`);
  return 0;
}

function readable(key: string, value: unknown, session: Record<string, unknown>): string {
  if (value === null || value === undefined) return "-";
  if (key.endsWith("UnixMs") && (typeof value === "number" || typeof value === "string")) return isoTime(value);
  if (key === "resolution" && typeof value === "string") {
    return payloadText(String(session.mode), "Commitment", Buffer.from(value, "base64"), Number.POSITIVE_INFINITY);
  }
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) return value.join(", ") || "-";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

import type { CliOutput } from "./output.js";
import { payloadText } from "./payload-text.js";
import { CliError } from "./session-source.js";
import type { SessionSource } from "./session-source.js";
import { textTable } from "./text-table.js";

/** `macp replay <id>`: a session's history in acceptance order, as JSON lines or a table. */
export async function replayCommand(
  source: SessionSource,
  output: CliOutput,
  sessionId: string,
  options: { json: boolean; includeInternal: boolean },
): Promise<number> {
  const records = await source.history(sessionId, { includeInternal: options.includeInternal });
  if (!records) throw new CliError(`session ${sessionId} not found in ${source.description}`);
  if (options.json) {
    for (const record of records) output.out(JSON.stringify(record));
    return 0;
  }
  const headers = ["SEQ", ...(options.includeInternal ? ["KIND"] : []), "TIME", "SENDER", "TYPE", "MESSAGE ID", "PAYLOAD"];
  const rows = records.map((record) => [
    String(record.seq),
    ...(options.includeInternal ? [record.kind] : []),
    record.timestamp,
    record.sender,
    record.message_type,
    record.message_id || "-",
    payloadText(record.mode, record.message_type, Buffer.from(record.payload_b64, "base64")),
  ]);
  for (const line of textTable(headers, rows)) output.out(line);
  return 0;
}

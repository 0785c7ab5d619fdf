import type { CliOutput } from "./output.js";
import type { SessionSource } from "./session-source.js";
import { isoTime, textTable } from "./text-table.js";

/** `macp sessions`: every session, one per line. Always exits 0; unreplayable ones are listed as such. */
export async function sessionsCommand(source: SessionSource, output: CliOutput, options: { json: boolean }): Promise<number> {
  const rows = await source.listSessions();
  if (options.json) {
    for (const row of rows) output.out(JSON.stringify(row));
    return 0;
  }
  if (rows.length === 0) {
    output.out(`no sessions in ${source.description}`);
    return 0;
  }
  const lines = textTable(
    ["SESSION", "MODE", "STATUS", "INITIATOR", "PARTICIPANTS", "MESSAGES", "STARTED"],
    rows.map((row) => [
      row.sessionId,
      row.mode,
      row.status,
      row.initiator,
      String(row.participants.length),
      row.acceptedMessages === undefined ? "-" : String(row.acceptedMessages),
      isoTime(row.startedAtUnixMs),
    ]),
  );
  for (const line of lines) output.out(line);
  for (const row of rows) if (row.error !== undefined) output.err(`${row.sessionId}: ${row.error}`);
  return 0;
}

import type { CliOutput } from "./output.js";
import { CliError } from "./session-source.js";
import type { SessionSource } from "./session-source.js";

/**
 * `macp gc`: removes the history of sessions finished longer ago than `--older-than`, archiving
 * them first with `--archive-dir`. Without `--apply` it only counts, so a mistyped age costs
 * nothing.
 */
export async function gcCommand(
  source: SessionSource,
  output: CliOutput,
  options: { json: boolean; olderThanMs: number; apply: boolean; archiveDir: string | undefined },
): Promise<number> {
  if (!source.retire) throw new CliError("gc works on a data directory or database, not a daemon", 2);
  const report = await source.retire(options);
  if (options.json) {
    output.out(JSON.stringify({ dry_run: !options.apply, sessions: report.sessions, sample: report.sample, archive_file: report.archiveFile ?? null, bytes_before: report.bytesBefore, bytes_after: report.bytesAfter }));
    return 0;
  }
  const age = `finished more than ${Math.round(options.olderThanMs / 1000)} s ago`;
  if (!options.apply) {
    output.out(`dry run: ${report.sessions} session(s) ${age} would be removed from ${source.description}${report.sample.length > 0 ? ` (e.g. ${report.sample.slice(0, 3).join(", ")})` : ""}; add --apply to remove them`);
    return 0;
  }
  output.out(
    `removed ${report.sessions} session(s) ${age} from ${source.description}${report.archiveFile ? `, archived to ${report.archiveFile}` : ""}; storage ${report.bytesBefore} -> ${report.bytesAfter} bytes`,
  );
  return 0;
}

/** `macp archive`: appends sessions finished longer ago than `--older-than` to JSONL, keeping them. */
export async function archiveCommand(
  source: SessionSource,
  output: CliOutput,
  options: { json: boolean; olderThanMs: number; archiveDir: string },
): Promise<number> {
  if (!source.archive) throw new CliError("archive works on a data directory or database, not a daemon", 2);
  const { sessions, file } = await source.archive(options.olderThanMs, options.archiveDir);
  if (options.json) output.out(JSON.stringify({ sessions, archive_file: file ?? null }));
  else output.out(sessions === 0 ? "no finished session is that old: nothing archived" : `archived ${sessions} session(s) to ${file}`);
  return 0;
}

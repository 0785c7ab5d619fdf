import { parseArgs } from "node:util";
import { DEFAULT_DATA_DIR } from "@macp/storage";
import type { DaemonLocation } from "./daemon-source.js";
import { CliError } from "./session-source.js";
import type { StoreLocation } from "./store-source.js";

/** The commands `macp` knows. */
export type CommandName = "sessions" | "session" | "replay" | "verify" | "gc" | "archive";

/** A parsed command line. */
export interface CliInvocation {
  readonly command: CommandName | "help";
  readonly sessionIds: readonly string[];
  readonly json: boolean;
  readonly includeInternal: boolean;
  /** gc/archive: sessions that finished longer ago than this many milliseconds. */
  readonly olderThanMs: number;
  /** gc: remove for real (the default is a dry run). */
  readonly apply: boolean;
  /** gc/archive: where JSONL archive files go. */
  readonly archiveDir: string | undefined;
  readonly source:
    | { readonly kind: "store"; readonly location: StoreLocation }
    | { readonly kind: "daemon"; readonly location: DaemonLocation };
}

/** The `macp --help` text. */
export const USAGE = `Usage: macp <command> [options]

Commands:
  sessions          list sessions
  session <id>      show one session's state
  replay <id>       show a session's accepted history, in order
  verify [id...]    replay stored sessions (all, or the named ones) along every recovery path;
                    exits 1 if any differs or does not replay
  gc                remove the history (log, snapshot, index entries) of sessions finished
                    longer ago than --older-than; a dry run that only counts unless --apply;
                    with --archive-dir each session is archived to JSONL first. Storage only,
                    on a stopped daemon's data (a running daemon does it by MACP_HISTORY_RETENTION_SECS)
  archive           append sessions finished longer ago than --older-than to JSONL in
                    --archive-dir, keeping them stored. Storage only

Retention (gc, archive):
  --older-than <age>        finished longer ago than this: <n>s, <n>m, <n>h or <n>d (default 30d)
  --apply                   gc: remove for real
  --archive-dir <dir>       JSONL archive directory (required by archive)

Where to read (storage is the default):
  --data-dir <dir>          file backend directory (default: $MACP_DATA_DIR, else ${DEFAULT_DATA_DIR});
                            a running daemon holds its directory's lock: read it with --address
  --backend <file|postgres> storage backend (default: $MACP_STORAGE_BACKEND, else file)
  --database-url <url>      postgres connection URL (default: $MACP_DATABASE_URL)
  --address <host:port>     read a running daemon instead
  --token <bearer>          bearer credential for the daemon (required with --address)
  --tls                     connect to the daemon over TLS

Output:
  --json            JSON: one object per line (per session, history record or verify result)
  --internal        replay: include runtime-internal records (policy binding, cancel, suspend,
                    resume, expiry); storage only
  -h, --help        show this help
`;

const COMMANDS: readonly CommandName[] = ["sessions", "session", "replay", "verify", "gc", "archive"];

/** Deadline of each unary daemon call: long enough for a loaded daemon, short enough to notice a dead one. */
const DAEMON_DEADLINE_MS = 10_000;

/** Parses `argv` (without node and script); usage mistakes throw a {@link CliError} with exit code 2. */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): CliInvocation {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        "data-dir": { type: "string" },
        backend: { type: "string" },
        "database-url": { type: "string" },
        address: { type: "string" },
        token: { type: "string" },
        tls: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        internal: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
        "older-than": { type: "string" },
        apply: { type: "boolean", default: false },
        "archive-dir": { type: "string" },
      },
    });
  } catch (error) {
    throw usage(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [name, ...sessionIds] = positionals;
  const base = {
    sessionIds,
    json: values.json,
    includeInternal: values.internal,
    olderThanMs: parseAge(values["older-than"] ?? "30d"),
    apply: values.apply,
    archiveDir: values["archive-dir"],
  };
  if (values.help || name === undefined || name === "help") {
    return { command: "help", ...base, source: { kind: "store", location: { backend: "file", dataDir: DEFAULT_DATA_DIR } } };
  }
  if (!isCommand(name)) throw usage(`unknown command '${name}'`);
  checkArity(name, sessionIds);
  if (values.internal && name !== "replay") throw usage("--internal applies to replay only");
  const retention = name === "gc" || name === "archive";
  if (!retention && (values["older-than"] !== undefined || values.apply || values["archive-dir"] !== undefined)) {
    throw usage("--older-than, --apply and --archive-dir apply to gc and archive only");
  }
  if (name === "archive" && values["archive-dir"] === undefined) throw usage("archive needs --archive-dir <dir>");
  if (name === "archive" && values.apply) throw usage("--apply applies to gc only (archive never removes)");
  if (retention && values.address !== undefined) throw usage(`${name} works on storage, not on a running daemon (--address)`);

  if (values.address !== undefined) {
    for (const storageOption of ["data-dir", "backend", "database-url"] as const) {
      if (values[storageOption] !== undefined) throw usage(`--${storageOption} and --address exclude each other`);
    }
    if (values.token === undefined || values.token === "") throw usage("--address needs --token <bearer>");
    return {
      command: name,
      ...base,
      source: {
        kind: "daemon",
        location: { address: values.address, token: values.token, tls: values.tls, deadlineMs: DAEMON_DEADLINE_MS },
      },
    };
  }
  if (values.token !== undefined || values.tls) throw usage("--token and --tls apply to --address only");
  return { command: name, ...base, source: { kind: "store", location: storeLocation(values, env) } };
}

function storeLocation(
  values: { "data-dir"?: string; backend?: string; "database-url"?: string },
  env: Readonly<Record<string, string | undefined>>,
): StoreLocation {
  const backend = values.backend ?? nonEmpty(env.MACP_STORAGE_BACKEND) ?? "file";
  if (backend === "file") {
    if (values["database-url"] !== undefined) throw usage("--database-url applies to --backend postgres only");
    return { backend, dataDir: values["data-dir"] ?? nonEmpty(env.MACP_DATA_DIR) ?? DEFAULT_DATA_DIR };
  }
  if (backend === "postgres") {
    if (values["data-dir"] !== undefined) throw usage("--data-dir applies to --backend file only");
    const databaseUrl = values["database-url"] ?? nonEmpty(env.MACP_DATABASE_URL);
    if (databaseUrl === undefined) throw usage("--backend postgres needs --database-url (or MACP_DATABASE_URL)");
    return { backend, databaseUrl };
  }
  throw usage(`unknown backend '${backend}' (file or postgres)`);
}

function checkArity(name: CommandName, sessionIds: readonly string[]): void {
  if ((name === "session" || name === "replay") && sessionIds.length !== 1) throw usage(`${name} takes one session id`);
  if ((name === "sessions" || name === "gc" || name === "archive") && sessionIds.length > 0) throw usage(`${name} takes no arguments`);
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}

const AGE_UNITS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30d`, `12h`, `90m`, `3600s` or plain seconds, as milliseconds. */
function parseAge(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text);
  const ms = match ? Number(match[1]) * (AGE_UNITS[match[2] || "s"] ?? 1_000) : NaN;
  if (!Number.isSafeInteger(ms)) throw usage(`--older-than must be <n>s, <n>m, <n>h or <n>d, got '${text}'`);
  return ms;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function usage(message: string): CliError {
  return new CliError(`${message}\nRun 'macp --help' for usage.`, 2);
}

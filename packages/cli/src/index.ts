/**
 * The `macp` command. Its commands are exported for embedding and tests; each reads a
 * {@link SessionSource} (a data directory or database, or a running daemon) and writes lines to
 * a {@link CliOutput}, returning the exit code.
 *
 * @module @macp/cli
 */
export { runCli } from "./run-cli.js";
export { parseCliArgs, USAGE } from "./cli-args.js";
export type { CliInvocation, CommandName } from "./cli-args.js";
export { sessionsCommand } from "./sessions-command.js";
export { sessionCommand } from "./session-command.js";
export { replayCommand } from "./replay-command.js";
export { verifyCommand } from "./verify-command.js";
export { openStoreSource, storeSource } from "./store-source.js";
export type { StoreLocation } from "./store-source.js";
export { daemonSource } from "./daemon-source.js";
export type { DaemonLocation } from "./daemon-source.js";
export { CliError } from "./session-source.js";
export type { HistoryRecord, SessionRow, SessionSource } from "./session-source.js";
export { streamOutput } from "./output.js";
export type { CliOutput } from "./output.js";
export { payloadText } from "./payload-text.js";

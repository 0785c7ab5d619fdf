import { parseCliArgs, USAGE } from "./cli-args.js";
import type { CliInvocation } from "./cli-args.js";
import { daemonSource } from "./daemon-source.js";
import type { CliOutput } from "./output.js";
import { replayCommand } from "./replay-command.js";
import { archiveCommand, gcCommand } from "./retention-commands.js";
import { sessionCommand } from "./session-command.js";
import { CliError } from "./session-source.js";
import type { SessionSource } from "./session-source.js";
import { sessionsCommand } from "./sessions-command.js";
import { openStoreSource } from "./store-source.js";
import { verifyCommand } from "./verify-command.js";

/**
 * Runs `macp` with `argv` (arguments after the script) and returns the exit code: 0 success,
 * 1 failure or verify mismatch, 2 usage error. Never throws for expected failures.
 */
export async function runCli(
  argv: readonly string[],
  output: CliOutput,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  let source: SessionSource | undefined;
  try {
    const invocation = parseCliArgs(argv, env);
    if (invocation.command === "help") {
      for (const line of USAGE.trimEnd().split("\n")) output.out(line);
      return 0;
    }
    source = await openSource(invocation, output);
    return await runCommand(invocation, source, output);
  } catch (error) {
    if (error instanceof CliError) {
      output.err(`macp: ${error.message}`);
      return error.exitCode;
    }
    output.err(`macp: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await source?.close();
  }
}

function openSource(invocation: CliInvocation, output: CliOutput): Promise<SessionSource> | SessionSource {
  if (invocation.source.kind === "daemon") return daemonSource(invocation.source.location);
  // Storage repairs go to stderr so they never mix with results; progress notes are dropped.
  return openStoreSource(invocation.source.location, {
    info: () => undefined,
    warn: (message) => output.err(`macp: storage: ${message}`),
  });
}

function runCommand(invocation: CliInvocation, source: SessionSource, output: CliOutput): Promise<number> {
  const { json, includeInternal, sessionIds } = invocation;
  const sessionId = sessionIds[0] ?? "";
  switch (invocation.command) {
    case "sessions":
      return sessionsCommand(source, output, { json });
    case "session":
      return sessionCommand(source, output, sessionId, { json });
    case "replay":
      return replayCommand(source, output, sessionId, { json, includeInternal });
    case "verify":
      return verifyCommand(source, output, sessionIds, { json });
    case "gc":
      return gcCommand(source, output, { json, olderThanMs: invocation.olderThanMs, apply: invocation.apply, archiveDir: invocation.archiveDir });
    case "archive":
      return archiveCommand(source, output, { json, olderThanMs: invocation.olderThanMs, archiveDir: invocation.archiveDir ?? "" });
    case "help":
      return Promise.resolve(0);
  }
}

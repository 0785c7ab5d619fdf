import { describe, expect, it } from "vitest";
import { CliError, USAGE, parseCliArgs, runCli } from "@macp/cli";
import { captureOutput } from "./support.js";

const ID = "00000000-0000-4000-8000-000000000001";

function usageError(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseCliArgs(argv, env);
  } catch (error) {
    if (error instanceof CliError && error.exitCode === 2) return error.message.split("\n")[0] ?? "";
    throw error;
  }
  throw new Error(`expected a usage error for ${argv.join(" ")}`);
}

describe("parseCliArgs", () => {
  it("reads the default data directory, then MACP_DATA_DIR, then --data-dir", () => {
    expect(parseCliArgs(["sessions"], {}).source).toEqual({ kind: "store", location: { backend: "file", dataDir: ".macp-data" } });
    expect(parseCliArgs(["sessions"], { MACP_DATA_DIR: "/env" }).source).toEqual({
      kind: "store",
      location: { backend: "file", dataDir: "/env" },
    });
    expect(parseCliArgs(["sessions", "--data-dir", "/flag"], { MACP_DATA_DIR: "/env" }).source).toEqual({
      kind: "store",
      location: { backend: "file", dataDir: "/flag" },
    });
  });

  it("selects postgres from the flag or MACP_STORAGE_BACKEND, with the URL from the flag or MACP_DATABASE_URL", () => {
    const location = { backend: "postgres", databaseUrl: "postgres://db/macp" };
    expect(parseCliArgs(["verify", "--backend", "postgres", "--database-url", "postgres://db/macp"], {}).source).toEqual({
      kind: "store",
      location,
    });
    expect(
      parseCliArgs(["verify"], { MACP_STORAGE_BACKEND: "postgres", MACP_DATABASE_URL: "postgres://db/macp" }).source,
    ).toEqual({ kind: "store", location });
  });

  it("reads a daemon when given an address and a token, keeping a numeric token a string", () => {
    const invocation = parseCliArgs(["replay", ID, "--address", "127.0.0.1:50051", "--token", "12345", "--json"], {});

    expect(invocation).toEqual({
      command: "replay",
      sessionIds: [ID],
      json: true,
      includeInternal: false,
      olderThanMs: 30 * 86_400_000,
      apply: false,
      archiveDir: undefined,
      source: { kind: "daemon", location: { address: "127.0.0.1:50051", token: "12345", tls: false, deadlineMs: 10_000 } },
    });
  });

  it("takes options before or after the command", () => {
    expect(parseCliArgs(["--json", "session", ID], {})).toMatchObject({ command: "session", sessionIds: [ID], json: true });
  });

  it("answers help for no command, help and -h", () => {
    for (const argv of [[], ["help"], ["-h"], ["sessions", "--help"]]) expect(parseCliArgs(argv, {}).command).toBe("help");
  });

  it.each([
    [["frobnicate"], "unknown command 'frobnicate'"],
    [["session"], "session takes one session id"],
    [["replay", "a", "b"], "replay takes one session id"],
    [["sessions", ID], "sessions takes no arguments"],
    [["sessions", "--address", "localhost:1"], "--address needs --token <bearer>"],
    [["sessions", "--address", "localhost:1", "--token", "t", "--data-dir", "/d"], "--data-dir and --address exclude each other"],
    [["sessions", "--token", "t"], "--token and --tls apply to --address only"],
    [["sessions", "--internal"], "--internal applies to replay only"],
    [["sessions", "--backend", "postgres"], "--backend postgres needs --database-url (or MACP_DATABASE_URL)"],
    [["sessions", "--backend", "memory"], "unknown backend 'memory' (file or postgres)"],
    [["sessions", "--database-url", "postgres://x"], "--database-url applies to --backend postgres only"],
  ])("rejects %j: %s", (argv, message) => {
    expect(usageError(argv)).toBe(message);
  });

  it("rejects options it does not know", () => {
    expect(usageError(["sessions", "--verbose"])).toContain("Unknown option '--verbose'");
  });
});

describe("runCli", () => {
  it("prints the usage and exits 0 for --help", async () => {
    const output = captureOutput();

    expect(await runCli(["--help"], output, {})).toBe(0);
    expect(output.stdout.join("\n")).toBe(USAGE.trimEnd());
  });

  it("exits 2 with the reason and a pointer to --help on a usage error", async () => {
    const output = captureOutput();

    expect(await runCli(["session"], output, {})).toBe(2);
    expect(output.stderr).toEqual(["macp: session takes one session id\nRun 'macp --help' for usage."]);
  });
});

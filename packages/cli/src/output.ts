/** Where commands write: results to `out`, diagnostics to `err`, one line per call. */
export interface CliOutput {
  /** Writes one line of command output. */
  out(line: string): void;
  /** Writes one diagnostic line. */
  err(line: string): void;
}

/** Output to two writable streams (the process's stdout and stderr in the binary). */
export function streamOutput(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): CliOutput {
  return {
    out: (line) => void stdout.write(`${line}\n`),
    err: (line) => void stderr.write(`${line}\n`),
  };
}

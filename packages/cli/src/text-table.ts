import { formatUnixMs } from "@macp/replay";

/**
 * Lines of a left-aligned text table: a header row, then one row per entry. The last column is
 * not padded, so long payload text does not leave trailing blanks.
 */
export function textTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** ISO-8601 time of Unix milliseconds (any int64, in `int64ToJson` form), or `-` for an unknown (zero) time. */
export function isoTime(unixMs: number | string): string {
  return unixMs === 0 || unixMs === "0" ? "-" : formatUnixMs(BigInt(unixMs));
}

import { readSpecDigest } from "@macp/test-support";

/** Reads one spec digest from the repository's copy (`spec/digests/`). */
export function readSpec(name: string): string {
  return readSpecDigest(name);
}

/**
 * The lines of the section whose heading starts with `heading` (e.g. `"## 2."`), up to the next
 * heading of the same or a higher level.
 */
export function section(markdown: string, heading: string): string[] {
  const lines = markdown.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`${heading} `));
  if (start < 0) throw new Error(`no section "${heading}"`);
  const level = heading.split(" ")[0]!.length;
  const end = lines.findIndex((line, index) => {
    if (index <= start) return false;
    const match = /^(#+) /.exec(line);
    return match !== null && match[1]!.length <= level;
  });
  return lines.slice(start, end < 0 ? undefined : end);
}

/** The cells of a Markdown table row, or `undefined` for non-rows and separator rows. */
export function tableCells(line: string): string[] | undefined {
  if (!line.startsWith("|") || /^\|[\s|:-]+\|$/.test(line)) return undefined;
  return line
    .slice(1, line.endsWith("|") ? -1 : undefined)
    .split("|")
    .map((cell) => cell.trim());
}

/** A cell with its backticks removed. */
export function plain(cell: string): string {
  return cell.replace(/`/g, "");
}

/** The single backticked token of a cell such as `` `Envelope` ``, else `undefined`. */
export function code(cell: string): string | undefined {
  return /^`([^`]+)`$/.exec(cell)?.[1];
}

/** The body rows (below the header separator) of every Markdown table in `lines`, as cells. */
export function tableBodyRows(lines: readonly string[]): string[][] {
  const rows: string[][] = [];
  let inBody = false;
  for (const line of lines) {
    if (!line.startsWith("|")) {
      inBody = false;
    } else if (/^\|[\s|:-]+\|$/.test(line)) {
      inBody = true;
    } else if (inBody) {
      rows.push(tableCells(line) ?? []);
    }
  }
  return rows;
}

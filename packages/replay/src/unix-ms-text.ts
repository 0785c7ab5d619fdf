const MS_PER_DAY = 86_400_000n;
/** The range of a JavaScript `Date` (±100,000,000 days around the epoch). */
const DATE_LIMIT_MS = 8_640_000_000_000_000n;

function pad(value: bigint, digits: number): string {
  return value.toString().padStart(digits, "0");
}

/**
 * ISO 8601 UTC text of any int64 millisecond instant, computed with integers (Howard Hinnant's
 * `civil_from_days`), in the form `Date#toISOString` uses for years outside 0000–9999: a sign
 * and at least six year digits.
 */
export function expandedIsoTime(unixMs: bigint): string {
  let days = unixMs / MS_PER_DAY;
  let rest = unixMs % MS_PER_DAY;
  if (rest < 0n) {
    rest += MS_PER_DAY;
    days -= 1n;
  }
  const z = days + 719_468n;
  const era = (z >= 0n ? z : z - 146_096n) / 146_097n;
  const dayOfEra = z - era * 146_097n;
  const yearOfEra = (dayOfEra - dayOfEra / 1_460n + dayOfEra / 36_524n - dayOfEra / 146_096n) / 365n;
  const dayOfYear = dayOfEra - (365n * yearOfEra + yearOfEra / 4n - yearOfEra / 100n);
  const shiftedMonth = (5n * dayOfYear + 2n) / 153n;
  const day = dayOfYear - (153n * shiftedMonth + 2n) / 5n + 1n;
  const month = shiftedMonth < 10n ? shiftedMonth + 3n : shiftedMonth - 9n;
  const year = yearOfEra + era * 400n + (month <= 2n ? 1n : 0n);
  const sign = year < 0n ? "-" : "+";
  const date = `${sign}${pad(year < 0n ? -year : year, 6)}-${pad(month, 2)}-${pad(day, 2)}`;
  const time = `${pad(rest / 3_600_000n, 2)}:${pad((rest / 60_000n) % 60n, 2)}:${pad((rest / 1_000n) % 60n, 2)}.${pad(rest % 1_000n, 3)}`;
  return `${date}T${time}Z`;
}

/**
 * ISO 8601 UTC text of Unix milliseconds: exactly `Date#toISOString` where a `Date` reaches, and
 * the same notation beyond it, so every int64 timestamp a client may send (i64::MAX is
 * `+292278994-08-17T07:12:55.807Z`) is shown exactly instead of failing.
 */
export function formatUnixMs(unixMs: bigint | number): string {
  const ms = BigInt(unixMs);
  return ms >= -DATE_LIMIT_MS && ms <= DATE_LIMIT_MS ? new Date(Number(ms)).toISOString() : expandedIsoTime(ms);
}

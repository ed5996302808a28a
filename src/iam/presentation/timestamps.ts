/**
 * Timestamps as the reference writes them (Python's isoformat in UTC): fractional seconds only
 * when non-zero, as six digits, and `Z` for the offset: `2025-01-02T03:04:05.123000Z`.
 *
 * A list of 1,000 workspaces formats 2,000 of these, so this slices the fixed-width tail of
 * `toISOString()` (`...SS.mmmZ`) rather than splitting and matching it, and remembers the last
 * answer: a row's `updated_at` is often its `created_at`.
 */
let lastTime = Number.NaN;
let lastText = "";

export function isoTimestamp(date: Date): string {
  const time = date.getTime();
  if (time === lastTime) return lastText;
  const iso = date.toISOString();
  // The seconds end 5 characters before the end, also for years the string writes with 6 digits.
  const seconds = iso.slice(0, -5);
  lastText = date.getUTCMilliseconds() === 0 ? `${seconds}Z` : `${seconds}.${iso.slice(-4, -1)}000Z`;
  lastTime = time;
  return lastText;
}

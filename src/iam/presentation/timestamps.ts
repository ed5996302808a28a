/**
 * Timestamps as the reference writes them (Python's isoformat in UTC): fractional seconds only
 * when non-zero, as six digits, and `Z` for the offset: `2025-01-02T03:04:05.123000Z`.
 */
export function isoTimestamp(date: Date): string {
  const iso = date.toISOString();
  const [seconds, fraction] = iso.slice(0, -1).split(".");
  return fraction === undefined || /^0+$/.test(fraction) ? `${seconds}Z` : `${seconds}.${fraction.padEnd(6, "0")}Z`;
}

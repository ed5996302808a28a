/**
 * The times a client may name (a filter's bound, a query's `since`): years 0001 to 9999, UTC.
 *
 * JavaScript reads and writes more (±271,821 years, as `+275760-09-13T00:00:00.000Z`) and
 * PostgreSQL's timestamptz holds 4713 BC to 294276 AD, but the two do not meet outside
 * four-digit years: PostgreSQL cannot read a six-digit year with a sign, nor has a year 0000, and
 * refused such a time deep in a query. No audit event nor directory change lies outside these years.
 */
export const STORABLE_YEARS = "the years 0001 to 9999 (UTC)";

const EARLIEST = Date.parse("0001-01-01T00:00:00.000Z");
const LATEST = Date.parse("9999-12-31T23:59:59.999Z");

/** Whether `time` is a valid date within {@link STORABLE_YEARS}; its zone may move it out of them. */
export function isStorableTime(time: Date): boolean {
  const value = time.getTime();
  return value >= EARLIEST && value <= LATEST;
}

/**
 * A list as one statement parameter in PostgreSQL's array text (`{"a","b"}`), to be cast where it
 * is used (`id = ANY(${arrayText(ids)}::uuid[])`). PostgreSQL reads the same array from it as from
 * an array object, and both drivers pass it as a plain string: PGlite then sends the statement in
 * one call (pglite-one-trip-statement.ts) where an array object costs six, since its text would
 * depend on the parameter's type.
 */
export function arrayText(values: Iterable<string | number>): string {
  const elements: string[] = [];
  for (const value of values) elements.push(`"${String(value).replace(/[\\"]/g, "\\$&")}"`);
  return `{${elements.join(",")}}`;
}

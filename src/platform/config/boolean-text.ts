/**
 * Booleans spelt as text, in environment variables and query strings: exactly the spellings the
 * reference accepts (pydantic's bool), in any case, so that a Kartograph deployment's settings
 * and clients keep their meaning. Anything else is not a boolean.
 */
const TRUE = new Set(["true", "1", "yes", "on", "t", "y"]);
const FALSE = new Set(["false", "0", "no", "off", "f", "n"]);

export const BOOLEAN_SPELLINGS = "true or false (also 1/0, yes/no, on/off, t/f, y/n, in any case)";

/** The boolean `text` spells, or null when it spells none. */
export function booleanOf(text: string): boolean | null {
  const lowered = text.trim().toLowerCase();
  if (TRUE.has(lowered)) return true;
  if (FALSE.has(lowered)) return false;
  return null;
}

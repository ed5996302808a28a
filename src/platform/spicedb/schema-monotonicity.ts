/**
 * Whether a permission schema is monotonic: adding a relationship can only grant, never take a
 * permission away. That holds when permissions are built from unions (`+`) and arrows (`->`,
 * `.any()`) of plain relations; exclusion (`-`), intersection (`&`), `.all()` arrows and caveats
 * or expirations (`with`) break it. The decision cache relies on it to keep "allowed" answers
 * across revisions that only added relationships, so anything unrecognised counts as non-monotonic.
 */
export function isMonotonicSchema(schema: string): boolean {
  const code = schema.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ");
  if (/\bcaveat\b|\bwith\b/.test(code)) return false;
  if (/&|-(?!>)|\.all\s*\(/.test(code)) return false;
  return true;
}

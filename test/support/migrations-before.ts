/** The shipped migrations before the one whose tag ends with `tagSuffix`, in a folder of their own. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../src/platform/runtime/package-root.js";

export function migrationsBefore(tagSuffix: string): string {
  const folder = mkdtempSync(join(tmpdir(), "kiam-migrations-before-"));
  cpSync(join(packageRoot(), "drizzle"), folder, { recursive: true });
  const journalFile = join(folder, "meta", "_journal.json");
  const journal = JSON.parse(readFileSync(journalFile, "utf8")) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((entry) => entry.tag.endsWith(tagSuffix));
  if (cut <= 0) throw new Error(`no migration ending with ${tagSuffix} after the first`);
  writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, cut) }));
  return folder;
}

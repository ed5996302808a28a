import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | null = null;

/**
 * The directory holding package.json, found from this file whether it runs from src/ (tests) or
 * dist/src/ (the built service). Migrations and the permission schema are read from there.
 */
export function packageRoot(): string {
  if (cached !== null) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || !existsSync(join(dir, "drizzle"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("Cannot find the kartograph-iam package root");
    dir = parent;
  }
  cached = dir;
  return dir;
}

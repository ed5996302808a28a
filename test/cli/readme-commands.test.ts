/**
 * Every CLI command the README shows runs from a clone as written: through `npm run -s iam -- ...`
 * (npm does not link a package's own bin, so `npx kartograph-iam` fails there), or through the
 * bundle `node dist/kartograph-iam.mjs` right after `npm run build`.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureBuilt } from "../support/built-cli.js";

const root = join(import.meta.dirname, "..", "..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const scripts = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;

describe("README commands", () => {
  it("never uses a bin that a clone does not have", () => {
    expect(readme).not.toMatch(/npx kartograph-iam/);
    expect(readme).toMatch(/npm run -s iam -- token alice/);
  });

  // The bundle is what a process manager should start (npm's shell does not pass signals on), but
  // a clone has it only once built.
  it("runs the bundle itself only in a block that builds it first", () => {
    const blocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
    const running = blocks.filter((block) => block.includes("node dist/kartograph-iam.mjs"));
    expect(running.length).toBeGreaterThan(0);
    for (const block of running) {
      const built = block.indexOf("npm run build");
      expect(built, block).toBeGreaterThanOrEqual(0);
      expect(built, block).toBeLessThan(block.indexOf("node dist/kartograph-iam.mjs"));
    }
  });

  it("has an iam script that builds if stale before running the CLI", () => {
    expect(scripts.iam).toBe("node scripts/build-if-stale.mjs && node dist/kartograph-iam.mjs");
  });

  it("`npm run -s iam -- --help` prints only the CLI's help", () => {
    ensureBuilt();
    const out = execFileSync("npm", ["run", "-s", "iam", "--", "--help"], { cwd: root, encoding: "utf8" });
    expect(out).not.toMatch(/^> /m);
    expect(out).toMatch(/serve/);
  }, 120_000);
});

// Builds dist/ when it is missing or older than any source file, so `npm start`
// works straight after `npm ci` and never serves stale code.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const marker = "dist/kartograph-iam.mjs";
const sourceRoots = ["src", "bench", "scripts/bundle.mjs", "scripts/build.mjs", "tsconfig.json", "tsconfig.build.json", "package-lock.json"];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const builtAt = existsSync(marker) ? statSync(marker).mtimeMs : 0;
const sourcesAt = Math.max(...sourceRoots.map(newestMtime));
if (builtAt < sourcesAt) {
  process.stderr.write("kartograph-iam: building (sources changed since the last build)...\n");
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}

// `npm run build`, and the build `npm start` and `npm run iam` do when the sources changed: compiles
// with tsc, then bundles the CLI. Each step says what it does and how long it took, on stderr (so
// that `$(npm run -s iam -- token alice)` still captures only the token), and tsc, which prints
// nothing until it is done, is reported every five seconds.
import { spawn } from "node:child_process";
import { clearInterval, setInterval } from "node:timers";

const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const say = (line) => process.stderr.write(`build: ${line}\n`);

function step(label, args) {
  const stepStarted = Date.now();
  say(`${label}...`);
  const ticker = setInterval(() => say(`  ... ${seconds(stepStarted)} so far`), 5_000);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(ticker);
      if (code === 0) {
        say(`${label}: done in ${seconds(stepStarted)}`);
        resolve();
      } else {
        reject(new Error(`${label} failed (exit ${code})`));
      }
    });
  });
}

try {
  await step("Compiling TypeScript (tsc -p tsconfig.build.json)", ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"]);
  await step("Bundling dist/kartograph-iam.mjs (esbuild)", ["scripts/bundle.mjs"]);
  say(`finished in ${seconds(started)}`);
} catch (error) {
  say(error.message);
  process.exit(1);
}

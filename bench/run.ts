/**
 * `npm run bench [-- <filter>...]`: runs every scenario exported by a `*-bench.js` module next to
 * this file (or only those whose name contains a filter), one after another, and prints a table.
 * Nothing here asserts: a failing scenario is reported as a row and the others still run.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { formatTable, type BenchScenario, type ScenarioOutcome } from "./bench-kit.js";
import { streamingStandbys } from "./iam-bench-support.js";

async function discoverScenarios(): Promise<BenchScenario[]> {
  const here = dirname(fileURLToPath(import.meta.url));
  const modules = readdirSync(here)
    .filter((file) => /-bench\.js$/.test(file))
    .sort();
  const scenarios: BenchScenario[] = [];
  for (const file of modules) {
    const loaded = (await import(pathToFileURL(join(here, file)).href)) as { scenarios?: BenchScenario[] };
    if (!Array.isArray(loaded.scenarios)) {
      process.stderr.write(`bench: ${file} exports no "scenarios" array; skipped\n`);
      continue;
    }
    scenarios.push(...loaded.scenarios);
  }
  return scenarios;
}

async function main(filters: string[]): Promise<void> {
  const all = await discoverScenarios();
  const wanted = filters.map((filter) => filter.toLowerCase());
  const selected = wanted.length === 0 ? all : all.filter((s) => wanted.some((filter) => s.name.toLowerCase().includes(filter)));
  if (selected.length === 0) {
    process.stderr.write(`bench: no scenario matches ${filters.join(", ")}; there are: ${all.map((s) => s.name).join(", ")}\n`);
    process.exitCode = 2;
    return;
  }
  process.stdout.write(`bench: node ${process.version}, ${selected.length} scenario(s)\n`);
  const standbys = await streamingStandbys();
  if (standbys !== null && standbys > 0) {
    // Not refused: the replica scenario needs one. Said, so that a write figure is read for what it is.
    process.stdout.write(
      `bench: note: the PostgreSQL server of KARTOGRAPH_BENCH_DB_URL streams to ${standbys} standby(s); one on this machine ` +
        `(scripts/dev-replica.sh) replays every write on the same CPU as the measured server; stop it for the write figures ` +
        `(pg_ctlcluster 15 replica stop) and start it again for the replica scenario\n`,
    );
  }

  const outcomes: ScenarioOutcome[] = [];
  for (const scenario of selected) {
    process.stderr.write(`bench: running ${scenario.name}...\n`);
    const started = Date.now();
    try {
      outcomes.push({ scenario: scenario.name, results: await scenario.run() });
    } catch (error) {
      outcomes.push({ scenario: scenario.name, results: [], error: error instanceof Error ? error.message : String(error) });
    }
    process.stderr.write(`bench: ${scenario.name} took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  process.stdout.write(`\n${formatTable(outcomes)}\n`);
  for (const failed of outcomes.filter((outcome) => outcome.error !== undefined)) {
    process.stdout.write(`\n${failed.scenario} failed:\n${failed.error ?? ""}\n`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});

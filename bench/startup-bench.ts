/**
 * Embedded start-up: an empty data directory to the first 200 from /health (cold: PGlite creates
 * its cluster, migrations run, SpiceDB starts), the same with an existing directory (warm), each
 * next to PGlite's own open time measured in the same run, and the idle memory of the process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { median, rssMiB, serve, serveBareFastify, sleep, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";

const COLD_RUNS = 2;
const WARM_RUNS = 3;
/** Time the process is left alone before its memory is read. */
const IDLE_SETTLE_MS = 2_000;

async function pgliteOpenMs(directory: string): Promise<number> {
  let client: PGlite | null = null;
  const ms = await timeMs(async () => {
    client = await PGlite.create(directory);
    await client.query("SELECT 1");
  });
  await (client as PGlite | null)?.close();
  return ms;
}

async function startOnce(dataDir: string): Promise<{ readyMs: number; rss: number }> {
  const served = await serve({ env: { KARTOGRAPH_DATA_DIR: dataDir } });
  try {
    await sleep(IDLE_SETTLE_MS);
    return { readyMs: served.readyMs, rss: rssMiB(served.child.pid ?? 0) };
  } finally {
    await served.stop();
  }
}

async function run(): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), "kiam-bench-start-"));
  try {
    const pgliteCold: number[] = [];
    const pgliteWarm: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    const warmRss: number[] = [];
    let dataDir = "";
    for (let i = 0; i < COLD_RUNS; i++) {
      const pgliteDir = join(root, `pglite-${i}`);
      pgliteCold.push(await pgliteOpenMs(pgliteDir));
      pgliteWarm.push(await pgliteOpenMs(pgliteDir));
      dataDir = join(root, `service-${i}`);
      cold.push((await startOnce(dataDir)).readyMs);
    }
    for (let i = 0; i < WARM_RUNS; i++) {
      const started = await startOnce(dataDir);
      warm.push(started.readyMs);
      warmRss.push(started.rss);
    }
    const bare = await serveBareFastify();
    await sleep(IDLE_SETTLE_MS);
    const bareRss = rssMiB(bare.child.pid ?? 0);
    await bare.stop();
    return [
      {
        metric: "cold start: spawn to first /health 200",
        value: median(cold),
        unit: "ms",
        baseline: { label: "PGlite open, new dir", value: median(pgliteCold) },
        note: `median of ${COLD_RUNS}; runs ${cold.map(Math.round).join(", ")}`,
      },
      {
        metric: "warm start: spawn to first /health 200",
        value: median(warm),
        unit: "ms",
        baseline: { label: "PGlite open, existing dir", value: median(pgliteWarm) },
        note: `median of ${WARM_RUNS}; runs ${warm.map(Math.round).join(", ")}`,
      },
      {
        metric: "idle RSS of the served process",
        value: median(warmRss),
        unit: "MiB",
        baseline: { label: "bare Fastify process", value: bareRss },
        note: `${IDLE_SETTLE_MS / 1000} s after ready`,
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const scenarios: BenchScenario[] = [{ name: "startup-embedded", run }];

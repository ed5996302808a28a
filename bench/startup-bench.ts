/**
 * Embedded start-up: an empty data directory to the first 200 from /health (cold: PGlite creates
 * its cluster, migrations run, SpiceDB starts), the same with an existing directory (warm), each
 * next to PGlite's own open time in a new process (as the service pays it) measured in the same
 * run, and the idle memory of the process.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { median, rssMiB, serve, serveBareFastify, sleep, type BenchResult, type BenchScenario } from "./bench-kit.js";

const COLD_RUNS = 2;
const WARM_RUNS = 3;
/** Time the process is left alone before its memory is read. */
const IDLE_SETTLE_MS = 2_000;

const PGLITE_CHILD = join(dirname(fileURLToPath(import.meta.url)), "pglite-open-child.js");

/**
 * PGlite opened in a new process, as the service opens it: process start to first query answered,
 * and the process's memory once idle.
 */
async function pgliteAlone(directory: string): Promise<{ openMs: number; rssMiB: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [PGLITE_CHILD, directory]);
  return JSON.parse(stdout) as { openMs: number; rssMiB: number };
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
    const pgliteRss: number[] = [];
    const cold: number[] = [];
    const coldRss: number[] = [];
    const warm: number[] = [];
    const warmRss: number[] = [];
    let dataDir = "";
    for (let i = 0; i < COLD_RUNS; i++) {
      const pgliteDir = join(root, `pglite-${i}`);
      pgliteCold.push((await pgliteAlone(pgliteDir)).openMs);
      const warmPglite = await pgliteAlone(pgliteDir);
      pgliteWarm.push(warmPglite.openMs);
      pgliteRss.push(warmPglite.rssMiB);
      dataDir = join(root, `service-${i}`);
      const coldStart = await startOnce(dataDir);
      cold.push(coldStart.readyMs);
      coldRss.push(coldStart.rss);
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
        baseline: { label: "PGlite alone, new dir", value: median(pgliteCold) },
        note: `goal ≤ PGlite + 1,500 ms: +${Math.round(median(cold) - median(pgliteCold))} ms; median of ${COLD_RUNS}; runs ${cold.map(Math.round).join(", ")}`,
      },
      {
        metric: "warm start: spawn to first /health 200",
        value: median(warm),
        unit: "ms",
        baseline: { label: "PGlite alone, existing dir", value: median(pgliteWarm) },
        note: `goal ≤ PGlite + 1,500 ms: +${Math.round(median(warm) - median(pgliteWarm))} ms; median of ${WARM_RUNS}; runs ${warm.map(Math.round).join(", ")}`,
      },
      {
        metric: "idle RSS of the served process",
        value: median(warmRss),
        unit: "MiB",
        baseline: { label: "bare Fastify process", value: bareRss },
        note: `goal < 400 MiB; ${IDLE_SETTLE_MS / 1000} s after ready, warm start`,
      },
      {
        metric: "idle RSS after a cold start (first run only)",
        value: median(coldRss),
        unit: "MiB",
        note: "initdb runs on a worker thread that exits; what stays is the first run's migrations and the thread's freed heap",
      },
      {
        metric: "idle RSS of PGlite alone (default settings)",
        value: median(pgliteRss),
        unit: "MiB",
        note: "a process that only opened PGlite, 2 s after its first query",
      },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const scenarios: BenchScenario[] = [{ name: "startup-embedded", run }];

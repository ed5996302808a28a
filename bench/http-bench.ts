/**
 * GET /health throughput of the served CLI (embedded mode) under autocannon, next to a bare
 * Fastify hello-world measured the same way in the same run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { load, serve, serveBareFastify, type BenchResult, type BenchScenario, type LoadFigures } from "./bench-kit.js";

const CONNECTIONS = 50;
const SECONDS = 5;
const ROUNDS = 2;

async function measure(start: () => ReturnType<typeof serve>): Promise<LoadFigures> {
  const served = await start();
  try {
    return await load(`${served.baseUrl}/health`, { connections: CONNECTIONS, seconds: SECONDS, serverPid: served.child.pid });
  } finally {
    await served.stop();
  }
}

async function run(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiam-bench-http-"));
  try {
    // Rounds interleave the three servers so that a burst of load from elsewhere on the machine
    // does not land on one of them only; each keeps its best round.
    const best = { bare: [] as LoadFigures[], info: [] as LoadFigures[], quiet: [] as LoadFigures[] };
    for (let round = 0; round < ROUNDS; round++) {
      best.bare.push(await measure(serveBareFastify));
      best.info.push(await measure(() => serve({ env: { KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "info" } })));
      best.quiet.push(await measure(() => serve({ env: { KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "warn" } })));
    }
    const top = (runs: LoadFigures[]) => runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
    const [bare, info, quiet] = [top(best.bare), top(best.info), top(best.quiet)];
    const leanest = (runs: LoadFigures[]) => Math.min(...runs.map((figures) => figures.serverCpuUsPerRequest));
    const cpu = { bare: leanest(best.bare), info: leanest(best.info), quiet: leanest(best.quiet) };
    const equivalent = (us: number) => `throughput-equivalent ${(cpu.bare / us).toFixed(2)}x of bare (goal ≥ 0.8x)`;
    const load = `${CONNECTIONS} connections, ${SECONDS} s, best of ${ROUNDS} rounds`;
    const failures = (figures: LoadFigures) => (figures.non2xx + figures.errors > 0 ? `; ${figures.non2xx} non-2xx, ${figures.errors} errors` : "");
    return [
      {
        metric: "GET /health throughput (LOG_LEVEL=info)",
        value: info.requestsPerSecond,
        unit: "req/s",
        baseline: { label: "bare Fastify hello-world", value: bare.requestsPerSecond },
        note: load + failures(info),
      },
      {
        metric: "GET /health throughput (LOG_LEVEL=warn)",
        value: quiet.requestsPerSecond,
        unit: "req/s",
        baseline: { label: "bare Fastify hello-world", value: bare.requestsPerSecond },
        note: load + failures(quiet),
      },
      {
        // Autocannon shares the two cores with the server, and throughput swings with whatever else
        // runs; the server's own CPU per request is the steadier comparison.
        metric: "GET /health server CPU per request (LOG_LEVEL=info)",
        value: cpu.info,
        unit: "µs",
        baseline: { label: "bare Fastify hello-world", value: cpu.bare },
        note: equivalent(cpu.info),
      },
      {
        metric: "GET /health server CPU per request (LOG_LEVEL=warn)",
        value: cpu.quiet,
        unit: "µs",
        baseline: { label: "bare Fastify hello-world", value: cpu.bare },
        note: equivalent(cpu.quiet),
      },
      {
        metric: "GET /health p50 latency (LOG_LEVEL=info)",
        value: info.p50Ms,
        unit: "ms",
        baseline: { label: "bare Fastify hello-world", value: bare.p50Ms },
      },
      {
        metric: "GET /health p99 latency (LOG_LEVEL=info)",
        value: info.p99Ms,
        unit: "ms",
        baseline: { label: "bare Fastify hello-world", value: bare.p99Ms },
      },
    ];
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const scenarios: BenchScenario[] = [{ name: "http-health", run }];

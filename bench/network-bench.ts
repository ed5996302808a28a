/**
 * Workspace creation with PostgreSQL a network hop away (server only): the service reaches its
 * database through bench/delay-proxy.ts, which holds every chunk 1 ms each way, as a database in
 * another zone would. On loopback a round trip costs next to nothing, so only here does the
 * number of round trips per request show: the POST's latency is printed next to one `SELECT 1`
 * round trip over the same link, and the ratio says how many round trips' worth a create costs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import pg from "pg";
import { PACKAGE_ROOT, percentile, timeMs, type BenchResult, type BenchScenario } from "./bench-kit.js";
import { benchServerUrl, createTarget, seed, seedDefaultTenant, seedTenantMembers, serveService, tokenFor } from "./iam-bench-support.js";
import { postLoad } from "./workspaces-bench.js";

const DELAY_MS = 1;
const SECONDS = 5;

async function startProxy(targetPort: number): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(PACKAGE_ROOT, "dist", "bench", "delay-proxy.js")], {
    env: { DELAY_MS: String(DELAY_MS), TARGET_PORT: String(targetPort) },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once("exit", (code) => reject(new Error(`delay proxy exited with ${code}`)));
  });
  return { port, child };
}

/** Median of sequential `SELECT 1` round trips over the link. */
async function roundTripMs(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const times: number[] = [];
    for (let i = 0; i < 200; i++) times.push(await timeMs(() => client.query("SELECT 1")));
    return percentile(times, 50);
  } finally {
    await client.end();
  }
}

async function createOverNetwork(): Promise<BenchResult[]> {
  const target = await createTarget("postgres");
  const proxy = await startProxy(Number(new URL(target.url ?? "").port || "5432"));
  try {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "creator-", 1, "member");
    });
    const proxied = new URL(target.url ?? "");
    proxied.hostname = "127.0.0.1";
    proxied.port = String(proxy.port);
    const roundTrip = await roundTripMs(proxied.toString());
    const service = await serveService(target, { KARTOGRAPH_DB_URL: proxied.toString() });
    try {
      const token = await tokenFor(target, "creator-1");
      await postLoad(service.baseUrl, token, "warmup", 1, 1);
      const single = await postLoad(service.baseUrl, token, "single", SECONDS, 1);
      const eight = await postLoad(service.baseUrl, token, "eight", SECONDS, 8);
      const errors = (result: typeof single) => result.non2xx + result.errors;
      return [
        {
          metric: "POST /iam/workspaces p50, 1 connection, database 1 ms away each way",
          value: single.latency.p50,
          unit: "ms",
          baseline: { label: "one SELECT 1 round trip over the same link", value: roundTrip },
          note: `ratio = round trips' worth per create; p99 ${single.latency.p99} ms; ${single.requests.average} req/s; ${errors(single)} failed`,
        },
        {
          metric: "POST /iam/workspaces throughput, 8 connections, database 1 ms away each way",
          value: eight.requests.average,
          unit: "req/s",
          note: `p50 ${eight.latency.p50} ms, p99 ${eight.latency.p99} ms; ${errors(eight)} failed`,
        },
      ];
    } finally {
      await service.stop();
    }
  } finally {
    proxy.child.kill();
    await target.dispose();
  }
}

export const scenarios: BenchScenario[] =
  benchServerUrl() === null ? [] : [{ name: "workspaces-create-remote-postgres", run: createOverNetwork }];

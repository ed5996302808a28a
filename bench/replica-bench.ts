/**
 * Reads on a streaming replica (KARTOGRAPH_DB_READ_URL) against the same reads with it unset, in
 * one run: throughput of GET /iam/workspaces/{id} and GET /iam/workspaces, the CPU the primary's
 * PostgreSQL spends per read request (what a replica is for: on two cores the absolute gain is
 * small), the share of queries the replica served (from /metrics) and the fence's wait.
 *
 * Needs KARTOGRAPH_BENCH_DB_URL and KARTOGRAPH_BENCH_REPLICA_URL (scripts/dev-replica.sh): the
 * replica of that server, in the same machine, so the CPU of each server's processes is readable
 * from /proc.
 */
import { readFileSync, readdirSync } from "node:fs";
import pg from "pg";
import { cpuMs, load, sleep, type BenchResult, type BenchScenario, type LoadFigures } from "./bench-kit.js";
import {
  ROOT_WORKSPACE_ID,
  bearer,
  benchServerUrl,
  createTarget,
  seed,
  seedDefaultTenant,
  seedTenantMembers,
  seedWorkspaceGrants,
  seedWorkspaces,
  serveService,
  tokenFor,
  workspaceId,
  type BenchTarget,
} from "./iam-bench-support.js";
import { parsePrometheusText, sampleValue } from "../test/support/prometheus-text.js";

const REPLICA_VARIABLE = "KARTOGRAPH_BENCH_REPLICA_URL";
const CONNECTIONS = 20;
const SECONDS = 5;

/** The database `primaryUrl` names, on the replica. */
function onReplica(primaryUrl: string): string {
  const replica = new URL(process.env[REPLICA_VARIABLE] ?? "");
  replica.pathname = new URL(primaryUrl).pathname;
  return replica.toString();
}

async function query<T extends pg.QueryResultRow>(url: string, statement: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(statement)).rows;
  } finally {
    await client.end();
  }
}

/** CPU time of a PostgreSQL server: its postmaster and every process it started (backends, WAL sender...). */
async function serverCpuMs(url: string): Promise<() => number> {
  const [row] = await query<{ setting: string }>(url, "SELECT setting FROM pg_settings WHERE name = 'data_directory'");
  const postmaster = Number(readFileSync(`${row?.setting ?? ""}/postmaster.pid`, "utf8").split("\n")[0]);
  return () => {
    let total = cpuMs(postmaster);
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const parent = Number(readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
        if (parent === postmaster) total += cpuMs(Number(entry)) || 0;
      } catch {
        // The process ended while we looked.
      }
    }
    return total;
  };
}

async function waitForReplica(url: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await query(onReplica(url), "SELECT 1 FROM workspaces LIMIT 1");
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error("the bench database did not reach the replica in 20 s");
}

interface Measured {
  readonly figures: LoadFigures;
  /** Primary server CPU per request, µs. */
  readonly primaryCpuUs: number;
  readonly replicaCpuUs: number;
}

async function measure(url: string, headers: Record<string, string>, servicePid: number, primaryCpu: () => number, replicaCpu: () => number): Promise<Measured> {
  await load(url, { connections: CONNECTIONS, seconds: 1, warmupSeconds: 0, headers });
  const primaryBefore = primaryCpu();
  const replicaBefore = replicaCpu();
  const figures = await load(url, { connections: CONNECTIONS, seconds: SECONDS, warmupSeconds: 0, headers, serverPid: servicePid });
  const requests = figures.requestsPerSecond * SECONDS;
  return {
    figures,
    primaryCpuUs: ((primaryCpu() - primaryBefore) * 1000) / requests,
    replicaCpuUs: ((replicaCpu() - replicaBefore) * 1000) / requests,
  };
}

async function readShare(baseUrl: string): Promise<{ replica: number; total: number; fenceMeanMs: number }> {
  const samples = parsePrometheusText(await (await fetch(`${baseUrl}/metrics`)).text());
  let total = 0;
  for (const sample of samples) if (sample.name === "kartograph_db_reads_total") total += sample.value;
  const waits = samples.filter((s) => s.name === "kartograph_db_read_fence_wait_seconds_sum").reduce((sum, s) => sum + s.value, 0);
  const count = samples.filter((s) => s.name === "kartograph_db_read_fence_wait_seconds_count").reduce((sum, s) => sum + s.value, 0);
  return {
    replica: sampleValue(samples, "kartograph_db_reads_total", { served_by: "replica", reason: "fence_reached" }),
    total,
    fenceMeanMs: count === 0 ? 0 : (waits / count) * 1000,
  };
}

async function replicaReads(): Promise<BenchResult[]> {
  if (benchServerUrl() === null || !process.env[REPLICA_VARIABLE]) {
    throw new Error(`set KARTOGRAPH_BENCH_DB_URL and ${REPLICA_VARIABLE}=$(scripts/dev-replica.sh) to measure reads on a replica`);
  }
  const target: BenchTarget = await createTarget("postgres");
  try {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "reader-", 1, "member");
      await seedWorkspaces(db, 1, 1_000);
      await seedWorkspaceGrants(db, "reader-1", 100, 10, "member");
    });
    const url = target.url ?? "";
    await waitForReplica(url);
    const primaryCpu = await serverCpuMs(url);
    const replicaCpu = await serverCpuMs(onReplica(url));
    const headers = bearer(await tokenFor(target, "reader-1"));
    const getPath = `/iam/workspaces/${workspaceId(10)}`;

    const run = async (env: Record<string, string>) => {
      const service = await serveService(target, env);
      try {
        const get = await measure(`${service.baseUrl}${getPath}`, headers, service.child.pid ?? 0, primaryCpu, replicaCpu);
        const list = await measure(`${service.baseUrl}/iam/workspaces`, headers, service.child.pid ?? 0, primaryCpu, replicaCpu);
        return { get, list, share: await readShare(service.baseUrl) };
      } finally {
        await service.stop();
      }
    };
    const off = await run({});
    const on = await run({ KARTOGRAPH_DB_READ_URL: onReplica(url) });

    // The fence under writes: the same gets while another client creates workspaces back to back.
    const service = await serveService(target, { KARTOGRAPH_DB_READ_URL: onReplica(url) });
    let writing = true;
    let writes = 0;
    const writer = (async () => {
      while (writing) {
        const response = await fetch(`${service.baseUrl}/iam/workspaces`, {
          method: "POST",
          headers: { ...bearer(await tokenFor(target, "reader-1")), "content-type": "application/json" },
          body: JSON.stringify({ name: `w-${writes++}`, parent_workspace_id: ROOT_WORKSPACE_ID }),
        });
        await response.arrayBuffer();
      }
    })();
    let underWrites: Measured;
    let shareUnderWrites: Awaited<ReturnType<typeof readShare>>;
    try {
      const before = await readShare(service.baseUrl);
      underWrites = await measure(`${service.baseUrl}${getPath}`, headers, service.child.pid ?? 0, primaryCpu, replicaCpu);
      const after = await readShare(service.baseUrl);
      shareUnderWrites = { replica: after.replica - before.replica, total: after.total - before.total, fenceMeanMs: after.fenceMeanMs };
    } finally {
      writing = false;
      await writer;
      await service.stop();
    }

    const percent = (share: { replica: number; total: number }) => (share.total === 0 ? 0 : (100 * share.replica) / share.total);
    const note = (m: Measured) => `${CONNECTIONS} connections, ${SECONDS} s; p50 ${m.figures.p50Ms} ms, p99 ${m.figures.p99Ms} ms; service CPU ${Math.round(m.figures.serverCpuUsPerRequest)} µs/request; replica server CPU ${Math.round(m.replicaCpuUs)} µs/request`;
    const unset = (label: string, value: number, baseline: number, unit: string, noteText: string): BenchResult => ({
      metric: label,
      value,
      unit,
      baseline: { label: "KARTOGRAPH_DB_READ_URL unset", value: baseline },
      note: noteText,
    });
    const serviceCpuUnset = (m: Measured) => `; unset: service CPU ${Math.round(m.figures.serverCpuUsPerRequest)} µs/request`;
    return [
      unset("GET /iam/workspaces/{id} throughput, reads on the replica", on.get.figures.requestsPerSecond, off.get.figures.requestsPerSecond, "req/s", note(on.get) + serviceCpuUnset(off.get)),
      unset("primary PostgreSQL CPU per GET /iam/workspaces/{id}, reads on the replica", on.get.primaryCpuUs, off.get.primaryCpuUs, "µs", "all processes of the primary server; what stays is the revision-and-fence read"),
      unset("GET /iam/workspaces throughput (100 visible), reads on the replica", on.list.figures.requestsPerSecond, off.list.figures.requestsPerSecond, "req/s", note(on.list) + serviceCpuUnset(off.list)),
      unset("primary PostgreSQL CPU per GET /iam/workspaces, reads on the replica", on.list.primaryCpuUs, off.list.primaryCpuUs, "µs", ""),
      {
        metric: "share of read-database queries the replica served, reads only",
        value: percent(on.share),
        unit: "%",
        note: `${on.share.replica} of ${on.share.total}; fence wait mean ${on.share.fenceMeanMs.toFixed(3)} ms`,
      },
      {
        metric: "share the replica served, with a writer creating workspaces meanwhile",
        value: percent(shareUnderWrites),
        unit: "%",
        note: `${shareUnderWrites.replica} of ${shareUnderWrites.total}; ${writes} writes; fence wait mean ${shareUnderWrites.fenceMeanMs.toFixed(3)} ms (all requests so far)`,
      },
      {
        metric: "GET /iam/workspaces/{id} p50 with a writer, reads on the replica",
        value: underWrites.figures.p50Ms,
        unit: "ms",
        baseline: { label: "no writer, replica", value: on.get.figures.p50Ms },
        note: `${Math.round(underWrites.figures.requestsPerSecond)} req/s; p99 ${underWrites.figures.p99Ms} ms`,
      },
    ];
  } finally {
    await target.dispose();
  }
}

export const scenarios: BenchScenario[] = [{ name: "replica-reads-postgres", run: replicaReads }];

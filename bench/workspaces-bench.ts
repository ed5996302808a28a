/**
 * Workspaces over HTTP (issue 5), on the embedded default (PGlite + in-process SpiceDB) and, when
 * KARTOGRAPH_BENCH_DB_URL names a PostgreSQL server, on a fresh database there (SpiceDB stays
 * embedded, loaded from the tables at start):
 *
 * and, when KARTOGRAPH_BENCH_SPICEDB_BINARY names a SpiceDB binary as well, on PostgreSQL with a
 * SpiceDB server on its PostgreSQL datastore (the deployed topology):
 *
 * - GET /iam/workspaces/{id} by a member at 50 connections, next to a bare Fastify route doing one
 *   primary-key SELECT on the same database;
 * - GET /iam/workspaces for a member who can view 1,000 of 10,000 workspaces, then of 100,000;
 * - POST /iam/workspaces at 8 connections next to pgbench's single-row INSERT rate (server only);
 * - 1,000 create-then-get sequences by the creator, counting any answer but 201/200 (with a
 *   SpiceDB server: the create on one service process, the get on another).
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import { sql } from "drizzle-orm";
import { load, median, percentile, type BenchResult, type BenchScenario, type LoadFigures } from "./bench-kit.js";
import {
  bearer,
  benchServerUrl,
  canBenchRemote,
  createTarget,
  ROOT_WORKSPACE_ID,
  seed,
  seedDefaultTenant,
  seedTenantMembers,
  seedWorkspaceGrants,
  seedWorkspaces,
  sequentialGets,
  serveSelectBaseline,
  serveService,
  tokenFor,
  workspaceId,
  type BenchTarget,
  type DatabaseKind,
} from "./iam-bench-support.js";

const LABEL: Record<DatabaseKind, string> = {
  pglite: "embedded (PGlite)",
  postgres: "PostgreSQL server",
  remote: "PostgreSQL + SpiceDB server",
};
const failures = (figures: LoadFigures) => (figures.non2xx + figures.errors > 0 ? `; ${figures.non2xx} non-2xx, ${figures.errors} errors` : "");

async function withTarget<T>(kind: DatabaseKind, work: (target: BenchTarget) => Promise<T>): Promise<T> {
  const target = await createTarget(kind);
  try {
    return await work(target);
  } finally {
    await target.dispose();
  }
}

// ---------------------------------------------------------------- GET /iam/workspaces/{id}

const GET_CONNECTIONS = 50;
const GET_SECONDS = 5;

async function getById(kind: DatabaseKind): Promise<BenchResult[]> {
  return withTarget(kind, async (target) => {
    const target10 = workspaceId(10);
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "reader-", 1, "member");
      await seedWorkspaces(db, 1, 1_000);
      await seedWorkspaceGrants(db, "reader-1", 100, 10, "member");
    });

    const baselineServer = await serveSelectBaseline(target);
    let baseline: LoadFigures;
    try {
      baseline = await load(`${baselineServer.baseUrl}/workspaces/${target10}`, { connections: GET_CONNECTIONS, seconds: GET_SECONDS });
    } finally {
      await baselineServer.stop();
    }

    const service = await serveService(target);
    let figures: LoadFigures;
    try {
      const headers = bearer(await tokenFor(target, "reader-1"));
      const first = await fetch(`${service.baseUrl}/iam/workspaces/${target10}`, { headers });
      if (first.status !== 200) throw new Error(`GET /iam/workspaces/{id} answered ${first.status}: ${await first.text()}`);
      figures = await load(`${service.baseUrl}/iam/workspaces/${target10}`, { connections: GET_CONNECTIONS, seconds: GET_SECONDS, headers });
    } finally {
      await service.stop();
    }
    const label = LABEL[kind];
    return [
      {
        metric: `GET /iam/workspaces/{id} throughput, ${label}`,
        value: figures.requestsPerSecond,
        unit: "req/s",
        baseline: { label: "bare Fastify + PK SELECT", value: baseline.requestsPerSecond },
        note: `goal ≥ 0.5x; ${GET_CONNECTIONS} connections, ${GET_SECONDS} s${failures(figures)}${failures(baseline)}`,
      },
      {
        metric: `GET /iam/workspaces/{id} p99, ${label}`,
        value: figures.p99Ms,
        unit: "ms",
        baseline: { label: "bare Fastify + PK SELECT", value: baseline.p99Ms },
        note: `goal < 25 ms; p50 ${figures.p50Ms} ms`,
      },
    ];
  });
}

// ---------------------------------------------------------------- GET /iam/workspaces

const VISIBLE = 1_000;
const LIST_SAMPLES = 40;
const COLD_SAMPLES = 15;

interface ListFigures {
  readonly warmP50: number;
  readonly coldP50: number;
  readonly count: number;
  readonly readyMs: number;
}

/**
 * Warm: repeated lists (the LookupResources answer is cached at the current revision). Cold: each
 * list right after another user's write, which moves the revision and so empties the cache.
 */
async function measureList(target: BenchTarget, round: number): Promise<ListFigures> {
  const service = await serveService(target);
  try {
    const url = `${service.baseUrl}/iam/workspaces`;
    const viewer = bearer(await tokenFor(target, "viewer-1"));
    const writer = { ...bearer(await tokenFor(target, "writer-1")), "content-type": "application/json" };
    const first = await fetch(url, { headers: viewer });
    if (first.status !== 200) throw new Error(`GET /iam/workspaces answered ${first.status}: ${await first.text()}`);
    const count = ((await first.json()) as { workspaces: unknown[] }).workspaces.length;
    const warm = await sequentialGets(url, viewer, LIST_SAMPLES);
    const cold: number[] = [];
    for (let i = 0; i < COLD_SAMPLES; i++) {
      const created = await fetch(`${service.baseUrl}/iam/workspaces`, {
        method: "POST",
        headers: writer,
        body: JSON.stringify({ name: `cold-${round}-${i}`, parent_workspace_id: ROOT_WORKSPACE_ID }),
      });
      if (created.status !== 201) throw new Error(`POST /iam/workspaces answered ${created.status}: ${await created.text()}`);
      cold.push(...(await sequentialGets(url, viewer, 1, 0)).latencies);
    }
    return { warmP50: median(warm.latencies), coldP50: median(cold), count, readyMs: service.readyMs };
  } finally {
    await service.stop();
  }
}

async function list(kind: DatabaseKind): Promise<BenchResult[]> {
  return withTarget(kind, async (target) => {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "viewer-", 1, "member");
      await seedTenantMembers(db, "writer-", 1, "member");
      await seedWorkspaces(db, 1, 10_000);
      // Spread over the whole range: workspaces 10, 20, ..., 10,000.
      await seedWorkspaceGrants(db, "viewer-1", VISIBLE, 10, "member");
    });
    const small = await measureList(target, 1);
    await seed(target, (db) => seedWorkspaces(db, 10_001, 100_000));
    const large = await measureList(target, 2);
    const label = LABEL[kind];
    const growth = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(0)} %`;
    return [
      {
        metric: `GET /iam/workspaces p50, ${VISIBLE} of 10,000 visible, warm, ${label}`,
        value: small.warmP50,
        unit: "ms",
        note: `goal < 30 ms; ${small.count} returned; ${LIST_SAMPLES} sequential requests`,
      },
      {
        metric: `GET /iam/workspaces p50, ${VISIBLE} of 100,000 visible, warm, ${label}`,
        value: large.warmP50,
        unit: "ms",
        baseline: { label: "10,000 workspaces", value: small.warmP50 },
        note: `goal growth ≤ 30 %: ${growth(small.warmP50, large.warmP50)}; ${large.count} returned`,
      },
      {
        metric: `GET /iam/workspaces p50, ${VISIBLE} of 10,000 visible, after a write, ${label}`,
        value: small.coldP50,
        unit: "ms",
        note: `LookupResources not cached; ${COLD_SAMPLES} samples`,
      },
      {
        metric: `GET /iam/workspaces p50, ${VISIBLE} of 100,000 visible, after a write, ${label}`,
        value: large.coldP50,
        unit: "ms",
        baseline: { label: "10,000 workspaces", value: small.coldP50 },
        note: `growth ${growth(small.coldP50, large.coldP50)}; service ready in ${(large.readyMs / 1000).toFixed(1)} s (10,000: ${(small.readyMs / 1000).toFixed(1)} s)`,
      },
    ];
  });
}

// ---------------------------------------------------------------- POST /iam/workspaces

const CREATE_CONNECTIONS = 8;
const CREATE_SECONDS = 5;

/** POST /iam/workspaces under the root, each with a new name, from `connections` connections. */
export async function postLoad(
  baseUrl: string,
  token: string,
  tag: string,
  seconds: number,
  connections = CREATE_CONNECTIONS,
): Promise<autocannon.Result> {
  let next = 0;
  return autocannon({
    url: `${baseUrl}/iam/workspaces`,
    connections,
    duration: seconds,
    requests: [
      {
        method: "POST",
        headers: { ...bearer(token), "content-type": "application/json" },
        // A unique name per request: a duplicate would be a 409, not a create.
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ name: `${tag}-${next++}`, parent_workspace_id: ROOT_WORKSPACE_ID }),
        }),
      },
    ],
  });
}

function pgbenchPath(): string {
  for (const root of ["/usr/lib/postgresql"]) {
    if (!existsSync(root)) continue;
    for (const version of readdirSync(root).sort().reverse()) {
      const candidate = join(root, version, "bin", "pgbench");
      if (existsSync(candidate)) return candidate;
    }
  }
  return "pgbench";
}

/** pgbench's single-row INSERT rate (tps, excluding connection time) at 8 clients on the target's database. */
async function pgbenchInsertRate(target: BenchTarget): Promise<number> {
  await seed(target, async (db) => {
    await db.execute(
      sql`CREATE TABLE bench_insert_scratch (id bigserial PRIMARY KEY, name varchar(512) NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    );
  });
  const script = join(target.dataDir, "insert.sql");
  writeFileSync(script, "INSERT INTO bench_insert_scratch (name) VALUES ('w-' || random());\n");
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(pgbenchPath(), ["-n", "-c", String(CREATE_CONNECTIONS), "-j", "2", "-T", String(CREATE_SECONDS), "-f", script, target.url ?? ""], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`pgbench exited with ${code}: ${text.trim()}`))));
  });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(output)?.[1];
  if (tps === undefined) throw new Error(`cannot read pgbench's tps from: ${output.trim()}`);
  return Number(tps);
}

async function create(kind: "postgres" | "remote"): Promise<BenchResult[]> {
  return withTarget(kind, async (target) => {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "creator-", 1, "member");
    });
    const service = await serveService(target);
    let result: autocannon.Result;
    try {
      const token = await tokenFor(target, "creator-1");
      await postLoad(service.baseUrl, token, "warmup", 1);
      result = await postLoad(service.baseUrl, token, "measured", CREATE_SECONDS);
    } finally {
      await service.stop();
    }
    const pgbench = await pgbenchInsertRate(target);
    const statuses = Object.entries(result.statusCodeStats ?? {})
      .map(([status, stat]) => `${stat.count ?? 0}×${status}`)
      .join(", ");
    return [
      {
        metric: `POST /iam/workspaces throughput, ${LABEL[kind]}`,
        value: result.requests.average,
        unit: "req/s",
        baseline: { label: "pgbench 1-row INSERT, 8 clients", value: pgbench },
        note: `goal ≥ 0.1x; ${CREATE_CONNECTIONS} connections, ${CREATE_SECONDS} s; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; ${statuses}${result.errors ? `; ${result.errors} errors` : ""}`,
      },
    ];
  });
}

// ---------------------------------------------------------------- create, then get at once

const SEQUENCES = 1_000;
const CREATORS = 8;

async function createThenGet(kind: DatabaseKind): Promise<BenchResult[]> {
  return withTarget(kind, async (target) => {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "creator-", CREATORS, "member");
    });
    const service = await serveService(target);
    // With a SpiceDB server, reads go to a second process: nothing but the database and SpiceDB is shared.
    const reader = kind === "remote" ? await serveService(target).catch(async (error: unknown) => {
      await service.stop();
      throw error;
    }) : service;
    const statuses = new Map<string, number>();
    const sequenceMs: number[] = [];
    let unexpected = 0;
    try {
      const count = (what: string) => statuses.set(what, (statuses.get(what) ?? 0) + 1);
      // Each creator runs its share of the sequences one after another; the creators run together.
      await Promise.all(
        Array.from({ length: CREATORS }, async (_, c) => {
          const token = await tokenFor(target, `creator-${c + 1}`);
          const headers = { ...bearer(token), "content-type": "application/json" };
          for (let i = c; i < SEQUENCES; i += CREATORS) {
            const start = performance.now();
            const created = await fetch(`${service.baseUrl}/iam/workspaces`, {
              method: "POST",
              headers,
              body: JSON.stringify({ name: `ryw-${i}`, parent_workspace_id: ROOT_WORKSPACE_ID }),
            });
            count(`POST ${created.status}`);
            if (created.status !== 201) {
              unexpected++;
              await created.arrayBuffer();
              continue;
            }
            const { id } = (await created.json()) as { id: string };
            const read = await fetch(`${reader.baseUrl}/iam/workspaces/${id}`, { headers: bearer(token) });
            await read.arrayBuffer();
            count(`GET ${read.status}`);
            if (read.status !== 200) unexpected++;
            sequenceMs.push(performance.now() - start);
          }
        }),
      );
    } finally {
      await Promise.all([service.stop(), reader === service ? null : reader.stop()]);
    }
    return [
      {
        metric: `create then get at once${reader === service ? "" : ", get on another process"}, answers other than 201/200, ${LABEL[kind]}`,
        value: unexpected,
        unit: "responses",
        note: `goal 0; ${SEQUENCES} sequences by ${CREATORS} creators in parallel; ${[...statuses.entries()].map(([s, n]) => `${n}×${s}`).join(", ")}; sequence p50 ${median(sequenceMs).toFixed(1)} ms, p99 ${percentile(sequenceMs, 99).toFixed(1)} ms`,
      },
    ];
  });
}

const serverScenarios: BenchScenario[] =
  benchServerUrl() === null
    ? []
    : [
        { name: "workspaces-get-postgres", run: () => getById("postgres") },
        { name: "workspaces-list-postgres", run: () => list("postgres") },
        { name: "workspaces-create-postgres", run: () => create("postgres") },
        { name: "workspaces-create-get-postgres", run: () => createThenGet("postgres") },
      ];

/** The deployed topology: PostgreSQL and a SpiceDB server on its PostgreSQL datastore. */
const remoteScenarios: BenchScenario[] = !canBenchRemote()
  ? []
  : [
      { name: "workspaces-get-spicedb-server", run: () => getById("remote") },
      { name: "workspaces-list-spicedb-server", run: () => list("remote") },
      { name: "workspaces-create-spicedb-server", run: () => create("remote") },
      { name: "workspaces-create-get-spicedb-server", run: () => createThenGet("remote") },
    ];

export const scenarios: BenchScenario[] = [
  { name: "workspaces-get-embedded", run: () => getById("pglite") },
  { name: "workspaces-list-embedded", run: () => list("pglite") },
  { name: "workspaces-create-get-embedded", run: () => createThenGet("pglite") },
  ...serverScenarios,
  ...remoteScenarios,
];

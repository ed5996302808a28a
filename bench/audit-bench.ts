/**
 * The audit log (issue 18), on the embedded default and, when KARTOGRAPH_BENCH_DB_URL names a
 * PostgreSQL server, on a fresh database there:
 *
 * - POST /iam/workspaces throughput with audit recording, against the same service with it off
 *   (blocks alternated on/off, off/on, ...), as the median of each round's on/off ratio: the two
 *   blocks of a round are next to each other, so the machine's drift cancels;
 * - GET /iam/audit-events?limit=50 on a tenant with 1,000,000 events: the first page and a page
 *   10,000 events deep (keyset, so both should cost the same);
 * - `kartograph-iam audit export` of those events: events/s and the process's peak RSS above
 *   the same command exporting nothing;
 * - sealing throughput of 100,000 unsealed events.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { createService, type ServiceOptions } from "../src/app.js";
import { AuditSealer } from "../src/platform/audit/audit-sealer.js";
import { readSealingBacklog } from "../src/platform/audit/audit-store.js";
import { loadConfig } from "../src/platform/config/config.js";
import { queryRows } from "../src/platform/database/database.js";
import { createLogger } from "../src/platform/logging/logger.js";
import { CLI_PATH, median, type BenchResult, type BenchScenario } from "./bench-kit.js";
import { bearer, benchServerUrl, createTarget, seed, seedDefaultTenant, seedTenantMembers, TENANT_ID, tokenFor, type BenchTarget, type DatabaseKind } from "./iam-bench-support.js";
import { postLoad } from "./workspaces-bench.js";

const LABEL: Record<DatabaseKind, string> = { pglite: "embedded (PGlite)", postgres: "PostgreSQL server", remote: "PostgreSQL + SpiceDB server" };
const MILLION = 1_000_000;

async function withTarget<T>(kind: DatabaseKind, work: (target: BenchTarget) => Promise<T>): Promise<T> {
  const target = await createTarget(kind);
  try {
    return await work(target);
  } finally {
    await target.dispose();
  }
}

/** An in-process service on the target, listening on a free port. */
async function serveInProcess(target: BenchTarget, options: ServiceOptions = {}) {
  const config = loadConfig({ ...target.env, PORT: "0" });
  const service = await createService(config, createLogger("warn", { pretty: false }), options);
  const baseUrl = await service.server.listen({ host: "127.0.0.1", port: 0 }).catch(async (error: unknown) => {
    await service.close();
    throw error;
  });
  return { baseUrl, service, close: () => service.close() };
}

const ROUNDS = 16;
const BLOCK_SECONDS = 3;

/**
 * POST /iam/workspaces throughput, audit recording on and off, in one warmed in-process service
 * whose recording is switched between blocks (on, off, off, on, ...). The first harness started a
 * service per run: the events an "on" run left unsealed when it stopped were sealed by the next
 * service, often an "off" one, and each start's warming weighed on its short run. Here an "on"
 * block is charged with the sealing of all its events (its time runs until the last is sealed),
 * so none spills into the next block. Blocks still differ by ±15 % whatever the mode; the
 * median of many paired ratios is what holds still.
 */
async function createThroughput(kind: DatabaseKind): Promise<BenchResult[]> {
  return withTarget(kind, async (target) => {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "creator-", 1, "member");
    });
    const token = await tokenFor(target, "creator-1");
    let recording = true;
    const { baseUrl, service, close } = await serveInProcess(target, { outbox: { recordAudit: () => recording } });
    const rates: Record<"on" | "off", number[]> = { on: [], off: [] };
    try {
      const block = async (mode: "on" | "off", tag: string): Promise<number> => {
        recording = mode === "on";
        const started = performance.now();
        const load = await postLoad(baseUrl, token, tag, BLOCK_SECONDS);
        // Until all its events are sealed: a background run holding a tenant's lock makes runOnce skip it.
        while (recording && (await readSealingBacklog(service.database.db)).unsealed > 0) {
          if ((await service.outbox.sealer.runOnce()) === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return load.requests.total / ((performance.now() - started) / 1000);
      };
      await block("on", "warm-on");
      await block("off", "warm-off");
      for (let round = 0; round < ROUNDS; round++) {
        // on, off, off, on: a drift over the run (warming, a neighbour's load) weighs on both alike.
        for (const mode of round % 2 === 0 ? (["on", "off"] as const) : (["off", "on"] as const)) {
          rates[mode].push(await block(mode, `run-${mode}-${round}`));
        }
      }
    } finally {
      await close();
    }
    // Each round's two blocks are next to each other in time: their ratio cancels the machine's drift.
    const paired = rates.on.map((on, round) => on / (rates.off[round] ?? Number.NaN));
    return [
      {
        metric: `POST /iam/workspaces throughput with the audit log, ${LABEL[kind]}`,
        value: median(rates.on),
        unit: "req/s",
        baseline: { label: "audit recording off, same service", value: median(rates.off) },
        note: `medians of ${ROUNDS} alternated ${BLOCK_SECONDS} s blocks each, "on" blocks until their events are sealed (on ${rates.on.map(Math.round).join("/")}, off ${rates.off.map(Math.round).join("/")})`,
      },
      {
        metric: `POST /iam/workspaces throughput, audit log on / off, ${LABEL[kind]}`,
        value: median(paired),
        unit: "x",
        note: `goal ≥ 0.9x; median of the ${ROUNDS} rounds' on/off ratios (${paired.map((ratio) => ratio.toFixed(2)).join(" ")})`,
      },
    ];
  });
}

/** A million events of the default tenant, sealed or queued, written in one statement per 100,000. */
async function seedEvents(target: BenchTarget, count: number, sealed: boolean): Promise<void> {
  await seed(target, async (db) => {
    for (let from = 1; from <= count; from += 100_000) {
      const to = Math.min(count, from + 99_999);
      const events = sql`INSERT INTO audit_events (id, tenant_id, occurred_at, action, actor_id, target_id, body)
            SELECT lpad(g::text, 26, '0'), ${TENANT_ID}, now() - make_interval(secs => ${count}::int - g),
                   CASE g % 3 WHEN 0 THEN 'workspace.member_added' WHEN 1 THEN 'group.created' ELSE 'api_key.created' END,
                   'user-' || (g % 50), 'target-' || (g % 1000),
                   jsonb_build_object('actor', jsonb_build_object('type', 'user', 'id', 'user-' || (g % 50), 'username', 'user-' || (g % 50)),
                                      'target', jsonb_build_object('type', 'workspace', 'id', 'target-' || (g % 1000), 'name', 'Research ' || (g % 1000)),
                                      'changes', jsonb_build_object('member', jsonb_build_object('type', 'user', 'id', 'bob'), 'role', jsonb_build_object('before', null, 'after', 'editor')),
                                      'context', jsonb_build_object('request_id', md5(g::text), 'ip', '203.0.113.7', 'user_agent', 'bench'))
            FROM generate_series(${from}::int, ${to}::int) g
            RETURNING sequence, tenant_id, occurred_at`;
      await queryRows(
        db,
        sealed
          ? sql`WITH written AS (${events}) INSERT INTO audit_seals (sequence, tenant_id, chain_position, hash)
                SELECT sequence, tenant_id, sequence, md5(sequence::text) || md5(sequence::text) FROM written`
          : sql`WITH written AS (${events}) INSERT INTO audit_unsealed (tenant_id, sequence, occurred_at)
                SELECT tenant_id, sequence, occurred_at FROM written`,
      );
    }
    await queryRows(db, sql`ANALYZE audit_events, audit_seals, audit_unsealed`);
  });
}

async function timedGets(url: string, token: string, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url, { headers: bearer(token) });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
    times.push(performance.now() - started);
  }
  return times;
}

/** Peak resident memory (VmHWM) of a CLI run, in MiB, and how long it took. */
async function cliPeak(target: BenchTarget, args: string[]): Promise<{ peakMiB: number; seconds: number; lines: number }> {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...process.env, ...target.env }, stdio: ["ignore", "pipe", "inherit"] });
  let peak = 0;
  let lines = 0;
  const sample = setInterval(() => {
    try {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1];
      if (hwm !== undefined) peak = Math.max(peak, Number(hwm) / 1024);
    } catch {
      // the process has gone
    }
  }, 50);
  child.stdout.on("data", (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 10) lines++;
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearInterval(sample);
  if (code !== 0) throw new Error(`kartograph-iam ${args.join(" ")} exited with ${code}`);
  return { peakMiB: peak, seconds: (performance.now() - started) / 1000, lines };
}

async function readAndExport(kind: DatabaseKind): Promise<BenchResult[]> {
  return withTarget(kind, async (target) => {
    await seed(target, async (db) => {
      await seedDefaultTenant(db);
      await seedTenantMembers(db, "auditor-", 1, "admin");
    });
    await seedEvents(target, MILLION, true);
    const token = await tokenFor(target, "auditor-1");
    const service = await serveInProcess(target);
    let first: number[];
    let deep: number[];
    try {
      const url = `${service.baseUrl}/iam/audit-events?limit=50`;
      await timedGets(url, token, 20);
      first = await timedGets(url, token, 200);
      // The cursor of the page that starts 10,000 events below the newest.
      const cursor = `a1.${Buffer.from(String(MILLION - 10_000)).toString("base64url")}`;
      deep = await timedGets(`${url}&cursor=${cursor}`, token, 200);
    } finally {
      await service.close();
    }
    const idle = await cliPeak(target, ["audit", "export", "--since", "2999-01-01"]);
    const exported = await cliPeak(target, ["audit", "export"]);
    return [
      { metric: `GET /iam/audit-events?limit=50, first page, 1M events, ${LABEL[kind]}`, value: median(first), unit: "ms", note: "goal: p50 < 20 ms; 200 sequential requests" },
      {
        metric: `GET /iam/audit-events?limit=50, 10,000 events deep, 1M events, ${LABEL[kind]}`,
        value: median(deep),
        unit: "ms",
        baseline: { label: "first page", value: median(first) },
        note: "goal: p50 < 20 ms, like the first page (keyset pagination)",
      },
      {
        metric: `audit export of 1M events, ${LABEL[kind]}`,
        value: exported.lines / exported.seconds,
        unit: "events/s",
        note: `${exported.lines} lines in ${exported.seconds.toFixed(1)} s, to a pipe`,
      },
      {
        metric: `audit export peak RSS above idle, ${LABEL[kind]}`,
        value: exported.peakMiB - idle.peakMiB,
        unit: "MiB",
        note: `goal < 150 MiB; peak ${exported.peakMiB.toFixed(0)} MiB, the same command exporting nothing ${idle.peakMiB.toFixed(0)} MiB`,
      },
    ];
  });
}

async function sealing(kind: DatabaseKind): Promise<BenchResult[]> {
  const count = 100_000;
  return withTarget(kind, async (target) => {
    await seed(target, async (db) => seedDefaultTenant(db));
    await seedEvents(target, count, false);
    const database = await target.open();
    try {
      const sealer = new AuditSealer(database.db, { sealed: () => undefined, purged: () => undefined, failed: () => undefined }, { retentionDays: 0 });
      const started = performance.now();
      const sealed = await sealer.runOnce();
      const seconds = (performance.now() - started) / 1000;
      return [{ metric: `audit sealing throughput, ${LABEL[kind]}`, value: sealed / seconds, unit: "events/s", note: `goal ≥ 5,000/s; ${sealed} events of one tenant in ${seconds.toFixed(1)} s` }];
    } finally {
      await database.close();
    }
  });
}

const kinds: DatabaseKind[] = benchServerUrl() === null ? ["pglite"] : ["pglite", "postgres"];
const suffix = (kind: DatabaseKind) => (kind === "pglite" ? "embedded" : "postgres");

export const scenarios: BenchScenario[] = kinds.flatMap((kind) => [
  { name: `audit-create-${suffix(kind)}`, run: () => createThroughput(kind) },
  { name: `audit-read-export-${suffix(kind)}`, run: () => readAndExport(kind) },
  { name: `audit-seal-${suffix(kind)}`, run: () => sealing(kind) },
]);

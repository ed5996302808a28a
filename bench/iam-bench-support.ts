/**
 * Shared set-up for the IAM benchmarks (workspaces, groups): a database to run against (a PGlite
 * data directory, or a fresh database on the PostgreSQL server named by KARTOGRAPH_BENCH_DB_URL,
 * dropped afterwards), optionally with a SpiceDB server of its own on a fresh PostgreSQL datastore
 * (the deployed topology; KARTOGRAPH_BENCH_SPICEDB_BINARY names the binary), SQL seeding of the
 * default tenant, development-issuer tokens, the served service, and the bare Fastify +
 * primary-key SELECT yardstick.
 *
 * Rows are seeded with SQL before the service starts: with the embedded SpiceDB the service loads
 * it from the tables at start, so rows alone give the permissions they imply; a SpiceDB server is
 * brought in line with the tables by `reconcile` after each seeding.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import pg from "pg";
import { loadConfig } from "../src/platform/config/config.js";
import { queryRows, type DatabaseHandle } from "../src/platform/database/database.js";
import { openDatabase } from "../src/platform/database/open-database.js";
import { DevelopmentIssuer } from "../src/iam/infrastructure/identity/development-issuer.js";
import { reconcile } from "../src/iam/infrastructure/reconciler.js";
import { startSpiceDb } from "../src/platform/spicedb/spicedb-engine.js";
import { migrateDatastore, startSpiceDbServer, type SpiceDbServer } from "../test/support/spicedb-server.js";
import { PACKAGE_ROOT, serve, type ServedProcess } from "./bench-kit.js";

export const BENCH_DB_URL_VARIABLE = "KARTOGRAPH_BENCH_DB_URL";

/** The PostgreSQL server to bench against, if the runner named one. */
export const benchServerUrl = (): string | null => process.env[BENCH_DB_URL_VARIABLE] || null;

/**
 * Standbys streaming from the bench's PostgreSQL server (scripts/dev-replica.sh makes one on the
 * same machine). Each replays every write the server makes: on a two-core machine that replay
 * shares the CPU with the server being measured, more so for the scenarios that write more (the
 * audit log). Null when no server is named or it cannot say.
 */
export async function streamingStandbys(): Promise<number | null> {
  const url = benchServerUrl();
  if (url === null) return null;
  try {
    const rows = await adminQuery<{ standbys: string }>(url, "SELECT count(*) AS standbys FROM pg_stat_replication");
    return Number(rows[0]?.standbys ?? 0);
  } catch {
    return null;
  }
}

export const BENCH_SPICEDB_BINARY_VARIABLE = "KARTOGRAPH_BENCH_SPICEDB_BINARY";
/** The SpiceDB binary for the deployed topology (`scripts/spicedb-binary.sh` prints it), if named. */
export const benchSpiceDbBinary = (): string | null => process.env[BENCH_SPICEDB_BINARY_VARIABLE] || null;
/** Whether the runner gave what the deployed topology needs: a PostgreSQL server and a SpiceDB binary. */
export const canBenchRemote = (): boolean => benchServerUrl() !== null && benchSpiceDbBinary() !== null;

/** IDs of the seeded default tenant and its root workspace (valid ULIDs, easy to recognise). */
export const TENANT_ID = "01JT0000000000000000000001";
export const ROOT_WORKSPACE_ID = "01JR0000000000000000000001";
/** Workspace g of the seeded tree (g ≥ 1), as produced by the SQL below. */
export const workspaceId = (g: number) => `01JW${String(g).padStart(22, "0")}`;
export const groupId = (g: number) => `01JG${String(g).padStart(22, "0")}`;
const WORKSPACE_ID_SQL = (g: string) => sql.raw(`'01JW' || lpad((${g})::text, 22, '0')`);
const GROUP_ID_SQL = (g: string) => sql.raw(`'01JG' || lpad((${g})::text, 22, '0')`);

/** pglite and postgres use the embedded SpiceDB; remote is PostgreSQL with a SpiceDB server on its PostgreSQL datastore. */
export type DatabaseKind = "pglite" | "postgres" | "remote";

export interface BenchTarget {
  readonly kind: DatabaseKind;
  /** Holds PGlite's files (embedded) and the development issuer's key (both kinds). */
  readonly dataDir: string;
  /** The fresh database's URL (postgres), else null. */
  readonly url: string | null;
  /** Environment for the served service. */
  readonly env: Record<string, string>;
  /** Opens the database, migrated. */
  open(): Promise<DatabaseHandle>;
  /** Brings a SpiceDB server in line with the tables (after seeding); nothing for the embedded engine. */
  syncSpiceDb(): Promise<void>;
  /** Removes the data directory, stops the SpiceDB server and drops the fresh databases. */
  dispose(): Promise<void>;
}

async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(url: string, statement: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(statement)).rows;
  } finally {
    await client.end();
  }
}

/** A fresh database on the bench's PostgreSQL server: its URL and how to drop it. */
async function freshDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const serverUrl = benchServerUrl();
  if (serverUrl === null) throw new Error(`${BENCH_DB_URL_VARIABLE} is not set`);
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  const parsed = new URL(serverUrl);
  parsed.pathname = `/${name}`;
  const drop = async () => {
    await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  return { url: parsed.toString(), drop };
}

/** A SpiceDB server on a fresh migrated PostgreSQL datastore, with the service's environment for it. */
async function startBenchSpiceDb(): Promise<{ server: SpiceDbServer; env: Record<string, string>; stop: () => Promise<void> }> {
  const binary = benchSpiceDbBinary();
  if (binary === null) throw new Error(`${BENCH_SPICEDB_BINARY_VARIABLE} is not set (scripts/spicedb-binary.sh prints it)`);
  const datastore = await freshDatabase("kiam_bench_sdb");
  const presharedKey = randomBytes(16).toString("hex");
  try {
    await migrateDatastore(binary, datastore.url);
    const server = await startSpiceDbServer({ binary, datastoreUrl: datastore.url, presharedKey });
    const env = { SPICEDB_ENDPOINT: server.endpoint, SPICEDB_PRESHARED_KEY: presharedKey, SPICEDB_USE_TLS: "false" };
    return { server, env, stop: async () => (await server.stop(), await datastore.drop()) };
  } catch (error) {
    await datastore.drop();
    throw error;
  }
}

export async function createTarget(kind: DatabaseKind): Promise<BenchTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), "kiam-bench-iam-"));
  const database = kind === "pglite" ? null : await freshDatabase("kiam_bench");
  const spicedb = kind === "remote" ? await startBenchSpiceDb() : null;
  const env: Record<string, string> = { KARTOGRAPH_DATA_DIR: dataDir, LOG_LEVEL: "warn", ...(spicedb?.env ?? {}) };
  if (database !== null) env["KARTOGRAPH_DB_URL"] = database.url;
  const open = () => openDatabase(loadConfig(env).database, { migrate: true });
  return {
    kind,
    dataDir,
    url: database?.url ?? null,
    env,
    open,
    async syncSpiceDb() {
      if (spicedb === null) return;
      const handle = await open();
      const engine = await startSpiceDb(loadConfig(env).spicedb);
      try {
        await reconcile(handle.db, engine.authorization, { dryRun: false });
      } finally {
        await engine.close();
        await handle.close();
      }
    },
    async dispose() {
      rmSync(dataDir, { recursive: true, force: true });
      await spicedb?.stop();
      await database?.drop();
    },
  };
}

/** Opens the target, runs `seed`, closes it (PGlite allows one process at a time). */
export async function seed(target: BenchTarget, work: (db: DatabaseHandle["db"]) => Promise<void>): Promise<void> {
  const database = await target.open();
  try {
    await work(database.db);
    // A tenant that grew to this size over time has planner statistics (autovacuum, or the
    // embedded maintenance); rows bulk-inserted a second before the measurement do not, and the
    // planner would then scan the whole tenant to find 1,000 ids.
    await queryRows(database.db, sql`ANALYZE`);
  } finally {
    await database.close();
  }
  await target.syncSpiceDb();
}

/** The single-tenant mode's default tenant ("default") and its root workspace, as the service would create them. */
export async function seedDefaultTenant(db: DatabaseHandle["db"]): Promise<void> {
  await queryRows(db, sql`INSERT INTO tenants (id, name) VALUES (${TENANT_ID}, 'default')`);
  await queryRows(db, sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES (${ROOT_WORKSPACE_ID}, ${TENANT_ID}, 'default', true)`);
}

/** Users `<prefix>1..<prefix>count` (id = username), members of the default tenant with `role`. */
export async function seedTenantMembers(db: DatabaseHandle["db"], prefix: string, count: number, role: "admin" | "member"): Promise<void> {
  await queryRows(db, sql`INSERT INTO users (id, username) SELECT ${prefix} || g, ${prefix} || g FROM generate_series(1, ${count}::int) g`);
  await queryRows(
    db,
    sql`INSERT INTO tenant_members (tenant_id, user_id, role) SELECT ${TENANT_ID}, ${prefix} || g, ${role} FROM generate_series(1, ${count}::int) g`,
  );
}

/** Workspaces `from..to` of the default tenant, children of the root, named `ws-<g>`. */
export async function seedWorkspaces(db: DatabaseHandle["db"], from: number, to: number): Promise<void> {
  await queryRows(
    db,
    sql`INSERT INTO workspaces (id, tenant_id, name, parent_workspace_id)
        SELECT ${WORKSPACE_ID_SQL("g")}, ${TENANT_ID}, 'ws-' || g, ${ROOT_WORKSPACE_ID}
        FROM generate_series(${from}::int, ${to}::int) g`,
  );
}

/** `userId` gets `role` on workspaces step, 2·step, ..., count·step. */
export async function seedWorkspaceGrants(db: DatabaseHandle["db"], userId: string, count: number, step: number, role: string): Promise<void> {
  await queryRows(
    db,
    sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role)
        SELECT ${WORKSPACE_ID_SQL(`k * ${step}`)}, 'user', ${userId}, ${role} FROM generate_series(1, ${count}::int) k`,
  );
}

/**
 * `groups` groups of the default tenant with `membersPerGroup` members each, drawn round-robin
 * from users `<prefix>1..<prefix>users` (so each user is in groups·members/users groups).
 */
export async function seedGroups(
  db: DatabaseHandle["db"],
  options: { groups: number; membersPerGroup: number; userPrefix: string; users: number },
): Promise<void> {
  const { groups, membersPerGroup, userPrefix, users } = options;
  await queryRows(
    db,
    sql`INSERT INTO groups (id, tenant_id, name) SELECT ${GROUP_ID_SQL("g")}, ${TENANT_ID}, 'group-' || g FROM generate_series(1, ${groups}::int) g`,
  );
  await queryRows(
    db,
    sql`INSERT INTO group_members (group_id, user_id, role)
        SELECT ${GROUP_ID_SQL("g")}, ${userPrefix} || (((g - 1) * ${membersPerGroup}::int + m - 1) % ${users}::int + 1),
               CASE WHEN m = 1 THEN 'admin' ELSE 'member' END
        FROM generate_series(1, ${groups}::int) g, generate_series(1, ${membersPerGroup}::int) m`,
  );
}

/** A development-issuer access token for `username` (subject = username), as `kartograph-iam token` prints. */
export async function tokenFor(target: BenchTarget, username: string): Promise<string> {
  const issuer = await DevelopmentIssuer.open(target.dataDir);
  return issuer.sign({ subject: username, username, audience: loadConfig(target.env).oidc.audience, ttlSeconds: 3600 });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function serveService(target: BenchTarget, env: Record<string, string> = {}): Promise<ServedProcess> {
  return serve({ env: { ...target.env, ...env } });
}

/**
 * The yardstick for single-workspace reads: a bare Fastify route doing one primary-key SELECT of
 * a workspace row on the same database (PGlite in the same data directory, or a pg pool of the
 * service's default size on the same server). No authentication, no authorization, no ORM.
 */
export function serveSelectBaseline(target: BenchTarget): Promise<ServedProcess> {
  const env: Record<string, string> = target.url === null ? { BASELINE_PGLITE_DIR: join(target.dataDir, "pgdata") } : { BASELINE_DB_URL: target.url };
  return serve({ env, args: [join(PACKAGE_ROOT, "dist", "bench", "select-baseline-server.js")] });
}

/** Sequential GETs after `warmup` unmeasured ones; every status seen is counted. */
export async function sequentialGets(
  url: string,
  headers: Record<string, string>,
  count: number,
  warmup = 3,
): Promise<{ latencies: number[]; statuses: Map<number, number> }> {
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  for (let i = 0; i < warmup + count; i++) {
    const start = performance.now();
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
    const ms = performance.now() - start;
    if (i >= warmup) latencies.push(ms);
    statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
  }
  return { latencies, statuses };
}

export function statusSummary(statuses: Map<number, number>): string {
  return [...statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${count}×${status}`)
    .join(", ");
}

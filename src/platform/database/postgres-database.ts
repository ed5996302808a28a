import pg from "pg";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import { join } from "node:path";
import type { DatabaseConfig, SslMode } from "../config/config.js";
import type { AppDatabase, DatabaseHandle } from "./database.js";
import { PipelinedClient } from "./pipelined-client.js";
import { schema } from "./schema.js";
import { countAppliedMigrations } from "./migration-count.js";
import { packageRoot } from "../runtime/package-root.js";
import { openReadReplica } from "./replica/read-replica.js";

/** Arbitrary but fixed: several instances starting together migrate one at a time. */
const MIGRATION_LOCK_KEY = 7_340_251_001;
/** A server that does not answer (blackholed address) must fail start-up, not hang it. */
const CONNECT_TIMEOUT_MS = 5_000;

function sslOption(mode: SslMode): pg.PoolConfig["ssl"] {
  switch (mode) {
    case "disable":
    case "allow":
    case "prefer":
      // node-postgres cannot fall back from TLS to plaintext; "prefer" connects in plaintext as
      // libpq does when the server offers no TLS.
      return undefined;
    case "require":
      return { rejectUnauthorized: false };
    case "verify-ca":
    case "verify-full":
      return { rejectUnauthorized: true };
  }
}

/**
 * A replica that stops answering must cost a read little: connecting and each query are bounded,
 * and the read runs again on the primary (replica/read-routing-pool.ts).
 */
const REPLICA_TIMEOUTS = { connectionTimeoutMillis: 1_000, query_timeout: 5_000 };

function pool(connectionString: string, config: DatabaseConfig, role: string, overrides: pg.PoolConfig = {}): pg.Pool {
  const created = new pg.Pool({
    // Pipelining: statements issued together share a round trip (see pipelined-client.ts).
    Client: PipelinedClient as unknown as pg.PoolConfig["Client"],
    connectionString,
    max: config.poolMax,
    ssl: sslOption(config.sslMode),
    application_name: `kartograph-iam:${role}`,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    idleTimeoutMillis: 30_000,
    ...overrides,
  });
  // A connection that dies while idle (server restart) must not crash the process; the pool
  // replaces it on the next checkout.
  created.on("error", () => undefined);
  return created;
}

export interface PostgresOptions {
  /** How long a read waits for the replica to reach its fence (default 50 ms). */
  readonly fenceTimeoutMs?: number;
}

export async function openPostgres(config: DatabaseConfig & { url: string }, options: PostgresOptions = {}): Promise<DatabaseHandle> {
  const writePool = pool(config.url, config, "write");
  const db = drizzle({ client: writePool, schema }) as unknown as AppDatabase;
  const { replica, notice } = await openReplicaReads(config, writePool, options);
  const readDb = replica === null ? db : (drizzle({ client: replica.routing, schema }) as unknown as AppDatabase);
  const listeners: pg.Client[] = [];
  return {
    kind: "postgres",
    db,
    readDb,
    replica,
    notices: notice === null ? [] : [notice],
    async listen(channel, onNotify) {
      // LISTEN needs a dedicated session; one per subscription keeps reconnect logic local.
      const client = await connectedClient(config);
      client.on("notification", (message) => {
        if (message.channel === channel) onNotify(message.payload ?? "");
      });
      await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      listeners.push(client);
      return async () => {
        listeners.splice(listeners.indexOf(client), 1);
        await client.end().catch(() => undefined);
      };
    },
    async ping() {
      await writePool.query("SELECT 1");
    },
    async close() {
      await Promise.all(listeners.map((client) => client.end().catch(() => undefined)));
      await replica?.close();
      await writePool.end();
    },
  };
}

async function openReplicaReads(config: DatabaseConfig & { url: string }, writePool: pg.Pool, options: PostgresOptions) {
  if (config.readUrl === null) return { replica: null, notice: null };
  const replicaPool = pool(config.readUrl, config, "read", REPLICA_TIMEOUTS);
  try {
    const opened = await openReadReplica(writePool, replicaPool, options);
    if (opened.replica === null) await replicaPool.end();
    return opened;
  } catch (error) {
    await replicaPool.end();
    await writePool.end();
    throw error;
  }
}

/** A session of its own (LISTEN, migrations); its errors surface on its queries, not as a crash. */
async function connectedClient(config: DatabaseConfig & { url: string }): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: config.url,
    ssl: sslOption(config.sslMode),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/**
 * Applies pending migrations under a session advisory lock, so concurrent starts are safe. Returns
 * how many it applied (counted under the lock: another process's migrations are not among them).
 */
export async function migratePostgres(config: DatabaseConfig & { url: string }): Promise<number> {
  const client = await connectedClient(config);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      const db = drizzle({ client });
      const before = await countAppliedMigrations(db);
      await migrate(db, { migrationsFolder: join(packageRoot(), "drizzle") });
      return (await countAppliedMigrations(db)) - before;
    } finally {
      // If the session died, the server has released the lock already; the migration's own error
      // is the one worth reporting.
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Takes the session-level advisory lock `name` on a connection of its own and holds it until
 * `release()` (or until that connection ends); `shared`, beside any other shared holders. Null when
 * another session holds it in a way that excludes this one.
 */
export async function trySessionLock(
  config: DatabaseConfig & { url: string },
  name: string,
  options: { readonly shared?: boolean } = {},
): Promise<{ release(): Promise<void> } | null> {
  const client = new pg.Client({
    connectionString: config.url,
    ssl: sslOption(config.sslMode),
    application_name: `kartograph-iam:${name}`,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const lock = options.shared === true ? "pg_try_advisory_lock_shared" : "pg_try_advisory_lock";
    const { rows } = await client.query<{ locked: boolean }>(`SELECT ${lock}(hashtextextended($1, 0)) AS locked`, [name]);
    if (rows[0]?.locked !== true) {
      await client.end();
      return null;
    }
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
  return { release: () => client.end().catch(() => undefined) };
}

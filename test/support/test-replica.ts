/**
 * The streaming replica of the test server (KARTOGRAPH_TEST_REPLICA_URL, made by
 * scripts/dev-replica.sh; CI sets it), for the replica suites. Databases the tests create on the
 * primary appear on the replica by replication; these helpers open a handle that reads there, and
 * pause, resume, stop and start the replica.
 *
 * Stopping needs the machine's cluster tools: KARTOGRAPH_TEST_REPLICA_CLUSTER names the cluster as
 * pg_ctlcluster does ("15 replica"); without it the stop test is skipped.
 */
import { execFileSync } from "node:child_process";
import pg from "pg";
import { openPostgres, type PostgresOptions } from "../../src/platform/database/postgres-database.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import type { TestDatabase } from "./test-database.js";

export const TEST_REPLICA_URL = process.env["KARTOGRAPH_TEST_REPLICA_URL"] || null;
const REPLICA_CLUSTER = process.env["KARTOGRAPH_TEST_REPLICA_CLUSTER"] || null;
/** The replica can be stopped and started by the tests. */
export const CAN_STOP_REPLICA = REPLICA_CLUSTER !== null;

/** The URL of the database `primaryUrl` names, on the replica. */
export function replicaUrlOf(primaryUrl: string): string {
  if (TEST_REPLICA_URL === null) throw new Error("KARTOGRAPH_TEST_REPLICA_URL is not set");
  const url = new URL(TEST_REPLICA_URL);
  url.pathname = new URL(primaryUrl).pathname;
  return url.toString();
}

/** Runs one statement on the replica, in the database of `primaryUrl` (default: the replica URL's own). */
export async function onReplica(statement: string, primaryUrl?: string): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: primaryUrl ? replicaUrlOf(primaryUrl) : (TEST_REPLICA_URL ?? "") });
  await client.connect();
  try {
    return (await client.query(statement)).rows;
  } finally {
    await client.end();
  }
}

/** Waits until the test database (created on the primary) has reached the replica. */
async function replicated(database: TestDatabase): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await onReplica("SELECT 1 FROM drizzle.__drizzle_migrations LIMIT 1", database.url ?? "");
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** A second handle on the test database whose reads go to the replica (as KARTOGRAPH_DB_READ_URL). */
export async function openWithReplica(database: TestDatabase, options: PostgresOptions & { readUrl?: string } = {}): Promise<DatabaseHandle> {
  if (database.url === null) throw new Error("a replica needs the PostgreSQL test database");
  await replicated(database);
  const readUrl = options.readUrl ?? replicaUrlOf(database.url);
  return openPostgres({ ...database.config, url: database.url, readUrl }, options);
}

export const pauseReplay = () => onReplica("SELECT pg_wal_replay_pause()");
export const resumeReplay = () => onReplica("SELECT pg_wal_replay_resume()");

function cluster(action: "stop" | "start"): void {
  const [version, name] = (REPLICA_CLUSTER ?? "").split(/\s+/);
  if (!version || !name) throw new Error(`KARTOGRAPH_TEST_REPLICA_CLUSTER must be "<version> <name>", got ${JSON.stringify(REPLICA_CLUSTER)}`);
  execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, name, action, ...(action === "stop" ? ["-m", "fast"] : [])], { stdio: "ignore" });
}

export const stopReplica = () => cluster("stop");
export const startReplica = () => cluster("start");

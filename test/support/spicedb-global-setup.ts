/**
 * Vitest global setup for the SpiceDB-server configuration (KARTOGRAPH_TEST_SPICEDB_BINARY set):
 * once per run, migrates one datastore on the PostgreSQL server that every test server's own
 * datastore is copied from (CREATE DATABASE ... TEMPLATE takes a fraction of a migration), and at
 * the end drops it with every datastore a test left behind (a fork that died before its
 * `afterAll`). A run that itself died leaves its datastores to the first run a day later. Without
 * the variable it does nothing.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { migrateDatastore } from "./spicedb-server.js";
import { TEST_SERVER_URL, onTestServer, testServerDatabaseUrl } from "./test-server-admin.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Name prefix of this run's SpiceDB datastores; `<prefix>_template` is the migrated one. */
    spicedbDatastorePrefix: string;
  }
}

let prefix: string | null = null;

const DAY_SECONDS = 86_400;
const now = () => Math.floor(Date.now() / 1000);

/** Drops the databases matching the SQL regular expression `pattern` that `drop` picks. */
async function dropDatastores(pattern: string, drop: (name: string) => boolean): Promise<void> {
  const rows = await onTestServer(`SELECT datname FROM pg_database WHERE datname ~ '${pattern}'`);
  for (const name of rows.map((row) => String(row["datname"])).filter(drop)) {
    await onTestServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

/** Datastores of runs that started over a day ago: no run lasts that long, so theirs died. */
const dropAbandoned = () =>
  dropDatastores("^kiam_sdb_[0-9]+_", (name) => Number(/^kiam_sdb_(\d+)_/.exec(name)?.[1]) < now() - DAY_SECONDS);

export async function setup(project: TestProject): Promise<void> {
  const binary = process.env["KARTOGRAPH_TEST_SPICEDB_BINARY"];
  if (!binary) return;
  if (TEST_SERVER_URL === null) {
    throw new Error("KARTOGRAPH_TEST_SPICEDB_BINARY needs KARTOGRAPH_TEST_DB_URL: the SpiceDB servers keep their datastores on that PostgreSQL server");
  }
  const version = execFileSync(binary, ["version", "--skip-release-check"], { encoding: "utf8" }).trim();
  await dropAbandoned();
  prefix = `kiam_sdb_${now()}_${randomBytes(3).toString("hex")}`;
  const template = `${prefix}_template`;
  await onTestServer(`CREATE DATABASE ${template}`);
  await migrateDatastore(binary, testServerDatabaseUrl(template));
  project.provide("spicedbDatastorePrefix", prefix);
  process.stdout.write(`SpiceDB servers: ${version} (${binary}), datastores ${prefix}_* copied from a migrated template\n`);
}

export async function teardown(): Promise<void> {
  if (prefix !== null) await dropDatastores(`^${prefix}_`, () => true);
}

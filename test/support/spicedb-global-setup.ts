/**
 * Vitest global setup for the SpiceDB-server configuration (KARTOGRAPH_TEST_SPICEDB_BINARY set):
 * once per run, migrates one datastore on the PostgreSQL server that every test server's own
 * datastore is copied from (CREATE DATABASE ... TEMPLATE takes a fraction of a migration), and at
 * the end drops it with every datastore a test left behind (a fork that died before its
 * `afterAll`). Without the variable it does nothing.
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

export async function setup(project: TestProject): Promise<void> {
  const binary = process.env["KARTOGRAPH_TEST_SPICEDB_BINARY"];
  if (!binary) return;
  if (TEST_SERVER_URL === null) {
    throw new Error("KARTOGRAPH_TEST_SPICEDB_BINARY needs KARTOGRAPH_TEST_DB_URL: the SpiceDB servers keep their datastores on that PostgreSQL server");
  }
  const version = execFileSync(binary, ["version", "--skip-release-check"], { encoding: "utf8" }).trim();
  prefix = `kiam_sdb_${randomBytes(4).toString("hex")}`;
  const template = `${prefix}_template`;
  await onTestServer(`CREATE DATABASE ${template}`);
  await migrateDatastore(binary, testServerDatabaseUrl(template));
  project.provide("spicedbDatastorePrefix", prefix);
  process.stdout.write(`SpiceDB servers: ${version} (${binary}), datastores ${prefix}_* copied from a migrated template\n`);
}

export async function teardown(): Promise<void> {
  if (prefix === null) return;
  const left = await onTestServer(`SELECT datname FROM pg_database WHERE datname LIKE '${prefix}\\_%'`);
  for (const { datname } of left) await onTestServer(`DROP DATABASE IF EXISTS ${String(datname)} WITH (FORCE)`);
}

/**
 * Real databases for tests: PGlite in memory always, and a fresh database on the PostgreSQL server
 * named by KARTOGRAPH_TEST_DB_URL when it is set (CI sets it). Suites iterate over
 * `TEST_DATABASE_KINDS` so that every database test runs against both.
 */
import { randomBytes } from "node:crypto";
import type { DatabaseConfig } from "../../src/platform/config/config.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import { migratePglite, openPglite } from "../../src/platform/database/pglite-database.js";
import { migratePostgres, openPostgres } from "../../src/platform/database/postgres-database.js";
import { TEST_SERVER_URL, onTestServer, testServerDatabaseUrl } from "./test-server-admin.js";

export type TestDatabaseKind = "pglite" | "postgres";

export const TEST_DATABASE_KINDS: readonly TestDatabaseKind[] = TEST_SERVER_URL ? ["pglite", "postgres"] : ["pglite"];

/** True when the PostgreSQL server is available (concurrency and crash tests need it). */
export const HAS_POSTGRES_SERVER = TEST_SERVER_URL !== null;

export interface TestDatabase {
  readonly kind: TestDatabaseKind;
  readonly handle: DatabaseHandle;
  /** Connection string of the database (postgres only), for tests that start more processes. */
  readonly url: string | null;
  /** A DatabaseConfig pointing at this database. */
  readonly config: DatabaseConfig;
  dispose(): Promise<void>;
}

export async function createTestDatabase(kind: TestDatabaseKind, options: { poolMax?: number } = {}): Promise<TestDatabase> {
  if (kind === "pglite") {
    const handle = await openPglite(null);
    await migratePglite(handle);
    return {
      kind,
      handle,
      url: null,
      config: { url: null, readUrl: null, poolMax: 1, sslMode: "disable", dataDir: "", pgliteCacheMb: 32 },
      dispose: () => handle.close(),
    };
  }
  const name = `kiam_test_${randomBytes(6).toString("hex")}`;
  await onTestServer(`CREATE DATABASE ${name}`);
  const url = testServerDatabaseUrl(name);
  const config: DatabaseConfig = { url, readUrl: null, poolMax: options.poolMax ?? 10, sslMode: "disable", dataDir: "", pgliteCacheMb: 32 };
  await migratePostgres({ ...config, url });
  const handle = await openPostgres({ ...config, url });
  return {
    kind,
    handle,
    url,
    config,
    async dispose() {
      await handle.close();
      await onTestServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

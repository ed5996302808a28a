import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseConfig } from "../../../src/platform/config/config.js";
import { queryRows, type DatabaseHandle } from "../../../src/platform/database/database.js";
import { appliedMigrationCount, openDatabase, shippedMigrationCount } from "../../../src/platform/database/open-database.js";
import { migratePglite, openPglite } from "../../../src/platform/database/pglite-database.js";
import { migratePostgres, openPostgres } from "../../../src/platform/database/postgres-database.js";
import { tenants } from "../../../src/platform/database/schema.js";
import { HAS_POSTGRES_SERVER, TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

const serverUrl = process.env["KARTOGRAPH_TEST_DB_URL"] ?? "";

async function migrationRows(handle: DatabaseHandle): Promise<number> {
  const rows = await queryRows<{ count: string | number }>(handle.db, sql`SELECT count(*) AS count FROM drizzle.__drizzle_migrations`);
  return Number(rows[0]?.count);
}

describe("migrations on PGlite in a data directory", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("apply on an empty directory, are not re-applied, and survive a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiam-migrate-"));
    dirs.push(dir);
    const first = await openPglite(dir);
    expect(await appliedMigrationCount(first)).toBe(0);
    await migratePglite(first);
    await migratePglite(first);
    expect(await migrationRows(first)).toBe(shippedMigrationCount());
    await first.close();

    const reopened = await openDatabase({ url: null, readUrl: null, poolMax: 1, sslMode: "disable", dataDir: dir, pgliteCacheMb: 32 }, { migrate: true });
    expect(await migrationRows(reopened)).toBe(shippedMigrationCount());
    await reopened.close();
  });

  it("are applied by openDatabase on a new directory whether or not a caller asks how many", async () => {
    for (const listening of [false, true]) {
      const dir = mkdtempSync(join(tmpdir(), "kiam-migrate-"));
      dirs.push(dir);
      const counts: number[] = [];
      const config: DatabaseConfig = { url: null, readUrl: null, poolMax: 1, sslMode: "disable", dataDir: dir, pgliteCacheMb: 32 };
      const opened = await openDatabase(config, listening ? { migrate: true, onMigrated: (applied) => counts.push(applied) } : { migrate: true });
      expect(await migrationRows(opened)).toBe(shippedMigrationCount());
      await opened.close();
      expect(counts).toEqual(listening ? [shippedMigrationCount()] : []);
    }
  });

  it("refuses a data directory that cannot be created, naming the variable", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kiam-migrate-"));
    dirs.push(dir);
    // A path below a regular file can never be a directory, whoever runs the test (even root).
    const blocked = join(dir, "file");
    writeFileSync(blocked, "x");
    await expect(openDatabase({ url: null, readUrl: null, poolMax: 1, sslMode: "disable", dataDir: join(blocked, "data"), pgliteCacheMb: 32 }, { migrate: true })).rejects.toMatchObject({
      name: "DataDirectoryError",
      message: expect.stringMatching(/^KARTOGRAPH_DATA_DIR .*file\/data is not a writable directory/),
    });
  });
});

describe.skipIf(!HAS_POSTGRES_SERVER)("migrations on a PostgreSQL server", () => {
  const name = `kiam_migrate_${randomBytes(6).toString("hex")}`;
  let config: DatabaseConfig & { url: string };

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    config = { url: url.toString(), readUrl: null, poolMax: 2, sslMode: "disable", dataDir: "", pgliteCacheMb: 32 };
  });
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it("four instances migrating a fresh database at once all succeed and apply each migration once", async () => {
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => migratePostgres(config)));
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    const handle = await openPostgres(config);
    try {
      expect(await migrationRows(handle)).toBe(shippedMigrationCount());
      const hashes = await queryRows<{ hash: string }>(handle.db, sql`SELECT hash FROM drizzle.__drizzle_migrations`);
      expect(new Set(hashes.map((row) => row.hash)).size).toBe(shippedMigrationCount());
      // The lock is released: nobody holds our advisory lock any more.
      const locks = await queryRows<{ count: string }>(
        handle.db,
        sql`SELECT count(*) AS count FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      );
      expect(Number(locks[0]?.count)).toBe(0);
    } finally {
      await handle.close();
    }
  });

  it("reports an unreachable server as a start error naming where it looked, without the password", async () => {
    await expect(
      openDatabase({ ...config, url: "postgresql://app:hunter2@127.0.0.1:1/iam" }, { migrate: true }),
    ).rejects.toMatchObject({
      name: "DatabaseStartError",
      message: expect.stringMatching(/^Cannot open the database \(PostgreSQL at 127\.0\.0\.1:1\/iam\): .*ECONNREFUSED/),
    });
    await expect(openDatabase({ ...config, url: "postgresql://app:hunter2@127.0.0.1:1/iam" }, { migrate: true })).rejects.not.toMatchObject({
      message: expect.stringContaining("hunter2"),
    });
  });
});

describe.each(TEST_DATABASE_KINDS)("timestamps on %s", (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase(kind, { poolMax: 1 });
  });
  afterAll(async () => {
    await database?.dispose();
  });

  it("are instants in UTC whatever the session time zone, and serialise as ISO-8601 with Z", async () => {
    // A session far from UTC: with a single connection the setting holds for the next statements.
    await queryRows(database.handle.db, sql`SET TIME ZONE 'Asia/Kolkata'`);
    const id = "01J0000000000000000000TS01";
    await database.handle.db.insert(tenants).values({ id, name: "tz", createdAt: new Date("2024-01-02T03:04:05.678Z") });
    const [row] = await database.handle.db.select().from(tenants).where(eq(tenants.id, id));
    expect(row?.createdAt).toBeInstanceOf(Date);
    expect(row?.createdAt.toISOString()).toBe("2024-01-02T03:04:05.678Z");
    expect(JSON.parse(JSON.stringify({ at: row?.createdAt }))).toEqual({ at: "2024-01-02T03:04:05.678Z" });

    const [defaulted] = await database.handle.db
      .insert(tenants)
      .values({ id: "01J0000000000000000000TS02", name: "tz-now" })
      .returning();
    expect(JSON.stringify(defaulted?.createdAt)).toMatch(/^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$/);
    expect(Math.abs((defaulted?.createdAt.getTime() ?? 0) - Date.now())).toBeLessThan(10 * 60_000);
  });
});

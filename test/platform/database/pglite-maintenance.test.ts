import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { queryRows, type DatabaseHandle } from "../../../src/platform/database/database.js";
import { maintainTables, MaintenanceSchedule, type MaintenanceRun } from "../../../src/platform/database/pglite-maintenance.js";
import { migratePglite, openPglite } from "../../../src/platform/database/pglite-database.js";

/** Makes the statistics of the last statements visible (PostgreSQL flushes them lazily). */
async function flushStatistics(handle: DatabaseHandle): Promise<void> {
  await handle.db.execute(sql`SELECT pg_stat_force_next_flush()`);
  await handle.db.execute(sql`SELECT 1`);
}

async function tenantStats(handle: DatabaseHandle) {
  await flushStatistics(handle);
  const rows = await queryRows<{ dead: number | string; changed: number | string }>(
    handle.db,
    sql`SELECT n_dead_tup AS dead, n_mod_since_analyze AS changed FROM pg_stat_user_tables WHERE relname = 'tenants'`,
  );
  return { dead: Number(rows[0]?.dead), changed: Number(rows[0]?.changed) };
}

async function insertTenants(handle: DatabaseHandle, count: number): Promise<void> {
  await handle.db.execute(
    sql`INSERT INTO tenants (id, name) SELECT 'T' || lpad(g::text, 25, '0'), 'tenant ' || g FROM generate_series(1, ${count}) g`,
  );
}

describe("embedded database maintenance (PGlite has no autovacuum)", () => {
  let handle: DatabaseHandle;
  beforeEach(async () => {
    handle = await openPglite(null);
    await migratePglite(handle);
  });
  afterEach(async () => {
    await handle.close();
  });

  it("analyzes a table once its changed rows pass autovacuum's threshold, and leaves quiet tables alone", async () => {
    await insertTenants(handle, 500);
    await flushStatistics(handle);
    const run = await maintainTables(handle.db);
    expect(run.analyzed).toEqual(["tenants"]);
    expect(run.vacuumed).toEqual([]);
    expect((await tenantStats(handle)).changed).toBe(0);
    // Nothing changed since: nothing to do.
    expect(await maintainTables(handle.db)).toEqual({ vacuumed: [], analyzed: [] });
  });

  it("vacuums a table whose dead rows pass the threshold, reclaiming them", async () => {
    await insertTenants(handle, 500);
    await handle.db.execute(sql`DELETE FROM tenants WHERE name <> 'tenant 1'`);
    expect((await tenantStats(handle)).dead).toBe(499);
    const run = await maintainTables(handle.db);
    expect(run.vacuumed).toEqual(["tenants"]);
    expect(await tenantStats(handle)).toEqual({ dead: 0, changed: 0 });
  });

  it("stays below the threshold for a handful of changes", async () => {
    await insertTenants(handle, 40);
    await flushStatistics(handle);
    expect(await maintainTables(handle.db)).toEqual({ vacuumed: [], analyzed: [] });
  });

  it("runs on its timer, reports what it did, and stops", async () => {
    const runs: MaintenanceRun[] = [];
    await insertTenants(handle, 500);
    await flushStatistics(handle);
    const schedule = new MaintenanceSchedule(handle.db, { intervalMs: 20, onRun: (run) => runs.push(run) });
    schedule.start();
    await expect.poll(() => runs.length, { timeout: 5_000 }).toBeGreaterThan(0);
    await schedule.stop();
    expect(runs[0]?.analyzed).toEqual(["tenants"]);
  });

  it("reports a failing run and keeps going", async () => {
    const errors: unknown[] = [];
    const schedule = new MaintenanceSchedule(handle.db, { intervalMs: 10, onError: (error) => errors.push(error) });
    await handle.close();
    schedule.start();
    await expect.poll(() => errors.length, { timeout: 5_000 }).toBeGreaterThan(1);
    await schedule.stop();
  });
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { DatabaseConfig } from "../config/config.js";
import type { DatabaseHandle } from "./database.js";
import { countAppliedMigrations } from "./migration-count.js";
import { migratePglite, openPglite } from "./pglite-database.js";
import { SERVICE_TABLES } from "./pglite-maintenance.js";
import { migratePostgres, openPostgres } from "./postgres-database.js";
import { packageRoot } from "../runtime/package-root.js";

export class DatabaseStartError extends Error {
  override name = "DatabaseStartError";
}

function describe(config: DatabaseConfig): string {
  if (config.url === null) return `PGlite in ${config.dataDir}`;
  const url = new URL(config.url);
  return `PostgreSQL at ${url.hostname}:${url.port || 5432}${url.pathname}`;
}

export interface OpenOptions {
  /** Apply pending migrations first. */
  readonly migrate: boolean;
  /** Told how many migrations that applied (0: the database was up to date). */
  readonly onMigrated?: (applied: number) => void;
}

/** Opens the configured database; `migrate` applies pending migrations first. */
export async function openDatabase(config: DatabaseConfig, options: OpenOptions): Promise<DatabaseHandle> {
  try {
    if (config.url === null) {
      const handle = await openPglite(config.dataDir, { cacheMb: config.pgliteCacheMb });
      try {
        if (options.migrate) {
          // Not `onMigrated?.(await migratePglite(...))`: without a listener that skips migrating.
          const applied = await migratePglite(handle);
          options.onMigrated?.(applied);
        }
        // PGlite runs no autovacuum, so its planner never learns table sizes by itself; without
        // statistics, large tenants get index scans over every row of the tenant.
        // Only our tables: a database-wide ANALYZE also walks the catalogs and costs ~0.4 s per start.
        // While serving, MaintenanceSchedule keeps them current.
        await handle.db.execute(sql.raw(`ANALYZE ${SERVICE_TABLES.join(", ")}`));
      } catch (error) {
        // Closing also gives up the data directory's lock.
        await handle.close();
        throw error;
      }
      return handle;
    }
    const server = { ...config, url: config.url };
    if (options.migrate) {
      const applied = await migratePostgres(server);
      options.onMigrated?.(applied);
    }
    const handle = await openPostgres(server);
    await handle.ping();
    return handle;
  } catch (error) {
    if (error instanceof Error && error.name === "DataDirectoryError") throw error;
    throw new DatabaseStartError(
      `Cannot open the database (${describe(config)}): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

interface JournalEntry {
  readonly tag: string;
}

/** Number of migrations this build ships. */
export function shippedMigrationCount(): number {
  const journal = JSON.parse(readFileSync(join(packageRoot(), "drizzle", "meta", "_journal.json"), "utf8")) as {
    entries: JournalEntry[];
  };
  return journal.entries.length;
}

/** Number of migrations applied to the database (0 when none ever ran). */
export function appliedMigrationCount(handle: DatabaseHandle): Promise<number> {
  return countAppliedMigrations(handle.db);
}

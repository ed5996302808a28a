import { sql, type SQL } from "drizzle-orm";

/** What both drivers' drizzle instances offer, and a migration session's own instance too. */
interface Executes {
  execute(query: SQL): PromiseLike<unknown>;
}

/**
 * Rows of drizzle's migrations table, one per applied migration (0 when none ever ran: the table
 * does not exist yet). Counted before and after migrating, it says how many a run applied, which
 * drizzle's migrator does not return.
 */
export async function countAppliedMigrations(db: Executes): Promise<number> {
  try {
    const result = (await db.execute(sql`SELECT count(*) AS count FROM drizzle.__drizzle_migrations`)) as {
      rows: { count: number | string }[];
    };
    return Number(result.rows[0]?.count ?? 0);
  } catch {
    return 0;
  }
}

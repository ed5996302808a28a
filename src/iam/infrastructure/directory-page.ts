/** Paging the directory's lists (SCIM's startIndex and count, with totalResults). */
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";

/** A timestamp as the driver gives it: a Date (pg) or an ISO string (PGlite's JSON paths). */
export const dateOf = (value: Date | string): Date => (value instanceof Date ? value : new Date(value));

/**
 * One page of `visible` (a query with an `id` column), in id order, and how many rows it has in
 * all. The count rides on the page's rows; a page past the end gets it from a query of its own,
 * built with `visible(true)` so that it may leave out what only the rows need.
 */
export async function directoryPage<R extends object>(
  db: Queryable,
  visible: (forCount: boolean) => SQL,
  startIndex: number,
  count: number,
): Promise<{ total: number; rows: R[] }> {
  const rows = await queryRows<R & { total?: number | string }>(
    db,
    sql`SELECT *, count(*) OVER () AS total FROM (${visible(false)}) AS visible
        ORDER BY id LIMIT ${count} OFFSET ${startIndex - 1}`,
  );
  if (rows.length > 0) return { total: Number(rows[0]?.total ?? 0), rows };
  const counted = await queryRows<{ total: number | string }>(db, sql`SELECT count(*) AS total FROM (${visible(true)}) AS visible`);
  return { total: Number(counted[0]?.total ?? 0), rows };
}

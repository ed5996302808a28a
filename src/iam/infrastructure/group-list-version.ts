/**
 * The per-tenant version of the group list (table group_list_versions). Only the group repository
 * uses it: each of its writes moves the version, and its whole-tenant listing serves a kept list
 * while the version stands (kept-group-lists.ts).
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";

/**
 * Moves the tenant's version. Called as the last statement of a group write: the row lock it takes
 * serialises concurrent writers of the tenant in commit order, and is held only until their commit.
 */
export async function bumpGroupListVersion(db: Queryable, tenantId: string): Promise<void> {
  await queryRows(
    db,
    sql`INSERT INTO group_list_versions (tenant_id, version) VALUES (${tenantId}, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET version = group_list_versions.version + 1`,
  );
}

/** The tenant's current group-list version (0 before its first group change). */
export async function readGroupListVersion(db: Queryable, tenantId: string): Promise<number> {
  const rows = await queryRows<{ version: string | number }>(
    db,
    sql`SELECT version FROM group_list_versions WHERE tenant_id = ${tenantId}`,
  );
  return Number(rows[0]?.version ?? 0);
}

/**
 * The IAM tables as one text, to prove that a refused write changed nothing. Columns the service
 * legitimately moves on reads are left out (`api_keys.last_used_at`, moved by authenticating);
 * the outbox counts by its entries, not by their delivery state.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../../src/platform/database/database.js";

export type IamSnapshot = Readonly<Record<string, string>>;

/** Each table's rows in a fixed order, as one text, hashed in the database (one round trip). */
const digest = (table: string, order: string, row = "t") =>
  sql.raw(`(SELECT md5(coalesce(string_agg(${row}::text, '|' ORDER BY ${order}), '')) FROM ${table} t)`);

export async function iamSnapshot(db: Queryable): Promise<IamSnapshot> {
  const rows = await queryRows<IamSnapshot>(
    db,
    sql`SELECT ${digest("tenants", "t.id")} AS tenants,
      ${digest("users", "t.id")} AS users,
      ${digest("workspaces", "t.id")} AS workspaces,
      ${digest("groups", "t.id")} AS groups,
      ${digest("api_keys", "t.id", "(to_jsonb(t) - 'last_used_at')")} AS api_keys,
      ${digest("tenant_members", "t.tenant_id, t.user_id")} AS tenant_members,
      ${digest("workspace_members", "t.workspace_id, t.member_type, t.member_id")} AS workspace_members,
      ${digest("group_members", "t.group_id, t.user_id")} AS group_members,
      ${digest("group_list_versions", "t.tenant_id")} AS group_list_versions,
      (SELECT count(*) || ':' || coalesce(max(sequence), 0) FROM outbox) AS outbox`,
  );
  return rows[0] ?? {};
}

/**
 * Where the database's write-ahead log ends. Every change to a table writes to it, so while this
 * stands still no table changed (it also moves for row locks and rolled-back work, and on a
 * shared server for other databases: then a snapshot decides).
 */
export async function walPosition(db: Queryable): Promise<string> {
  const rows = await queryRows<{ position: string }>(db, sql`SELECT pg_current_wal_insert_lsn()::text AS position`);
  return rows[0]?.position ?? "";
}

/** Names of the tables whose content differs between two snapshots. */
export function changedTables(before: IamSnapshot, after: IamSnapshot): string[] {
  return Object.keys(after).filter((table) => before[table] !== after[table]);
}

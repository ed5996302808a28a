/**
 * The per-tenant version of the group list (table group_list_versions): moved by every unit of work
 * that changes a tenant's groups or their members, read by listings that reuse an earlier answer.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import { aggregateOf, type IamEvent } from "../domain/events.js";

/** The tenants whose groups these events change (a tenant being deleted has no list left to serve). */
export function tenantsWithGroupChanges(events: readonly IamEvent[]): string[] {
  const deleted = new Set(events.filter((event) => event.type === "TenantDeleted").map((event) => event.tenantId));
  const changed = new Set<string>();
  for (const event of events) {
    if (aggregateOf(event).type === "group" && !deleted.has(event.tenantId)) changed.add(event.tenantId);
  }
  return [...changed].sort();
}

/** Moves the version of every tenant whose groups the events change, in one statement. */
export async function bumpGroupListVersions(tx: Queryable, events: readonly IamEvent[]): Promise<void> {
  const tenants = tenantsWithGroupChanges(events);
  if (tenants.length === 0) return;
  await queryRows(
    tx,
    sql`INSERT INTO group_list_versions (tenant_id, version)
        SELECT tenant_id, 1 FROM unnest(${sql.param(tenants)}::varchar[]) AS tenant_id
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

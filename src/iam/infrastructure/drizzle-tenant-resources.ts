/**
 * Tenant membership of IAM objects in one statement, whatever the mix of types asked about.
 */
import { sql, type SQL } from "drizzle-orm";
import type { ObjectRef } from "../../shared-kernel/authorization/authorization-port.js";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import { refKey, type TenantResources } from "../ports/tenant-resources.js";

/** The table that holds each type's rows, all with `id` and `tenant_id`. */
const TABLES: Readonly<Record<string, SQL>> = {
  workspace: sql.raw("workspaces"),
  group: sql.raw("groups"),
  api_key: sql.raw("api_keys"),
};

export class DrizzleTenantResources implements TenantResources {
  constructor(private readonly db: Queryable) {}

  async inTenant(tenantId: string, refs: readonly ObjectRef[]): Promise<Set<string>> {
    const found = new Set<string>();
    const idsByType = new Map<string, Set<string>>();
    for (const ref of refs) {
      if (ref.type === "tenant") {
        if (ref.id === tenantId) found.add(refKey(ref));
        continue;
      }
      if (TABLES[ref.type] === undefined) continue;
      const ids = idsByType.get(ref.type) ?? new Set<string>();
      ids.add(ref.id);
      idsByType.set(ref.type, ids);
    }
    if (idsByType.size === 0) return found;
    const parts = [...idsByType].map(
      ([type, ids]) =>
        // One parameter however many ids (a lookup may return thousands).
        sql`SELECT ${type} AS type, id FROM ${TABLES[type]}
            WHERE tenant_id = ${tenantId} AND id IN (SELECT jsonb_array_elements_text(${JSON.stringify([...ids])}::jsonb))`,
    );
    const rows = await queryRows<{ type: string; id: string }>(this.db, sql.join(parts, sql` UNION ALL `));
    for (const row of rows) found.add(refKey(row));
    return found;
  }
}

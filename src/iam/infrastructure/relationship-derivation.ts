/**
 * The complete set of relationships SpiceDB should hold, derived from the IAM tables (the source of
 * truth). `reconcile` compares it with SpiceDB; the embedded mode loads it into the in-process
 * SpiceDB at start. Each query streams one table; no per-row queries.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import type { Relationship } from "../../shared-kernel/authorization/authorization-port.js";
import type { GroupRole, MemberType } from "../domain/roles.js";
import { groupRelation, workspaceSubject } from "./relationship-translator.js";

/** Resource types this service owns in SpiceDB (reconcile never touches others). */
export const OWNED_RESOURCE_TYPES = ["tenant", "workspace", "group", "api_key"] as const;

export async function deriveRelationships(db: Queryable): Promise<Relationship[]> {
  const relationships: Relationship[] = [];
  const push = (type: string, id: string, relation: string, subject: Relationship["subject"]) =>
    relationships.push({ resource: { type, id }, relation, subject });

  const tenantMembers = await queryRows<{ tenant_id: string; user_id: string; role: string }>(
    db,
    sql`SELECT tenant_id, user_id, role FROM tenant_members`,
  );
  for (const m of tenantMembers) push("tenant", m.tenant_id, m.role, { type: "user", id: m.user_id });

  const workspaces = await queryRows<{ id: string; tenant_id: string; parent_workspace_id: string | null; is_root: boolean }>(
    db,
    sql`SELECT id, tenant_id, parent_workspace_id, is_root FROM workspaces`,
  );
  for (const w of workspaces) {
    push("workspace", w.id, "tenant", { type: "tenant", id: w.tenant_id });
    if (w.is_root) {
      push("tenant", w.tenant_id, "root_workspace", { type: "workspace", id: w.id });
      push("workspace", w.id, "creator_tenant", { type: "tenant", id: w.tenant_id });
    }
    if (w.parent_workspace_id) push("workspace", w.id, "parent", { type: "workspace", id: w.parent_workspace_id });
  }

  const workspaceMembers = await queryRows<{ workspace_id: string; member_type: MemberType; member_id: string; role: string }>(
    db,
    sql`SELECT workspace_id, member_type, member_id, role FROM workspace_members`,
  );
  for (const m of workspaceMembers) push("workspace", m.workspace_id, m.role, workspaceSubject(m.member_type, m.member_id));

  const groups = await queryRows<{ id: string; tenant_id: string }>(db, sql`SELECT id, tenant_id FROM groups`);
  for (const g of groups) push("group", g.id, "tenant", { type: "tenant", id: g.tenant_id });

  const groupMembers = await queryRows<{ group_id: string; user_id: string; role: GroupRole }>(
    db,
    sql`SELECT group_id, user_id, role FROM group_members`,
  );
  for (const m of groupMembers) push("group", m.group_id, groupRelation(m.role), { type: "user", id: m.user_id });

  const apiKeys = await queryRows<{ id: string; tenant_id: string; created_by_user_id: string }>(
    db,
    sql`SELECT id, tenant_id, created_by_user_id FROM api_keys`,
  );
  for (const k of apiKeys) {
    push("api_key", k.id, "owner", { type: "user", id: k.created_by_user_id });
    push("api_key", k.id, "tenant", { type: "tenant", id: k.tenant_id });
  }
  return relationships;
}

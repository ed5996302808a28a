/**
 * Rows for tests, written with plain SQL so that a test of one aggregate does not depend on the
 * services of another (tenants, users and workspaces are other engineers' aggregates).
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../src/platform/database/database.js";
import { newUlid } from "../../src/shared-kernel/ids.js";

export async function seedTenant(db: Queryable, name = `tenant-${newUlid()}`): Promise<string> {
  const id = newUlid();
  await queryRows(db, sql`INSERT INTO tenants (id, name) VALUES (${id}, ${name})`);
  return id;
}

export async function seedUser(db: Queryable, id: string, email: string | null = null): Promise<string> {
  await queryRows(
    db,
    sql`INSERT INTO users (id, username, email) VALUES (${id}, ${`${id}-${newUlid()}`}, ${email}) ON CONFLICT (id) DO NOTHING`,
  );
  return id;
}

/** A user who belongs to the tenant (created when missing). */
export async function seedTenantMember(
  db: Queryable,
  tenantId: string,
  userId: string,
  options: { role?: "admin" | "member"; email?: string | null } = {},
): Promise<string> {
  await seedUser(db, userId, options.email ?? null);
  await queryRows(
    db,
    sql`INSERT INTO tenant_members (tenant_id, user_id, role) VALUES (${tenantId}, ${userId}, ${options.role ?? "member"})`,
  );
  return userId;
}

/** The tenant's root workspace (created on first use) and children below it. */
export async function seedWorkspace(db: Queryable, tenantId: string, name = `ws-${newUlid()}`): Promise<string> {
  const roots = await queryRows<{ id: string }>(db, sql`SELECT id FROM workspaces WHERE tenant_id = ${tenantId} AND is_root`);
  let rootId = roots[0]?.id;
  if (rootId === undefined) {
    rootId = newUlid();
    await queryRows(db, sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES (${rootId}, ${tenantId}, ${`root-${rootId}`}, true)`);
  }
  const id = newUlid();
  await queryRows(
    db,
    sql`INSERT INTO workspaces (id, tenant_id, name, parent_workspace_id) VALUES (${id}, ${tenantId}, ${name}, ${rootId})`,
  );
  return id;
}

export async function seedWorkspaceMember(
  db: Queryable,
  workspaceId: string,
  member: { type: "user" | "group"; id: string },
  role: "admin" | "editor" | "member",
): Promise<void> {
  await queryRows(
    db,
    sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role) VALUES (${workspaceId}, ${member.type}, ${member.id}, ${role})`,
  );
}

/**
 * Test setup only: tenants, users and memberships written straight into PostgreSQL and SpiceDB,
 * for tests that need a tenant to exist without going through the tenant service.
 */
import { sql } from "drizzle-orm";
import type { AuthorizationPort } from "../../src/shared-kernel/authorization/authorization-port.js";
import { newUlid } from "../../src/shared-kernel/ids.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import type { TenantRole } from "../../src/iam/domain/roles.js";
import { bumpAuthzRevision } from "../../src/platform/outbox/authz-revision.js";

export async function seedUser(
  database: DatabaseHandle,
  user: { id: string; username?: string; name?: string | null; email?: string | null },
): Promise<void> {
  await database.db.execute(
    sql`INSERT INTO users (id, username, name, email) VALUES (${user.id}, ${user.username ?? user.id}, ${user.name ?? null}, ${user.email ?? null}) ON CONFLICT (id) DO NOTHING`,
  );
}

export async function seedTenant(database: DatabaseHandle, name = `tenant-${newUlid()}`): Promise<string> {
  const id = newUlid();
  await database.db.execute(sql`INSERT INTO tenants (id, name) VALUES (${id}, ${name})`);
  return id;
}

/** Makes the (existing) user a member with `role` in both PostgreSQL and SpiceDB. */
export async function seedTenantMember(
  database: DatabaseHandle,
  authorization: AuthorizationPort,
  tenantId: string,
  userId: string,
  role: TenantRole,
): Promise<void> {
  await database.db.execute(
    sql`INSERT INTO tenant_members (tenant_id, user_id, role) VALUES (${tenantId}, ${userId}, ${role})
        ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role`,
  );
  const token = await authorization.writeRelationships([
    { operation: "delete", relationship: { resource: { type: "tenant", id: tenantId }, relation: role === "admin" ? "member" : "admin", subject: { type: "user", id: userId } } },
    { operation: "touch", relationship: { resource: { type: "tenant", id: tenantId }, relation: role, subject: { type: "user", id: userId } } },
  ]);
  // Seeds bypass the outbox: move the revision (with this write's ZedToken) so that cached
  // decisions are not reused and later reads are at least as fresh as the seed.
  await bumpAuthzRevision(database.db, token, true);
}

/** Removes the user from the tenant in both stores. */
export async function removeTenantMember(
  database: DatabaseHandle,
  authorization: AuthorizationPort,
  tenantId: string,
  userId: string,
): Promise<void> {
  await database.db.execute(sql`DELETE FROM tenant_members WHERE tenant_id = ${tenantId} AND user_id = ${userId}`);
  const token = await authorization.deleteRelationships({ resourceType: "tenant", resourceId: tenantId, subjectType: "user", subjectId: userId });
  await bumpAuthzRevision(database.db, token, true);
}

/**
 * FAKE DefaultTenantAccess for tests, until the tenant service (which implements the real one)
 * lands. It creates the default tenant row and adds members directly (PostgreSQL row + SpiceDB
 * tuple), and records every join so tests can assert on them. It creates no root workspace.
 */
import { sql } from "drizzle-orm";
import type { DefaultTenantAccess } from "../../src/iam/application/default-tenant-access.js";
import type { TenantRole } from "../../src/iam/domain/roles.js";
import type { DatabaseHandle } from "../../src/platform/database/database.js";
import { queryRows } from "../../src/platform/database/database.js";
import type { AuthorizationPort } from "../../src/shared-kernel/authorization/authorization-port.js";
import { newUlid } from "../../src/shared-kernel/ids.js";
import { seedTenantMember } from "./seed-tenants.js";

export class FakeDefaultTenantAccess implements DefaultTenantAccess {
  readonly joins: { userId: string; asAdmin: boolean }[] = [];
  ensureCalls = 0;

  constructor(
    private readonly database: DatabaseHandle,
    private readonly authorization: AuthorizationPort,
    private readonly tenantName = "default",
  ) {}

  async ensureDefaultTenant(): Promise<string> {
    this.ensureCalls++;
    await this.database.db.execute(
      sql`INSERT INTO tenants (id, name, is_default) VALUES (${newUlid()}, ${this.tenantName}, true) ON CONFLICT DO NOTHING`,
    );
    const rows = await queryRows<{ id: string }>(this.database.db, sql`SELECT id FROM tenants WHERE is_default`);
    return rows[0]!.id;
  }

  async join(userId: string, asAdmin: boolean): Promise<TenantRole> {
    this.joins.push({ userId, asAdmin });
    const tenantId = await this.ensureDefaultTenant();
    this.ensureCalls--;
    const role = asAdmin ? "admin" : "member";
    await seedTenantMember(this.database, this.authorization, tenantId, userId, role);
    return role;
  }
}

/** The operator's cross-tenant reads, in one query each. */
import { asc, count, eq, ilike, or, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { tenantMembers, tenants, users } from "../../platform/database/schema.js";
import type { UserProfile } from "../domain/user.js";
import type { OperatorDirectory, TenantOverview } from "../ports/operator-directory.js";

const profile = { id: users.id, username: users.username, name: users.name, email: users.email };

export class DrizzleOperatorDirectory implements OperatorDirectory {
  constructor(private readonly db: Queryable) {}

  async listTenants(): Promise<TenantOverview[]> {
    return this.db
      .select({ id: tenants.id, name: tenants.name, members: count(tenantMembers.userId) })
      .from(tenants)
      .leftJoin(tenantMembers, eq(tenantMembers.tenantId, tenants.id))
      .groupBy(tenants.id, tenants.name)
      .orderBy(asc(tenants.name), asc(tenants.id));
  }

  async listUsers(search: string | null, limit: number): Promise<UserProfile[]> {
    const query = this.db.select(profile).from(users);
    const pattern = search === null ? null : `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const filtered = pattern === null ? query : query.where(or(ilike(users.username, pattern), ilike(users.name, pattern), ilike(users.email, pattern)));
    return filtered.orderBy(asc(users.username)).limit(limit);
  }

  async findUser(idOrUsername: string): Promise<UserProfile | null> {
    const rows = await this.db
      .select(profile)
      .from(users)
      .where(or(eq(users.id, idOrUsername), sql`lower(${users.username}) = lower(${idOrUsername})`))
      // An exact id wins over a username that happens to equal it.
      .orderBy(sql`${users.id} = ${idOrUsername} DESC`)
      .limit(1);
    return rows[0] ?? null;
  }
}

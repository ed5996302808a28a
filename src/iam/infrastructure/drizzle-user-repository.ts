import { and, asc, eq, ilike, inArray, or, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { tenantMembers, users } from "../../platform/database/schema.js";
import { ConflictError } from "../domain/errors.js";
import { usernameTakenMessage, type UserProfile } from "../domain/user.js";
import type { ProvisionOutcome, UserRepository } from "../ports/user-repository.js";

const profileColumns = { id: users.id, username: users.username, name: users.name, email: users.email };

/** `%`, `_` and the escape character itself match only themselves (PostgreSQL's LIKE escape is `\`). */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

export class DrizzleUserRepository implements UserRepository {
  constructor(private readonly db: Queryable) {}

  async provision(profile: UserProfile): Promise<ProvisionOutcome> {
    try {
      const rows = await this.db
        .insert(users)
        .values({ id: profile.id, username: profile.username, name: profile.name, email: profile.email })
        .onConflictDoUpdate({
          target: users.id,
          set: {
            username: sql`excluded.username`,
            name: sql`excluded.name`,
            email: sql`excluded.email`,
            updatedAt: sql`now()`,
          },
          // Unchanged claims update nothing: no row version, no WAL, no lock held.
          setWhere: sql`${users.username} IS DISTINCT FROM excluded.username
            OR ${users.name} IS DISTINCT FROM excluded.name
            OR ${users.email} IS DISTINCT FROM excluded.email`,
        })
        // xmax is 0 on a freshly inserted row version and non-zero on an updated one.
        .returning({ inserted: sql<boolean>`(xmax = 0)` });
      const row = rows[0];
      if (row === undefined) return "unchanged";
      return row.inserted ? "created" : "updated";
    } catch (error) {
      if (violates(error, "uq_users_username")) throw new ConflictError(usernameTakenMessage(profile.username));
      throw error;
    }
  }

  async findTenantMembersByIds(tenantId: string, ids: readonly string[]): Promise<UserProfile[]> {
    if (ids.length === 0) return [];
    return this.db
      .select(profileColumns)
      .from(users)
      .innerJoin(tenantMembers, and(eq(tenantMembers.userId, users.id), eq(tenantMembers.tenantId, tenantId)))
      .where(inArray(users.id, [...ids]))
      .orderBy(asc(users.username));
  }

  async searchTenantMembers(tenantId: string, text: string, limit: number): Promise<UserProfile[]> {
    const pattern = containsPattern(text);
    return this.db
      .select(profileColumns)
      .from(users)
      .innerJoin(tenantMembers, and(eq(tenantMembers.userId, users.id), eq(tenantMembers.tenantId, tenantId)))
      .where(or(ilike(users.username, pattern), ilike(users.name, pattern), ilike(users.email, pattern)))
      .orderBy(asc(users.username))
      .limit(limit);
  }
}

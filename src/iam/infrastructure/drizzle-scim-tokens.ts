import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { scimTokens } from "../../platform/database/schema.js";
import type { ScimToken, ScimTokenHolder, ScimTokens } from "../ports/scim-tokens.js";

const tokenColumns = {
  id: scimTokens.id,
  tenantId: scimTokens.tenantId,
  name: scimTokens.name,
  prefix: scimTokens.prefix,
  createdByUserId: scimTokens.createdByUserId,
  createdAt: scimTokens.createdAt,
  revokedAt: scimTokens.revokedAt,
};

export class DrizzleScimTokens implements ScimTokens {
  constructor(private readonly db: Queryable) {}

  async insert(token: ScimToken, digest: string): Promise<void> {
    await this.db.insert(scimTokens).values({ ...token, tokenDigest: digest });
  }

  async listOfTenant(tenantId: string): Promise<ScimToken[]> {
    return this.db.select(tokenColumns).from(scimTokens).where(eq(scimTokens.tenantId, tenantId)).orderBy(desc(scimTokens.id));
  }

  async revoke(tenantId: string, id: string, at: Date): Promise<{ name: string; revokedNow: boolean } | null> {
    const rows = await this.db
      .update(scimTokens)
      // Revoking again keeps the first revocation's time.
      .set({ revokedAt: sql`coalesce(${scimTokens.revokedAt}, ${at.toISOString()}::timestamptz)` })
      .where(and(eq(scimTokens.tenantId, tenantId), eq(scimTokens.id, id)))
      .returning({ name: scimTokens.name, revokedAt: scimTokens.revokedAt });
    const row = rows[0];
    return row === undefined ? null : { name: row.name, revokedNow: row.revokedAt?.getTime() === at.getTime() };
  }

  async findUsable(digest: string): Promise<ScimTokenHolder | null> {
    // A deleted tenant takes its tokens with it (CASCADE), so a found token's tenant exists.
    const rows = await this.db
      .select({ tokenId: scimTokens.id, tenantId: scimTokens.tenantId, name: scimTokens.name })
      .from(scimTokens)
      .where(and(eq(scimTokens.tokenDigest, digest), isNull(scimTokens.revokedAt)));
    return rows[0] ?? null;
  }
}

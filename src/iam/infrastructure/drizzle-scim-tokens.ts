import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { scimTokens } from "../../platform/database/schema.js";
import type { ScimToken, ScimTokenHolder, ScimTokens } from "../ports/scim-tokens.js";
import { violates } from "../../platform/database/database-errors.js";
import { ConflictError } from "../domain/errors.js";

/** Live tokens of a tenant have names of their own (the audit log names a directory by it). */
const LIVE_NAME = "uq_scim_tokens_tenant_live_name";

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
    try {
      await this.db.insert(scimTokens).values({ ...token, tokenDigest: digest });
    } catch (error) {
      if (violates(error, LIVE_NAME)) {
        throw new ConflictError(`A SCIM token named '${token.name}' is already in use in this tenant; choose another name, or revoke that one first`);
      }
      throw error;
    }
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

import { and, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { apiKeys, tenantMembers } from "../../platform/database/schema.js";
import type { ApiKey, ApiKeyCredential } from "../domain/api-key.js";
import { ConflictError } from "../domain/errors.js";
import type { ApiKeyRepository, NewApiKey } from "../ports/api-key-repository.js";

export const DUPLICATE_API_KEY_NAME = "An API key with this name already exists";

const apiKeyColumns = {
  id: apiKeys.id,
  tenantId: apiKeys.tenantId,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdByUserId: apiKeys.createdByUserId,
  createdAt: apiKeys.createdAt,
  expiresAt: apiKeys.expiresAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

export class DrizzleApiKeyRepository implements ApiKeyRepository {
  constructor(private readonly db: Queryable) {}

  async findUsableCredential(keyDigest: string, now: Date): Promise<ApiKeyCredential | null> {
    // Unique index on key_digest, then the tenant_members primary key: two index probes.
    const rows = await this.db
      .select({
        apiKeyId: apiKeys.id,
        tenantId: apiKeys.tenantId,
        createdByUserId: apiKeys.createdByUserId,
        keyDigest: apiKeys.keyDigest,
        expiresAt: apiKeys.expiresAt,
        lastUsedAt: apiKeys.lastUsedAt,
      })
      .from(apiKeys)
      .innerJoin(
        tenantMembers,
        and(eq(tenantMembers.tenantId, apiKeys.tenantId), eq(tenantMembers.userId, apiKeys.createdByUserId)),
      )
      .where(and(eq(apiKeys.keyDigest, keyDigest), isNull(apiKeys.revokedAt), gt(apiKeys.expiresAt, now)))
      .limit(1);
    return rows[0] ?? null;
  }

  async recordUse(apiKeyId: string, at: Date, resolutionMs: number): Promise<void> {
    const staleBefore = new Date(at.getTime() - resolutionMs);
    // The condition makes concurrent requests of one key write at most once per resolution.
    await this.db
      .update(apiKeys)
      .set({ lastUsedAt: at })
      .where(and(eq(apiKeys.id, apiKeyId), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, staleBefore))));
  }

  async insert(key: NewApiKey): Promise<ApiKey> {
    try {
      const rows = await this.db
        .insert(apiKeys)
        .values({
          id: key.id,
          tenantId: key.tenantId,
          createdByUserId: key.createdByUserId,
          name: key.name,
          keyDigest: key.keyDigest,
          prefix: key.prefix,
          createdAt: key.createdAt,
          updatedAt: key.createdAt,
          expiresAt: key.expiresAt,
        })
        .returning(apiKeyColumns);
      return rows[0] as ApiKey;
    } catch (error) {
      if (violates(error, "uq_api_keys_tenant_creator_name")) throw new ConflictError(DUPLICATE_API_KEY_NAME);
      throw error;
    }
  }

  async findInTenantForUpdate(tenantId: string, apiKeyId: string): Promise<ApiKey | null> {
    const rows = await this.db
      .select(apiKeyColumns)
      .from(apiKeys)
      .where(and(eq(apiKeys.id, apiKeyId), eq(apiKeys.tenantId, tenantId)))
      .for("update");
    return rows[0] ?? null;
  }

  async markRevoked(apiKeyId: string, at: Date): Promise<void> {
    await this.db.update(apiKeys).set({ revokedAt: at, updatedAt: at }).where(eq(apiKeys.id, apiKeyId));
  }

  async listVisible(tenantId: string, viewerId: string, createdBy: string | null): Promise<ApiKey[]> {
    // api_key#view = owner + tenant->administrate, read from the membership table (the source of
    // truth SpiceDB is derived from) in the same query as the keys.
    const viewerIsAdmin = sql`EXISTS (SELECT 1 FROM ${tenantMembers} WHERE ${tenantMembers.tenantId} = ${tenantId} AND ${tenantMembers.userId} = ${viewerId} AND ${tenantMembers.role} = 'admin')`;
    const conditions = [eq(apiKeys.tenantId, tenantId), or(eq(apiKeys.createdByUserId, viewerId), viewerIsAdmin)];
    if (createdBy !== null) conditions.push(eq(apiKeys.createdByUserId, createdBy));
    return this.db
      .select(apiKeyColumns)
      .from(apiKeys)
      .where(and(...conditions))
      .orderBy(apiKeys.createdAt, apiKeys.id);
  }
}

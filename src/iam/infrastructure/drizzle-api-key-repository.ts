import { and, asc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import type { Queryable } from "../../platform/database/database.js";
import { violates } from "../../platform/database/database-errors.js";
import { apiKeys, tenantMembers } from "../../platform/database/schema.js";
import { ApiKey, type ApiKeyCredential, type ApiKeyState } from "../domain/api-key.js";
import { ConflictError } from "../domain/errors.js";
import type { ApiKeyRepository } from "../ports/api-key-repository.js";
import { pinReadsToPrimary } from "../../platform/database/replica/read-scope.js";

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
    // The request (a GET, often) lists keys with their last use: from the primary, from now on.
    pinReadsToPrimary();
  }

  async add(key: ApiKey): Promise<void> {
    if (key.keyDigest === null) throw new Error(`API key ${key.id} is not a new key`);
    const state = key.snapshot();
    try {
      await this.db.insert(apiKeys).values({
        id: state.id,
        tenantId: state.tenantId,
        createdByUserId: state.createdByUserId,
        name: state.name,
        keyDigest: key.keyDigest,
        prefix: state.prefix,
        createdAt: state.createdAt,
        updatedAt: state.createdAt,
        expiresAt: state.expiresAt,
      });
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
    return rows[0] ? ApiKey.restore(rows[0]) : null;
  }

  async lockLiveKeysOfCreator(tenantId: string, userId: string): Promise<ApiKey[]> {
    const rows = await this.db
      .select(apiKeyColumns)
      .from(apiKeys)
      .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.createdByUserId, userId), isNull(apiKeys.revokedAt)))
      .orderBy(asc(apiKeys.id))
      .for("update");
    return rows.map((row) => ApiKey.restore(row));
  }

  async lockAllOfTenant(tenantId: string): Promise<ApiKey[]> {
    const rows = await this.db.select(apiKeyColumns).from(apiKeys).where(eq(apiKeys.tenantId, tenantId)).orderBy(asc(apiKeys.id)).for("update");
    return rows.map((row) => ApiKey.restore(row));
  }

  async save(key: ApiKey): Promise<void> {
    if (!key.revocationChanged || key.revokedAt === null) return;
    await this.db.update(apiKeys).set({ revokedAt: key.revokedAt, updatedAt: key.revokedAt }).where(eq(apiKeys.id, key.id));
  }

  async removeAll(keys: readonly ApiKey[]): Promise<void> {
    if (keys.length === 0) return;
    const notDeleted = keys.find((key) => !key.isDeleted);
    if (notDeleted) throw new Error(`API key ${notDeleted.id} must be marked deleted (recording its event) before removal`);
    await this.db.delete(apiKeys).where(inArray(apiKeys.id, keys.map((key) => key.id)));
  }

  async listVisible(tenantId: string, viewerId: string, createdBy: string | null): Promise<ApiKeyState[]> {
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

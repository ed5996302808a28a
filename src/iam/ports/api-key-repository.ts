import type { ApiKey, ApiKeyCredential } from "../domain/api-key.js";

export interface NewApiKey {
  readonly id: string;
  readonly tenantId: string;
  readonly createdByUserId: string;
  readonly name: string;
  readonly keyDigest: string;
  readonly prefix: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
}

/** Persistence of API keys. */
export interface ApiKeyRepository {
  /**
   * The key with this digest if it can authenticate at `now`: not revoked, not expired, and its
   * creator still a member of its tenant. One indexed query.
   */
  findUsableCredential(keyDigest: string, now: Date): Promise<ApiKeyCredential | null>;
  /** Sets last_used_at unless it is already within `resolutionMs` of `at`. */
  recordUse(apiKeyId: string, at: Date, resolutionMs: number): Promise<void>;
  /** Inserts the key; a duplicate name for the same creator and tenant throws ConflictError. */
  insert(key: NewApiKey): Promise<ApiKey>;
  /** The key in this tenant, locked for update when inside a transaction. */
  findInTenantForUpdate(tenantId: string, apiKeyId: string): Promise<ApiKey | null>;
  markRevoked(apiKeyId: string, at: Date): Promise<void>;
  /**
   * Keys of the tenant the user may view: their own, or all of them when the user is a tenant
   * admin (the api_key `view` permission), optionally only those created by `createdBy`.
   */
  listVisible(tenantId: string, viewerId: string, createdBy: string | null): Promise<ApiKey[]>;
}

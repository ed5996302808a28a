import type { ApiKey, ApiKeyCredential, ApiKeyState } from "../domain/api-key.js";

/** Persistence of the API key aggregate. */
export interface ApiKeyRepository {
  /**
   * The key with this digest if it can authenticate at `now`: not revoked, not expired, and its
   * creator still a member of its tenant. One indexed query.
   */
  findUsableCredential(keyDigest: string, now: Date): Promise<ApiKeyCredential | null>;
  /** Sets last_used_at unless it is already within `resolutionMs` of `at`. */
  recordUse(apiKeyId: string, at: Date, resolutionMs: number): Promise<void>;
  /** Inserts a key just issued; a duplicate name for the same creator and tenant throws ConflictError. */
  add(key: ApiKey): Promise<void>;
  /** The key in this tenant, locked for update when inside a transaction. */
  findInTenantForUpdate(tenantId: string, apiKeyId: string): Promise<ApiKey | null>;
  /** The creator's keys in the tenant that are not revoked, locked (for their removal from the tenant). */
  lockLiveKeysOfCreator(tenantId: string, userId: string): Promise<ApiKey[]>;
  /** Every key of the tenant, locked (for the tenant's deletion). */
  lockAllOfTenant(tenantId: string): Promise<ApiKey[]>;
  /** Writes a revocation. */
  save(key: ApiKey): Promise<void>;
  /** Deletes keys marked deleted, in one statement. */
  removeAll(keys: readonly ApiKey[]): Promise<void>;
  /**
   * Keys of the tenant the user may view: their own, or all of them when the user is a tenant
   * admin (the api_key `view` permission), optionally only those created by `createdBy`.
   */
  listVisible(tenantId: string, viewerId: string, createdBy: string | null): Promise<ApiKeyState[]>;
}

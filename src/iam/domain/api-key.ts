/** An API key as listed (never with its secret). */
export interface ApiKey {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly prefix: string;
  readonly createdByUserId: string;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  readonly lastUsedAt: Date | null;
  readonly revokedAt: Date | null;
}

/** What authenticating with a key needs to know about it. */
export interface ApiKeyCredential {
  readonly apiKeyId: string;
  readonly tenantId: string;
  readonly createdByUserId: string;
  readonly keyDigest: string;
  readonly expiresAt: Date;
  readonly lastUsedAt: Date | null;
}

export const MIN_API_KEY_EXPIRY_DAYS = 1;
export const MAX_API_KEY_EXPIRY_DAYS = 3650;
export const DEFAULT_API_KEY_EXPIRY_DAYS = 30;

/** `last_used_at` is kept to the minute: a key used again within a minute costs no write. */
export const API_KEY_USAGE_RESOLUTION_MS = 60_000;

/** Principal name of a request authenticated by an API key (as in the reference). */
export function apiKeyUsername(apiKeyId: string): string {
  return `api-key:${apiKeyId}`;
}

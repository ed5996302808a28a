/** The credentials a tenant's directory provisions with (SCIM 2.0); only their digests are stored. */
export interface ScimToken {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  /** The first 12 characters of the secret, for listings. */
  readonly prefix: string;
  readonly createdByUserId: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | null;
}

/** What a request authenticated with a SCIM token acts as. */
export interface ScimTokenHolder {
  readonly tokenId: string;
  readonly tenantId: string;
  readonly name: string;
}

export interface ScimTokens {
  insert(token: ScimToken, digest: string): Promise<void>;
  /** The tenant's tokens, newest first, revoked ones included. */
  listOfTenant(tenantId: string): Promise<ScimToken[]>;
  /**
   * Revokes the tenant's token: its name and whether this call revoked it (false when it was
   * revoked already), or null when the tenant has no such token.
   */
  revoke(tenantId: string, id: string, at: Date): Promise<{ readonly name: string; readonly revokedNow: boolean } | null>;
  /** The unrevoked token of this digest whose tenant still exists, or null. */
  findUsable(digest: string): Promise<ScimTokenHolder | null>;
}

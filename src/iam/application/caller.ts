/**
 * Who is calling. Set by the presentation layer's authentication and tenant-context hooks and
 * handed to services, which scope everything to `tenantId` and check permissions for `userId`.
 */
export interface AuthenticatedUser {
  /** The OIDC subject (JWT) or the API key's creator. */
  readonly userId: string;
  readonly username: string;
  /** Set when the request authenticated with an API key. */
  readonly apiKeyId: string | null;
  /** The API key's tenant; null for JWT callers. */
  readonly apiKeyTenantId: string | null;
}

export interface Caller extends AuthenticatedUser {
  /** The tenant every operation of this request is scoped to. */
  readonly tenantId: string;
}

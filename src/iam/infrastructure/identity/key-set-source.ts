import type { JWTVerifyGetKey } from "jose";

/**
 * Where a JWT verifier gets its public keys: the identity provider's JWKS (discovered and cached)
 * or a local key set (the development issuer).
 */
export interface KeySetSource {
  /** The current key set, fetching it first when there is none or it is stale. */
  current(): Promise<JWTVerifyGetKey>;
  /**
   * Called when a token names a key the current set lacks (the provider may have rotated keys).
   * Refetches at most once per cool-down period; true when a fresh set was fetched.
   */
  refreshForUnknownKey(): Promise<boolean>;
}

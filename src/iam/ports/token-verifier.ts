/**
 * Checks an OIDC access token (signature, issuer, audience, expiry) and returns its claims.
 * Rejections throw AuthenticationError with the reason; an unreachable identity provider throws
 * IdentityProviderUnavailableError.
 */
export type TokenClaims = Readonly<Record<string, unknown>>;

export interface TokenVerifier {
  verify(token: string): Promise<TokenClaims>;
}

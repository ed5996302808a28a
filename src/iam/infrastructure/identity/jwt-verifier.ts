/**
 * Verifies OIDC access tokens with `jose`: signature against the issuer's keys, algorithm from an
 * allow-list, `iss` equal to the configured issuer (trailing slash ignored), `aud` containing the
 * expected audience, and `exp` required. Rejections carry the reference's messages.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey, type ProtectedHeaderParameters } from "jose";
import { AuthenticationError } from "../../domain/authentication-errors.js";
import type { TokenClaims, TokenVerifier } from "../../ports/token-verifier.js";
import type { KeySetSource } from "./key-set-source.js";

/** Asymmetric algorithms only: a symmetric one would let anyone holding the public key sign. */
export const DEFAULT_ALLOWED_ALGORITHMS = ["RS256", "ES256"] as const;

/** Real access tokens are a few kilobytes; anything far larger is refused before parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

export interface JwtVerifierOptions {
  /** Issuer URL without a trailing slash. */
  readonly issuer: string;
  readonly audience: string;
  readonly keys: KeySetSource;
  readonly algorithms?: readonly string[];
  /** Current time in seconds, for tests with a fixed clock. */
  readonly currentDate?: () => Date;
}

export class JwtVerifier implements TokenVerifier {
  private readonly algorithms: readonly string[];
  private readonly issuers: string[];

  constructor(private readonly options: JwtVerifierOptions) {
    this.algorithms = options.algorithms ?? DEFAULT_ALLOWED_ALGORITHMS;
    const issuer = options.issuer.replace(/\/+$/, "");
    this.issuers = [issuer, `${issuer}/`];
  }

  async verify(token: string): Promise<TokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new AuthenticationError("Invalid token format: token is too large");
    }
    const header = protectedHeaderOf(token);
    if (Object.keys(header).length === 0) throw new AuthenticationError("Invalid token: missing header");
    if (typeof header.alg !== "string" || !this.algorithms.includes(header.alg)) {
      // Decided before any key is fetched: `none`, HS256 and friends never reach the key set.
      throw new AuthenticationError(`Invalid token: algorithm ${JSON.stringify(header.alg ?? null)} is not allowed`);
    }
    try {
      return await this.verifyWith(token, await this.options.keys.current());
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw rejectionOf(error);
    }
    // The token names a key we do not hold: the provider may have rotated its keys.
    if (await this.options.keys.refreshForUnknownKey()) {
      try {
        return await this.verifyWith(token, await this.options.keys.current());
      } catch (error) {
        throw rejectionOf(error);
      }
    }
    throw new AuthenticationError("Invalid token: no key in the identity provider's key set matches the token");
  }

  private async verifyWith(token: string, keys: JWTVerifyGetKey): Promise<TokenClaims> {
    const { payload } = await jwtVerify(token, keys, {
      issuer: this.issuers,
      audience: this.options.audience,
      algorithms: [...this.algorithms],
      requiredClaims: ["exp", "aud", "iss"],
      clockTolerance: 0,
      ...(this.options.currentDate ? { currentDate: this.options.currentDate() } : {}),
    });
    return payload;
  }
}

function protectedHeaderOf(token: string): ProtectedHeaderParameters {
  try {
    return decodeProtectedHeader(token);
  } catch (error) {
    throw new AuthenticationError(`Invalid token format: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The reference's wording for each kind of rejection. */
function rejectionOf(error: unknown): Error {
  if (error instanceof AuthenticationError) return error;
  if (error instanceof errors.JWTExpired) return new AuthenticationError("Token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return new AuthenticationError("Invalid audience claim");
    if (error.claim === "iss") return new AuthenticationError("Invalid issuer claim");
    return new AuthenticationError(`Invalid token claims: ${error.message}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new AuthenticationError("Invalid token signature");
  if (error instanceof errors.JOSEError) return new AuthenticationError(`Invalid token: ${error.message}`);
  // Not a verdict on the token (e.g. the key set could not be fetched): let the caller decide.
  return error instanceof Error ? error : new Error(String(error));
}

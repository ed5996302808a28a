/**
 * Verifies OIDC access tokens with `jose`: signature against the issuer's keys, algorithm from an
 * allow-list, `iss` equal to the configured issuer (trailing slash ignored), `aud` containing the
 * expected audience, and `exp` required. Rejections carry the reference's messages.
 */
import { decodeProtectedHeader, errors, jwtVerify, type JWTVerifyGetKey, type ProtectedHeaderParameters } from "jose";
import { AuthenticationError } from "../../domain/authentication-errors.js";
import type { TokenClaims, TokenVerifier } from "../../ports/token-verifier.js";
import { BoundedCache, type CacheStats, type CacheStatsSource } from "../../../shared-kernel/bounded-cache.js";
import type { KeySetSource } from "./key-set-source.js";

/** Asymmetric algorithms only: a symmetric one would let anyone holding the public key sign. */
export const DEFAULT_ALLOWED_ALGORITHMS = ["RS256", "ES256"] as const;

/** Real access tokens are a few kilobytes; anything far larger is refused before parsing. */
export const MAX_TOKEN_LENGTH = 16 * 1024;

/** 10,000 tokens of 1 KiB fit; a flood of maximal tokens cannot take more than this. */
const VERIFIED_CACHE_MAX_BYTES = 32 * 1024 * 1024;

export interface JwtVerifierOptions {
  /** Issuer URL without a trailing slash. */
  readonly issuer: string;
  readonly audience: string;
  readonly keys: KeySetSource;
  readonly algorithms?: readonly string[];
  /** The current time, for tests with a fixed clock. */
  readonly currentDate?: () => Date;
  /** Verified tokens remembered (0 disables): a client sends the same token for many requests. */
  readonly verifiedCacheSize?: number;
  /** How long a verified token is trusted without checking its signature again. */
  readonly verifiedCacheTtlMs?: number;
  /**
   * Said after the refusal of a token no key of the set verifies (an unknown key, a bad
   * signature): with the development issuer, what to do about it.
   */
  readonly unknownKeyHint?: string;
}

interface VerifiedToken {
  readonly claims: TokenClaims;
  /** Until when the entry may answer: the earlier of the token's `exp` and the cache lifetime. */
  readonly validUntilMs: number;
}

export class JwtVerifier implements TokenVerifier, CacheStatsSource {
  private readonly algorithms: readonly string[];
  private readonly issuers: string[];
  /**
   * Signature checks cost ~0.2 ms of CPU each. Remembering a verified token for a few minutes
   * trusts nothing new: the token string is byte-for-byte the one whose signature, issuer and
   * audience were checked, `exp` still bounds it, and a retired signing key is only noticed on the
   * next key-set refresh anyway.
   */
  private readonly verified: BoundedCache<string, VerifiedToken> | null;
  private readonly verifiedCacheTtlMs: number;

  constructor(private readonly options: JwtVerifierOptions) {
    this.algorithms = options.algorithms ?? DEFAULT_ALLOWED_ALGORITHMS;
    const size = options.verifiedCacheSize ?? 10_000;
    this.verifiedCacheTtlMs = options.verifiedCacheTtlMs ?? 5 * 60_000;
    const currentDate = options.currentDate;
    this.verified =
      size > 0
        ? new BoundedCache<string, VerifiedToken>({
            name: "verified_tokens",
            maxEntries: size,
            // Tokens vary from one to MAX_TOKEN_LENGTH characters: weigh them (UTF-16, plus the claims).
            maxBytes: VERIFIED_CACHE_MAX_BYTES,
            sizeOf: (_entry, token) => token.length * 2 + 512,
            ttlMs: this.verifiedCacheTtlMs,
            ...(currentDate ? { now: () => currentDate().getTime() } : {}),
          })
        : null;
    const issuer = options.issuer.replace(/\/+$/, "");
    this.issuers = [issuer, `${issuer}/`];
  }

  stats(): CacheStats {
    return this.verified?.stats() ?? { name: "verified_tokens", hits: 0, misses: 0, evictions: 0, entries: 0, bytes: 0 };
  }

  async verify(token: string): Promise<TokenClaims> {
    if (token.length > MAX_TOKEN_LENGTH) {
      throw new AuthenticationError("Invalid token format: token is too large");
    }
    const nowMs = this.nowMs();
    // The entry's own bound decides, on the verifier's clock (the cache's age bound only frees memory).
    const remembered = this.verified?.get(token, (entry) => nowMs < entry.validUntilMs);
    if (remembered !== undefined) return remembered.claims;
    const claims = await this.verifyFully(token);
    this.remember(token, claims, nowMs);
    return claims;
  }

  private nowMs(): number {
    return this.options.currentDate ? this.options.currentDate().getTime() : Date.now();
  }

  private remember(token: string, claims: TokenClaims, nowMs: number): void {
    if (this.verified === null) return;
    const expiresMs = typeof claims["exp"] === "number" ? claims["exp"] * 1000 : nowMs;
    const validUntilMs = Math.min(expiresMs, nowMs + this.verifiedCacheTtlMs);
    if (validUntilMs <= nowMs) return;
    this.verified.set(token, { claims: Object.freeze({ ...claims }), validUntilMs }, validUntilMs - nowMs);
  }

  private async verifyFully(token: string): Promise<TokenClaims> {
    const header = protectedHeaderOf(token);
    if (Object.keys(header).length === 0) throw new AuthenticationError("Invalid token: missing header");
    if (typeof header.alg !== "string" || !this.algorithms.includes(header.alg)) {
      // Decided before any key is fetched: `none`, HS256 and friends never reach the key set.
      throw new AuthenticationError(`Invalid token: algorithm ${JSON.stringify(header.alg ?? null)} is not allowed`);
    }
    try {
      return await this.verifyWith(token, await this.options.keys.current());
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw this.withHint(rejectionOf(error));
    }
    // The token names a key we do not hold: the provider may have rotated its keys.
    if (await this.options.keys.refreshForUnknownKey()) {
      try {
        return await this.verifyWith(token, await this.options.keys.current());
      } catch (error) {
        throw rejectionOf(error);
      }
    }
    throw this.withHint(new AuthenticationError("Invalid token: no key in the identity provider's key set matches the token"));
  }

  /** A refusal of the key itself gets the hint; others (expired, wrong audience) stay as they are. */
  private withHint(error: Error): Error {
    const hint = this.options.unknownKeyHint;
    const aboutTheKey = error.message === "Invalid token signature" || error.message.startsWith("Invalid token: no key");
    return hint !== undefined && aboutTheKey ? new AuthenticationError(`${error.message}. ${hint}`) : error;
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

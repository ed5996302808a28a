/**
 * The identity provider's signing keys, found through OIDC discovery
 * (`<issuer>/.well-known/openid-configuration` → `jwks_uri`) and cached in process.
 *
 * - One fetch at a time: concurrent requests share the in-flight fetch.
 * - Keys are kept for `cacheTtlMs` (24 h by default), then refetched in the background while the
 *   held keys keep answering; when the refetch fails they keep serving (an IdP hiccup does not lock
 *   everyone out) and the refetch is retried after the cool-down.
 * - A token signed with an unknown `kid` triggers one refetch, at most once per `refreshCooldownMs`,
 *   so that key rotation works without a restart and forged kids cannot hammer the IdP.
 *
 * Why not jose's `createRemoteJWKSet` (checked against jose 6.2): once its cache is older than
 * `cacheMaxAge` it awaits the refetch on the request path and throws when it fails, so an IdP
 * outage past ten minutes rejects every token while the held keys are still valid; and it reads
 * the JWKS response whole, with no size bound. Verification itself is jose's (`createLocalJWKSet`).
 */
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";
import { IdentityProviderUnavailableError } from "../../domain/authentication-errors.js";
import type { KeySetSource } from "./key-set-source.js";

export interface DiscoveredKeySetOptions {
  /** Issuer URL without a trailing slash. */
  readonly issuerUrl: string;
  readonly cacheTtlMs?: number;
  readonly refreshCooldownMs?: number;
  readonly fetchTimeoutMs?: number;
  /** Largest discovery or JWKS document accepted, in bytes. */
  readonly maxDocumentBytes?: number;
  readonly fetch?: typeof globalThis.fetch;
  readonly now?: () => number;
  /** Told about failed fetches (the message never carries a token). */
  readonly onFetchFailure?: (error: Error, servingStaleKeys: boolean) => void;
}

interface CachedKeys {
  readonly keys: JWTVerifyGetKey;
  readonly fetchedAt: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class DiscoveredKeySet implements KeySetSource {
  private cached: CachedKeys | null = null;
  private inFlight: Promise<CachedKeys> | null = null;
  private lastFetchStartedAt = Number.NEGATIVE_INFINITY;
  private readonly cacheTtlMs: number;
  private readonly refreshCooldownMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly maxDocumentBytes: number;
  private readonly fetchImpl: typeof globalThis.fetch;
  private readonly now: () => number;

  constructor(private readonly options: DiscoveredKeySetOptions) {
    this.cacheTtlMs = options.cacheTtlMs ?? DAY_MS;
    this.refreshCooldownMs = options.refreshCooldownMs ?? 30_000;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;
    this.maxDocumentBytes = options.maxDocumentBytes ?? 512 * 1024;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  async current(): Promise<JWTVerifyGetKey> {
    const cached = this.cached;
    if (cached === null) {
      try {
        return (await this.fetchOnce()).keys;
      } catch (error) {
        this.options.onFetchFailure?.(error as Error, false);
        throw error;
      }
    }
    const now = this.now();
    if (now - cached.fetchedAt >= this.cacheTtlMs && this.inFlight === null && now - this.lastFetchStartedAt >= this.refreshCooldownMs) {
      // Stale: answer with the keys held and refresh in the background, so that no request waits
      // on the provider (or on its timeout while it is down). Failed refreshes retry after the
      // cool-down.
      this.fetchOnce().catch((error: unknown) => this.options.onFetchFailure?.(error as Error, true));
    }
    return cached.keys;
  }

  async refreshForUnknownKey(): Promise<boolean> {
    if (this.inFlight === null && this.now() - this.lastFetchStartedAt < this.refreshCooldownMs) return false;
    try {
      await this.fetchOnce();
    } catch (error) {
      this.options.onFetchFailure?.(error as Error, this.cached !== null);
      throw error;
    }
    return true;
  }

  private fetchOnce(): Promise<CachedKeys> {
    if (this.inFlight === null) {
      this.lastFetchStartedAt = this.now();
      this.inFlight = this.fetchKeys().finally(() => {
        this.inFlight = null;
      });
    }
    return this.inFlight;
  }

  private async fetchKeys(): Promise<CachedKeys> {
    const discoveryUrl = `${this.options.issuerUrl}/.well-known/openid-configuration`;
    const discovery = await this.fetchJson(discoveryUrl, "OIDC discovery document");
    const jwksUri = (discovery as { jwks_uri?: unknown }).jwks_uri;
    if (typeof jwksUri !== "string" || jwksUri === "") {
      throw new IdentityProviderUnavailableError("OIDC provider missing jwks_uri in configuration");
    }
    const jwks = await this.fetchJson(jwksUri, "JWKS");
    if (!Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new IdentityProviderUnavailableError("OIDC provider returned a JWKS without a keys array");
    }
    let keys: JWTVerifyGetKey;
    try {
      keys = createLocalJWKSet(jwks as JSONWebKeySet);
    } catch (error) {
      throw new IdentityProviderUnavailableError(`OIDC provider returned an invalid JWKS: ${messageOf(error)}`, { cause: error });
    }
    const fresh = { keys, fetchedAt: this.now() };
    this.cached = fresh;
    return fresh;
  }

  private async fetchJson(url: string, what: string): Promise<unknown> {
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(this.fetchTimeoutMs),
        redirect: "follow",
      });
    } catch (error) {
      throw new IdentityProviderUnavailableError(`Failed to fetch ${what} from OIDC provider: ${messageOf(error)}`, { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new IdentityProviderUnavailableError(`Failed to fetch ${what} from OIDC provider: HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get("content-length") ?? "0");
    if (declared > this.maxDocumentBytes) {
      await response.body?.cancel();
      throw new IdentityProviderUnavailableError(`OIDC provider's ${what} is larger than ${this.maxDocumentBytes} bytes`);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new IdentityProviderUnavailableError(`Failed to fetch ${what} from OIDC provider: ${messageOf(error)}`, { cause: error });
    }
    if (text.length > this.maxDocumentBytes) {
      throw new IdentityProviderUnavailableError(`OIDC provider's ${what} is larger than ${this.maxDocumentBytes} bytes`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new IdentityProviderUnavailableError(`OIDC provider's ${what} is not JSON`);
    }
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}

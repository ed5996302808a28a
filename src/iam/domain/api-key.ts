import { AggregateRoot } from "./aggregate-root.js";
import { ConflictError } from "./errors.js";
import { nameOf } from "./names.js";

/** An API key as listed (never with its secret). */
export interface ApiKeyState {
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

export const API_KEY_ALREADY_REVOKED = "API key is already revoked";

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The API key aggregate: a named credential of one user in one tenant, with a digest of its secret
 * (the secret itself never reaches the domain). A key is revoked once; it is deleted only with
 * its tenant. Each change records the event that keeps its relationships in step.
 */
export class ApiKey extends AggregateRoot {
  private current: ApiKeyState;
  private readonly persistedRevokedAt: Date | null;
  private deleted = false;

  private constructor(
    state: ApiKeyState,
    /** Set on a key just issued, for its insertion; absent on stored keys. */
    readonly keyDigest: string | null,
  ) {
    super();
    this.current = state;
    this.persistedRevokedAt = keyDigest === null ? state.revokedAt : null;
  }

  /** A new key for its creator, expiring `expiresInDays` after `now`. */
  static issue(input: {
    id: string;
    tenantId: string;
    createdByUserId: string;
    name: string;
    keyDigest: string;
    prefix: string;
    expiresInDays: number;
    now: Date;
  }): ApiKey {
    const name = nameOf("API key", input.name);
    const state: ApiKeyState = {
      id: input.id,
      tenantId: input.tenantId,
      name,
      prefix: input.prefix,
      createdByUserId: input.createdByUserId,
      createdAt: input.now,
      expiresAt: new Date(input.now.getTime() + input.expiresInDays * DAY_MS),
      lastUsedAt: null,
      revokedAt: null,
    };
    const key = new ApiKey(state, input.keyDigest);
    key.record({
      type: "ApiKeyCreated",
      tenantId: state.tenantId,
      occurredAt: input.now,
      apiKeyId: state.id,
      userId: state.createdByUserId,
      name,
      prefix: state.prefix,
    });
    return key;
  }

  /** A key as stored; records nothing. */
  static restore(state: ApiKeyState): ApiKey {
    return new ApiKey(state, null);
  }

  get id(): string {
    return this.current.id;
  }

  get tenantId(): string {
    return this.current.tenantId;
  }

  get createdByUserId(): string {
    return this.current.createdByUserId;
  }

  get revokedAt(): Date | null {
    return this.current.revokedAt;
  }

  get isNew(): boolean {
    return this.keyDigest !== null;
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /** True when the revocation is not stored yet. */
  get revocationChanged(): boolean {
    return this.current.revokedAt !== this.persistedRevokedAt;
  }

  snapshot(): ApiKeyState {
    return this.current;
  }

  /** Revoked by someone allowed to: revoking a key twice is a conflict the caller hears about. */
  revoke(now: Date): void {
    if (this.current.revokedAt !== null) throw new ConflictError(API_KEY_ALREADY_REVOKED);
    this.markRevoked(now);
  }

  /** Its creator left the tenant: a live key stops working, a revoked one stays as it is. */
  revokeWithCreator(now: Date): void {
    if (this.current.revokedAt === null) this.markRevoked(now);
  }

  /** Deleted with its tenant. */
  markDeletedWithTenant(now: Date): void {
    this.deleted = true;
    this.record({ type: "ApiKeyDeleted", tenantId: this.tenantId, occurredAt: now, apiKeyId: this.id, userId: this.createdByUserId });
  }

  private markRevoked(now: Date): void {
    this.current = { ...this.current, revokedAt: now };
    this.record({ type: "ApiKeyRevoked", tenantId: this.tenantId, occurredAt: now, apiKeyId: this.id, userId: this.createdByUserId });
  }
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

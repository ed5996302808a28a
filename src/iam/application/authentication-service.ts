/**
 * Decides who is calling and in which tenant, in the reference's order of failures:
 * credentials (401) → tenant context (400/403) → just-in-time user provisioning (409).
 *
 * - A bearer token always wins over an API key; an invalid token is never skipped in favour of one.
 * - JWT callers are provisioned on every request (cached, so unchanged claims cost nothing).
 *   Provisioning also binds the invitations waiting for the token's email when the token says the
 *   email is verified (`email_verified: true`); the same upsert says whether there are any.
 * - API-key callers act as the key's creator in the key's tenant; the tenant header is ignored.
 */
import { setChangeActor } from "../../shared-kernel/change-origin.js";
import type { AuthorizationPort } from "../../shared-kernel/authorization/authorization-port.js";
import { BoundedCache, type CacheStatsSource } from "../../shared-kernel/bounded-cache.js";
import { normaliseUlid } from "../../shared-kernel/ids.js";
import { MAX_OBJECT_ID_UTF8_BYTES, isStorableObjectId } from "../../shared-kernel/authorization/object-ids.js";
import { API_KEY_USAGE_RESOLUTION_MS, apiKeyUsername, type ApiKeyCredential } from "../domain/api-key.js";
import { AuthenticationError, IdentityProviderUnavailableError } from "../domain/authentication-errors.js";
import { ConflictError, ForbiddenError, InvalidInputError } from "../domain/errors.js";
import { normaliseEmail } from "../domain/invitation.js";
import { MAX_USER_FIELD_LENGTH } from "../domain/user.js";
import type { ApiKeyRepository } from "../ports/api-key-repository.js";
import type { ApiKeySecrets } from "../ports/api-key-secrets.js";
import type { TokenClaims, TokenVerifier } from "../ports/token-verifier.js";
import type { UserRepository } from "../ports/user-repository.js";
import type { AuthenticationProbe } from "../ports/authentication-probe.js";
import type { AuthenticatedUser, Caller } from "./caller.js";
import type { DefaultTenantAccess } from "./default-tenant-access.js";
import type { InvitationBinding } from "./invitation-binding.js";
import { ProvisionedUserCache, type ProvisionedClaims } from "./provisioned-user-cache.js";

export type Credential =
  | { readonly kind: "none" }
  | { readonly kind: "bearer"; readonly token: string }
  | { readonly kind: "api_key"; readonly secret: string };

export interface AuthenticationSettings {
  readonly userIdClaim: string;
  readonly usernameClaim: string;
  readonly singleTenantMode: boolean;
  readonly bootstrapAdminUsernames: readonly string[];
}

export interface AuthenticationDependencies {
  readonly settings: AuthenticationSettings;
  readonly tokens: TokenVerifier;
  readonly users: UserRepository;
  readonly apiKeys: Pick<ApiKeyRepository, "findUsableCredential" | "recordUse">;
  readonly secrets: ApiKeySecrets;
  readonly authorization: AuthorizationPort;
  readonly defaultTenant: DefaultTenantAccess;
  readonly invitations: InvitationBinding;
  readonly probe: AuthenticationProbe;
  readonly now?: () => Date;
  readonly provisionedUsers?: ProvisionedUserCache;
  /**
   * The authorization revision, which every applied IAM change moves (key revocation, removal of
   * the creator from the tenant, tenant deletion included). A usable API key found at one revision
   * is trusted again without a database read until the revision moves or the key expires.
   * Without it, every API-key request reads the database.
   */
  readonly revision?: () => number;
}

/** Enough for a busy deployment's keys; past it the least recently used go first. */
const MAX_REMEMBERED_KEYS = 10_000;

/** A usable credential as found at an authorization revision. */
interface RememberedKey {
  credential: ApiKeyCredential;
  readonly revision: number;
}

export interface Authentication {
  readonly user: AuthenticatedUser;
  /** Set when tenant context was asked for. */
  readonly caller: Caller | null;
  /**
   * With `admitNonMembers`: the tenant X-Tenant-ID names when the caller does not belong to it
   * (the caller is then null); null otherwise.
   */
  readonly nonMemberTenantId: string | null;
}

export interface AuthenticationOptions {
  /**
   * Let a caller who is not a member of the tenant X-Tenant-ID names through (caller null,
   * `nonMemberTenantId` set) instead of refusing them (403); without a tenant in multi-tenant mode,
   * no tenant instead of a 400. For `GET /iam/users/me`, which answers "not a member".
   */
  readonly admitNonMembers?: boolean;
}

export const NOT_AUTHENTICATED = "Not authenticated";
export const INVALID_API_KEY = "Invalid or expired API key";
export const NO_TENANT_ACCESS = "You do not have access to this tenant";
export const TENANT_HEADER_REQUIRED = "X-Tenant-ID header is required";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A claim the service stores as it is must be text PostgreSQL can hold: no NUL, no half of a
 * surrogate pair. A token carrying such a claim is refused like any bad token (401).
 */
function assertStorableClaim(claim: string, value: string): void {
  if (value.includes("\u0000") || LONE_SURROGATE.test(value)) throw new AuthenticationError(`Invalid token claims: ${claim} contains a character that cannot be stored`);
}

export class AuthenticationService {
  private readonly provisionedUsers: ProvisionedUserCache;
  private readonly now: () => Date;
  private readonly bootstrapAdmins: ReadonlySet<string>;
  /** Credentials are of one small shape: the entry bound is the byte bound. */
  private readonly usableKeys = new BoundedCache<string, RememberedKey>({ name: "api_keys", maxEntries: MAX_REMEMBERED_KEYS });
  private readonly provisioning = new Map<string, Promise<readonly string[]>>();
  /**
   * The user id each token subject acts as (itself, or the directory-provisioned account it was
   * linked to). Links never go away; a subject without one is asked again after a while, since a
   * directory may provision its username meanwhile.
   */
  private readonly subjects = new BoundedCache<string, string>({ name: "user_subjects", maxEntries: MAX_REMEMBERED_KEYS, ttlMs: 5 * 60_000 });

  constructor(private readonly deps: AuthenticationDependencies) {
    this.provisionedUsers = deps.provisionedUsers ?? new ProvisionedUserCache();
    this.now = deps.now ?? (() => new Date());
    // Usernames are case-insensitive (as their uniqueness is), so is the bootstrap list.
    this.bootstrapAdmins = new Set(deps.settings.bootstrapAdminUsernames.map((name) => name.toLowerCase()));
  }

  /** The caches this service keeps, for /metrics. */
  get caches(): readonly CacheStatsSource[] {
    return [this.usableKeys, this.provisionedUsers, this.subjects];
  }

  /**
   * @param withTenant resolve the tenant context too (routes declaring `auth: "tenant"`)
   * @param tenantHeader the raw `X-Tenant-ID` value, undefined when absent
   */
  async authenticate(
    credential: Credential,
    withTenant: boolean,
    tenantHeader: string | undefined,
    options: AuthenticationOptions = {},
  ): Promise<Authentication> {
    switch (credential.kind) {
      case "none":
        throw new AuthenticationError(NOT_AUTHENTICATED);
      case "api_key": {
        const user = await this.authenticateApiKey(credential.secret);
        return { user, caller: withTenant ? { ...user, tenantId: user.apiKeyTenantId as string } : null, nonMemberTenantId: null };
      }
      case "bearer":
        return this.authenticateBearer(credential.token, withTenant, tenantHeader, options.admitNonMembers === true);
    }
  }

  private async authenticateBearer(
    token: string,
    withTenant: boolean,
    tenantHeader: string | undefined,
    admitNonMembers: boolean,
  ): Promise<Authentication> {
    const profile = await this.linkedProfile(this.profileOf(await this.verify(token)));
    const user: AuthenticatedUser = { userId: profile.id, username: profile.username, apiKeyId: null, apiKeyTenantId: null };
    // What signing in changes (joining the default tenant, binding an invitation) is this user's doing.
    setChangeActor({ type: "user", id: profile.id, username: profile.username });
    const outside = (tenantId: string | null): Authentication => ({ user, caller: null, nonMemberTenantId: tenantId });
    if (!withTenant) {
      await this.provision(profile);
      return outside(null);
    }
    if (profile.id.trim() === "") throw new InvalidInputError("user_id must not be empty");
    if (profile.username.trim() === "") throw new InvalidInputError("username must not be empty");

    if (tenantHeader !== undefined) {
      const tenantId = normaliseUlid(tenantHeader);
      if (tenantId === null) {
        throw new InvalidInputError(`X-Tenant-ID must be a valid ULID format, got: '${tenantHeader}'`);
      }
      if (await this.canViewTenant(tenantId, profile.id)) {
        await this.provision(profile);
      } else if (!profile.emailVerified || !(await this.provision(profile)).includes(tenantId)) {
        // Not a member, unless this very request binds an invitation to the tenant (a first
        // sign-in, or the first since the invitation). Only a verified email can have one: other
        // refused callers are not provisioned, as in the reference (403 before any 409).
        if (!admitNonMembers) throw new ForbiddenError(NO_TENANT_ACCESS);
        // Admitted, they are: the answer describes their stored user.
        await this.provision(profile);
        return outside(tenantId);
      }
      return { user, caller: { ...user, tenantId }, nonMemberTenantId: null };
    }
    if (!this.deps.settings.singleTenantMode) {
      if (!admitNonMembers) throw new InvalidInputError(TENANT_HEADER_REQUIRED);
      await this.provision(profile);
      return outside(null);
    }

    // Single-tenant mode: the caller lands in the default tenant, joining it on first use (or
    // through an invitation bound by provisioning). The user row must exist before the
    // membership row that refers to it.
    const bound = await this.provision(profile);
    const tenantId = await this.deps.defaultTenant.ensureDefaultTenant();
    if (!bound.includes(tenantId) && !(await this.canViewTenant(tenantId, profile.id))) {
      const asAdmin = this.bootstrapAdmins.has(profile.username.toLowerCase());
      const joined = await this.deps.defaultTenant.join(profile.id, asAdmin);
      if (joined !== null) this.deps.probe.defaultTenantJoined(profile.id, tenantId, joined === "admin");
    }
    return { user, caller: { ...user, tenantId }, nonMemberTenantId: null };
  }

  private async verify(token: string): Promise<TokenClaims> {
    try {
      return await this.deps.tokens.verify(token);
    } catch (error) {
      if (error instanceof AuthenticationError) this.deps.probe.tokenRejected(error.message);
      if (error instanceof IdentityProviderUnavailableError) this.deps.probe.identityProviderUnavailable(error);
      throw error;
    }
  }

  /** The claims with the user id the subject acts as (see UserRepository.userIdOfSubject). */
  private async linkedProfile(claims: ProvisionedClaims): Promise<ProvisionedClaims> {
    const key = `${claims.id}\u0000${claims.username.toLowerCase()}`;
    let id = this.subjects.get(key);
    if (id === undefined) {
      id = await this.deps.users.userIdOfSubject(claims.id, claims.username);
      this.subjects.set(key, id);
    }
    return id === claims.id ? claims : { ...claims, id };
  }

  private profileOf(claims: TokenClaims): ProvisionedClaims {
    const { userIdClaim, usernameClaim } = this.deps.settings;
    const rawId = claims[userIdClaim];
    if (rawId === undefined || rawId === null || rawId === "") {
      throw new AuthenticationError(`Missing required claim: ${userIdClaim}`);
    }
    if (typeof rawId !== "string" && typeof rawId !== "number") {
      throw new AuthenticationError(`Invalid token claims: ${userIdClaim} must be a string`);
    }
    const id = String(rawId);
    const rawUsername = claims[usernameClaim];
    const username = typeof rawUsername === "string" && rawUsername !== "" ? rawUsername : id;
    // Cut by characters, never inside a surrogate pair.
    const name = typeof claims["name"] === "string" ? [...claims["name"]].slice(0, MAX_USER_FIELD_LENGTH).join("") : null;
    const email = typeof claims["email"] === "string" ? claims["email"] : null;
    for (const [claim, value] of [
      [userIdClaim, id],
      [usernameClaim, username],
      ["name", name],
      ["email", email],
    ] as const) {
      if (value === null) continue;
      if (claim !== "name" && value.length > MAX_USER_FIELD_LENGTH) {
        throw new AuthenticationError(`Invalid token claims: ${claim} is longer than ${MAX_USER_FIELD_LENGTH} characters`);
      }
      assertStorableClaim(claim, value);
    }
    if (!isStorableObjectId(id)) {
      throw new AuthenticationError(`Invalid token claims: ${userIdClaim} is longer than ${MAX_OBJECT_ID_UTF8_BYTES} bytes of UTF-8`);
    }
    // Only a JSON `true` vouches for the email (not "true", not a missing claim).
    return { id, username, name, email, emailVerified: claims["email_verified"] === true };
  }

  /**
   * Writes the user's claims unless this process wrote the same ones recently, and binds the
   * invitations of a verified email. Returns the tenants joined through invitations just now.
   */
  private provision(claims: ProvisionedClaims): Promise<readonly string[]> {
    if (this.provisionedUsers.isCurrent(claims)) return Promise.resolve([]);
    // Concurrent first requests of one user share one provisioning (and its binding): each of
    // them is then let into the tenants it bound, not only the one that won the race.
    const key = JSON.stringify(claims);
    let provisioning = this.provisioning.get(key);
    if (provisioning === undefined) {
      provisioning = this.provisionNow(claims).finally(() => this.provisioning.delete(key));
      this.provisioning.set(key, provisioning);
    }
    return provisioning;
  }

  private async provisionNow(claims: ProvisionedClaims): Promise<readonly string[]> {
    const epoch = this.provisionedUsers.epoch;
    const invitationEmail = claims.emailVerified && claims.email !== null ? normaliseEmail(claims.email) : null;
    let provisioned;
    try {
      provisioned = await this.deps.users.provision(claims, invitationEmail);
    } catch (error) {
      if (error instanceof ConflictError) {
        this.provisionedUsers.forget(claims.id);
        this.deps.probe.userProvisioningConflict(claims.id, claims.username);
      }
      throw error;
    }
    if (provisioned.outcome !== "unchanged") this.deps.probe.userProvisioned(claims.id, provisioned.outcome);
    // Remembered only once bound: a failed binding is tried again by the next request.
    const bound =
      provisioned.invited && invitationEmail !== null ? await this.deps.invitations.bindInvitations(claims.id, invitationEmail) : [];
    this.provisionedUsers.remember(claims, epoch);
    return bound;
  }

  private async authenticateApiKey(secret: string): Promise<AuthenticatedUser> {
    const { secrets, apiKeys } = this.deps;
    if (!secrets.isWellFormed(secret)) {
      this.deps.probe.apiKeyRejected("malformed");
      throw new AuthenticationError(INVALID_API_KEY);
    }
    const digest = secrets.digestOf(secret);
    const now = this.now();
    const credential = await this.usableCredential(digest, now);
    if (credential === null || !secrets.digestsMatch(credential.keyDigest, digest)) {
      this.deps.probe.apiKeyRejected("unknown_or_unusable");
      throw new AuthenticationError(INVALID_API_KEY);
    }
    const lastUsed = credential.lastUsedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
    if (now.getTime() - lastUsed >= API_KEY_USAGE_RESOLUTION_MS) {
      await apiKeys.recordUse(credential.apiKeyId, now, API_KEY_USAGE_RESOLUTION_MS);
      const remembered = this.usableKeys.peek(digest);
      if (remembered !== undefined) remembered.credential = { ...credential, lastUsedAt: now };
    }
    return {
      userId: credential.createdByUserId,
      username: apiKeyUsername(credential.apiKeyId),
      apiKeyId: credential.apiKeyId,
      apiKeyTenantId: credential.tenantId,
    };
  }

  /**
   * The usable credential for a digest: remembered while the revision stands, else read. The
   * revision is taken before the read, so a change landing during the read is never masked.
   */
  private async usableCredential(digest: string, now: Date): Promise<ApiKeyCredential | null> {
    const revision = this.deps.revision?.();
    if (revision === undefined) return this.deps.apiKeys.findUsableCredential(digest, now);
    // Revocation, the creator leaving and tenant deletion all move the revision; expiry is checked here.
    const remembered = this.usableKeys.get(digest, (entry) => entry.revision === revision && entry.credential.expiresAt > now);
    if (remembered !== undefined) return remembered.credential;
    const credential = await this.deps.apiKeys.findUsableCredential(digest, now);
    if (credential !== null) this.usableKeys.set(digest, { credential, revision });
    return credential;
  }

  private canViewTenant(tenantId: string, userId: string): Promise<boolean> {
    return this.deps.authorization.check({
      resource: { type: "tenant", id: tenantId },
      permission: "view",
      subject: { type: "user", id: userId },
    });
  }
}

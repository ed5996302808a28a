import { describe, expect, it } from "vitest";
import type { AuthenticationProbe } from "../../../src/iam/ports/authentication-probe.js";
import { AuthenticationService, type AuthenticationSettings, type Credential } from "../../../src/iam/application/authentication-service.js";
import type { DefaultTenantAccess } from "../../../src/iam/application/default-tenant-access.js";
import type { ApiKeyCredential } from "../../../src/iam/domain/api-key.js";
import { AuthenticationError } from "../../../src/iam/domain/authentication-errors.js";
import { ConflictError, InvalidInputError } from "../../../src/iam/domain/errors.js";
import type { UserProfile } from "../../../src/iam/domain/user.js";
import { Sha256ApiKeySecrets } from "../../../src/iam/infrastructure/sha256-api-key-secrets.js";
import type { ApiKeyRepository } from "../../../src/iam/ports/api-key-repository.js";
import type { TokenClaims, TokenVerifier } from "../../../src/iam/ports/token-verifier.js";
import type { KeptUsernameClash, Provisioned, UserRepository } from "../../../src/iam/ports/user-repository.js";
import type { InvitationBinding } from "../../../src/iam/application/invitation-binding.js";
import { ProvisionedUserCache } from "../../../src/iam/application/provisioned-user-cache.js";
import type { AuthorizationPort } from "../../../src/shared-kernel/authorization/authorization-port.js";

/** Purpose-built fakes: they record calls and answer from fixed data. */
class ClaimsByTokenVerifier implements TokenVerifier {
  constructor(private readonly claims: Record<string, TokenClaims>) {}
  async verify(token: string): Promise<TokenClaims> {
    const claims = this.claims[token];
    if (claims === undefined) throw new AuthenticationError("Invalid token signature");
    return claims;
  }
}

class RecordingUserRepository implements UserRepository {
  readonly provisioned: UserProfile[] = [];
  /** The invitation email each provisioning asked about. */
  readonly askedAbout: (string | null)[] = [];
  conflictFor: string | null = null;
  readonly invitedEmails = new Set<string>();
  async provision(profile: UserProfile, invitationEmail: string | null): Promise<Provisioned> {
    this.provisioned.push(profile);
    this.askedAbout.push(invitationEmail);
    if (profile.username === this.conflictFor) throw new ConflictError("taken");
    return { outcome: "created", invited: invitationEmail !== null && this.invitedEmails.has(invitationEmail) };
  }
  async userIdOfSubject(subject: string): Promise<string> {
    return subject;
  }
  async keptUsernameClashes(): Promise<KeptUsernameClash[]> {
    return [];
  }
  async findById(): Promise<UserProfile | null> {
    return null;
  }
  async findTenantMembersByIds(): Promise<UserProfile[]> {
    return [];
  }
  async searchTenantMembers(): Promise<UserProfile[]> {
    return [];
  }
}

class RecordingApiKeyRepository implements Pick<ApiKeyRepository, "findUsableCredential" | "recordUse"> {
  readonly lookups: string[] = [];
  readonly uses: string[] = [];
  constructor(readonly credentials: ApiKeyCredential[]) {}
  async findUsableCredential(keyDigest: string): Promise<ApiKeyCredential | null> {
    this.lookups.push(keyDigest);
    return this.credentials.find((credential) => credential.keyDigest === keyDigest) ?? null;
  }
  async recordUse(apiKeyId: string): Promise<void> {
    this.uses.push(apiKeyId);
  }
}

const silentProbe: AuthenticationProbe = {
  tokenRejected() {},
  apiKeyRejected() {},
  identityProviderUnavailable() {},
  userProvisioned() {},
  userProvisioningConflict() {},
  defaultTenantJoined() {},
};

const TENANT = "01JTENANT00000000000000000";

/** Binds every invitation it is asked about into `TENANT` and records the calls. */
class RecordingInvitationBinding implements InvitationBinding {
  readonly calls: [string, string][] = [];
  async bindInvitations(userId: string, email: string): Promise<readonly string[]> {
    this.calls.push([userId, email]);
    return [TENANT];
  }
}
const allowAll = { check: async () => true } as unknown as AuthorizationPort;
const noDefaultTenant: DefaultTenantAccess = {
  ensureDefaultTenant: () => Promise.reject(new Error("unused")),
  join: () => Promise.reject(new Error("unused")),
};

function setUp(
  options: {
    claims?: Record<string, TokenClaims>;
    settings?: Partial<AuthenticationSettings>;
    credentials?: ApiKeyCredential[];
    now?: Date;
    revision?: () => number;
    authorization?: AuthorizationPort;
    defaultTenant?: DefaultTenantAccess;
    provisionedUsers?: ProvisionedUserCache;
  } = {},
) {
  const users = new RecordingUserRepository();
  const invitations = new RecordingInvitationBinding();
  const apiKeys = new RecordingApiKeyRepository(options.credentials ?? []);
  const service = new AuthenticationService({
    settings: { userIdClaim: "sub", usernameClaim: "preferred_username", singleTenantMode: false, bootstrapAdminUsernames: [], ...options.settings },
    tokens: new ClaimsByTokenVerifier(options.claims ?? {}),
    users,
    apiKeys: apiKeys as unknown as ApiKeyRepository,
    secrets: new Sha256ApiKeySecrets(),
    authorization: options.authorization ?? allowAll,
    defaultTenant: options.defaultTenant ?? noDefaultTenant,
    invitations,
    probe: silentProbe,
    now: () => options.now ?? new Date("2025-06-01T12:00:00Z"),
    ...(options.revision ? { revision: options.revision } : {}),
    ...(options.provisionedUsers ? { provisionedUsers: options.provisionedUsers } : {}),
  });
  return { service, users, apiKeys, invitations };
}

const bearer = (token: string): Credential => ({ kind: "bearer", token });
const apiKey = (secret: string): Credential => ({ kind: "api_key", secret });

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "accepted";
  } catch (error) {
    return `${(error as Error).constructor.name}: ${(error as Error).message}`;
  }
}

describe("AuthenticationService", () => {
  it("writes the user once while the claims stay the same, and again when they change", async () => {
    const { service, users } = setUp({
      claims: {
        t1: { sub: "u1", preferred_username: "one", name: "One" },
        t2: { sub: "u1", preferred_username: "one", name: "One Renamed" },
      },
    });
    for (let index = 0; index < 5; index++) await service.authenticate(bearer("t1"), false, undefined);
    expect(users.provisioned).toHaveLength(1);
    await service.authenticate(bearer("t2"), false, undefined);
    expect(users.provisioned).toHaveLength(2);
    expect(users.provisioned[1]).toEqual({ id: "u1", username: "one", name: "One Renamed", email: null, emailVerified: false });
  });

  it("asks about invitations for a verified email only, binds them, and then remembers the user", async () => {
    const { service, users, invitations } = setUp({
      claims: {
        verified: { sub: "carol", email: " Carol@Example.COM", email_verified: true },
        unverified: { sub: "dave", email: "dave@example.com" },
        stringly: { sub: "erin", email: "erin@example.com", email_verified: "true" },
      },
    });
    users.invitedEmails.add("carol@example.com").add("dave@example.com").add("erin@example.com");
    await service.authenticate(bearer("verified"), false, undefined);
    await service.authenticate(bearer("verified"), false, undefined);
    await service.authenticate(bearer("unverified"), false, undefined);
    await service.authenticate(bearer("stringly"), false, undefined);
    expect(users.askedAbout).toEqual(["carol@example.com", null, null]);
    expect(invitations.calls).toEqual([["carol", "carol@example.com"]]);
  });

  it("lets a first request into the tenant that its own provisioning just bound it to", async () => {
    const denyAll = { check: async () => false } as unknown as AuthorizationPort;
    const { service, users } = setUp({
      authorization: denyAll,
      claims: {
        invited: { sub: "carol", email: "carol@example.com", email_verified: true },
        stranger: { sub: "sam", email: "sam@example.com", email_verified: true },
        anonymous: { sub: "nemo" },
      },
    });
    users.invitedEmails.add("carol@example.com");
    expect((await service.authenticate(bearer("invited"), true, TENANT)).caller?.tenantId).toBe(TENANT);
    expect(await rejection(service.authenticate(bearer("stranger"), true, TENANT))).toBe(
      "ForbiddenError: You do not have access to this tenant",
    );
    // Remembered now: a denied request costs no database round trip.
    expect(await rejection(service.authenticate(bearer("stranger"), true, TENANT))).toBe(
      "ForbiddenError: You do not have access to this tenant",
    );
    // Without a verified email no invitation can bind: a refused caller is not even written.
    expect(await rejection(service.authenticate(bearer("anonymous"), true, TENANT))).toBe(
      "ForbiddenError: You do not have access to this tenant",
    );
    expect(users.provisioned.map((p) => p.id)).toEqual(["carol", "sam"]);
  });

  it("shares one provisioning among a user's concurrent first requests", async () => {
    const { service, users, invitations } = setUp({ claims: { t: { sub: "carol", email: "carol@example.com", email_verified: true } } });
    users.invitedEmails.add("carol@example.com");
    const callers = await Promise.all(Array.from({ length: 4 }, () => service.authenticate(bearer("t"), true, TENANT)));
    expect(callers.map((c) => c.caller?.tenantId)).toEqual([TENANT, TENANT, TENANT, TENANT]);
    expect(users.provisioned).toHaveLength(1);
    expect(invitations.calls).toHaveLength(1);
  });

  it("provisions a remembered user again once this process invites their email, and not before", async () => {
    const provisionedUsers = new ProvisionedUserCache();
    const { service, users } = setUp({
      provisionedUsers,
      claims: { t: { sub: "bob", email: "Bob@example.com", email_verified: true } },
    });
    await service.authenticate(bearer("t"), false, undefined);
    provisionedUsers.invited("someone-else@example.com");
    await service.authenticate(bearer("t"), false, undefined);
    expect(users.provisioned).toHaveLength(1);
    provisionedUsers.invited("bob@example.com");
    await service.authenticate(bearer("t"), false, undefined);
    await service.authenticate(bearer("t"), false, undefined);
    expect(users.provisioned).toHaveLength(2);
  });

  it("matches bootstrap admin usernames ignoring case", async () => {
    const joined: [string, boolean][] = [];
    const defaultTenant: DefaultTenantAccess = {
      ensureDefaultTenant: async () => TENANT,
      join: async (userId, asAdmin) => {
        joined.push([userId, asAdmin]);
        return asAdmin ? "admin" : "member";
      },
    };
    const { service } = setUp({
      authorization: { check: async () => false } as unknown as AuthorizationPort,
      defaultTenant,
      settings: { singleTenantMode: true, bootstrapAdminUsernames: ["Alice"] },
      claims: { alice: { sub: "a-1", preferred_username: "ALICE" }, bob: { sub: "b-1", preferred_username: "bob" } },
    });
    await service.authenticate(bearer("alice"), true, undefined);
    await service.authenticate(bearer("bob"), true, undefined);
    expect(joined).toEqual([
      ["a-1", true],
      ["b-1", false],
    ]);
  });

  it("retries provisioning after a username clash instead of caching it", async () => {
    const { service, users } = setUp({ claims: { t: { sub: "u2", preferred_username: "taken" } } });
    users.conflictFor = "taken";
    expect(await rejection(service.authenticate(bearer("t"), false, undefined))).toBe("ConflictError: taken");
    expect(await rejection(service.authenticate(bearer("t"), false, undefined))).toBe("ConflictError: taken");
    expect(users.provisioned).toHaveLength(2);
  });

  it("reads the configured claims, falling back to the id for the username", async () => {
    const { service } = setUp({
      settings: { userIdClaim: "oid", usernameClaim: "upn" },
      claims: { a: { oid: 42, upn: "" }, b: { oid: "x", upn: "ex", email: "X@Example.com" }, c: { sub: "no-oid" } },
    });
    expect((await service.authenticate(bearer("a"), false, undefined)).user).toMatchObject({ userId: "42", username: "42" });
    expect((await service.authenticate(bearer("b"), false, undefined)).user).toMatchObject({ userId: "x", username: "ex" });
    expect(await rejection(service.authenticate(bearer("c"), false, undefined))).toBe("AuthenticationError: Missing required claim: oid");
  });

  it("refuses over-long or non-string subjects, and blank ids in tenant context", async () => {
    const { service } = setUp({
      claims: { long: { sub: "x".repeat(256) }, object: { sub: { nested: true } }, blank: { sub: "  ", preferred_username: "blank" } },
    });
    expect(await rejection(service.authenticate(bearer("long"), false, undefined))).toMatch(/^AuthenticationError: Invalid token claims: sub is longer/);
    expect(await rejection(service.authenticate(bearer("object"), false, undefined))).toMatch(/^AuthenticationError: Invalid token claims/);
    expect(await rejection(service.authenticate(bearer("blank"), true, TENANT))).toBe(`${InvalidInputError.name}: user_id must not be empty`);
  });

  it("refuses a malformed API key without touching the repository", async () => {
    const { service, apiKeys } = setUp();
    for (const secret of ["", "karto_", "karto_short", `karto_${"A".repeat(44)}`, `KARTO_${"A".repeat(43)}`, `karto_${"-".repeat(43)}`, "x".repeat(100_000)]) {
      expect(await rejection(service.authenticate(apiKey(secret), true, undefined))).toBe("AuthenticationError: Invalid or expired API key");
    }
    expect(apiKeys.lookups).toEqual([]);
  });

  it("looks a well-formed key up once by digest and records use only when a minute has passed", async () => {
    const secrets = new Sha256ApiKeySecrets();
    const issued = secrets.issue();
    const now = new Date("2025-06-01T12:00:00Z");
    const credential = (lastUsedAt: Date | null): ApiKeyCredential => ({
      apiKeyId: "01JKEY0000000000000000000A",
      tenantId: TENANT,
      createdByUserId: "creator",
      keyDigest: issued.digest,
      expiresAt: new Date("2025-07-01T12:00:00Z"),
      lastUsedAt,
    });

    const unknown = setUp({ now });
    expect(await rejection(unknown.service.authenticate(apiKey(secrets.issue().secret), true, undefined))).toBe(
      "AuthenticationError: Invalid or expired API key",
    );
    expect(unknown.apiKeys.lookups).toHaveLength(1);

    const recent = setUp({ now, credentials: [credential(new Date(now.getTime() - 30_000))] });
    const result = await recent.service.authenticate(apiKey(issued.secret), true, "ignored");
    expect(result.caller).toEqual({
      userId: "creator",
      username: "api-key:01JKEY0000000000000000000A",
      apiKeyId: "01JKEY0000000000000000000A",
      apiKeyTenantId: TENANT,
      tenantId: TENANT,
    });
    expect(recent.apiKeys.lookups).toEqual([issued.digest]);
    expect(recent.apiKeys.uses).toEqual([]);

    const stale = setUp({ now, credentials: [credential(new Date(now.getTime() - 61_000))] });
    await stale.service.authenticate(apiKey(issued.secret), false, undefined);
    expect(stale.apiKeys.uses).toEqual(["01JKEY0000000000000000000A"]);

    const never = setUp({ now, credentials: [credential(null)] });
    await never.service.authenticate(apiKey(issued.secret), false, undefined);
    expect(never.apiKeys.uses).toHaveLength(1);
  });

  it("remembers a usable key only while the authorization revision stands", async () => {
    const secrets = new Sha256ApiKeySecrets();
    const issued = secrets.issue();
    const now = new Date("2025-06-01T12:00:00Z");
    let revision = 7;
    const credential: ApiKeyCredential = {
      apiKeyId: "01JKEY0000000000000000000B",
      tenantId: TENANT,
      createdByUserId: "creator",
      keyDigest: issued.digest,
      expiresAt: new Date("2025-06-01T12:00:30Z"),
      lastUsedAt: now,
    };
    const { service, apiKeys } = setUp({ now, credentials: [credential], revision: () => revision });
    await service.authenticate(apiKey(issued.secret), false, undefined);
    await service.authenticate(apiKey(issued.secret), false, undefined);
    expect(apiKeys.lookups).toHaveLength(1);

    // Revocation (or the creator leaving) is an IAM change: the revision moves and the key is read again.
    apiKeys.credentials.length = 0;
    revision = 8;
    expect(await rejection(service.authenticate(apiKey(issued.secret), false, undefined))).toBe(
      "AuthenticationError: Invalid or expired API key",
    );
    expect(apiKeys.lookups).toHaveLength(2);
  });

  it("never serves a remembered key past its expiry", async () => {
    const secrets = new Sha256ApiKeySecrets();
    const issued = secrets.issue();
    let now = new Date("2025-06-01T12:00:00Z");
    const credential: ApiKeyCredential = {
      apiKeyId: "01JKEY0000000000000000000C",
      tenantId: TENANT,
      createdByUserId: "creator",
      keyDigest: issued.digest,
      expiresAt: new Date("2025-06-01T12:00:30Z"),
      lastUsedAt: now,
    };
    const apiKeys = new RecordingApiKeyRepository([credential]);
    const service = new AuthenticationService({
      settings: { userIdClaim: "sub", usernameClaim: "preferred_username", singleTenantMode: false, bootstrapAdminUsernames: [] },
      tokens: new ClaimsByTokenVerifier({}),
      users: new RecordingUserRepository(),
      apiKeys: apiKeys as unknown as ApiKeyRepository,
      secrets,
      authorization: allowAll,
      defaultTenant: noDefaultTenant,
      invitations: new RecordingInvitationBinding(),
      probe: silentProbe,
      now: () => now,
      revision: () => 1,
    });
    await service.authenticate(apiKey(issued.secret), false, undefined);
    now = new Date("2025-06-01T12:01:00Z");
    // The database (which compares expires_at with now) would refuse it too.
    apiKeys.credentials.length = 0;
    expect(await rejection(service.authenticate(apiKey(issued.secret), false, undefined))).toBe(
      "AuthenticationError: Invalid or expired API key",
    );
  });

  it("answers 'Not authenticated' without credentials", async () => {
    const { service } = setUp();
    expect(await rejection(service.authenticate({ kind: "none" }, true, TENANT))).toBe("AuthenticationError: Not authenticated");
  });
});

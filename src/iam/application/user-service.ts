/**
 * Looking up users of the caller's tenant, by id or by text. Every member of the tenant is in
 * scope, admins included (DESIGN decision 11); nobody outside it ever is. Also "who am I": the
 * caller's own user and role in the current tenant.
 */
import type { TenantRole } from "../domain/roles.js";
import type { UserProfile } from "../domain/user.js";
import type { TenantRepository } from "../ports/tenant-repository.js";
import type { UserRepository } from "../ports/user-repository.js";
import type { AuthenticatedUser, Caller } from "./caller.js";

export const MAX_IDS_PER_LOOKUP = 100;
export const MAX_SEARCH_RESULTS = 20;

/** The caller as `GET /iam/users/me` answers: the user, and their role in the current tenant. */
export interface CurrentUser {
  readonly user: UserProfile;
  /** The tenant the request acts in; null in multi-tenant mode without X-Tenant-ID. */
  readonly tenantId: string | null;
  /** Null when the user is not a member of that tenant (or there is none). */
  readonly tenantRole: TenantRole | null;
  /** Set when the caller authenticated with an API key (the user is then its creator). */
  readonly apiKeyId: string | null;
}

export class UserService {
  constructor(
    private readonly users: UserRepository,
    private readonly tenants: Pick<TenantRepository, "memberRole">,
  ) {}

  /** Unknown ids and users of other tenants are silently left out. */
  findByIds(caller: Caller, ids: readonly string[]): Promise<UserProfile[]> {
    return this.users.findTenantMembersByIds(caller.tenantId, ids);
  }

  /** Case-insensitive substring match on username, name and email; at most 20 results. */
  search(caller: Caller, text: string): Promise<UserProfile[]> {
    return this.users.searchTenantMembers(caller.tenantId, text, MAX_SEARCH_RESULTS);
  }

  /**
   * The caller's user and their role in `tenantId`. The user row exists: authentication
   * provisions a token's user, and an API key's creator is a user. Should it be gone all the
   * same (deleted between the two reads), the credential's own identity stands in.
   */
  async current(user: AuthenticatedUser, tenantId: string | null): Promise<CurrentUser> {
    const [stored, tenantRole] = await Promise.all([
      this.users.findById(user.userId),
      tenantId === null ? Promise.resolve(null) : this.tenants.memberRole(tenantId, user.userId),
    ]);
    const profile = stored ?? { id: user.userId, username: user.username, name: null, email: null };
    return { user: profile, tenantId, tenantRole, apiKeyId: user.apiKeyId };
  }
}

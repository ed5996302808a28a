/**
 * Looking up users of the caller's tenant, by id or by text. Every member of the tenant is in
 * scope, admins included (DESIGN decision 11); nobody outside it ever is.
 */
import type { UserProfile } from "../domain/user.js";
import type { UserRepository } from "../ports/user-repository.js";
import type { Caller } from "./caller.js";

export const MAX_IDS_PER_LOOKUP = 100;
export const MAX_SEARCH_RESULTS = 20;

export class UserService {
  constructor(private readonly users: UserRepository) {}

  /** Unknown ids and users of other tenants are silently left out. */
  findByIds(caller: Caller, ids: readonly string[]): Promise<UserProfile[]> {
    return this.users.findTenantMembersByIds(caller.tenantId, ids);
  }

  /** Case-insensitive substring match on username, name and email; at most 20 results. */
  search(caller: Caller, text: string): Promise<UserProfile[]> {
    return this.users.searchTenantMembers(caller.tenantId, text, MAX_SEARCH_RESULTS);
  }
}

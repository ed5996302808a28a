/** What operators' commands read across tenants, outside any caller's permissions. */
import type { UserProfile } from "../domain/user.js";

export interface TenantOverview {
  readonly id: string;
  readonly name: string;
  readonly members: number;
}

export interface OperatorDirectory {
  /** Every tenant with its number of members, by name. */
  listTenants(): Promise<TenantOverview[]>;
  /** Users whose username, name or email contains `search` (case-insensitive; all when null), by username, at most `limit`. */
  listUsers(search: string | null, limit: number): Promise<UserProfile[]>;
  /** The user with this id, else the one with this username (case-insensitive), else null. */
  findUser(idOrUsername: string): Promise<UserProfile | null>;
}

import type { ApiKeyRepository } from "./api-key-repository.js";
import type { DirectoryGroups } from "./directory-groups.js";
import type { DirectoryUsers } from "./directory-users.js";
import type { ScimTokens } from "./scim-tokens.js";
import type { GroupRepository } from "./group-repository.js";
import type { TenantInvitationRepository } from "./tenant-invitation-repository.js";
import type { TenantMemberDirectory } from "./tenant-member-directory.js";
import type { TenantRepository } from "./tenant-repository.js";
import type { UserRepository } from "./user-repository.js";
import type { WorkspaceRepository } from "./workspace-repository.js";

/** Every repository, bound either to a transaction or to the database for plain reads. */
export interface Repositories {
  readonly tenants: TenantRepository;
  readonly workspaces: WorkspaceRepository;
  readonly groups: GroupRepository;
  readonly users: UserRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly tenantMemberDirectory: TenantMemberDirectory;
  readonly invitations: TenantInvitationRepository;
  /** What tenants' directories (SCIM) provisioned. */
  readonly directoryUsers: DirectoryUsers;
  /** The groups tenants' directories (SCIM) own. */
  readonly directoryGroups: DirectoryGroups;
  readonly scimTokens: ScimTokens;
}

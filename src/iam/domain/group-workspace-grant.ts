import type { WorkspaceRole } from "./roles.js";

/**
 * A role a group holds on a workspace (a workspace_members row with member_type 'group'), with
 * what the group-deletion rule needs to know about the workspace's other admins.
 */
export interface GroupWorkspaceGrant {
  readonly workspaceId: string;
  readonly workspaceName: string;
  readonly role: WorkspaceRole;
  /** Direct admin entries of the workspace (users or groups) other than this group. */
  readonly otherAdminCount: number;
}

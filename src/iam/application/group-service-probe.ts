/** What the group service reports, in the words of the domain (the pattern: probe-logger.ts). */
import type { ObservationContext } from "../../shared-kernel/observation-context.js";
import type { GroupRole } from "../domain/roles.js";
import { PinoProbe } from "./probe-logger.js";

export type GroupPermission = "view" | "manage";
/** The operations a refusal of the last-admin rule can come from. */
export type GroupOperation = "delete" | "add_member" | "change_member_role" | "remove_member";

export interface GroupMemberFact {
  readonly groupId: string;
  readonly memberUserId: string;
}

export interface GroupServiceProbe {
  withContext(context: ObservationContext): GroupServiceProbe;
  groupCreated(fact: { groupId: string; groupName: string }): void;
  groupsListed(fact: { count: number }): void;
  groupRenamed(fact: { groupId: string; groupName: string }): void;
  /** `workspaceGrantsRemoved`: the workspace roles the group held, removed with it. */
  groupDeleted(fact: { groupId: string; workspaceGrantsRemoved: number }): void;
  memberAdded(fact: GroupMemberFact & { role: GroupRole }): void;
  memberRoleChanged(fact: GroupMemberFact & { role: GroupRole }): void;
  memberRemoved(fact: GroupMemberFact): void;
  /** The caller could view the group but lacked the permission; invisible groups are not reported. */
  groupAccessDenied(fact: { groupId: string; permission: GroupPermission }): void;
  /** The last-admin rule refused a change (of the group, or of a workspace the group administers). */
  lastAdminProtected(fact: { groupId: string; operation: GroupOperation; reason: string }): void;
}

export class PinoGroupServiceProbe extends PinoProbe implements GroupServiceProbe {
  withContext(context: ObservationContext): GroupServiceProbe {
    return new PinoGroupServiceProbe(this.logger, context);
  }

  groupCreated(fact: { groupId: string; groupName: string }): void {
    this.info("group_created", fact, "group created");
  }
  groupsListed(fact: { count: number }): void {
    this.info("groups_listed", fact, "groups listed");
  }
  groupRenamed(fact: { groupId: string; groupName: string }): void {
    this.info("group_renamed", fact, "group renamed");
  }
  groupDeleted(fact: { groupId: string; workspaceGrantsRemoved: number }): void {
    this.info("group_deleted", fact, "group deleted");
  }
  memberAdded(fact: GroupMemberFact & { role: GroupRole }): void {
    this.info("group_member_added", fact, "group member added");
  }
  memberRoleChanged(fact: GroupMemberFact & { role: GroupRole }): void {
    this.info("group_member_role_changed", fact, "group member role changed");
  }
  memberRemoved(fact: GroupMemberFact): void {
    this.info("group_member_removed", fact, "group member removed");
  }
  groupAccessDenied(fact: { groupId: string; permission: GroupPermission }): void {
    this.warn("group_permission_denied", fact, "group permission denied");
  }
  lastAdminProtected(fact: { groupId: string; operation: GroupOperation; reason: string }): void {
    this.warn("group_last_admin_protected", fact, "last admin protected");
  }
}

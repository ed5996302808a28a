/**
 * What each IAM event means for SpiceDB: the relationships to write (TOUCH) or delete. Writes
 * and deletes are idempotent, so applying an event twice is harmless.
 */
import type { Relationship, RelationshipUpdate, SubjectRef } from "../../shared-kernel/authorization/authorization-port.js";
import type { IamEvent, WorkspaceMemberSnapshot } from "../domain/events.js";
import type { GroupRole, MemberType, TenantRole } from "../domain/roles.js";
import { TENANT_ROLES } from "../domain/roles.js";

const user = (id: string): SubjectRef => ({ type: "user", id });
const tenant = (id: string): SubjectRef => ({ type: "tenant", id });

/** Workspace grants to a group apply to everyone holding the group's `member` permission. */
export function workspaceSubject(memberType: MemberType, memberId: string): SubjectRef {
  return memberType === "group" ? { type: "group", id: memberId, relation: "member" } : user(memberId);
}

/** `member` is a permission on groups; the stored role is `member_relation`. */
export function groupRelation(role: GroupRole): string {
  return role === "admin" ? "admin" : "member_relation";
}

function rel(type: string, id: string, relation: string, subject: SubjectRef): Relationship {
  return { resource: { type, id }, relation, subject };
}

const touch = (relationship: Relationship): RelationshipUpdate => ({ operation: "touch", relationship });
const remove = (relationship: Relationship): RelationshipUpdate => ({ operation: "delete", relationship });

function workspaceMember(workspaceId: string, member: Pick<WorkspaceMemberSnapshot, "memberId" | "memberType">, role: string) {
  return rel("workspace", workspaceId, role, workspaceSubject(member.memberType, member.memberId));
}

export function translate(event: IamEvent): RelationshipUpdate[] {
  switch (event.type) {
    case "TenantCreated":
      return [];
    case "TenantMemberAdded":
      return [touch(rel("tenant", event.tenantId, event.role, user(event.userId)))];
    case "TenantMemberRemoved": {
      const roles: readonly TenantRole[] = event.role === null ? TENANT_ROLES : [event.role];
      return roles.map((role) => remove(rel("tenant", event.tenantId, role, user(event.userId))));
    }
    case "TenantDeleted":
      return event.members.map((m) => remove(rel("tenant", event.tenantId, m.role, user(m.userId))));
    case "GroupCreated":
      return [touch(rel("group", event.groupId, "tenant", tenant(event.tenantId)))];
    // An invitation is no relationship until someone uses it (then TenantMemberAdded).
    case "TenantInvitationCreated":
    case "TenantInvitationRevoked":
    case "ScimTokenCreated": // directory credentials are checked against their table, not SpiceDB
    case "ScimTokenRevoked":
    case "GroupRenamed":
    case "WorkspaceRenamed":
      return [];
    case "GroupDeleted":
      return [
        remove(rel("group", event.groupId, "tenant", tenant(event.tenantId))),
        ...event.members.map((m) =>
          remove(rel("group", event.groupId, groupRelation(m.role as GroupRole), user(m.userId))),
        ),
      ];
    case "GroupMemberAdded":
      return [touch(rel("group", event.groupId, groupRelation(event.role), user(event.userId)))];
    case "GroupMemberRemoved":
      return [remove(rel("group", event.groupId, groupRelation(event.role), user(event.userId)))];
    case "GroupMemberRoleChanged":
      return [
        remove(rel("group", event.groupId, groupRelation(event.oldRole), user(event.userId))),
        touch(rel("group", event.groupId, groupRelation(event.newRole), user(event.userId))),
      ];
    case "WorkspaceCreated": {
      const updates = [touch(rel("workspace", event.workspaceId, "tenant", tenant(event.tenantId)))];
      if (event.isRoot) {
        updates.push(touch(rel("tenant", event.tenantId, "root_workspace", { type: "workspace", id: event.workspaceId })));
      }
      if (event.parentWorkspaceId) {
        updates.push(
          touch(rel("workspace", event.workspaceId, "parent", { type: "workspace", id: event.parentWorkspaceId })),
        );
      }
      return updates;
    }
    case "WorkspaceCreatorTenantSet":
      return [touch(rel("workspace", event.workspaceId, "creator_tenant", tenant(event.tenantId)))];
    case "WorkspaceDeleted": {
      const updates = [remove(rel("workspace", event.workspaceId, "tenant", tenant(event.tenantId)))];
      if (event.isRoot) {
        updates.push(
          remove(rel("tenant", event.tenantId, "root_workspace", { type: "workspace", id: event.workspaceId })),
          remove(rel("workspace", event.workspaceId, "creator_tenant", tenant(event.tenantId))),
        );
      }
      if (event.parentWorkspaceId) {
        updates.push(
          remove(rel("workspace", event.workspaceId, "parent", { type: "workspace", id: event.parentWorkspaceId })),
        );
      }
      for (const member of event.members) updates.push(remove(workspaceMember(event.workspaceId, member, member.role)));
      return updates;
    }
    case "WorkspaceMemberAdded":
      return [touch(workspaceMember(event.workspaceId, event, event.role))];
    case "WorkspaceMemberRemoved":
      return [remove(workspaceMember(event.workspaceId, event, event.role))];
    case "WorkspaceMemberRoleChanged":
      return [
        remove(workspaceMember(event.workspaceId, event, event.oldRole)),
        touch(workspaceMember(event.workspaceId, event, event.newRole)),
      ];
    case "ApiKeyCreated":
      return [
        touch(rel("api_key", event.apiKeyId, "owner", user(event.userId))),
        touch(rel("api_key", event.apiKeyId, "tenant", tenant(event.tenantId))),
      ];
    case "ApiKeyRevoked":
      // The row's revocation blocks authentication; owners and admins still list the key.
      return [];
    case "ApiKeyDeleted":
      return [
        remove(rel("api_key", event.apiKeyId, "owner", user(event.userId))),
        remove(rel("api_key", event.apiKeyId, "tenant", tenant(event.tenantId))),
      ];
  }
}

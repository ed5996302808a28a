/**
 * Which audit events an IAM change produces: one per domain event, named by a stable dotted
 * action, with the resource that changed as the target (for a membership change: the tenant,
 * workspace or group) and what changed. A role replacement, which the tenant records as a removal
 * and an addition, is one `tenant.member_role_changed`. The README lists the actions.
 */
import { SYSTEM_AUDIT_SCOPE, type AuditActor, type AuditRequestContext, type AuditTarget, type NewAuditEvent } from "../../platform/audit/audit-event.js";
import type { ChangeOrigin } from "../../shared-kernel/change-origin.js";
import { newUlid } from "../../shared-kernel/ids.js";
import type { IamEvent } from "../domain/events.js";

export const AUDIT_ACTIONS = [
  "tenant.created",
  "tenant.deleted",
  "tenant.member_added",
  "tenant.member_role_changed",
  "tenant.member_removed",
  "tenant.invitation_created",
  "tenant.invitation_revoked",
  "tenant.scim_token_created",
  "tenant.scim_token_revoked",
  "workspace.created",
  "workspace.renamed",
  "workspace.deleted",
  "workspace.member_added",
  "workspace.member_role_changed",
  "workspace.member_removed",
  "group.created",
  "group.renamed",
  "group.deleted",
  "group.member_added",
  "group.member_role_changed",
  "group.member_removed",
  "api_key.created",
  "api_key.revoked",
  "api_key.deleted",
  "user.provisioned",
  "user.profile_changed",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** A resource an event names, whose name the audit record shows as it was. */
export interface TargetRef {
  readonly type: AuditTarget["type"];
  readonly id: string;
}

/** Names the events themselves carry (a creation, a rename): no query needed for those. */
export function namesCarriedBy(events: readonly IamEvent[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const event of events) {
    if (event.type === "TenantCreated") names.set(event.tenantId, event.name);
    if (event.type === "WorkspaceCreated" || event.type === "WorkspaceRenamed") names.set(event.workspaceId, event.name);
    if (event.type === "GroupCreated" && event.name !== undefined) names.set(event.groupId, event.name);
    if (event.type === "GroupRenamed") names.set(event.groupId, event.name);
    if (event.type === "ApiKeyCreated") names.set(event.apiKeyId, event.name);
    // Deletions carry the name the row no longer holds.
    if (event.type === "TenantDeleted" && event.name !== undefined) names.set(event.tenantId, event.name);
    if (event.type === "WorkspaceDeleted" && event.name !== undefined) names.set(event.workspaceId, event.name);
    if (event.type === "GroupDeleted" && event.name !== undefined) names.set(event.groupId, event.name);
  }
  return names;
}

/** The resource each event changes. */
export function targetOf(event: IamEvent): TargetRef | null {
  switch (event.type) {
    case "TenantCreated":
    case "TenantDeleted":
    case "TenantMemberAdded":
    case "TenantMemberRemoved":
    case "TenantInvitationCreated":
    case "TenantInvitationRevoked":
    case "ScimTokenCreated":
    case "ScimTokenRevoked":
      return { type: "tenant", id: event.tenantId };
    case "WorkspaceCreated":
    case "WorkspaceRenamed":
    case "WorkspaceDeleted":
    case "WorkspaceMemberAdded":
    case "WorkspaceMemberRemoved":
    case "WorkspaceMemberRoleChanged":
      return { type: "workspace", id: event.workspaceId };
    case "WorkspaceCreatorTenantSet":
      return null; // an internal relationship of a new workspace, not a change anyone made
    case "GroupCreated":
    case "GroupRenamed":
    case "GroupDeleted":
    case "GroupMemberAdded":
    case "GroupMemberRemoved":
    case "GroupMemberRoleChanged":
      return { type: "group", id: event.groupId };
    case "ApiKeyCreated":
    case "ApiKeyRevoked":
    case "ApiKeyDeleted":
      return { type: "api_key", id: event.apiKeyId };
  }
}

function actorOf(origin: ChangeOrigin): AuditActor {
  const { actor } = origin;
  return actor.userId === undefined ? { type: actor.type, id: actor.id, username: actor.username } : { type: actor.type, id: actor.id, username: actor.username, user_id: actor.userId };
}

function contextOf(origin: ChangeOrigin): AuditRequestContext {
  return { request_id: origin.requestId, ip: origin.ip, user_agent: origin.userAgent };
}

const user = (id: string) => ({ type: "user", id });
/** A value before and after the change (null: it did not exist). */
const change = (before: string | null, after: string | null) => ({ before, after });

/** Action and changes of one event; null for events that are not audited on their own. */
function describe(event: IamEvent, events: readonly IamEvent[], index: number): { action: AuditAction; changes: Record<string, unknown> } | null {
  switch (event.type) {
    case "TenantCreated":
      return { action: "tenant.created", changes: { name: change(null, event.name) } };
    case "TenantDeleted":
      return { action: "tenant.deleted", changes: { members_removed: event.members.length } };
    case "TenantMemberAdded": {
      const previous = events[index - 1];
      const replaced = previous?.type === "TenantMemberRemoved" && previous.userId === event.userId && previous.role !== null ? previous.role : null;
      return replaced === null
        ? { action: "tenant.member_added", changes: { member: user(event.userId), role: change(null, event.role) } }
        : { action: "tenant.member_role_changed", changes: { member: user(event.userId), role: change(replaced, event.role) } };
    }
    case "TenantMemberRemoved": {
      const next = events[index + 1];
      // A role replacement: the addition that follows records it.
      if (event.role !== null && next?.type === "TenantMemberAdded" && next.userId === event.userId) return null;
      const held = event.role ?? event.heldRole ?? null;
      return { action: "tenant.member_removed", changes: { member: user(event.userId), role: change(held, null), cascade: cascadeOf(events, event.userId) } };
    }
    case "TenantInvitationCreated":
      return { action: "tenant.invitation_created", changes: { email: event.email, role: change(event.previousRole, event.role) } };
    case "TenantInvitationRevoked":
      return { action: "tenant.invitation_revoked", changes: { email: event.email } };
    case "ScimTokenCreated":
      return { action: "tenant.scim_token_created", changes: { scim_token: { id: event.tokenId, name: event.name } } };
    case "ScimTokenRevoked":
      return { action: "tenant.scim_token_revoked", changes: { scim_token: { id: event.tokenId, name: event.name } } };
    case "WorkspaceCreated":
      return { action: "workspace.created", changes: { name: change(null, event.name), parent_workspace_id: event.parentWorkspaceId } };
    case "WorkspaceCreatorTenantSet":
      return null;
    case "WorkspaceRenamed":
      return { action: "workspace.renamed", changes: { name: change(event.previousName, event.name) } };
    case "WorkspaceDeleted":
      return { action: "workspace.deleted", changes: { members_removed: event.members.length } };
    case "WorkspaceMemberAdded":
      return { action: "workspace.member_added", changes: { member: { type: event.memberType, id: event.memberId }, role: change(null, event.role) } };
    case "WorkspaceMemberRoleChanged":
      return { action: "workspace.member_role_changed", changes: { member: { type: event.memberType, id: event.memberId }, role: change(event.oldRole, event.newRole) } };
    case "WorkspaceMemberRemoved":
      return { action: "workspace.member_removed", changes: { member: { type: event.memberType, id: event.memberId }, role: change(event.role, null) } };
    case "GroupCreated":
      return { action: "group.created", changes: event.name === undefined ? {} : { name: change(null, event.name) } };
    case "GroupRenamed":
      return { action: "group.renamed", changes: { name: change(event.previousName ?? null, event.name) } };
    case "GroupDeleted":
      return { action: "group.deleted", changes: { members_removed: event.members.length, grants_removed: grantsOfGroupRemoved(events, event.groupId) } };
    case "GroupMemberAdded":
      return { action: "group.member_added", changes: { member: user(event.userId), role: change(null, event.role) } };
    case "GroupMemberRoleChanged":
      return { action: "group.member_role_changed", changes: { member: user(event.userId), role: change(event.oldRole, event.newRole) } };
    case "GroupMemberRemoved":
      return { action: "group.member_removed", changes: { member: user(event.userId), role: change(event.role, null) } };
    case "ApiKeyCreated":
      return { action: "api_key.created", changes: { name: change(null, event.name), prefix: event.prefix, owner: user(event.userId) } };
    case "ApiKeyRevoked":
      return { action: "api_key.revoked", changes: { owner: user(event.userId) } };
    case "ApiKeyDeleted":
      return { action: "api_key.deleted", changes: { owner: user(event.userId) } };
  }
}

/** What removing a tenant member took with it, in the same change. */
function cascadeOf(events: readonly IamEvent[], userId: string) {
  const count = (predicate: (event: IamEvent) => boolean) => events.filter(predicate).length;
  return {
    workspace_roles_removed: count((e) => e.type === "WorkspaceMemberRemoved" && e.memberType === "user" && e.memberId === userId),
    group_roles_removed: count((e) => e.type === "GroupMemberRemoved" && e.userId === userId),
    api_keys_revoked: count((e) => e.type === "ApiKeyRevoked" && e.userId === userId),
  };
}

function grantsOfGroupRemoved(events: readonly IamEvent[], groupId: string): number {
  return events.filter((e) => e.type === "WorkspaceMemberRemoved" && e.memberType === "group" && e.memberId === groupId).length;
}

/** The token claims a user row mirrors. */
export interface UserClaims {
  readonly id: string;
  readonly username: string;
  readonly name: string | null;
  readonly email: string | null;
}

/**
 * What provisioning a user from token claims records: `user.provisioned` for a new user (in the
 * system scope: they are a member of nothing yet), `user.profile_changed` with the fields that
 * changed for a known one, in the system scope and in every tenant they are a member of (where
 * its admins read it). The user is their own actor: their token carried the change.
 */
export function userAuditEvents(
  claims: UserClaims,
  previous: Omit<UserClaims, "id"> | null,
  memberOf: readonly string[],
  origin: ChangeOrigin,
  occurredAt: Date,
): NewAuditEvent[] {
  const scopes = previous === null ? [SYSTEM_AUDIT_SCOPE] : [SYSTEM_AUDIT_SCOPE, ...memberOf];
  return profileEvents(claims, previous, scopes, { type: "user", id: claims.id, username: claims.username }, origin, occurredAt);
}

/**
 * What a tenant's directory changing a user's profile records: `user.profile_changed` in that
 * tenant and the system scope, with the directory (the request's actor, its SCIM token) as actor.
 */
export function directoryProfileAuditEvents(
  profile: UserClaims,
  previous: Omit<UserClaims, "id">,
  tenantId: string,
  origin: ChangeOrigin,
  occurredAt: Date,
): NewAuditEvent[] {
  return profileEvents(profile, previous, [SYSTEM_AUDIT_SCOPE, tenantId], actorOf(origin), origin, occurredAt);
}

function profileEvents(
  claims: UserClaims,
  previous: Omit<UserClaims, "id"> | null,
  scopes: readonly string[],
  actor: AuditActor,
  origin: ChangeOrigin,
  occurredAt: Date,
): NewAuditEvent[] {
  const fields = ["username", "name", "email"] as const;
  const changes: Record<string, { before: string | null; after: string | null }> = {};
  for (const field of fields) {
    const before = previous === null ? null : previous[field];
    if (previous === null || before !== claims[field]) changes[field] = change(before, claims[field]);
  }
  const action: AuditAction = previous === null ? "user.provisioned" : "user.profile_changed";
  return scopes.map((tenantId) => ({
    id: newUlid(),
    tenantId,
    occurredAt,
    action,
    actor,
    target: { type: "user", id: claims.id, name: claims.username },
    changes,
    context: contextOf(origin),
  }));
}

/** The audit events of one committed change, in recording order. */
export function auditEventsOf(events: readonly IamEvent[], origin: ChangeOrigin, names: ReadonlyMap<string, string>): NewAuditEvent[] {
  const actor = actorOf(origin);
  const context = contextOf(origin);
  const audited: NewAuditEvent[] = [];
  events.forEach((event, index) => {
    const target = targetOf(event);
    const described = target === null ? null : describe(event, events, index);
    if (target === null || described === null) return;
    audited.push({
      id: newUlid(),
      tenantId: event.tenantId,
      occurredAt: event.occurredAt,
      action: described.action,
      actor,
      target: { ...target, name: names.get(target.id) ?? null },
      changes: described.changes,
      context,
    });
  });
  return audited;
}

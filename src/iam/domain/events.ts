/**
 * Domain events of the IAM context. Aggregates record them; the unit of work stores them in the
 * outbox in the same transaction as the rows; the relationship translator turns each into SpiceDB
 * writes and deletes. Every event names its tenant, which orders and scopes their application.
 */
import type { GroupRole, MemberType, TenantRole, WorkspaceRole } from "./roles.js";

interface EventBase {
  readonly tenantId: string;
  readonly occurredAt: Date;
}

export interface MemberSnapshot {
  readonly userId: string;
  readonly role: string;
}

export interface WorkspaceMemberSnapshot {
  readonly memberId: string;
  readonly memberType: MemberType;
  readonly role: WorkspaceRole;
}

export interface TenantCreated extends EventBase {
  readonly type: "TenantCreated";
  readonly name: string;
}
export interface TenantDeleted extends EventBase {
  readonly type: "TenantDeleted";
  /** For the audit log: the row is gone when it is written. Absent in events from before. */
  readonly name?: string;
  readonly members: readonly MemberSnapshot[];
}
export interface TenantMemberAdded extends EventBase {
  readonly type: "TenantMemberAdded";
  readonly userId: string;
  readonly role: TenantRole;
  readonly addedBy: string | null;
}
/**
 * An invitation by email: whoever signs in with that verified email joins with `role`. Inviting
 * the same email again with another role replaces `previousRole`.
 */
export interface TenantInvitationCreated extends EventBase {
  readonly type: "TenantInvitationCreated";
  readonly email: string;
  readonly role: TenantRole;
  readonly previousRole: TenantRole | null;
  readonly invitedBy: string;
}
/** Revoked by an admin before anyone used it. (One used at sign-in records TenantMemberAdded.) */
export interface TenantInvitationRevoked extends EventBase {
  readonly type: "TenantInvitationRevoked";
  readonly email: string;
}
/** A credential for the tenant's directory (SCIM) was created; its secret appears nowhere. */
export interface ScimTokenCreated extends EventBase {
  readonly type: "ScimTokenCreated";
  readonly tokenId: string;
  readonly name: string;
  readonly createdBy: string;
}
/** A directory credential was revoked (the first time; revoking again records nothing). */
export interface ScimTokenRevoked extends EventBase {
  readonly type: "ScimTokenRevoked";
  readonly tokenId: string;
  readonly name: string;
}
/** `role` null removes every tenant role of the user. */
export interface TenantMemberRemoved extends EventBase {
  readonly type: "TenantMemberRemoved";
  readonly userId: string;
  /** The role replaced; null when the user leaves, which removes every tenant role they may hold. */
  readonly role: TenantRole | null;
  /** The role a leaving user held, for the audit record. Absent on outbox rows written before it was carried. */
  readonly heldRole?: TenantRole;
  readonly removedBy: string | null;
}

export interface GroupCreated extends EventBase {
  readonly type: "GroupCreated";
  readonly groupId: string;
  /** Absent on outbox rows written before the name was carried. */
  readonly name?: string;
}
/** No relationship changes with a name; downstream readers of group data still need to know. */
export interface GroupRenamed extends EventBase {
  readonly type: "GroupRenamed";
  readonly groupId: string;
  readonly name: string;
  readonly previousName?: string;
}
export interface GroupDeleted extends EventBase {
  readonly type: "GroupDeleted";
  readonly groupId: string;
  readonly name?: string;
  readonly members: readonly MemberSnapshot[];
}
export interface GroupMemberAdded extends EventBase {
  readonly type: "GroupMemberAdded";
  readonly groupId: string;
  readonly userId: string;
  readonly role: GroupRole;
}
export interface GroupMemberRemoved extends EventBase {
  readonly type: "GroupMemberRemoved";
  readonly groupId: string;
  readonly userId: string;
  readonly role: GroupRole;
}
export interface GroupMemberRoleChanged extends EventBase {
  readonly type: "GroupMemberRoleChanged";
  readonly groupId: string;
  readonly userId: string;
  readonly oldRole: GroupRole;
  readonly newRole: GroupRole;
}

export interface WorkspaceCreated extends EventBase {
  readonly type: "WorkspaceCreated";
  readonly workspaceId: string;
  readonly name: string;
  readonly parentWorkspaceId: string | null;
  readonly isRoot: boolean;
}
export interface WorkspaceCreatorTenantSet extends EventBase {
  readonly type: "WorkspaceCreatorTenantSet";
  readonly workspaceId: string;
}
/** No relationship changes; the audit log and downstream readers of workspace data need it. */
export interface WorkspaceRenamed extends EventBase {
  readonly type: "WorkspaceRenamed";
  readonly workspaceId: string;
  readonly name: string;
  readonly previousName: string;
}
export interface WorkspaceDeleted extends EventBase {
  readonly type: "WorkspaceDeleted";
  readonly workspaceId: string;
  readonly name?: string;
  readonly parentWorkspaceId: string | null;
  readonly isRoot: boolean;
  readonly members: readonly WorkspaceMemberSnapshot[];
}
export interface WorkspaceMemberAdded extends EventBase {
  readonly type: "WorkspaceMemberAdded";
  readonly workspaceId: string;
  readonly memberId: string;
  readonly memberType: MemberType;
  readonly role: WorkspaceRole;
}
export interface WorkspaceMemberRemoved extends EventBase {
  readonly type: "WorkspaceMemberRemoved";
  readonly workspaceId: string;
  readonly memberId: string;
  readonly memberType: MemberType;
  readonly role: WorkspaceRole;
}
export interface WorkspaceMemberRoleChanged extends EventBase {
  readonly type: "WorkspaceMemberRoleChanged";
  readonly workspaceId: string;
  readonly memberId: string;
  readonly memberType: MemberType;
  readonly oldRole: WorkspaceRole;
  readonly newRole: WorkspaceRole;
}

export interface ApiKeyCreated extends EventBase {
  readonly type: "ApiKeyCreated";
  readonly apiKeyId: string;
  readonly userId: string;
  readonly name: string;
  readonly prefix: string;
}
/** Relationships stay so that owners and admins still list the revoked key; the row blocks use. */
export interface ApiKeyRevoked extends EventBase {
  readonly type: "ApiKeyRevoked";
  readonly apiKeyId: string;
  readonly userId: string;
}
export interface ApiKeyDeleted extends EventBase {
  readonly type: "ApiKeyDeleted";
  readonly apiKeyId: string;
  readonly userId: string;
}

export type IamEvent =
  | TenantCreated
  | TenantDeleted
  | TenantMemberAdded
  | TenantMemberRemoved
  | TenantInvitationCreated
  | TenantInvitationRevoked
  | ScimTokenCreated
  | ScimTokenRevoked
  | GroupCreated
  | GroupRenamed
  | GroupDeleted
  | GroupMemberAdded
  | GroupMemberRemoved
  | GroupMemberRoleChanged
  | WorkspaceCreated
  | WorkspaceCreatorTenantSet
  | WorkspaceRenamed
  | WorkspaceDeleted
  | WorkspaceMemberAdded
  | WorkspaceMemberRemoved
  | WorkspaceMemberRoleChanged
  | ApiKeyCreated
  | ApiKeyRevoked
  | ApiKeyDeleted;

export type IamEventType = IamEvent["type"];

/** Every event type, so that the translator can prove it handles them all. */
export const IAM_EVENT_TYPES = [
  "TenantCreated",
  "TenantDeleted",
  "TenantMemberAdded",
  "TenantMemberRemoved",
  "TenantInvitationCreated",
  "TenantInvitationRevoked",
  "ScimTokenCreated",
  "ScimTokenRevoked",
  "GroupCreated",
  "GroupRenamed",
  "GroupDeleted",
  "GroupMemberAdded",
  "GroupMemberRemoved",
  "GroupMemberRoleChanged",
  "WorkspaceCreated",
  "WorkspaceCreatorTenantSet",
  "WorkspaceRenamed",
  "WorkspaceDeleted",
  "WorkspaceMemberAdded",
  "WorkspaceMemberRemoved",
  "WorkspaceMemberRoleChanged",
  "ApiKeyCreated",
  "ApiKeyRevoked",
  "ApiKeyDeleted",
] as const satisfies readonly IamEventType[];

export type AggregateType = "tenant" | "workspace" | "group" | "api_key";

/** The aggregate an event belongs to, for the outbox row. */
export function aggregateOf(event: IamEvent): { type: AggregateType; id: string } {
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
    case "GroupCreated":
    case "GroupRenamed":
    case "GroupDeleted":
    case "GroupMemberAdded":
    case "GroupMemberRemoved":
    case "GroupMemberRoleChanged":
      return { type: "group", id: event.groupId };
    case "WorkspaceCreated":
    case "WorkspaceCreatorTenantSet":
    case "WorkspaceRenamed":
    case "WorkspaceDeleted":
    case "WorkspaceMemberAdded":
    case "WorkspaceMemberRemoved":
    case "WorkspaceMemberRoleChanged":
      return { type: "workspace", id: event.workspaceId };
    case "ApiKeyCreated":
    case "ApiKeyRevoked":
    case "ApiKeyDeleted":
      return { type: "api_key", id: event.apiKeyId };
  }
}

/**
 * The Group aggregate: a named set of users of one tenant, each an admin or a member. A group can
 * hold roles on workspaces, which all its admins and members inherit. A group always has at least
 * one admin, and exactly one role per member; except a group of the tenant's directory (SCIM),
 * whose members the directory sets (all as members, no admin) and nobody else may change.
 *
 * Operations change the in-memory state and record domain events; the repository persists the
 * state (`memberChanges`, `nameChanged`) and the unit of work stores the events (`pullEvents`).
 */
import { ConflictError, InvalidInputError, LastAdminError } from "./errors.js";
import type { IamEvent, MemberSnapshot } from "./events.js";
import { nameOf } from "./names.js";
import type { GroupWorkspaceGrant } from "./group-workspace-grant.js";
import type { GroupRole } from "./roles.js";

export interface GroupMember {
  readonly userId: string;
  readonly role: GroupRole;
}

export interface GroupState {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly members: readonly GroupMember[];
  /** Created by the tenant's directory (SCIM), which owns its membership. */
  readonly directoryManaged?: boolean;
}

export const DIRECTORY_OWNS_MEMBERS =
  "This group's members are managed by the tenant's directory (SCIM); change them in the identity provider";

/** What `addMember` did: a new member, a replaced role, or nothing (same role again). */
export type MemberAddOutcome = "added" | "role_changed" | "unchanged";

export interface GroupMemberChanges {
  /** Members that are new or whose role changed. */
  readonly upserted: readonly GroupMember[];
  /** User ids of members that left. */
  readonly removed: readonly string[];
}

export class Group {
  private readonly members = new Map<string, GroupRole>();
  private readonly persistedMembers: ReadonlyMap<string, GroupRole>;
  private readonly persistedName: string | null;
  private events: IamEvent[] = [];
  private currentName: string;
  private deleted = false;

  private constructor(
    readonly id: string,
    readonly tenantId: string,
    name: string,
    members: readonly GroupMember[],
    persisted: boolean,
    readonly directoryManaged = false,
    /** Loaded with only some members (see `restoreAround`): the whole member list is unknown. */
    private readonly partial = false,
  ) {
    this.currentName = name;
    for (const member of members) this.members.set(member.userId, member.role);
    this.persistedMembers = new Map(persisted ? this.members : []);
    this.persistedName = persisted ? name : null;
  }

  /** A new group whose creator is its first admin. */
  static create(input: { id: string; tenantId: string; name: string; creatorId: string; now: Date }): Group {
    const group = new Group(input.id, input.tenantId, nameOf("Group", input.name), [], false);
    group.events.push({ type: "GroupCreated", tenantId: input.tenantId, occurredAt: input.now, groupId: input.id, name: group.name });
    group.insertMember(input.creatorId, "admin", input.now);
    return group;
  }

  /** A group of the tenant's directory: no admin, members set by `setDirectoryMembers`. */
  static createForDirectory(input: { id: string; tenantId: string; name: string; now: Date }): Group {
    const group = new Group(input.id, input.tenantId, nameOf("Group", input.name), [], false, true);
    group.events.push({ type: "GroupCreated", tenantId: input.tenantId, occurredAt: input.now, groupId: input.id, name: group.name });
    return group;
  }

  /** A group as stored; records nothing. */
  static restore(state: GroupState): Group {
    return new Group(state.id, state.tenantId, state.name, state.members, true, state.directoryManaged === true);
  }

  /**
   * A group as stored, with only one user's membership and the admins: enough for that user to
   * leave it under the last-admin rule, without reading every member of every group they leave.
   * Asking it for the whole member list is a programming error.
   */
  static restoreAround(state: GroupState): Group {
    return new Group(state.id, state.tenantId, state.name, state.members, true, state.directoryManaged === true, true);
  }

  /**
   * The directory's member list for its group: who is missing joins as a member, who is not in it
   * leaves. Only for a directory's group.
   */
  setDirectoryMembers(userIds: readonly string[], now: Date): void {
    if (!this.directoryManaged) throw new Error(`group ${this.id} is not a directory's group`);
    this.requireWholeMemberList();
    const wanted = new Set(userIds);
    for (const [userId, role] of [...this.members]) {
      if (wanted.has(userId)) continue;
      this.members.delete(userId);
      this.events.push({ type: "GroupMemberRemoved", tenantId: this.tenantId, occurredAt: now, groupId: this.id, userId, role });
    }
    for (const userId of wanted) if (!this.members.has(userId)) this.insertMember(userId, "member", now);
  }

  get name(): string {
    return this.currentName;
  }

  /** Admins first, then members, each by user id: a stable order for responses. */
  get memberList(): GroupMember[] {
    this.requireWholeMemberList();
    return [...this.members]
      .map(([userId, role]) => ({ userId, role }))
      .sort((a, b) => (a.role === b.role ? compare(a.userId, b.userId) : a.role === "admin" ? -1 : 1));
  }

  roleOf(userId: string): GroupRole | null {
    return this.members.get(userId) ?? null;
  }

  get isDeleted(): boolean {
    return this.deleted;
  }

  /** Renaming to the current name is a no-op (the reference answers it with success). */
  rename(rawName: string, now: Date): void {
    const name = nameOf("Group", rawName);
    if (name === this.currentName) return;
    const previousName = this.currentName;
    this.currentName = name;
    this.events.push({ type: "GroupRenamed", tenantId: this.tenantId, occurredAt: now, groupId: this.id, name, previousName });
  }

  /**
   * Adds a user, or replaces their role when they hold another one. The same role again changes
   * nothing (idempotent). Demoting the last admin this way is refused like any demotion.
   */
  addMember(userId: string, role: GroupRole, now: Date): MemberAddOutcome {
    this.refuseIfDirectoryOwned();
    const current = this.members.get(userId);
    if (current === role) return "unchanged";
    if (current === undefined) {
      this.insertMember(userId, role, now);
      return "added";
    }
    this.replaceRole(userId, current, role, now);
    return "role_changed";
  }

  /** Sets the role of an existing member; setting the role they already hold changes nothing. */
  changeMemberRole(userId: string, role: GroupRole, now: Date): void {
    this.refuseIfDirectoryOwned();
    const current = this.requireMember(userId);
    if (current !== role) this.replaceRole(userId, current, role, now);
  }

  removeMember(userId: string, now: Date): void {
    this.refuseIfDirectoryOwned();
    this.dropMember(userId, this.requireMember(userId), "Cannot remove the last admin. Promote another member first.", now);
  }

  /**
   * The user leaves the tenant, and with it this group. Refused like any removal while they are
   * its last admin, with a message that names the group (the caller acted on the tenant).
   */
  removeDepartingMember(userId: string, now: Date): void {
    const role = this.members.get(userId);
    if (role === undefined) return;
    this.dropMember(userId, role, `Cannot remove the user from the tenant: they are the last admin of group '${this.name}'`, now);
  }

  /**
   * Deletes the group together with its workspace grants, so that no workspace keeps a grant to a
   * group that no longer exists. Refused when the group is the only admin of a workspace: a
   * workspace must never be left without an admin.
   */
  markDeleted(grants: readonly GroupWorkspaceGrant[], now: Date): void {
    const orphaned = grants.filter((grant) => grant.role === "admin" && grant.otherAdminCount === 0);
    if (orphaned.length > 0) {
      const names = orphaned
        .slice(0, 5)
        .map((grant) => `'${grant.workspaceName}' (${grant.workspaceId})`)
        .join(", ");
      const more = orphaned.length > 5 ? ` and ${orphaned.length - 5} more` : "";
      throw new LastAdminError(
        `Cannot delete group '${this.name}': it is the last admin of workspace ${names}${more}. ` +
          "Make someone else an admin of the workspace first.",
      );
    }
    for (const grant of grants) {
      this.events.push({
        type: "WorkspaceMemberRemoved",
        tenantId: this.tenantId,
        occurredAt: now,
        workspaceId: grant.workspaceId,
        memberId: this.id,
        memberType: "group",
        role: grant.role,
      });
    }
    const members: MemberSnapshot[] = this.memberList.map(({ userId, role }) => ({ userId, role }));
    this.events.push({ type: "GroupDeleted", tenantId: this.tenantId, occurredAt: now, groupId: this.id, name: this.currentName, members });
    this.deleted = true;
  }

  /**
   * Deleted with its tenant, after the tenant's workspaces (and so every grant the group held):
   * there is no workspace left to protect, only the members' relationships to remove.
   */
  markDeletedWithTenant(now: Date): void {
    this.markDeleted([], now);
  }

  /** True when the name differs from the stored one (always for a new group). */
  get nameChanged(): boolean {
    return this.persistedName !== this.currentName;
  }

  /** Member rows to write and delete so that storage matches this aggregate. */
  memberChanges(): GroupMemberChanges {
    const upserted: GroupMember[] = [];
    for (const [userId, role] of this.members) {
      if (this.persistedMembers.get(userId) !== role) upserted.push({ userId, role });
    }
    const removed = [...this.persistedMembers.keys()].filter((userId) => !this.members.has(userId));
    return { upserted, removed };
  }

  /** The events recorded since the last call, in order. */
  pullEvents(): IamEvent[] {
    const events = this.events;
    this.events = [];
    return events;
  }

  private requireWholeMemberList(): void {
    if (this.partial) throw new Error(`group ${this.id} was loaded around one member; its member list is not known`);
  }

  private refuseIfDirectoryOwned(): void {
    if (this.directoryManaged) throw new ConflictError(DIRECTORY_OWNS_MEMBERS);
  }

  private adminCount(): number {
    let count = 0;
    for (const role of this.members.values()) if (role === "admin") count++;
    return count;
  }

  private requireMember(userId: string): GroupRole {
    const role = this.members.get(userId);
    if (role === undefined) throw new InvalidInputError(`User ${userId} is not a member of this group`);
    return role;
  }

  private dropMember(userId: string, role: GroupRole, lastAdminMessage: string, now: Date): void {
    if (role === "admin" && this.adminCount() === 1) throw new LastAdminError(lastAdminMessage);
    this.members.delete(userId);
    this.events.push({ type: "GroupMemberRemoved", tenantId: this.tenantId, occurredAt: now, groupId: this.id, userId, role });
  }

  private insertMember(userId: string, role: GroupRole, now: Date): void {
    this.members.set(userId, role);
    this.events.push({ type: "GroupMemberAdded", tenantId: this.tenantId, occurredAt: now, groupId: this.id, userId, role });
  }

  private replaceRole(userId: string, oldRole: GroupRole, newRole: GroupRole, now: Date): void {
    if (oldRole === "admin" && this.adminCount() === 1) {
      throw new LastAdminError("Cannot demote the last admin. Promote another member first.");
    }
    this.members.set(userId, newRole);
    this.events.push({
      type: "GroupMemberRoleChanged",
      tenantId: this.tenantId,
      occurredAt: now,
      groupId: this.id,
      userId,
      oldRole,
      newRole,
    });
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

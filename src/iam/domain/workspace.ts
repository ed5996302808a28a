/**
 * The Workspace aggregate: one node of a tenant's workspace tree and its members (users or groups,
 * one role each). Invariants: a name that keeps the name rule (names.ts); a root has no parent
 * and a child has one; never zero admins once the workspace has one. "Exactly one root per
 * tenant" and "no deletion with children" span several aggregates: the database and the service
 * enforce them.
 */
import { newUlid } from "../../shared-kernel/ids.js";
import { AggregateRoot } from "./aggregate-root.js";
import { InvalidInputError, LastAdminError } from "./errors.js";
import { nameOf } from "./names.js";
import type { MemberType, WorkspaceRole } from "./roles.js";

export interface WorkspaceState {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly parentWorkspaceId: string | null;
  readonly isRoot: boolean;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface WorkspaceMember {
  readonly memberId: string;
  readonly memberType: MemberType;
  readonly role: WorkspaceRole;
}

export type WorkspaceMembershipChange = "unchanged" | "added" | "replaced";

const keyOf = (memberType: MemberType, memberId: string) => `${memberType}:${memberId}`;

export class Workspace extends AggregateRoot {
  private readonly members = new Map<string, WorkspaceMember>();
  private readonly persistedMembers = new Map<string, WorkspaceMember>();
  private state: WorkspaceState;
  private persistedName: string | null;

  private constructor(
    state: WorkspaceState,
    members: readonly WorkspaceMember[],
    persisted: boolean,
    /** Loaded with only some members (see `rehydrateAround`): the whole member list is unknown. */
    private readonly partial = false,
  ) {
    super();
    if (state.isRoot && state.parentWorkspaceId !== null) {
      throw new InvalidInputError("A root workspace cannot have a parent");
    }
    if (!state.isRoot && state.parentWorkspaceId === null) {
      throw new InvalidInputError("A workspace that is not the root needs a parent");
    }
    this.state = state;
    this.persistedName = persisted ? state.name : null;
    for (const member of members) {
      this.members.set(keyOf(member.memberType, member.memberId), member);
      if (persisted) this.persistedMembers.set(keyOf(member.memberType, member.memberId), member);
    }
  }

  /** A child of `parentWorkspaceId`; its creator becomes its admin. */
  static create(input: {
    name: string;
    tenantId: string;
    parentWorkspaceId: string;
    creatorId: string;
    now: Date;
  }): Workspace {
    const workspace = new Workspace(
      {
        id: newUlid(),
        tenantId: input.tenantId,
        name: nameOf("Workspace", input.name),
        parentWorkspaceId: input.parentWorkspaceId,
        isRoot: false,
        createdAt: input.now,
        updatedAt: input.now,
      },
      [],
      false,
    );
    workspace.recordCreated(input.now);
    workspace.addMember(input.creatorId, "user", "admin", input.now);
    return workspace;
  }

  /**
   * The root of a tenant's tree. Every tenant member may create children under it
   * (WorkspaceCreatorTenantSet); `adminId`, when given, becomes its admin.
   */
  static createRoot(input: { name: string; tenantId: string; adminId: string | null; now: Date }): Workspace {
    const workspace = new Workspace(
      {
        id: newUlid(),
        tenantId: input.tenantId,
        name: nameOf("Workspace", input.name),
        parentWorkspaceId: null,
        isRoot: true,
        createdAt: input.now,
        updatedAt: input.now,
      },
      [],
      false,
    );
    workspace.recordCreated(input.now);
    workspace.record({
      type: "WorkspaceCreatorTenantSet",
      tenantId: input.tenantId,
      workspaceId: workspace.id,
      occurredAt: input.now,
    });
    if (input.adminId !== null) workspace.addMember(input.adminId, "user", "admin", input.now);
    return workspace;
  }

  static rehydrate(state: WorkspaceState, members: readonly WorkspaceMember[]): Workspace {
    return new Workspace(state, members, true);
  }

  /**
   * A workspace read for a change of one member: with that member (when they are one) and all the
   * admins, which is all the member rules need (their role, the admin count). A user leaving a
   * tenant leaves every workspace they are in; reading and locking each one's whole member list
   * would cost as much as all those lists. Asking it for the whole member list is a programming error.
   */
  static rehydrateAround(state: WorkspaceState, members: readonly WorkspaceMember[]): Workspace {
    return new Workspace(state, members, true, true);
  }

  private recordCreated(now: Date): void {
    this.record({
      type: "WorkspaceCreated",
      tenantId: this.tenantId,
      workspaceId: this.id,
      name: this.name,
      parentWorkspaceId: this.parentWorkspaceId,
      isRoot: this.isRoot,
      occurredAt: now,
    });
  }

  get id(): string {
    return this.state.id;
  }
  get tenantId(): string {
    return this.state.tenantId;
  }
  get name(): string {
    return this.state.name;
  }
  get parentWorkspaceId(): string | null {
    return this.state.parentWorkspaceId;
  }
  get isRoot(): boolean {
    return this.state.isRoot;
  }
  get isNew(): boolean {
    return this.persistedName === null;
  }
  /** The stored fields as they are now. */
  snapshot(): WorkspaceState {
    return this.state;
  }

  memberList(): WorkspaceMember[] {
    if (this.partial) throw new Error(`workspace ${this.id} was loaded around one member; its member list is not known`);
    return [...this.members.values()];
  }

  roleOf(memberId: string, memberType: MemberType): WorkspaceRole | null {
    return this.members.get(keyOf(memberType, memberId))?.role ?? null;
  }

  /** True when this member is the workspace's only admin entry (user or group). */
  isSoleAdmin(memberId: string, memberType: MemberType): boolean {
    if (this.roleOf(memberId, memberType) !== "admin") return false;
    let admins = 0;
    for (const member of this.members.values()) if (member.role === "admin") admins++;
    return admins === 1;
  }

  rename(rawName: string, now: Date): void {
    const name = nameOf("Workspace", rawName);
    if (name === this.name) throw new InvalidInputError("New name is the same as current name");
    const previousName = this.name;
    this.state = { ...this.state, name, updatedAt: now };
    this.record({ type: "WorkspaceRenamed", tenantId: this.tenantId, workspaceId: this.id, name, previousName, occurredAt: now });
  }

  /**
   * Gives the member `role`, replacing another role they hold. The same role again changes
   * nothing (an idempotent success); demoting the only admin is refused.
   */
  addMember(memberId: string, memberType: MemberType, role: WorkspaceRole, now: Date): WorkspaceMembershipChange {
    const id = normaliseMemberId(memberId);
    const current = this.roleOf(id, memberType);
    if (current === role) return "unchanged";
    if (current !== null) {
      this.changeMemberRole(id, memberType, role, now);
      return "replaced";
    }
    this.members.set(keyOf(memberType, id), { memberId: id, memberType, role });
    this.record({
      type: "WorkspaceMemberAdded",
      tenantId: this.tenantId,
      workspaceId: this.id,
      memberId: id,
      memberType,
      role,
      occurredAt: now,
    });
    return "added";
  }

  changeMemberRole(memberId: string, memberType: MemberType, role: WorkspaceRole, now: Date): void {
    const id = normaliseMemberId(memberId);
    const current = this.requireMember(id, memberType);
    if (current === role) throw new InvalidInputError(`Member already has role ${role}`);
    if (this.isSoleAdmin(id, memberType)) {
      throw new LastAdminError("Cannot remove the last admin from the workspace");
    }
    this.members.set(keyOf(memberType, id), { memberId: id, memberType, role });
    this.record({
      type: "WorkspaceMemberRoleChanged",
      tenantId: this.tenantId,
      workspaceId: this.id,
      memberId: id,
      memberType,
      oldRole: current,
      newRole: role,
      occurredAt: now,
    });
  }

  removeMember(memberId: string, memberType: MemberType, now: Date): void {
    this.dropMember(normaliseMemberId(memberId), memberType, "Cannot remove the last admin from the workspace", now);
  }

  /**
   * The user leaves the tenant, and with it this workspace. Refused while they are its only admin,
   * with a message that names the workspace (the caller acted on the tenant).
   */
  removeDepartingUser(userId: string, now: Date): void {
    const message = `Cannot remove the user from the tenant: they are the last admin of workspace '${this.name}'`;
    this.dropMember(normaliseMemberId(userId), "user", message, now);
  }

  private dropMember(id: string, memberType: MemberType, lastAdminMessage: string, now: Date): void {
    const current = this.requireMember(id, memberType);
    if (this.isSoleAdmin(id, memberType)) throw new LastAdminError(lastAdminMessage);
    this.members.delete(keyOf(memberType, id));
    this.record({
      type: "WorkspaceMemberRemoved",
      tenantId: this.tenantId,
      workspaceId: this.id,
      memberId: id,
      memberType,
      role: current,
      occurredAt: now,
    });
  }

  /** Records the deletion with a snapshot of the members, so their relationships can be removed. */
  markForDeletion(now: Date): void {
    this.record({
      type: "WorkspaceDeleted",
      tenantId: this.tenantId,
      workspaceId: this.id,
      name: this.name,
      parentWorkspaceId: this.parentWorkspaceId,
      isRoot: this.isRoot,
      members: this.memberList(),
      occurredAt: now,
    });
  }

  private requireMember(memberId: string, memberType: MemberType): WorkspaceRole {
    const role = this.roleOf(memberId, memberType);
    if (role === null) throw new InvalidInputError(`${memberType} ${memberId} is not a member of this workspace`);
    return role;
  }

  /** Row changes since the workspace was loaded (or created), for the repository. */
  changes(): {
    isNew: boolean;
    renamed: boolean;
    upserts: WorkspaceMember[];
    deletes: { memberId: string; memberType: MemberType }[];
  } {
    const upserts = [...this.members]
      .filter(([key, member]) => this.persistedMembers.get(key)?.role !== member.role)
      .map(([, member]) => member);
    const deletes = [...this.persistedMembers]
      .filter(([key]) => !this.members.has(key))
      .map(([, { memberId, memberType }]) => ({ memberId, memberType }));
    return { isNew: this.isNew, renamed: !this.isNew && this.persistedName !== this.name, upserts, deletes };
  }

  /** Called by the repository once the workspace's rows are written. */
  markPersisted(): void {
    this.persistedName = this.name;
    this.persistedMembers.clear();
    for (const [key, member] of this.members) this.persistedMembers.set(key, member);
  }
}

/** Member ids are compared trimmed; an empty one is refused. */
export function normaliseMemberId(memberId: string): string {
  const trimmed = memberId.trim();
  if (trimmed === "") throw new InvalidInputError("member_id cannot be empty");
  return trimmed;
}

/** Orders workspaces so that every child comes before its parent (deepest first). */
export function deepestFirst<T extends { id: string; parentWorkspaceId: string | null }>(workspaces: readonly T[]): T[] {
  const byId = new Map(workspaces.map((w) => [w.id, w]));
  const depthOf = new Map<string, number>();
  const depth = (w: T): number => {
    const known = depthOf.get(w.id);
    if (known !== undefined) return known;
    const seen = new Set<string>();
    let d = 0;
    for (let p = w.parentWorkspaceId; p !== null && byId.has(p) && !seen.has(p); p = byId.get(p)?.parentWorkspaceId ?? null) {
      seen.add(p);
      d++;
    }
    depthOf.set(w.id, d);
    return d;
  };
  return [...workspaces].map((w) => ({ w, d: depth(w) })).sort((a, b) => b.d - a.d).map(({ w }) => w);
}

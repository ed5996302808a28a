/**
 * The Tenant aggregate: an isolated organisation and its members. Invariants: a name that keeps
 * the name rule (names.ts); one role per member; never zero admins once the tenant has one.
 */
import { newUlid } from "../../shared-kernel/ids.js";
import { AggregateRoot } from "./aggregate-root.js";
import { LastAdminError } from "./errors.js";
import { nameOf } from "./names.js";
import type { TenantRole } from "./roles.js";

export interface TenantState {
  readonly id: string;
  readonly name: string;
}

/** What changing a member did: nothing (same role), a new member, or a role replacement. */
export type MembershipChange = "unchanged" | "added" | "replaced";

export class Tenant extends AggregateRoot {
  private readonly members: Map<string, TenantRole>;
  private readonly persistedMembers: Map<string, TenantRole>;

  private constructor(
    readonly id: string,
    readonly name: string,
    /** Who created the tenant; names are unique per creator. Known for new tenants only. */
    readonly createdBy: string | null,
    members: ReadonlyMap<string, TenantRole>,
    private persisted: boolean,
    /** Loaded with only some members (see `rehydrateAround`): the whole member list is unknown. */
    private readonly partial = false,
  ) {
    super();
    this.members = new Map(members);
    this.persistedMembers = persisted ? new Map(members) : new Map();
  }

  /** A new tenant; when `creatorId` is given the creator becomes its first admin. */
  static create(input: { name: string; creatorId: string | null; now: Date }): Tenant {
    const name = nameOf("Tenant", input.name);
    const tenant = new Tenant(newUlid(), name, input.creatorId, new Map(), false);
    tenant.record({ type: "TenantCreated", tenantId: tenant.id, name, occurredAt: input.now });
    if (input.creatorId !== null) tenant.addMember(input.creatorId, "admin", null, input.now);
    return tenant;
  }

  /** A tenant read from storage with all its members. */
  static rehydrate(state: TenantState, members: ReadonlyMap<string, TenantRole>): Tenant {
    return new Tenant(state.id, state.name, null, members, true);
  }

  /**
   * A tenant read for a change of one member: with that member (when they are one) and all the
   * admins, which is all its rules need (the member's role, the admin count) and keeps a change in
   * a tenant of 100,000 members from reading and locking them all. Asking it for the whole member
   * list is a programming error.
   */
  static rehydrateAround(state: TenantState, members: ReadonlyMap<string, TenantRole>): Tenant {
    return new Tenant(state.id, state.name, null, members, true, true);
  }

  get isNew(): boolean {
    return !this.persisted;
  }

  roleOf(userId: string): TenantRole | null {
    return this.members.get(userId) ?? null;
  }

  get adminCount(): number {
    let count = 0;
    for (const role of this.members.values()) if (role === "admin") count++;
    return count;
  }

  memberList(): { userId: string; role: TenantRole }[] {
    if (this.partial) throw new Error(`tenant ${this.id} was loaded around one member; its member list is not known`);
    return [...this.members].map(([userId, role]) => ({ userId, role }));
  }

  /**
   * Adds the user with `role`, or replaces their other role. Re-adding with the same role changes
   * nothing (an idempotent success). Demoting the only admin is refused.
   */
  addMember(userId: string, role: TenantRole, addedBy: string | null, now: Date): MembershipChange {
    const current = this.roleOf(userId);
    if (current === role) return "unchanged";
    if (current === "admin" && this.adminCount === 1) {
      throw new LastAdminError("Cannot demote the last admin of the tenant");
    }
    if (current !== null) {
      this.record({
        type: "TenantMemberRemoved",
        tenantId: this.id,
        userId,
        role: current,
        removedBy: addedBy,
        occurredAt: now,
      });
    }
    this.members.set(userId, role);
    this.record({ type: "TenantMemberAdded", tenantId: this.id, userId, role, addedBy, occurredAt: now });
    return current === null ? "added" : "replaced";
  }

  /** Removes every role of the user. Removing a non-member changes nothing and returns false. */
  removeMember(userId: string, removedBy: string | null, now: Date): boolean {
    const current = this.roleOf(userId);
    if (current === null) return false;
    if (current === "admin" && this.adminCount === 1) {
      throw new LastAdminError("Cannot remove the last admin from the tenant");
    }
    this.members.delete(userId);
    this.record({ type: "TenantMemberRemoved", tenantId: this.id, userId, role: null, heldRole: current, removedBy, occurredAt: now });
    return true;
  }

  /** Records the deletion with a snapshot of the members, so their relationships can be removed. */
  markForDeletion(now: Date): void {
    this.record({
      type: "TenantDeleted",
      tenantId: this.id,
      name: this.name,
      members: this.memberList().map(({ userId, role }) => ({ userId, role })),
      occurredAt: now,
    });
  }

  /** Member rows to write and delete since the tenant was loaded (or created). */
  memberChanges(): { upserts: { userId: string; role: TenantRole }[]; deletes: string[] } {
    const upserts = [...this.members]
      .filter(([userId, role]) => this.persistedMembers.get(userId) !== role)
      .map(([userId, role]) => ({ userId, role }));
    const deletes = [...this.persistedMembers.keys()].filter((userId) => !this.members.has(userId));
    return { upserts, deletes };
  }

  /** Called by the repository once the tenant's rows are written. */
  markPersisted(): void {
    this.persisted = true;
    this.persistedMembers.clear();
    for (const [userId, role] of this.members) this.persistedMembers.set(userId, role);
  }
}

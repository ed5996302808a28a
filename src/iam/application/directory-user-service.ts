/**
 * Users provisioned by a tenant's directory (SCIM 2.0), acting for the tenant as the system: a
 * provisioned user is a user of the service and a member of the tenant. Deactivating or deleting
 * them removes the membership with the same rules and cascades as an admin's removal (roles in
 * workspaces and groups go, API keys are revoked, nobody's last admin may go), and bars them from
 * joining the tenant again on their own; activating restores a plain membership, without the old roles.
 */
import { createHash } from "node:crypto";
import { newUlid } from "../../shared-kernel/ids.js";
import { ConflictError, InvalidInputError, NotFoundError, PreconditionFailedError, SharedAccountError } from "../domain/errors.js";
import type {
  DirectoryProfile,
  DirectoryUser,
  DirectoryUserAttributes,
  DirectoryUserPage,
  DirectoryUsers,
  UserFilter,
} from "../ports/directory-users.js";
import { firstForbiddenCharacter, forbiddenCharacterText } from "../domain/names.js";
import type { TransactionContext, UnitOfWork } from "../ports/unit-of-work.js";
import { grantTenantRole, loadTenantAroundMember, loadTenantForNewMember, removeDepartingMember } from "./tenant-membership.js";

/** What the directory sends for a user (a SCIM User, read by the presentation layer). */
export interface DirectoryUserInput {
  readonly username: string;
  readonly externalId: string | null;
  readonly active: boolean;
  readonly attributes: DirectoryUserAttributes;
}

export interface DirectoryUserServiceDependencies {
  readonly unitOfWork: UnitOfWork;
  /** For reads outside a transaction. */
  readonly users: DirectoryUsers;
  readonly clock?: () => Date;
}

const MAX_LENGTH = 255;

export function userNotFound(id: string): NotFoundError {
  return new NotFoundError(`User ${id} not found`);
}

/**
 * The user's version, for ETags and If-Match: a digest of everything the directory sees of them,
 * so that a change through the IAM API (a removal, a profile change at sign-in) moves it too.
 */
export function versionOf(user: DirectoryUser): string {
  const seen = [user.id, user.username, user.name, user.email, user.externalId, user.attributes, user.active];
  return createHash("sha256").update(JSON.stringify(seen)).digest("base64url").slice(0, 22);
}

/** The user row's name and email, from the SCIM attributes (primary email first). */
export function profileOf(input: DirectoryUserInput): DirectoryProfile {
  const username = input.username.trim();
  if (username === "") throw new InvalidInputError("userName must not be empty");
  const { givenName, familyName, formatted, displayName, emails = [] } = input.attributes;
  const parts = [givenName, familyName].filter((part) => part !== undefined && part.trim() !== "").join(" ");
  const name = [formatted, displayName, parts].find((candidate) => candidate !== undefined && candidate.trim() !== "") ?? null;
  const email = (emails.find((entry) => entry.primary === true) ?? emails[0])?.value ?? null;
  for (const [field, value] of [["userName", username], ["name", name], ["email", email], ["externalId", input.externalId]] as const) {
    if (value !== null && value.length > MAX_LENGTH) throw new InvalidInputError(`${field} must be at most ${MAX_LENGTH} characters`);
  }
  // The identifiers people and look-ups go by follow the names' character rule: "alice\u200b"
  // beside "alice" is a look-alike account. A person's name keeps every character (ZWNJ is part of
  // Persian names, for one).
  for (const [field, value] of [["userName", username], ["email", email?.trim() ?? null]] as const) {
    const found = value === null ? null : firstForbiddenCharacter(value);
    if (found !== null) throw new InvalidInputError(`${field} ${forbiddenCharacterText(found)}`);
  }
  return { username, name: name?.trim() ?? null, email: email?.trim() ?? null };
}

const sameProfile = (a: DirectoryProfile, b: DirectoryProfile) => a.username === b.username && a.name === b.name && a.email === b.email;

/**
 * Gives the account the directory's profile, unless that would change the profile of someone who
 * is also a member of another tenant: what one tenant's directory says must not rename a person,
 * or repoint their email, in tenants it does not govern (their own sign-in keeps it current
 * there). Sending the profile they have is no change, and fine.
 */
async function writeProfile(
  tx: TransactionContext,
  tenantId: string,
  id: string,
  profile: DirectoryProfile,
  known: DirectoryProfile | null = null,
): Promise<void> {
  // Most changes (a deactivation, a new externalId) leave the profile as the directory last saw it.
  if (known !== null && sameProfile(known, profile)) return;
  const directory = tx.repositories.directoryUsers;
  const account = await directory.findAccount(tenantId, id);
  if (account === null || sameProfile(account.profile, profile)) return;
  if (account.memberElsewhere) {
    throw new SharedAccountError(
      `User ${id} is also a member of another tenant: their userName, name and email are shared with it and cannot be changed by this tenant's directory`,
    );
  }
  await directory.updateAccount(tenantId, id, profile);
}

export class DirectoryUserService {
  private readonly clock: () => Date;

  constructor(private readonly deps: DirectoryUserServiceDependencies) {
    this.clock = deps.clock ?? (() => new Date());
  }

  async find(tenantId: string, id: string): Promise<DirectoryUser> {
    const user = await this.deps.users.find(tenantId, id);
    if (user === null) throw userNotFound(id);
    return user;
  }

  list(tenantId: string, filter: UserFilter | null, startIndex: number, count: number): Promise<DirectoryUserPage> {
    return this.deps.users.list(tenantId, filter, startIndex, count);
  }

  /**
   * A new user, a member of the tenant when active. A username the tenant's directory already
   * sees, or that belongs to an account elsewhere, is a conflict; one the directory deleted is
   * provisioned again (the same account).
   */
  async create(tenantId: string, input: DirectoryUserInput): Promise<DirectoryUser> {
    const profile = profileOf(input);
    return this.deps.unitOfWork.run(async (tx) => {
      const directory = tx.repositories.directoryUsers;
      // No member is read: a user this creates (or brings back) is no member yet, and one who is a
      // member is a conflict. The tenant's lock serialises its provisionings; the look-up follows it.
      const tenant = await loadTenantForNewMember(tx, tenantId);
      const record = { externalId: input.externalId, attributes: input.attributes };
      // A username nobody has (a directory's first push): the account and its record in one go.
      const newId = newUlid();
      const created = await directory.createAccountWithRecord(tenantId, newId, profile, record);
      if (created !== null) {
        if (input.active) await grantTenantRole(tx, tenant, newId, "member", null, this.clock());
        // Everything was written at the transaction's time, which is what a read would show.
        const { createdAt, attributes } = created;
        return { id: newId, ...profile, externalId: input.externalId, attributes, active: input.active, createdAt, lastModified: createdAt };
      }
      let id = await directory.findAccountIdByUsername(profile.username);
      if (id !== null && (await directory.find(tenantId, id)) !== null) {
        throw new ConflictError(`A user with userName "${profile.username}" already exists in this tenant`);
      }
      if (id !== null && !(await directory.isWithdrawn(tenantId, id))) {
        throw new ConflictError(`The userName "${profile.username}" belongs to another account`);
      }
      if (id === null) {
        // Its holder renamed or deleted it since the attempt above.
        id = newId;
        await directory.createAccount(id, profile);
      } else {
        await writeProfile(tx, tenantId, id, profile);
      }
      await directory.saveRecord(tenantId, id, record);
      if (input.active) await grantTenantRole(tx, tenant, id, "member", null, this.clock());
      return this.reread(tx, tenantId, id);
    });
  }

  /**
   * Replaces the user with what `change` makes of them (PUT sends the whole user, PATCH edits the
   * current one), under the tenant's lock. `expectedVersion` (If-Match) must still be theirs.
   */
  async change(
    tenantId: string,
    id: string,
    change: (current: DirectoryUser) => DirectoryUserInput,
    expectedVersion: string | null = null,
  ): Promise<DirectoryUser> {
    return this.deps.unitOfWork.run(async (tx) => {
      const tenant = await loadTenantAroundMember(tx, tenantId, id);
      const directory = tx.repositories.directoryUsers;
      const current = await directory.find(tenantId, id);
      if (current === null) throw userNotFound(id);
      this.requireVersion(current, expectedVersion);
      const input = change(current);
      await writeProfile(tx, tenantId, id, profileOf(input), current);
      await directory.saveRecord(tenantId, id, { externalId: input.externalId, attributes: input.attributes });
      const now = this.clock();
      if (input.active && !current.active) {
        await grantTenantRole(tx, tenant, id, "member", null, now);
      } else if (!input.active && current.active && tenant.removeMember(id, null, now)) {
        await removeDepartingMember(tx, tenant, id, now);
      }
      return this.reread(tx, tenantId, id);
    });
  }

  /** Removes the user from the tenant (as deactivation does) and hides them from the directory. */
  async delete(tenantId: string, id: string, expectedVersion: string | null = null): Promise<void> {
    await this.deps.unitOfWork.run(async (tx) => {
      const tenant = await loadTenantAroundMember(tx, tenantId, id);
      const current = await tx.repositories.directoryUsers.find(tenantId, id);
      if (current === null) throw userNotFound(id);
      this.requireVersion(current, expectedVersion);
      const now = this.clock();
      if (tenant.removeMember(id, null, now)) await removeDepartingMember(tx, tenant, id, now);
      await tx.repositories.directoryUsers.markDeleted(tenantId, id, now);
    });
  }

  private requireVersion(current: DirectoryUser, expected: string | null): void {
    if (expected !== null && expected !== versionOf(current)) {
      throw new PreconditionFailedError(`User ${current.id} changed since version ${expected}; read it again`);
    }
  }

  private async reread(tx: TransactionContext, tenantId: string, id: string): Promise<DirectoryUser> {
    const user = await tx.repositories.directoryUsers.find(tenantId, id);
    if (user === null) throw new Error(`user ${id} vanished inside its own transaction`);
    return user;
  }
}

import { ConflictError, InvalidInputError, NotFoundError } from "../domain/errors.js";
import type { Repositories } from "../ports/repositories.js";

/**
 * The one answer for an email that names no member of the tenant, whether it belongs to a user
 * of another tenant or to nobody at all: a look-up must not tell the two apart (DESIGN §3.11).
 */
export function noMemberWithEmail(email: string): string {
  return (
    `No member of this tenant has the email "${email}". A tenant admin can invite them ` +
    `(POST /iam/tenants/{tenant_id}/members with "email"); once they have signed in they can be added here.`
  );
}

/**
 * The member of the tenant with this email, compared case-insensitively (stored emails keep the
 * IdP's casing), with their membership held for the rest of the transaction. Only the tenant's
 * members are searched. Callers check their permission before calling this.
 *
 * @param goneMessage the not-found message for the resource being changed when the tenant itself
 *   has just been deleted (it went with the tenant)
 */
export async function resolveTenantMemberByEmail(
  repositories: Repositories,
  tenantId: string,
  email: string,
  goneMessage: string,
): Promise<string> {
  const normalised = email.trim().toLowerCase();
  const directory = repositories.tenantMemberDirectory;
  const ids = await directory.findIdsByEmail(tenantId, normalised);
  if (ids.length > 1) {
    throw new ConflictError(`Several members of this tenant have the email "${normalised}"; add the user by user id instead`);
  }
  const userId = ids[0];
  if (userId === undefined) throw new NotFoundError(noMemberWithEmail(normalised));
  const hold = await directory.holdMembership(tenantId, userId);
  if (hold === "no_tenant") throw new NotFoundError(goneMessage);
  if (hold === "not_member") throw new NotFoundError(noMemberWithEmail(normalised)); // left the tenant just now
  return userId;
}

/**
 * Holds the user's membership of the tenant for the rest of the transaction (see
 * TenantMemberDirectory.holdMembership); 400 when they are not a member.
 *
 * @param goneMessage as for resolveTenantMemberByEmail
 */
export async function holdTenantMember(repositories: Repositories, tenantId: string, userId: string, goneMessage: string): Promise<void> {
  const hold = await repositories.tenantMemberDirectory.holdMembership(tenantId, userId);
  if (hold === "no_tenant") throw new NotFoundError(goneMessage);
  if (hold === "not_member") throw new InvalidInputError(`User ${userId} is not a member of this tenant`);
}

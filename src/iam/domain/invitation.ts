/**
 * Invitations: a tenant admin adds a person by email who is not a member yet (perhaps not even a
 * user). The invitation binds, with its role, when a token carrying that email as verified first
 * authenticates. Until then it stands in the tenant's member list where a user id would, as
 * `invitation:<email>`: existing clients read a string there, and the member routes accept it to
 * address the invitation (a real member with that very id wins).
 */
import type { TenantRole } from "./roles.js";

export interface TenantInvitation {
  /** Lower-cased. */
  readonly email: string;
  readonly role: TenantRole;
  readonly invitedBy: string | null;
}

const MEMBER_ID_PREFIX = "invitation:";

/** Emails are compared ignoring case and surrounding blanks, as everywhere in the service. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The id a pending invitation has in member lists and on the member routes. */
export function invitationMemberId(email: string): string {
  return `${MEMBER_ID_PREFIX}${normaliseEmail(email)}`;
}

/** The email a member id addresses as an invitation, or null when it is no invitation id. */
export function invitedEmailOf(memberId: string): string | null {
  if (!memberId.startsWith(MEMBER_ID_PREFIX)) return null;
  const email = normaliseEmail(memberId.slice(MEMBER_ID_PREFIX.length));
  return email === "" ? null : email;
}

/**
 * API keys act only inside the tenant they were created in (DESIGN §7): for a key, every other
 * tenant is as if it did not exist, whatever its creator may do there. Creating or deleting
 * tenants and creating keys need a person: a key that could mint keys would outlive its own
 * revocation through its children.
 */
import { ForbiddenError } from "../domain/errors.js";
import type { AuthenticatedUser } from "./caller.js";

export const KEYS_CANNOT_MANAGE_TENANTS = "API keys cannot create or delete tenants; use a person's token";
export const KEYS_CANNOT_CREATE_KEYS = "API keys cannot create API keys; use a person's token";

/** People reach every tenant their roles reach; a key only its own. */
export function reachesTenant(user: AuthenticatedUser, tenantId: string): boolean {
  return user.apiKeyTenantId === null || user.apiKeyTenantId === tenantId;
}

/** Refuses API-key callers with `message` (403: the key is valid, the action needs a person). */
export function requirePerson(user: AuthenticatedUser, message: string): void {
  if (user.apiKeyId !== null) throw new ForbiddenError(message);
}

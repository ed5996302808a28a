import { ConflictError, NotFoundError } from "../domain/errors.js";
import type { Repositories } from "../ports/repositories.js";

/**
 * The user with this email, compared case-insensitively (stored emails keep the IdP's casing).
 * Callers check their permission before calling this, so it reveals nothing to outsiders.
 */
export async function resolveUserByEmail(repositories: Repositories, email: string): Promise<string> {
  const normalised = email.trim().toLowerCase();
  const ids = await repositories.tenants.findUserIdsByEmail(normalised);
  if (ids.length === 0) {
    throw new NotFoundError(
      `No user with email "${normalised}" has signed in yet. They must log in at least once before they can be added.`,
    );
  }
  if (ids.length > 1) {
    throw new ConflictError(`Several users have the email "${normalised}"; add the member by user id instead`);
  }
  return ids[0] as string;
}

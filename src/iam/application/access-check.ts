/**
 * Permission checks with information hiding (DESIGN §3.3): a caller who cannot view a resource
 * gets the same answer as for a missing one; only a caller who can view it but lacks the
 * permission for the action is told "forbidden". The action is asked first and alone: an allowed
 * answer is usually a cached one (it survives changes that only grant), and then `view` is moot.
 *
 * A tenant outside an API key's own is hidden from that key before anything is asked: every
 * tenant-scoped permission check goes through here, so no route can forget the confinement.
 */
import type { AuthorizationPort, ObjectRef } from "../../shared-kernel/authorization/authorization-port.js";
import { reachesTenant } from "./api-key-confinement.js";
import type { AuthenticatedUser } from "./caller.js";

export type AccessOutcome = "allowed" | "hidden" | "forbidden";

export async function accessTo(
  authorization: AuthorizationPort,
  resource: ObjectRef,
  user: AuthenticatedUser,
  permission: string,
): Promise<AccessOutcome> {
  if (resource.type === "tenant" && !reachesTenant(user, resource.id)) return "hidden";
  const subject = { type: "user", id: user.userId };
  if (permission === "view") {
    return (await authorization.check({ resource, permission, subject })) ? "allowed" : "hidden";
  }
  // `create_child` on a root comes from tenant membership alone, without `view`: acting wins.
  if (await authorization.check({ resource, permission, subject })) return "allowed";
  return (await authorization.check({ resource, permission: "view", subject })) ? "forbidden" : "hidden";
}

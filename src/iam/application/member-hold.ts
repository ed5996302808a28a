/**
 * Writes that make the caller the owner of something new in their tenant (a workspace, a group, an
 * API key) hold the caller's membership while they write. Without it, a removal from the tenant
 * that commits between the permission check and the write would leave the new thing behind, owned
 * by someone who is no longer a member (DESIGN §3.6), and a deletion of the tenant would surface
 * as a foreign-key violation.
 */
import type { IamError } from "../domain/errors.js";
import type { TransactionContext } from "../ports/unit-of-work.js";
import type { Caller } from "./caller.js";

export interface HoldRefusals {
  /** The tenant was deleted meanwhile. */
  readonly noTenant: () => IamError;
  /** The caller was removed from the tenant meanwhile. */
  readonly notMember: () => IamError;
}

/**
 * Runs `write` with the caller's tenant and membership rows held until commit. The hold and the
 * write are issued together, so the hold costs no round trip of its own; either way the tenant row
 * is locked before the membership row (the write's foreign key locks the tenant too), the order
 * of every tenant-level change. A refused hold wins over the write's own failure, which it causes;
 * a hold that failed behind a failed write (an aborted transaction) gives way to the write's.
 */
export async function writeAsMember<T>(tx: TransactionContext, caller: Caller, refusals: HoldRefusals, write: () => Promise<T>): Promise<T> {
  const [hold, written] = await Promise.allSettled([
    tx.repositories.tenantMemberDirectory.holdMembership(caller.tenantId, caller.userId),
    write(),
  ]);
  if (hold.status === "rejected") throw written.status === "rejected" ? written.reason : hold.reason;
  if (hold.value === "no_tenant") throw refusals.noTenant();
  if (hold.value === "not_member") throw refusals.notMember();
  if (written.status === "rejected") throw written.reason;
  return written.value;
}

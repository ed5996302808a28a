/**
 * Writes relationship updates and keeps going past the ones SpiceDB refuses (an id or relation its
 * schema cannot hold), so that one bad relationship never stops a tenant's sync, the start-up load
 * or reconcile. The whole set goes in one request when SpiceDB takes it, as before; only a refused
 * request is split in halves, down to the single updates at fault (k refused among n cost about
 * 2k·log2(n) extra requests, on the failure path only).
 *
 * Skipping a refused update is safe in any order: SpiceDB refuses an update only when the
 * relationship cannot exist in its store, so a refused touch leaves access absent (fails closed)
 * and a refused delete names a relationship that was never there. An outage is not a refusal: it
 * still throws, and the caller retries everything.
 */
import {
  formatRelationship,
  type AuthorizationPort,
  type RelationshipUpdate,
} from "../../shared-kernel/authorization/authorization-port.js";
import { AuthorizationRequestError } from "./spicedb-authorization.js";

export interface RefusedUpdate {
  readonly update: RelationshipUpdate;
  /** SpiceDB's reason, as it said it. */
  readonly reason: string;
}

export interface AcceptedWrite {
  /** ZedToken of the last write that went through (null when nothing did). */
  readonly token: string | null;
  readonly refused: readonly RefusedUpdate[];
}

export async function writeAcceptedUpdates(
  authorization: Pick<AuthorizationPort, "writeRelationships">,
  updates: readonly RelationshipUpdate[],
): Promise<AcceptedWrite> {
  if (updates.length === 0) return { token: null, refused: [] };
  try {
    return { token: await authorization.writeRelationships(updates), refused: [] };
  } catch (error) {
    if (!(error instanceof AuthorizationRequestError)) throw error;
    const [only] = updates;
    if (updates.length === 1 && only !== undefined) return { token: null, refused: [{ update: only, reason: error.message }] };
    const middle = Math.ceil(updates.length / 2);
    // In order: the second half may update what the first half did.
    const first = await writeAcceptedUpdates(authorization, updates.slice(0, middle));
    const second = await writeAcceptedUpdates(authorization, updates.slice(middle));
    return { token: second.token ?? first.token, refused: [...first.refused, ...second.refused] };
  }
}

/** One line per refused update, for logs, dead letters and reports. */
export function describeRefused(refused: RefusedUpdate): string {
  return `${refused.update.operation} ${formatRelationship(refused.update.relationship)}: ${refused.reason}`;
}

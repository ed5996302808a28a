/**
 * Walks a tenant's chain from where it starts and recomputes every hash: the first event whose
 * content or position does not match, a position that is missing, or an event that should not be
 * there, is reported, and the walk stops (everything after a break is suspect).
 */
import type { Queryable } from "../database/database.js";
import { chainHash, type ChainBreak } from "./audit-chain.js";
import { chainHead, sealedEvents } from "./audit-store.js";

export interface ChainReport {
  readonly tenantId: string;
  /** Events whose hash was recomputed and matched. */
  readonly verified: number;
  readonly firstPosition: number | null;
  readonly lastPosition: number | null;
  readonly break: ChainBreak | null;
}

export async function verifyChain(db: Queryable, tenantId: string): Promise<ChainReport> {
  const head = await chainHead(db, tenantId);
  let verified = 0;
  const report = (problem: ChainBreak | null): ChainReport => ({
    tenantId,
    verified,
    firstPosition: head === null ? null : head.startPosition,
    lastPosition: head === null ? null : head.lastPosition,
    break: problem,
  });
  let expected = head?.startPosition ?? 1;
  let previous = head?.startPreviousHash ?? null;
  for await (const event of sealedEvents(db, tenantId)) {
    const position = event.position!;
    if (head === null || position < expected || position > head.lastPosition) {
      return report({ position, eventId: event.id, problem: "unexpected", detail: `event ${event.id} holds position ${position}, outside the chain` });
    }
    if (position > expected) {
      return report({ position: expected, eventId: null, problem: "missing", detail: `position ${expected} is missing (the next event found holds ${position})` });
    }
    if (chainHash(previous!, event, position) !== event.hash) {
      return report({ position, eventId: event.id, problem: "altered", detail: `event ${event.id} at position ${position} does not match its hash` });
    }
    previous = event.hash;
    expected += 1;
    verified += 1;
  }
  if (head !== null && expected <= head.lastPosition) {
    return report({ position: expected, eventId: null, problem: "missing", detail: `positions ${expected} to ${head.lastPosition} are missing` });
  }
  if (head !== null && previous !== head.lastHash) {
    return report({ position: head.lastPosition, eventId: null, problem: "altered", detail: "the chain's recorded last hash does not match its last event" });
  }
  return report(null);
}

/**
 * Walks a tenant's chain from where it starts and recomputes every hash: the first event whose
 * content or position does not match, a position that is missing, or an event that should not be
 * there, is reported, and the walk stops (everything after a break is suspect). Then every event
 * row of the tenant must be in the chain or waiting to be sealed: one that is neither was not
 * written by the service.
 *
 * All of it reads one snapshot: the service's sealer may extend the chain while `verify` runs, and
 * a head read before a seal committed, with links read after, would report that seal as a break.
 */
import type { AppDatabase, AppTransaction } from "../database/database.js";
import { chainHash, type ChainBreak } from "./audit-chain.js";
import { chainHead, chainLinks, firstUnchainedEvent } from "./audit-store.js";

export interface ChainReport {
  readonly tenantId: string;
  /** Events whose hash was recomputed and matched. */
  readonly verified: number;
  readonly firstPosition: number | null;
  readonly lastPosition: number | null;
  readonly break: ChainBreak | null;
}

export function verifyChain(db: AppDatabase, tenantId: string): Promise<ChainReport> {
  return db.transaction((tx) => verifyChainIn(tx, tenantId), { isolationLevel: "repeatable read", accessMode: "read only" });
}

async function verifyChainIn(db: AppTransaction, tenantId: string): Promise<ChainReport> {
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
  for await (const { position, hash, sequence, event } of chainLinks(db, tenantId)) {
    if (head === null || position < expected || position > head.lastPosition) {
      const eventId = event?.id ?? null;
      return report({ position, eventId, problem: "unexpected", detail: `${eventId === null ? `a seal of event #${sequence}` : `event ${eventId}`} holds position ${position}, outside the chain` });
    }
    if (position > expected) {
      return report({ position: expected, eventId: null, problem: "missing", detail: `position ${expected} is missing (the next event found holds ${position})` });
    }
    if (event === null) {
      return report({ position, eventId: null, problem: "missing", detail: `the event sealed at position ${position} is missing` });
    }
    if (chainHash(previous!, event, position) !== hash) {
      return report({ position, eventId: event.id, problem: "altered", detail: `event ${event.id} at position ${position} does not match its hash` });
    }
    previous = hash;
    expected += 1;
    verified += 1;
  }
  if (head !== null && expected <= head.lastPosition) {
    return report({ position: expected, eventId: null, problem: "missing", detail: `positions ${expected} to ${head.lastPosition} are missing` });
  }
  if (head !== null && previous !== head.lastHash) {
    return report({ position: head.lastPosition, eventId: null, problem: "altered", detail: "the chain's recorded last hash does not match its last event" });
  }
  const stray = await firstUnchainedEvent(db, tenantId);
  if (stray !== null) {
    return report({ position: head?.lastPosition ?? 0, eventId: stray.id, problem: "unexpected", detail: `event ${stray.id} is in no chain and not waiting to be sealed` });
  }
  return report(null);
}

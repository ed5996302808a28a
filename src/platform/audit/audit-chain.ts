/**
 * The hash chain that makes a tenant's audit log tamper-evident. Each sealed event's hash covers
 * its position, its canonical JSON and the previous event's hash, so that editing an event,
 * deleting one, inserting one or swapping two positions changes every hash after it. The first
 * event of a chain follows GENESIS_HASH; after retention deleted the old end, the chain starts at
 * a later position whose predecessor's hash is kept in `audit_chains`.
 */
import { createHash } from "node:crypto";
import { canonicalJson } from "./canonical-json.js";
import type { NewAuditEvent } from "./audit-event.js";

export const GENESIS_HASH = "0".repeat(64);

/** What the hash covers: everything the API shows, nothing the store adds. */
export function sealedContent(event: NewAuditEvent, position: number): string {
  return canonicalJson({
    position,
    id: event.id,
    tenant_id: event.tenantId,
    occurred_at: event.occurredAt.toISOString(),
    action: event.action,
    actor: event.actor,
    target: event.target,
    changes: event.changes,
    context: event.context,
  });
}

export function chainHash(previousHash: string, event: NewAuditEvent, position: number): string {
  return createHash("sha256").update(previousHash).update("\n").update(sealedContent(event, position)).digest("hex");
}

/** The first place where a chain does not hold, as `audit verify` reports it. */
export interface ChainBreak {
  readonly position: number;
  readonly eventId: string | null;
  readonly problem: "altered" | "missing" | "unexpected";
  readonly detail: string;
}

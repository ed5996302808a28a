/**
 * An audit event: who changed what, when and from where. The IAM context decides which events a
 * change produces (iam/infrastructure/audit-entries.ts); this layer stores, seals, lists and
 * exports them without knowing what the actions mean.
 */

/**
 * The tenant id of events that belong to no tenant (a user's first sign-in: they are a member of
 * nothing yet), and of their chain. Tenant ids are ULIDs, so it cannot meet one.
 */
export const SYSTEM_AUDIT_SCOPE = "system";

export type AuditActorType = "user" | "api_key" | "system";

export interface AuditActor {
  readonly type: AuditActorType;
  /** The user id, the API key id, or null for the system. */
  readonly id: string | null;
  readonly username: string | null;
  /** For an API key: the user who created it (the key acts for them). */
  readonly user_id?: string;
}

export interface AuditTarget {
  readonly type: string;
  readonly id: string;
  /** As it was at that moment; null when the resource has no name. */
  readonly name: string | null;
}

/** Where a request came from: the service's request id, the client address, its user agent. */
export interface AuditRequestContext {
  readonly request_id: string | null;
  readonly ip: string | null;
  readonly user_agent: string | null;
}

export interface NewAuditEvent {
  readonly id: string;
  readonly tenantId: string;
  readonly occurredAt: Date;
  /** Dotted and stable, e.g. `workspace.member_added`. */
  readonly action: string;
  readonly actor: AuditActor;
  readonly target: AuditTarget;
  readonly changes: Readonly<Record<string, unknown>>;
  readonly context: AuditRequestContext;
}

export interface StoredAuditEvent extends NewAuditEvent {
  /** Global insertion order; the cursor of the list. */
  readonly sequence: number;
  /** Position in the tenant's hash chain; null until sealed. */
  readonly position: number | null;
  readonly hash: string | null;
}

/** The event as the API and the export answer it. */
export function auditEventBody(event: StoredAuditEvent) {
  return {
    id: event.id,
    occurred_at: event.occurredAt.toISOString(),
    tenant_id: event.tenantId,
    action: event.action,
    actor: event.actor,
    target: event.target,
    changes: event.changes,
    context: event.context,
    sequence: event.position,
  };
}

/**
 * Writes a change's audit events in its transaction, in one statement whatever the number of
 * events, filling in each target's name as it is inside the transaction (so a rename in the same
 * change shows the new name). A name the event carried (a creation, a deletion's snapshot) wins;
 * a resource gone without one keeps a null name. The same statement queues the events for sealing.
 *
 * The unit of work does not send a statement of its own: `auditWritesOf` gives the writes as
 * named statements of a WITH clause, which travel in the outbox INSERT (half the cost of a second
 * statement on the embedded database, where each statement pays the protocol, parsing and planning).
 */
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import type { AuditTarget, NewAuditEvent } from "../../platform/audit/audit-event.js";
import { EVENT_RECORD, auditEventRecords, auditWrites, queuedForSealing } from "../../platform/audit/audit-store.js";

/** Where the name of each kind of target lives. */
const NAME_OF: Partial<Record<AuditTarget["type"], SQL>> = {
  tenant: sql`(SELECT name FROM tenants WHERE id = e.target_id)`,
  workspace: sql`(SELECT name FROM workspaces WHERE id = e.target_id)`,
  group: sql`(SELECT name FROM groups WHERE id = e.target_id)`,
  api_key: sql`(SELECT name FROM api_keys WHERE id = e.target_id)`,
};

/**
 * The body as stored: the carried name, else the one the target's row holds now. Only the kinds
 * of target that lack a name are looked up: most changes carry every name (a creation, a rename)
 * and then the statement has no sub-query to plan.
 */
function bodyWithNames(events: readonly NewAuditEvent[]): SQL {
  const unnamed = new Set(events.filter((event) => event.target.name === null).map((event) => event.target.type));
  const lookups = [...unnamed].flatMap((type) => {
    const name = NAME_OF[type];
    return name === undefined ? [] : [sql`WHEN ${type} THEN ${name}`];
  });
  if (lookups.length === 0) return sql`e.body`;
  return sql`CASE WHEN e.body #>> '{target,name}' IS NOT NULL THEN e.body
                  ELSE jsonb_set(e.body, '{target,name}', coalesce(to_jsonb(CASE e.target_type ${sql.join(lookups, sql` `)} END), 'null'::jsonb))
             END`;
}

function auditEventsInsert(events: readonly NewAuditEvent[]): SQL {
  return sql`INSERT INTO audit_events (id, tenant_id, occurred_at, action, actor_id, target_id, body)
      SELECT e.id, e.tenant_id, e.occurred_at, e.action, e.actor_id, e.target_id, ${bodyWithNames(events)}
      FROM ROWS FROM (jsonb_to_recordset(${auditEventRecords(events)}::jsonb) AS ${EVENT_RECORD}) WITH ORDINALITY AS e
      ORDER BY e.ordinality`;
}

/** The events' writes as named statements of a WITH clause, for another statement to carry. */
export function auditWritesOf(events: readonly NewAuditEvent[]): SQL {
  return auditWrites(auditEventsInsert(events));
}

export async function recordAuditEvents(tx: Queryable, events: readonly NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await queryRows(tx, queuedForSealing(auditEventsInsert(events)));
}

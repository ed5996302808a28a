/**
 * Writes a change's audit events in its transaction, in one statement that also fills in each
 * target's name as it is inside the transaction (so a rename in the same change shows the new
 * name), whatever the number of events: no round trip of its own, so it can travel with the
 * COMMIT like the outbox rows. A name the event carried (a creation, a deletion's snapshot) wins;
 * a resource gone without one keeps a null name. The same statement queues the events for sealing.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Queryable } from "../../platform/database/database.js";
import type { NewAuditEvent } from "../../platform/audit/audit-event.js";
import { EVENT_RECORD, auditEventRecords, queuedForSealing } from "../../platform/audit/audit-store.js";

export async function recordAuditEvents(tx: Queryable, events: readonly NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await queryRows(
    tx,
    queuedForSealing(sql`INSERT INTO audit_events (id, tenant_id, occurred_at, action, actor_id, target_id, body)
        SELECT e.id, e.tenant_id, e.occurred_at, e.action, e.actor_id, e.target_id,
               CASE WHEN e.body #>> '{target,name}' IS NOT NULL THEN e.body
                    ELSE jsonb_set(e.body, '{target,name}', coalesce(to_jsonb(CASE e.target_type
                      WHEN 'tenant' THEN (SELECT name FROM tenants WHERE id = e.target_id)
                      WHEN 'workspace' THEN (SELECT name FROM workspaces WHERE id = e.target_id)
                      WHEN 'group' THEN (SELECT name FROM groups WHERE id = e.target_id)
                      WHEN 'api_key' THEN (SELECT name FROM api_keys WHERE id = e.target_id)
                    END), 'null'::jsonb))
               END
        FROM ROWS FROM (jsonb_to_recordset(${auditEventRecords(events)}::jsonb) AS ${EVENT_RECORD}) WITH ORDINALITY AS e
        ORDER BY e.ordinality`),
  );
}

/**
 * SQL for the outbox table. The unit of work appends inside its transaction; drains claim pending
 * entries of one tenant in sequence order while holding that tenant's advisory lock, so that the
 * relationships of a tenant are applied in order by one process at a time while tenants proceed
 * in parallel.
 */
import { randomUUID } from "node:crypto";
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type Queryable } from "../database/database.js";
import type { NewOutboxEntry, OutboxEntry } from "./outbox-entry.js";
import { arrayText } from "../database/array-text.js";

interface OutboxRow {
  id: string;
  sequence: string | number;
  tenant_id: string;
  aggregate_type: string;
  aggregate_id: string;
  event_type: string;
  payload: Record<string, unknown> | string;
  occurred_at: Date | string;
  retry_count: number;
}

/** A claimed entry and whether its back-off has elapsed. */
export interface ClaimedEntry {
  readonly entry: OutboxEntry;
  readonly nextAttemptAt: Date;
  readonly due: boolean;
}

function toEntry(row: OutboxRow): OutboxEntry {
  return {
    id: row.id,
    sequence: Number(row.sequence),
    tenantId: row.tenant_id,
    aggregateType: row.aggregate_type,
    aggregateId: row.aggregate_id,
    eventType: row.event_type,
    payload: typeof row.payload === "string" ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload,
    occurredAt: new Date(row.occurred_at),
    retryCount: Number(row.retry_count),
  };
}

/**
 * Says, for the transaction, that its writer applies its entries itself once committed: the
 * outbox trigger then sends no NOTIFY (migrations 0004 and 0009). Evaluated by the INSERT that appends the
 * entries (`writerApplies`), before its rows reach the trigger, which fires at the statement's end:
 * no statement of its own.
 */
const WRITER_APPLIES = sql`SELECT set_config('kartograph.writer_applies', 'on', true)`;

/**
 * Appends entries in order; returns the highest sequence per tenant. `alongside` are named
 * data-modifying statements of a WITH clause (`name AS (INSERT ...)`, comma-separated) that run in
 * the same statement: writes that must commit with these entries (the audit events) without a
 * round trip and a parse of their own.
 */
export async function appendOutboxEntries(
  tx: Queryable,
  entries: readonly NewOutboxEntry[],
  alongside: SQL | null = null,
  options: { readonly writerApplies?: boolean } = {},
): Promise<Map<string, number>> {
  const highest = new Map<string, number>();
  if (entries.length === 0) return highest;
  const records = JSON.stringify(
    entries.map((entry) => ({
      // Not the column's gen_random_uuid(): PGlite draws its random bytes slowly (about 40 µs an
      // id, 6 ms of the 22 ms in which a user's departure appends its 151 entries).
      id: randomUUID(),
      tenant_id: entry.tenantId,
      aggregate_type: entry.aggregateType,
      aggregate_id: entry.aggregateId,
      event_type: entry.eventType,
      payload: entry.payload,
      occurred_at: entry.occurredAt.toISOString(),
    })),
  );
  // Identity values are assigned in the order the SELECT yields its rows: recording order.
  const rows = await queryRows<{ tenant_id: string; highest: string | number }>(
    tx,
    sql`WITH ${alongside === null ? sql`` : sql`${alongside},`}
         appended AS (
           INSERT INTO outbox (id, tenant_id, aggregate_type, aggregate_id, event_type, payload, occurred_at)
           SELECT o.id, o.tenant_id, o.aggregate_type, o.aggregate_id, o.event_type, o.payload, o.occurred_at
           FROM ROWS FROM (jsonb_to_recordset(${records}::jsonb) AS (id uuid, tenant_id text, aggregate_type text, aggregate_id text,
                                                                     event_type text, payload jsonb, occurred_at timestamptz))
                WITH ORDINALITY AS o
                ${options.writerApplies === true ? sql`CROSS JOIN (${WRITER_APPLIES}) AS writer_applies` : sql``}
           ORDER BY o.ordinality
           RETURNING tenant_id, sequence)
        SELECT tenant_id, max(sequence) AS highest FROM appended GROUP BY tenant_id`,
  );
  for (const row of rows) highest.set(row.tenant_id, Number(row.highest));
  return highest;
}

/** The NOTIFY channel of outbox inserts; the payload is the tenant id. */
export const OUTBOX_CHANNEL = "outbox_events";

/** Wakes the outbox workers for a tenant, as the trigger does for writers that do not apply. */
export async function wakeOutboxWorkers(db: Queryable, tenantId: string): Promise<void> {
  await queryRows(db, sql`SELECT pg_notify(${OUTBOX_CHANNEL}, ${tenantId})`);
}

/** A stable 64-bit lock key per tenant, in a namespace of its own. */
function tenantLockKey(tenantId: string) {
  return sql`hashtextextended(${`kartograph-outbox:${tenantId}`}, 0)`;
}

/**
 * Drains hold this lock shared; `reconcile` holds it exclusively, so that it compares the tables
 * with a SpiceDB that no drain is changing under it.
 */
const RECONCILE_LOCK = sql`hashtextextended('kartograph-reconcile', 0)`;

/** Takes the tenant's drain lock for this transaction; false when another drain holds it. */
export async function tryLockTenant(tx: Queryable, tenantId: string): Promise<boolean> {
  const rows = await queryRows<{ locked: boolean }>(
    tx,
    sql`SELECT pg_advisory_xact_lock_shared(${RECONCILE_LOCK}) IS NOT NULL
           AND pg_try_advisory_xact_lock(${tenantLockKey(tenantId)}) AS locked`,
  );
  return rows[0]?.locked === true;
}

/**
 * Waits at most `timeout` (a PostgreSQL interval such as '10s') for the tenant's drain lock. The
 * timeout is set for the transaction in the same statement, which saves a round trip per drain.
 */
export async function lockTenant(tx: Queryable, tenantId: string, timeout: string): Promise<void> {
  await queryRows(
    tx,
    sql`SELECT set_config('lock_timeout', ${timeout}, true),
               pg_advisory_xact_lock_shared(${RECONCILE_LOCK}), pg_advisory_xact_lock(${tenantLockKey(tenantId)})`,
  );
}

/** Stops every drain until the transaction ends (reconcile). */
export async function lockOutDrains(tx: Queryable): Promise<void> {
  await queryRows(tx, sql`SELECT pg_advisory_xact_lock(${RECONCILE_LOCK})`);
}

/**
 * Pending entries of a tenant, oldest first, claimed for this transaction, each with whether it
 * is due. Due is judged by the clock, not by now(): a drain that waited for the tenant's lock
 * started before entries committed while it waited, and would find them "not yet due".
 */
export async function claimPending(
  tx: Queryable,
  tenantId: string,
  limit: number,
): Promise<ClaimedEntry[]> {
  const rows = await queryRows<OutboxRow & { next_attempt_at: Date | string; due: boolean }>(
    tx,
    sql`SELECT id, sequence, tenant_id, aggregate_type, aggregate_id, event_type, payload, occurred_at, retry_count,
               next_attempt_at, next_attempt_at <= clock_timestamp() AS due
        FROM outbox
        WHERE tenant_id = ${tenantId} AND processed_at IS NULL AND failed_at IS NULL
        ORDER BY sequence
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED`,
  );
  return rows.map((row) => ({ entry: toEntry(row), nextAttemptAt: new Date(row.next_attempt_at), due: row.due }));
}

/**
 * Deletes up to `limit` applied entries processed more than `olderThanHours` ago, oldest first;
 * returns how many. Pending entries and dead letters are never touched.
 */
export async function purgeProcessed(db: Queryable, olderThanHours: number, limit: number): Promise<number> {
  const rows = await queryRows<{ id: string }>(
    db,
    sql`DELETE FROM outbox WHERE id IN (
          SELECT id FROM outbox
          WHERE processed_at < now() - make_interval(hours => ${olderThanHours}::int)
          ORDER BY sequence
          LIMIT ${limit})
        RETURNING id`,
  );
  return rows.length;
}

export async function markRetry(tx: Queryable, id: string, error: string, delayMs: number): Promise<void> {
  await queryRows(
    tx,
    sql`UPDATE outbox SET retry_count = retry_count + 1, last_error = ${error},
          next_attempt_at = now() + ${`${Math.round(delayMs)} milliseconds`}::interval
        WHERE id = ${id}::uuid`,
  );
}

export async function markFailed(tx: Queryable, id: string, error: string): Promise<void> {
  await queryRows(
    tx,
    sql`UPDATE outbox SET retry_count = retry_count + 1, last_error = ${error}, failed_at = now() WHERE id = ${id}::uuid`,
  );
}

/** Tenants with at least one pending entry, and when the earliest of them is due. */
export async function tenantsWithPendingEntries(
  db: Queryable,
  limit: number,
): Promise<{ tenantId: string; dueAt: Date }[]> {
  const rows = await queryRows<{ tenant_id: string; due_at: Date | string }>(
    db,
    sql`SELECT tenant_id, min(next_attempt_at) AS due_at FROM outbox
        WHERE processed_at IS NULL AND failed_at IS NULL
        GROUP BY tenant_id
        ORDER BY min(sequence)
        LIMIT ${limit}`,
  );
  return rows.map((row) => ({ tenantId: row.tenant_id, dueAt: new Date(row.due_at) }));
}

/** When the head entry of the tenant may next be attempted (null when nothing is pending). */
export async function headDueAt(db: Queryable, tenantId: string): Promise<Date | null> {
  const rows = await queryRows<{ next_attempt_at: Date | string }>(
    db,
    sql`SELECT next_attempt_at FROM outbox
        WHERE tenant_id = ${tenantId} AND processed_at IS NULL AND failed_at IS NULL
        ORDER BY sequence LIMIT 1`,
  );
  const row = rows[0];
  return row === undefined ? null : new Date(row.next_attempt_at);
}

export interface DeadLetter {
  readonly id: string;
  readonly sequence: number;
  readonly tenantId: string;
  readonly eventType: string;
  readonly aggregateId: string;
  readonly retryCount: number;
  readonly lastError: string | null;
  readonly failedAt: Date;
}

export async function listDeadLetters(db: Queryable): Promise<DeadLetter[]> {
  const rows = await queryRows<{
    id: string;
    sequence: string | number;
    tenant_id: string;
    event_type: string;
    aggregate_id: string;
    retry_count: number;
    last_error: string | null;
    failed_at: Date | string;
  }>(
    db,
    sql`SELECT id, sequence, tenant_id, event_type, aggregate_id, retry_count, last_error, failed_at
        FROM outbox WHERE failed_at IS NOT NULL ORDER BY sequence`,
  );
  return rows.map((row) => ({
    id: row.id,
    sequence: Number(row.sequence),
    tenantId: row.tenant_id,
    eventType: row.event_type,
    aggregateId: row.aggregate_id,
    retryCount: Number(row.retry_count),
    lastError: row.last_error,
    failedAt: new Date(row.failed_at),
  }));
}

/**
 * Puts dead letters back in the queue (all when `ids` is null); returns how many. Only inserts
 * notify, so the workers of each tenant re-queued are woken here: without it they would find the
 * entries at their next poll, up to KARTOGRAPH_OUTBOX_POLL_INTERVAL_SECONDS later.
 */
export async function redriveDeadLetters(db: Queryable, ids: readonly string[] | null): Promise<number> {
  const filter = ids === null ? sql`` : sql`AND id = ANY(${arrayText(ids)}::uuid[])`;
  const rows = await queryRows<{ tenant_id: string }>(
    db,
    sql`UPDATE outbox SET failed_at = NULL, retry_count = 0, next_attempt_at = now()
        WHERE failed_at IS NOT NULL ${filter} RETURNING tenant_id`,
  );
  for (const tenantId of new Set(rows.map((row) => row.tenant_id))) await wakeOutboxWorkers(db, tenantId);
  return rows.length;
}

export interface OutboxBacklog {
  readonly pending: number;
  /** Seconds since the oldest pending entry was recorded; 0 when nothing is pending. */
  readonly oldestPendingAgeSeconds: number;
  readonly deadLetters: number;
}

/**
 * The backlog for /metrics in one statement; each count reads only its partial index
 * (ix_outbox_pending, ix_outbox_failed), so a scrape costs the backlog, not the table's history.
 */
export async function readOutboxBacklog(db: Queryable): Promise<OutboxBacklog> {
  const rows = await queryRows<{ pending: string | number; oldest_age: string | number | null; dead: string | number }>(
    db,
    sql`SELECT p.pending, p.oldest_age, (SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL) AS dead
        FROM (SELECT count(*) AS pending, extract(epoch FROM clock_timestamp() - min(created_at)) AS oldest_age
              FROM outbox WHERE processed_at IS NULL AND failed_at IS NULL) AS p`,
  );
  const row = rows[0];
  return {
    pending: Number(row?.pending ?? 0),
    oldestPendingAgeSeconds: Math.max(0, Number(row?.oldest_age ?? 0)),
    deadLetters: Number(row?.dead ?? 0),
  };
}

/**
 * SQL for the audit log. Writers append inside the transaction of their change; the list and the
 * export read in keyset order (never OFFSET, so a page deep in a million events costs what the
 * first one does); the sealer chains each tenant's events under a per-tenant advisory lock, so
 * tenants are sealed in parallel and no writer ever waits for it; retention deletes a tenant's
 * chain from its old end only, and records where the chain then starts.
 */
import { sql, type SQL } from "drizzle-orm";
import { queryRows, type AppDatabase, type Queryable } from "../database/database.js";
import { auditEvents } from "../database/schema.js";
import type { AuditActor, AuditRequestContext, AuditTarget, NewAuditEvent, StoredAuditEvent } from "./audit-event.js";
import { GENESIS_HASH, chainHash } from "./audit-chain.js";

interface AuditRow {
  sequence: string | number;
  id: string;
  tenant_id: string;
  occurred_at: Date | string;
  action: string;
  body: Record<string, unknown> | string;
  chain_position: string | number | null;
  hash: string | null;
}

interface AuditBody {
  actor: AuditActor;
  target: AuditTarget;
  changes: Record<string, unknown>;
  context: AuditRequestContext;
}

const COLUMNS = sql`sequence, id, tenant_id, occurred_at, action, body, chain_position, hash`;

function toEvent(row: AuditRow): StoredAuditEvent {
  const body = (typeof row.body === "string" ? JSON.parse(row.body) : row.body) as AuditBody;
  return {
    sequence: Number(row.sequence),
    id: row.id,
    tenantId: row.tenant_id,
    occurredAt: new Date(row.occurred_at),
    action: row.action,
    actor: body.actor,
    target: body.target,
    changes: body.changes,
    context: body.context,
    position: row.chain_position === null ? null : Number(row.chain_position),
    hash: row.hash,
  };
}

/** One multi-row INSERT, in the writer's transaction. */
export async function appendAuditEvents(tx: Queryable, events: readonly NewAuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.insert(auditEvents).values(
    events.map((event) => ({
      id: event.id,
      tenantId: event.tenantId,
      occurredAt: event.occurredAt,
      action: event.action,
      actorId: event.actor.id,
      targetId: event.target.id,
      body: { actor: event.actor, target: event.target, changes: event.changes, context: event.context },
    })),
  );
}

export interface AuditQuery {
  readonly tenantId: string;
  /** Exact, or a prefix when it ends with a dot (`workspace.`). */
  readonly action?: string;
  readonly actorId?: string;
  readonly targetId?: string;
  readonly since?: Date;
  readonly until?: Date;
  /** Only events older than this sequence (the cursor). */
  readonly beforeSequence?: number;
  readonly limit: number;
}

/** LIKE treats `%`, `_` and the escape character as special; a prefix must match literally. */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;
}

function filters(query: Omit<AuditQuery, "limit" | "beforeSequence">): SQL[] {
  const conditions: SQL[] = [sql`tenant_id = ${query.tenantId}`];
  if (query.action !== undefined) {
    conditions.push(query.action.endsWith(".") ? sql`action LIKE ${likePrefix(query.action)}` : sql`action = ${query.action}`);
  }
  if (query.actorId !== undefined) conditions.push(sql`actor_id = ${query.actorId}`);
  if (query.targetId !== undefined) conditions.push(sql`target_id = ${query.targetId}`);
  if (query.since !== undefined) conditions.push(sql`occurred_at >= ${query.since.toISOString()}::timestamptz`);
  if (query.until !== undefined) conditions.push(sql`occurred_at < ${query.until.toISOString()}::timestamptz`);
  return conditions;
}

/** Newest first, `limit` of them, and whether older ones match too. */
export async function listAuditEvents(db: Queryable, query: AuditQuery): Promise<{ events: StoredAuditEvent[]; more: boolean }> {
  const conditions = filters(query);
  if (query.beforeSequence !== undefined) conditions.push(sql`sequence < ${query.beforeSequence}`);
  const rows = await queryRows<AuditRow>(
    db,
    sql`SELECT ${COLUMNS} FROM audit_events WHERE ${sql.join(conditions, sql` AND `)}
        ORDER BY sequence DESC LIMIT ${query.limit + 1}`,
  );
  return { events: rows.slice(0, query.limit).map(toEvent), more: rows.length > query.limit };
}

export interface AuditExportQuery {
  /** Null: every tenant, deleted ones included. */
  readonly tenantId: string | null;
  readonly since?: Date;
  readonly until?: Date;
}

/** Oldest first, in batches: memory stays constant however many events there are. */
export async function* exportAuditEvents(db: Queryable, query: AuditExportQuery, batchSize = 1_000): AsyncGenerator<StoredAuditEvent> {
  let after = 0;
  for (;;) {
    const conditions: SQL[] = [sql`sequence > ${after}`];
    if (query.tenantId !== null) conditions.push(sql`tenant_id = ${query.tenantId}`);
    if (query.since !== undefined) conditions.push(sql`occurred_at >= ${query.since.toISOString()}::timestamptz`);
    if (query.until !== undefined) conditions.push(sql`occurred_at < ${query.until.toISOString()}::timestamptz`);
    const rows = await queryRows<AuditRow>(
      db,
      sql`SELECT ${COLUMNS} FROM audit_events WHERE ${sql.join(conditions, sql` AND `)} ORDER BY sequence LIMIT ${batchSize}`,
    );
    for (const row of rows) yield toEvent(row);
    if (rows.length < batchSize) return;
    after = Number(rows[rows.length - 1]!.sequence);
  }
}

/** A stable 64-bit lock key per tenant for sealing, in a namespace of its own. */
function sealLockKey(tenantId: string) {
  return sql`hashtextextended(${`kartograph-audit-seal:${tenantId}`}, 0)`;
}

/** Tenants with events waiting to be sealed, the longest waiting first. */
export async function tenantsWithUnsealedEvents(db: Queryable, limit: number): Promise<string[]> {
  const rows = await queryRows<{ tenant_id: string }>(
    db,
    sql`SELECT tenant_id FROM audit_events WHERE hash IS NULL GROUP BY tenant_id ORDER BY min(sequence) LIMIT ${limit}`,
  );
  return rows.map((row) => row.tenant_id);
}

export interface SealingBacklog {
  readonly unsealed: number;
  /** How long the oldest unsealed event has waited, in seconds (0 when none waits). */
  readonly lagSeconds: number;
}

/** Unsealed events and the sealing lag, in one statement over the unsealed index. */
export async function readSealingBacklog(db: Queryable): Promise<SealingBacklog> {
  const rows = await queryRows<{ unsealed: string | number; lag: string | number | null }>(
    db,
    sql`SELECT count(*) AS unsealed, extract(epoch FROM clock_timestamp() - min(occurred_at)) AS lag
        FROM audit_events WHERE hash IS NULL`,
  );
  return { unsealed: Number(rows[0]?.unsealed ?? 0), lagSeconds: Math.max(0, Number(rows[0]?.lag ?? 0)) };
}

/**
 * Seals up to `limit` of a tenant's unsealed events after `afterSequence`, in insertion order,
 * continuing the chain; returns how many, and the last sequence sealed. Zero when another process
 * is sealing the tenant right now (it will have sealed them). A transaction that committed late is sealed after events inserted later: the
 * chain records the order of sealing, which is what `verify` checks.
 */
export async function sealTenant(db: AppDatabase, tenantId: string, limit: number, afterSequence = 0): Promise<{ sealed: number; lastSequence: number }> {
  return db.transaction(async (tx) => {
    const locked = await queryRows<{ locked: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(${sealLockKey(tenantId)}) AS locked`);
    if (locked[0]?.locked !== true) return { sealed: 0, lastSequence: afterSequence };
    const heads = await queryRows<{ last_position: string | number; last_hash: string }>(
      tx,
      sql`SELECT last_position, last_hash FROM audit_chains WHERE tenant_id = ${tenantId}`,
    );
    let position = Number(heads[0]?.last_position ?? 0);
    let previous = heads[0]?.last_hash ?? GENESIS_HASH;
    const rows = await queryRows<AuditRow>(
      tx,
      // From where the previous batch ended: the index entries of rows just sealed stay until a
      // vacuum, and starting from the beginning each time would step over all of them again.
      sql`SELECT ${COLUMNS} FROM audit_events
          WHERE tenant_id = ${tenantId} AND hash IS NULL AND sequence > ${afterSequence}
          ORDER BY sequence LIMIT ${limit}`,
    );
    if (rows.length === 0) return { sealed: 0, lastSequence: afterSequence };
    const sequences: number[] = [];
    const positions: number[] = [];
    const hashes: string[] = [];
    for (const row of rows) {
      position += 1;
      previous = chainHash(previous, toEvent(row), position);
      sequences.push(Number(row.sequence));
      positions.push(position);
      hashes.push(previous);
    }
    await queryRows(
      tx,
      sql`UPDATE audit_events AS e SET chain_position = v.position, hash = v.hash
          FROM unnest(${sql.param(sequences)}::bigint[], ${sql.param(positions)}::bigint[], ${sql.param(hashes)}::text[])
            AS v(sequence, position, hash)
          WHERE e.sequence = v.sequence`,
    );
    await queryRows(
      tx,
      sql`INSERT INTO audit_chains (tenant_id, last_position, last_hash, start_position, start_previous_hash)
          VALUES (${tenantId}, ${position}, ${previous}, 1, ${GENESIS_HASH})
          ON CONFLICT (tenant_id) DO UPDATE SET last_position = excluded.last_position, last_hash = excluded.last_hash`,
    );
    return { sealed: rows.length, lastSequence: sequences[sequences.length - 1]! };
  });
}

export interface ChainHead {
  readonly lastPosition: number;
  readonly lastHash: string;
  readonly startPosition: number;
  readonly startPreviousHash: string;
}

export async function chainHead(db: Queryable, tenantId: string): Promise<ChainHead | null> {
  const rows = await queryRows<{ last_position: string | number; last_hash: string; start_position: string | number; start_previous_hash: string }>(
    db,
    sql`SELECT last_position, last_hash, start_position, start_previous_hash FROM audit_chains WHERE tenant_id = ${tenantId}`,
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    lastPosition: Number(row.last_position),
    lastHash: row.last_hash,
    startPosition: Number(row.start_position),
    startPreviousHash: row.start_previous_hash,
  };
}

/** Tenants that have a chain (sealed events), deleted tenants included. */
export async function chainedTenants(db: Queryable): Promise<string[]> {
  const rows = await queryRows<{ tenant_id: string }>(db, sql`SELECT tenant_id FROM audit_chains ORDER BY tenant_id`);
  return rows.map((row) => row.tenant_id);
}

/** A tenant's sealed events in chain order, in batches. */
export async function* sealedEvents(db: Queryable, tenantId: string, batchSize = 1_000): AsyncGenerator<StoredAuditEvent> {
  let after = -1;
  for (;;) {
    const rows = await queryRows<AuditRow>(
      db,
      sql`SELECT ${COLUMNS} FROM audit_events
          WHERE tenant_id = ${tenantId} AND chain_position > ${after}
          ORDER BY chain_position LIMIT ${batchSize}`,
    );
    for (const row of rows) yield toEvent(row);
    if (rows.length < batchSize) return;
    after = Number(rows[rows.length - 1]!.chain_position);
  }
}

/**
 * Deletes, for each tenant, the sealed events at the old end of its chain that are older than
 * `olderThanDays`, at most `limit` per statement; returns how many. It stops at the first event
 * still within retention, so the chain that remains is whole, and records its new start.
 */
export async function purgeAuditEvents(db: AppDatabase, olderThanDays: number, limit: number): Promise<number> {
  const cutoff = sql`now() - make_interval(days => ${olderThanDays}::int)`;
  // Tenants whose chain starts with an expired event: the chain index finds each start, so no
  // index on occurred_at (which every write would pay for) is needed.
  const tenants = await queryRows<{ tenant_id: string }>(
    db,
    sql`SELECT c.tenant_id FROM audit_chains c
        JOIN audit_events e ON e.tenant_id = c.tenant_id AND e.chain_position = c.start_position
        WHERE e.occurred_at < ${cutoff} LIMIT 1000`,
  );
  let deleted = 0;
  for (const { tenant_id: tenantId } of tenants) {
    deleted += await db.transaction(async (tx) => {
      const locked = await queryRows<{ locked: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(${sealLockKey(tenantId)}) AS locked`);
      if (locked[0]?.locked !== true) return 0;
      // The chain's old end up to (not including) its first event still within retention.
      const rows = await queryRows<{ chain_position: string | number; hash: string }>(
        tx,
        sql`DELETE FROM audit_events WHERE sequence IN (
              SELECT sequence FROM audit_events
              WHERE tenant_id = ${tenantId} AND chain_position IS NOT NULL
                AND chain_position < coalesce(
                  (SELECT min(chain_position) FROM audit_events
                   WHERE tenant_id = ${tenantId} AND chain_position IS NOT NULL AND occurred_at >= ${cutoff}),
                  (SELECT last_position + 1 FROM audit_chains WHERE tenant_id = ${tenantId}))
              ORDER BY chain_position LIMIT ${limit})
            RETURNING chain_position, hash`,
      );
      if (rows.length === 0) return 0;
      const last = rows.reduce((a, b) => (Number(a.chain_position) > Number(b.chain_position) ? a : b));
      await queryRows(
        tx,
        sql`UPDATE audit_chains SET start_position = ${Number(last.chain_position) + 1}, start_previous_hash = ${last.hash}
            WHERE tenant_id = ${tenantId}`,
      );
      return rows.length;
    });
  }
  return deleted;
}

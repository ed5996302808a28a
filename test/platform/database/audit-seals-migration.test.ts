/**
 * Upgrading a database whose audit log kept its seals in the event rows (before `audit_seals`):
 * the sealed events keep their chain, the unsealed ones are queued and sealed after it, and the
 * whole chain verifies.
 */
import { rmSync } from "node:fs";
import { sql } from "drizzle-orm";
import { migrate } from "drizzle-orm/pglite/migrator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GENESIS_HASH, chainHash } from "../../../src/platform/audit/audit-chain.js";
import type { NewAuditEvent } from "../../../src/platform/audit/audit-event.js";
import { AuditSealer } from "../../../src/platform/audit/audit-sealer.js";
import { chainHead, listAuditEvents } from "../../../src/platform/audit/audit-store.js";
import { verifyChain } from "../../../src/platform/audit/audit-verifier.js";
import { queryRows, type DatabaseHandle } from "../../../src/platform/database/database.js";
import { migratePglite, openPglite } from "../../../src/platform/database/pglite-database.js";
import { migrationsBefore } from "../../support/migrations-before.js";

const TENANT = "01J000000000000000000TENNT";
const silent = { sealed: () => undefined, purged: () => undefined, failed: (error: unknown) => { throw error; } };

function event(index: number): NewAuditEvent {
  return {
    id: `01J00000000000000000EVNT0${index}`,
    tenantId: TENANT,
    occurredAt: new Date(Date.UTC(2026, 0, 1, 0, index)),
    action: `step.${index}`,
    actor: { type: "user", id: "alice", username: "alice" },
    target: { type: "workspace", id: "w1", name: "Research" },
    changes: {},
    context: { request_id: `r${index}`, ip: "127.0.0.1", user_agent: "test" },
  };
}

describe("the audit seals migration on a database with sealed and unsealed events", () => {
  let handle: DatabaseHandle;
  const run = <T = Record<string, unknown>>(query: ReturnType<typeof sql>) => queryRows<T>(handle.db, query);

  beforeAll(async () => {
    handle = await openPglite(null);
    const folder = migrationsBefore("_audit_seals");
    try {
      await migrate(handle.db as never, { migrationsFolder: folder });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
    // As the earlier sealer left them: positions 1 and 2 sealed in the rows, the third waiting.
    let previous = GENESIS_HASH;
    for (const index of [1, 2, 3]) {
      const written = event(index);
      const sealed = index < 3;
      const hash = sealed ? chainHash(previous, written, index) : null;
      if (hash !== null) previous = hash;
      await run(sql`INSERT INTO audit_events (id, tenant_id, occurred_at, action, actor_id, target_id, body, chain_position, hash)
        VALUES (${written.id}, ${TENANT}, ${written.occurredAt.toISOString()}, ${written.action}, 'alice', 'w1',
                ${JSON.stringify({ actor: written.actor, target: written.target, changes: written.changes, context: written.context })}::jsonb,
                ${sealed ? index : null}, ${hash})`);
    }
    await run(sql`INSERT INTO audit_chains (tenant_id, last_position, last_hash, start_position, start_previous_hash)
      VALUES (${TENANT}, 2, ${previous}, 1, ${GENESIS_HASH})`);
    await migratePglite(handle);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("keeps the sealed chain and queues the rest", async () => {
    expect(await run(sql`SELECT chain_position::int AS position FROM audit_seals ORDER BY chain_position`)).toEqual([{ position: 1 }, { position: 2 }]);
    expect(await run(sql`SELECT sequence::int AS sequence FROM audit_unsealed`)).toHaveLength(1);
    expect(await verifyChain(handle.db, TENANT)).toMatchObject({ verified: 2, break: null });
  });

  it("seals what waited after the chain it had, and the whole chain verifies", async () => {
    await new AuditSealer(handle.db, silent, { retentionDays: 0 }).runOnce();
    expect(await chainHead(handle.db, TENANT)).toMatchObject({ lastPosition: 3 });
    expect(await verifyChain(handle.db, TENANT)).toMatchObject({ verified: 3, break: null });
    const listed = (await listAuditEvents(handle.db, { tenantId: TENANT, limit: 10 })).events;
    expect(listed.map((e) => [e.action, e.position])).toEqual([["step.3", 3], ["step.2", 2], ["step.1", 1]]);
  });
});

/**
 * A relationship SpiceDB refuses (here: a relation its schema lacks, refused by the real SpiceDB)
 * never holds a tenant's queue, stops the embedded start-up load, or stops reconcile. The entry
 * that asked for it is dead-lettered at once with SpiceDB's reason; everything else is applied.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { AuthzRevisionTracker } from "../../../src/platform/outbox/authz-revision.js";
import { OutboxDispatcher } from "../../../src/platform/outbox/outbox-dispatcher.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { DrizzleUnitOfWork } from "../../../src/iam/infrastructure/drizzle-unit-of-work.js";
import { reconcile } from "../../../src/iam/infrastructure/reconciler.js";
import { RelationshipSyncHandler } from "../../../src/iam/infrastructure/relationship-sync-handler.js";
import type { RelationshipUpdate } from "../../../src/shared-kernel/authorization/authorization-port.js";
import { loadEmbeddedSpiceDb } from "../../../src/outbox-runtime.js";
import { RecordingOutboxProbe } from "../../support/recording-outbox.js";
import { refusingAuthorization } from "../../support/refusing-authorization.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { T, W, memberAdded, memberRemoved } from "../../support/workspace-member-events.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

/** SpiceDB refuses every relationship naming mallory. */
const aboutMallory = (update: RelationshipUpdate) => update.relationship.subject.id === "mallory";

describe.each(TEST_DATABASE_KINDS)("relationships SpiceDB refuses, on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let probe: RecordingOutboxProbe;
  let unitOfWork: DrizzleUnitOfWork;

  const canEdit = (userId: string) =>
    spicedb.authorization.check({ resource: { type: "workspace", id: W }, permission: "edit", subject: { type: "user", id: userId } });
  const outboxRows = () =>
    queryRows<{ payload: { memberId: string }; processed_at: Date | null; failed_at: Date | null; retry_count: number; last_error: string | null }>(
      database.handle.db,
      sql`SELECT payload, processed_at, failed_at, retry_count, last_error FROM outbox ORDER BY sequence`,
    );

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    spicedb = await startTestSpiceDb();
  });
  afterAll(async () => {
    await spicedb?.close();
    await database?.dispose();
  });
  beforeEach(async () => {
    await queryRows(database.handle.db, sql`DELETE FROM outbox`);
    await spicedb.authorization.deleteRelationships({ resourceType: "workspace" });
    const tracker = new AuthzRevisionTracker();
    await tracker.refresh(database.handle.db);
    probe = new RecordingOutboxProbe();
    const handler = new RelationshipSyncHandler(refusingAuthorization(spicedb.authorization, aboutMallory));
    const dispatcher = new OutboxDispatcher(database.handle.db, [handler], tracker, probe, {
      batchSize: 100,
      maxRetries: 5,
      backoff: { baseMs: 1, maxMs: 5 },
    });
    unitOfWork = new DrizzleUnitOfWork(database.handle.db, dispatcher);
  });

  it("dead-letters the refused entry at once, with SpiceDB's reason, and applies the rest of its batch", async () => {
    // One unit of work, one batch: alice's grant goes with mallory's, and bob's after both.
    await unitOfWork.run(async (tx) => {
      tx.record(memberAdded("alice"));
      tx.record(memberAdded("mallory"));
      tx.record(memberAdded("bob"));
    });
    expect([await canEdit("alice"), await canEdit("bob"), await canEdit("mallory")]).toEqual([true, true, false]);
    const rows = await outboxRows();
    const mallory = rows.find((r) => r.payload.memberId === "mallory")!;
    expect(mallory.failed_at).not.toBeNull();
    expect(mallory.retry_count).toBe(1); // no retries: retrying cannot help
    expect(mallory.last_error).toMatch(/^SpiceDB refused touch workspace:01J000000000000000000WSPA1#editor@user:mallory: .*relation_not_in_schema/);
    expect(rows.filter((r) => r.payload.memberId !== "mallory").every((r) => r.processed_at !== null && r.failed_at === null)).toBe(true);
    expect(probe.events.filter((e) => e.name === "entryDeadLettered")).toHaveLength(1);
    expect(probe.events.filter((e) => e.name === "entryFailed")).toEqual([]);
  });

  it("never holds the tenant's queue: a removal committed behind a refused entry takes effect at once", async () => {
    await unitOfWork.run(async (tx) => tx.record(memberAdded("carol")));
    await unitOfWork.run(async (tx) => tx.record(memberAdded("mallory")));
    await unitOfWork.run(async (tx) => tx.record(memberRemoved("carol")));
    expect(await canEdit("carol")).toBe(false);
    const rows = await outboxRows();
    expect(rows.map((r) => [r.payload.memberId, r.processed_at !== null, r.failed_at !== null])).toEqual([
      ["carol", true, false],
      ["mallory", false, true],
      ["carol", true, false],
    ]);
  });

  it("loads everything else into a fresh SpiceDB at start, and returns the refused ones", async () => {
    await queryRows(database.handle.db, sql`DELETE FROM workspace_members`);
    const seeded = await seedWorkspace(database, ["dora", "mallory"]);
    const fresh = await startTestSpiceDb();
    try {
      const refusing = refusingAuthorization(fresh.authorization, aboutMallory);
      const { loaded, refused } = await loadEmbeddedSpiceDb(database.handle, { authorization: refusing });
      expect(refused.map((r) => `${r.update.relationship.relation}@${r.update.relationship.subject.id}`)).toEqual(["editor@mallory"]);
      expect(refused[0]!.reason).toContain("relation_not_in_schema");
      expect(loaded).toBe(seeded - 1);
      expect(
        await fresh.authorization.check({ resource: { type: "workspace", id: W }, permission: "edit", subject: { type: "user", id: "dora" } }),
      ).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it("lets reconcile repair everything it can and list what SpiceDB refused", async () => {
    await queryRows(database.handle.db, sql`DELETE FROM workspace_members`);
    await seedWorkspace(database, ["erin", "mallory"]);
    const refusing = refusingAuthorization(spicedb.authorization, aboutMallory);
    const report = await reconcile(database.handle.db, refusing, { dryRun: false });
    expect(report.refused.map((r) => r.update.relationship.subject.id)).toEqual(["mallory"]);
    expect(report.missing.map((r) => r.subject.id)).toContain("erin");
    expect(await canEdit("erin")).toBe(true);
    // What it repaired stays repaired: the next run finds only the refused one missing.
    const again = await reconcile(database.handle.db, refusing, { dryRun: true });
    expect(again.missing.map((r) => `${r.relation}@${r.subject.id}`)).toEqual(["editor@mallory"]);
  });
});

/** A tenant, its root workspace W and editors of W, straight into the tables; returns how many relationships they derive. */
async function seedWorkspace(database: TestDatabase, editors: readonly string[]): Promise<number> {
  const db = database.handle.db;
  await queryRows(db, sql`DELETE FROM workspaces`);
  await queryRows(db, sql`DELETE FROM tenants`);
  await queryRows(db, sql`INSERT INTO tenants (id, name) VALUES (${T}, 'refusals')`);
  await queryRows(db, sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES (${W}, ${T}, 'Root', true)`);
  for (const user of editors) {
    await queryRows(db, sql`INSERT INTO users (id, username) VALUES (${user}, ${user}) ON CONFLICT DO NOTHING`);
    await queryRows(
      db,
      sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role) VALUES (${W}, 'user', ${user}, 'editor')`,
    );
  }
  // Per workspace: tenant, root_workspace, creator_tenant; one per editor.
  return 3 + editors.length;
}

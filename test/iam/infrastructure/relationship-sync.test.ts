import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { AuthzRevisionTracker } from "../../../src/platform/outbox/authz-revision.js";
import { OutboxDispatcher } from "../../../src/platform/outbox/outbox-dispatcher.js";
import { ChangeNotYetInEffectError } from "../../../src/platform/outbox/change-not-in-effect.js";
import { CachedAuthorization } from "../../../src/platform/spicedb/cached-authorization.js";
import { permissionSchemaIsMonotonic, type SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { DrizzleUnitOfWork } from "../../../src/iam/infrastructure/drizzle-unit-of-work.js";
import { reconcile } from "../../../src/iam/infrastructure/reconciler.js";
import { RelationshipSyncHandler } from "../../../src/iam/infrastructure/relationship-sync-handler.js";
import type { IamEvent } from "../../../src/iam/domain/events.js";
import { RecordingOutboxProbe, outboxNotificationsDuring } from "../../support/recording-outbox.js";
import { switchableAuthorization } from "../../support/switchable-authorization.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { T, W, at, memberAdded, memberRemoved } from "../../support/workspace-member-events.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";


describe.each(TEST_DATABASE_KINDS)("relationship sync on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let sink: ReturnType<typeof switchableAuthorization>;
  let tracker: AuthzRevisionTracker;
  let dispatcher: OutboxDispatcher;
  let unitOfWork: DrizzleUnitOfWork;
  let authorization: CachedAuthorization;

  const canEdit = (userId: string) =>
    authorization.check({ resource: { type: "workspace", id: W }, permission: "edit", subject: { type: "user", id: userId } });
  const outboxRows = async () =>
    queryRows<{ event_type: string; processed_at: Date | null; retry_count: number; last_error: string | null }>(
      database.handle.db,
      sql`SELECT event_type, processed_at, retry_count, last_error FROM outbox ORDER BY sequence`,
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
    await spicedb.authorization.deleteRelationships({ resourceType: "tenant" });
    sink = switchableAuthorization(spicedb.authorization);
    tracker = new AuthzRevisionTracker();
    await tracker.refresh(database.handle.db);
    dispatcher = new OutboxDispatcher(database.handle.db, [new RelationshipSyncHandler(sink)], tracker, new RecordingOutboxProbe(), {
      batchSize: 100,
      maxRetries: 5,
      backoff: { baseMs: 1, maxMs: 5 },
    });
    unitOfWork = new DrizzleUnitOfWork(database.handle.db, dispatcher);
    // Reads and writes share one SpiceDB, as in production: when it is down, both are.
    authorization = new CachedAuthorization(sink, tracker, { monotonicSchema: permissionSchemaIsMonotonic() });
  });

  it("makes a committed change visible before run() resolves (read-your-writes)", async () => {
    expect(await canEdit("alice")).toBe(false);
    await unitOfWork.run(async (tx) => tx.record(memberAdded("alice")));
    expect(await canEdit("alice")).toBe(true);
    const rows = await outboxRows();
    expect(rows.map((r) => [r.event_type, r.processed_at !== null])).toEqual([["WorkspaceMemberAdded", true]]);
  });

  it("never answers a cached decision from before a write that returned", async () => {
    await unitOfWork.run(async (tx) => tx.record(memberAdded("bob")));
    expect(await canEdit("bob")).toBe(true);
    expect(await canEdit("bob")).toBe(true); // served from the cache
    await unitOfWork.run(async (tx) => tx.record(memberRemoved("bob")));
    expect(await canEdit("bob")).toBe(false);
    expect(authorization.stats().hits).toBeGreaterThan(0);
  });

  it("keeps an allowed decision across changes that only grant, and re-asks a denied one", async () => {
    await unitOfWork.run(async (tx) => tx.record(memberAdded("hal")));
    expect(await canEdit("hal")).toBe(true);
    expect(await canEdit("ivy")).toBe(false);
    const revokedBefore = tracker.current().revokedRevision;
    await unitOfWork.run(async (tx) => tx.record(memberAdded("ivy")));
    expect(tracker.current().revokedRevision).toBe(revokedBefore);
    const { hits, misses } = authorization.stats();
    expect(await canEdit("hal")).toBe(true);
    expect(authorization.stats().hits).toBe(hits + 1);
    // "No" may have become "yes": asked again, and it has.
    expect(await canEdit("ivy")).toBe(true);
    expect(authorization.stats().misses).toBe(misses + 1);
  });

  it("drops every allowed decision at a change that takes something away, whoever it concerns", async () => {
    await unitOfWork.run(async (tx) => tx.record(memberAdded("jon")));
    await unitOfWork.run(async (tx) => tx.record(memberAdded("kim")));
    expect(await canEdit("jon")).toBe(true);
    await unitOfWork.run(async (tx) => tx.record(memberRemoved("kim")));
    expect(tracker.current().revokedRevision).toBe(tracker.current().revision);
    const { misses } = authorization.stats();
    expect(await canEdit("jon")).toBe(true);
    expect(await canEdit("kim")).toBe(false);
    expect(authorization.stats().misses).toBe(misses + 2);
  });

  it("keeps decisions for one revision only when the schema is not known to be monotonic", async () => {
    const strict = new CachedAuthorization(sink, tracker, { monotonicSchema: false });
    const canEditStrictly = (userId: string) =>
      strict.check({ resource: { type: "workspace", id: W }, permission: "edit", subject: { type: "user", id: userId } });
    await unitOfWork.run(async (tx) => tx.record(memberAdded("lou")));
    expect(await canEditStrictly("lou")).toBe(true);
    expect(await canEditStrictly("lou")).toBe(true);
    expect(strict.stats()).toMatchObject({ hits: 1, misses: 1 });
    await unitOfWork.run(async (tx) => tx.record(memberAdded("max")));
    expect(await canEditStrictly("lou")).toBe(true);
    expect(strict.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it("leaves neither outbox rows nor SpiceDB changes when the transaction fails after recording", async () => {
    await expect(
      unitOfWork.run(async (tx) => {
        tx.record(memberAdded("carol"));
        throw new Error("boom after recording");
      }),
    ).rejects.toThrow("boom after recording");
    expect(await outboxRows()).toEqual([]);
    expect(await canEdit("carol")).toBe(false);
  });

  const notifiedDuring = (during: () => Promise<unknown>) => outboxNotificationsDuring(database.handle, during);

  it("wakes no worker for a change the writer applied itself", async () => {
    const notified = await notifiedDuring(() => unitOfWork.run(async (tx) => tx.record(memberAdded("fay"))));
    expect(notified).toEqual([]);
    expect(await canEdit("fay")).toBe(true);
    // The same insert without a writer that applies it does wake the workers.
    const raw = await notifiedDuring(() => new DrizzleUnitOfWork(database.handle.db, null).run(async (tx) => tx.record(memberAdded("gus"))));
    expect(raw).toEqual([T]);
  });

  it("wakes the workers for the tenant when the writer could not apply its change", async () => {
    sink.down = true;
    const notified = await notifiedDuring(() =>
      unitOfWork.run(async (tx) => tx.record(memberAdded("hugo"))).catch((error: unknown) => {
        if (!(error instanceof ChangeNotYetInEffectError)) throw error;
      }),
    );
    expect(notified).toEqual([T]);
    expect((await outboxRows()).map((row) => row.processed_at)).toEqual([null]);
  });

  it("keeps the commit when SpiceDB is down, says it is not in effect yet, and applies it in order once SpiceDB is back", async () => {
    sink.down = true;
    await expect(unitOfWork.run(async (tx) => tx.record(memberAdded("dave")))).rejects.toBeInstanceOf(ChangeNotYetInEffectError);
    await expect(unitOfWork.run(async (tx) => tx.record(memberAdded("erin")))).rejects.toBeInstanceOf(ChangeNotYetInEffectError);
    const pending = await outboxRows();
    expect(pending.every((r) => r.processed_at === null)).toBe(true);
    expect(pending[0]?.retry_count).toBeGreaterThan(0);
    expect(pending[0]?.last_error).toMatch(/ECONNREFUSED/);

    sink.down = false;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await dispatcher.drain(T, { wait: true });
    expect(await canEdit("dave")).toBe(true);
    expect(await canEdit("erin")).toBe(true);
    expect((await outboxRows()).every((r) => r.processed_at !== null)).toBe(true);
  });

  it("never serves a cached decision from before a write that committed while SpiceDB was down", async () => {
    await unitOfWork.run(async (tx) => tx.record(memberAdded("gina")));
    expect(await canEdit("gina")).toBe(true);
    sink.down = true;
    await expect(unitOfWork.run(async (tx) => tx.record(memberRemoved("gina")))).rejects.toBeInstanceOf(ChangeNotYetInEffectError);
    // The cache must not answer "yes" any more: the question goes to SpiceDB, which is down (503).
    await expect(canEdit("gina")).rejects.toThrow(/ECONNREFUSED/);
    sink.down = false;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await dispatcher.drain(T, { wait: true });
    expect(await canEdit("gina")).toBe(false);
  });

  it("answers success for a change that touches no relationship, whatever SpiceDB does", async () => {
    sink.down = true;
    const renamed: IamEvent = { type: "GroupRenamed", tenantId: T, occurredAt: at, groupId: "01J000000000000000000GRPA1", name: "b" };
    await expect(unitOfWork.run(async (tx) => tx.record(renamed))).resolves.toBeUndefined();
  });

  it("hands a tenant it could not apply to the process's worker at once, which needs no database to hear it", async () => {
    const handedOver: string[] = [];
    const handing = new DrizzleUnitOfWork(database.handle.db, dispatcher, { handOver: (tenantId) => handedOver.push(tenantId) });
    sink.down = true;
    await expect(handing.run(async (tx) => tx.record(memberAdded("ivan")))).rejects.toBeInstanceOf(ChangeNotYetInEffectError);
    expect(handedOver).toEqual([T]);
    sink.down = false;
    await handing.run(async (tx) => tx.record(memberAdded("jane")));
    expect(handedOver).toEqual([T]);
  });

  describe("reconcile", () => {
    beforeEach(async () => {
      await queryRows(database.handle.db, sql`DELETE FROM workspace_members`);
      await queryRows(database.handle.db, sql`DELETE FROM workspaces`);
      await queryRows(database.handle.db, sql`DELETE FROM tenant_members`);
      await queryRows(database.handle.db, sql`DELETE FROM tenants`);
      await queryRows(database.handle.db, sql`INSERT INTO users (id, username) VALUES ('u-frank', 'frank') ON CONFLICT DO NOTHING`);
      await queryRows(database.handle.db, sql`INSERT INTO tenants (id, name) VALUES (${T}, 'acme')`);
      await queryRows(database.handle.db, sql`INSERT INTO tenant_members (tenant_id, user_id, role) VALUES (${T}, 'u-frank', 'admin')`);
      await queryRows(database.handle.db, sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES (${W}, ${T}, 'root', true)`);
      await queryRows(
        database.handle.db,
        sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role) VALUES (${W}, 'user', 'u-frank', 'admin')`,
      );
    });

    it("adds what is missing, removes orphans, and then finds nothing to repair", async () => {
      const orphan = {
        resource: { type: "workspace", id: W },
        relation: "member",
        subject: { type: "user", id: "u-ghost" },
      };
      await spicedb.authorization.writeRelationships([{ operation: "touch", relationship: orphan }]);

      const dry = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
      expect(dry.applied).toBe(false);
      expect(dry.missing).toHaveLength(5);
      expect(dry.orphaned).toEqual([orphan]);
      expect(await canEdit("u-frank")).toBe(false);

      const repair = await reconcile(database.handle.db, spicedb.authorization, { dryRun: false });
      expect(repair.applied).toBe(true);
      tracker.observe(repair.revision ?? tracker.current());
      expect(await canEdit("u-frank")).toBe(true);

      const again = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
      expect([again.missing.length, again.orphaned.length]).toEqual([0, 0]);
    });

    it("restores a tuple deleted behind the service's back", async () => {
      await reconcile(database.handle.db, spicedb.authorization, { dryRun: false });
      await spicedb.authorization.writeRelationships([
        {
          operation: "delete",
          relationship: { resource: { type: "tenant", id: T }, relation: "admin", subject: { type: "user", id: "u-frank" } },
        },
      ]);
      const repair = await reconcile(database.handle.db, spicedb.authorization, { dryRun: false });
      expect(repair.missing.map((r) => `${r.resource.type}#${r.relation}`)).toEqual(["tenant#admin"]);
      expect(repair.orphaned).toEqual([]);
    });
  });
});

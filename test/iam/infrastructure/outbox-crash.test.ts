import { spawn } from "node:child_process";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { AuthzRevisionTracker } from "../../../src/platform/outbox/authz-revision.js";
import { OutboxDispatcher } from "../../../src/platform/outbox/outbox-dispatcher.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { DrizzleUnitOfWork } from "../../../src/iam/infrastructure/drizzle-unit-of-work.js";
import { reconcile } from "../../../src/iam/infrastructure/reconciler.js";
import { RelationshipSyncHandler } from "../../../src/iam/infrastructure/relationship-sync-handler.js";
import { RecordingOutboxProbe } from "../../support/recording-outbox.js";
import { HAS_POSTGRES_SERVER, createTestDatabase, type TestDatabase } from "../../support/test-database.js";
import { startTestSpiceDb } from "../../support/test-spicedb.js";

const T = "01J00000000000000000CRASH1";
const ROOT = "01J00000000000000000CRASHW";
const at = new Date();

describe.skipIf(!HAS_POSTGRES_SERVER)("a worker killed in the middle of a batch", () => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
    spicedb = await startTestSpiceDb();
  });
  afterAll(async () => {
    await spicedb?.close();
    await database?.dispose();
  });

  it("loses nothing: after a restart every entry is applied and SpiceDB matches the tables", async () => {
    // Rows and their events committed together, with no one applying them yet.
    const unitOfWork = new DrizzleUnitOfWork(database.handle.db, null);
    const users = Array.from({ length: 40 }, (_, i) => `crash-user-${i}`);
    await unitOfWork.run(async (tx) => {
      tx.record(
        { type: "WorkspaceCreated", tenantId: T, occurredAt: at, workspaceId: ROOT, name: "root", parentWorkspaceId: null, isRoot: true },
        { type: "WorkspaceCreatorTenantSet", tenantId: T, occurredAt: at, workspaceId: ROOT },
        ...users.map((userId) => ({ type: "TenantMemberAdded" as const, tenantId: T, occurredAt: at, userId, role: "member" as const, addedBy: null })),
        ...users.map((userId) => ({
          type: "WorkspaceMemberAdded" as const,
          tenantId: T,
          occurredAt: at,
          workspaceId: ROOT,
          memberId: userId,
          memberType: "user" as const,
          role: "editor" as const,
        })),
      );
    });
    await queryRows(database.handle.db, sql`INSERT INTO tenants (id, name) VALUES (${T}, 'crash')`);
    await queryRows(database.handle.db, sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES (${ROOT}, ${T}, 'root', true)`);
    for (const userId of users) {
      await queryRows(database.handle.db, sql`INSERT INTO users (id, username) VALUES (${userId}, ${userId})`);
      await queryRows(database.handle.db, sql`INSERT INTO tenant_members (tenant_id, user_id, role) VALUES (${T}, ${userId}, 'member')`);
      await queryRows(
        database.handle.db,
        sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role) VALUES (${ROOT}, 'user', ${userId}, 'editor')`,
      );
    }

    const child = spawn(process.execPath, ["--import", "tsx", "test/fixtures/outbox-crash-worker.ts"], {
      env: { ...process.env, CRASH_DB_URL: database.url ?? "", CRASH_TENANT_ID: T },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const claimed = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.on("exit", (code) => reject(new Error(`worker exited early with ${code}`)));
    });
    expect(claimed).toBe("claimed 82");
    child.kill("SIGKILL");
    await new Promise((resolve) => child.on("exit", resolve));

    const unprocessed = await queryRows<{ n: string }>(database.handle.db, sql`SELECT count(*) AS n FROM outbox WHERE processed_at IS NULL`);
    expect(Number(unprocessed[0]?.n)).toBe(82);

    // "Restart": a new worker over the same table applies everything the dead one held.
    const dispatcher = new OutboxDispatcher(
      database.handle.db,
      [new RelationshipSyncHandler(spicedb.authorization)],
      new AuthzRevisionTracker(),
      new RecordingOutboxProbe(),
      { batchSize: 100, maxRetries: 5, backoff: { baseMs: 10, maxMs: 100 } },
    );
    const result = await dispatcher.drain(T, { wait: true });
    expect(result.applied).toBe(82);
    const report = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
    expect([report.missing.length, report.orphaned.length]).toEqual([0, 0]);
    expect(report.expected).toBe(2 + 1 + 40 + 40);
  });
});

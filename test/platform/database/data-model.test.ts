import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import { postgresErrorOf } from "../../../src/platform/database/database-errors.js";
import { appliedMigrationCount, shippedMigrationCount } from "../../../src/platform/database/open-database.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../support/test-database.js";

describe.each(TEST_DATABASE_KINDS)("IAM data model on %s", (kind) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database?.dispose();
  });

  const run = (query: ReturnType<typeof sql>) => queryRows(database.handle.db, query);
  /** The constraint a failing statement violated, as PostgreSQL names it. */
  const violated = (query: ReturnType<typeof sql>) =>
    run(query).then(
      () => "no violation",
      (error: unknown) => postgresErrorOf(error)?.constraint ?? `unexpected: ${String(error)}`,
    );

  it("applies every shipped migration", async () => {
    expect(await appliedMigrationCount(database.handle)).toBe(shippedMigrationCount());
  });

  it("allows exactly one root workspace per tenant", async () => {
    await run(sql`INSERT INTO tenants (id, name) VALUES ('01J00000000000000000000001', 'acme')`);
    await run(
      sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES ('01J00000000000000000000002', '01J00000000000000000000001', 'root', true)`,
    );
    expect(await violated(sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES ('01J00000000000000000000003', '01J00000000000000000000001', 'root2', true)`)).toBe("uq_workspaces_one_root_per_tenant");
  });

  it("refuses a root with a parent and a child without one", async () => {
    expect(await violated(sql`INSERT INTO workspaces (id, tenant_id, name, is_root) VALUES ('01J00000000000000000000004', '01J00000000000000000000001', 'orphan', false)`)).toBe("ck_workspaces_root_has_no_parent");
  });

  it("stores workspace names of 512 characters in full and keeps names unique per tenant", async () => {
    const long = "w".repeat(512);
    await run(
      sql`INSERT INTO workspaces (id, tenant_id, name, parent_workspace_id) VALUES ('01J00000000000000000000005', '01J00000000000000000000001', ${long}, '01J00000000000000000000002')`,
    );
    const rows = await run(sql`SELECT length(name) AS length FROM workspaces WHERE id = '01J00000000000000000000005'`);
    expect(Number((rows[0] as { length: number }).length)).toBe(512);
    expect(await violated(sql`INSERT INTO workspaces (id, tenant_id, name, parent_workspace_id) VALUES ('01J00000000000000000000006', '01J00000000000000000000001', ${long}, '01J00000000000000000000002')`)).toBe("uq_workspaces_tenant_name");
  });

  it("will not delete a tenant that still has workspaces (deletion goes through the application)", async () => {
    expect(await violated(sql`DELETE FROM tenants WHERE id = '01J00000000000000000000001'`)).toBe(
      "workspaces_tenant_id_tenants_id_fk",
    );
  });

  it("will not delete a group that still holds workspace grants", async () => {
    await run(sql`INSERT INTO groups (id, tenant_id, name) VALUES ('01J00000000000000000000007', '01J00000000000000000000001', 'ops')`);
    await run(
      sql`INSERT INTO workspace_members (workspace_id, member_type, member_id, role) VALUES ('01J00000000000000000000002', 'group', '01J00000000000000000000007', 'editor')`,
    );
    expect(await violated(sql`DELETE FROM groups WHERE id = '01J00000000000000000000007'`)).toBe("fk_workspace_members_group");
  });

  it("gives outbox entries an increasing sequence", async () => {
    await run(sql`INSERT INTO outbox (tenant_id, aggregate_type, aggregate_id, event_type, payload, occurred_at)
      VALUES ('01J00000000000000000000001', 'tenant', 'x', 'TenantCreated', '{}', now()),
             ('01J00000000000000000000001', 'tenant', 'x', 'TenantCreated', '{}', now())`);
    const rows = await run(sql`SELECT sequence FROM outbox ORDER BY sequence`);
    const sequences = rows.map((r) => Number((r as { sequence: number }).sequence));
    expect(sequences).toHaveLength(2);
    expect(sequences[1]).toBeGreaterThan(sequences[0] ?? Infinity);
  });
});

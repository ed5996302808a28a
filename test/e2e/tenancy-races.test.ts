/** Races through HTTP (PostgreSQL server only: PGlite serialises every transaction). */
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcile } from "../../src/iam/infrastructure/reconciler.js";
import { queryRows } from "../../src/platform/database/database.js";
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { HAS_POSTGRES_SERVER, createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { startTestIamServer, type TestIamServer } from "../support/test-iam-server.js";
import { startTestIdentity, type TestIdentity } from "../support/test-identity.js";
import { startTestSpiceDb } from "../support/test-spicedb.js";

describe.runIf(HAS_POSTGRES_SERVER)("tenancy races over HTTP on postgres", () => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;

  beforeAll(async () => {
    database = await createTestDatabase("postgres", { poolMax: 20 });
    spicedb = await startTestSpiceDb();
    identity = await startTestIdentity();
    app = await startTestIamServer({
      database: database.handle,
      spicedb,
      identity,
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
  });
  afterAll(async () => {
    await app?.close();
    await identity?.close();
    await spicedb?.close();
    await database?.dispose();
  });

  it("answers 50 concurrent creations of one name with exactly one 201 and 49 409s", async () => {
    const headers = { authorization: `Bearer ${await identity.tokenFor("ada")}` };
    const tenant = (await app.server.inject({ method: "POST", url: "/iam/tenants", headers, payload: { name: "race" } })).json() as { id: string };
    const withTenant = { ...headers, "x-tenant-id": tenant.id };
    const list = (await app.server.inject({ method: "GET", url: "/iam/workspaces", headers: withTenant })).json() as { workspaces: { id: string }[] };
    const rootId = list.workspaces[0]?.id ?? "";
    const responses = await Promise.all(
      Array.from({ length: 50 }, () =>
        app.server.inject({ method: "POST", url: "/iam/workspaces", headers: withTenant, payload: { name: "same", parent_workspace_id: rootId } }),
      ),
    );
    const statuses = responses.map((r) => r.statusCode).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);
    expect(await queryRows(database.handle.db, sql`SELECT count(*)::int AS n FROM workspaces WHERE name = 'same'`)).toEqual([{ n: 1 }]);
  });

  it("keeps SpiceDB equal to the tables under random concurrent changes, and never answers 5xx", async () => {
    // fast-check draws every choice; a failure prints the seed and path that replay it
    // (fc.assert's { seed, path }). One run: the churn itself is the random walk.
    await fc.assert(
      fc.asyncProperty(fc.gen(), (draw) => churn(() => draw(fc.double, { min: 0, max: 1, maxExcluded: true, noNaN: true }))),
      { numRuns: 1, endOnFailure: true },
    );
  });

  async function churn(random: () => number): Promise<void> {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

    const users = ["ann", "ben", "cat", "dan", "eve"];
    const tokens = new Map(await Promise.all(users.map(async (u) => [u, await identity.tokenFor(u)] as const)));
    const as = (user: string, tenantId?: string) => ({
      authorization: `Bearer ${tokens.get(user)}`,
      ...(tenantId ? { "x-tenant-id": tenantId } : {}),
    });
    const tenant = (await app.server.inject({ method: "POST", url: "/iam/tenants", headers: as("ann"), payload: { name: "churn" } })).json() as { id: string };
    const call = async (user: string, method: string, url: string, payload?: object) => {
      const response = await app.server.inject({ method: method as "GET", url, headers: as(user, tenant.id), ...(payload ? { payload } : {}) });
      if (response.statusCode >= 500) failures.push(`${response.statusCode} ${user} ${method} ${url} ${JSON.stringify(payload)}: ${response.body}`);
      return response;
    };
    const failures: string[] = [];
    for (const user of users.slice(1)) {
      await app.server.inject({ method: "GET", url: "/iam/tenants", headers: as(user) }); // provisions the user
      await call("ann", "POST", `/iam/tenants/${tenant.id}/members`, { user_id: user, role: "member" });
    }
    const root = ((await call("ann", "GET", "/iam/workspaces")).json() as { workspaces: { id: string }[] }).workspaces[0]?.id ?? "";
    const workspaces = [root];
    const groups: string[] = [];
    const name = (prefix: string) => `${prefix}-${Math.floor(random() * 1e6)}`;
    const operations: ((user: string) => Promise<unknown>)[] = [
      async (u) => {
        const created = await call(u, "POST", "/iam/workspaces", { name: name("w"), parent_workspace_id: pick(workspaces) });
        if (created.statusCode === 201) workspaces.push((created.json() as { id: string }).id);
      },
      (u) => call(u, "DELETE", `/iam/workspaces/${pick(workspaces)}`),
      (u) => call(u, "POST", `/iam/workspaces/${pick(workspaces)}/members`, { member_type: "user", member_id: pick(users), role: pick(["admin", "editor", "member"]) }),
      (u) => call(u, "PATCH", `/iam/workspaces/${pick(workspaces)}/members/${pick(users)}?member_type=user`, { role: pick(["admin", "member"]) }),
      (u) => call(u, "DELETE", `/iam/workspaces/${pick(workspaces)}/members/${pick(users)}?member_type=user`),
      async (u) => {
        const created = await call(u, "POST", "/iam/groups", { name: name("g") });
        if (created.statusCode === 201) groups.push((created.json() as { id: string }).id);
      },
      async (u) => groups.length > 0 && call(u, "POST", `/iam/groups/${pick(groups)}/members`, { user_id: pick(users), role: pick(["admin", "member"]) }),
      async (u) => groups.length > 0 && call(u, "DELETE", `/iam/groups/${pick(groups)}/members/${pick(users)}`),
      async (u) => groups.length > 0 && call(u, "DELETE", `/iam/groups/${pick(groups)}`),
      async (u) =>
        groups.length > 0 &&
        call(u, "POST", `/iam/workspaces/${pick(workspaces)}/members`, { member_type: "group", member_id: pick(groups), role: pick(["editor", "member"]) }),
      (u) => call(u, "POST", `/iam/tenants/${tenant.id}/members`, { user_id: pick(users.slice(1)), role: pick(["admin", "member"]) }),
      (u) => call(u, "DELETE", `/iam/tenants/${tenant.id}/members/${pick(users.slice(1))}`),
      (u) => call(u, "GET", "/iam/workspaces"),
    ];
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        for (let i = 0; i < 40; i++) await pick(operations)(random() < 0.4 ? "ann" : pick(users));
      }),
    );

    expect(failures).toEqual([]);
    const pending = await queryRows<{ n: number }>(database.handle.db, sql`SELECT count(*)::int AS n FROM outbox WHERE processed_at IS NULL`);
    expect(pending).toEqual([{ n: 0 }]);
    const report = await reconcile(database.handle.db, spicedb.authorization, { dryRun: true });
    expect({ missing: report.missing, orphaned: report.orphaned }).toEqual({ missing: [], orphaned: [] });
    expect(report.expected).toBeGreaterThan(20);
  }
});

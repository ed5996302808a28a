/** Races through HTTP (PostgreSQL server only: PGlite serialises every transaction). */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
      authorization: spicedb.authorization,
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
});

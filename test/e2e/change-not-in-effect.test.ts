/**
 * A request whose own relationship changes could not be applied before the answer does not answer
 * success as if they were: a removal that does not hold yet is a 503 that says the change is saved
 * and takes effect by itself. Once SpiceDB answers again, the change holds without any repeat.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../src/platform/database/database.js";
import { CHANGE_NOT_YET_IN_EFFECT } from "../../src/platform/outbox/change-not-in-effect.js";
import type { SpiceDbEngine } from "../../src/platform/spicedb/spicedb-engine.js";
import { switchableAuthorization } from "../support/switchable-authorization.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../support/test-database.js";
import { startTestIamServer, type TestIamServer } from "../support/test-iam-server.js";
import { startTestIdentity, type TestIdentity } from "../support/test-identity.js";
import { startTestSpiceDb } from "../support/test-spicedb.js";

describe.each(TEST_DATABASE_KINDS)("changes saved but not yet in effect, on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let sink: ReturnType<typeof switchableAuthorization>;
  let app: TestIamServer;
  let tenant: string;
  let root: string;

  const call = async (user: string, method: string, url: string, payload?: object) =>
    app.server.inject({
      method: method as "GET",
      url,
      headers: { authorization: `Bearer ${await identity.tokenFor(user)}`, "x-tenant-id": tenant },
      ...(payload ? { payload } : {}),
    });

  beforeAll(async () => {
    [database, spicedb, identity] = await Promise.all([createTestDatabase(kind), startTestSpiceDb(), startTestIdentity()]);
    app = await startTestIamServer({
      database: database.handle,
      spicedb,
      authorization: (real) => (sink = switchableAuthorization(real)),
      identity,
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
    tenant = "";
    for (const user of ["ada", "bob"]) await call(user, "GET", "/iam/tenants");
    tenant = (await call("ada", "POST", "/iam/tenants", { name: "blips" })).json<{ id: string }>().id;
    expect((await call("ada", "POST", `/iam/tenants/${tenant}/members`, { user_id: "bob", role: "member" })).statusCode).toBe(201);
    const workspaces = (await call("ada", "GET", "/iam/workspaces")).json<{ workspaces: { id: string; parent_workspace_id: string | null }[] }>();
    root = workspaces.workspaces.find((w) => w.parent_workspace_id === null)!.id;
  });
  afterAll(async () => {
    await app?.close();
    await identity?.close();
    await spicedb?.close();
    await database?.dispose();
  });

  it("answers 503 with the documented detail for a removal SpiceDB has not applied, and it holds once SpiceDB is back", async () => {
    const workspace = (await call("ada", "POST", "/iam/workspaces", { name: "Lab", parent_workspace_id: root })).json<{ id: string }>().id;
    const grant = await call("ada", "POST", `/iam/workspaces/${workspace}/members`, { member_type: "user", member_id: "bob", role: "editor" });
    expect(grant.statusCode, grant.body).toBe(201);
    expect((await call("bob", "GET", `/iam/workspaces/${workspace}`)).statusCode).toBe(200);

    sink.down = true;
    const removal = await call("ada", "DELETE", `/iam/workspaces/${workspace}/members/bob?member_type=user`);
    expect(removal.statusCode).toBe(503);
    expect(removal.json()).toEqual({ detail: CHANGE_NOT_YET_IN_EFFECT });
    expect(removal.headers["retry-after"]).toBe("2");
    // Saved: the row is gone, and nothing half-done is left behind.
    const rows = await queryRows(database.handle.db, sql`SELECT 1 FROM workspace_members WHERE workspace_id = ${workspace} AND member_id = 'bob'`);
    expect(rows).toEqual([]);

    sink.down = false;
    await new Promise((resolve) => setTimeout(resolve, 50)); // past the entry's back-off
    await app.dispatcher.drain(tenant, { wait: true }); // what the worker does when SpiceDB answers
    expect((await call("bob", "GET", `/iam/workspaces/${workspace}`)).statusCode).toBe(404);
    // Repeating the removal is not needed: it finds the change already made.
    const again = await call("ada", "DELETE", `/iam/workspaces/${workspace}/members/bob?member_type=user`);
    expect([again.statusCode, again.json()]).toEqual([400, { detail: "user bob is not a member of this workspace" }]);
  });
});

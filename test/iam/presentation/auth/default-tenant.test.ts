import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../../src/platform/database/database.js";
import { TEST_DATABASE_KINDS, type TestDatabase } from "../../../support/test-database.js";
import { type TestIamServer } from "../../../support/test-iam-server.js";
import { type TestIdentity } from "../../../support/test-identity.js";
import { startTestStack, type TestStack } from "../../../support/test-stack.js";

/** Single-tenant mode end to end, with the tenant service providing the default tenant. */
describe.each(TEST_DATABASE_KINDS)("single-tenant mode with the tenant service on %s", (kind) => {
  let database: TestDatabase;
  let identity: TestIdentity;
  let app: TestIamServer;
  let stack: TestStack;

  const call = async (userId: string, url: string, profile: { username?: string } = {}) =>
    app.server.inject({ method: "GET", url, headers: { authorization: `Bearer ${await identity.tokenFor(userId, profile)}` } });
  const membershipsOf = (userId: string) =>
    queryRows<{ name: string; role: string }>(
      database.handle.db,
      sql`SELECT t.name, m.role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id WHERE m.user_id = ${userId}`,
    );

  beforeAll(async () => {
    stack = await startTestStack(kind, {
      env: { KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["root"]' },
    });
    ({ database, identity, app } = stack);
  });
  afterAll(() => stack?.close());

  it("joins a header-less caller to the default tenant as member, once", async () => {
    const first = await call("carol", "/iam/users?ids=carol");
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ users: [{ id: "carol", username: "carol", name: null, email: null }], count: 1 });
    expect(await call("carol", "/iam/users?ids=carol").then((response) => response.statusCode)).toBe(200);
    expect(await membershipsOf("carol")).toEqual([{ name: "default", role: "member" }]);
  });

  it("joins a bootstrap admin as admin", async () => {
    expect((await call("root-sub", "/iam/users?ids=root-sub", { username: "root" })).statusCode).toBe(200);
    expect(await membershipsOf("root-sub")).toEqual([{ name: "default", role: "admin" }]);
  });

  it("lets a default-tenant member create an API key that then works without any header", async () => {
    const created = await app.server.inject({
      method: "POST",
      url: "/iam/api-keys",
      headers: { authorization: `Bearer ${await identity.tokenFor("carol")}` },
      payload: { name: "script" },
    });
    expect(created.statusCode, created.body).toBe(201);
    const secret = created.json<{ secret: string }>().secret;
    const listed = await app.server.inject({ method: "GET", url: "/iam/users?search=root", headers: { "x-api-key": secret } });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toMatchObject({ count: 1, users: [{ id: "root-sub" }] });
  });
});

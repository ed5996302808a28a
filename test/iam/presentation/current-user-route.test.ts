import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { seedTenant, seedTenantMember, seedUser } from "../../support/seed-tenants.js";
import { TEST_DATABASE_KINDS, type TestDatabase } from "../../support/test-database.js";
import { type TestIamServer } from "../../support/test-iam-server.js";
import { type TestIdentity } from "../../support/test-identity.js";
import { startTestStack, type TestStack } from "../../support/test-stack.js";

interface CurrentUser {
  id: string;
  username: string;
  name: string | null;
  email: string | null;
  tenant_id: string | null;
  tenant_role: "admin" | "member" | null;
  api_key_id: string | null;
}

describe.each(TEST_DATABASE_KINDS)("GET /iam/users/me on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;
  let stack: TestStack;
  let acme: string;
  let globex: string;

  const profiles: Record<string, { name: string; email: string }> = {
    alice: { name: "Alice Liddell", email: "alice@acme.test" },
    adam: { name: "Adam Admin", email: "adam@acme.test" },
  };
  const me = async (userId: string, tenantId?: string) =>
    app.server.inject({
      method: "GET",
      url: "/iam/users/me",
      headers: {
        authorization: `Bearer ${await identity.tokenFor(userId, profiles[userId])}`,
        ...(tenantId === undefined ? {} : { "x-tenant-id": tenantId }),
      },
    });

  beforeAll(async () => {
    stack = await startTestStack(kind, { env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    ({ database, spicedb, identity, app } = stack);
    acme = await seedTenant(database.handle, "acme");
    globex = await seedTenant(database.handle, "globex");
    for (const [user, role] of [
      ["alice", "member"],
      ["adam", "admin"],
    ] as const) {
      await seedUser(database.handle, { id: user });
      await seedTenantMember(database.handle, spicedb.authorization, acme, user, role);
    }
  });
  afterAll(() => stack?.close());

  it("answers a member's user and role in the tenant X-Tenant-ID names", async () => {
    const response = await me("alice", acme);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      id: "alice",
      username: "alice",
      name: "Alice Liddell",
      email: "alice@acme.test",
      tenant_id: acme,
      tenant_role: "member",
      api_key_id: null,
    });
  });

  it("answers an admin's role as admin", async () => {
    expect((await me("adam", acme)).json<CurrentUser>()).toMatchObject({ id: "adam", tenant_id: acme, tenant_role: "admin" });
  });

  it("answers a caller outside the tenant with a null role, not a 403, and a header-less call with no tenant", async () => {
    const outside = await me("alice", globex.toLowerCase());
    expect(outside.statusCode, outside.body).toBe(200);
    expect(outside.json<CurrentUser>()).toMatchObject({ id: "alice", tenant_id: globex, tenant_role: null });
    // Someone who never called before is provisioned by the call and described.
    const stranger = await me("nina");
    expect(stranger.statusCode, stranger.body).toBe(200);
    expect(stranger.json()).toEqual({
      id: "nina",
      username: "nina",
      name: null,
      email: null,
      tenant_id: null,
      tenant_role: null,
      api_key_id: null,
    });
    // Being let in here does not open the tenant's other routes.
    const users = await app.server.inject({
      method: "GET",
      url: "/iam/users?search=a",
      headers: { authorization: `Bearer ${await identity.tokenFor("alice")}`, "x-tenant-id": globex },
    });
    expect(users.statusCode).toBe(403);
  });

  it("answers an API key caller with the key's creator, the key's tenant and the key's id", async () => {
    const created = await app.server.inject({
      method: "POST",
      url: "/iam/api-keys",
      headers: { authorization: `Bearer ${await identity.tokenFor("adam", profiles["adam"])}`, "x-tenant-id": acme },
      payload: { name: "whoami" },
    });
    expect(created.statusCode, created.body).toBe(201);
    const key = created.json<{ id: string; secret: string }>();
    // The key acts in its own tenant: a header naming another is ignored.
    const response = await app.server.inject({
      method: "GET",
      url: "/iam/users/me",
      headers: { "x-api-key": key.secret, "x-tenant-id": globex },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      id: "adam",
      username: "adam",
      name: "Adam Admin",
      email: "adam@acme.test",
      tenant_id: acme,
      tenant_role: "admin",
      api_key_id: key.id,
    });
  });

  it("refuses a call without credentials (401) and a malformed X-Tenant-ID (400)", async () => {
    const anonymous = await app.server.inject({ method: "GET", url: "/iam/users/me" });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers["www-authenticate"]).toBe("Bearer, API-Key");
    const malformed = await me("alice", "not-a-ulid");
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json<{ detail: string }>().detail).toMatch(/X-Tenant-ID must be a valid ULID/);
  });
});

describe("GET /iam/users/me in single-tenant mode", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack("pglite");
  });
  afterAll(() => stack?.close());

  it("acts in the default tenant without a header, joining it as every tenant route does", async () => {
    const response = await stack.app.server.inject({
      method: "GET",
      url: "/iam/users/me",
      headers: { authorization: `Bearer ${await stack.identity.tokenFor("bob")}` },
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json<CurrentUser>();
    const tenants = await stack.app.server.inject({
      method: "GET",
      url: "/iam/tenants",
      headers: { authorization: `Bearer ${await stack.identity.tokenFor("bob")}` },
    });
    const [defaultTenant] = tenants.json<{ id: string }[]>();
    expect(body).toMatchObject({ id: "bob", tenant_id: defaultTenant?.id, tenant_role: "member" });
  });
});

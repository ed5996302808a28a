import { sql } from "drizzle-orm";
import { Type } from "typebox";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../../src/platform/database/database.js";
import type { RouteRegistrar } from "../../../../src/platform/http/http-server.js";
import type { SpiceDbEngine } from "../../../../src/platform/spicedb/spicedb-engine.js";
import { authenticatedUserOf, callerOf } from "../../../../src/iam/presentation/request-context.js";
import { FakeDefaultTenantAccess } from "../../../support/fake-default-tenant-access.js";
import { seedTenant, seedTenantMember, seedUser } from "../../../support/seed-tenants.js";
import { TEST_DATABASE_KINDS, createTestDatabase, type TestDatabase } from "../../../support/test-database.js";
import { startTestIamServer, type TestIamServer } from "../../../support/test-iam-server.js";
import { startTestIdentity, type TestIdentity } from "../../../support/test-identity.js";
import { startTestSpiceDb } from "../../../support/test-spicedb.js";

/** Routes that only report what the hook decided. */
const probeRoutes: RouteRegistrar = (server) => {
  server.get("/probe/tenant", { config: { auth: "tenant" } }, async (request) => callerOf(request));
  server.get("/probe/authenticated", { config: { auth: "authenticated" } }, async (request) => ({
    user: authenticatedUserOf(request),
    caller: request.caller,
  }));
  server.get("/probe/public", async (request) => ({ user: request.authenticatedUser, caller: request.caller }));
  server.post(
    "/probe/tenant",
    { config: { auth: "tenant" }, schema: { body: Type.Object({ name: Type.String({ minLength: 1 }) }) } },
    async (request) => ({ tenantId: callerOf(request).tenantId, name: request.body.name }),
  );
};

describe.each(TEST_DATABASE_KINDS)("authentication and tenant context on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let singleTenant: TestIamServer;
  let multiTenant: TestIamServer;
  let defaultTenant: FakeDefaultTenantAccess;
  let acme: string;
  let globex: string;

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    database = await createTestDatabase(kind);
    spicedb = await startTestSpiceDb();
    identity = await startTestIdentity();
    defaultTenant = new FakeDefaultTenantAccess(database.handle, spicedb.authorization);
    const common = { database: database.handle, spicedb, identity, extraRoutes: [probeRoutes] };
    singleTenant = await startTestIamServer({
      ...common,
      defaultTenantAccess: defaultTenant,
      env: { KARTOGRAPH_IAM_BOOTSTRAP_ADMIN_USERNAMES: '["root-admin"]' },
    });
    multiTenant = await startTestIamServer({ ...common, env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" } });
    acme = await seedTenant(database.handle, "acme");
    globex = await seedTenant(database.handle, "globex");
    await seedUser(database.handle, { id: "alice" });
    await seedTenantMember(database.handle, spicedb.authorization, acme, "alice", "member");
  });
  afterAll(async () => {
    await singleTenant?.close();
    await multiTenant?.close();
    await identity?.close();
    await spicedb?.close();
    await database?.dispose();
  });

  it("answers 401 with the challenge header when no credentials are sent", async () => {
    const response = await multiTenant.server.inject({ method: "GET", url: "/probe/tenant" });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ detail: "Not authenticated" });
    expect(response.headers["www-authenticate"]).toBe("Bearer, API-Key");
  });

  it("treats a non-Bearer Authorization scheme as no credentials", async () => {
    const response = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: { authorization: "Basic YWxpY2U6cGFzcw==" },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ detail: "Not authenticated" });
  });

  it("refuses oversized credentials with 401", async () => {
    const hugeToken = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: { authorization: `Bearer ${"a".repeat(20_000)}` },
    });
    expect(hugeToken.statusCode).toBe(401);
    expect(hugeToken.json()).toEqual({ detail: "Invalid token format: token is too large" });
    const hugeKey = await multiTenant.server.inject({ method: "GET", url: "/probe/tenant", headers: { "x-api-key": "k".repeat(10_000) } });
    expect(hugeKey.statusCode).toBe(401);
    expect(hugeKey.json()).toEqual({ detail: "Invalid or expired API key" });
  });

  it("refuses a signed token without a subject", async () => {
    const token = await identity.sign({ preferred_username: "ghost" });
    const response = await multiTenant.server.inject({ method: "GET", url: "/probe/authenticated", headers: bearer(token) });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toEqual({ detail: "Missing required claim: sub" });
    expect(response.headers["www-authenticate"]).toBe("Bearer, API-Key");
  });

  it("refuses an empty Bearer token rather than ignoring it", async () => {
    const response = await multiTenant.server.inject({ method: "GET", url: "/probe/tenant", headers: { authorization: "Bearer " } });
    expect(response.statusCode).toBe(401);
    expect(response.json().detail).toMatch(/^Invalid token format: /);
  });

  it("answers 503 while the identity provider cannot be reached, and recovers", async () => {
    const outage = await startTestIdentity();
    const server = await startTestIamServer({
      database: database.handle,
      spicedb,
      identity: outage,
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
    try {
      outage.setDown(true);
      const down = await server.server.inject({
        method: "GET",
        url: "/health",
        headers: bearer(await outage.tokenFor("alice")),
      });
      expect(down.statusCode).toBe(200); // public routes do not authenticate
      const refused = await server.server.inject({ method: "GET", url: "/iam/users?ids=alice", headers: bearer(await outage.tokenFor("alice")) });
      expect(refused.statusCode).toBe(503);
      expect(refused.headers["retry-after"]).toBe("5");
      expect(JSON.stringify(refused.json())).not.toContain(outage.issuerUrl);
      outage.setDown(false);
      const recovered = await server.server.inject({ method: "GET", url: "/iam/users?ids=alice", headers: bearer(await outage.tokenFor("alice")) });
      expect(recovered.statusCode).toBe(400); // authenticated; X-Tenant-ID missing
    } finally {
      await server.close();
      await outage.close();
    }
  });

  it("gives a tenant route the caller and the X-Tenant-ID tenant, upper-cased", async () => {
    const response = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: { ...bearer(await identity.tokenFor("alice")), "x-tenant-id": acme.toLowerCase() },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ userId: "alice", username: "alice", apiKeyId: null, apiKeyTenantId: null, tenantId: acme });
  });

  it("accepts the Bearer scheme in any case", async () => {
    const response = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: { authorization: `bEaReR ${await identity.tokenFor("alice")}`, "x-tenant-id": acme },
    });
    expect(response.statusCode).toBe(200);
  });

  it("gives an authenticated route the user without reading X-Tenant-ID, and provisions the user", async () => {
    const token = await identity.tokenFor("bob-sub", { username: "bob", name: "Bob Builder", email: "Bob@Example.com" });
    const response = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/authenticated",
      headers: { ...bearer(token), "x-tenant-id": "not-a-ulid" },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      user: { userId: "bob-sub", username: "bob", apiKeyId: null, apiKeyTenantId: null },
      caller: null,
    });
    const rows = await queryRows(database.handle.db, sql`SELECT id, username, name, email FROM users WHERE id = 'bob-sub'`);
    expect(rows).toEqual([{ id: "bob-sub", username: "bob", name: "Bob Builder", email: "Bob@Example.com" }]);
  });

  it("leaves public routes alone, even with bad credentials", async () => {
    const response = await multiTenant.server.inject({ method: "GET", url: "/probe/public", headers: bearer("garbage") });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ user: null, caller: null });
  });

  it("requires X-Tenant-ID in multi-tenant mode", async () => {
    const response = await multiTenant.server.inject({ method: "GET", url: "/probe/tenant", headers: bearer(await identity.tokenFor("alice")) });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: "X-Tenant-ID header is required" });
  });

  it("refuses an X-Tenant-ID that is not a ULID, quoting the raw value", async () => {
    for (const value of ["", "acme", `${acme}X`, "8ZZZZZZZZZZZZZZZZZZZZZZZZZ"]) {
      const response = await multiTenant.server.inject({
        method: "GET",
        url: "/probe/tenant",
        headers: { ...bearer(await identity.tokenFor("alice")), "x-tenant-id": value },
      });
      expect(response.statusCode, value).toBe(400);
      expect(response.json()).toEqual({ detail: `X-Tenant-ID must be a valid ULID format, got: '${value}'` });
    }
  });

  it("answers 403 for a tenant the caller cannot view, existing or not", async () => {
    for (const tenantId of [globex, "01JZZZZZZZZZZZZZZZZZZZZZZZ"]) {
      const response = await multiTenant.server.inject({
        method: "GET",
        url: "/probe/tenant",
        headers: { ...bearer(await identity.tokenFor("alice")), "x-tenant-id": tenantId },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ detail: "You do not have access to this tenant" });
    }
  });

  it("checks tenant access before provisioning (a refused caller is not written)", async () => {
    const response = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: { ...bearer(await identity.tokenFor("stranger")), "x-tenant-id": acme },
    });
    expect(response.statusCode).toBe(403);
    expect(await queryRows(database.handle.db, sql`SELECT id FROM users WHERE id = 'stranger'`)).toEqual([]);
  });

  it("in single-tenant mode, puts a header-less caller in the default tenant as member", async () => {
    const response = await singleTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: bearer(await identity.tokenFor("carol")),
    });
    expect(response.statusCode).toBe(200);
    const defaultId = await defaultTenant.ensureDefaultTenant();
    expect(response.json()).toMatchObject({ userId: "carol", tenantId: defaultId });
    expect(defaultTenant.joins).toContainEqual({ userId: "carol", asAdmin: false });

    // Already a member: no second join.
    const joinsBefore = defaultTenant.joins.length;
    const again = await singleTenant.server.inject({ method: "GET", url: "/probe/tenant", headers: bearer(await identity.tokenFor("carol")) });
    expect(again.statusCode).toBe(200);
    expect(defaultTenant.joins.length).toBe(joinsBefore);
  });

  it("joins bootstrap admins to the default tenant as admin", async () => {
    const response = await singleTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: bearer(await identity.tokenFor("root-sub", { username: "root-admin" })),
    });
    expect(response.statusCode).toBe(200);
    expect(defaultTenant.joins).toContainEqual({ userId: "root-sub", asAdmin: true });
  });

  it("in single-tenant mode, an explicit X-Tenant-ID is checked and never auto-joined", async () => {
    const response = await singleTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: { ...bearer(await identity.tokenFor("dave")), "x-tenant-id": acme },
    });
    expect(response.statusCode).toBe(403);
    expect(defaultTenant.joins.map((join) => join.userId)).not.toContain("dave");
  });

  it("reports a broken JSON body (422) before missing credentials (401)", async () => {
    const response = await multiTenant.server.inject({
      method: "POST",
      url: "/probe/tenant",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail[0].type).toBe("json_invalid");
  });

  it("reports credentials (401) and tenant context (400) before schema validation (422)", async () => {
    const unauthenticated = await multiTenant.server.inject({ method: "POST", url: "/probe/tenant", payload: { name: "" } });
    expect(unauthenticated.statusCode).toBe(401);
    const token = await identity.tokenFor("alice");
    const noTenant = await multiTenant.server.inject({ method: "POST", url: "/probe/tenant", headers: bearer(token), payload: { name: "" } });
    expect(noTenant.statusCode).toBe(400);
    const invalid = await multiTenant.server.inject({
      method: "POST",
      url: "/probe/tenant",
      headers: { ...bearer(token), "x-tenant-id": acme },
      payload: { name: "" },
    });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().detail[0]).toMatchObject({ type: "string_too_short", loc: ["body", "name"] });
    const valid = await multiTenant.server.inject({
      method: "POST",
      url: "/probe/tenant",
      headers: { ...bearer(token), "x-tenant-id": acme },
      payload: { name: "x" },
    });
    expect(valid.json()).toEqual({ tenantId: acme, name: "x" });
  });

  it("answers 409 when the username belongs to another subject, and changes nothing", async () => {
    await seedUser(database.handle, { id: "erin-sub", username: "erin", name: "Erin" });
    const response = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/authenticated",
      headers: bearer(await identity.tokenFor("impostor-sub", { username: "erin", name: "Not Erin" })),
    });
    expect(response.statusCode).toBe(409);
    expect(response.json()).toEqual({
      detail: "Username 'erin' is already taken by another account. Contact your administrator if you believe this is an error.",
    });
    expect(await queryRows(database.handle.db, sql`SELECT id, name FROM users WHERE username = 'erin' OR id = 'impostor-sub'`)).toEqual([
      { id: "erin-sub", name: "Erin" },
    ]);
  });

  it("checks tenant context (403) before the username clash (409)", async () => {
    const response = await multiTenant.server.inject({
      method: "GET",
      url: "/probe/tenant",
      headers: { ...bearer(await identity.tokenFor("impostor-sub", { username: "erin" })), "x-tenant-id": globex },
    });
    expect(response.statusCode).toBe(403);
  });

  it("follows profile changes in the token", async () => {
    const headers = (name: string) => identity.tokenFor("frank-sub", { username: "frank", name, email: null });
    await multiTenant.server.inject({ method: "GET", url: "/probe/authenticated", headers: bearer(await headers("Frank")) });
    await multiTenant.server.inject({ method: "GET", url: "/probe/authenticated", headers: bearer(await headers("Franklin")) });
    expect(await queryRows(database.handle.db, sql`SELECT name, email FROM users WHERE id = 'frank-sub'`)).toEqual([
      { name: "Franklin", email: null },
    ]);
  });
});

import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { bumpAuthzRevision } from "../../../src/platform/outbox/authz-revision.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../../../src/platform/database/database.js";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { removeTenantMember, seedTenant, seedTenantMember, seedUser } from "../../support/seed-tenants.js";
import { TEST_DATABASE_KINDS, type TestDatabase } from "../../support/test-database.js";
import { type TestIamServer } from "../../support/test-iam-server.js";
import { type TestIdentity } from "../../support/test-identity.js";
import { startTestStack, type TestStack } from "../../support/test-stack.js";

interface ApiKeyBody {
  id: string;
  name: string;
  prefix: string;
  created_by_user_id: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  is_revoked: boolean;
  secret?: string;
}

describe.each(TEST_DATABASE_KINDS)("API keys over HTTP on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;
  let stack: TestStack;
  const logLines: string[] = [];
  let acme: string;
  let globex: string;

  const as = async (userId: string, tenantId: string) => ({
    authorization: `Bearer ${await identity.tokenFor(userId)}`,
    "x-tenant-id": tenantId,
  });
  const create = async (userId: string, tenantId: string, payload: Record<string, unknown>) =>
    app.server.inject({ method: "POST", url: "/iam/api-keys", headers: await as(userId, tenantId), payload });
  const createKey = async (userId: string, tenantId: string, name: string): Promise<ApiKeyBody> => {
    const response = await create(userId, tenantId, { name });
    expect(response.statusCode, response.body).toBe(201);
    return response.json<ApiKeyBody>();
  };
  const list = async (userId: string, tenantId: string, query = "") =>
    app.server.inject({ method: "GET", url: `/iam/api-keys${query}`, headers: await as(userId, tenantId) });
  const revoke = async (userId: string, tenantId: string, id: string) =>
    app.server.inject({ method: "DELETE", url: `/iam/api-keys/${id}`, headers: await as(userId, tenantId) });
  /** Outbox rows of an API key, oldest first. */
  const eventsOf = (apiKeyId: string) =>
    queryRows<{ event_type: string; payload: Record<string, unknown> }>(
      database.handle.db,
      sql`SELECT event_type, payload FROM outbox WHERE aggregate_type = 'api_key' AND aggregate_id = ${apiKeyId} ORDER BY sequence`,
    );
  const withKey = (secret: string, extra: Record<string, string> = {}) =>
    app.server.inject({ method: "GET", url: "/iam/api-keys", headers: { "x-api-key": secret, ...extra } });

  beforeAll(async () => {
    stack = await startTestStack(kind, {
      logLines,
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
    ({ database, spicedb, identity, app } = stack);
    acme = await seedTenant(database.handle, "acme");
    globex = await seedTenant(database.handle, "globex");
    for (const [user, tenant, role] of [
      ["alice", acme, "member"],
      ["adam", acme, "admin"],
      ["bob", acme, "member"],
      ["alice", globex, "member"],
      ["gina", globex, "admin"],
    ] as const) {
      await seedUser(database.handle, { id: user });
      await seedTenantMember(database.handle, spicedb.authorization, tenant, user, role);
    }
  });
  afterAll(() => stack?.close());

  it("creates a key: secret shown once in the reference's format, only its digest stored, event recorded", async () => {
    const response = await create("alice", acme, { name: "ci" });
    expect(response.statusCode).toBe(201);
    const body = response.json<ApiKeyBody>();
    expect(Object.keys(body)).toEqual([
      "id",
      "name",
      "prefix",
      "created_by_user_id",
      "created_at",
      "expires_at",
      "last_used_at",
      "is_revoked",
      "secret",
    ]);
    expect(body.secret).toMatch(/^karto_[A-Za-z0-9_]{43}$/);
    expect(body.prefix).toBe(body.secret!.slice(0, 12));
    expect(body).toMatchObject({ name: "ci", created_by_user_id: "alice", last_used_at: null, is_revoked: false });
    expect(body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(30 * 24 * 3600 * 1000);

    const rows = await queryRows<Record<string, unknown>>(database.handle.db, sql`SELECT * FROM api_keys WHERE id = ${body.id}`);
    expect(rows[0]!["key_digest"]).toBe(createHash("sha256").update(body.secret!).digest("hex"));
    expect(JSON.stringify(rows)).not.toContain(body.secret);
    expect(await eventsOf(body.id)).toEqual([
      {
        event_type: "ApiKeyCreated",
        payload: expect.objectContaining({ apiKeyId: body.id, userId: "alice", tenantId: acme, name: "ci", prefix: body.prefix }),
      },
    ]);
    expect(JSON.stringify(await eventsOf(body.id))).not.toContain(body.secret!.slice(12));
  });

  it("honours expires_in_days within 1 to 3650", async () => {
    const response = await create("alice", acme, { name: "long-lived", expires_in_days: 3650 });
    expect(response.statusCode).toBe(201);
    const body = response.json<ApiKeyBody>();
    expect(Date.parse(body.expires_at) - Date.parse(body.created_at)).toBe(3650 * 24 * 3600 * 1000);
    for (const expires_in_days of [0, 3651, -1, "5", 1.5, null]) {
      const refused = await create("alice", acme, { name: `bad-${String(expires_in_days)}`, expires_in_days });
      expect(refused.statusCode, String(expires_in_days)).toBe(422);
      expect(refused.json().detail[0].loc).toEqual(["body", "expires_in_days"]);
    }
  });

  it("validates the name: 1 to 255 characters, required", async () => {
    expect((await create("alice", acme, { name: "" })).statusCode).toBe(422);
    expect((await create("alice", acme, { name: "n".repeat(256) })).statusCode).toBe(422);
    // As pydantic does, a missing field reports the object it is missing from as the input.
    expect((await create("alice", acme, {})).json().detail).toEqual([
      { type: "missing", loc: ["body", "name"], msg: "Field required", input: {} },
    ]);
    expect((await create("alice", acme, { name: "n".repeat(255) })).statusCode).toBe(201);
  });

  it("keeps names unique per creator and tenant, revoked keys included", async () => {
    const first = await createKey("alice", acme, "deploy");
    const duplicate = await create("alice", acme, { name: "deploy" });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toEqual({ detail: "An API key with this name already exists" });
    expect((await create("bob", acme, { name: "deploy" })).statusCode).toBe(201);
    expect((await create("alice", globex, { name: "deploy" })).statusCode).toBe(201);
    expect((await revoke("alice", acme, first.id)).statusCode).toBe(204);
    expect((await create("alice", acme, { name: "deploy" })).statusCode).toBe(409);
  });

  it("authenticates X-API-Key as the creator in the key's tenant, ignoring X-Tenant-ID", async () => {
    const key = await createKey("alice", acme, "reader");
    const response = await withKey(key.secret!, { "x-tenant-id": globex });
    expect(response.statusCode).toBe(200);
    const listed = response.json<ApiKeyBody[]>();
    expect(listed.map((k) => k.id)).toContain(key.id);
    // Only acme's keys: a key of tenant A never reaches tenant B.
    const globexKeys = await queryRows<{ id: string }>(database.handle.db, sql`SELECT id FROM api_keys WHERE tenant_id = ${globex}`);
    expect(globexKeys.length).toBeGreaterThan(0);
    for (const { id } of globexKeys) expect(listed.map((k) => k.id)).not.toContain(id);
  });

  it("keeps last_used_at to the minute without writing on every request", async () => {
    const key = await createKey("alice", acme, "usage");
    expect((await withKey(key.secret!)).statusCode).toBe(200);
    const read = async () =>
      (await queryRows<{ last_used_at: Date | string | null }>(database.handle.db, sql`SELECT last_used_at FROM api_keys WHERE id = ${key.id}`))[0]!
        .last_used_at;
    const first = await read();
    expect(first).not.toBeNull();
    expect((await withKey(key.secret!)).statusCode).toBe(200);
    expect(await read()).toEqual(first);
    // An hour later (simulated by ageing the stored value), the next use updates it. The service
    // remembers usable keys until the authorization revision moves: move it, as any IAM change would.
    await database.handle.db.execute(sql`UPDATE api_keys SET last_used_at = now() - interval '1 hour' WHERE id = ${key.id}`);
    await bumpAuthzRevision(database.handle.db, null, false);
    const aged = await read();
    expect((await withKey(key.secret!)).statusCode).toBe(200);
    expect(new Date(String((await read()) as unknown)).getTime()).toBeGreaterThan(new Date(String(aged as unknown)).getTime());
  });

  it("refuses garbage, unknown, revoked and expired keys with 401", async () => {
    const expectRefused = async (secret: string) => {
      const response = await withKey(secret);
      expect(response.statusCode, secret).toBe(401);
      expect(response.json()).toEqual({ detail: "Invalid or expired API key" });
      expect(response.headers["www-authenticate"]).toBe("Bearer, API-Key");
    };
    await expectRefused("nope");
    await expectRefused("");
    await expectRefused(`karto_${"A".repeat(43)}`);
    await expectRefused(`karto_${"A".repeat(4000)}`);
    await expectRefused("karto_'; DROP TABLE api_keys; --aaaaaaaaaaaaaaaaaaaaaaaa");

    const revoked = await createKey("alice", acme, "to-revoke");
    expect((await withKey(revoked.secret!)).statusCode).toBe(200);
    expect((await revoke("alice", acme, revoked.id)).statusCode).toBe(204);
    await expectRefused(revoked.secret!);

    const expired = await createKey("alice", acme, "to-expire");
    await database.handle.db.execute(sql`UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = ${expired.id}`);
    await expectRefused(expired.secret!);

    // A key is bound to its whole secret: same prefix, different rest, is refused.
    const real = await createKey("alice", acme, "prefix-twin");
    await expectRefused(`${real.secret!.slice(0, 12)}${"B".repeat(37)}`);
  });

  it("stops a key as soon as its creator leaves the tenant", async () => {
    await seedUser(database.handle, { id: "leaver" });
    await seedTenantMember(database.handle, spicedb.authorization, acme, "leaver", "member");
    const key = await createKey("leaver", acme, "orphan");
    expect((await withKey(key.secret!)).statusCode).toBe(200);
    expect((await withKey(key.secret!)).statusCode).toBe(200); // now remembered by the service
    await removeTenantMember(database.handle, spicedb.authorization, acme, "leaver");
    expect((await withKey(key.secret!)).statusCode).toBe(401);
  });

  it("lets a bearer token win over an API key, even an invalid token", async () => {
    const key = await createKey("alice", acme, "both");
    const response = await app.server.inject({
      method: "GET",
      url: "/iam/api-keys",
      headers: { authorization: "Bearer not-a-token", "x-api-key": key.secret! },
    });
    expect(response.statusCode).toBe(401);
    expect(response.json().detail).toMatch(/^Invalid token format: /);
  });

  it("lists own keys for members and every key of the tenant for admins, revoked ones included", async () => {
    const bobKey = await createKey("bob", acme, "bob-listing");
    const aliceKey = await createKey("alice", acme, "alice-listing");
    expect((await revoke("alice", acme, aliceKey.id)).statusCode).toBe(204);

    const bobs = (await list("bob", acme)).json<ApiKeyBody[]>();
    expect(bobs.every((k) => k.created_by_user_id === "bob")).toBe(true);
    expect(bobs.map((k) => k.id)).toContain(bobKey.id);

    const alices = (await list("alice", acme)).json<ApiKeyBody[]>();
    expect(alices.find((k) => k.id === aliceKey.id)).toMatchObject({ is_revoked: true });
    expect(alices.every((k) => k.created_by_user_id === "alice")).toBe(true);

    const admins = (await list("adam", acme)).json<ApiKeyBody[]>();
    expect(admins.map((k) => k.id)).toEqual(expect.arrayContaining([bobKey.id, aliceKey.id]));
    expect(admins.every((k) => !("secret" in k))).toBe(true);

    const filtered = (await list("adam", acme, "?user_id=bob")).json<ApiKeyBody[]>();
    expect(filtered.length).toBeGreaterThan(0);
    expect(filtered.every((k) => k.created_by_user_id === "bob")).toBe(true);
    // A member asking for someone else's keys gets none.
    expect((await list("bob", acme, "?user_id=alice")).json()).toEqual([]);
  });

  it("refuses a blank user_id filter", async () => {
    for (const query of ["?user_id=", "?user_id=%20%20"]) {
      const response = await list("alice", acme, query);
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ detail: "Invalid user_id format: cannot be blank" });
    }
  });

  it("revokes for the owner and tenant admins; anyone else gets 404 as for a missing key", async () => {
    const key = await createKey("alice", acme, "guarded");
    const byOtherMember = await revoke("bob", acme, key.id);
    expect(byOtherMember.statusCode).toBe(404);
    expect(byOtherMember.json()).toEqual({ detail: "API key not found" });
    expect((await revoke("gina", globex, key.id)).statusCode).toBe(404);
    // alice is also in globex, but the key lives in acme.
    expect((await revoke("alice", globex, key.id)).statusCode).toBe(404);
    expect((await revoke("adam", acme, key.id.toLowerCase())).statusCode).toBe(204);
    const again = await revoke("alice", acme, key.id);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toEqual({ detail: "API key is already revoked" });
    expect((await eventsOf(key.id)).map((event) => event.event_type)).toEqual(["ApiKeyCreated", "ApiKeyRevoked"]);
    expect((await eventsOf(key.id))[1]!.payload).toMatchObject({ apiKeyId: key.id, userId: "alice", tenantId: acme });
  });

  it("answers 422 with a string detail for a malformed key id, and 404 for an unknown one", async () => {
    const malformed = await revoke("alice", acme, "not-a-ulid");
    expect(malformed.statusCode).toBe(422);
    expect(malformed.json()).toEqual({ detail: "Invalid API key ID format" });
    expect((await revoke("alice", acme, "01JZZZZZZZZZZZZZZZZZZZZZZZ")).statusCode).toBe(404);
  });

  it("lets a key list and revoke keys of its own tenant, but not create any", async () => {
    const key = await createKey("alice", acme, "automation");
    const created = await app.server.inject({
      method: "POST",
      url: "/iam/api-keys",
      headers: { "x-api-key": key.secret!, "x-tenant-id": globex },
      payload: { name: "made-by-key" },
    });
    expect(created.statusCode).toBe(403);
    expect(created.json()).toEqual({ detail: "API keys cannot create API keys; use a person's token" });
    expect(await queryRows(database.handle.db, sql`SELECT id FROM api_keys WHERE name = 'made-by-key'`)).toEqual([]);

    const listed = await app.server.inject({ method: "GET", url: "/iam/api-keys", headers: { "x-api-key": key.secret!, "x-tenant-id": globex } });
    expect(listed.statusCode).toBe(200);
    expect(listed.json<ApiKeyBody[]>().map((k) => k.id)).toContain(key.id);
    const other = await createKey("alice", acme, "to revoke by key");
    const revoked = await app.server.inject({ method: "DELETE", url: `/iam/api-keys/${other.id}`, headers: { "x-api-key": key.secret! } });
    expect(revoked.statusCode).toBe(204);
  });

  it("never writes secrets or tokens to the log", async () => {
    const key = await createKey("alice", acme, "logged?");
    await withKey(key.secret!);
    await withKey(`${key.secret!.slice(0, -1)}x`);
    const token = await identity.tokenFor("alice");
    await app.server.inject({ method: "GET", url: "/iam/api-keys", headers: { authorization: `Bearer ${token}x` } });
    const log = logLines.join("\n");
    expect(logLines.length).toBeGreaterThan(0);
    expect(log).not.toContain(key.secret!);
    expect(log).not.toContain(key.secret!.slice(12));
    expect(log).not.toContain(token.split(".")[2]!);
  });
});

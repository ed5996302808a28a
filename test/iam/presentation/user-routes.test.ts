import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpiceDbEngine } from "../../../src/platform/spicedb/spicedb-engine.js";
import { seedTenant, seedTenantMember, seedUser } from "../../support/seed-tenants.js";
import { TEST_DATABASE_KINDS, type TestDatabase } from "../../support/test-database.js";
import { type TestIamServer } from "../../support/test-iam-server.js";
import { type TestIdentity } from "../../support/test-identity.js";
import { startTestStack, type TestStack } from "../../support/test-stack.js";

interface UserList {
  users: { id: string; username: string; name: string | null; email: string | null }[];
  count: number;
}

describe.each(TEST_DATABASE_KINDS)("GET /iam/users on %s", (kind) => {
  let database: TestDatabase;
  let spicedb: SpiceDbEngine;
  let identity: TestIdentity;
  let app: TestIamServer;
  let stack: TestStack;
  let acme: string;
  let globex: string;

  /** Callers' tokens carry the same profile as seeded: JIT provisioning follows the token. */
  const profiles: Record<string, { name: string; email: string }> = {
    alice: { name: "Alice Liddell", email: "alice@acme.test" },
    gina: { name: "Gina Globex", email: "gina@globex.test" },
  };
  const lookUp = async (query: string, userId = "alice", tenantId = acme) =>
    app.server.inject({
      method: "GET",
      url: `/iam/users${query}`,
      headers: { authorization: `Bearer ${await identity.tokenFor(userId, profiles[userId])}`, "x-tenant-id": tenantId },
    });
  const idsOf = (body: UserList) => body.users.map((user) => user.id).sort();

  beforeAll(async () => {
    stack = await startTestStack(kind, {
      env: { KARTOGRAPH_IAM_SINGLE_TENANT_MODE: "false" },
    });
    ({ database, spicedb, identity, app } = stack);
    acme = await seedTenant(database.handle, "acme");
    globex = await seedTenant(database.handle, "globex");
    const people = [
      { id: "alice", name: "Alice Liddell", email: "alice@acme.test", tenant: acme, role: "member" },
      { id: "adam", name: "Adam Admin", email: "ADAM@acme.test", tenant: acme, role: "admin" },
      { id: "percent", username: "100%_sure", name: null, email: null, tenant: acme, role: "member" },
      { id: "plain", username: "100xxsure", name: null, email: null, tenant: acme, role: "member" },
      { id: "gina", name: "Gina Globex", email: "gina@globex.test", tenant: globex, role: "member" },
    ] as const;
    for (const person of people) {
      await seedUser(database.handle, { id: person.id, username: "username" in person ? person.username : person.id, name: person.name, email: person.email });
      await seedTenantMember(database.handle, spicedb.authorization, person.tenant, person.id, person.role);
    }
    await seedUser(database.handle, { id: "nobody", name: "Alice Nobody" });
    for (let index = 0; index < 25; index++) {
      const id = `bulk-${String(index).padStart(2, "0")}`;
      await seedUser(database.handle, { id, name: "Bulk User" });
      await seedTenantMember(database.handle, spicedb.authorization, acme, id, "member");
    }
  });
  afterAll(() => stack?.close());

  it("returns profiles of tenant members among the ids, admins included, others left out", async () => {
    const response = await lookUp("?ids=alice,%20adam%20,,gina,nobody,unknown,alice");
    expect(response.statusCode).toBe(200);
    const body = response.json<UserList>();
    expect(idsOf(body)).toEqual(["adam", "alice"]);
    expect(body.count).toBe(2);
    expect(body.users.find((user) => user.id === "adam")).toEqual({
      id: "adam",
      username: "adam",
      name: "Adam Admin",
      email: "ADAM@acme.test",
    });
  });

  it("searches username, name and email case-insensitively within the tenant", async () => {
    expect(idsOf((await lookUp("?search=ALICE")).json())).toEqual(["alice"]);
    expect(idsOf((await lookUp("?search=acme.TEST")).json())).toEqual(["adam", "alice"]);
    expect(idsOf((await lookUp("?search=globex")).json())).toEqual([]);
    expect(idsOf((await lookUp("?search=gina", "gina", globex)).json())).toEqual(["gina"]);
  });

  it("takes % and _ literally", async () => {
    expect(idsOf((await lookUp("?search=100%25_")).json())).toEqual(["percent"]);
    expect(idsOf((await lookUp("?search=%25")).json())).toEqual(["percent"]);
    expect(idsOf((await lookUp("?search=_")).json())).toEqual(["percent"]);
  });

  it("returns at most 20 search results, counted after scoping", async () => {
    const body = (await lookUp("?search=bulk")).json<UserList>();
    expect(body.count).toBe(20);
    expect(body.users).toHaveLength(20);
  });

  it("allows 100 ids and refuses more", async () => {
    const hundred = Array.from({ length: 100 }, (_, index) => `u${index}`);
    expect((await lookUp(`?ids=${hundred.join(",")}`)).statusCode).toBe(200);
    const response = await lookUp(`?ids=${[...hundred, "u100"].join(",")}`);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toEqual({ detail: "Maximum 100 IDs per request" });
  });

  it("requires exactly one of ids and search, with string details", async () => {
    const both = await lookUp("?ids=alice&search=a");
    expect(both.statusCode).toBe(422);
    expect(both.json()).toEqual({ detail: "ids and search are mutually exclusive" });
    for (const query of ["", "?ids=", "?search=", "?ids=&search=", "?other=1"]) {
      const response = await lookUp(query);
      expect(response.statusCode, query).toBe(422);
      expect(response.json()).toEqual({ detail: "Either ids or search parameter is required" });
    }
    // An empty value does not count: the other parameter alone is fine.
    expect((await lookUp("?ids=&search=alice")).statusCode).toBe(200);
  });

  it("needs credentials and tenant access first", async () => {
    expect((await app.server.inject({ method: "GET", url: "/iam/users?ids=alice" })).statusCode).toBe(401);
    expect((await lookUp("?ids=alice", "alice", "01JZZZZZZZZZZZZZZZZZZZZZZZ")).statusCode).toBe(403);
    expect((await lookUp("?ids=gina", "gina", acme)).statusCode).toBe(403);
  });
});
